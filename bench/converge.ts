/**
 * A whole host from no container to all healthy: the program's start policies beside
 * `docker compose up --wait` of the same containers, from the same built images, alternated
 * round by round. Operators wait for the whole `pulumi up`, so the host's convergence is the
 * figure; the per-container create-to-healthy figures stay beside it.
 *
 * - `lanes N`: the core tier first, then N containers of a tier at a time, each created once its
 *   lane predecessor is healthy (fleet/model/plan.ts `startLanes`);
 * - `all at once`: the core tier first, then every container of the tier as soon as the core is
 *   healthy, bounded only by Pulumi's parallelism (4 per CPU, as the harness runs it); with a
 *   `parallel` of its own, as `pulumi up --parallel N` runs it;
 * - compose: every container created up front, the core first (depends_on service_healthy).
 *
 * Each run of a round also prints when the engine started its containers and which turned
 * healthy last (./timeline.ts).
 *
 * The program's clock runs from its first container create to its last container healthy (its
 * images, networks and volumes are in place: only containers are made); compose's from
 * `docker compose up` to its return, into the same networks and volumes.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEPLOY_PARALLEL } from "../fleet/model/defaults";
import { MergedStack } from "../fleet/pulumi/config";
import { EngineHarness } from "../test/engine/harness";
import { cpuLine, cpuSnapshot } from "./cpu";
import { composeFileOf, composeRun, engineHealthy, HealthRow, tierLines } from "./health";
import { alternated, median, spread } from "./stats";
import { startStepLines, timelineLines, watchEvents } from "./timeline";

/**
 * A start policy: `lanes` containers of a tier at a time (ALL_AT_ONCE: every one), under
 * `pulumi up --parallel` `parallel` (the CLI's default, 4 per CPU, when unset).
 */
export interface StartPolicy { label: string; lanes: number; parallel?: number }

interface Sample { window: number; whole: number; rows: HealthRow[] }

/** The one part of a stack's figures `--converge-only`, `--replace-only` or `--sizes-only` asks for; all when undefined. */
export type Part = "converge" | "replace" | "sizes";

/** Lanes beyond any tier's size: no container waits for another of its tier (the schema's maximum). */
export const ALL_AT_ONCE = 1000;

/** The policies both stacks' benchmarks compare with compose. */
export const START_POLICIES: StartPolicy[] = [
    // What the documented deploys run (scripts/local-up, the deploy workflow, the README).
    { label: `documented, -p ${DEPLOY_PARALLEL}`, lanes: ALL_AT_ONCE, parallel: DEPLOY_PARALLEL },
    // The Pulumi CLI's own default, 4 per CPU.
    { label: "all, CLI default -p", lanes: ALL_AT_ONCE },
    { label: "lanes 4", lanes: 4 },
];

/**
 * @param stack  the stack with the policy's fleet:startLanes
 * @param machine the `fleet.machine` label of the host's containers
 */
export async function convergence(title: string, harness: EngineHarness, stack: (lanes: number) => MergedStack, machine: string, policies: StartPolicy[], rounds: number): Promise<void> {
    const file = composeFileOf(harness);
    const variants = [...policies.map((p) => p.label), "compose"];
    const samples: Record<string, Sample[]> = Object.fromEntries(variants.map((v) => [v, []]));
    /** The start commands' steps of the run in progress (./timeline.ts startStepLines). */
    let steps: string[] = [];
    console.log(`\n${title}: first container create to all healthy, ${rounds} alternated rounds`);
    /** One run of variant `v`: its sample recorded, its figure for the round's line returned. */
    const runVariant = async (v: string): Promise<string> => {
        if (v === "compose") {
            const c = await composeRun(harness, file);
            steps.push(`      ${c.cpu} (the whole run)`);
            samples[v].push({ window: c.seconds, whole: c.seconds, rows: c.rows });
            return `compose ${c.seconds.toFixed(1)} s`;
        }
        const p = policies.find((x) => x.label === v)!;
        await harness.forgetContainers();
        harness.parallel = p.parallel ?? EngineHarness.defaultParallel();
        // The start commands get the harness's environment, as the real ones get the CLI's.
        const trace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-trace-")), "starts");
        process.env.FLEET_START_TRACE = trace;
        const started = Date.now();
        const before = cpuSnapshot();
        try {
            await harness.run(stack(p.lanes));
            steps.push(`      ${cpuLine(before, cpuSnapshot())} (the whole run)`);
        } finally {
            harness.parallel = EngineHarness.defaultParallel();
            delete process.env.FLEET_START_TRACE;
        }
        steps.push(...startStepLines(fs.existsSync(trace) ? fs.readFileSync(trace, "utf8") : "", harness.containerWindow.start));
        fs.rmSync(path.dirname(trace), { recursive: true, force: true });
        const whole = (Date.now() - started) / 1000;
        const window = (harness.containerWindow.end - harness.containerWindow.start) / 1000;
        samples[v].push({ window, whole, rows: await engineHealthy(harness, { label: [`fleet.machine=${machine}`] }) });
        return `${v} ${window.toFixed(1)} s (whole run ${whole.toFixed(1)} s)`;
    };
    for (const [r, order] of alternated(variants, rounds).entries()) {
        const line: string[] = [];
        const timelines: string[] = [];
        for (const v of order) {
            const watch = await watchEvents(harness.docker);
            steps = [];
            try {
                line.push(await runVariant(v));
            } finally {
                timelines.push(`    ${v}:`, ...timelineLines(await watch.stop()), ...steps);
            }
        }
        console.log(`  round ${r + 1}: ${line.join(", ")}`);
        timelines.forEach((l) => console.log(l));
    }
    const composeMedian = median(samples.compose.map((s) => s.window));
    for (const v of variants) {
        const xs = samples[v].map((s) => s.window);
        const whole = v === "compose" ? "" : `; whole run ${spread(samples[v].map((s) => s.whole))}`;
        console.log(`  ${v.padEnd(14)} ${spread(xs)}, ratio to compose ${(median(xs) / composeMedian).toFixed(2)}${whole}`);
    }
    console.log("  create to first passing health check, per tier (engine's timestamps), all rounds pooled:");
    for (const v of variants) {
        console.log(`  ${v}:`);
        tierLines(samples[v].flatMap((s) => s.rows)).forEach((l) => console.log(l));
    }
}
