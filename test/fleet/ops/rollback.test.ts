/**
 * `scripts/fleet rollback <stack> --from FILE`: a past deployment, in the two formats Pulumi
 * writes (pulumi/pulumi sdk/go/common/apitype/core.go): `pulumi stack export` writes an
 * UntypedDeployment (`{"version": 3, "deployment": ...}`); a self-managed backend's history keeps
 * a VersionedCheckpoint (`{"version": 3, "checkpoint": {"stack", "latest"}}`), gzip-compressed
 * when the backend compresses (pkg/backend/diy/state.go `addToHistory`). The documents here have
 * the shape of pulumi's own test data (pkg/resource/stack/testdata/checkpoint-v3.json and
 * checkpoint-v4.json: manifest, secrets_providers, resources; version 4 adds `features`), with
 * this program's resources, made from test/fixtures/build-lock-pc2.json.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { BuildLock } from "../../../fleet/imageplan/lock";
import { configuredProject, runFleet } from "./project";

const LOCK = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "fixtures", "build-lock-pc2.json"), "utf8")) as BuildLock;
const STACK_URN = "urn:pulumi:pc2::fleet::pulumi:pulumi:Stack::fleet-pc2";
const OLD = `sha256:${"0".repeat(64)}`;

/** A DeploymentV3 of pc2 that ran `lock`, with one pending delete (an old RemoteImage) that must not count. */
function deployment(lock: BuildLock, stackUrn = STACK_URN): Record<string, unknown> {
    const prefix = stackUrn.slice(0, stackUrn.indexOf("::pulumi:pulumi:Stack"));
    const images = Object.entries(lock.built).map(([name, ref]) => ({
        urn: `${prefix}::fleet:host:FleetHost$fleet:images:ServiceImage$docker-build:index:Image::${name}`, custom: true, id: name, type: "docker-build:index:Image",
        inputs: { labels: lock.revisions[name] ? { "org.opencontainers.image.revision": lock.revisions[name] } : {} }, outputs: { ref },
    }));
    const pulled = Object.entries(lock.running).map(([name, repoDigest]) => ({
        urn: `${prefix}::fleet:host:FleetHost$fleet:containers:ServiceContainer$docker:index/remoteImage:RemoteImage::${name}`, custom: true, id: `${repoDigest}`, type: "docker:index/remoteImage:RemoteImage",
        inputs: {}, outputs: { repoDigest },
    }));
    const pending = { ...pulled[0], delete: true, outputs: { repoDigest: `${String(pulled[0].outputs.repoDigest).split("@")[0]}@${OLD}` } };
    return {
        manifest: { time: "2026-12-01T10:00:00Z", magic: "", version: "v3.259.0" },
        secrets_providers: { type: "service", state: {} },
        // The pending delete last, where it would overwrite its live namesake if it were read.
        resources: [{ urn: stackUrn, custom: false, type: "pulumi:pulumi:Stack", outputs: {} }, ...images, ...pulled, pending],
    };
}

function write(dir: string, name: string, content: string | Buffer): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
}

