/**
 * Benchmark: prints figures and ratios, asserts nothing. Needs the Docker engine and base image
 * of the engine tests (scripts/engine-up.sh). `npm run bench` (add `-- --skip-engine` for the
 * evaluation figures alone, `-- --registry-cache-only` for item 5 alone).
 *
 * 1. per image of MainPC's CPU services: size, and overhead above the physical minimum (the
 *    base image + what is installed in /opt/venv and /opt/layers + the app files), in MB;
 * 2. a cold build of the host's images (empty BuildKit cache) vs a warm rebuild after a
 *    one-file change: seconds and ratio;
 * 3. create-to-healthy time per container: median and max;
 * 4. program evaluation under mocks: the real fleet vs a synthetic fleet ten times larger;
 * 5. the registry cache (push-shaped mainpc, test/engine/push-overrides.yaml, a fresh namespace of
 *    the registry of scripts/engine-up.sh): a cold build (empty builder cache, empty registry
 *    cache) vs a rebuild on an emptied builder cache that imports the registry cache: build steps
 *    served from the cache (hit ratio) and seconds.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { EngineHarness } from "../test/engine/harness";
import { runProgram, stackFileConfig } from "../test/mocks";

const ROOT = path.resolve(__dirname, "..");
const FIXTURE = path.join(ROOT, "test", "fixtures", "app");
const MB = 1024 * 1024;

function engineConfig(appRepo: string): Record<string, string> {
    const base = parse(fs.readFileSync(path.join(ROOT, "test", "engine", "stack.yaml"), "utf8")) as Record<string, unknown>;
    return Object.fromEntries(Object.entries({ ...base, "fleet:machine": "mainpc", "fleet:appRepo": appRepo }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Bytes of the regular files under the installed and application paths (directories and links excluded). */
function installedBytes(image: string): number {
    const script = "find /opt/venv /opt/layers /app -type f -printf '%s\\n' 2>/dev/null | awk '{s+=$1} END {print s+0}'";
    return Number(execFileSync("docker", ["run", "--rm", "--entrypoint", "/bin/sh", image, "-c", script], { encoding: "utf8" }).trim());
}

async function engine(): Promise<void> {
    const harness = new EngineHarness();
    await harness.purgeLeftovers();
    execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-"));
    fs.cpSync(FIXTURE, app, { recursive: true });
    try {
        const cold = await harness.run("mainpc", engineConfig(app));
        const coldSeconds = (harness.buildWindow.end - harness.buildWindow.start) / 1000;
        const healthy = Object.values(harness.healthySeconds);
        const services = cold.outputs.services as Record<string, { image: string }>;
        const base = (await harness.docker.getImage(parse(fs.readFileSync(path.join(ROOT, "test", "engine", "stack.yaml"), "utf8"))["fleet:upstreamImage"]).inspect()).Size;
        console.log("\nimage sizes (MainPC CPU services), MB: size, physical minimum (base + venv + layers + app), overhead");
        const overheads: number[] = [];
        for (const [name, s] of Object.entries(services).sort(([a], [b]) => (a < b ? -1 : 1))) {
            const size = (await harness.docker.getImage(s.image).inspect()).Size;
            const minimum = base + installedBytes(s.image);
            overheads.push((size - minimum) / MB);
            console.log(`  ${name.padEnd(28)} ${(size / MB).toFixed(1).padStart(7)} ${(minimum / MB).toFixed(1).padStart(7)} ${((size - minimum) / MB).toFixed(2).padStart(7)}`);
        }
        console.log(`  overhead: median ${median(overheads).toFixed(2)} MB, max ${Math.max(...overheads).toFixed(2)} MB`);

        fs.appendFileSync(path.join(app, "main_pc_code/agents/executor.py"), "# bench: one-file change\n");
        await harness.run("mainpc", engineConfig(app));
        const warmSeconds = (harness.buildWindow.end - harness.buildWindow.start) / 1000;
        console.log(`\nbuild of MainPC's ${Object.keys(services).length + 6} images: cold ${coldSeconds.toFixed(1)} s, warm rebuild after a one-file change ${warmSeconds.toFixed(1)} s, ratio ${(coldSeconds / warmSeconds).toFixed(1)}x`);
        console.log(`create to healthy (${healthy.length} containers): median ${median(healthy).toFixed(1)} s, max ${Math.max(...healthy).toFixed(1)} s`);
    } finally {
        await harness.cleanup();
    }
}

