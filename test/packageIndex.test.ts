/**
 * The engine tests' stand-in package index (scripts/package-index.sh): it must serve every pin of
 * families.yaml and every fixture service's requirement, with the real dependency edges, and the
 * fixture services' committed locks must be what it serves (the wheels are reproducible).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exactPins } from "../fleet/imageplan/appRepo";
import { lockTargets } from "../fleet/imageplan/lock";
import { cudaTracks, lineage } from "../fleet/model/check";
import { familyPins, familySpec, normalizeName, sitePackages, trackPins } from "../fleet/model/images";
import { CUDA_TRACKS, CudaTrack } from "../fleet/model/schema";
import { FIXTURE_APP, realFleet, STAND_IN_SPEC as SPEC, standIns } from "./helpers";

const ROOT = path.resolve(__dirname, "..");

const CPU_FAMILIES = ["base-cpu-pydeps", "family-web", "legacy-py310-cpu"];

/** The index's wheels, built once into a temporary directory (as scripts/package-index.sh builds them). */
let wheelDir: string | undefined;
function wheels(): string {
    if (!wheelDir) {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-index-"));
        execFileSync("python3", [path.join(ROOT, "scripts", "make-stand-in-wheels.py"), SPEC, out], { stdio: "ignore" });
        wheelDir = out;
    }
    return wheelDir;
}

