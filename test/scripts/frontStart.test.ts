/**
 * scripts/front-start.sh, run by each front's start command: the PIDs limit before the first
 * process, then the start; nothing for a front already running; left to the service's start
 * command while a container from before the fronts holds the host ports. With a stand-in
 * `docker` that answers as Docker 26's CLI does for these calls and records every call.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { FRONT_START_SCRIPT } from "../../components/serviceFront";
import { PROJECT_DIR } from "../mocks";

const FRONT = "code-generator-front";

interface Fake {
    /** `docker inspect --format {{.State.Running}}`: true, false, or gone (removed by hand). */
    front: "true" | "false" | "gone";
    /** What `docker ps` prints of the service's running containers' ports, one line each. */
    ports?: string[];
    /** What `docker start` says when it fails (a port taken). */
    startFails?: string;
}

function run(fake: Fake): { code: number | null; out: string; err: string; calls: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-front-start-"));
    const docker = [
        "#!/usr/bin/env bash",
        `echo "$*" >> "${dir}/calls"`,
        'case "$1" in',
        fake.front === "gone"
            ? '  inspect) echo "Error: No such object: ${*: -1}" >&2; exit 1 ;;'
            : `  inspect) echo ${fake.front} ;;`,
        `  ps) printf '%s\\n' ${(fake.ports ?? []).map((p) => `'${p}'`).join(" ")} ;;`,
        '  update) echo "${*: -1}" ;;',
        fake.startFails ? `  start) echo "${fake.startFails}" >&2; exit 1 ;;` : '  start) echo "${*: -1}" ;;',
        "esac",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "docker"), docker, { mode: 0o755 });
    const r = spawnSync("bash", [path.join(PROJECT_DIR, FRONT_START_SCRIPT), FRONT, "CodeGenerator", "mainpc", "32"], {
        encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") : [];
    return { code: r.status, out: r.stdout, err: r.stderr, calls };
}

const INSPECT = `inspect --format {{.State.Running}} ${FRONT}`;
const PS = "ps --filter label=fleet.service=CodeGenerator --filter label=fleet.machine=mainpc --format {{.Ports}}";

describe("scripts/front-start.sh", () => {
    const table: { what: string; fake: Fake; code: number; out: string; err: string; calls: string[] }[] = [
        {
            what: "a new front: its PIDs limit, then its start",
            fake: { front: "false" },
            code: 0, out: `CodeGenerator's front ${FRONT}: started, PIDs limit 32\n`, err: "",
            calls: [INSPECT, PS, `update --pids-limit 32 ${FRONT}`, `start ${FRONT}`],
        },
        {
            what: "a front already running (its service's start command was first): nothing done",
            fake: { front: "true" },
            code: 0, out: `CodeGenerator's front ${FRONT} runs already\n`, err: "",
            calls: [INSPECT],
        },
        {
            what: "the service's running containers publish nothing (they are behind the front): started",
            fake: { front: "false", ports: ["", ""] },
            code: 0, out: `CodeGenerator's front ${FRONT}: started, PIDs limit 32\n`, err: "",
            calls: [INSPECT, PS, `update --pids-limit 32 ${FRONT}`, `start ${FRONT}`],
        },
        {
            what: "a container from before the fronts holds the host ports: left to the service's start command, nothing started",
            fake: { front: "false", ports: ["127.0.0.1:5625->5625/tcp, 127.0.0.1:6625->6625/tcp"] },
            code: 0, out: `CodeGenerator's front ${FRONT}: left to the service's start command (a container from before the fronts holds the host ports)\n`, err: "",
            calls: [INSPECT, PS],
        },
        {
            what: "a front removed by hand: Docker's words and how it comes back",
            fake: { front: "gone" },
            code: 1, out: "",
            err: `CodeGenerator's front ${FRONT} cannot be read: Error: No such object: ${FRONT}\nFix: a front removed by hand is created again by pulumi up --refresh.\n`,
            calls: [INSPECT],
        },
        {
            what: "a start the engine refuses (a host port taken by something else): Docker's words and the fix",
            fake: { front: "false", startFails: "Error response from daemon: driver failed programming external connectivity: Bind for 127.0.0.1:5625 failed: port is already allocated" },
            code: 1, out: "",
            err: `CodeGenerator's front ${FRONT} could not be started: Error response from daemon: driver failed programming external connectivity: Bind for 127.0.0.1:5625 failed: port is already allocated\n`
                + "Fix: free the host ports it publishes (docker ps --filter publish=<port>), then run pulumi up again.\n",
            calls: [INSPECT, PS, `update --pids-limit 32 ${FRONT}`, `start ${FRONT}`],
        },
    ];
    for (const row of table) {
        it(row.what, () => {
            const r = run(row.fake);
            assert.deepStrictEqual(r, { code: row.code, out: row.out, err: row.err, calls: row.calls });
        });
    }
});
