/** Program evaluation time under mocks: the real fleet against ten times its services. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { runbookStack, runProgram } from "../test/mocks";

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

export async function evaluation(): Promise<void> {
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
