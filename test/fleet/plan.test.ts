import * as assert from "assert";
import { lineage } from "../../fleet/model/check";
import { planHost, startLanes } from "../../fleet/model/plan";
import { realFleet, seed002Rows, stackFor } from "../helpers";

// In start order (fleet/model/plan.ts, startLanes): the core tier first (002 §H phase 1); within
// a tier CPU services, then GPU services, each by name.
const MAINPC_CORE = ["ServiceRegistry", "SystemDigitalTwin", "UnifiedSystemAgent"];
const MAINPC_CPU_APP = [
    "ActiveLearningMonitor", "AdvancedCommandHandler", "ChitchatAgent", "CloudTranslationService", "CodeGenerator",
    "CrossMachineGPUScheduler", "EmotionEngine", "Executor", "FeedbackHandler", "GoTToTAgent", "HumanAwarenessAgent",
    "IntentionValidatorAgent", "MemoryFusionHub", "MoodTrackerAgent", "NLUAgent", "PredictiveHealthMonitor",
    "SelfHealingSupervisor", "SmartHomeAgent", "StreamingTranslationProxy", "ToneDetector", "UnifiedObservabilityCenter",
    "VoiceProfilingAgent",
];
const MAINPC_GPU_APP = [
    "AffectiveProcessingCenter", "ChainOfThoughtAgent", "CognitiveModelAgent", "DynamicIdentityAgent", "EmotionSynthesisAgent",
    "EmpathyAgent", "FaceRecognitionAgent", "LearningManager", "LearningOpportunityDetector", "ModelOpsCoordinator",
    "ProactiveAgent", "RealTimeAudioPipeline", "Responder", "STTService", "StreamingTTSAgent", "TTSService",
    "TinyLlamaServiceEnhanced",
];
const MAINPC_DEPLOYED = [...MAINPC_CORE, ...MAINPC_CPU_APP, ...MAINPC_GPU_APP];
const RTAP_GATED = ["AudioCapture", "FusedAudioPreprocessor", "StreamingInterruptHandler", "StreamingLanguageAnalyzer", "StreamingSpeechRecognition", "WakeWordDetector"];
const PC2_DEPLOYED = [
    "AdvancedRouter", "AgentTrustScorer", "AsyncProcessor", "AuthenticationAgent", "CacheManager", "CentralErrorBus",
    "FileSystemAssistantAgent", "MemoryFusionHub", "ProactiveContextMonitor", "RemoteConnectorAgent", "ResourceManager",
    "SelfHealingSupervisor", "TaskScheduler", "TieredResponder", "TutoringServiceAgent", "UnifiedObservabilityCenter",
    "UnifiedUtilsAgent", "UnifiedWebAgent",
    // GPU services last
    "DreamWorldAgent", "DreamingModeAgent", "RealTimeAudioPipelinePC2", "SpeechRelayService", "VisionProcessingAgent",
];