describe("the stand-in package index", () => {
    const dists = standIns();
    const has = (name: string, version: string) => dists.some((x) => normalizeName(x.name) === normalizeName(name) && x.version === version);
    const d = realFleet();
    let built: string;
    before(() => { built = wheels(); });

    it("holds every pin of families.yaml at its version, on every CUDA track", () => {
        const missing = CUDA_TRACKS.flatMap((t) => Object.keys(d.families).flatMap((f) => familyPins(d, f, t))).filter((p) => !has(p.name, p.version)).map((p) => `${p.name}==${p.version}`);
        assert.deepStrictEqual(missing, []);
        assert.ok(familyPins(d, "family-vision-cu121", "cu118").some((p) => p.name === "nvidia-cudnn-cu11"), "the cu118 pins are among them");
    });

    it("keeps the real dependency edges named in the issue", () => {
        const req = (n: string, v: string) => dists.find((x) => x.name === n && x.version === v)!.requires.map((r) => r.split(/[<>=!;,]/)[0]);
        assert.ok(req("accelerate", "0.30.1").includes("torch"));
        assert.deepStrictEqual(req("fastapi", "0.111.0").filter((r) => ["starlette", "pydantic"].includes(r)), ["starlette", "pydantic"]);
        // Each CUDA build of torch 2.2.2 requires its CUDA major's NVIDIA wheels at exact versions, and triton.
        for (const [track, cu] of [["cu121", "cu12"], ["cu118", "cu11"]]) {
            const torch = req("torch", `2.2.2+${track}`);
            assert.deepStrictEqual(torch.filter((r) => r.startsWith("nvidia-")).map((r) => r.endsWith(`-${cu}`)), new Array(11).fill(true), track);
            assert.ok(torch.includes("triton"), track);
            assert.deepStrictEqual(req("torchvision", `0.17.2+${track}`).filter((r) => ["torch", "numpy"].includes(r)).sort(), ["numpy", "torch"]);
        }
        assert.ok(dists.find((x) => x.name === "torch" && x.version === "2.2.2+cu121")!.requires.includes('nvidia-cudnn-cu12==8.9.2.26; platform_system == "Linux" and platform_machine == "x86_64"'));
        // onnxruntime-gpu 1.19.2's Requires-Dist on Linux; cuDNN's wheel brings cuBLAS.
        assert.deepStrictEqual(req("onnxruntime-gpu", "1.19.2"), ["coloredlogs", "flatbuffers", "numpy", "packaging", "protobuf", "sympy"]);
        assert.deepStrictEqual(req("nvidia-cudnn-cu12", "9.1.0.70"), ["nvidia-cublas-cu12"]);
        assert.deepStrictEqual(req("onnxruntime-gpu", "1.18.0"), ["coloredlogs", "flatbuffers", "numpy", "packaging", "protobuf", "sympy"]);
        assert.deepStrictEqual(req("nvidia-cudnn-cu11", "8.7.0.84"), ["nvidia-cublas-cu11"]);
        // Every requirement names a distribution of the index, so pip resolves them all there.
        for (const x of dists) for (const r of req(x.name, x.version)) assert.ok(dists.some((y) => normalizeName(y.name) === normalizeName(r)), `${x.name} requires ${r}`);
    });

    it("has a console script, a namespace package split across two families, and a .pth file", () => {
        assert.ok(dists.some((x) => x.scripts?.uvicorn));
        const portions = dists.filter((x) => x.namespace?.startsWith("fleetstandin."));
        const familyOf = (n: string) => Object.keys(d.families).find((f) => d.families[f].pip.some((p) => p.startsWith(`${n}==`)) && f !== "legacy-py310-cpu");
        assert.deepStrictEqual(portions.map((x) => familyOf(x.name)), ["base-cpu-pydeps", "family-web"]);
        assert.ok(dists.some((x) => x.pth?.endsWith(".pth")));
    });

    it("serves PEP 503 pages whose links carry each wheel's sha256", () => {
        const page = fs.readFileSync(path.join(built, "simple", "typing-extensions", "index.html"), "utf8");
        const wheel = path.join(built, "files", "typing_extensions-4.12.2-py3-none-any.whl");
        const sha = createHash("sha256").update(fs.readFileSync(wheel)).digest("hex");
        assert.ok(page.includes(`<a href="../../files/typing_extensions-4.12.2-py3-none-any.whl#sha256=${sha}">typing_extensions-4.12.2-py3-none-any.whl</a>`), page);
        assert.ok(fs.readFileSync(path.join(built, "simple", "index.html"), "utf8").includes('<a href="llama-cpp-python/">llama-cpp-python</a>'));
    });

    it("every CPU fixture service's lock adds something to its family, hash-pinned to the index's wheels, and no family package", () => {
        const sha = new Map(fs.readdirSync(path.join(built, "files")).map((f) => [createHash("sha256").update(fs.readFileSync(path.join(built, "files", f))).digest("hex"), f]));
        const targets = lockTargets(d).filter((t) => CPU_FAMILIES.includes(d.services[t.service].family));
        assert.strictEqual(targets.length, 46);
        for (const t of targets) {
            const text = fs.readFileSync(path.join(FIXTURE_APP, t.output), "utf8");
            const pins = exactPins(text);
            assert.ok(pins.length > 0, `${t.service} adds nothing`);
            const family = new Set(familyPins(d, d.services[t.service].family).map((p) => normalizeName(p.name)));
            for (const p of pins) {
                assert.ok(has(p.name, p.version), `${t.service}: ${p.name}==${p.version} is not in the index`);
                assert.ok(!family.has(normalizeName(p.name)), `${t.service}: ${p.name} is its family's`);
            }
            const hashes = [...text.matchAll(/--hash=sha256:([0-9a-f]{64})/g)].map((m) => m[1]);
            assert.strictEqual(hashes.length, pins.length, t.service);
            for (const h of hashes) assert.ok(sha.has(h), `${t.service}: ${h} is no wheel of the index`);
        }
    });
});

/**
 * Libraries torch 2.2 loads from the NVIDIA wheels by folder and name pattern, when its own
 * libtorch_global_deps.so does not find them (torch/__init__.py `_load_global_deps`, `cuda_libs`,
 * searched as `<sys.path entry>/nvidia/<folder>/lib/<pattern>` by `_preload_cuda_deps`): the torch
 * families' library path, so no LD_LIBRARY_PATH of their own (fleet/model/images.ts nvidiaLibraryDirs).
 */
