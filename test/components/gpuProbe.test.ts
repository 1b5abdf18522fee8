/**
 * The GPU path under mocks: the GPU probe (components/gpuProbe.ts) with its exact inputs and
 * dependency edges, the preflight's GPU ids, and fleet:gpuFallback in the GPU containers'
 * environment. CPU-only stacks register no probe.
 */
import * as assert from "assert";
import { byType, dependsOn, Registered, runbookStack, runProgram, stackConfig, nameOf } from "../mocks";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:local:Command";
const PROBE = "fleet:host:GpuProbe";

/** Each stack's program run once, shared by the tests that read it (a run takes half a minute here). */
const runs = new Map<string, Promise<Registered[]>>();
function resourcesOf(stack: string, ...overrides: string[]): Promise<Registered[]> {
    const key = [stack, ...overrides].join("+");
    if (!runs.has(key)) runs.set(key, runProgram(runbookStack(stack, ...overrides)).then((r) => r.resources));
    return runs.get(key)!;
}

const hasGpuRequest = (c: Registered) => (c.inputs.deviceRequests ?? []).length > 0;
/** The environment without what changes with git (the image's tag and digest, the commit). */
// The plan's environment, without what ServiceContainer appends (the image's identity, and the SBOM index test/components/containers.test.ts asserts).
const stableEnv = (c: Registered) => ((c.inputs.envs ?? []) as string[]).filter((e) => !/^FLEET_(IMAGE|IMAGE_DIGEST|GIT_SHA|SBOM_INDEX)=/.test(e));

describe("the GPU probe under mocks", () => {

    for (const stack of ["mainpc", "pc2"]) {
        describe(stack, () => {
            let all: Registered[];
            before(async () => {
                all = await resourcesOf(stack);
            });

            it("one probe, a child of the host, running the GPU root family's image with the host's GPU request", () => {
                const probes = byType(all, PROBE);
                assert.deepStrictEqual(probes.map((p) => [p.name, p.opts.parent]), [[`${stack}-gpu-probe`, `urn:pulumi:${stack}::fleet::fleet:host:FleetHost::${stack}`]]);
                const cmd = byType(all, COMMAND).find((c) => c.name === `${stack}-gpu-probe`)!;
                const root = byType(all, "docker-build:index:Image").find((i) => i.name === "base-gpu-cu121")!;
                const env = { ...cmd.inputs.environment };
                assert.match(env.FLEET_PROBE_IMAGE, /@sha256:[0-9a-f]{64}$/);
                assert.strictEqual(env.FLEET_PROBE_IMAGE.split("@")[0], root.inputs.tags[0]);
                assert.deepStrictEqual({ ...env, FLEET_PROBE_IMAGE: "<ref>" }, { DOCKER_HOST: `ssh://ops@${stack}`, FLEET_MACHINE: stack, FLEET_GPU_IDS: "0", FLEET_PROBE_IMAGE: "<ref>" });
                assert.strictEqual(cmd.inputs.create, "bash scripts/gpu-probe.sh");
                const preflight = byType(all, COMMAND).find((c) => c.name === `${stack}-preflight`)!;
                assert.deepStrictEqual(cmd.inputs.triggers, preflight.inputs.triggers, "runs again whenever the preflight does");
            });

            it("waits for the preflight and for the image it runs, nothing else", () => {
                const cmd = byType(all, COMMAND).find((c) => c.name === `${stack}-gpu-probe`)!;
                assert.deepStrictEqual(cmd.opts.dependencies, [
                    `urn:pulumi:${stack}::fleet::fleet:host:HostPreflight$command:local:Command::${stack}-preflight`,
                    `urn:pulumi:${stack}::fleet::fleet:images:FamilyImage$docker-build:index:Image::base-gpu-cu121`,
                ]);
            });

            it("every container with a GPU device request waits for it, and only those (CPU services deploy without the device driver)", () => {
                const containers = byType(all, CONTAINER);
                const waiting = containers.filter((c) => dependsOn(c, PROBE, `${stack}-gpu-probe`)).map((c) => nameOf(c));
                assert.deepStrictEqual(waiting, containers.filter(hasGpuRequest).map((c) => nameOf(c)));
                assert.strictEqual(waiting.length, stack === "mainpc" ? 18 : 5, "GPU services, and NVML's utility request on mainpc");
                assert.ok(!waiting.includes("docker-api-proxy"));
            });

            it("the preflight checks the GPU the containers request", () => {
                const preflight = byType(all, COMMAND).find((c) => c.name === `${stack}-preflight`)!;
                assert.deepStrictEqual([preflight.inputs.environment.FLEET_GPU, preflight.inputs.environment.FLEET_GPU_IDS], ["true", "0"]);
            });
        });
    }

    it("the local stack (CPU only) registers no probe and asks the preflight for no GPU", async () => {
        const all = (await runProgram(stackConfig("local"))).resources;
        assert.deepStrictEqual(byType(all, PROBE), []);
        assert.ok(!byType(all, COMMAND).some((c) => c.name.includes("gpu-probe")));
        const preflight = byType(all, COMMAND).find((c) => c.name === "mainpc-preflight")!;
        assert.deepStrictEqual([preflight.inputs.environment.FLEET_GPU, preflight.inputs.environment.FLEET_GPU_IDS], ["false", ""]);
        assert.ok(byType(all, CONTAINER).every((c) => c.opts.dependencies.every((u) => !u.includes("GpuProbe"))));
    });
});

