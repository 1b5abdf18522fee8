/**
 * family-vision-cu121's CUDA libraries (issue 10, "GPU roots"): onnxruntime-gpu has no torch
 * below it, so the family pins NVIDIA's library wheels and its image's environment puts their
 * directories on the loader's path: a CUDA 11.8 build on cu118, a CUDA 12 build on cu121/cu124.
 */
import * as assert from "assert";
import { familyPins, familySpec, nvidiaLibraryDirs, pinAccepts } from "../../fleet/model/images";
import { libraryPathEnv, renderFamily } from "../../fleet/render/dockerfile";
import { realFleet } from "../helpers";

const SP = "/opt/venv/lib/python3.11/site-packages";
const VISION_DIRS = ["cublas", "cuda_runtime", "cudnn", "cufft", "curand"].map((l) => `${SP}/nvidia/${l}/lib`);

describe("NVIDIA library directories of a family", () => {
    const table: { what: string; pins: string[]; python: string; expected: string[] }[] = [
        { what: "no NVIDIA wheel", pins: ["torch==2.2.2", "torchvision==0.17.2"], python: "3.11", expected: [] },
        { what: "nothing pinned", pins: [], python: "3.11", expected: [] },
        {
            what: "the vision family's wheels, sorted whatever their order",
            pins: ["nvidia-cudnn-cu12==9.1.0.70", "onnxruntime-gpu==1.19.2", "nvidia-curand-cu12==10.3.2.106", "nvidia-cufft-cu12==11.0.2.54", "nvidia-cublas-cu12==12.1.3.1", "nvidia-cuda-runtime-cu12==12.1.105"],
            python: "3.11",
            expected: VISION_DIRS,
        },
        {
            what: "a name spelt as pip compares it (case, `_` and `.`), a CUDA 11 wheel, another interpreter",
            pins: ["NVIDIA_Cuda.Runtime-cu12==12.1.105", "nvidia-cudnn-cu11==8.9.4.19"],
            python: "3.10",
            expected: ["/opt/venv/lib/python3.10/site-packages/nvidia/cuda_runtime/lib", "/opt/venv/lib/python3.10/site-packages/nvidia/cudnn/lib"],
        },
        { what: "a project that only starts like one (nvidia-ml-py) or has no CUDA suffix", pins: ["nvidia-ml-py==12.535.133", "nvidia-cudnn==1.0"], python: "3.11", expected: [] },
        { what: "the same library twice", pins: ["nvidia-cublas-cu12==12.1.3.1", "nvidia-cublas-cu12==12.1.3.1"], python: "3.11", expected: [`${SP}/nvidia/cublas/lib`] },
    ];
    for (const row of table) {
        it(`derives ${row.what}`, () => assert.deepStrictEqual(nvidiaLibraryDirs(row.pins, row.python), row.expected));
    }

    it("renders the directories after any parent's value, with no empty entry, and nothing without directories", () => {
        assert.deepStrictEqual(libraryPathEnv(["/a/lib", "/b/lib"]), ["ENV LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+${LD_LIBRARY_PATH}:}/a/lib:/b/lib"]);
        assert.deepStrictEqual(libraryPathEnv([]), []);
    });
});

