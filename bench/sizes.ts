/**
 * The CPU images against the blueprint's size goal (002 §C: "-40 % median (CPU ≈100 MB, GPU ≈3 GB)";
 * 002 §B: multi-stage "typical reduction 55-70 % vs single-stage images").
 *
 * For each CPU service of the local stack: the program's image, and the same service built the
 * common single-stage way, side by side, both FROM the same root (the stand-in of
 * python:3.11-slim-bookworm that scripts/make-base-images.sh makes with debootstrap, real Debian
 * and real CPython) and with the same distributions at the same versions from the same index
 * (the program's image's own `pip list`). What the single stage keeps that the program's
 * families leave in their builder stage or never install: build-essential (a single stage needs
 * it to build any sdist), apt's lists, pip's cache, and the whole application repository where
 * the program copies the service's own inputs.
 *
 * Sizes are the engine's layer history sizes (the containerd image store's image Size is not a
 * figure here: bench/local.ts). Above the root is what either way adds, and the real part of
 * both: the Debian packages and CPython are real, the Python distributions are the stand-in
 * wheels (real names, versions and dependency edges, payloads of a few bytes), so the package
 * layers of a real build are larger on both sides by the same bytes.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineHarness } from "../test/engine/harness";
import { bytesAbove, layerBytes, MB } from "./images";
import { median } from "./stats";

/** The common single-stage Dockerfile: one stage, build tools kept, pip's cache and apt's lists kept, the whole repository copied. */
export function singleStageDockerfile(root: string, index: string): string {
    return [
        `FROM ${root}`,
        "ENV DEBIAN_FRONTEND=noninteractive",
        "RUN apt-get update && apt-get install -y build-essential ca-certificates tini tzdata",
        "RUN python3 -m venv /opt/venv",
        "COPY requirements.txt /tmp/requirements.txt",
        `RUN /opt/venv/bin/pip install --index-url ${index} -r /tmp/requirements.txt`,
        "COPY app/ /app/",
        "USER 10001",
        'ENTRYPOINT ["/usr/bin/tini", "--"]',
        "",
    ].join("\n");
}

/** One service's figures, bytes. */
export interface SizeRow { service: string; image: number; imageAboveRoot: number; single: number; singleAboveRoot: number; singleAptLayer: number }

/** The median of the program's images over the single-stage ones, in all layers and above the root. */
export function sizeRatios(rows: SizeRow[]): { image: number; aboveRoot: number } {
    return {
        image: median(rows.map((r) => r.image / r.single)),
        aboveRoot: median(rows.map((r) => r.imageAboveRoot / r.singleAboveRoot)),
    };
}

/**
 * The distributions of an image's venv as `name==version` lines, pip's own tools left out (the
 * venv brings them on both sides). Not `pip freeze`: it writes a distribution installed from the
 * service's wheelhouse as `name @ file:///wheelhouse/...`, a file the single stage does not have.
 */
export function requirementsOf(pipList: string): string {
    return pipList.split("\n").filter((l) => l && !/^(pip|setuptools|wheel)==/.test(l)).map((l) => `${l}\n`).join("");
}

function freeze(image: string): string {
    return requirementsOf(execFileSync("docker", ["run", "--rm", "--entrypoint", "/opt/venv/bin/pip", image, "list", "--format", "freeze"], { encoding: "utf8" }));
}

/** Builds `service` the single-stage way and returns its tag. */
function buildSingleStage(service: string, image: string, app: string, root: string, index: string): string {
    const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-single-"));
    try {
        fs.writeFileSync(path.join(ctx, "requirements.txt"), freeze(image));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), singleStageDockerfile(root, index));
        fs.cpSync(app, path.join(ctx, "app"), { recursive: true });
        const tag = `fleet-bench-single/${service.toLowerCase()}:latest`;
        execFileSync("docker", ["buildx", "build", "--network", "host", "--load", "--quiet", "-t", tag, ctx], { stdio: ["ignore", "ignore", "pipe"] });
        return tag;
    } finally {
        fs.rmSync(ctx, { recursive: true, force: true });
    }
}

/** Prints the CPU images' sizes beside their single-stage builds, per service and as medians. */
export async function sizeFigures(harness: EngineHarness, services: Record<string, { image: string }>, app: string, root: string, index: string): Promise<void> {
    const rows: SizeRow[] = [];
    const tags: string[] = [];
    try {
        for (const [service, s] of Object.entries(services).sort(([a], [b]) => a.localeCompare(b))) {
            const single = buildSingleStage(service, s.image, app, root, index);
            tags.push(single);
            rows.push({
                service,
                image: await layerBytes(harness, s.image),
                imageAboveRoot: await bytesAbove(harness, s.image, root),
                single: await layerBytes(harness, single),
                singleAboveRoot: await bytesAbove(harness, single, root),
                // Its apt layer: build-essential and the packages a service runs with, apt's lists kept.
                singleAptLayer: await bytesAbove(harness, single, root, "apt-get install"),
            });
        }
    } finally {
        if (tags.length) execFileSync("docker", ["image", "rm", ...tags], { stdio: "ignore" });
    }
    const mb = (b: number) => (b / MB).toFixed(1).padStart(7);
    console.log(`\nCPU images (${rows.length}), MB: the program's, then the same service single-stage; in all layers, and above the root ${root} (${mb(await layerBytes(harness, root)).trim()} MB)`);
    console.log(`  ${"service".padEnd(30)} ${"image".padStart(7)} ${"above".padStart(7)}  ${"single".padStart(7)} ${"above".padStart(7)}`);
    for (const r of rows) console.log(`  ${r.service.padEnd(30)} ${mb(r.image)} ${mb(r.imageAboveRoot)}  ${mb(r.single)} ${mb(r.singleAboveRoot)}`);
    const ratio = sizeRatios(rows);
    console.log(`  median: the program's ${mb(median(rows.map((r) => r.image))).trim()} MB (${mb(median(rows.map((r) => r.imageAboveRoot))).trim()} above the root), single-stage ${mb(median(rows.map((r) => r.single))).trim()} MB (${mb(median(rows.map((r) => r.singleAboveRoot))).trim()} above the root)`);
    console.log(`  of the single stage's bytes above the root, its apt layer (build-essential, apt's lists) is ${mb(median(rows.map((r) => r.singleAptLayer))).trim()} MB median: without it the ratio above the root would be ${median(rows.map((r) => r.imageAboveRoot / (r.singleAboveRoot - r.singleAptLayer))).toFixed(2)}`);
    console.log(`  median ratio, program / single-stage: ${ratio.image.toFixed(2)} in all layers, ${ratio.aboveRoot.toFixed(2)} above the root (goal <= 0.60, "-40 % median"; CPU image about 100 MB)`);
    console.log("  The Python distributions on both sides are the stand-in wheels of a few bytes each: with the real wheels both sides");
    console.log("  grow by the same bytes, and the ratios move towards 1; the Debian packages, CPython and the app files are real.");
}
