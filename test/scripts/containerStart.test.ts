/**
 * scripts/container-start.sh, run by every container's start command: the PIDs limit, the
 * predecessors stopped, the container started and confirmed healthy (and stable when it replaced
 * one), or stopped again and its predecessors started. With a stand-in `docker` that answers
 * `inspect` with the daemon's states in turn, per container (the format's first line: status,
 * health, exit code, restarts; then one line a health probe, its exit code and quoted output, as
 * Go's %q prints it), lists the predecessors `ps` would, and records every call.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { START_SCRIPT } from "../../components/serviceContainer";
import { PROJECT_DIR } from "../mocks";

const NEW = "code-generator-1a2b3c4";
const OLD = "code-generator-9f8e7d6";

interface Fake {
    /** What each `docker inspect` of a container prints, in turn; the last one repeats. */
    states: Record<string, string[]>;
    /** Whether the new container runs already (the proxy, started by the provider). */
    running?: boolean;
    /** Its state as `docker ps` lists it, when not `running` or `created`. */
    selfStatus?: string;
    /** Running containers of the service and host, as `docker ps` lists them. */
    previous?: string[];
    /** Its stopped containers (`docker ps --all --filter status=exited`), with when each stopped. */
    exited?: Record<string, string>;
    updateFails?: string;
    startFails?: string;
    logs?: string;
    /** Run with a front (`overlap` or `stop-first`); without, as the Docker API proxy's command. */
    takeover?: "overlap" | "stop-first";
    /** The staged admission's process is killed once it read its go-ahead: no word, exit 137. */
    stageKilled?: boolean;
    /** What `fleet-front-ctl admit` answers, when it fails. */
    admitFails?: string;
    /** Run with FLEET_START_TRACE set: the steps it appends are returned. */
    trace?: boolean;
    /** What the engine's event stream prints for the container; by default one change a second later. */
    events?: string[];
    /** How many `docker exec` into the front fail first because it is not running yet. */
    frontLate?: number;
    /** The admission time given to the script. @default 15 */
    admitSeconds?: number;
}

const FRONT = "fleet-mainpc-front";
/** The one listing of the service's containers on the host. */
const PS = "ps --all --no-trunc --filter label=fleet.service=CodeGenerator --filter label=fleet.machine=mainpc --format {{.ID}}\\t{{.State}}\\t{{.Names}}";

/** What that listing prints: the container itself, the running predecessors, then the stopped ones (the fake's ids are the names). */
function listing(fake: Fake): string[] {
    return [`id-${NEW}\t${fake.selfStatus ?? (fake.running ? "running" : "created")}\t${NEW}`, ...(fake.previous ?? []).map((p) => `${p}\trunning\t${p}`), ...Object.keys(fake.exited ?? {}).map((p) => `${p}\texited\t${p}`)];
}
const NET = "fleet-mainpc-net";
/** The service's listen sections in the host front. */
const LISTENS = "code-generator.service-5625,code-generator.health-6625";

