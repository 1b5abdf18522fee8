/**
 * The local stack (MainPC's CPU services, images loaded into the daemon, as the engine suite runs
 * it): a cold build, the package layers, a warm rebuild after a one-file change, and the host's
 * convergence. Whole-image sizes are not printed: on the containerd image store `docker image
 * inspect` gave the same Size, 120.8 MB, for each of MainPC's CPU services, less than the base
 * plus the files above it (2026-12-01), so it is not a figure; the package layers are.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadFleet } from "../fleet/model/load";
import { MergedStack } from "../fleet/pulumi/config";
import { EngineHarness } from "../test/engine/harness";
import { FIXTURE_APP } from "../test/helpers";
import { appRepoOverride, stackConfig, startLanesOverride } from "../test/mocks";
import { convergence, Part, START_POLICIES } from "./converge";
import { replacementFigures } from "./replace";
import { layerFigures } from "./images";
import { sizeFigures } from "./sizes";

/** The engine suite's local stack on a copy of the fixture application; `lanes` overrides its fleet:startLanes. */
function localStack(app: string, lanes?: number): MergedStack {
    return stackConfig("local", "test/engine/local-overrides.yaml", appRepoOverride(app), ...(lanes ? [startLanesOverride(lanes)] : []));
}

/** Cold build, package layers, and a warm rebuild after a one-file change; the services of the latter. */
async function buildFigures(harness: EngineHarness, app: string): Promise<Record<string, { image: string }>> {
    execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
    const config = localStack(app);
    const cold = await harness.run(config);
    const coldSeconds = (harness.buildWindow.end - harness.buildWindow.start) / 1000;
    const services = cold.outputs.services as Record<string, { image: string }>;
    const familyImages = Object.fromEntries(cold.resources.filter((r) => r.type === "docker-build:index:Image").map((r) => [r.name, r.inputs.tags[0] as string]));
    const d = loadFleet();
    const chain = [
        ...Object.keys(familyImages).filter((f) => d.families[f]?.parent && familyImages[d.families[f].parent!]).map((f) => ({ name: f, image: familyImages[f], parent: familyImages[d.families[f].parent!] })),
        ...Object.entries(services).map(([n, s]) => ({ name: n, image: s.image, parent: familyImages[d.services[n].family] })),
    ];
    await layerFigures(harness, chain);
    fs.appendFileSync(path.join(app, "main_pc_code/agents/executor.py"), "# bench: one-file change\n");
    const warm = await harness.run(localStack(app));
    const warmSeconds = (harness.buildWindow.end - harness.buildWindow.start) / 1000;
    console.log(`\nbuild of MainPC's ${Object.keys(familyImages).length} CPU images: cold ${coldSeconds.toFixed(1)} s, warm rebuild after a one-file change ${warmSeconds.toFixed(1)} s, ratio ${(coldSeconds / warmSeconds).toFixed(1)}x`);
    return warm.outputs.services as Record<string, { image: string }>;
}

export async function localFigures(rounds: number, only?: Part): Promise<void> {
    const harness = new EngineHarness();
    await harness.purgeLeftovers();
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-"));
    fs.cpSync(FIXTURE_APP, app, { recursive: true });
    try {
        const services = only ? (await harness.run(localStack(app))).outputs.services as Record<string, { image: string }> : await buildFigures(harness, app);
        const config = localStack(app).config;
        if (only === undefined || only === "sizes") await sizeFigures(harness, services, app, config["fleet:upstreamImage"], config["fleet:packageIndex"]);
        // test/engine/local-overrides.yaml's fleet:startLanes is 4; "all at once" lifts it beyond any tier's size, as the stacks' default does.
        if (only === undefined || only === "converge") await convergence("local stack (MainPC's CPU services)", harness, (lanes) => localStack(app, lanes), "mainpc", START_POLICIES, rounds);
        if (only === undefined || only === "replace") await replacementFigures("local stack, a CPU service", harness, () => localStack(app), app, "Executor", "main_pc_code/agents/executor.py", rounds);
    } finally {
        await harness.cleanup();
    }
}
