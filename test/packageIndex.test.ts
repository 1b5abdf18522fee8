/**
 * The engine tests' stand-in package index (scripts/package-index.sh): it must serve every pin of
 * families.yaml and every fixture service's requirement, with the real dependency edges, and the
 * fixture services' committed locks must be what it serves (the wheels are reproducible).
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exactPins } from "../fleet/imageplan/appRepo";
import { lockTargets } from "../fleet/imageplan/lock";
import { familyPins, familySpec, normalizeName, sitePackages } from "../fleet/model/images";
import { CUDA_TRACKS, CudaTrack } from "../fleet/model/schema";
import { FIXTURE_APP, realFleet, STAND_IN_SPEC as SPEC, standIns } from "./helpers";

const ROOT = path.resolve(__dirname, "..");

const CPU_FAMILIES = ["base-cpu-pydeps", "family-web", "legacy-py310-cpu"];

describe("the stand-in package index", () => {
    const dists = standIns();
    const has = (name: string, version: string) => dists.some((x) => normalizeName(x.name) === normalizeName(name) && x.version === version);
    const d = realFleet();
    const built = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-index-"));
    before(() => execFileSync("python3", [path.join(ROOT, "scripts", "make-stand-in-wheels.py"), SPEC, built], { stdio: "ignore" }));

    it("holds every pin of families.yaml at its version, on every CUDA track", () => {
        const missing = CUDA_TRACKS.flatMap((t) => Object.keys(d.families).flatMap((f) => familyPins(d, f, t))).filter((p) => !has(p.name, p.version)).map((p) => `${p.name}==${p.version}`);
        assert.deepStrictEqual(missing, []);
        assert.ok(familyPins(d, "family-vision-cu121", "cu118").some((p) => p.name === "nvidia-cudnn-cu11"), "the cu118 pins are among them");
    });

    it("keeps the real dependency edges named in the issue", () => {
        const req = (n: string, v: string) => dists.find((x) => x.name === n && x.version === v)!.requires.map((r) => r.split(/[<>=!;,]/)[0]);
        assert.ok(req("accelerate", "0.30.1").includes("torch"));
        assert.deepStrictEqual(req("fastapi", "0.111.0").filter((r) => ["starlette", "pydantic"].includes(r)), ["starlette", "pydantic"]);
        assert.deepStrictEqual(req("torchvision", "0.17.2").filter((r) => ["torch", "numpy"].includes(r)).sort(), ["numpy", "torch"]);
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

    // The sonames onnxruntime's CUDA provider loads on each track, in the order of libraryDirs.
    const sonames: [CudaTrack, string[][]][] = [
        ["cu118", [["libcublas.so.11", "libcublasLt.so.11"], ["libcudart.so.11.0"], ["libcudnn.so.8"], ["libcufft.so.10"], ["libcurand.so.10"]]],
        ["cu121", [["libcublas.so.12", "libcublasLt.so.12"], ["libcudart.so.12"], ["libcudnn.so.9"], ["libcufft.so.11"], ["libcurand.so.10"]]],
        ["cu124", [["libcublas.so.12", "libcublasLt.so.12"], ["libcudart.so.12"], ["libcudnn.so.9"], ["libcufft.so.11"], ["libcurand.so.10"]]],
    ];
    for (const [track, expected] of sonames) {
        it(`pip installs the vision family's NVIDIA wheels of ${track} with the libraries in the directories its LD_LIBRARY_PATH names`, () => {
            // pip installs a purelib wheel's files under the target (here --target, in the image the
            // venv's site-packages), and pins resolve through the index's real edges (cuDNN -> cuBLAS).
            const target = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-nvidia-"));
            const spec = familySpec(d, "family-vision-cu121", track);
            const pins = spec.pip.filter((p) => p.startsWith("nvidia-"));
            assert.strictEqual(pins.length, 5);
            execFileSync("python3", ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index", "--find-links", path.join(built, "files"), "--target", target, ...pins], { stdio: "pipe" });
            const libs = spec.libraryDirs.map((dir) => {
                assert.ok(dir.startsWith(`${sitePackages(spec.python)}/`), dir);
                return fs.readdirSync(path.join(target, dir.slice(sitePackages(spec.python).length + 1)));
            });
            assert.deepStrictEqual(libs, expected);
            // nvidia/ is a namespace shared by the wheels: none of them owns an __init__.py there.
            assert.ok(!fs.existsSync(path.join(target, "nvidia", "__init__.py")));
            fs.rmSync(target, { recursive: true, force: true });
        });
    }

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