function start(fake: Fake, waitSeconds = 2, stableSeconds = 0): { code: number | null; out: string; err: string; calls: string[]; trace: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-start-"));
    for (const [c, states] of Object.entries(fake.states)) states.forEach((s, i) => fs.writeFileSync(path.join(dir, `state-${c}-${i}`), s));
    const last = (c: string) => (fake.states[c]?.length ?? 1) - 1;
    const docker = [
        "#!/usr/bin/env bash",
        `echo "$*" >> "${dir}/calls"`,
        'c="${*: -1}"',
        'case "$1" in',
        fake.updateFails ? `  update) echo "${fake.updateFails}" >&2; exit 1 ;;` : '  update) echo "$c" ;;',
        "  inspect)",
        '    case "$3" in',
        `      *FinishedAt*) for x in "\${@:4}"; do case "$x" in ${Object.entries(fake.exited ?? {}).map(([id, at]) => `${id}) echo "${at} ${id}" ;;`).join(" ")} esac; done ;;`,
        '      *.Name*) echo "/$c" ;;',
        `      *) n=$(cat "${dir}/n-$c" 2>/dev/null || echo 0); f="${dir}/state-$c-$n"; [ -f "$f" ] || f="${dir}/state-$c-$(case "$c" in ${Object.keys(fake.states).map((c) => `${c}) echo ${last(c)} ;;`).join(" ")} *) echo 0 ;; esac)"; cat "$f"; echo $((n + 1)) > "${dir}/n-$c" ;;`,
        "    esac ;;",
        `  ps) printf '%s\\n' ${listing(fake).map((l) => `'${l}'`).join(" ")} ;;`,
        "  stop) echo \"$c\" ;;",
        fake.startFails ? `  start) if [ "$c" = ${NEW} ]; then echo "${fake.startFails}" >&2; exit 1; fi; touch "${dir}/running-$c"; echo "$c" ;;` : `  start) touch "${dir}/running-$c"; echo "$c" ;;`,
        `  logs) printf '%s' '${fake.logs ?? ""}' ;;`,
        // The engine's event stream: the next event of the container a second later.
        fake.events ? `  events) printf '%s\\n' ${fake.events.map((e) => `'${e}'`).join(" ")} ;;` : '  events) sleep 1; echo "health_status: changed" ;;',
        `  exec) n=$(cat "${dir}/exec-n" 2>/dev/null || echo 0); echo $((n + 1)) > "${dir}/exec-n"; if [ "$n" -lt ${fake.frontLate ?? 0} ]; then echo "Error response from daemon: container 0123abcd is not running" >&2; exit 1; fi` +
            // A staged admission (exec -i): the go-ahead it reads is recorded; `ready` admits, the end of stdin frees.
            `; if [ "$2" = -i ]; then if read -r go; then echo "stage-input $go" >> "${dir}/calls"; else echo "stage-input EOF" >> "${dir}/calls"; fi;` +
            (fake.stageKilled ? " exit 137;" : "") +
            ` if [ "$go" != ready ]; then echo "$6: not admitted, its staged slots freed"; exit 3; fi;` +
            (fake.admitFails ? ` echo "${fake.admitFails}"; exit 1; fi` : ` echo "$6 serves on 2 port(s)"; fi`) +
            (fake.admitFails ? `; if [ "$4" = admit ]; then echo "${fake.admitFails}"; exit 1; fi ;;` : " ;;"),
        "esac",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "docker"), docker, { mode: 0o755 });
    const front = fake.takeover ? [fake.takeover, FRONT, NET, LISTENS, String(fake.admitSeconds ?? 15), "10"] : [];
    const r = spawnSync("bash", [path.join(PROJECT_DIR, START_SCRIPT), NEW, "CodeGenerator", "mainpc", "256", String(waitSeconds), String(stableSeconds), ...front], {
        encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, FLEET_START_TRACE: fake.trace ? path.join(dir, "trace") : "" },
    });
    const lines = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8").trim().split("\n") : []);
    return { code: r.status, out: r.stdout, err: r.stderr, calls: lines("calls"), trace: lines("trace") };
}

/** The staged admission's `docker exec` (it runs beside the script: its place among the calls is not fixed). */
const STAGE = `exec -i ${FRONT} fleet-front-ctl stage ${NEW}.${NET} 15 ${LISTENS}`;
/** The go-ahead the staged admission read: `ready` once the container is healthy; the end of stdin when it failed. */
const READY = "stage-input ready";
const WITHDRAWN = "stage-input EOF";

