import * as assert from "assert";
import { buildLock, lockTargets } from "../fleet/imageplan/lock";
import { realFleet } from "./helpers";

describe("requirement locks and build-lock.json", () => {
    it("locks every service with its family's Python: 3.10 for the legacy agents", () => {
        const t = lockTargets(realFleet());
        assert.strictEqual(t.length, 69);
        assert.deepStrictEqual(t.find((x) => x.service === "NLUAgent"), { service: "NLUAgent", python: "3.10", input: "requirements/nlu-agent.in", output: "requirements/nlu-agent.txt", family: "legacy-py310-cpu" });
        assert.deepStrictEqual(t.find((x) => x.service === "ModelOpsCoordinator"), { service: "ModelOpsCoordinator", python: "3.11", input: "requirements/model-ops-coordinator.in", output: "requirements/model-ops-coordinator.txt", family: "family-llm-cu121" });
    });

    it("leaves out services that install without hashes, with a reason", () => {
        const f = realFleet();
        f.services.Executor.allowUnhashed = "vendor index serves no hashes";
        assert.ok(!lockTargets(f).some((t) => t.service === "Executor"));
    });

    // scripts/lock-requirements.sh runs pip inside the family images: the engine suite runs it
    // for real (test/engine/engine.test.ts, "scripts/lock-requirements.sh ...").

    it("build-lock.json records built, upstream and running image digests, and the revision each built image was built from, from a stack export", () => {
        const digest = `sha256:${"c".repeat(64)}`;
        const exported = {
            deployment: {
                resources: [
                    { type: "pulumi:pulumi:Stack", urn: "urn:pulumi:pc2::fleet::pulumi:pulumi:Stack::fleet-pc2" },
                    { type: "docker-build:index:Image", urn: "urn:pulumi:pc2::fleet::fleet:images:HostImages$fleet:images:FamilyImage$docker-build:index:Image::base-python", inputs: { buildArgs: { UPSTREAM_IMAGE: "docker.io/library/python:3.11-slim-bookworm" } }, outputs: { ref: `ghcr.io/ai-system/base-python:20250810-9c99cc9-1a2b3c4@${digest}` } },
                    { type: "docker-build:index:Image", urn: "urn:pulumi:pc2::fleet::fleet:images:HostImages$fleet:images:ServiceImage$docker-build:index:Image::cache-manager", inputs: { buildArgs: { BASE_IMAGE: "x" }, labels: { "org.opencontainers.image.revision": "9c99cc9f00d0000000000000000000000000000a" } }, outputs: { ref: `ghcr.io/ai-system/cache-manager:t@${digest}` } },
                    { type: "docker:index/remoteImage:RemoteImage", urn: "urn:pulumi:pc2::fleet::fleet:host:FleetHost$fleet:containers:ServiceContainer$docker:index/remoteImage:RemoteImage::cache-manager", outputs: { repoDigest: `ghcr.io/ai-system/cache-manager@${digest}` } },
                ],
            },
        };
        assert.deepStrictEqual(buildLock(exported), {
            stack: "pc2",
            built: { "base-python": `ghcr.io/ai-system/base-python:20250810-9c99cc9-1a2b3c4@${digest}`, "cache-manager": `ghcr.io/ai-system/cache-manager:t@${digest}` },
            upstream: { "base-python": "docker.io/library/python:3.11-slim-bookworm" },
            running: { "cache-manager": `ghcr.io/ai-system/cache-manager@${digest}` },
            revisions: { "cache-manager": "9c99cc9f00d0000000000000000000000000000a" },
        });
        assert.throws(() => buildLock({ version: 3 }), /not a `pulumi stack export` document: deployment.resources is missing/);
    });
});
