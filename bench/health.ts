/**
 * Create-to-healthy figures from the engine's own timestamps, and the Compose side of the
 * comparison: the containers the program registered, brought up by `docker compose up --wait`.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineHarness } from "../test/engine/harness";
import { frontConfigOf, pidsLimits, writeCompose } from "./compose";
import { median } from "./stats";
import { cpuLine, cpuSnapshot } from "./cpu";

export interface HealthRow { name: string; tier: string; seconds: number; fromStart: number }

/**
 * Seconds from each container's creation, and from its start, to its first passing health check,
 * as the engine recorded them (State.Health.Log keeps the last five checks: read right after
 * start-up). Both sides create every container up front and start each when its dependencies
 * are healthy (the program's start commands), so both figures compare.
 */
export async function engineHealthy(harness: EngineHarness, filters: Record<string, string[]>): Promise<HealthRow[]> {
    const out: HealthRow[] = [];
    for (const c of await harness.docker.listContainers({ all: true, filters })) {
        const info = await harness.docker.getContainer(c.Id).inspect();
        const ok = (info.State.Health?.Log ?? []).filter((l) => l.ExitCode === 0).map((l) => Date.parse(l.End));
        if (ok.length === 0) continue;
        const healthy = Math.min(...ok);
        out.push({
            name: info.Name.slice(1),
            tier: info.Config.Labels["fleet.tier"] ?? "proxy",
            seconds: (healthy - Date.parse(info.Created)) / 1000,
            fromStart: (healthy - Date.parse(info.State.StartedAt)) / 1000,
        });
    }
    return out;
}

export function tierLines(rows: HealthRow[]): string[] {
    const tiers = [...new Set(rows.map((r) => r.tier))].sort();
    return [...tiers, "all"].map((t) => {
        const mine = rows.filter((r) => t === "all" || r.tier === t);
        const xs = mine.map((r) => r.seconds);
        const ys = mine.map((r) => r.fromStart);
        return `    ${t.padEnd(6)} n=${String(xs.length).padStart(2)}  from create: median ${median(xs).toFixed(1)} s, max ${Math.max(...xs).toFixed(1)} s; from start: median ${median(ys).toFixed(1)} s, max ${Math.max(...ys).toFixed(1)} s`;
    });
}

/** The Compose file of the containers the harness holds now (before they are removed). */
export function composeFileOf(harness: EngineHarness): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-compose-"));
    return writeCompose(harness.containerInputs(), harness.networkInputs(), dir, frontConfigOf(harness.commandInputs()), pidsLimits(harness.commandInputs()));
}

/**
 * `docker compose up --wait` of `file` after the harness's containers are removed (its
 * networks and volumes stay: compose uses them as external). The clock runs from the command's
 * start to its return; the containers are removed again after.
 */
export async function composeRun(harness: EngineHarness, file: string): Promise<{ seconds: number; rows: HealthRow[]; cpu: string }> {
    await harness.forgetContainers();
    const compose = (...args: string[]) => execFileSync("/usr/bin/docker", ["compose", "-p", "fleet-bench", "-f", file, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    const started = Date.now();
    const before = cpuSnapshot();
    try {
        compose("up", "-d", "--wait", "--wait-timeout", "600");
        const cpu = cpuLine(before, cpuSnapshot());
        const seconds = (Date.now() - started) / 1000;
        const rows = await engineHealthy(harness, { label: ["com.docker.compose.project=fleet-bench"] });
        return { seconds, rows, cpu };
    } finally {
        compose("down", "--timeout", "10");
    }
}
