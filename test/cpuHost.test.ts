/**
 * A third host without a GPU, declared in a fixture next to the real data
 * (test/fixtures/fleet-pc3: the real data plus pc3, and its stack file): described by leaving
 * out `gpu` and the profile's GPU keys, its stack without fleet:gpu, it passes validate,
 * check-stack and plan, and the program registers exactly its CPU containers, with no device
 * request and no GPU variable.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { runCli } from "../fleet/cli";
import { FIXTURE_APP, writeFleetDir } from "./helpers";
import { byType, nameOf, PROJECT_DIR, projectStackConfig, projectWith, runningContainers, runProgram } from "./mocks";

const FIXTURE = path.join(PROJECT_DIR, "test", "fixtures", "fleet-pc3");
const STACK_FILE = "test/fixtures/fleet-pc3/Pulumi.pc3.yaml";
const PC3_SERVICES = ["MemoryFusionHub", "SelfHealingSupervisor", "UnifiedObservabilityCenter"];

function run(argv: string[], projectDir = PROJECT_DIR): { code: number; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    const code = runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, projectDir);
    return { code, out, err };
}

function yamlOf(dir: string, file: string): Record<string, Record<string, Record<string, unknown>>> {
    return parse(fs.readFileSync(path.join(dir, file), "utf8"));
}

describe("a third host without a GPU (test/fixtures/fleet-pc3)", () => {
    it("the fixture is the real data plus pc3 and the three services placed on it, nothing else", () => {
        const real = path.join(PROJECT_DIR, "fleet", "data");
        assert.deepStrictEqual(yamlOf(FIXTURE, "families.yaml"), yamlOf(real, "families.yaml"));
        const { pc3, ...hosts } = yamlOf(FIXTURE, "hosts.yaml").hosts;
        assert.deepStrictEqual(hosts, yamlOf(real, "hosts.yaml").hosts);
        assert.deepStrictEqual(pc3, { description: "PC3, CPU only", cpus: 4, profile: { OMP_NUM_THREADS: 4, UVICORN_WORKERS: 4, MODEL_EVICT_THRESHOLD_PCT: 80, NUMBA_CACHE_SIZE: "128MB" } });
        const services = yamlOf(FIXTURE, "services.yaml").services;
        const realServices = yamlOf(real, "services.yaml").services;
        assert.deepStrictEqual(Object.keys(services), Object.keys(realServices));
        for (const [name, svc] of Object.entries(services)) {
            const placed = PC3_SERVICES.includes(name);
            assert.deepStrictEqual(svc, placed ? { ...realServices[name], hosts: [...(realServices[name].hosts as string[]), "pc3"] } : realServices[name], name);
        }
    });

    it("validate passes with no gpu block and no GPU profile keys", () => {
        assert.deepStrictEqual(run(["validate", "--fleet", FIXTURE]), { code: 0, out: ["fleet data is valid: 69 services (75 placements) on 3 hosts, 9 families"], err: [] });
    });

    it("check-stack pc3 passes with no fleet:gpu", () => {
        assert.doesNotMatch(fs.readFileSync(path.join(PROJECT_DIR, STACK_FILE), "utf8"), /^\s*fleet:gpu:/m);
        assert.deepStrictEqual(run(["check-stack", "pc3", "--fleet", FIXTURE, "--app-repo", FIXTURE_APP], projectWith(STACK_FILE)), {
            code: 0, err: [],
            out: ["Pulumi.pc3.yaml: stack 'pc3' loads as `pulumi up` loads it: 20 keys, 14 of them Pulumi.yaml defaults; the fleet: config is valid; the application repository holds what its 3 services are built from"],
        });
    });

    it("plan pc3: its three CPU services, none on a GPU, nothing left out", () => {
        const r = run(["plan", "pc3", "--fleet", FIXTURE, "--app-repo", FIXTURE_APP], projectWith(STACK_FILE));
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.match(r.out[0], /^plan for pc3 \(stack pc3, port offset \d+, no GPU container\)$/, "no CUDA track on a host without a GPU container");
        assert.ok(r.out.includes("3 containers; per family: base-cpu-pydeps 2, family-web 1"), r.out.join("\n"));
        assert.deepStrictEqual(r.out.filter((l) => /^(base|family)-/.test(l)).map((l) => l.split(/\s+/)[0]), ["base-python", "base-utils", "base-cpu-pydeps", "family-web"], "families in build order");
        assert.ok(r.out.includes("GPU services (0): none"));
        assert.ok(r.out.includes("not deployed: none"));
    });

    it("the program registers exactly pc3's containers and the API proxy, with no device request and no GPU variable", async () => {
        process.env.FLEET_DATA_DIR = FIXTURE;
        try {
            const { resources, outputs } = await runProgram(projectStackConfig(projectWith(STACK_FILE), "pc3"));
            const containers = runningContainers(resources);
            assert.deepStrictEqual(containers.map((c) => nameOf(c)).sort(), ["docker-api-proxy", "memory-fusion-hub", "self-healing-supervisor", "unified-observability-center"]);
            for (const c of containers) {
                assert.strictEqual(c.inputs.deviceRequests, undefined, c.name);
                const env = (c.inputs.envs as string[] | undefined) ?? [];
                assert.deepStrictEqual(env.filter((e) => /^(NVIDIA_|CUDA_|PYTORCH_|GPU_|REQUIRED_GPU)/.test(e)), [], c.name);
                const profile = env.find((e) => e.startsWith("FLEET_PROFILE_JSON="));
                if (profile) assert.deepStrictEqual(JSON.parse(profile.slice("FLEET_PROFILE_JSON=".length)).gpu, null, c.name);
                if (profile) assert.doesNotMatch(profile, /GPU_VISIBLE_DEVICES|TORCH_CUDA_ALLOC_CONF/, c.name);
            }
            const preflight = byType(resources, "command:local:Command").filter((c) => c.inputs.environment?.FLEET_GPU !== undefined);
            assert.deepStrictEqual(preflight.map((c) => [c.inputs.environment.FLEET_GPU, c.inputs.environment.FLEET_GPU_IDS]), [["false", ""]]);
            assert.deepStrictEqual(byType(resources, "fleet:host:GpuProbe"), [], "no GPU request, no GPU probe");
            assert.deepStrictEqual((outputs.summary as Record<string, unknown>).gpuContainers, 0);
        } finally {
            delete process.env.FLEET_DATA_DIR;
        }
    });

    it("a GPU service placed on pc3 is refused, naming the service and the host", () => {
        const texts = Object.fromEntries(["hosts.yaml", "families.yaml", "services.yaml"].map((f) => [f, fs.readFileSync(path.join(FIXTURE, f), "utf8")]));
        texts["services.yaml"] = texts["services.yaml"].replace("  AffectiveProcessingCenter:\n    hosts: [mainpc]\n", "  AffectiveProcessingCenter:\n    hosts: [mainpc, pc3]\n");
        const dir = writeFleetDir(texts);
        const r = run(["validate", "--fleet", dir]);
        const file = path.relative(process.cwd(), path.join(dir, "services.yaml"));
        const shown = (f: string) => (file.startsWith("..") ? path.join(dir, f) : file.replace("services.yaml", f));
        assert.deepStrictEqual(r, { code: 1, out: [], err: [`1 problem in the fleet data or stack config:\n  - ${shown("services.yaml")}: AffectiveProcessingCenter.hosts[1]: needs a GPU (compute: gpu) but host 'pc3' has none (no gpu in ${shown("hosts.yaml")}). Fix: place AffectiveProcessingCenter on a host with a GPU, or set compute: cpu`] });
    });

    it("fleet:gpu true on pc3 is refused by check-stack, with the command that removes it", () => {
        const r = run(["check-stack", "pc3", "--fleet", FIXTURE, "--app-repo", FIXTURE_APP, "--config", "test/fixtures/stacks/gpu-true.yaml"], projectWith(STACK_FILE));
        assert.deepStrictEqual(r.err, ["1 problem in the fleet data or stack config:\n  - Pulumi.pc3.yaml: fleet:gpu: is true but host 'pc3' has no GPU (no gpu in hosts.yaml). Fix: remove it: a host without a GPU needs no fleet:gpu: pulumi config rm fleet:gpu --stack pc3"]);
    });
});