const TORCH_PRELOADS: Record<string, RegExp> = {
    cublas: /^libcublas\.so\..*[0-9]$/, cudnn: /^libcudnn\.so\..*[0-9]$/, cuda_nvrtc: /^libnvrtc\.so\..*[0-9]$/, cuda_runtime: /^libcudart\.so\..*[0-9]$/,
    cuda_cupti: /^libcupti\.so\..*[0-9]$/, cufft: /^libcufft\.so\..*[0-9]$/, curand: /^libcurand\.so\..*[0-9]$/, cusolver: /^libcusolver\.so\..*[0-9]$/,
    cusparse: /^libcusparse\.so\..*[0-9]$/, nccl: /^libnccl\.so\..*[0-9]$/, nvtx: /^libnvToolsExt\.so\..*[0-9]$/,
};

/** The sonames onnxruntime-gpu's CUDA provider loads from the vision family's LD_LIBRARY_PATH, per directory (sorted). */
const VISION_LIBRARIES: Record<string, string[][]> = {
    cu118: [["libcublas.so.11", "libcublasLt.so.11"], ["libcudart.so.11.0"], ["libcudnn.so.8"], ["libcufft.so.10"], ["libcurand.so.10"]],
    cu121: [["libcublas.so.12", "libcublasLt.so.12"], ["libcudart.so.12"], ["libcudnn.so.9"], ["libcufft.so.11"], ["libcurand.so.10"]],
};
VISION_LIBRARIES.cu124 = VISION_LIBRARIES.cu121;

