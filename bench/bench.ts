/**
 * Benchmark: prints figures and ratios, asserts nothing. Needs the Docker engine, registry and
 * package index of the engine tests (scripts/engine-up.sh, registry.sh, package-index.sh).
 * `npm run bench` runs everything; `-- --skip-engine` only the evaluation under mocks;
 * `-- --registry-cache-only` only the registry-cache passes; `-- --health-only` only the
 * create-to-healthy and fleet figures (4 and 5 below) from already built images.
 *
 * 1. per image of MainPC's CPU services: size, and overhead above the physical minimum (the
 *    base image + what is installed in /opt/venv + the app files), in MB;
 * 2. per package layer: the bytes it adds against the distributions it installs, and the bytes
 *    of distributions stored in more than one layer;
 * 3. a cold build of the host's images (empty BuildKit cache) vs a warm rebuild after a
 *    one-file change: seconds and ratio;
 * 4. create to healthy per tier, the program's deploy beside `docker compose up --wait` of the
 *    same containers, both from built images;
 * 5. MainPC's CPU fleet from no container to all healthy: program vs compose;
 * 6. a rebuild from the registry cache on an empty builder cache, against a cold build;
 * 7. program evaluation time under mocks, real fleet vs ten times the services.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { loadFleet } from "../fleet/model/load";
import { cacheHits, EngineHarness } from "../test/engine/harness";
import { MergedStack } from "../fleet/pulumi/config";
import { pidsLimits, writeCompose } from "./compose";
import { appRepoOverride, orgOverride, runbookStack, runProgram, stackConfig } from "../test/mocks";

const ROOT = path.resolve(__dirname, "..");
const FIXTURE = path.join(ROOT, "test", "fixtures", "app");
const MB = 1024 * 1024;

/** The engine suite's run of MainPC's services: the local stack with its overrides. */
function engineConfig(appRepo: string): MergedStack {
    return stackConfig("local", "test/engine/local-overrides.yaml", appRepoOverride(appRepo));
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Bytes of the regular files under the installed and application paths (directories and links excluded). */
function installedBytes(image: string): number {
    const script = "find /opt/venv /app -type f -printf '%s\\n' 2>/dev/null | awk '{s+=$1} END {print s+0}'";
    return Number(execFileSync("docker", ["run", "--rm", "--entrypoint", "/bin/sh", image, "-c", script], { encoding: "utf8" }).trim());
}

/**
 * Seconds from each container's creation, and from its start, to its first passing health check,
 * as the engine recorded them (State.Health.Log keeps the last five checks: read right after
 * start-up). Compose creates every container up front and starts each when its dependencies are
 * healthy, so only the start figure compares with the program's, which creates a container
 * when it starts it.
 */
async function engineHealthy(harness: EngineHarness, filters: Record<string, string[]>): Promise<HealthRow[]> {
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

interface HealthRow { name: string; tier: string; seconds: number; fromStart: number }

function tierLines(rows: HealthRow[]): string[] {
    const tiers = [...new Set(rows.map((r) => r.tier))].sort();
    return [...tiers, "all"].map((t) => {
        const mine = rows.filter((r) => t === "all" || r.tier === t);
        const xs = mine.map((r) => r.seconds);
        const ys = mine.map((r) => r.fromStart);
        return `    ${t.padEnd(6)} n=${String(xs.length).padStart(2)}  from create: median ${median(xs).toFixed(1)} s, max ${Math.max(...xs).toFixed(1)} s; from start: median ${median(ys).toFixed(1)} s, max ${Math.max(...ys).toFixed(1)} s`;
    });
}

/** `docker compose up --wait` of the harness's registered containers; the harness's own containers are removed first. */
async function composeRun(harness: EngineHarness): Promise<{ seconds: number; rows: HealthRow[] }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-compose-"));
    const file = writeCompose(harness.containerInputs(), harness.networkInputs(), dir, pidsLimits(harness.commandInputs()));
    await harness.purgeLeftovers();
    const compose = (...args: string[]) => execFileSync("/usr/bin/docker", ["compose", "-p", "fleet-bench", "-f", file, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    const started = Date.now();
    try {
        compose("up", "-d", "--wait", "--wait-timeout", "600");
        const seconds = (Date.now() - started) / 1000;
        const rows = await engineHealthy(harness, { label: ["com.docker.compose.project=fleet-bench"] });
        return { seconds, rows };
    } finally {
        compose("down", "--volumes", "--timeout", "10");
    }
}

/** name==version -> bytes of the files its RECORD lists, for every distribution of the venv. */
function distributionBytes(image: string): Record<string, number> {
    const script = [
        "import importlib.metadata as md, json, os",
        "out = {}",
        "for d in md.distributions():",
        "    n = 0",
        "    for f in d.files or []:",
        "        p = d.locate_file(f)",
        "        n += os.path.getsize(p) if os.path.isfile(p) else 0",
        "    out[d.metadata['Name'].lower() + '==' + d.version] = n",
        "print(json.dumps(out))",
    ].join("\n");
    return JSON.parse(execFileSync("docker", ["run", "--rm", "--entrypoint", "/opt/venv/bin/python", image, "-c", script], { encoding: "utf8" }));
}

/** Bytes of the layers whose instruction runs pip, newest first as the engine lists history. */
async function pipLayerBytes(harness: EngineHarness, image: string, parent: string): Promise<number> {
    const own = (await harness.docker.getImage(image).history()) as { Size: number; CreatedBy: string }[];
    const inherited = ((await harness.docker.getImage(parent).history()) as unknown[]).length;
    return own.slice(0, own.length - inherited).filter((h) => h.CreatedBy.includes("/opt/venv/bin/pip install")).reduce((a, h) => a + h.Size, 0);
}

/** Figure 5: what each package layer adds against what it installs, and what is stored twice. */
async function layerFigures(harness: EngineHarness, chain: { name: string; image: string; parent: string }[]): Promise<void> {
    console.log("\npackage layers, MB: layer bytes, new distributions (bytes), overhead, distributions already in a lower layer");
    const overheads: number[] = [];
    let twice = 0;
    for (const c of chain) {
        const mine = distributionBytes(c.image);
        const below = distributionBytes(c.parent);
        const belowNames = new Set(Object.keys(below).map((k) => k.split("==")[0]));
        const added = Object.keys(mine).filter((k) => !(k in below));
        const addedBytes = added.reduce((a, k) => a + mine[k], 0);
        // A distribution whose name the parent holds at another version is stored again here.
        const again = added.filter((k) => belowNames.has(k.split("==")[0])).reduce((a, k) => a + mine[k], 0);
        const layer = await pipLayerBytes(harness, c.image, c.parent);
        if (layer === 0 && added.length === 0) continue;
        overheads.push((layer - addedBytes) / MB);
        twice += again;
        console.log(`  ${c.name.padEnd(28)} ${(layer / MB).toFixed(2).padStart(7)} ${(addedBytes / MB).toFixed(2).padStart(7)} (${added.length}) ${((layer - addedBytes) / MB).toFixed(2).padStart(6)} ${(again / MB).toFixed(2).padStart(6)}`);
    }
    console.log(`  overhead per layer: max ${Math.max(...overheads).toFixed(2)} MB (goal <= 2); bytes of distributions in more than one layer: ${twice} (goal 0)`);
}

async function engine(): Promise<void> {
    const harness = new EngineHarness();
    await harness.purgeLeftovers();
    execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-"));
    fs.cpSync(FIXTURE, app, { recursive: true });
    try {
        const config = engineConfig(app);
        const cold = await harness.run(config);
        const coldSeconds = (harness.buildWindow.end - harness.buildWindow.start) / 1000;
        const services = cold.outputs.services as Record<string, { image: string }>;
        const base = (await harness.docker.getImage(config.config["fleet:upstreamImage"]).inspect()).Size;
        console.log("\nimage sizes (MainPC CPU services), MB: size, physical minimum (base + venv + app), overhead");
        const overheads: number[] = [];
        for (const [name, s] of Object.entries(services).sort(([a], [b]) => (a < b ? -1 : 1))) {
            const size = (await harness.docker.getImage(s.image).inspect()).Size;
            const minimum = base + installedBytes(s.image);
            overheads.push((size - minimum) / MB);
            console.log(`  ${name.padEnd(28)} ${(size / MB).toFixed(1).padStart(7)} ${(minimum / MB).toFixed(1).padStart(7)} ${((size - minimum) / MB).toFixed(2).padStart(7)}`);
        }
        console.log(`  overhead: median ${median(overheads).toFixed(2)} MB, max ${Math.max(...overheads).toFixed(2)} MB`);
        const familyImages = Object.fromEntries(cold.resources.filter((r) => r.type === "docker-build:index:Image").map((r) => [r.name, r.inputs.tags[0] as string]));
        const d = loadFleet();
        const chain = [
            ...Object.keys(familyImages).filter((f) => d.families[f]?.parent && familyImages[d.families[f].parent!]).map((f) => ({ name: f, image: familyImages[f], parent: familyImages[d.families[f].parent!] })),
            ...Object.entries(services).map(([n, s]) => ({ name: n, image: s.image, parent: familyImages[d.services[n].family] })),
        ];
        await layerFigures(harness, chain);

        fs.appendFileSync(path.join(app, "main_pc_code/agents/executor.py"), "# bench: one-file change\n");
        await harness.run(engineConfig(app));
        const warmSeconds = (harness.buildWindow.end - harness.buildWindow.start) / 1000;
        console.log(`\nbuild of MainPC's ${Object.keys(services).length + 6} images: cold ${coldSeconds.toFixed(1)} s, warm rebuild after a one-file change ${warmSeconds.toFixed(1)} s, ratio ${(coldSeconds / warmSeconds).toFixed(1)}x`);
        await healthFigures(harness, engineConfig(app));
    } finally {
        await harness.cleanup();
    }
}

/**
 * Figures 4 and 5, like for like: the program deploys MainPC's CPU fleet again after its
 * containers were removed (its images unchanged, so nothing is built), then compose brings up
 * the same containers from the same images. Both clocks start at the first container create.
 */
async function healthFigures(harness: EngineHarness, config: MergedStack): Promise<void> {
    await harness.forgetContainers();
    await harness.run(config);
    const fleetSeconds = (harness.containerWindow.end - harness.containerWindow.start) / 1000;
    const healthy = Object.values(harness.healthySeconds);
    const engineRows = await engineHealthy(harness, { label: ["fleet.machine=mainpc"] });
    const composed = await composeRun(harness);
    console.log(`\ncreate to healthy (${healthy.length} containers), as the deploy sees it (1 s polling): median ${median(healthy).toFixed(1)} s, max ${Math.max(...healthy).toFixed(1)} s`);
    console.log("create to first passing health check, per tier (engine's own timestamps), from built images:");
    console.log("  fleet program (harness):");
    tierLines(engineRows).forEach((l) => console.log(l));
    console.log("  docker compose up --wait (same containers):");
    tierLines(composed.rows).forEach((l) => console.log(l));
    console.log(`\nMainPC's CPU fleet, first container create to all healthy (${engineRows.length} containers): program ${fleetSeconds.toFixed(1)} s, compose ${composed.seconds.toFixed(1)} s, ratio program/compose ${(fleetSeconds / composed.seconds).toFixed(2)}`);
}

/** `--health-only`: figures 4 and 5 after a deploy that builds what the builder cache lacks. */
async function healthOnly(): Promise<void> {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-"));
    fs.cpSync(FIXTURE, app, { recursive: true });
    const harness = new EngineHarness();
    try {
        await harness.purgeLeftovers();
        await harness.run(engineConfig(app));
        await healthFigures(harness, engineConfig(app));
    } finally {
        await harness.cleanup();
    }
}

async function registryCache(): Promise<void> {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-cache-"));
    fs.cpSync(FIXTURE, app, { recursive: true });
    // A fresh namespace: the first pass finds no registry cache, the second only the first's.
    const config = stackConfig("mainpc", "test/engine/push-overrides.yaml", appRepoOverride(app), orgOverride(`fleet-bench-${Date.now()}`));
    const pass = async (label: string) => {
        execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
        const harness = new EngineHarness();
        await harness.purgeLeftovers();
        try {
            await harness.run(config);
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
        const r = await runProgram(runbookStack("mainpc"));
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
    if (process.argv.includes("--health-only")) return healthOnly();
    if (!process.argv.includes("--skip-engine")) {
        await engine();
        await registryCache();
    }
    if (!process.argv.includes("--skip-evaluation")) await evaluation();
}

// Only when run as the benchmark: importing this file must not start it.
if (require.main === module) {
    main().catch((e) => {
        console.error(e);
        process.exitCode = 1;
    });
}
