import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

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

    it("up starts one on filesystem storage and keeps its pid; up again keeps it; a registry it started with another config is restarted; down stops it", () => {
        const first = script("up");
        assert.strictEqual(first.status, 0, first.stderr);
        assert.strictEqual(first.stderr, `registry: starting docker-registry on ${addr} (storage: ${dir}/data)\n`);
        assert.match(fs.readFileSync(path.join(dir, "config.yml"), "utf8"), new RegExp(`^storage:\\n {2}filesystem:\\n {4}rootdirectory: ${dir}/data\\n`, "m"));
        const started = pid();
        assert.strictEqual(fs.readFileSync(`/proc/${started}/comm`, "utf8"), "docker-registry\n");
        assert.strictEqual(execFileSync("python3", ["-c", `import urllib.request; print(urllib.request.urlopen('http://${addr}/v2/').status)`], { encoding: "utf8" }), "200\n");

        const again = script("up");
        assert.deepStrictEqual([again.status, again.stderr, pid()], [0, "", started]);

        // A config this script wrote before (another storage), for the registry it still runs.
        fs.writeFileSync(path.join(dir, "config.yml"), "version: 0.1\nstorage:\n  inmemory: {}\n");
        const restarted = script("up");
        assert.strictEqual(restarted.status, 0, restarted.stderr);
        assert.strictEqual(restarted.stderr, `registry: restarting the docker-registry on ${addr} with the current config\nregistry: starting docker-registry on ${addr} (storage: ${dir}/data)\n`);
        assert.notStrictEqual(pid(), started);
        assert.strictEqual(alive(started), false, "the old registry is stopped");

        const now = pid();
        assert.strictEqual(script("down").status, 0);
        assert.strictEqual(alive(now), false);
        assert.strictEqual(fs.existsSync(env.FLEET_REGISTRY_PID_FILE), false);
    });
});