/** pip of this machine's python3 run against the environment `venv` (pip >= 22.3: --python), from the index's wheels only. */
function pip(venv: string, ...args: string[]): string {
    return execFileSync("python3", ["-m", "pip", "--python", path.join(venv, "bin", "python"), "--disable-pip-version-check", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Distribution names installed in `site` (its .dist-info directories), normalized, in directory order. */
function installed(site: string): string[] {
    return fs.readdirSync(site).filter((f) => f.endsWith(".dist-info")).map((f) => normalizeName(f.slice(0, f.indexOf("-"))));
}

describe("the GPU families installed from the stand-in index, chain by chain and track by track", () => {
    const d = realFleet();
    // A leaf's chain holds every GPU family above it: base-gpu-cu121 -> family-torch-cu121 -> family-llm-cu121, and -> family-vision-cu121.
    const leaves = Object.keys(d.families).filter((f) => cudaTracks(d, f) && !Object.values(d.families).some((x) => x.parent === f));

    it("the chains are the torch-LLM and the vision one", () => assert.deepStrictEqual(leaves, ["family-llm-cu121", "family-vision-cu121"]));

    for (const leaf of leaves) {
        for (const track of cudaTracks(d, leaf) as CudaTrack[]) {
            describe(`${lineage(d, leaf).reverse().join(" -> ")} on ${track}`, () => {
                // One environment for the chain, as the root's /opt/venv is every family's: each family
                // installs its pins into what its parents installed (fleet/render/dockerfile.ts).
                const venv = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-gpu-chain-"));
                let site: string;
                const added: Record<string, string[]> = {};
                before(() => {
                    execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
                    site = execFileSync(path.join(venv, "bin", "python"), ["-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], { encoding: "utf8" }).trim();
                    const index = ["--no-index", "--find-links", path.join(wheels(), "files")];
                    for (const family of lineage(d, leaf).reverse()) {
                        const pins = trackPins(d, family, track);
                        if (pins.length === 0) continue;
                        // What the family's builder asks pip: the additions to its parents' environment.
                        const report = JSON.parse(pip(venv, "install", "--dry-run", "--quiet", "--report", "-", ...index, ...pins)) as { install: { metadata: { name: string } }[] };
                        added[family] = report.install.map((i) => normalizeName(i.metadata.name));
                        pip(venv, "install", "--quiet", ...index, ...pins);
                    }
                });

                it("each family adds only what its parents lack; no distribution is installed twice", () => {
                    const all = Object.values(added).flat();
                    assert.deepStrictEqual(all.filter((n, i) => all.indexOf(n) !== i), []);
                    assert.deepStrictEqual([...installed(site)].sort(), [...all].sort());
                    for (const family of Object.keys(added)) {
                        for (const p of trackPins(d, family, track)) assert.ok(fs.existsSync(path.join(site, `${p.split("==")[0].replace(/-/g, "_")}-${p.split("==")[1]}.dist-info`)), `${family}: ${p}`);
                    }
                });

                it("each family's library path resolves to the NVIDIA libraries of its CUDA major", () => {
                    const cu = track === "cu118" ? "cu11" : "cu12";
                    assert.ok(installed(site).filter((n) => n.startsWith("nvidia-")).every((n) => n.endsWith(`-${cu}`)), installed(site).join(", "));
                    if (leaf === "family-vision-cu121") {
                        const dirs = familySpec(d, leaf, track).libraryDirs;
                        const libs = dirs.map((dir) => fs.readdirSync(path.join(site, path.relative(sitePackages(familySpec(d, leaf, track).python), dir))).sort());
                        assert.deepStrictEqual(libs, VISION_LIBRARIES[track]);
                        assert.ok(!fs.existsSync(path.join(site, "nvidia", "__init__.py")), "nvidia/ is a namespace of the wheels");
                        return;
                    }
                    for (const f of lineage(d, leaf)) assert.deepStrictEqual(familySpec(d, f, track).libraryDirs, [], `${f} needs no LD_LIBRARY_PATH: torch loads its libraries`);
                    const missing = Object.entries(TORCH_PRELOADS).filter(([folder, name]) => !(fs.readdirSync(path.join(site, "nvidia", folder, "lib")).some((f) => name.test(f))));
                    assert.deepStrictEqual(missing, []);
                });

                if (leaf === "family-llm-cu121") {
                    it("torch.cuda answers as torch does without a driver: not available, no device, no name", () => {
                        const probe = "import json, torch\ntry:\n    torch.cuda.get_device_name(0)\n    name = 'a name'\nexcept RuntimeError as e:\n    name = str(e)\nprint(json.dumps([torch.__version__, torch.cuda.is_available(), torch.cuda.device_count(), name]))";
                        const out = JSON.parse(execFileSync(path.join(venv, "bin", "python"), ["-c", probe], { encoding: "utf8" }));
                        assert.deepStrictEqual(out, [`2.2.2+${track}`, false, 0, "Found no NVIDIA driver on your system. Please check that you have an NVIDIA GPU and installed a driver from http://www.nvidia.com/Download/index.aspx"]);
                    });

                    it("fleet-entrypoint in that environment: exit 70 without a visible GPU, or GPU_FALLBACK=cpu and the service starts on CPU", () => {
                        const service = path.join(venv, "service.py");
                        fs.writeFileSync(service, "print('service started')\n");
                        const entrypoint = (fallback: boolean) => spawnSync(path.join(venv, "bin", "python"), [path.join(ROOT, "fleet", "render", "assets", "fleet-entrypoint")], {
                            encoding: "utf8", env: { PATH: "/usr/bin:/bin", REQUIRED_GPU: "true", FLEET_ENTRYPOINT: service, ...(fallback ? { GPU_FALLBACK: "cpu" } : {}) },
                        });
                        const off = entrypoint(false);
                        assert.deepStrictEqual([off.status, off.stdout, off.stderr.trim()], [70, "", "fleet-entrypoint: REQUIRED_GPU=true but no GPU is visible: check the device request, the NVIDIA container runtime and the driver (>= 535 for CUDA 12.1)"]);
                        const on = entrypoint(true);
                        // The start report's log line, written by the entrypoint's child beside the service's
                        // first lines (no UnifiedObservabilityCenter given here: logged only).
                        const lines = on.stdout.trim().split("\n");
                        const report = lines.filter((l) => l.startsWith('{"fleetStartReport"'));
                        assert.deepStrictEqual([on.status, lines.filter((l) => !report.includes(l)), on.stderr.trim().split("\n")], [0, ["service started"], ["fleet-entrypoint: no GPU visible; GPU_FALLBACK=cpu, starting on CPU", "fleet-entrypoint: no UnifiedObservabilityCenter for this host: the start report is only logged"]]);
                        assert.deepStrictEqual(report.map((l) => Object.keys(JSON.parse(l).fleetStartReport)), [["gitSha", "host", "image", "imageDigest", "sbomDigest", "service", "startedAt"]]);
                    });
                }
            });
        }
    }
});
