/**
 * The push-shaped mainpc stack with its GPU services (test/engine/push-overrides.yaml: the
 * loopback registry, the stand-in NVIDIA hook, fleet:gpuFallback), in a fresh registry
 * namespace: a cold build, the GPU images above their CUDA root, the GPU chains' builds cold and
 * warm, the host's convergence, and a rebuild from the registry cache on an empty builder cache.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lineage } from "../fleet/model/lineage";
import { loadFleet } from "../fleet/model/load";
import { containerName } from "../fleet/model/names";
import { MergedStack } from "../fleet/pulumi/config";
import { cacheHits, EngineHarness } from "../test/engine/harness";
import { FIXTURE_APP } from "../test/helpers";
import { appRepoOverride, orgOverride, stackConfig, startLanesOverride } from "../test/mocks";
import { convergence, Part, START_POLICIES } from "./converge";
import { replacementFigures } from "./replace";
import { gpuSizeFigures } from "./images";

const IMAGE = "docker-build:index:Image";
/** A GPU service's source, for the one-file change (test/fixtures/app). */
const GPU_SOURCE = { service: "ModelOpsCoordinator", file: "model_ops_coordinator/app.py" };

/** Resource names of the images of the GPU chains: families below a CUDA family, and the GPU services. */
function gpuChain(machine: string): { root: string; images: string[] } {
    const d = loadFleet();
    const cuda = (f: string) => lineage(d, f).some((x) => d.families[x].cuda !== undefined);
    const families = Object.keys(d.families).filter(cuda);
    const root = families.find((f) => !d.families[f].parent)!;
    const services = Object.entries(d.services).filter(([, s]) => s.hosts.includes(machine) && cuda(s.family)).map(([n]) => containerName(n));
    return { root, images: [...families, ...services] };
}

function window(h: EngineHarness, names: string[]): number {
    const t = names.map((n) => h.buildTimes[n]).filter((x) => x !== undefined);
    return (Math.max(...t.map((x) => x.end)) - Math.min(...t.map((x) => x.start))) / 1000;
}

function hitsLine(h: EngineHarness, names?: string[]): string {
    const logs = Object.entries(h.buildLogs).filter(([n]) => !names || names.includes(n)).map(([, l]) => cacheHits(l));
    const sum = logs.reduce((a, b) => ({ steps: a.steps + b.steps, cached: a.cached + b.cached }), { steps: 0, cached: 0 });
    return `${logs.length} images, ${sum.cached}/${sum.steps} steps from cache`;
}

async function gpuFigures(h: EngineHarness, stack: () => MergedStack, app: string): Promise<void> {
    const built = h.outputsOf(IMAGE);
    // Only what the stack builds: a gated GPU service (StreamingSpeechRecognition) has no image.
    const all = gpuChain("mainpc");
    const chain = { root: all.root, images: all.images.filter((n) => built[n] !== undefined) };
    const tag = (n: string) => built[n].tags[0] as string;
    const cold = window(h, chain.images);
    console.log(`\nmainpc cold build (empty builder cache, empty registry cache): ${((h.buildWindow.end - h.buildWindow.start) / 1000).toFixed(1)} s, ${hitsLine(h)}; GPU chains (${chain.images.length} images) ${cold.toFixed(1)} s`);
    await gpuSizeFigures(h, { name: chain.root, image: tag(chain.root) }, chain.images.filter((n) => n !== chain.root).map((n) => ({ name: n, image: tag(n) })));
    await h.run(stack(), { replace: (type, name) => type === IMAGE && chain.images.includes(name) });
    const warm = window(h, chain.images);
    console.log(`\nGPU chains built again, builder cache warm: ${warm.toFixed(1)} s (${hitsLine(h, chain.images)}), ratio cold/warm ${(cold / warm).toFixed(1)}x`);
    const file = path.join(app, GPU_SOURCE.file);
    const original = fs.readFileSync(file);
    fs.appendFileSync(file, "# bench: one-file change\n");
    await h.run(stack());
    const one = (h.buildWindow.end - h.buildWindow.start) / 1000;
    console.log(`one-file change to ${GPU_SOURCE.service}: ${Object.keys(h.buildSeconds).join(", ")} rebuilt in ${one.toFixed(1)} s, ratio cold/warm ${(cold / one).toFixed(1)}x`);
    fs.writeFileSync(file, original);
    await h.run(stack());
}

/** The second pass: the builder cache emptied, the same images built from the first pass's registry cache. */
async function registryCacheFigure(stack: () => MergedStack, coldSeconds: number): Promise<void> {
    execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
    const h = new EngineHarness();
    await h.purgeLeftovers();
    try {
        await h.run(stack());
        const seconds = (h.buildWindow.end - h.buildWindow.start) / 1000;
        console.log(`\nrebuild on an empty builder cache from the registry cache: ${seconds.toFixed(1)} s, ${hitsLine(h)}; ratio to the cold build ${(coldSeconds / seconds).toFixed(1)}x`);
    } finally {
        await h.cleanup();
    }
}

export async function mainpcFigures(rounds: number, only?: Part): Promise<void> {
    // The size figures are the CPU images' (the local stack's); the GPU images' are the cold build's (gpuFigures).
    if (only === "sizes") return;
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-mainpc-"));
    fs.cpSync(FIXTURE_APP, app, { recursive: true });
    // A fresh namespace: the cold build finds no registry cache, the rebuild only the cold build's.
    const org = orgOverride(`fleet-bench-${Date.now()}`);
    const stack = (lanes?: number) => stackConfig("mainpc", "test/engine/push-overrides.yaml", appRepoOverride(app), org, ...(lanes ? [startLanesOverride(lanes)] : []));
    if (!only) execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
    const h = new EngineHarness();
    await h.purgeLeftovers();
    let coldSeconds = 0;
    try {
        await h.run(stack());
        coldSeconds = (h.buildWindow.end - h.buildWindow.start) / 1000;
        if (!only) await gpuFigures(h, () => stack(), app);
        // push-overrides.yaml's fleet:startLanes is 4; the stacks' default starts a tier all at once.
        if (only !== "replace") await convergence("mainpc stack with its GPU services (push-shaped)", h, stack, "mainpc", START_POLICIES, rounds);
        if (only !== "converge") await replacementFigures("mainpc stack, a GPU service", h, () => stack(), app, "STTService", "main_pc_code/services/stt_service.py", rounds);
    } finally {
        await h.cleanup();
    }
    if (!only) await registryCacheFigure(() => stack(), coldSeconds);
}
