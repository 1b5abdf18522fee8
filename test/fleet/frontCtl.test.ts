/**
 * fleet-front-ctl (the fronts' runtime API helper, fleet/render/assets), against a stand-in of
 * HAProxy 2.6's admin socket: one command per connection, answered with the text HAProxy prints
 * (`show servers state` format 1, `show stat` CSV with its `# ` header; doc/management.txt 9.3),
 * every command recorded. The real socket is exercised by the engine suite's replacements.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FAMILY_ASSETS } from "../../fleet/imageplan/buildPlan";

const HEADER = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";
const row = (be: string, srv: string, addr: string, op: number, admin: number) => `3 ${be} 1 ${srv} ${addr} ${op} ${admin} 1 1 0 1 0 1 6 0 0 0 executor-backend 5606 - 0 6606 - - 6606`;

/** The stand-in: answers `show servers state` with `states` in turn (the last repeats) and `show stat` with `stats` in turn. */
const FAKE = `
import os, socket, sys, json
path, spec = sys.argv[1], json.load(open(sys.argv[2]))
log = open(sys.argv[3], "a")
n = {"state": 0, "stat": 0}
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(8)
while True:
    c, _ = s.accept()
    cmd = c.makefile().readline().strip()
    log.write(cmd + "\\n"); log.flush()
    if cmd == "show servers state":
        out = spec["states"][min(n["state"], len(spec["states"]) - 1)]; n["state"] += 1
    elif cmd == "show stat":
        out = spec["stats"][min(n["stat"], len(spec["stats"]) - 1)]; n["stat"] += 1
    else:
        out = "\\n"
    c.sendall(out.encode()); c.close()
`;

/** Runs the helper against the stand-in; with `lateMs`, the stand-in's socket appears that long after the helper started (a front just started). */
async function ctl(spec: { states: string[]; stats?: string[]; lateMs?: number }, ...args: string[]): Promise<{ code: number | null; out: string; commands: string[] }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-front-ctl-"));
    const sock = path.join(dir, "admin.sock");
    fs.writeFileSync(path.join(dir, "fake.py"), (spec.lateMs ? `import time\ntime.sleep(${spec.lateMs / 1000})\n` : "") + FAKE);
    fs.writeFileSync(path.join(dir, "spec.json"), JSON.stringify({ stats: ["# pxname,svname,scur\n"], ...spec }));
    const fake = spawn("python3", [path.join(dir, "fake.py"), sock, path.join(dir, "spec.json"), path.join(dir, "log")]);
    try {
        for (let i = 0; i < 100 && !spec.lateMs && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
        const helper = spawn("python3", [path.join(FAMILY_ASSETS, "fleet-front-ctl"), ...args], { env: { ...process.env, FLEET_FRONT_SOCKET: sock } });
        let output = "";
        helper.stdout.on("data", (d) => { output += d; });
        helper.stderr.on("data", (d) => { output += d; });
        const code = await new Promise<number | null>((resolve) => helper.on("close", resolve));
        const r = { status: code, stdout: output, stderr: "" };
        const commands = fs.existsSync(path.join(dir, "log")) ? fs.readFileSync(path.join(dir, "log"), "utf8").trim().split("\n") : [];
        return { code: r.status, out: r.stdout + r.stderr, commands };
    } finally {
        fake.kill();
    }
}