describe("fleet:gpuFallback under mocks", () => {
    // TTSService has no cpuFallback of its own; STTService has (services.yaml, 004 §D).
    const TTS_ENV = [
        "CUDA_DEVICE_ORDER=PCI_BUS_ID", "CUDA_VISIBLE_DEVICES=0", "FLEET_FAMILY=family-torch-cu121",
        'FLEET_PROFILE_JSON={"machine":"mainpc","description":"MainPC, NVIDIA RTX 4090 (Ada), AMD Ryzen 9 7900","gpu":{"model":"RTX 4090","architecture":"Ada","smArch":"8.9","vramGb":24},"profile":{"GPU_VISIBLE_DEVICES":"0","TORCH_CUDA_ALLOC_CONF":"max_split_size_mb:64","OMP_NUM_THREADS":16,"UVICORN_WORKERS":32,"MODEL_EVICT_THRESHOLD_PCT":90,"NUMBA_CACHE_SIZE":"512MB"}}',
        "FLEET_PROFILE_PATH=/run/fleet/machine-profile.json", "FLEET_SERVICE=TTSService", "FLEET_UOC_ENDPOINT=unified-observability-center:9100", "HEALTH_PORT=6801", "HF_HOME=/app/cache/huggingface", "MACHINE=mainpc", "MKL_NUM_THREADS=16",
        "MODEL_EVICT_THRESHOLD_PCT=90", "NUMBA_CACHE_DIR=/app/cache/numba", "NVIDIA_DRIVER_CAPABILITIES=compute,utility", "NVIDIA_VISIBLE_DEVICES=0", "OMP_NUM_THREADS=16", "PORT_OFFSET=0",
        "PYTORCH_CUDA_ALLOC_CONF=max_split_size_mb:64", "REQUIRED_GPU=true", "SERVICE_PORT=5801", "TORCH_HOME=/app/cache/torch", "TRITON_CACHE_DIR=/app/cache/triton", "UVICORN_WORKERS=32",
        "WEB_CONCURRENCY=32", "XDG_CACHE_HOME=/app/cache",
    ];
    let off: Registered[];
    let on: Registered[];
    before(async () => {
        off = byType(await resourcesOf("mainpc"), CONTAINER);
        on = byType(await resourcesOf("mainpc", "gpu-fallback"), CONTAINER);
    });

    it("off (the default): a GPU container's exact environment has no GPU_FALLBACK, unless the service falls back itself", () => {
        assert.deepStrictEqual(stableEnv(off.find((c) => nameOf(c) === "tts-service")!), TTS_ENV);
        const fallingBack = off.filter((c) => stableEnv(c).includes("GPU_FALLBACK=cpu")).map((c) => nameOf(c));
        assert.deepStrictEqual(fallingBack, ["stt-service"]);
    });

    it("on: every GPU container gets GPU_FALLBACK=cpu and nothing else changes; CPU and NVML-only containers get nothing", () => {
        assert.deepStrictEqual(stableEnv(on.find((c) => nameOf(c) === "tts-service")!), [...TTS_ENV.slice(0, 7), "GPU_FALLBACK=cpu", ...TTS_ENV.slice(7)]);
        for (const c of on) {
            const before = off.find((o) => nameOf(o) === nameOf(c))!;
            const computeGpu = (c.inputs.deviceRequests ?? []).some((d: { capabilities: string[] }) => d.capabilities.includes("gpu"));
            const expected = computeGpu && !stableEnv(before).includes("GPU_FALLBACK=cpu") ? withFallbackAt(stableEnv(before)) : stableEnv(before);
            assert.deepStrictEqual(stableEnv(c), expected, nameOf(c));
        }
        assert.strictEqual(on.filter((c) => stableEnv(c).includes("GPU_FALLBACK=cpu")).length, 17);
    });
});

/** `env` (in code-point order of the names, fleet/model/names.ts byName) with GPU_FALLBACK=cpu in its place. */
function withFallbackAt(env: string[]): string[] {
    const name = (e: string) => e.slice(0, e.indexOf("="));
    return [...env, "GPU_FALLBACK=cpu"].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}