describe("family-vision-cu121", () => {
    const d = realFleet();

    it("puts its own NVIDIA wheels' library directories on LD_LIBRARY_PATH in the runtime stage, after the install", () => {
        const text = renderFamily(familySpec(d, "family-vision-cu121", "cu121"));
        const line = `ENV LD_LIBRARY_PATH=\${LD_LIBRARY_PATH:+\${LD_LIBRARY_PATH}:}${VISION_DIRS.join(":")}`;
        const lines = text.split("\n");
        assert.strictEqual(lines.filter((l) => l.includes("LD_LIBRARY_PATH")).length, 1, text);
        const at = lines.indexOf(line);
        assert.ok(at > lines.indexOf("FROM ${BASE_IMAGE} AS runtime"), text);
        assert.ok(at > lines.findIndex((l) => l.includes("--find-links /wheelhouse")), text);
        assert.strictEqual(lines[at + 1], "USER 10001:10001");
    });

    it("pins onnxruntime-gpu 1.19.2 (CUDA 12, cuDNN 9) and the NVIDIA libraries it loads on cu121 and cu124, 1.18.0 (CUDA 11.8, cuDNN 8) and theirs on cu118", () => {
        const cuda12 = [
            "opencv-python-headless==4.9.0.80", "onnxruntime-gpu==1.19.2",
            "nvidia-cuda-runtime-cu12==12.1.105", "nvidia-cublas-cu12==12.1.3.1", "nvidia-cufft-cu12==11.0.2.54", "nvidia-curand-cu12==10.3.2.106", "nvidia-cudnn-cu12==9.1.0.70",
        ];
        assert.deepStrictEqual(familySpec(d, "family-vision-cu121", "cu121").pip, cuda12);
        assert.deepStrictEqual(familySpec(d, "family-vision-cu121", "cu124").pip, cuda12);
        assert.deepStrictEqual(familySpec(d, "family-vision-cu121", "cu118").pip, [
            "opencv-python-headless==4.9.0.80", "onnxruntime-gpu==1.18.0",
            "nvidia-cuda-runtime-cu11==11.8.89", "nvidia-cublas-cu11==11.11.3.6", "nvidia-cufft-cu11==10.9.0.58", "nvidia-curand-cu11==10.3.0.86", "nvidia-cudnn-cu11==8.7.0.84",
        ]);
        assert.deepStrictEqual(d.families["family-vision-cu121"].cuda?.tracks, ["cu118", "cu121", "cu124"]);
        // The cu118 image carries the same directories (the wheels keep their layout across CUDA majors).
        assert.deepStrictEqual(familySpec(d, "family-vision-cu121", "cu118").libraryDirs, VISION_DIRS);
    });

    it("gives no family without NVIDIA wheels of its own an LD_LIBRARY_PATH (torch preloads its libraries)", () => {
        const with_ = Object.keys(d.families).filter((f) => renderFamily(familySpec(d, f, "cu121")).includes("LD_LIBRARY_PATH"));
        assert.deepStrictEqual(with_, ["family-vision-cu121"]);
    });
});

describe("family-torch-cu121: torch's CUDA build per track", () => {
    const d = realFleet();

    it("pins torch and torchvision by the local label of the track's build, and inherits them in the LLM family", () => {
        assert.deepStrictEqual(familySpec(d, "family-torch-cu121", "cu121").pip, ["torch==2.2.2+cu121", "torchvision==0.17.2+cu121"]);
        assert.deepStrictEqual(familySpec(d, "family-torch-cu121", "cu118").pip, ["torch==2.2.2+cu118", "torchvision==0.17.2+cu118"]);
        assert.deepStrictEqual(d.families["family-torch-cu121"].cuda?.tracks, ["cu118", "cu121"], "torch 2.2.2 has no cu124 build");
        assert.deepStrictEqual(familyPins(d, "family-llm-cu121", "cu118").filter((p) => p.family === "family-torch-cu121").map((p) => `${p.name}==${p.version}`), ["torch==2.2.2+cu118", "torchvision==0.17.2+cu118"]);
        assert.ok(!renderFamily(familySpec(d, "family-torch-cu121", "cu118")).includes("+cu121"));
    });

    // PEP 440 "Version matching": a pin without a local label ignores the candidate's label.
    const matching: [string, string, boolean][] = [
        ["2.2.2+cu121", "2.2.2+cu121", true],
        ["2.2.2", "2.2.2+cu121", true],
        ["2.2.2", "2.2.2+cu118", true],
        ["2.2.2", "2.2.2", true],
        ["2.2.2+cu118", "2.2.2+cu121", false],
        ["2.2.2+cu121", "2.2.2", false],
        ["2.2.1", "2.2.1+cu121", true],
        ["2.2", "2.2.2+cu121", false],
    ];
    for (const [pin, version, accepts] of matching) {
        it(`==${pin} ${accepts ? "accepts" : "refuses"} ${version}`, () => assert.strictEqual(pinAccepts(pin, version), accepts));
    }
});