describe("fleet-front-ctl", () => {
    it("admit: done once the address is up and ready on every forwarded port", async () => {
        const r = await ctl({ states: [HEADER + [row("service-5606", "b1", "10.0.0.2", 2, 0), row("service-5606", "b2", "-", 0, 32), row("health-6606", "b1", "10.0.0.2", 2, 0)].join("\n") + "\n"] }, "admit", "10.0.0.2", "5");
        assert.deepStrictEqual([r.code, r.out], [0, "10.0.0.2 serves on 2 port(s)\n"]);
        assert.deepStrictEqual(r.commands, ["show servers state"]);
    });

    it("admit: a slot an earlier takeover left draining is set ready, then waited for until up", async () => {
        const draining = HEADER + [row("service-5606", "b2", "10.0.0.3", 2, 8), row("health-6606", "b2", "10.0.0.3", 2, 8)].join("\n") + "\n";
        const ready = HEADER + [row("service-5606", "b2", "10.0.0.3", 2, 0), row("health-6606", "b2", "10.0.0.3", 2, 0)].join("\n") + "\n";
        const r = await ctl({ states: [draining, ready] }, "admit", "10.0.0.3", "5");
        assert.strictEqual(r.code, 0, r.out);
        assert.deepStrictEqual(r.commands, ["show servers state", "set server service-5606/b2 state ready", "set server health-6606/b2 state ready", "show servers state"]);
    });

    it("admit: a front just started, its socket not there yet: waits for it", async () => {
        const r = await ctl({ lateMs: 700, states: [HEADER + row("service-5606", "b1", "10.0.0.2", 2, 0) + "\n"] }, "admit", "10.0.0.2", "5");
        assert.deepStrictEqual([r.code, r.out], [0, "10.0.0.2 serves on 1 port(s)\n"]);
    });

    it("admit: a front whose socket never answers: fails saying so", async () => {
        const r = await ctl({ lateMs: 3000, states: [HEADER] }, "admit", "10.0.0.2", "0.5");
        assert.strictEqual(r.code, 1);
        assert.match(r.out, /^the front's runtime API does not answer after 0\.5 s: \[Errno 2\] No such file or directory\n$/);
    });

    it("admit: not up on a port within the time: fails naming the ports", async () => {
        const r = await ctl({ states: [HEADER + [row("service-5606", "b1", "10.0.0.2", 2, 0), row("health-6606", "b1", "-", 0, 32)].join("\n") + "\n"] }, "admit", "10.0.0.2", "0.5");
        assert.deepStrictEqual([r.code, r.out], [1, "10.0.0.2 is not up in the front after 0.5 s on: health-6606\n"]);
    });

    it("retire: the address's servers set to drain, then done once their open sessions are gone", async () => {
        const state = HEADER + [row("service-5606", "b1", "10.0.0.2", 2, 0), row("service-5606", "b2", "10.0.0.3", 2, 0), row("health-6606", "b1", "10.0.0.2", 2, 0)].join("\n") + "\n";
        const open = "# pxname,svname,qcur,qmax,scur\nservice-5606,b1,0,0,2\nservice-5606,b2,0,0,7\nhealth-6606,b1,0,0,0\nservice-5606,BACKEND,0,0,9\n";
        const closed = "# pxname,svname,qcur,qmax,scur\nservice-5606,b1,0,0,0\nservice-5606,b2,0,0,7\nhealth-6606,b1,0,0,0\n";
        const r = await ctl({ states: [state], stats: [open, closed] }, "retire", "10.0.0.2", "5");
        assert.deepStrictEqual([r.code, r.out], [0, "10.0.0.2: drained\n"]);
        assert.deepStrictEqual(r.commands, ["show servers state", "set server health-6606/b1 state drain", "set server service-5606/b1 state drain", "show stat", "show stat"]);
    });

    it("retire: connections still open after the drain: says how many, and succeeds (the container is stopped anyway)", async () => {
        const state = HEADER + row("service-5606", "b1", "10.0.0.2", 2, 0) + "\n";
        const r = await ctl({ states: [state], stats: ["# pxname,svname,qcur,qmax,scur\nservice-5606,b1,0,0,1\n"] }, "retire", "10.0.0.2", "0.5");
        assert.deepStrictEqual([r.code, r.out], [0, "10.0.0.2: 1 connection(s) still open after 0.5 s of draining\n"]);
    });

    it("wrong arguments: the usage, exit 2", async () => {
        const r = spawnSync("python3", [path.join(FAMILY_ASSETS, "fleet-front-ctl"), "admit"], { encoding: "utf8" });
        assert.deepStrictEqual([r.status, r.stderr], [2, "usage: fleet-front-ctl check | admit <ip> <seconds> | retire <ip> <seconds>\n"]);
    });
});
