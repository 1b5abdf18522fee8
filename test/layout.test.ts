/**
 * No source directory is named like build output. GitHub's gitignore templates (Node, Python,
 * Java) ignore `build/`, `dist/`, `out/` and `target/`, and linters and search tools skip them by
 * default: source kept under such a name is hidden from people and tools alike (fleet/build was
 * renamed fleet/imageplan for that reason).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as path from "path";

const OUTPUT_NAMES = new Set(["build", "dist", "out", "target", "bin", "obj"]);

describe("repository layout", () => {
    it("no tracked file sits in a directory named like build output", () => {
        const files = spawnSync("git", ["ls-files", "-z"], { cwd: path.join(__dirname, ".."), encoding: "utf8" }).stdout.split("\0").filter(Boolean);
        assert.ok(files.length > 100, "git ls-files lists the repository");
        const hidden = files.filter((f) => f.split("/").slice(0, -1).some((d) => OUTPUT_NAMES.has(d)));
        assert.deepStrictEqual(hidden, []);
    });
});
