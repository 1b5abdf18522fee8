import * as assert from "assert";
import { splitRef } from "../../fleet/imageplan/planImages";

describe("image references in their parts", () => {
    it("repository, tag and digest, each present only when the reference has it", () => {
        const d = "sha256:abababababababababababababababababababababababababababababababab";
        const table: [string, ReturnType<typeof splitRef>][] = [
            ["ghcr.io/ai-system/cache-manager:20250810-9c99cc9-1a2b3c4", { repository: "ghcr.io/ai-system/cache-manager", tag: "20250810-9c99cc9-1a2b3c4" }],
            [`ghcr.io/ai-system/cache-manager@${d}`, { repository: "ghcr.io/ai-system/cache-manager", digest: d }],
            [`ghcr.io/ai-system/cache-manager:t1@${d}`, { repository: "ghcr.io/ai-system/cache-manager", tag: "t1", digest: d }],
            // A registry port is not a tag.
            ["localhost:5000/fleet/executor", { repository: "localhost:5000/fleet/executor" }],
            ["localhost:5000/fleet/executor:content-0123456789ab", { repository: "localhost:5000/fleet/executor", tag: "content-0123456789ab" }],
        ];
        assert.deepStrictEqual(table.map(([ref]) => [ref, splitRef(ref)]), table);
    });
});