describe("fleet CLI: rollback from a past deployment", () => {
    const project = configuredProject({ pc2: ["fixture-app"] });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-"));
    const planned = JSON.parse(runFleet(["plan", "pc2", "--json"], project).out.join("\n")) as { containers: { service: string; container: string; image: { build: string } }[] };
    const tagNow = (container: string) => planned.containers.find((c) => c.container === container)!.image.build.split(":").pop()!;

    const formats: [string, (lock: BuildLock) => Buffer, string][] = [
        ["pulumi stack export (UntypedDeployment, version 3)", (l) => Buffer.from(JSON.stringify({ version: 3, deployment: deployment(l) })), "stack export"],
        ["a DIY history checkpoint (VersionedCheckpoint, gzip)", (l) => zlib.gzipSync(JSON.stringify({ version: 3, checkpoint: { stack: "organization/fleet/pc2", latest: deployment(l) } })), "DIY checkpoint"],
        ["a DIY history checkpoint of version 4 with features", (l) => Buffer.from(JSON.stringify({ version: 4, features: ["refreshBeforeUpdate"], checkpoint: { stack: "pc2", latest: deployment(l) } })), "DIY checkpoint"],
    ];
    for (const [title, make, format] of formats) {
        it(`${title}: writes the build lock of what that deployment ran, pending deletes left out`, () => {
            const from = write(dir, `from-${format.replace(/ /g, "-")}.bin`, make(LOCK));
            const out = path.join(dir, `lock-${format.replace(/ /g, "-")}.json`);
            const r = runFleet(["rollback", "pc2", "--from", from, "--out", out], project);
            assert.deepStrictEqual([r.code, r.err], [0, []]);
            assert.deepStrictEqual(JSON.parse(fs.readFileSync(out, "utf8")), { ...LOCK, upstream: {} });
            assert.strictEqual(r.out[0], `${from}: a ${format} of stack pc2; wrote ${out}, the build lock fleet:pinAll takes`);
            assert.deepStrictEqual(r.out.slice(-4), ["Next:", `  pulumi config set fleet:pinAll ${out} --stack pc2`, `  scripts/fleet plan pc2    # each row "pinned by build lock ${out}"`, "  pulumi up --stack pc2"]);
        });
    }

    it("says per container what the rollback runs: the same image, that deployment's image, not in that deployment, removed since", () => {
        const lock: BuildLock = JSON.parse(JSON.stringify(LOCK));
        // CacheManager's image then was the one this commit builds; TaskScheduler did not run; a container that no longer exists did.
        const cm = lock.built["cache-manager"];
        lock.built["cache-manager"] = cm.replace(/:[^:@]+@/, `:${tagNow("cache-manager")}@`);
        delete lock.running["task-scheduler"];
        lock.running["retired-agent"] = `ghcr.io/ai-system/retired-agent@sha256:${"e".repeat(64)}`;
        delete lock.revisions["resource-manager"];
        const from = write(dir, "mixed.json", JSON.stringify({ version: 3, deployment: deployment(lock) }));
        const r = runFleet(["rollback", "pc2", "--from", from, "--out", path.join(dir, "mixed-lock.json")], project);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const row = (service: string) => r.out.find((l) => l.trimStart().startsWith(`${service} `))!.trim().replace(/ +/, " ");
        const digest = (c: string) => LOCK.running[c].split("@")[1];
        assert.strictEqual(row("CacheManager"), `CacheManager same image: ${tagNow("cache-manager")}, as this commit builds it`);
        assert.strictEqual(row("AsyncProcessor"), `AsyncProcessor that deployment's image: 20250810-9c99cc9-bc17653@${digest("async-processor")}; this commit builds ${tagNow("async-processor")}`);
        assert.strictEqual(row("ResourceManager"), `ResourceManager that deployment's image: 20250810-9c99cc9-fff179b@${digest("resource-manager")}; this commit builds ${tagNow("resource-manager")}; that deployment recorded no commit for it, so its container is replaced`);
        assert.strictEqual(row("TaskScheduler"), "TaskScheduler not in that deployment: nothing to go back to: pin it (fleet:pins) or leave it out (fleet:disableServices) before up");
        assert.strictEqual(row("retired-agent"), "retired-agent removed since: ran then; this commit's data has no such service on this host: not restored");
        assert.strictEqual(r.out.filter((l) => l.startsWith("  ") && !l.startsWith("  pulumi") && !l.startsWith("  scripts")).length, planned.containers.length + 1, "a row per container, and the removed one");
    });

    const refused: [string, string | Buffer, string][] = [
        ["not JSON", "{ this is not json", "is not a deployment export: not JSON ("],
        ["JSON of another kind (a build lock)", JSON.stringify(LOCK), "is not a deployment export: it has neither 'deployment' (pulumi stack export) nor 'checkpoint' (a DIY history file). Fix: give the export of one deployment: pulumi stack export --stack <stack> --version <N> --file <file>"],
        ["an old checkpoint version", JSON.stringify({ version: 1, checkpoint: { target: "pc2", latest: { resources: [] } } }), "has deployment version 1; this reads versions 3 and 4. Fix: export it with a Pulumi CLI of version 3.x"],
        ["a stack never deployed", JSON.stringify({ version: 3, checkpoint: { stack: "pc2" } }), "is the checkpoint of a stack that was never deployed (no 'latest' deployment)"],
        ["another stack", JSON.stringify({ version: 3, deployment: deployment(LOCK, "urn:pulumi:mainpc::fleet::pulumi:pulumi:Stack::fleet-mainpc") }), "is a deployment of stack 'mainpc' of project 'fleet', not of stack 'pc2' of project 'fleet'. Fix: export stack pc2's: pulumi stack export --stack pc2 --version <N> --file <file>"],
        ["another project (the shape of pulumi's own test data: stack foo of project countdown)", JSON.stringify({ version: 3, checkpoint: { stack: "", latest: { manifest: { time: "0001-01-01T00:00:00Z", magic: "", version: "" }, resources: [{ urn: "urn:pulumi:foo::countdown::pulumi:pulumi:Stack::countdown-foo", custom: false, type: "pulumi:pulumi:Stack" }, { urn: "urn:pulumi:foo::countdown::aws:sns/topic:Topic::countDown", custom: true, id: "arn:aws:sns:us-east-2:153052954103:countDown", type: "aws:sns/topic:Topic", outputs: {} }] } } }), "is a deployment of stack 'foo' of project 'countdown', not of stack 'pc2' of project 'fleet'"],
        ["a deployment that ran no container", JSON.stringify({ version: 3, deployment: { manifest: {}, resources: [{ urn: STACK_URN, custom: false, type: "pulumi:pulumi:Stack" }] } }), "records no image any container ran (no docker:index/remoteImage:RemoteImage resource): nothing can be restored from it. Fix: pick a version that deployed the fleet's containers (pulumi stack history), or pin each service (fleet:pins)"],
    ];
    for (const [title, content, message] of refused) {
        it(`refuses ${title}, naming the file and the fix, and writes no lock`, () => {
            const from = write(dir, `bad-${title.replace(/\W+/g, "-")}.json`, content);
            const out = path.join(dir, `bad-${title.replace(/\W+/g, "-")}-lock.json`);
            const r = runFleet(["rollback", "pc2", "--from", from, "--out", out], project);
            assert.strictEqual(r.code, 1);
            assert.ok(r.err.join("\n").includes(`  - ${from}: ${message}`), r.err.join("\n"));
            assert.ok(!fs.existsSync(out), "no lock written");
        });
    }

    it("a missing file and a missing --from: the export command to run", () => {
        const missing = runFleet(["rollback", "pc2", "--from", path.join(dir, "nope.json")], project);
        assert.strictEqual(missing.code, 1);
        assert.match(missing.err.join("\n"), /nope\.json: does not exist\. Fix: export the deployment first: pulumi stack export --stack pc2 --version <N> --file .*nope\.json/);
        const usage = runFleet(["rollback", "pc2"], project);
        assert.strictEqual(usage.code, 2);
        assert.match(usage.err[0], /rollback needs --from FILE: the deployment to go back to \(pulumi stack export --stack pc2 --version N --file FILE\)/);
    });
});
