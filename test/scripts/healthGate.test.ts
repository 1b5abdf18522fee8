/**
 * scripts/health-gate.sh with a stand-in docker that answers `docker inspect --format` as Docker
 * 26.1.5 does: one line per container it finds, in the order asked, and for one it does not,
 * `Error: No such object: <name>` on standard error and exit 1 after the others
 * (docker/cli v26.1.5 cli/command/inspect/inspector.go `Inspect`).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HEALTH_GATE_SCRIPT } from "../../components/healthGate";
import { PROJECT_DIR } from "../mocks";

const FORMAT = "{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}} {{.State.Status}}";

/**
 * Runs the gate over `gated` with a docker whose n-th inspect sees `polls[n]` (the last one
 * from then on): container name -> "health state". Returns what it said and each call's argv.
 */
function gate(gated: string, polls: Record<string, string>[]): { code: number; out: string; err: string; calls: string[][] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-health-gate-"));
    polls.forEach((p, i) => fs.writeFileSync(path.join(dir, `poll${i}`), Object.entries(p).map(([n, s]) => `${n} ${s}`).join("\n") + "\n"));
    const docker = [
        "#!/bin/sh",
        `d=${dir}`,
        'n=$(cat "$d/n" 2>/dev/null || echo 0); echo $((n + 1)) > "$d/n"',
        `f="$d/poll$n"; [ -f "$f" ] || f="$d/poll${polls.length - 1}"`,
        'printf "%s\\n" "$@" > "$d/call$n"',
        "shift 3; rc=0",
        'for c in "$@"; do',
        '  line=$(grep "^$c " "$f" || true)',
        '  if [ -n "$line" ]; then echo "/$line"; else echo "Error: No such object: $c" >&2; rc=1; fi',
        "done",
        "exit $rc",
    ].join("\n");
    fs.writeFileSync(path.join(dir, "docker"), docker, { mode: 0o755 });
    const r = spawnSync("bash", [path.join(PROJECT_DIR, HEALTH_GATE_SCRIPT)], {
        encoding: "utf8",
        env: { PATH: `${dir}:/usr/bin:/bin`, DOCKER_HOST: "ssh://ops@mainpc", FLEET_MACHINE: "mainpc", FLEET_GATED: gated },
    });
    const calls = fs.readdirSync(dir).filter((f) => f.startsWith("call")).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
    return { code: r.status ?? -1, out: r.stdout.trim(), err: r.stderr.trim(), calls: calls.map((f) => fs.readFileSync(path.join(dir, f), "utf8").trim().split("\n")) };
}

describe("health gate script (stand-in docker)", () => {
    it("ends at once when every container is healthy, with one inspect for all of them", () => {
        const r = gate("nlu-agent:NLUAgent:120 responder:Responder:300", [{ "nlu-agent": "healthy running", responder: "healthy running" }]);
        assert.deepStrictEqual([r.code, r.err], [0, ""]);
        // Whole seconds of bash's SECONDS: 0, or 1 when a second boundary falls between start and poll.
        assert.match(r.out, /^health-gate mainpc: NLUAgent \(nlu-agent\) healthy after [01] s\nhealth-gate mainpc: Responder \(responder\) healthy after [01] s$/);
        assert.deepStrictEqual(r.calls, [["inspect", "--format", FORMAT, "nlu-agent", "responder"]]);
    });

    it("asks again, once a second, only for the containers still starting", () => {
        const r = gate("nlu-agent:NLUAgent:120 responder:Responder:300", [
            { "nlu-agent": "healthy running", responder: "starting running" },
            { "nlu-agent": "healthy running", responder: "starting running" },
            { "nlu-agent": "healthy running", responder: "healthy running" },
        ]);
        assert.deepStrictEqual([r.code, r.err], [0, ""]);
        assert.deepStrictEqual(r.calls.map((c) => c.slice(3)), [["nlu-agent", "responder"], ["responder"], ["responder"]]);
        assert.match(r.out.split("\n")[1], /^health-gate mainpc: Responder \(responder\) healthy after [123] s$/);
    });

    it("fails naming each service past its wait, in plan order, with what Docker last said, a missing container included, and the fix", () => {
        const r = gate("nlu-agent:NLUAgent:1 code-generator:CodeGenerator:2 gone:Gone:1 plain:Plain:1", [
            { "nlu-agent": "healthy running", "code-generator": "unhealthy restarting", plain: "no-healthcheck running" },
        ]);
        assert.strictEqual(r.code, 1);
        assert.match(r.out, /^health-gate mainpc: NLUAgent \(nlu-agent\) healthy after [01] s$/);
        assert.strictEqual(r.err, [
            "health-gate mainpc: not every container turned healthy:",
            "  CodeGenerator (container code-generator): not healthy after 2 s (unhealthy restarting)",
            "  Gone (container gone): not healthy after 1 s (no such container)",
            "  Plain (container plain): not healthy after 1 s (no-healthcheck running)",
            "Fix: 'docker logs <container>' and 'docker inspect --format \"{{json .State.Health}}\" <container>' on mainpc show why; fix the service or its data, then deploy again: the next pulumi up waits for them again.",
        ].join("\n"));
        assert.ok(r.calls.length >= 2 && r.calls.length <= 4, `${r.calls.length} polls for waits of 1 and 2 s`);
    });
});