/** The calls other than the state polls and the stage's exec, the way an operator would read them. */
const steps = (calls: string[]) => calls.filter((c) => !/^inspect --format \{\{\.State\.Status/.test(c) && !c.startsWith("events ") && c !== STAGE).map((c) => c
    .replace(/^inspect --format \{\{\.(Id|Name)\}\}.*? (\S+)$/, "inspect $1 $2")
    );

const HEALTHY = "running healthy 0 0\n0 \"ok\\n\"";

describe("scripts/container-start.sh", () => {
    it("a first deploy: the limit set before the start, no predecessor, confirmed at the first look", () => {
        const r = start({ states: { [NEW]: [HEALTHY] } });
        assert.deepStrictEqual([r.code, r.out, r.err], [0, `CodeGenerator (${NEW}): healthy, PIDs limit 256\n`, ""]);
        assert.deepStrictEqual(steps(r.calls), [
            `update --pids-limit 256 ${NEW}`,
            PS,
            `start ${NEW}`,
        ]);
    });

    it("a first deploy seen healthy on the engine's event stream: started and confirmed without one look at its state", () => {
        const r = start({ states: { [NEW]: ["running starting 0 0"] }, events: ["health_status: starting", "health_status: healthy"] });
        assert.deepStrictEqual([r.code, r.out, r.err], [0, `CodeGenerator (${NEW}): healthy, PIDs limit 256\n`, ""]);
        // The stream may subscribe after the start: it replays from a second before (--since).
        assert.deepStrictEqual(r.calls.map((c) => c.split(" ")[0]).sort(), ["events", "ps", "start", "update"]);
    });

    it("a replacement: the predecessor stopped before the start, the new one healthy and stable, the predecessor left stopped for the engine to delete", () => {
        const r = start({ states: { [NEW]: ["running starting 0 0", HEALTHY] }, previous: [OLD] }, 10, 2);
        assert.deepStrictEqual([r.code, r.out, r.err], [0, `CodeGenerator (${NEW}): healthy, PIDs limit 256, took over from 1 previous container(s)\n`, ""]);
        assert.deepStrictEqual(steps(r.calls), [
            `update --pids-limit 256 ${NEW}`,
            PS,
            `stop ${OLD}`,
            `start ${NEW}`,
        ]);
        // The engine's events for the container, opened before its start (here they end without a
        // healthy one), then a look, the next event, a look: starting, then healthy; in the 2 s
        // window, a look after each event (one a second here) until it ends.
        const looks = r.calls.filter((c) => c.startsWith("inspect --format {{.State.Status"));
        const events = r.calls.filter((c) => c.startsWith("events "));
        assert.ok(looks.length >= 3 && looks.length <= 4, `${looks.length} looks`);
        assert.strictEqual(events.length, looks.length);
        for (const e of events) assert.match(e, new RegExp(`^events --since \\d+\\.\\d+ --filter container=${NEW} --filter event=die --filter event=health_status --format \\{\\{\\.Action\\}\\}$`));
    });

    it("a container found running (the proxy, started by the provider; an interrupted `up`): nothing started, the predecessors still running stopped once it is healthy", () => {
        const r = start({ states: { [NEW]: [HEALTHY] }, running: true, previous: [OLD] });
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(steps(r.calls), [
            `update --pids-limit 256 ${NEW}`,
            PS,
            `stop ${OLD}`,
        ]);
    });

    it("a container found restarting (Docker's restart policy): it runs, as `.State.Running` reads it; nothing started", () => {
        const r = start({ states: { [NEW]: [HEALTHY] }, selfStatus: "restarting" });
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(steps(r.calls), [`update --pids-limit 256 ${NEW}`, PS]);
    });

    it("never healthy: fails after its wait naming the service, its state, the last probe and log lines; stopped, the predecessor started again and healthy", () => {
        const r = start({ states: { [NEW]: ["running unhealthy 0 0\n1 \"connection refused\"\n1 \"HTTP 503: model not loaded\\n\""], [OLD]: [HEALTHY] }, previous: [OLD], logs: "loading\nTraceback: boom\n" }, 1);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.out, "");
        assert.strictEqual(r.err, [
            `CodeGenerator (${NEW}) is not healthy after 1 s: state running, health unhealthy, exit code 0, restarted 0 times; its last health check exited 1 with "HTTP 503: model not loaded\\n".`,
            `Its last log lines (docker logs --tail 5 ${NEW}):`,
            "  loading",
            "  Traceback: boom",
            `CodeGenerator: the previous container ${OLD} runs again, healthy.`,
            "Fix: correct the service's image or pin the image it ran before (README, Rollback), then run pulumi up again.",
            "",
        ].join("\n"));
        assert.deepStrictEqual(steps(r.calls).slice(2), [`stop ${OLD}`, `start ${NEW}`, `logs --tail 5 ${NEW}`, `stop ${NEW}`, `inspect Name ${OLD}`, `start ${OLD}`]);
    });

    it("healthy, then restarted within the stability window: fails, and the predecessor serves again", () => {
        const r = start({ states: { [NEW]: [HEALTHY, HEALTHY, "running starting 139 1\n0 \"ok\\n\""], [OLD]: [HEALTHY] }, previous: [OLD] }, 5, 3);
        assert.strictEqual(r.code, 1);
        assert.match(r.err, new RegExp(`^CodeGenerator \\(${NEW}\\) turned healthy, then did not stay so for 3 s: state running, health starting, exit code 139, restarted 1 times; its last health check exited 0 with "ok\\\\n"\\.\\n`));
        assert.match(r.err, new RegExp(`CodeGenerator: the previous container ${OLD} runs again, healthy\\.\\n`));
    });

    it("an interrupted `up` left no container of the service running: the one that stopped last is the predecessor, given back when the new one fails", () => {
        const EARLIER = "code-generator-0a0b0c0";
        const r = start({ states: { [NEW]: ["running unhealthy 0 0"], [OLD]: [HEALTHY] }, exited: { [EARLIER]: "2026-12-06T10:00:00Z", [OLD]: "2026-12-06T10:05:00Z", [NEW]: "0001-01-01T00:00:00Z" } }, 1);
        assert.strictEqual(r.code, 1);
        assert.match(r.err, new RegExp(`\\nCodeGenerator: the previous container ${OLD} runs again, healthy\\.\\n`));
        assert.ok(!r.calls.includes(`start ${EARLIER}`), "an earlier failed attempt stays stopped");
    });

    it("the predecessor does not come back: the service is down, and the run says so", () => {
        const r = start({ states: { [NEW]: ["exited unhealthy 1 0"], [OLD]: ["exited unhealthy 1 0"] }, previous: [OLD] }, 1);
        assert.strictEqual(r.code, 1);
        assert.match(r.err, new RegExp(`\\nCodeGenerator: the previous container ${OLD} did not come back healthy; the service is down\\.\\n`));
    });

    it("a start the engine refuses (a port still taken): docker's words, and the predecessor started again", () => {
        const r = start({ states: { [NEW]: ["created no-healthcheck 0 0"], [OLD]: [HEALTHY] }, previous: [OLD], startFails: "Error response from daemon: driver failed programming external connectivity: Bind for 127.0.0.1:5625 failed: port is already allocated" });
        assert.strictEqual(r.code, 1);
        assert.match(r.err, new RegExp(`^CodeGenerator \\(${NEW}\\) could not start \\(Error response from daemon: driver failed programming external connectivity: Bind for 127\\.0\\.0\\.1:5625 failed: port is already allocated\\): state created, health no-healthcheck, exit code 0, restarted 0 times; no health check has run yet\\.\\n`));
        assert.match(r.err, new RegExp(`the previous container ${OLD} runs again, healthy\\.`));
    });

    it("no predecessor and never healthy: fails with the reason, nothing to give back", () => {
        const r = start({ states: { [NEW]: ["restarting healthy 1 2"] } }, 1);
        assert.strictEqual(r.code, 1);
        assert.match(r.err, new RegExp(`^CodeGenerator \\(${NEW}\\) is not healthy after 1 s: state restarting, health healthy, exit code 1, restarted 2 times; no health check has run yet\\.\\n`));
        assert.ok(!r.calls.some((c) => c.startsWith("stop")), "nothing stopped");
    });

    describe("behind the host front", () => {
        const admit = (name: string) => `exec ${FRONT} fleet-front-ctl admit ${name}.${NET} 15 ${LISTENS}`;
        const retire = (name: string) => [`inspect Name ${name}`, `exec ${FRONT} fleet-front-ctl retire ${name}.${NET} 10`];

        it("overlap: started beside the old one and staged in the front (drained) from its start; healthy and stable, made ready under its name on the network, then the old one drained and stopped", () => {
            const r = start({ takeover: "overlap", states: { [NEW]: ["running starting 0 0", HEALTHY] }, previous: [OLD] }, 10, 1);
            assert.deepStrictEqual([r.code, r.out, r.err], [0, `CodeGenerator (${NEW}): healthy, PIDs limit 256, took over from 1 previous container(s)\n`, ""]);
            assert.strictEqual(r.calls.filter((c) => c === STAGE).length, 1);
            assert.ok(r.calls.indexOf(STAGE) > r.calls.indexOf(PS), "staged once the service's containers are listed");
            assert.deepStrictEqual(steps(r.calls), [
                `update --pids-limit 256 ${NEW}`,
                PS,
                `start ${NEW}`,
                READY,
                ...retire(OLD),
                `stop ${OLD}`,
            ]);
        });

        it("overlap, never healthy: the old one is never stopped nor drained, and keeps serving; the new one is never admitted", () => {
            const r = start({ takeover: "overlap", states: { [NEW]: ["running unhealthy 0 0\n1 \"HTTP 503\""] }, previous: [OLD] }, 1);
            assert.strictEqual(r.code, 1);
            assert.match(r.err, new RegExp(`^CodeGenerator \\(${NEW}\\) is not healthy after 1 s: state running, health unhealthy, exit code 0, restarted 0 times; its last health check exited 1 with "HTTP 503"\\.\\n`));
            assert.match(r.err, new RegExp(`\\nCodeGenerator: the previous container ${OLD} kept serving\\.\\nFix: `));
            const s = steps(r.calls);
            assert.ok(!s.includes(`stop ${OLD}`) && !s.includes(retire(OLD)[1]) && !s.some((c) => c.includes(" admit ")) && !s.includes(READY), s.join("\n"));
            // The stage is told nothing: the end of its stdin frees the slots it took, before the new one is retired and stopped.
            assert.deepStrictEqual(s.slice(-5), [WITHDRAWN, ...retire(NEW), `stop ${NEW}`, `inspect Name ${OLD}`]);
        });

        it("a first deploy: no predecessor, staged from its start, made ready once healthy; the front is its own command's (scripts/host-front.sh)", () => {
            const r = start({ takeover: "overlap", states: { [NEW]: [HEALTHY] } });
            assert.strictEqual(r.code, 0, r.err);
            assert.strictEqual(r.calls.filter((c) => c === STAGE).length, 1);
            assert.deepStrictEqual(steps(r.calls).slice(2), [`start ${NEW}`, READY]);
        });

        it("a stage killed without a word once told `ready` (the front's OOM killer): the container is admitted the plain way, and serves", () => {
            const r = start({ takeover: "overlap", states: { [NEW]: [HEALTHY] }, stageKilled: true });
            assert.deepStrictEqual([r.code, r.err], [0, ""]);
            assert.deepStrictEqual(steps(r.calls).slice(2), [`start ${NEW}`, READY, admit(NEW)]);
        });

        it("the host front not running yet (its command starts it beside the services' starts): admission waits for it", () => {
            const r = start({ takeover: "overlap", states: { [NEW]: [HEALTHY] }, frontLate: 3 });
            assert.deepStrictEqual([r.code, r.err], [0, ""]);
            assert.strictEqual(r.calls.filter((c) => c === STAGE).length, 4);
            assert.deepStrictEqual(steps(r.calls).slice(2), [`start ${NEW}`, READY]);
        });

        it("the host front not running for longer than the admission time: the stage, begun at the container's start, waits for it as long as the container's own wait as well", () => {
            // 8 refusals 0.2 s apart: 1.6 s, beyond the 1 s admission time, within the 3 s wait and it.
            const r = start({ takeover: "overlap", states: { [NEW]: [HEALTHY] }, frontLate: 8, admitSeconds: 1 }, 3);
            assert.deepStrictEqual([r.code, r.err], [0, ""]);
            const stage = `exec -i ${FRONT} fleet-front-ctl stage ${NEW}.${NET} 1 ${LISTENS}`;
            assert.strictEqual(r.calls.filter((c) => c === stage).length, 9);
            assert.ok(r.calls.includes(READY));
        });

        it("FLEET_START_TRACE: each step appended with its time and the service, in the order it ran; without it, no file", () => {
            const r = start({ takeover: "overlap", states: { [NEW]: [HEALTHY] }, trace: true });
            assert.strictEqual(r.code, 0, r.err);
            assert.ok(r.trace.every((l) => /^\d+\.\d+ CodeGenerator \S+$/.test(l)), r.trace.join("\n"));
            const times = r.trace.map((l) => Number(l.split(" ")[0]));
            assert.deepStrictEqual(times, [...times].sort((a, b) => a - b));
            assert.deepStrictEqual(r.trace.map((l) => l.split(" ")[2]), ["begin", "listed", "started", "healthy", "admitted", "end"]);
            assert.deepStrictEqual(start({ takeover: "overlap", states: { [NEW]: [HEALTHY] } }).trace, []);
        });

        it("the stability window: overlap holds the new one out of the front through it (the old one serves); stop-first admits it first (nothing else serves)", () => {
            // The window's looks are the engine's event stream (`events`); the admission is the go-ahead to the staged one.
            const order = (takeover: "overlap" | "stop-first") => {
                const r = start({ takeover, states: { [NEW]: [HEALTHY], [OLD]: [HEALTHY] }, previous: [OLD] }, 10, 1);
                assert.strictEqual(r.code, 0, r.err);
                // The first events call is the start's wait (opened before the start), not the window's.
                const calls = r.calls.filter((c, i) => !(c.startsWith("events ") && i === r.calls.findIndex((x) => x.startsWith("events "))));
                return calls.filter((c) => c.startsWith("events ") || c === READY || c === `stop ${OLD}`).map((c) => c.split(" ")[0] === "events" ? "window" : c.startsWith("stop") ? "old stopped" : "admitted")
                    .filter((c, i, a) => c !== a[i - 1]);
            };
            assert.deepStrictEqual(order("overlap"), ["window", "admitted", "old stopped"]);
            assert.deepStrictEqual(order("stop-first"), ["old stopped", "admitted", "window"]);
        });

        it("stop-first, healthy, then restarted within the stability window: already admitted, it is drained and stopped, and the old one runs again and is admitted", () => {
            const r = start({ takeover: "stop-first", states: { [NEW]: [HEALTHY, "running healthy 0 1"], [OLD]: [HEALTHY] }, previous: [OLD] }, 10, 2);
            assert.strictEqual(r.code, 1);
            assert.match(r.err, new RegExp(`^CodeGenerator \\(${NEW}\\) turned healthy, then did not stay so for 2 s: state running, health healthy, exit code 0, restarted 1 times;`));
            assert.match(r.err, new RegExp(`\\nCodeGenerator: the previous container ${OLD} runs again, healthy\\.\\n`));
            const s = steps(r.calls);
            assert.deepStrictEqual(s.slice(s.indexOf(READY)), [
                READY,
                `logs --tail 5 ${NEW}`,
                ...retire(NEW),
                `stop ${NEW}`,
                `inspect Name ${OLD}`,
                `start ${OLD}`,
                `inspect Name ${OLD}`,
                admit(OLD),
            ]);
        });

        it("stop-first (a GPU service): the old one drained and stopped before the start; when the new one fails it runs again, healthy, and the front admits it again", () => {
            const r = start({ takeover: "stop-first", states: { [NEW]: ["exited unhealthy 1 0"], [OLD]: [HEALTHY] }, previous: [OLD] }, 1);
            assert.strictEqual(r.code, 1);
            assert.match(r.err, new RegExp(`\\nCodeGenerator: the previous container ${OLD} runs again, healthy\\.\\n`));
            const s = steps(r.calls);
            assert.deepStrictEqual(s.slice(2, 6), [...retire(OLD), `stop ${OLD}`, `start ${NEW}`]);
            assert.deepStrictEqual(s.slice(-3), [`start ${OLD}`, `inspect Name ${OLD}`, admit(OLD)]);
        });

        it("stop-first, the old one back and healthy but the front does not admit it: the run says the service does not answer", () => {
            const r = start({ takeover: "stop-first", states: { [NEW]: ["exited unhealthy 1 0"], [OLD]: [HEALTHY] }, previous: [OLD], admitFails: "no" }, 1);
            assert.strictEqual(r.code, 1);
            assert.match(r.err, new RegExp(`\\nCodeGenerator: the previous container ${OLD} runs again, healthy, but the host front ${FRONT} does not admit it; the service does not answer until it does\\.\\n`));
        });

        it("healthy but not admitted by the front (or the front is gone): fails with the front's words; drained, stopped, the old one kept serving", () => {
            const r = start({ takeover: "overlap", states: { [NEW]: [HEALTHY] }, previous: [OLD], admitFails: `${NEW}.${NET} is not up in the front after 15 s on: code-generator.service-5625` });
            assert.strictEqual(r.code, 1);
            assert.match(r.err, new RegExp(`^CodeGenerator \\(${NEW}\\) is not taken up by the host front ${FRONT} \\(${NEW}\\.${NET} is not up in the front after 15 s on: code-generator\\.service-5625\\): state running, health healthy`));
            assert.match(r.err, new RegExp(`the previous container ${OLD} kept serving\\.`));
            const s = steps(r.calls);
            assert.deepStrictEqual(s.slice(-4), [...retire(NEW), `stop ${NEW}`, `inspect Name ${OLD}`]);
            assert.ok(!s.includes(`stop ${OLD}`));
        });
    });

    it("a container that is gone: the limit cannot be set, docker's words and the fix, nothing stopped", () => {
        const r = start({ states: { [NEW]: [HEALTHY] }, previous: [OLD], updateFails: `Error response from daemon: No such container: ${NEW}` }, 30);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.err, `CodeGenerator (${NEW}): its PIDs limit could not be set: Error response from daemon: No such container: ${NEW}\nFix: run pulumi up again; a container removed by hand is created again by pulumi up --refresh.\n`);
        assert.deepStrictEqual(r.calls.map((c) => c.split(" ")[0]), ["update"]);
    });
});
