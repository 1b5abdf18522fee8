/**
 * Request probes for replacements (the engine suite and bench/replace.ts): 20 GETs a second on a
 * URL until stopped, a request failed unless it answers 200 within a second, with the longest gap
 * between two answered ones.
 * - `hostProbe`: from this machine, on a published port, in a process of its own (the harness's
 *   synchronous steps would stall it on this event loop).
 * - `aliasProbe`: from a container on the host's network, by the service's alias, as a peer on
 *   the same host reaches it.
 */
import { execFile, spawn } from "child_process";
import { promisify } from "util";

const run = promisify(execFile);

export interface Probe { ok: number; failed: number; longestGapMs: number }

export interface RunningProbe { stop: () => Promise<Probe> }

const NODE_PROBE = `
const http = require("http");
let running = true, ok = 0, failed = 0, gap = 0, lastOk = Date.now();
process.on("SIGTERM", () => { running = false; });
const one = () => new Promise((resolve) => {
    const req = http.get(process.argv[1], { timeout: 1000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
});
(async () => {
    while (running) {
        const started = Date.now();
        if (await one()) { gap = Math.max(gap, Date.now() - lastOk); lastOk = Date.now(); ok++; } else failed++;
        await new Promise((r) => setTimeout(r, Math.max(0, 50 - (Date.now() - started))));
    }
    gap = Math.max(gap, Date.now() - lastOk);
    process.stdout.write(JSON.stringify({ ok, failed, longestGapMs: gap }));
})();
`;

/** The same loop in Python, for a container (the images have Python, not Node); stdlib only. */
const PYTHON_PROBE = `
import json, signal, sys, time, urllib.request
running = True
def stop(*_):
    global running
    running = False
signal.signal(signal.SIGTERM, stop)
ok = failed = 0
gap = 0.0
last_ok = time.monotonic()
print("probing", flush=True)
while running:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=1) as r:
            r.read()
            good = r.status == 200
    except Exception:
        good = False
    if good:
        gap = max(gap, time.monotonic() - last_ok)
        last_ok = time.monotonic()
        ok += 1
    else:
        failed += 1
    time.sleep(max(0, 0.05 - (time.monotonic() - started)))
gap = max(gap, time.monotonic() - last_ok)
print(json.dumps({"ok": ok, "failed": failed, "longestGapMs": round(gap * 1000)}), flush=True)
`;

export function hostProbe(url: string): RunningProbe {
    const child = spawn(process.execPath, ["-e", NODE_PROBE, url], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    const done = new Promise<Probe>((resolve, reject) => child.on("close", () => {
        try {
            resolve(JSON.parse(out) as Probe);
        } catch {
            reject(new Error(`probe: the probe of ${url} printed ${JSON.stringify(out)}`));
        }
    }));
    return { stop: () => { child.kill("SIGTERM"); return done; } };
}

/**
 * A probe container on `network`, told the host's resolvers (`dns`) as a service container is,
 * from `image` (any of the fleet's, for its Python), asking `url` (e.g.
 * `http://executor:6606/health`); started once it prints that it probes.
 */
export async function aliasProbe(image: string, network: string, dns: string[], url: string): Promise<RunningProbe> {
    const name = `fleet-probe-${process.pid}-${Date.now()}`;
    await run("docker", ["run", "-d", "--name", name, "--network", network, ...dns.flatMap((d) => ["--dns", d]), "--user", "10001:10001", "--read-only", "--cap-drop", "ALL",
        "--security-opt", "no-new-privileges:true", "--entrypoint", "python3", image, "-c", PYTHON_PROBE, url]);
    for (let i = 0; i < 100; i++) {
        const { stdout } = await run("docker", ["logs", name]);
        if (stdout.includes("probing")) break;
        await new Promise((r) => setTimeout(r, 100));
    }
    return {
        stop: async () => {
            await run("docker", ["kill", "--signal", "TERM", name]);
            await run("docker", ["wait", name]);
            const { stdout } = await run("docker", ["logs", name]);
            await run("docker", ["rm", "-f", name]);
            const last = stdout.trim().split("\n").pop() ?? "";
            try {
                return JSON.parse(last) as Probe;
            } catch {
                throw new Error(`probe: the probe of ${url} on ${network} printed ${JSON.stringify(stdout)}`);
            }
        },
    };
}
