/**
 * fleet-front-ctl (the host front's runtime API helper, fleet/render/assets), against a stand-in
 * of HAProxy 2.6's admin socket: one command per connection, answered with the text HAProxy prints
 * (`show servers state` format 1, `show stat` CSV with its `# ` header, `show info`, the notice of
 * an accepted `set server ... fqdn`; doc/management.txt 9.3), every command recorded. The real
 * socket is exercised by the engine suite's deploys and replacements.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FAMILY_ASSETS } from "../../fleet/imageplan/buildPlan";

const HEADER = "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n";
const FREE = "fleet-free.invalid";
const NAME = "executor-1a2b3c4.fleet-mainpc-net";
/** A slot as `show servers state` prints it: admin 37 is a free slot (forced, configured and resolution maintenance). */
const row = (listen: string, slot: string, addr: string, op: number, admin: number, fqdn: string) => `3 ${listen} 1 ${slot} ${addr} ${op} ${admin} 1 1 0 1 0 1 6 0 0 0 ${fqdn} 5606 - 0 6606 - - 6606`;
const state = (...rows: string[]) => HEADER + rows.join("\n") + "\n";
const S = "executor.service-5606";
const H = "executor.health-6606";

/** The stand-in: answers each `show` command with its list's entries in turn (the last repeats), a `set server ... fqdn` with HAProxy's notice. */
const FAKE = `
import os, socket, sys, json
path, spec = sys.argv[1], json.load(open(sys.argv[2]))
log = open(sys.argv[3], "a")
n = {}
def next_of(key):
    i = n.get(key, 0); n[key] = i + 1
    return spec[key][min(i, len(spec[key]) - 1)]
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(8)
while True:
    c, _ = s.accept()
    cmd = c.makefile().readline().strip()
    log.write(cmd + "\\n"); log.flush()
    if cmd == "show servers state": out = next_of("states")
    elif cmd == "show stat": out = next_of("stats")
    elif cmd == "show info": out = next_of("infos")
    elif cmd.startswith("set server ") and " fqdn " in cmd:
        srv, fqdn = cmd.split()[2], cmd.split()[4]
        out = f"{srv} changed its FQDN from x to {fqdn} by 'stats socket command'\\n"
    else: out = "\\n"
    c.sendall(out.encode()); c.close()
`;

interface Spec {
    states: string[]; stats?: string[]; infos?: string[]; lateMs?: number; files?: Record<string, string>; env?: Record<string, string>; stdin?: string;
    /** Called with the helper's pid once the stand-in saw `waitFor`; stdin is written after it. */
    waiting?: { waitFor: string; probe: (pid: number) => void };
}

/** Runs the helper against the stand-in in a run directory of its own; with `lateMs`, the socket appears that long after the helper started. */
async function ctl(spec: Spec, ...args: string[]): Promise<{ code: number | null; out: string; commands: string[]; run: string }> {
    const run = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-front-ctl-"));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-front-fake-"));
    for (const [f, text] of Object.entries(spec.files ?? {})) fs.writeFileSync(path.join(run, f), text);
    fs.writeFileSync(path.join(dir, "fake.py"), (spec.lateMs ? `import time\ntime.sleep(${spec.lateMs / 1000})\n` : "") + FAKE);
    fs.writeFileSync(path.join(dir, "spec.json"), JSON.stringify({ stats: ["# pxname,svname,scur\n"], infos: ["Pid: 8\n"], ...spec }));
    const sock = path.join(run, "admin.sock");
    const fake = spawn("python3", [path.join(dir, "fake.py"), sock, path.join(dir, "spec.json"), path.join(dir, "log")]);
    try {
        for (let i = 0; i < 100 && !spec.lateMs && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
        const helper = spawn("python3", [path.join(FAMILY_ASSETS, "fleet-front-ctl"), ...args], { env: { ...process.env, FLEET_FRONT_RUN: run, FLEET_FRONT_FREE_SLOT: FREE, ...spec.env } });
        let out = "";
        if (spec.waiting) {
            const log = path.join(dir, "log");
            const { waitFor, probe } = spec.waiting;
            for (let i = 0; i < 250 && !(fs.existsSync(log) && fs.readFileSync(log, "utf8").includes(waitFor)); i++) await new Promise((r) => setTimeout(r, 20));
            await new Promise((r) => setTimeout(r, 100));
            probe(helper.pid!);
        }
        helper.stdin.end(spec.stdin ?? "");
        helper.stdout.on("data", (d) => { out += d; });
        helper.stderr.on("data", (d) => { out += d; });
        const code = await new Promise<number | null>((resolve) => helper.on("close", resolve));
        const commands = fs.existsSync(path.join(dir, "log")) ? fs.readFileSync(path.join(dir, "log"), "utf8").split("\n").filter(Boolean) : [];
        return { code, out, commands, run };
    } finally {
        fake.kill();
    }
}

