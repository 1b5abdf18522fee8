import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildLock, lockTargets } from "../fleet/build/lock";
import { realFleet } from "./helpers";

describe("requirement locks and build-lock.json", () => {
    it("locks every service with its family's Python: 3.10 for the legacy agents", () => {
        const t = lockTargets(realFleet());
        assert.strictEqual(t.length, 69);
        assert.deepStrictEqual(t.find((x) => x.service === "NLUAgent"), { service: "NLUAgent", python: "3.10", input: "requirements/nlu-agent.in", output: "requirements/nlu-agent.txt" });
        assert.deepStrictEqual(t.find((x) => x.service === "ModelOpsCoordinator"), { service: "ModelOpsCoordinator", python: "3.11", input: "requirements/model-ops-coordinator.in", output: "requirements/model-ops-coordinator.txt" });
    });

    it("leaves out services that install without hashes, with a reason", () => {
        const f = realFleet();
        f.services.Executor.allowUnhashed = "vendor index serves no hashes";
        assert.ok(!lockTargets(f).some((t) => t.service === "Executor"));
    });

    it("scripts/lock-requirements.sh compiles each .in with pip-compile --generate-hashes under the family's Python", () => {
        const app = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-lock-app-"));
        fs.mkdirSync(path.join(app, "requirements"));
        fs.writeFileSync(path.join(app, "requirements/nlu-agent.in"), "fastapi==0.110.0\n");
        fs.writeFileSync(path.join(app, "requirements/cache-manager.in"), "redis==5.0.4\n");
        // Stand-in tools: a venv whose pip-compile records how it was called.
        const tools = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-lock-tools-"));
        for (const py of ["3.10", "3.11"]) {
            fs.mkdirSync(path.join(tools, `py${py}`, "bin"), { recursive: true });
            fs.writeFileSync(path.join(tools, `py${py}`, "bin", "pip-compile"), `#!/bin/sh\necho "python ${py}: $*" > "$(echo "$@" | sed 's/.*--output-file \\([^ ]*\\).*/\\1/')"\n`, { mode: 0o755 });
        }
        const r = spawnSync("bash", [path.join(__dirname, "..", "scripts", "lock-requirements.sh"), app], { encoding: "utf8", env: { ...process.env, FLEET_LOCK_TOOLS: tools } });
        assert.strictEqual(r.status, 0, r.stderr);
        assert.strictEqual(fs.readFileSync(path.join(app, "requirements/nlu-agent.txt"), "utf8").trim(), "python 3.10: --quiet --generate-hashes --allow-unsafe --strip-extras --output-file requirements/nlu-agent.txt requirements/nlu-agent.in");
        assert.match(fs.readFileSync(path.join(app, "requirements/cache-manager.txt"), "utf8"), /^python 3\.11: .*--generate-hashes/);
        assert.match(r.stderr, /lock: Executor: requirements\/executor\.in is missing; skipped/);
    });

    it("build-lock.json records built, upstream and running image digests from a stack export", () => {
        const digest = `sha256:${"c".repeat(64)}`;
        const exported = {
            deployment: {
                resources: [
                    { type: "pulumi:pulumi:Stack", urn: "urn:pulumi:pc2::fleet::pulumi:pulumi:Stack::fleet-pc2" },
                    { type: "docker-build:index:Image", urn: "urn:pulumi:pc2::fleet::fleet:images:HostImages$fleet:images:FamilyImage$docker-build:index:Image::base-python", inputs: { buildArgs: { UPSTREAM_IMAGE: "docker.io/library/python:3.11-slim-bookworm" } }, outputs: { ref: `ghcr.io/ai-system/base-python:20250810-9c99cc9-1a2b3c4@${digest}` } },
                    { type: "docker-build:index:Image", urn: "urn:pulumi:pc2::fleet::fleet:images:HostImages$fleet:images:ServiceImage$docker-build:index:Image::cache-manager", inputs: { buildArgs: { BASE_IMAGE: "x" } }, outputs: { ref: `ghcr.io/ai-system/cache-manager:t@${digest}` } },
                    { type: "docker:index/remoteImage:RemoteImage", urn: "urn:pulumi:pc2::fleet::fleet:host:FleetHost$fleet:containers:ServiceContainer$docker:index/remoteImage:RemoteImage::cache-manager", outputs: { repoDigest: `ghcr.io/ai-system/cache-manager@${digest}` } },
                ],
            },
        };
        assert.deepStrictEqual(buildLock(exported), {
            stack: "pc2",
            built: { "base-python": `ghcr.io/ai-system/base-python:20250810-9c99cc9-1a2b3c4@${digest}`, "cache-manager": `ghcr.io/ai-system/cache-manager:t@${digest}` },
            upstream: { "base-python": "docker.io/library/python:3.11-slim-bookworm" },
            running: { "cache-manager": `ghcr.io/ai-system/cache-manager@${digest}` },
        });
        assert.throws(() => buildLock({ version: 3 }), /not a `pulumi stack export` document: deployment.resources is missing/);
    });
});