/** Build steps (`#N [stage i/n] ...`) of buildx's plain progress output, and how many were CACHED. */
export function cacheHits(log: string): { steps: number; cached: number } {
    const steps = new Set<string>();
    const cached = new Set<string>();
    for (const line of log.split("\n")) {
        const m = /^#(\d+) (\[[^\]]*\d+\/\d+\]|CACHED)/.exec(line);
        if (!m) continue;
        if (m[2] === "CACHED") cached.add(m[1]);
        else steps.add(m[1]);
    }
    return { steps: steps.size, cached: [...cached].filter((v) => steps.has(v)).length };
}

async function registryCache(): Promise<void> {
    const read = (f: string) => parse(fs.readFileSync(path.join(ROOT, f), "utf8")) as Record<string, unknown>;
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-cache-"));
    fs.cpSync(FIXTURE, app, { recursive: true });
    const config = Object.fromEntries(Object.entries({
        ...(read("Pulumi.mainpc.yaml").config as Record<string, unknown>), ...read("test/engine/push-overrides.yaml"),
        "fleet:appRepo": app, "fleet:org": `fleet-bench-${Date.now()}`,
    }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    const pass = async (label: string) => {
        execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
        const harness = new EngineHarness();
        await harness.purgeLeftovers();
        try {
            await harness.run("mainpc", config);
            const seconds = (harness.buildWindow.end - harness.buildWindow.start) / 1000;
            const hits = Object.values(harness.buildLogs).map(cacheHits).reduce((a, b) => ({ steps: a.steps + b.steps, cached: a.cached + b.cached }), { steps: 0, cached: 0 });
            console.log(`  ${label}: ${Object.keys(harness.buildLogs).length} images in ${seconds.toFixed(1)} s, ${hits.cached}/${hits.steps} steps from cache (${((100 * hits.cached) / Math.max(hits.steps, 1)).toFixed(0)}%)`);
            return seconds;
        } finally {
            await harness.cleanup();
        }
    };
    console.log("\nregistry cache (push-shaped mainpc, empty builder cache each time)");
    const cold = await pass("cold, empty registry cache");
    const warm = await pass("rebuild from the registry cache");
    console.log(`  ratio: ${(cold / warm).toFixed(1)}x faster with the registry cache`);
}

/** The real fleet with every service copied nine more times, ports moved out of the way. */
function syntheticFleet(factor: number): string {
    const src = path.join(ROOT, "fleet", "data");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-synthetic-"));
    for (const f of ["hosts.yaml", "families.yaml"]) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    const doc = parse(fs.readFileSync(path.join(src, "services.yaml"), "utf8")) as { services: Record<string, Record<string, unknown>> };
    const out: Record<string, unknown> = {};
    for (const [name, svc] of Object.entries(doc.services)) {
        out[name] = svc;
        for (let k = 1; k < factor; k++) {
            const ports = svc.ports as { service: number; health: number; metrics?: number[] };
            const shift = 4000 * k;
            // Copies never reach the Docker API: only the supervisor itself may.
            const traits = ((svc.traits as string[] | undefined) ?? []).filter((t) => t !== "docker");
            out[`${name}X${k}`] = {
                ...svc,
                traits,
                ports: { service: ports.service + shift, health: ports.health + shift, metrics: (ports.metrics ?? []).map((p) => p + shift) },
                requirements: `requirements/${name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2").toLowerCase()}.txt`,
            };
        }
    }
    fs.writeFileSync(path.join(dir, "services.yaml"), stringify({ services: out }));
    return dir;
}

async function evaluation(): Promise<void> {
    const time = async (label: string, dataDir?: string): Promise<number> => {
        if (dataDir) process.env.FLEET_DATA_DIR = dataDir;
        else delete process.env.FLEET_DATA_DIR;
        for (const k of Object.keys(require.cache)) if (k.includes(`${path.sep}fleet${path.sep}model${path.sep}`)) delete require.cache[k];
        const started = process.hrtime.bigint();
        const r = await runProgram("mainpc", stackFileConfig("mainpc", { "fleet:appRepo": FIXTURE }));
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        console.log(`  ${label}: ${r.resources.length} resources in ${seconds.toFixed(2)} s`);
        return seconds;
    };
    console.log("\nprogram evaluation under mocks (mainpc stack)");
    await time("warm-up");
    const real = await time("real fleet");
    const big = await time("synthetic fleet, 10x services", syntheticFleet(10));
    console.log(`  ratio: ${(big / real).toFixed(1)}x time for 10x services`);
}

async function main(): Promise<void> {
    console.log(`fleet benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0].model}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`);
    if (process.argv.includes("--registry-cache-only")) return registryCache();
    if (!process.argv.includes("--skip-engine")) {
        await engine();
        await registryCache();
    }
    await evaluation();
}

// Only when run as the benchmark: importing this file (cacheHits) must not start it.
if (require.main === module) {
    main().catch((e) => {
        console.error(e);
        process.exitCode = 1;
    });
}