describe("fleet-front-ctl", () => {
    it("admit: in each listen section a free slot takes the container's name and is set ready; done once up on every port; the slots saved", async () => {
        const before = state(row(S, "b1", "-", 0, 37, FREE), row(S, "b2", "-", 0, 37, FREE), row(H, "b1", "-", 0, 37, FREE));
        const up = state(row(S, "b1", "10.230.0.130", 2, 68, NAME), row(S, "b2", "-", 0, 37, FREE), row(H, "b1", "10.230.0.130", 2, 68, NAME));
        const r = await ctl({ states: [before, up] }, "admit", NAME, "5", `${S},${H}`);
        assert.deepStrictEqual([r.code, r.out], [0, `${NAME} serves on 2 port(s)\n`]);
        assert.deepStrictEqual(r.commands, [
            "show servers state",
            `set server ${S}/b1 state maint`, `set server ${S}/b1 fqdn ${NAME}`, `set server ${S}/b1 state ready`,
            `set server ${H}/b1 state maint`, `set server ${H}/b1 fqdn ${NAME}`, `set server ${H}/b1 state ready`,
            "show servers state", "show servers state",
        ]);
        assert.strictEqual(fs.readFileSync(path.join(r.run, "servers.state"), "utf8"), up);
    });

    it("admit: a slot that holds the name already (a container given back) is set ready again, no other slot taken", async () => {
        const drained = state(row(S, "b1", "-", 0, 37, FREE), row(S, "b2", "10.230.0.131", 2, 8, NAME));
        const up = state(row(S, "b1", "-", 0, 37, FREE), row(S, "b2", "10.230.0.131", 2, 0, NAME));
        const r = await ctl({ states: [drained, up] }, "admit", NAME, "5", S);
        assert.strictEqual(r.code, 0, r.out);
        assert.deepStrictEqual(r.commands, ["show servers state", `set server ${S}/b2 state ready`, "show servers state", "show servers state"]);
    });

    it("admit: the service's sections not loaded yet (a reload adding them still runs): waits for them", async () => {
        const other = state(row("relay.service-7000", "b1", "-", 0, 37, FREE));
        const loaded = state(row(S, "b1", "-", 0, 37, FREE));
        const up = state(row(S, "b1", "10.230.0.130", 2, 68, NAME));
        const r = await ctl({ states: [other, loaded, up] }, "admit", NAME, "5", S);
        assert.deepStrictEqual([r.code, r.out], [0, `${NAME} serves on 1 port(s)\n`]);
    });

    it("admit: the front just started, its socket not there yet: waits for it", async () => {
        const r = await ctl({ lateMs: 700, states: [state(row(S, "b1", "10.230.0.130", 2, 68, NAME))] }, "admit", NAME, "5", S);
        assert.deepStrictEqual([r.code, r.out], [0, `${NAME} serves on 1 port(s)\n`]);
    });

    it("admit: a front whose socket never answers: fails saying so", async () => {
        const r = await ctl({ lateMs: 3000, states: [HEADER] }, "admit", NAME, "0.5", S);
        assert.strictEqual(r.code, 1);
        assert.match(r.out, new RegExp(`^${NAME} cannot be admitted after 0\\.5 s: the runtime API does not answer \\(\\[Errno 2\\] No such file or directory\\)\n$`));
    });

    it("admit: every slot of a section holds a running container: fails naming the section, changing nothing", async () => {
        const full = state(...["b1", "b2", "b3"].map((b, i) => row(S, b, `10.230.0.${140 + i}`, 2, 68, `other-${i}.fleet-mainpc-net`)));
        const r = await ctl({ states: [full] }, "admit", NAME, "5", S);
        assert.deepStrictEqual([r.code, r.out], [1, `${S}: no free slot for ${NAME} (every slot holds a running container)\n`]);
        assert.ok(!r.commands.some((c) => c.startsWith("set ")), "nothing changed");
    });

    it("admit: no free slot, one holding a container whose name resolves to nothing (removed by hand): that one is taken, in maintenance first", async () => {
        const held = state(row(S, "b1", "10.230.0.140", 2, 68, "other-0.fleet-mainpc-net"), row(S, "b2", "-", 0, 100, "gone-1.fleet-mainpc-net"), row(S, "b3", "10.230.0.142", 2, 68, "other-2.fleet-mainpc-net"));
        const up = state(row(S, "b1", "10.230.0.140", 2, 68, "other-0.fleet-mainpc-net"), row(S, "b2", "10.230.0.130", 2, 68, NAME), row(S, "b3", "10.230.0.142", 2, 68, "other-2.fleet-mainpc-net"));
        const r = await ctl({ states: [held, up] }, "admit", NAME, "5", S);
        assert.strictEqual(r.code, 0, r.out);
        assert.deepStrictEqual(r.commands.filter((c) => c.startsWith("set ")), [`set server ${S}/b2 state maint`, `set server ${S}/b2 fqdn ${NAME}`, `set server ${S}/b2 state ready`]);
    });

    it("admit: not up on a port within the time: fails naming the sections", async () => {
        const half = state(row(S, "b1", "10.230.0.130", 2, 68, NAME), row(H, "b1", "-", 0, 96, NAME));
        const r = await ctl({ states: [half] }, "admit", NAME, "0.5", `${S},${H}`);
        assert.deepStrictEqual([r.code, r.out], [1, `${NAME} is not up in the front after 0.5 s on: ${H}\n`]);
    });

    it("stage, then `ready`: each section's free slot takes the name drained (resolved and checked, sent nothing), saved; on the go-ahead set ready, done once up on every port", async () => {
        const before = state(row(S, "b1", "-", 0, 37, FREE), row(S, "b2", "-", 0, 37, FREE), row(H, "b1", "-", 0, 37, FREE));
        const staged = state(row(S, "b1", "10.230.0.130", 0, 76, NAME), row(S, "b2", "-", 0, 37, FREE), row(H, "b1", "10.230.0.130", 2, 76, NAME));
        const up = state(row(S, "b1", "10.230.0.130", 2, 68, NAME), row(S, "b2", "-", 0, 37, FREE), row(H, "b1", "10.230.0.130", 2, 68, NAME));
        const r = await ctl({ states: [before, staged, up], stdin: "ready\n" }, "stage", NAME, "5", `${S},${H}`);
        assert.deepStrictEqual([r.code, r.out], [0, `${NAME} serves on 2 port(s)\n`]);
        assert.deepStrictEqual(r.commands, [
            "show servers state",
            `set server ${S}/b1 state maint`, `set server ${S}/b1 fqdn ${NAME}`, `set server ${S}/b1 state drain`,
            `set server ${H}/b1 state maint`, `set server ${H}/b1 fqdn ${NAME}`, `set server ${H}/b1 state drain`,
            "show servers state",
            `set server ${S}/b1 state ready`, `set server ${H}/b1 state ready`,
            "show servers state",
            "show servers state",
        ]);
        assert.strictEqual(fs.readFileSync(path.join(r.run, "servers.state"), "utf8"), up);
    });

    it("stage, while it waits for the go-ahead: the process is sh, not Python (a host's stages wait at once, within the front's memory limit), then Python answers it", async () => {
        const before = state(row(S, "b1", "-", 0, 37, FREE));
        const up = state(row(S, "b1", "10.230.0.130", 2, 68, NAME));
        let seen = { comm: "", anonKb: -1 };
        const probe = (pid: number) => {
            const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
            seen = { comm: fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim(), anonKb: Number(/^RssAnon:\s+(\d+) kB$/m.exec(status)![1]) };
        };
        const r = await ctl({ states: [before, up], stdin: "ready\n", waiting: { waitFor: `set server ${S}/b1 state drain`, probe } }, "stage", NAME, "5", S);
        assert.deepStrictEqual([r.code, r.out], [0, `${NAME} serves on 1 port(s)\n`]);
        assert.strictEqual(seen.comm, "sh");
        // Python waiting held 6.5 MB of it (the kernel's OOM report); sh a few hundred kB.
        assert.ok(seen.anonKb >= 0 && seen.anonKb < 1024, `${seen.anonKb} kB anonymous`);
    });

    it("stage, then the end of stdin (the container did not turn healthy): the slots it took freed again (maintenance, then the placeholder), exit 3", async () => {
        const before = state(row(S, "b1", "-", 0, 37, FREE), row(H, "b1", "-", 0, 37, FREE));
        const r = await ctl({ states: [before] }, "stage", NAME, "5", `${S},${H}`);
        assert.deepStrictEqual([r.code, r.out], [3, `${NAME}: not admitted, its staged slots freed\n`]);
        assert.deepStrictEqual(r.commands.filter((c) => c.startsWith("set ")), [
            `set server ${S}/b1 state maint`, `set server ${S}/b1 fqdn ${NAME}`, `set server ${S}/b1 state drain`,
            `set server ${H}/b1 state maint`, `set server ${H}/b1 fqdn ${NAME}`, `set server ${H}/b1 state drain`,
            `set server ${S}/b1 state maint`, `set server ${S}/b1 fqdn ${FREE}`,
            `set server ${H}/b1 state maint`, `set server ${H}/b1 fqdn ${FREE}`,
        ]);
    });

    it("stage of a container whose slot holds its name already and serves (a start run again after an interrupted up): that slot is not drained, nor freed when the stage ends without `ready`", async () => {
        const serving = state(row(S, "b1", "-", 0, 37, FREE), row(S, "b2", "10.230.0.131", 2, 68, NAME));
        const r = await ctl({ states: [serving] }, "stage", NAME, "5", S);
        assert.strictEqual(r.code, 3, r.out);
        assert.deepStrictEqual(r.commands.filter((c) => c.startsWith("set ")), []);
    });

    it("stage: every slot of a section holds a running container: fails at once naming the section, changing nothing, reading no go-ahead", async () => {
        const full = state(...["b1", "b2", "b3"].map((b, i) => row(S, b, `10.230.0.${140 + i}`, 2, 68, `other-${i}.fleet-mainpc-net`)));
        const r = await ctl({ states: [full], stdin: "ready\n" }, "stage", NAME, "5", S);
        assert.deepStrictEqual([r.code, r.out], [1, `${S}: no free slot for ${NAME} (every slot holds a running container)\n`]);
        assert.ok(!r.commands.some((c) => c.startsWith("set ")), "nothing changed");
    });

    it("retire: the name's slots drained, their open sessions waited for, then freed (maintenance, then the placeholder) and saved", async () => {
        const st = state(row(S, "b1", "10.230.0.130", 2, 68, NAME), row(S, "b2", "10.230.0.131", 2, 68, "executor-9f8e7d6.fleet-mainpc-net"), row(H, "b1", "10.230.0.130", 2, 68, NAME));
        const open = `# pxname,svname,qcur,qmax,scur\n${S},b1,0,0,2\n${S},b2,0,0,7\n${H},b1,0,0,0\n${S},BACKEND,0,0,9\n`;
        const closed = `# pxname,svname,qcur,qmax,scur\n${S},b1,0,0,0\n${S},b2,0,0,7\n${H},b1,0,0,0\n`;
        const r = await ctl({ states: [st], stats: [open, closed] }, "retire", NAME, "5");
        assert.deepStrictEqual([r.code, r.out], [0, `${NAME}: drained\n`]);
        assert.deepStrictEqual(r.commands, [
            "show servers state",
            `set server ${H}/b1 state drain`, `set server ${S}/b1 state drain`, "show servers state",
            "show stat", "show stat",
            `set server ${H}/b1 state maint`, `set server ${H}/b1 fqdn ${FREE}`, `set server ${S}/b1 state maint`, `set server ${S}/b1 fqdn ${FREE}`, "show servers state",
        ]);
        assert.ok(fs.existsSync(path.join(r.run, "servers.state")));
    });

    it("retire: connections still open after the drain: says how many, frees the slots anyway (the container is stopped next)", async () => {
        const r = await ctl({ states: [state(row(S, "b1", "10.230.0.130", 2, 68, NAME))], stats: [`# pxname,svname,qcur,qmax,scur\n${S},b1,0,0,1\n`] }, "retire", NAME, "0.5");
        assert.deepStrictEqual([r.code, r.out], [0, `${NAME}: 1 connection(s) still open after 0.5 s of draining\n`]);
        assert.ok(r.commands.includes(`set server ${S}/b1 fqdn ${FREE}`));
    });

    it("reload: the slots saved, the new file in place, USR2 to the master; done once a new worker runs exactly the new file's sections", async () => {
        const master = spawn("python3", ["-c", "import signal,sys,time\nsignal.signal(signal.SIGUSR2, lambda *a: (print('USR2', flush=True), sys.exit(0)))\ntime.sleep(30)"]);
        let got = "";
        master.stdout.on("data", (d) => { got += d; });
        await new Promise((r) => setTimeout(r, 300));
        const old = `# pxname,svname,scur\n${S},BACKEND,0\nfront-health,BACKEND,0\n`;
        const fresh = `# pxname,svname,scur\n${S},BACKEND,0\n${H},BACKEND,0\nfront-health,BACKEND,0\n`;
        const r = await ctl({
            states: [state(row(S, "b1", "10.230.0.130", 2, 68, NAME))], stats: [old, old, fresh], infos: ["Pid: 8\n", "Pid: 8\n", "Pid: 21\n"],
            files: { "haproxy.cfg": "old", "haproxy.cfg.new": `listen ${S}\n    bind :5606\n\nlisten ${H}\n    bind :6606\n`, "haproxy.pid": `${master.pid}\n` },
        }, "reload", "5");
        master.kill();
        assert.deepStrictEqual([r.code, r.out, got], [0, "reloaded: 2 listen sections\n", "USR2\n"]);
        assert.ok(!fs.existsSync(path.join(r.run, "haproxy.cfg.new")));
        assert.match(fs.readFileSync(path.join(r.run, "haproxy.cfg"), "utf8"), /^listen executor\.service-5606\n/);
        assert.ok(fs.readFileSync(path.join(r.run, "servers.state"), "utf8").includes(NAME));
    });

    it("reload: a slot loaded from the state file (HAProxy 2.6.12 shows it without the fqdn-set mark, 0x40) is saved with the mark, so the next worker applies its name; free slots saved as shown", async () => {
        const master = spawn("python3", ["-c", "import signal,sys,time\nsignal.signal(signal.SIGUSR2, lambda *a: sys.exit(0))\ntime.sleep(30)"]);
        await new Promise((r) => setTimeout(r, 300));
        const stats = `# pxname,svname,scur\n${S},BACKEND,0\nfront-health,BACKEND,0\n`;
        const r = await ctl({
            states: [state(row(S, "b1", "10.230.0.130", 2, 4, NAME), row(S, "b2", "10.230.0.131", 2, 12, "other-0.fleet-mainpc-net"), row(S, "b3", "-", 0, 37, FREE))],
            stats: [stats], infos: ["Pid: 8\n", "Pid: 21\n"],
            files: { "haproxy.cfg": "old", "haproxy.cfg.new": `listen ${S}\n    bind :5606\n`, "haproxy.pid": `${master.pid}\n` },
        }, "reload", "5");
        master.kill();
        assert.deepStrictEqual([r.code, r.out], [0, "reloaded: 1 listen sections\n"]);
        assert.strictEqual(fs.readFileSync(path.join(r.run, "servers.state"), "utf8"),
            state(row(S, "b1", "10.230.0.130", 2, 68, NAME), row(S, "b2", "10.230.0.131", 2, 76, "other-0.fleet-mainpc-net"), row(S, "b3", "-", 0, 37, FREE)));
    });

    it("reload: no new file: fails, changing nothing", async () => {
        const r = await ctl({ states: [HEADER], files: { "haproxy.cfg": "old" } }, "reload", "5");
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.out, `reload: ${r.run}/haproxy.cfg.new is missing: nothing to load\n`);
        assert.deepStrictEqual(r.commands, []);
    });

    it("admit, stage, retire or reload outside the front's container (no free slot's name in the environment): says so, exit 2, nothing asked of HAProxy", async () => {
        for (const args of [["admit", NAME, "5", S], ["stage", NAME, "5", S], ["retire", NAME, "5"], ["reload", "5"]]) {
            const r = await ctl({ states: [HEADER], env: { FLEET_FRONT_FREE_SLOT: "" } }, ...args);
            assert.deepStrictEqual([r.code, r.out, r.commands], [2, "fleet-front-ctl: FLEET_FRONT_FREE_SLOT is not set: run it in the host front's container, whose environment sets it (components/hostFront.ts)\n", []], args[0]);
        }
    });

    it("wrong arguments: the usage, exit 2", async () => {
        const r = spawnSync("python3", [path.join(FAMILY_ASSETS, "fleet-front-ctl"), "admit", NAME], { encoding: "utf8" });
        assert.deepStrictEqual([r.status, r.stderr], [2, "usage: fleet-front-ctl check | reload <seconds> | admit <name> <seconds> <listen>,... | stage <name> <seconds> <listen>,... | retire <name> <seconds>\n"]);
    });
});
