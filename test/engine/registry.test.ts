import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * The suite's registry (scripts/registry.sh) must serve a tag whole while it is PUT again: the
 * daemon's pusher PUTs an image index and its manifests to one tag over parallel connections
 * and HEADs the tag before each PUT. On distribution 2.8's filesystem storage this race answered
 * 500 (see registry.sh); the count of PUTs and HEADs below reproduced it every time there.
 */
const REGISTRY = "http://127.0.0.1:5000";
const REPO = "fleet-engine/tag-race";
const MANIFEST = "application/vnd.oci.image.manifest.v1+json";

async function pushConfigBlob(): Promise<{ digest: string; size: number }> {
    const blob = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
    const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
    const start = await fetch(`${REGISTRY}/v2/${REPO}/blobs/uploads/`, { method: "POST" });
    assert.strictEqual(start.status, 202);
    const location = new URL(start.headers.get("location")!, REGISTRY);
    location.searchParams.set("digest", digest);
    const put = await fetch(location, { method: "PUT", body: blob, headers: { "Content-Type": "application/octet-stream" } });
    assert.strictEqual(put.status, 201);
    return { digest, size: blob.length };
}

describe("the engine suite's registry", () => {
    it("answers every HEAD of a tag while four clients PUT other manifests to it: no 500, no 404", async () => {
        const config = await pushConfigBlob();
        const manifests = [0, 1, 2, 3].map((n) => JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config }, layers: [], annotations: { n: String(n) } }));
        const url = `${REGISTRY}/v2/${REPO}/manifests/race`;
        const first = await fetch(url, { method: "PUT", body: manifests[0], headers: { "Content-Type": MANIFEST } });
        assert.strictEqual(first.status, 201);
        const statuses: Record<string, number> = {};
        const count = (key: string) => (statuses[key] = (statuses[key] ?? 0) + 1);
        const putter = async (body: string) => {
            for (let i = 0; i < 100; i++) count(`PUT ${(await fetch(url, { method: "PUT", body, headers: { "Content-Type": MANIFEST } })).status}`);
        };
        const header = async () => {
            for (let i = 0; i < 400; i++) count(`HEAD ${(await fetch(url, { method: "HEAD", headers: { Accept: MANIFEST } })).status}`);
        };
        await Promise.all([...manifests.map(putter), header(), header(), header(), header()]);
        assert.deepStrictEqual(statuses, { "PUT 201": 400, "HEAD 200": 1600 });
    });
});

describe("scripts/registry.sh (on its own address, with Debian's docker-registry)", () => {
    const addr = "127.0.0.1:5099";
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-registry-test-"));
    const env = { ...process.env, FLEET_REGISTRY_ADDR: addr, FLEET_REGISTRY_DIR: dir, FLEET_REGISTRY_PID_FILE: path.join(dir, "pid") };
    const script = (verb: string) => spawnSync("bash", ["scripts/registry.sh", verb], { env, encoding: "utf8" });
    const pid = () => fs.readFileSync(env.FLEET_REGISTRY_PID_FILE, "utf8").trim();
    const alive = (p: string) => spawnSync("kill", ["-0", p]).status === 0;

    after(() => {
        script("down");
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("up starts one in memory and keeps its pid; up again keeps it; a registry it started with another config is restarted; down stops it", () => {
        const first = script("up");
        assert.strictEqual(first.status, 0, first.stderr);
        assert.strictEqual(first.stderr, `registry: starting docker-registry on ${addr} (storage: in memory)\n`);
        assert.match(fs.readFileSync(path.join(dir, "config.yml"), "utf8"), /^storage:\n {2}inmemory: \{\}\n/m);
        const started = pid();
        assert.strictEqual(fs.readFileSync(`/proc/${started}/comm`, "utf8"), "docker-registry\n");
        assert.strictEqual(execFileSync("python3", ["-c", `import urllib.request; print(urllib.request.urlopen('http://${addr}/v2/').status)`], { encoding: "utf8" }), "200\n");

        const again = script("up");
        assert.deepStrictEqual([again.status, again.stderr, pid()], [0, "", started]);

        // A config from before this script stored in memory (the filesystem storage of earlier runs).
        fs.writeFileSync(path.join(dir, "config.yml"), "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /tmp/x\n");
        const restarted = script("up");
        assert.strictEqual(restarted.status, 0, restarted.stderr);
        assert.strictEqual(restarted.stderr, `registry: restarting the docker-registry on ${addr} with the current config\nregistry: starting docker-registry on ${addr} (storage: in memory)\n`);
        assert.notStrictEqual(pid(), started);
        assert.strictEqual(alive(started), false, "the old registry is stopped");

        const now = pid();
        assert.strictEqual(script("down").status, 0);
        assert.strictEqual(alive(now), false);
        assert.strictEqual(fs.existsSync(env.FLEET_REGISTRY_PID_FILE), false);
    });
});
