/**
 * scripts/container-ready.sh, run by every container's PIDs-limit command: sets the limit, then
 * confirms the container healthy within its wait, with a stand-in `docker` that answers `inspect`
 * with the daemon's states in turn (the format's first line: status, health, exit code, restarts;
 * then one line a health probe, its exit code and quoted output, as Go's %q prints it).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { READY_SCRIPT } from "../../components/serviceContainer";
import { PROJECT_DIR } from "../mocks";

interface Fake {
    /** What each `docker inspect` prints, in turn; the last one repeats. */
    states: string[];
    /** `docker update` fails with this text. */
    updateFails?: string;
    logs?: string;
}

function ready(fake: Fake, waitSeconds = 2): { code: number | null; out: string; err: string; calls: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-ready-"));
    fake.states.forEach((s, i) => fs.writeFileSync(path.join(dir, `state-${i}`), s));
    const docker = [
        "#!/usr/bin/env bash",
        `echo "$*" >> "${dir}/calls"`,
        'case "$1" in',
        fake.updateFails ? `  update) echo "${fake.updateFails}" >&2; exit 1 ;;` : "  update) echo \"$4\" ;;",
        `  inspect) n=$(cat "${dir}/n" 2>/dev/null || echo 0); f="${dir}/state-$n"; [ -f "$f" ] || f="${dir}/state-${fake.states.length - 1}"; cat "$f"; echo $((n + 1)) > "${dir}/n" ;;`,
        `  logs) printf '%s' '${fake.logs ?? ""}' ;;`,
        "esac",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "docker"), docker, { mode: 0o755 });
    const r = spawnSync("bash", [path.join(PROJECT_DIR, READY_SCRIPT), "code-generator", "CodeGenerator", "256", String(waitSeconds)], {
        encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n") : [];
    return { code: r.status, out: r.stdout, err: r.stderr, calls };
}

describe("scripts/container-ready.sh", () => {
    it("a healthy container: the limit set, confirmed at the first look", () => {
        const r = ready({ states: ["running healthy 0 0\n0 \"ok\\n\""] });
        assert.deepStrictEqual([r.code, r.out, r.err], [0, "CodeGenerator (code-generator): healthy, PIDs limit 256\n", ""]);
        assert.deepStrictEqual(r.calls.map((c) => c.split(" ").slice(0, 2).join(" ")), ["update --pids-limit", "inspect --format"]);
        assert.match(r.calls[0], /^update --pids-limit 256 code-generator$/);
    });

    it("a container still starting is waited for until healthy", () => {
        const r = ready({ states: ["running starting 0 0", "running starting 0 0\n1 \"refused\"", "running healthy 0 0\n1 \"refused\"\n0 \"ok\""] }, 10);
        assert.strictEqual(r.code, 0, r.err);
        assert.strictEqual(r.calls.filter((c) => c.startsWith("inspect")).length, 3);
    });

    it("healthy but not running (a restart under way) is not ready", () => {
        const r = ready({ states: ["restarting healthy 1 2"] }, 1);
        assert.strictEqual(r.code, 1);
        assert.match(r.err, /^CodeGenerator \(code-generator\) is not healthy after 1 s: state restarting, health healthy, exit code 1, restarted 2 times; no health check has run yet\.\n/);
    });

    it("never healthy: fails after its wait, naming the service, the state, the last probe's output and the last log lines, with the fix", () => {
        const r = ready({ states: ["running unhealthy 0 0\n1 \"connection refused\"\n1 \"HTTP 503: model not loaded\\n\""], logs: "loading\nTraceback: boom\n" }, 1);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.out, "");
        assert.strictEqual(r.err, [
            "CodeGenerator (code-generator) is not healthy after 1 s: state running, health unhealthy, exit code 0, restarted 0 times; its last health check exited 1 with \"HTTP 503: model not loaded\\n\".",
            "Its last log lines (docker logs --tail 5 code-generator):",
            "  loading",
            "  Traceback: boom",
            "Fix: correct the service's image or pin the image it ran before (README, Rollback), then run pulumi up again.",
            "",
        ].join("\n"));
    });

    it("a container that is gone: the limit cannot be set, docker's words and the fix, no wait", () => {
        const r = ready({ states: ["running healthy 0 0"], updateFails: "Error response from daemon: No such container: code-generator" }, 30);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.err, "CodeGenerator (code-generator): its PIDs limit could not be set: Error response from daemon: No such container: code-generator\nFix: run pulumi up again; a container removed by hand is created again by pulumi up --refresh.\n");
        assert.deepStrictEqual(r.calls.map((c) => c.split(" ")[0]), ["update"]);
    });
});
