import * as assert from "assert";
import { checkFleet } from "../../fleet/model/check";
import { formatIssue } from "../../fleet/model/issues";
import { FleetData } from "../../fleet/model/schema";
import { FILES, realFleet } from "../helpers";

function problems(mutate: (d: FleetData) => void): string[] {
    const d = realFleet();
    mutate(d);
    return checkFleet(d, FILES).map(formatIssue);
}

describe("fleet cross-checks", () => {
    it("the repository's data has no problems", () => {
        assert.deepStrictEqual(checkFleet(realFleet(), FILES), []);
    });

    const table: { rule: string; mutate: (d: FleetData) => void; expected: string[] }[] = [
        {
            rule: "unknown family of a service",
            mutate: (d) => { d.services.NLUAgent.family = "family-nlu"; },
            expected: ["services.yaml: NLUAgent.family: 'family-nlu' is not a family in families.yaml. Fix: use one of base-python, base-utils, base-cpu-pydeps, family-web, base-gpu-cu121, family-torch-cu121, family-llm-cu121, family-vision-cu121, legacy-py310-cpu"],
        },
        {
            rule: "unknown parent family",
            mutate: (d) => { d.families["family-web"].parent = "base-cpu"; },
            expected: ["families.yaml: family-web.parent: 'base-cpu' is not a family in this file. Fix: use one of base-python, base-utils, base-cpu-pydeps, family-web, base-gpu-cu121, family-torch-cu121, family-llm-cu121, family-vision-cu121, legacy-py310-cpu"],
        },
        {
            rule: "a cycle in the hierarchy",
            mutate: (d) => { delete d.families["base-python"].upstream; d.families["base-python"].parent = "family-web"; },
            expected: ["families.yaml: base-python.parent: the hierarchy has a cycle: base-python -> family-web -> base-cpu-pydeps -> base-utils -> base-python. Fix: point one of these families at an upstream image or a family outside the cycle"],
        },
        {
            rule: "a family with both parent and upstream",
            mutate: (d) => { d.families["family-web"].upstream = { image: "docker.io/library/python", tag: "3.11", pin: "tag" }; },
            expected: ["families.yaml: family-web: has both `parent` and `upstream`. Fix: give a family exactly one base: `parent` (another family) or `upstream` (an external image)"],
        },
        {
            rule: "a GPU service on a CPU family",
            mutate: (d) => { d.services.STTService.family = "base-cpu-pydeps"; },
            expected: ["services.yaml: STTService.family: needs a GPU (compute: gpu) but 'base-cpu-pydeps' is a CPU family. Fix: use a CUDA family (family-torch-cu121, family-llm-cu121, family-vision-cu121) or set compute: cpu"],
        },
        {
            rule: "a CPU service on a CUDA family",
            mutate: (d) => { d.services.Executor.family = "family-torch-cu121"; },
            expected: ["services.yaml: Executor.family: runs on CPU but 'family-torch-cu121' carries the CUDA stack. Fix: use a CPU family (base-python, base-utils, base-cpu-pydeps, family-web, legacy-py310-cpu), or set compute: gpu if the service needs the GPU"],
        },
        {
            rule: "a GPU service on a host without a GPU, naming the service and the host",
            mutate: (d) => { d.hosts.pc2.gpu = null; delete d.hosts.pc2.profile.GPU_VISIBLE_DEVICES; delete d.hosts.pc2.profile.TORCH_CUDA_ALLOC_CONF; },
            expected: [
                "services.yaml: RealTimeAudioPipelinePC2.hosts[0]: needs a GPU (compute: gpu) but host 'pc2' has none (no gpu in hosts.yaml). Fix: place RealTimeAudioPipelinePC2 on a host with a GPU, or set compute: cpu",
                "services.yaml: VisionProcessingAgent.hosts[0]: needs a GPU (compute: gpu) but host 'pc2' has none (no gpu in hosts.yaml). Fix: place VisionProcessingAgent on a host with a GPU, or set compute: cpu",
                "services.yaml: DreamWorldAgent.hosts[0]: needs a GPU (compute: gpu) but host 'pc2' has none (no gpu in hosts.yaml). Fix: place DreamWorldAgent on a host with a GPU, or set compute: cpu",
                "services.yaml: DreamingModeAgent.hosts[0]: needs a GPU (compute: gpu) but host 'pc2' has none (no gpu in hosts.yaml). Fix: place DreamingModeAgent on a host with a GPU, or set compute: cpu",
                "services.yaml: SpeechRelayService.hosts[0]: needs a GPU (compute: gpu) but host 'pc2' has none (no gpu in hosts.yaml). Fix: place SpeechRelayService on a host with a GPU, or set compute: cpu",
            ],
        },
        {
            rule: "a machine name that is not a host",
            mutate: (d) => { d.services.Executor.hosts = ["mainpc", "pc3"]; },
            expected: ["services.yaml: Executor.hosts[1]: 'pc3' is not a host in hosts.yaml. Fix: use one of mainpc, pc2"],
        },
        {
            rule: "a host listed twice",
            mutate: (d) => { d.services.Executor.hosts = ["mainpc", "mainpc"]; },
            expected: ["services.yaml: Executor.hosts[1]: 'mainpc' is listed twice. Fix: list each host once"],
        },
        {
            rule: "a service another host uses, moved off the host it uses it on: refused where the move is made, naming the consumer",
            mutate: (d) => { d.services.ModelOpsCoordinator.hosts = ["pc2"]; },
            expected: [
                "services.yaml: ModelOpsCoordinator.hosts: does not include mainpc, where pc2 uses ModelOpsCoordinator (hosts.yaml: pc2.uses.mainpc[2]). Fix: add mainpc to ModelOpsCoordinator.hosts, or remove ModelOpsCoordinator from pc2.uses.mainpc in hosts.yaml",
                // The card's budget too: one run reports every problem.
                "hosts.yaml: pc2.gpu.vramGb: 12 GB (12288 MB) on the RTX 3060 is less than the 12864 MB its 6 GPU services keep on it, 576 MB over: ModelOpsCoordinator 8192, DreamWorldAgent 1024, DreamingModeAgent 1024, VisionProcessingAgent 1024, RealTimeAudioPipelinePC2 800, SpeechRelayService 800. Fix: place GPU services elsewhere (services.yaml hosts), turn one off (enabled: false), or correct a figure measured on the host (nvidia-smi --query-compute-apps=pid,used_memory --format=csv): vramMb in services.yaml or runtime.vramMb in families.yaml",
            ],
        },
        {
            rule: "a used service the data does not have, misspelt: the closest service on that host",
            mutate: (d) => { d.hosts.pc2.uses.mainpc[0] = "ServiceRegistri"; },
            expected: ["hosts.yaml: pc2.uses.mainpc[0]: 'ServiceRegistri' is not a service of services.yaml; the closest on mainpc is ServiceRegistry. Fix: write ServiceRegistry"],
        },
        {
            rule: "a used service the data does not have, nothing close: what to name",
            mutate: (d) => { d.hosts.pc2.uses.mainpc[0] = "Zzz"; },
            expected: ["hosts.yaml: pc2.uses.mainpc[0]: 'Zzz' is not a service of services.yaml. Fix: name a service of services.yaml that runs on mainpc (names are case-sensitive)"],
        },
        {
            rule: "a used service placed on the using host too: its name there is its own front's, not a peer front's",
            mutate: (d) => { d.hosts.pc2.uses.mainpc.push("UnifiedObservabilityCenter"); },
            expected: ["hosts.yaml: pc2.uses.mainpc[3]: UnifiedObservabilityCenter runs on pc2 itself (services.yaml: UnifiedObservabilityCenter.hosts), and pc2's containers reach it by its name, unified-observability-center: the one on pc2 holds that name, not mainpc's. Fix: remove UnifiedObservabilityCenter from pc2.uses.mainpc, or pc2 from UnifiedObservabilityCenter.hosts in services.yaml"],
        },
        {
            rule: "two services with the same container name",
            mutate: (d) => { d.services.NluAgent = structuredClone(d.services.NLUAgent); d.services.NluAgent.ports = { service: 5901, health: 6901, metrics: [] }; },
            expected: ["services.yaml: NluAgent: has the same container name 'nlu-agent' as NLUAgent. Fix: rename one of the two services"],
        },
        {
            rule: "a health port already published on the host",
            mutate: (d) => { d.services.NLUAgent.ports.health = 6710; },
            expected: ["services.yaml: AdvancedCommandHandler.ports.health: 6710 is published on mainpc by both NLUAgent.ports.health and AdvancedCommandHandler.ports.health. Fix: give one of them a free port; the next free port above it on mainpc is 6712"],
        },
        {
            rule: "a metrics port colliding with a service port, on one host only",
            mutate: (d) => { d.services.MemoryFusionHub.ports.metrics = [7100]; },
            expected: ["services.yaml: TieredResponder.ports.service: 7100 is published on pc2 by both MemoryFusionHub.ports.metrics[0] and TieredResponder.ports.service. Fix: give one of them a free port; the next free port above it on pc2 is 7103"],
        },
        {
            rule: "the Docker API requested by a service other than the supervisor",
            mutate: (d) => { d.services.Executor.traits = ["docker"]; },
            expected: ["services.yaml: Executor.traits: requests the Docker API, which only SelfHealingSupervisor may reach (002 P0.5). Fix: remove 'docker' from traits; ask SelfHealingSupervisor to act on other containers"],
        },
        {
            rule: "a disabled service without a reason",
            mutate: (d) => { delete d.services.ObservabilityDashboardAPI.disabledReason; },
            expected: ["services.yaml: ObservabilityDashboardAPI.disabledReason: is missing on a disabled service. Fix: say why the service is off, so the plan can show it"],
        },
        {
            rule: "a CUDA track without an upstream image",
            mutate: (d) => { delete d.families["base-gpu-cu121"].cuda!.upstreamByTrack!.cu118; },
            expected: [
                "families.yaml: base-gpu-cu121.cuda.tracks[0]: track 'cu118' has no upstream image in its root family. Fix: add the track to the root's cuda.upstreamByTrack or remove it here",
                "families.yaml: family-torch-cu121.cuda.tracks[0]: track 'cu118' has no upstream image in its root family. Fix: add the track to the root's cuda.upstreamByTrack or remove it here",
                "families.yaml: family-vision-cu121.cuda.tracks[0]: track 'cu118' has no upstream image in its root family. Fix: add the track to the root's cuda.upstreamByTrack or remove it here",
            ],
        },
        {
            rule: "per-track pins or an index for a track the family does not build",
            mutate: (d) => {
                d.families["family-vision-cu121"].cuda!.tracks = ["cu121", "cu124"];
                d.families["family-torch-cu121"].cuda!.tracks = ["cu121"];
            },
            expected: [
                "families.yaml: family-torch-cu121.pipIndexByTrack.cu118: track 'cu118' is not one of this family's cuda.tracks. Fix: remove the index or add the track",
                "families.yaml: family-torch-cu121.pipByTrack.cu118: track 'cu118' is not one of this family's cuda.tracks. Fix: remove the pins or add the track",
                "families.yaml: family-vision-cu121.pipByTrack.cu118: track 'cu118' is not one of this family's cuda.tracks. Fix: remove the pins or add the track",
            ],
        },
        {
            rule: "per-track pins or an index on a family with no CUDA family in its lineage; a CUDA family's child inherits its tracks",
            mutate: (d) => {
                d.families["family-web"].pipByTrack = { cu121: ["uvicorn==0.30.1"] };
                d.families["legacy-py310-cpu"].pipIndexByTrack = { cu121: "https://download.pytorch.org/whl/cu121" };
                d.families["family-llm-cu121"].pipByTrack = { cu118: ["bitsandbytes==0.43.1"], cu125: ["bitsandbytes==0.43.1"] } as never;
            },
            expected: [
                "families.yaml: family-web.pipByTrack: is set on a family with no CUDA family in its lineage, which is built on no track. Fix: move the pins to `pip`",
                "families.yaml: family-llm-cu121.pipByTrack.cu125: track 'cu125' is not one of this family's cuda.tracks. Fix: remove the pins or add the track",
                "families.yaml: legacy-py310-cpu.pipIndexByTrack: is set on a family with no CUDA family in its lineage, which is built on no track. Fix: remove it; CPU families install from the default index",
            ],
        },
        {
            rule: "a release-candidate interpreter (jammy's python3.11 as it was pinned)",
            mutate: (d) => { d.families["base-gpu-cu121"].apt.push("python3.11=3.11.0~rc1-1~22.04", "python3.11-venv=3.11.0~rc1-1~22.04", "python3=3.11.2-1+b1"); },
            expected: [
                "families.yaml: base-gpu-cu121.apt[3]: python3.11 3.11.0~rc1-1~22.04 is a pre-release interpreter. Fix: take Python from an image that ships a final release (python:3.x-slim), or a final package version",
                "families.yaml: base-gpu-cu121.apt[4]: python3.11-venv 3.11.0~rc1-1~22.04 is a pre-release interpreter. Fix: take Python from an image that ships a final release (python:3.x-slim), or a final package version",
            ],
        },
        {
            rule: "a host with a GPU without the profile's GPU keys: how to describe it either way",
            mutate: (d) => { delete d.hosts.pc2.profile.GPU_VISIBLE_DEVICES; delete d.hosts.mainpc.profile.TORCH_CUDA_ALLOC_CONF; },
            expected: [
                "hosts.yaml: mainpc.profile.TORCH_CUDA_ALLOC_CONF: is missing: host 'mainpc' has a GPU (mainpc.gpu). Fix: add it, e.g. TORCH_CUDA_ALLOC_CONF: \"max_split_size_mb:64\"; or, for a host without a GPU, leave out mainpc.gpu",
                "hosts.yaml: pc2.profile.GPU_VISIBLE_DEVICES: is missing: host 'pc2' has a GPU (pc2.gpu). Fix: add the GPU's index, e.g. GPU_VISIBLE_DEVICES: \"0\"; or, for a host without a GPU, leave out pc2.gpu",
            ],
        },
        {
            rule: "a host without a GPU that keeps the profile's GPU keys",
            mutate: (d) => { d.hosts.pc2.gpu = null; for (const s of Object.values(d.services)) s.hosts = s.hosts.filter((h) => h !== "pc2" || s.compute !== "gpu"); },
            expected: [
                "hosts.yaml: pc2.profile.GPU_VISIBLE_DEVICES: is set, but host 'pc2' has no GPU (no pc2.gpu). Fix: remove it: a host without a GPU leaves out gpu and the profile's GPU_VISIBLE_DEVICES and TORCH_CUDA_ALLOC_CONF; or describe the GPU in pc2.gpu",
                "hosts.yaml: pc2.profile.TORCH_CUDA_ALLOC_CONF: is set, but host 'pc2' has no GPU (no pc2.gpu). Fix: remove it: a host without a GPU leaves out gpu and the profile's GPU_VISIBLE_DEVICES and TORCH_CUDA_ALLOC_CONF; or describe the GPU in pc2.gpu",
            ],
        },
        {
            rule: "NVML on a host without a GPU",
            mutate: (d) => { d.services.CacheManager.nvml = true; d.hosts.pc2 = { ...d.hosts.pc2, gpu: null, profile: { ...d.hosts.pc2.profile, GPU_VISIBLE_DEVICES: undefined, TORCH_CUDA_ALLOC_CONF: undefined } }; d.services.VisionProcessingAgent.hosts = ["mainpc"]; d.services.DreamWorldAgent.hosts = ["mainpc"]; d.services.DreamingModeAgent.hosts = ["mainpc"]; d.services.SpeechRelayService.hosts = ["mainpc"]; d.services.RealTimeAudioPipelinePC2.hosts = ["mainpc"]; d.services.RealTimeAudioPipelinePC2.ports = { service: 5901, health: 6901, metrics: [] }; },
            expected: [
                "services.yaml: CacheManager.nvml: asks for NVML but host 'pc2' has no GPU (no gpu in hosts.yaml). Fix: remove nvml, or place CacheManager on a host with a GPU",
                // PC2's GPU services moved onto MainPC's card overfill it.
                "hosts.yaml: mainpc.gpu.vramGb: 24 GB (24576 MB) on the RTX 4090 is less than the 28960 MB its 23 GPU services keep on it, 4384 MB over: ModelOpsCoordinator 8192, TinyLlamaServiceEnhanced 3072, DreamWorldAgent 1024, DreamingModeAgent 1024, FaceRecognitionAgent 1024, VisionProcessingAgent 1024, AffectiveProcessingCenter 800, ChainOfThoughtAgent 800, CognitiveModelAgent 800, DynamicIdentityAgent 800, EmotionSynthesisAgent 800, EmpathyAgent 800, LearningManager 800, LearningOpportunityDetector 800, ProactiveAgent 800, RealTimeAudioPipeline 800, RealTimeAudioPipelinePC2 800, Responder 800, STTService 800, SpeechRelayService 800, StreamingSpeechRecognition 800, StreamingTTSAgent 800, TTSService 800. Fix: place GPU services elsewhere (services.yaml hosts), turn one off (enabled: false), or correct a figure measured on the host (nvidia-smi --query-compute-apps=pid,used_memory --format=csv): vramMb in services.yaml or runtime.vramMb in families.yaml",
            ],
        },
        {
            rule: "a family's CPU limit above the host's CPUs, named on the family that sets it",
            mutate: (d) => { d.families["family-llm-cu121"].runtime!.cpus = 32; },
            expected: ["families.yaml: family-llm-cu121.runtime.cpus: 32 CPUs is more than host 'mainpc' has (24 in hosts.yaml), where ModelOpsCoordinator, TinyLlamaServiceEnhanced, ChainOfThoughtAgent, CognitiveModelAgent, LearningOpportunityDetector, LearningManager, DynamicIdentityAgent, ProactiveAgent run. Fix: set at most 24, or correct mainpc.cpus in hosts.yaml"],
        },
        {
            rule: "an inherited CPU limit above a smaller host's CPUs",
            mutate: (d) => { d.families["base-gpu-cu121"].runtime!.cpus = 10; },
            expected: ["families.yaml: base-gpu-cu121.runtime.cpus: 10 CPUs (inherited by family-vision-cu121) is more than host 'pc2' has (8 in hosts.yaml), where VisionProcessingAgent, DreamWorldAgent, DreamingModeAgent run. Fix: set at most 8, or correct pc2.cpus in hosts.yaml"],
        },
        {
            rule: "a card over its GPU memory: the move of issue 27 (ModelOpsCoordinator onto PC2's RTX 3060), every service with its figure",
            mutate: (d) => {
                d.services.ModelOpsCoordinator.hosts = ["pc2"];
                d.hosts.pc2.uses.mainpc = d.hosts.pc2.uses.mainpc.filter((s) => s !== "ModelOpsCoordinator");
            },
            expected: ["hosts.yaml: pc2.gpu.vramGb: 12 GB (12288 MB) on the RTX 3060 is less than the 12864 MB its 6 GPU services keep on it, 576 MB over: ModelOpsCoordinator 8192, DreamWorldAgent 1024, DreamingModeAgent 1024, VisionProcessingAgent 1024, RealTimeAudioPipelinePC2 800, SpeechRelayService 800. "
                + "Fix: place GPU services elsewhere (services.yaml hosts), turn one off (enabled: false), or correct a figure measured on the host (nvidia-smi --query-compute-apps=pid,used_memory --format=csv): vramMb in services.yaml or runtime.vramMb in families.yaml"],
        },
        {
            rule: "a card exactly full passes; a service turned off (enabled: false) keeps nothing on it",
            mutate: (d) => {
                d.services.ModelOpsCoordinator.hosts = ["pc2"];
                d.hosts.pc2.uses.mainpc = d.hosts.pc2.uses.mainpc.filter((s) => s !== "ModelOpsCoordinator");
                d.services.ModelOpsCoordinator.vramMb = 12288 - 4672;
                d.services.TinyLlamaServiceEnhanced.enabled = false;
                d.services.TinyLlamaServiceEnhanced.disabledReason = "off for the test";
            },
            expected: [],
        },
        {
            rule: "vramMb on a CPU service",
            mutate: (d) => { d.services.CacheManager.vramMb = 512; },
            expected: ["services.yaml: CacheManager.vramMb: is set on a CPU service (compute: cpu): it keeps nothing on a GPU. Fix: remove it, or set compute: gpu if the service runs on the GPU"],
        },
    ];

    for (const row of table) {
        it(`reports ${row.rule}`, () => {
            assert.deepStrictEqual(problems(row.mutate), row.expected);
        });
    }

    it("reports every problem at once", () => {
        const found = problems((d) => {
            d.services.NLUAgent.family = "nope";
            d.services.Executor.traits = ["docker"];
            d.services.NLUAgent.ports.health = 6710;
        });
        assert.strictEqual(found.length, 3);
    });
});