describe("planning a host", () => {
    const fleet = realFleet();

    it("mainpc runs exactly the seed's MainPC services after gating and P0.2", () => {
        const plan = planHost(fleet, stackFor("mainpc"));
        assert.deepStrictEqual(plan.containers.map((c) => c.service), MAINPC_DEPLOYED);
        assert.deepStrictEqual(plan.excluded.map((e) => [e.service, e.kind]), [
            ["AudioCapture", "gated"], ["FusedAudioPreprocessor", "gated"], ["ObservabilityDashboardAPI", "disabled"],
            ["StreamingInterruptHandler", "gated"], ["StreamingLanguageAnalyzer", "gated"], ["StreamingSpeechRecognition", "gated"], ["WakeWordDetector", "gated"],
        ]);
    });

    it("pc2 runs exactly the seed's PC2 services", () => {
        const plan = planHost(fleet, stackFor("pc2"));
        assert.deepStrictEqual(plan.containers.map((c) => c.service), PC2_DEPLOYED);
        assert.deepStrictEqual(plan.excluded, []);
    });

    it("every row of 002 §F is in the data with its ports, family and hosts, or a recorded decision", () => {
        const decisions: Record<string, Partial<{ family: string; hosts: string[] }>> = {
            MemoryFusionHub: { family: "base-cpu-pydeps" }, // "family-cpu-pydeps" is not a §B family
            RealTimeAudioPipeline: { hosts: ["mainpc"] }, // RealTimeAudioPipelinePC2 is the pc2 instance
        };
        const rows = seed002Rows();
        assert.strictEqual(rows.length, 64);
        for (const row of rows) {
            const svc = fleet.services[row.service];
            assert.ok(svc, `${row.service} is missing`);
            const hosts = { "4090": ["mainpc"], "3060": ["pc2"], both: ["mainpc", "pc2"] }[row.machines];
            assert.deepStrictEqual(svc.hosts, decisions[row.service]?.hosts ?? hosts, row.service);
            assert.strictEqual(svc.family, decisions[row.service]?.family ?? row.family, row.service);
            assert.deepStrictEqual([svc.ports.service, svc.ports.health], [row.servicePort, row.healthPort], row.service);
            assert.strictEqual(svc.compute, row.needs.startsWith("GPU") ? "gpu" : "cpu", row.service);
            assert.strictEqual(svc.source, "002");
        }
        const only004 = Object.entries(fleet.services).filter(([, s]) => s.source === "004").map(([n]) => n).sort();
        assert.deepStrictEqual(only004, ["FusedAudioPreprocessor", "GoTToTAgent", "StreamingInterruptHandler", "StreamingLanguageAnalyzer", "WakeWordDetector"]);
    });

    it("with rtapEnabled false the legacy audio agents run, and enableServices turns P0.2's dashboard on", () => {
        const plan = planHost(fleet, stackFor("mainpc", { rtapEnabled: false, enableServices: ["ObservabilityDashboardAPI"] }));
        const names = plan.containers.map((c) => c.service);
        for (const n of [...RTAP_GATED, "ObservabilityDashboardAPI"]) assert.ok(names.includes(n), n);
        assert.deepStrictEqual(plan.excluded, []);
    });

    it("disableServices removes a service with the reason", () => {
        const plan = planHost(fleet, stackFor("pc2", { disableServices: ["CacheManager"] }));
        assert.ok(!plan.containers.some((c) => c.service === "CacheManager"));
        assert.deepStrictEqual(plan.excluded, [{ service: "CacheManager", kind: "disabled", reason: "listed in the stack's fleet:disableServices" }]);
    });

    it("a GPU container gets the device request and the profile under the names software reads", () => {
        const c = planHost(fleet, stackFor("mainpc")).containers.find((x) => x.service === "ModelOpsCoordinator")!;
        assert.deepStrictEqual(c.gpu, { driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] });
        assert.deepStrictEqual(c.env, {
            CUDA_DEVICE_ORDER: "PCI_BUS_ID", CUDA_VISIBLE_DEVICES: "0", FLEET_SERVICE: "ModelOpsCoordinator", HEALTH_PORT: "8212",
            MACHINE: "mainpc", MKL_NUM_THREADS: "16", MODEL_EVICT_THRESHOLD_PCT: "90", NVIDIA_DRIVER_CAPABILITIES: "compute,utility",
            NVIDIA_VISIBLE_DEVICES: "0", OMP_NUM_THREADS: "16", PORT_OFFSET: "0", PYTORCH_CUDA_ALLOC_CONF: "max_split_size_mb:64",
            REQUIRED_GPU: "true", SERVICE_PORT: "7212", UVICORN_WORKERS: "32", WEB_CONCURRENCY: "32",
            FLEET_FAMILY: "family-llm-cu121", FLEET_PROFILE_PATH: "/run/fleet/machine-profile.json",
            FLEET_PROFILE_JSON: JSON.stringify(JSON.parse(planHost(fleet, stackFor("mainpc")).profileDocument)),
            FLEET_UOC_ENDPOINT: "unified-observability-center:9100",
            // caches on the cache volume: Triton executes what it compiles there (not on noexec /tmp)
            XDG_CACHE_HOME: "/app/cache", HF_HOME: "/app/cache/huggingface", TORCH_HOME: "/app/cache/torch", TRITON_CACHE_DIR: "/app/cache/triton", NUMBA_CACHE_DIR: "/app/cache/numba",
        });
        assert.deepStrictEqual(c.volumes, [
            { name: "fleet-model-ops-coordinator-data", purpose: "data", target: "/app/data" },
            { name: "fleet-model-ops-coordinator-logs", purpose: "logs", target: "/app/logs" },
            { name: "fleet-model-ops-coordinator-cache", purpose: "cache", target: "/app/cache" },
        ]);
        assert.ok(!("TORCH_CUDA_ALLOC_CONF" in c.env));
        assert.deepStrictEqual(c.health, { kind: "http", port: 8212, path: "/health", intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 300, startIntervalSeconds: 1, waitTimeoutSeconds: 900 });
        assert.deepStrictEqual(c.limits, { memoryMb: 16384, shmMb: 4096, pidsLimit: 256, cpus: 6, cpuShares: 2048 });
    });

    it("fleet:maxCpus caps each container's CPU limit and nothing else: 6 and 4 become 2, 2 and 1 stay, the shares stay the families'", () => {
        const limits = (cfg: Parameters<typeof planHost>[1]) => Object.fromEntries(planHost(fleet, cfg).containers
            .filter((c) => ["ModelOpsCoordinator", "Responder", "FaceRecognitionAgent", "Executor"].includes(c.service))
            .map((c) => [c.service, [c.limits.cpus, c.limits.cpuShares]]));
        assert.deepStrictEqual(limits(stackFor("mainpc")), { Executor: [1, 512], FaceRecognitionAgent: [2, 2048], ModelOpsCoordinator: [6, 2048], Responder: [4, 2048] });
        assert.deepStrictEqual(limits(stackFor("mainpc", { maxCpus: 2 })), { Executor: [1, 512], FaceRecognitionAgent: [2, 2048], ModelOpsCoordinator: [2, 2048], Responder: [2, 2048] });
        const capped = planHost(fleet, stackFor("mainpc", { maxCpus: 2 }));
        const uncapped = planHost(fleet, stackFor("mainpc"));
        assert.deepStrictEqual(capped.containers.map((c) => ({ ...c, limits: { ...c.limits, cpus: 0 } })), uncapped.containers.map((c) => ({ ...c, limits: { ...c.limits, cpus: 0 } })));
    });

    it("a service's own health.waitTimeoutSeconds wins over its family's; the others keep the family's", () => {
        const data = realFleet();
        data.services.ModelOpsCoordinator.health = { ...data.services.ModelOpsCoordinator.health, waitTimeoutSeconds: 1800 };
        const plan = planHost(data, stackFor("mainpc"));
        const wait = (s: string) => plan.containers.find((x) => x.service === s)!.health.waitTimeoutSeconds;
        assert.deepStrictEqual([wait("ModelOpsCoordinator"), wait("ChainOfThoughtAgent"), wait("Executor")], [1800, 900, 120]);
    });

    it("where every container sends its start report: the UnifiedObservabilityCenter by its name, the host's own or a peer front's, else none", () => {
        const uoc = (cfg: ReturnType<typeof stackFor>, d = fleet) => [...new Set(planHost(d, cfg).containers.map((c) => c.env.FLEET_UOC_ENDPOINT))];
        assert.deepStrictEqual(uoc(stackFor("mainpc")), ["unified-observability-center:9100"]);
        assert.deepStrictEqual(uoc({ ...stackFor("pc2"), portOffset: 100 }), ["unified-observability-center:9200"], "its port moves with the offset");
        assert.deepStrictEqual(uoc({ ...stackFor("pc2"), disableServices: ["UnifiedObservabilityCenter"] }), [undefined], "pc2 runs its own, and uses none of MainPC's");
        // pc2 moved off the UOC and using MainPC's instead: the same name, held by its peer front.
        const used = structuredClone(fleet);
        used.services.UnifiedObservabilityCenter.hosts = ["mainpc"];
        used.hosts.pc2.uses.mainpc.push("UnifiedObservabilityCenter");
        assert.deepStrictEqual(uoc(stackFor("pc2"), used), ["unified-observability-center:9100"]);
        assert.deepStrictEqual(uoc({ ...stackFor("pc2"), portOffset: 100 }, used), ["unified-observability-center:9200"], "the port it has here: the peer front listens on it");
    });

    it("the services of another host a host uses: each by the name and port it would have here, on the host, not on each container", () => {
        assert.deepStrictEqual(planHost(fleet, stackFor("pc2")).peers, [
            { service: "ModelOpsCoordinator", machine: "mainpc", name: "model-ops-coordinator", port: 7212 },
            { service: "ServiceRegistry", machine: "mainpc", name: "service-registry", port: 7200 },
            { service: "SystemDigitalTwin", machine: "mainpc", name: "system-digital-twin", port: 7220 },
        ]);
        assert.deepStrictEqual(planHost(fleet, { ...stackFor("pc2"), portOffset: 100 }).peers.map((p) => p.port), [7312, 7300, 7320]);
        assert.deepStrictEqual(planHost(fleet, stackFor("mainpc")).peers, []);
        // No container carries a peer's address: moving a peer changes no container.
        for (const c of planHost(fleet, stackFor("pc2")).containers) assert.deepStrictEqual(Object.keys(c.env).filter((k) => /ENDPOINT/.test(k) && k !== "FLEET_UOC_ENDPOINT"), [], c.service);
    });

    it("a CPU container gets no GPU request and no CUDA variables; pc2's profile values", () => {
        const c = planHost(fleet, stackFor("pc2")).containers.find((x) => x.service === "CacheManager")!;
        assert.strictEqual(c.gpu, null);
        assert.deepStrictEqual(c.env, {
            FLEET_SERVICE: "CacheManager", HEALTH_PORT: "8102", MACHINE: "pc2", MKL_NUM_THREADS: "4", MODEL_EVICT_THRESHOLD_PCT: "70",
            OMP_NUM_THREADS: "4", PORT_OFFSET: "0", SERVICE_PORT: "7102", UVICORN_WORKERS: "8", WEB_CONCURRENCY: "8",
            FLEET_FAMILY: "base-cpu-pydeps", FLEET_PROFILE_PATH: "/run/fleet/machine-profile.json",
            FLEET_PROFILE_JSON: JSON.stringify(JSON.parse(planHost(fleet, stackFor("pc2")).profileDocument)),
            FLEET_UOC_ENDPOINT: "unified-observability-center:9100",
            XDG_CACHE_HOME: "/tmp/.cache", NUMBA_CACHE_DIR: "/tmp/numba",
        });
        assert.deepStrictEqual(c.tmpfs, {
            "/tmp": "rw,noexec,nosuid,nodev,size=64m,mode=1777",
            "/home/appuser": "rw,noexec,nosuid,nodev,size=16m,mode=0700,uid=10001,gid=10001",
            "/run/fleet": "rw,noexec,nosuid,nodev,size=1m,mode=0755,uid=10001,gid=10001",
        });
        assert.strictEqual(c.readOnlyRootfs, true);
        assert.deepStrictEqual(c.volumes.map((v) => v.target), ["/app/data", "/app/logs"]);
        assert.deepStrictEqual(c.limits, { memoryMb: 1024, shmMb: 64, pidsLimit: 256, cpus: 1, cpuShares: 512 });
    });

    it("the NVML scheduler gets a utility-only request on its CPU family", () => {
        const c = planHost(fleet, stackFor("mainpc")).containers.find((x) => x.service === "CrossMachineGPUScheduler")!;
        assert.deepStrictEqual(c.gpu, { driver: "nvidia", deviceIds: ["0"], capabilities: ["utility"] });
        assert.strictEqual(c.env.NVIDIA_DRIVER_CAPABILITIES, "utility");
        assert.ok(!("REQUIRED_GPU" in c.env));
    });

    it("only the supervisor reaches the Docker API", () => {
        for (const m of ["mainpc", "pc2"]) {
            const api = planHost(fleet, stackFor(m)).containers.filter((c) => c.dockerApi).map((c) => c.service);
            assert.deepStrictEqual(api, ["SelfHealingSupervisor"]);
        }
    });

    it("the port offset moves every published port and the env", () => {
        const c = planHost(fleet, stackFor("mainpc", { portOffset: 100 })).containers.find((x) => x.service === "MemoryFusionHub")!;
        assert.deepStrictEqual(c.ports, { service: 5813, health: 6813, metrics: [8180] });
        assert.strictEqual(c.health.port, 6813);
        assert.deepStrictEqual([c.env.SERVICE_PORT, c.env.HEALTH_PORT, c.env.PORT_OFFSET], ["5813", "6813", "100"]);
    });

    it("without a GPU the GPU services are left out, each with the reason, and no CUDA family is built", () => {
        const plan = planHost(fleet, stackFor("mainpc", { gpu: false }));
        assert.ok(plan.containers.every((c) => c.compute === "cpu" && c.gpu === null));
        assert.deepStrictEqual(plan.families, ["base-python", "legacy-py310-cpu", "base-utils", "base-cpu-pydeps", "family-web"]);
        const noGpu = plan.excluded.filter((e) => e.kind === "no-gpu");
        assert.strictEqual(noGpu.length, 17); // 18 GPU services on mainpc, StreamingSpeechRecognition is gated first
        assert.ok(noGpu.every((e) => e.reason === "needs a GPU and the stack sets fleet:gpu false"));
    });

    it("families come parents first and include every ancestor", () => {
        const plan = planHost(fleet, stackFor("mainpc"));
        assert.deepStrictEqual(plan.families, ["base-gpu-cu121", "base-python", "legacy-py310-cpu", "base-utils", "family-torch-cu121", "family-vision-cu121", "base-cpu-pydeps", "family-llm-cu121", "family-web"]);
        plan.families.forEach((f, i) => {
            for (const ancestor of lineage(fleet, f).slice(1)) assert.ok(plan.families.indexOf(ancestor) < i, `${ancestor} before ${f}`);
        });
    });

    it("is deterministic", () => {
        assert.deepStrictEqual(planHost(realFleet(), stackFor("pc2")), planHost(realFleet(), stackFor("pc2")));
    });

    it("writes the profile document with 002's keys verbatim", () => {
        const doc = JSON.parse(planHost(fleet, stackFor("pc2")).profileDocument);
        assert.deepStrictEqual(doc.profile, { GPU_VISIBLE_DEVICES: "0", TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:32", OMP_NUM_THREADS: 4, UVICORN_WORKERS: 8, MODEL_EVICT_THRESHOLD_PCT: 70, NUMBA_CACHE_SIZE: "128MB" });
        assert.strictEqual(doc.gpu.smArch, "8.6");
    });
});

describe("start lanes", () => {
    const fleet = realFleet();
    /** A real container plan renamed, for tables over tier and compute. */
    const base = planHost(fleet, stackFor("mainpc")).containers[0];
    const c = (service: string, tier: "core" | "app", compute: "cpu" | "gpu") => ({ ...base, service, tier, compute });
    const table: { what: string; lanes: number; containers: ReturnType<typeof c>[]; expected: [string, string | undefined][] }[] = [
        {
            what: "two lanes: each container waits for the one two places before it in its tier, GPU services last",
            lanes: 2,
            containers: [c("X", "core", "cpu"), c("Y", "core", "cpu"), c("Z", "core", "cpu"), c("A", "app", "cpu"), c("B", "app", "cpu"), c("C", "app", "gpu"), c("D", "app", "cpu")],
            expected: [["X", undefined], ["Y", undefined], ["Z", "X"], ["A", undefined], ["B", undefined], ["D", "A"], ["C", "B"]],
        },
        {
            what: "one lane: a chain",
            lanes: 1,
            containers: [c("B", "app", "cpu"), c("A", "app", "cpu"), c("G", "app", "gpu")],
            expected: [["A", undefined], ["B", "A"], ["G", "B"]],
        },
        {
            what: "as many lanes as containers: everything at once, and a tier never waits on the other tier's lanes",
            lanes: 3,
            containers: [c("X", "core", "cpu"), c("A", "app", "gpu"), c("B", "app", "cpu"), c("C", "app", "cpu")],
            expected: [["X", undefined], ["B", undefined], ["C", undefined], ["A", undefined]],
        },
    ];
    for (const row of table) {
        it(row.what, () => {
            assert.deepStrictEqual(startLanes(row.containers, row.lanes).map((x) => [x.service, x.startAfter]), row.expected);
        });
    }

    it("defaults to every container of a tier at once: lanes as many as the host's containers, none waits for another of its tier", () => {
        for (const [machine, n] of [["mainpc", 42], ["pc2", 23]] as const) {
            const plan = planHost(fleet, stackFor(machine));
            assert.strictEqual(plan.startLanes, n, machine);
            assert.deepStrictEqual(plan.containers.filter((x) => x.startAfter !== undefined), [], machine);
        }
        assert.strictEqual(planHost(fleet, stackFor("pc2")).containers.length, PC2_DEPLOYED.length);
    });

    it("fleet:startLanes 4 on mainpc: the 22 CPU services in four lanes, then the GPU services, the core untouched", () => {
        const plan = planHost(fleet, stackFor("mainpc", { startLanes: 4 }));
        assert.strictEqual(plan.startLanes, 4);
        const app = [...MAINPC_CPU_APP, ...MAINPC_GPU_APP];
        assert.deepStrictEqual(plan.containers.map((x) => [x.service, x.startAfter]), [
            ...MAINPC_CORE.map((s) => [s, undefined]),
            ...app.map((s, i) => [s, i >= 4 ? app[i - 4] : undefined]),
        ]);
        // The first GPU service waits for a CPU service; no CPU service waits for a GPU one.
        assert.strictEqual(plan.containers.find((x) => x.service === "AffectiveProcessingCenter")!.startAfter, "StreamingTranslationProxy");
        for (const x of plan.containers.filter((y) => y.compute === "cpu" && y.startAfter)) assert.ok(MAINPC_CPU_APP.includes(x.startAfter!), x.service);
    });
});

describe("planning exceptions", () => {
    it("a declared rootfs exception makes the root writable, and says why", () => {
        const f = realFleet();
        f.services.Executor.rootfsWritable = "the vendor SDK rewrites its own install directory";
        const c = planHost(f, stackFor("mainpc")).containers.find((x) => x.service === "Executor")!;
        assert.strictEqual(c.readOnlyRootfs, false);
        assert.strictEqual(c.rootfsException, "the vendor SDK rewrites its own install directory");
    });

    it("a GPU service with cpuFallback may start on CPU", () => {
        const c = planHost(realFleet(), stackFor("mainpc")).containers.find((x) => x.service === "STTService")!;
        assert.strictEqual(c.env.GPU_FALLBACK, "cpu");
        assert.strictEqual(c.env.REQUIRED_GPU, "true");
    });
});
