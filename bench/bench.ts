/**
 * Benchmark: prints figures and ratios, asserts nothing. Needs the Docker engine (with the
 * stand-in NVIDIA hook: FLEET_NVIDIA_STANDIN=1 scripts/engine-up.sh), registry and package index
 * of the engine tests, and the stand-in nvidia-smi on PATH, as .ci/run sets them up.
 *
 * `npm run bench` runs everything; `-- --skip-engine` only the evaluation under mocks;
 * `-- --converge-only` only the host convergence (from images built first); `-- --replace-only`
 * only the replacement of one service beside compose's (./replace.ts); `-- --sizes-only` only the
 * CPU images beside their single-stage builds (./sizes.ts); `-- --rounds N`
 * the alternated rounds of each convergence and of the evaluation (default 3); `-- --only local|mainpc` one stack's
 * figures (then the evaluation).
 *
 * 1. the local stack (MainPC's CPU services, loaded): a cold build (empty BuildKit cache), each
 *    package layer against what it installs, a warm rebuild after a one-file change, the CPU
 *    images beside the same services built single-stage (./sizes.ts), and the host's
 *    convergence (./converge.ts);
 * 2. the push-shaped mainpc stack with its GPU services (./mainpc.ts): a cold build, the GPU
 *    images above their CUDA root, the GPU chains' builds cold and warm, the host's
 *    convergence, a rebuild from the registry cache;
 * 3. program evaluation under mocks, the real fleet vs ten times the services.
 */
import * as os from "os";
import { evaluation } from "./evaluation";
import { Part } from "./converge";
import { localFigures } from "./local";
import { mainpcFigures } from "./mainpc";

function option(name: string): string | undefined {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
    console.log(`fleet benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0].model}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`);
    const rounds = Number(option("--rounds") ?? 3);
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench: --rounds ${option("--rounds")}: must be a whole number of at least 1`);
    const parts = (["converge", "replace", "sizes"] as Part[]).filter((p) => process.argv.includes(`--${p}-only`));
    if (parts.length > 1) throw new Error(`bench: ${parts.map((p) => `--${p}-only`).join(" and ")}: give one of them, or none for every figure`);
    const only: Part | undefined = parts[0];
    const stack = option("--only");
    if (stack !== undefined && !["local", "mainpc"].includes(stack)) throw new Error(`bench: --only ${stack}: must be local or mainpc`);
    if (!process.argv.includes("--skip-engine")) {
        if (stack !== "mainpc") await localFigures(rounds, only);
        if (stack !== "local") await mainpcFigures(rounds, only);
    }
    if (only === undefined) await evaluation(rounds);
}

// Only when run as the benchmark: importing this file must not start it.
if (require.main === module) {
    main().catch((e) => {
        console.error(e);
        process.exitCode = 1;
    });
}
