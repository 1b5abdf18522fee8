import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { rollbackPins } from "../../fleet/model/rollback";
import { fleetErrors, realFleet, stackFor } from "../helpers";

const FIXTURE = path.join(__dirname, "..", "fixtures", "build-lock-pc2.json");
const S = "Pulumi.pc2.yaml";

describe("fleet:pinAll reads the build lock of the deploy to roll back to", () => {
    const fleet = realFleet();
    const lock = JSON.parse(fs.readFileSync(FIXTURE, "utf8")) as { stack: string; built: Record<string, string>; running: Record<string, string>; revisions: Record<string, string> };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-"));
    /** A lock file in the temporary project directory; returns its relative path. */
    const write = (name: string, text: string): string => {
        fs.writeFileSync(path.join(dir, name), text);
        return name;
    };
    const pins = (pinAll: string, change = {}) => rollbackPins(fleet, stackFor("pc2", { pinAll, ...change }), dir, "pc2", S);

    it("every service the host runs, named and labelled as that deploy built it; a per-service pin is left to fleet:pins; no pinAll, no pins", () => {
        const file = write("build-lock-pc2.json", JSON.stringify(lock));
        const all = pins(file);
        assert.strictEqual(Object.keys(all).length, 23);
        assert.deepStrictEqual(all.CacheManager, { image: lock.built["cache-manager"], revision: lock.revisions["cache-manager"] });
        assert.match(all.CacheManager.image, /^ghcr\.io\/ai-system\/cache-manager:20250810-9c99cc9-[0-9a-f]{7}@sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual(all.VisionProcessingAgent, { image: lock.built["vision-processing-agent"], revision: lock.revisions["vision-processing-agent"] });
        assert.ok(!("pc2-docker-api-proxy" in all) && !Object.values(all).some((p) => p.image.includes("docker-api-proxy")), "the proxy is not a service");
        const pinned = pins(file, { pins: ["CacheManager=20250810-9c99cc9-1a2b3c4"] });
        assert.deepStrictEqual(Object.keys(pinned).sort(), Object.keys(all).filter((s) => s !== "CacheManager").sort());
        assert.deepStrictEqual(rollbackPins(fleet, stackFor("pc2"), dir, "pc2", S), {});
    });

    const without = (key: string) => Object.fromEntries(Object.entries(lock.running).filter(([k]) => k !== key));
    it("a service that ran pinned in that deploy (not built then) is named by its running digest alone, without a revision", () => {
        const { "task-scheduler": _, ...built } = lock.built;
        const file = write("pinned-then.json", JSON.stringify({ ...lock, built }));
        assert.deepStrictEqual(pins(file).TaskScheduler, { image: lock.running["task-scheduler"] });
        // A built reference whose digest is not the one that ran is not trusted either.
        const stale = write("stale.json", JSON.stringify({ ...lock, built: { ...lock.built, "task-scheduler": lock.built["advanced-router"].replace("advanced-router", "task-scheduler") } }));
        assert.deepStrictEqual(pins(stale).TaskScheduler, { image: lock.running["task-scheduler"] });
    });

    it("says nothing of a service the lock lacks when a per-service pin covers it", () => {
        const file = write("pinned.json", JSON.stringify({ ...lock, running: without("cache-manager") }));
        assert.strictEqual(Object.keys(pins(file, { pins: ["CacheManager=20250810-9c99cc9-1a2b3c4"] })).length, 22);
    });

    const table: { what: string; file: () => string; change?: object; expected: string[] }[] = [
        {
            what: "a lock that is not there",
            file: () => "build-lock-gone.json",
            expected: ["Pulumi.pc2.yaml: fleet:pinAll: build-lock-gone.json does not exist (a relative path starts at the project directory). Fix: download the build-lock-pc2 artifact of the deploy to roll back to, or give its path"],
        },
        {
            what: "a file that is not JSON",
            file: () => write("broken.json", "{ running: "),
            expected: [/^Pulumi\.pc2\.yaml: fleet:pinAll: broken\.json is not JSON \(.+\)\. Fix: use the build-lock-pc2 artifact of the deploy to roll back to, as `scripts\/fleet build-lock` wrote it$/.source],
        },
        {
            what: "JSON that is not a build lock",
            file: () => write("export.json", JSON.stringify({ deployment: { resources: [] } })),
            expected: ["Pulumi.pc2.yaml: fleet:pinAll: export.json is not a build lock (it has no 'running' map). Fix: use the build-lock-pc2 artifact of the deploy to roll back to, as `scripts/fleet build-lock` wrote it"],
        },
        {
            what: "the lock of another stack",
            file: () => write("build-lock-mainpc.json", JSON.stringify({ ...lock, stack: "mainpc" })),
            expected: ["Pulumi.pc2.yaml: fleet:pinAll: build-lock-mainpc.json is the build lock of stack 'mainpc', not 'pc2'. Fix: use build-lock-pc2.json"],
        },
        {
            what: "a service that did not run then, and one that ran from another registry, both at once",
            file: () => write("partial.json", JSON.stringify({ ...lock, running: { ...without("cache-manager"), "task-scheduler": "docker.io/acme/task-scheduler@sha256:" + "1".repeat(64) } })),
            expected: [
                "Pulumi.pc2.yaml: fleet:pinAll: CacheManager did not run in that deploy (partial.json: running.cache-manager is missing). Fix: pin it in fleet:pins; or leave it out of the rollback with fleet:disableServices",
                "Pulumi.pc2.yaml: fleet:pinAll: TaskScheduler ran 'docker.io/acme/task-scheduler@sha256:1111111111111111111111111111111111111111111111111111111111111111' (partial.json: running.task-scheduler), not an image of ghcr.io/ai-system/task-scheduler by digest. Fix: pin TaskScheduler in fleet:pins; or roll back a stack that pushes to ghcr.io/ai-system (a stack that loads its images has no registry to pull them back from)",
            ],
        },
        {
            what: "a lock of a stack that loads its images (image ids, no registry digest)",
            file: () => write("loaded.json", JSON.stringify({ ...lock, running: { ...lock.running, "agent-trust-scorer": "sha256:" + "2".repeat(64) } })),
            expected: ["Pulumi.pc2.yaml: fleet:pinAll: AgentTrustScorer ran 'sha256:2222222222222222222222222222222222222222222222222222222222222222' (loaded.json: running.agent-trust-scorer), not an image of ghcr.io/ai-system/agent-trust-scorer by digest. Fix: pin AgentTrustScorer in fleet:pins; or roll back a stack that pushes to ghcr.io/ai-system (a stack that loads its images has no registry to pull them back from)"],
        },
    ];
    for (const row of table) {
        it(`reports ${row.what}`, () => {
            const got = fleetErrors(() => pins(row.file(), row.change));
            assert.strictEqual(got.length, row.expected.length, got.join("\n"));
            got.forEach((g, i) => (row.expected[i].startsWith("^") ? assert.match(g, new RegExp(row.expected[i])) : assert.strictEqual(g, row.expected[i])));
        });
    }

    it("the stack schema takes a .json path, not a tag", () => {
        assert.deepStrictEqual(fleetErrors(() => stackFor("pc2", { pinAll: "20250810-9c99cc9-1a2b3c4" })), [
            "Pulumi.pc2.yaml: fleet:pinAll: '20250810-9c99cc9-1a2b3c4' must be the path of the build-lock-<stack>.json of the deploy to roll back to. Fix: correct the value's format",
        ]);
    });
});
