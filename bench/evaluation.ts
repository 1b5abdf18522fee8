/** Program evaluation time under mocks: the real fleet against ten times its services. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { Registered, runbookStack, runProgram } from "../test/mocks";
import { alternated, median, spread } from "./stats";

const ROOT = path.resolve(__dirname, "..");

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

/** Dependency edges the program registers (each resource's `dependsOn` URNs), in all and the most of one resource. */
function edges(resources: Registered[]): { total: number; most: number } {
    const counts = resources.map((r) => r.opts.dependencies.length);
    return { total: counts.reduce((a, n) => a + n, 0), most: Math.max(0, ...counts) };
}

/**
 * The real fleet's mainpc stack against ten times its services, `rounds` alternated rounds
 * after a warm-up; medians and spread, and the dependency edges each registers (a resource that
 * depended on all of a host's containers made them n x n).
 */
export async function evaluation(rounds = 3): Promise<void> {
    const synthetic = syntheticFleet(10);
    const time = async (dataDir?: string): Promise<{ seconds: number; resources: number; edges: { total: number; most: number } }> => {
        if (dataDir) process.env.FLEET_DATA_DIR = dataDir;
        else delete process.env.FLEET_DATA_DIR;
        for (const k of Object.keys(require.cache)) if (k.includes(`${path.sep}fleet${path.sep}model${path.sep}`)) delete require.cache[k];
        const started = process.hrtime.bigint();
        const r = await runProgram(runbookStack("mainpc"));
        return { seconds: Number(process.hrtime.bigint() - started) / 1e9, resources: r.resources.length, edges: edges(r.resources) };
    };
    console.log(`\nprogram evaluation under mocks (mainpc stack), ${rounds} alternated rounds after a warm-up`);
    await time();
    const samples: Record<string, number[]> = { real: [], "10x": [] };
    let shape: Record<string, string> = {};
    for (const order of alternated(["real", "10x"], rounds)) {
        for (const v of order) {
            const t = await time(v === "10x" ? synthetic : undefined);
            samples[v].push(t.seconds);
            shape = { ...shape, [v]: `${t.resources} resources, ${t.edges.total} dependency edges (at most ${t.edges.most} on one resource)` };
        }
    }
    delete process.env.FLEET_DATA_DIR;
    console.log(`  real fleet: ${shape.real}; ${spread(samples.real)}`);
    console.log(`  synthetic fleet, 10x services: ${shape["10x"]}; ${spread(samples["10x"])}`);
    console.log(`  ratio: ${(median(samples["10x"]) / median(samples.real)).toFixed(1)}x time for 10x services`);
}
