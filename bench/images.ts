/**
 * What the images cost: each package layer against the distributions it installs, and the GPU
 * images' bytes above their CUDA root.
 */
import { execFileSync } from "child_process";
import { EngineHarness } from "../test/engine/harness";
import { median } from "./stats";

export const MB = 1024 * 1024;

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

/** Bytes of the layers above `parent` whose instruction runs pip. */
export function pipLayerBytes(harness: EngineHarness, image: string, parent: string): Promise<number> {
    return bytesAbove(harness, image, parent, "/opt/venv/bin/pip install");
}

/** Figure 5: what each package layer adds against what it installs, and what is stored twice. */
export async function layerFigures(harness: EngineHarness, chain: { name: string; image: string; parent: string }[]): Promise<void> {
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


/**
 * Bytes of the layers of `image` above those it shares with `root` (the history entries beyond
 * the root's; the engine lists them newest first), only those whose instruction contains
 * `createdBy` when given.
 */
export async function bytesAbove(harness: EngineHarness, image: string, root: string, createdBy?: string): Promise<number> {
    const own = (await harness.docker.getImage(image).history()) as { Size: number; CreatedBy: string }[];
    const inherited = ((await harness.docker.getImage(root).history()) as unknown[]).length;
    return own.slice(0, own.length - inherited).filter((h) => createdBy === undefined || h.CreatedBy.includes(createdBy)).reduce((a, h) => a + h.Size, 0);
}

/** Bytes of every layer of `image` (the engine's history sizes; the containerd store's image Size counts otherwise). */
export async function layerBytes(harness: EngineHarness, image: string): Promise<number> {
    return ((await harness.docker.getImage(image).history()) as { Size: number }[]).reduce((a, h) => a + h.Size, 0);
}

/**
 * The GPU images' bytes above their CUDA root. The seed's goal (a GPU image of about 3 GB)
 * is not measurable here, and the note printed says why.
 */
export async function gpuSizeFigures(harness: EngineHarness, root: { name: string; image: string }, images: { name: string; image: string }[]): Promise<void> {
    console.log(`\nGPU images (${images.length}), MB above their CUDA root ${root.name} (${(await layerBytes(harness, root.image) / MB).toFixed(1)} MB in all its layers)`);
    const above: number[] = [];
    for (const i of images) {
        const b = (await bytesAbove(harness, i.image, root.image)) / MB;
        above.push(b);
        console.log(`  ${i.name.padEnd(30)} ${b.toFixed(2).padStart(8)}`);
    }
    console.log(`  median ${median(above).toFixed(2)} MB, max ${Math.max(...above).toFixed(2)} MB above the root`);
    console.log("  The seed's goal of about 3 GB per GPU image cannot be measured with these packages: the stand-in wheels carry");
    console.log("  the real names, versions, dependency edges and library paths with payloads of a few bytes, where the real");
    console.log("  torch 2.2.2+cu121 wheel and the nvidia-* wheels it requires are gigabytes. What these figures show is what the program's layering adds");
    console.log("  above the CUDA root (Dockerfile steps, venv, app files): the part of a GPU image the program decides.");
}
