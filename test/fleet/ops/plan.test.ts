/**
 * `scripts/fleet plan`: what each container runs (the image reference buildPlan gives it, or its
 * pin, where the pin comes from and what it replaces), its address, GPU, limits, start and
 * health; `--json`; a layout in which one service changes only its own rows; and
 * `image-targets`' account of what it leaves out.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildPlan, BuildPlan } from "../../../fleet/imageplan/buildPlan";
import { planHost } from "../../../fleet/model/plan";
import { FIXTURE_APP, golden, realFleet, realFleetTexts, stackFor, writeFleetDir } from "../../helpers";
import { projectWith } from "../../mocks";
import { configuredProject, freshProject, runFleet } from "./project";

const PROJECT = path.resolve(__dirname, "..", "..", "..");
const CACHE_DIGEST = "sha256:abababababababababababababababababababababababababababababababab";

let pc2: BuildPlan | undefined;

/** What the program's own build plan gives pc2 with the fixture application, nothing pinned (computed once). */
function pc2Build(): BuildPlan {
    const fleet = realFleet();
    const cfg = stackFor("pc2", {}, fleet);
    pc2 ??= buildPlan(fleet, planHost(fleet, cfg), cfg, {
        projectDir: PROJECT, appRepo: FIXTURE_APP, buildDir: fs.mkdtempSync(path.join(os.tmpdir(), "fleet-build-")), servicesFile: "services.yaml", stackFile: "Pulumi.pc2.yaml",
    });
    return pc2;
}

/** The rows of the table whose header starts with `header`. */
function table(out: string[], header: RegExp): string[] {
    const start = out.findIndex((l) => header.test(l));
    assert.ok(start >= 0, `no table ${header}`);
    const end = out.indexOf("", start);
    return out.slice(start + 1, end);
}

const imageRow = (service: string, cell: string) => `${service.padEnd(27)}  ${cell}`;
const built = (b: BuildPlan, service: string) => b.services.find((s) => s.spec.service === service)!.tag;

describe("scripts/fleet plan", () => {
    it("mainpc: a row per container with its address and ports, GPU, CPU, memory and PIDs limits, start and health", () => {
        const r = runFleet(["plan", "mainpc", "--app-repo", FIXTURE_APP], configuredProject());
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.strictEqual(r.out[0], "plan for mainpc (stack mainpc, port offset 0, CUDA cu121)");
        const rows = [
            "SERVICE                      TIER  FAMILY               ADDRESS:SVC/HEALTH +METRICS  GPU        CPUS  MEM MB  PIDS   STARTS AFTER                 HEALTH",
            "ServiceRegistry              core  family-web           192.0.2.16:7200/8200         -          1     1024    256    -                            http :8200/health start 30s every 1s",
            "CrossMachineGPUScheduler     app   base-cpu-pydeps      192.0.2.16:7155/8155         utility:0  1     1024    256    -                            http :8155/health start 30s every 1s",
            "ModelOpsCoordinator          app   family-llm-cu121     192.0.2.16:7212/8212         gpu:0      6     16384   256    -                            http :8212/health start 5m every 1s",
            "NLUAgent                     app   legacy-py310-cpu     192.0.2.16:5709/6709         -          1     768     256    -                            http :6709/health start 30s every 1s",
        ];
        for (const row of rows) assert.ok(r.out.includes(row), row);
        assert.deepStrictEqual(r.out.slice(-13), [
            "42 containers; per family: base-cpu-pydeps 15, family-llm-cu121 8, family-torch-cu121 8, family-vision-cu121 1, family-web 5, legacy-py310-cpu 5",
            "GPU services (17): AffectiveProcessingCenter, ChainOfThoughtAgent, CognitiveModelAgent, DynamicIdentityAgent, EmotionSynthesisAgent, EmpathyAgent, FaceRecognitionAgent, LearningManager, LearningOpportunityDetector, ModelOpsCoordinator, ProactiveAgent, RealTimeAudioPipeline, Responder, STTService, StreamingTTSAgent, TTSService, TinyLlamaServiceEnhanced",
            // The card's budget (hosts.yaml gpu.vramGb): what the deployed GPU services keep on it, largest first.
            "GPU memory of the RTX 4090: 23488 of 24576 MB kept by its GPU services (96%): ModelOpsCoordinator 8192, TinyLlamaServiceEnhanced 3072, FaceRecognitionAgent 1024, AffectiveProcessingCenter 800, ChainOfThoughtAgent 800, CognitiveModelAgent 800, DynamicIdentityAgent 800, EmotionSynthesisAgent 800, EmpathyAgent 800, LearningManager 800, LearningOpportunityDetector 800, ProactiveAgent 800, RealTimeAudioPipeline 800, Responder 800, STTService 800, StreamingTTSAgent 800, TTSService 800",
            "start: core, then every other container at once",
            // Where every port is bound: the stack's address for other hosts, the gateway for this host's containers.
            "network fleet-mainpc-net 10.230.0.0/24: the host front fleet-mainpc-front binds every port on 192.0.2.16 and 10.230.0.1; resolvers 10.230.0.2 and 10.230.0.3 answer the services' names",
            "not deployed (7):",
            ...r.out.slice(-7),
        ]);
        assert.ok(r.out.includes("  ObservabilityDashboardAPI: disabled: duplicates UnifiedObservabilityCenter's metrics UI (002 P0.2); UOC is kept; fleet:enableServices turns it on"));
        assert.ok(r.out.includes("  WakeWordDetector: gated: replaced by RealTimeAudioPipeline while fleet:rtapEnabled is true (002 P0.3)"));
    });

    it("pc2 without its application repository: said once at the top, with what supplies it; every service's tag unknown; the families have theirs", () => {
        const dir = configuredProject();
        const r = runFleet(["plan", "pc2"], dir);
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.deepStrictEqual(r.out.slice(0, 3), [
            `not known here: the tags of stack pc2's service images: the application repository is not checked out at ${path.resolve(dir, "../AI_System_Monorepo")} (fleet:appRepo). Supply it: --app-repo DIR, or check it out there (scripts/fleet app-repo names the repository and commit)`,
            "",
            "plan for pc2 (stack pc2, port offset 0, CUDA cu121)",
        ]);
        assert.strictEqual(r.out.filter((l) => l.startsWith("not known here")).length, 1);
        const images = table(r.out, /^SERVICE\s+IMAGE$/);
        assert.strictEqual(images.length, 23);
        assert.strictEqual(images[4], imageRow("CacheManager", "ghcr.io/ai-system/cache-manager (tag unknown: the application repository is not checked out)"));
        assert.ok(images.every((l) => l.endsWith("(tag unknown: the application repository is not checked out)")), images.join("\n"));
        const b = pc2Build();
        assert.deepStrictEqual(table(r.out, /^FAMILY\s+IMAGE$/), [
            ...b.families.map((f) => `${f.spec.family.padEnd(19)}  ${f.tag}`),
            `${"(Docker API proxy)".padEnd(19)}  ${b.proxy!.tag}`,
        ]);
    });

    it("a tag pin: the pinned image, pinned by fleet:pins[0], replacing the tag buildPlan gives; every other image is buildPlan's", () => {
        const r = runFleet(["plan", "pc2"], configuredProject({ pc2: ["fixture-app", "pin-tag"] }));
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const b = pc2Build();
        const images = table(r.out, /^SERVICE\s+IMAGE$/);
        assert.strictEqual(images[4], imageRow("CacheManager", `ghcr.io/ai-system/cache-manager:20250810-9c99cc9-1a2b3c4  pinned by fleet:pins[0]; replaces ${built(b, "CacheManager")}`));
        assert.match(built(b, "CacheManager"), /^ghcr\.io\/ai-system\/cache-manager:(\d{8}-[0-9a-f]{7}-[0-9a-f]{7}|content-[0-9a-f]{12})$/);
        const others = images.filter((_, i) => i !== 4);
        assert.deepStrictEqual(others, others.map((l) => { const s = l.split(" ")[0]; return imageRow(s, built(b, s)); }));
    });

    it("a digest pin: the image by digest, and --json names the digest", () => {
        const dir = configuredProject({ pc2: ["fixture-app", "pin-digest"] });
        const images = table(runFleet(["plan", "pc2"], dir).out, /^SERVICE\s+IMAGE$/);
        assert.strictEqual(images[4], imageRow("CacheManager", `ghcr.io/ai-system/cache-manager@${CACHE_DIGEST}  pinned by fleet:pins[0]; replaces ${built(pc2Build(), "CacheManager")}`));
        const doc = JSON.parse(runFleet(["plan", "pc2", "--json"], dir).out.join("\n"));
        const cache = doc.containers.find((c: { service: string }) => c.service === "CacheManager");
        assert.deepStrictEqual(cache.image, {
            ref: `ghcr.io/ai-system/cache-manager@${CACHE_DIGEST}`, repository: "ghcr.io/ai-system/cache-manager", tag: null, digest: CACHE_DIGEST,
            pinnedBy: "fleet:pins[0]", build: built(pc2Build(), "CacheManager"), buildUnknown: null,
        });
    });

    it("pinAll: each service from the build lock by tag@digest, pinned by the lock; a fleet:pins entry wins over it", () => {
        const r = runFleet(["plan", "pc2"], configuredProject({ pc2: ["fixture-app", "pin-all"] }));
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const b = pc2Build();
        const images = table(r.out, /^SERVICE\s+IMAGE$/);
        assert.strictEqual(images[0], imageRow("AdvancedRouter", "ghcr.io/ai-system/advanced-router:20250810-9c99cc9-66110e4@sha256:bdac6b97daf878a8205de8370f235774322a410caf411a2365814d7e008b1730"
            + `  pinned by build lock test/fixtures/build-lock-pc2.json; replaces ${built(b, "AdvancedRouter")}`));
        assert.strictEqual(images[4], imageRow("CacheManager", `ghcr.io/ai-system/cache-manager@${CACHE_DIGEST}  pinned by fleet:pins[0]; replaces ${built(b, "CacheManager")}`));
        assert.strictEqual(images.filter((l) => l.includes("  pinned by build lock test/fixtures/build-lock-pc2.json; replaces ")).length, 22);
        // No service is built: only base-python, for the supervisor's Docker API proxy; every family is shown.
        const families = table(r.out, /^FAMILY\s+IMAGE$/);
        assert.deepStrictEqual(families.filter((l) => !l.endsWith("  not built: only pinned services use it")), [
            `${"base-python".padEnd(19)}  ${b.families.find((f) => f.spec.family === "base-python")!.tag}`,
            `${"(Docker API proxy)".padEnd(19)}  ${b.proxy!.tag}`,
        ]);
        assert.strictEqual(families.length, 8);
    });

    it("--json: the version 1 document, exactly (tags, which git gives, as <tag>); no terminal escapes", () => {
        const r = runFleet(["plan", "pc2", "--json"], configuredProject({ pc2: ["fixture-app", "pin-digest"] }));
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        const text = r.out.join("\n");
        assert.ok(!text.includes("\x1b"));
        golden("plan-pc2-pin-digest.json", text.replace(/\b(\d{8}-[0-9a-f]{7}-[0-9a-f]{7}|content-[0-9a-f]{12})\b/g, "<tag>") + "\n");
    });

    it("fleet:startLanes 4: the start line says so, and the fifth container of a tier starts after the first", () => {
        const r = runFleet(["plan", "mainpc"], configuredProject({ mainpc: ["start-lanes-4"] }));
        assert.strictEqual(r.code, 0, r.err.join("\n"));
        assert.ok(r.out.includes("start: core, then the rest; 4 containers of a tier at a time, each after the one 4 before it is healthy (STARTS AFTER)"), r.out.join("\n"));
        assert.match(r.out.find((l) => l.startsWith("CodeGenerator "))!, / ActiveLearningMonitor +http /);
        assert.match(r.out.find((l) => l.startsWith("ActiveLearningMonitor "))!, / - +http /);
    });

    it("one more service on pc2 adds its own rows; no other row moves or changes but for the start policy's STARTS AFTER", () => {
        const texts = realFleetTexts();
        const placed = texts["services.yaml"].replace("  AffectiveProcessingCenter:\n    hosts: [mainpc]\n", "  AffectiveProcessingCenter:\n    hosts: [mainpc, pc2]\n");
        assert.notStrictEqual(placed, texts["services.yaml"]);
        const dir = configuredProject();
        const before = runFleet(["plan", "pc2"], dir).out;
        const after = runFleet(["plan", "pc2", "--fleet", writeFleetDir({ ...texts, "services.yaml": placed })], dir).out;
        // STARTS AFTER is at a fixed place in every row: blank it to compare the rest.
        const at = before[4].indexOf("STARTS AFTER");
        const blank = (l: string) => (/^[A-Z][A-Za-z0-9]+ {2,}(core|app) /.test(l) ? l.slice(0, at) + l.slice(at + 29) : l);
        const added = after.filter((l) => !before.map(blank).includes(blank(l)));
        const removed = before.filter((l) => !after.map(blank).includes(blank(l)));
        // The counts, the GPU services and the card's memory line change with it.
        assert.deepStrictEqual(added.map((l) => l.replace(/\s+.*/, "")), ["AffectiveProcessingCenter", "AffectiveProcessingCenter", "24", "GPU", "GPU"]);
        assert.deepStrictEqual(removed.map((l) => l.replace(/\s+.*/, "")), ["23", "GPU", "GPU"]);
        // In name order, after AdvancedRouter.
        assert.strictEqual(after.findIndex((l) => l.startsWith("AffectiveProcessingCenter ")), 6);
    });
});

describe("scripts/fleet plan refuses a GPU service where GPUs are off (index.ts refuses it the same way, before any resource)", () => {
    it("asked for by name on a stack with fleet:gpu false (the local stack)", () => {
        assert.deepStrictEqual(runFleet(["plan", "local"], configuredProject({ local: ["enable-gpu-service"] })), {
            code: 1, out: [],
            err: ["1 problem in the fleet data or stack config:\n  - Pulumi.local.yaml: fleet:enableServices[0]: 'ModelOpsCoordinator' is enabled by name, but it needs a GPU (compute: gpu), and this stack sets fleet:gpu false. Fix: remove the entry; or set fleet:gpu true where the host's NVIDIA runtime works"],
        });
    });

    it("placed on a host without a GPU (the pc3 fixture)", () => {
        const fixture = path.join(PROJECT, "test", "fixtures", "fleet-pc3");
        const texts = Object.fromEntries(["hosts.yaml", "families.yaml", "services.yaml"].map((f) => [f, fs.readFileSync(path.join(fixture, f), "utf8")]));
        texts["services.yaml"] = texts["services.yaml"].replace("  AffectiveProcessingCenter:\n    hosts: [mainpc]\n", "  AffectiveProcessingCenter:\n    hosts: [mainpc, pc3]\n");
        const dir = writeFleetDir(texts);
        const r = runFleet(["plan", "pc3", "--fleet", dir], projectWith("test/fixtures/fleet-pc3/Pulumi.pc3.yaml"));
        assert.deepStrictEqual({ ...r, err: r.err.map((e) => e.split(dir).join("<dir>")) }, {
            code: 1, out: [],
            err: ["1 problem in the fleet data or stack config:\n  - <dir>/services.yaml: AffectiveProcessingCenter.hosts[1]: needs a GPU (compute: gpu) but host 'pc3' has none (no gpu in <dir>/hosts.yaml). Fix: place AffectiveProcessingCenter on a host with a GPU, or set compute: cpu"],
        });
    });
});

describe("scripts/fleet image-targets", () => {
    it("stdout is the URN list alone, without the pinned service's images; stderr says what was left out and why", () => {
        const plain = runFleet(["image-targets", "pc2"], configuredProject());
        const pinned = runFleet(["image-targets", "pc2"], configuredProject({ pc2: ["pin-tag"] }));
        assert.strictEqual(pinned.code, 0);
        assert.deepStrictEqual(plain.out.filter((u) => !pinned.out.includes(u)), [
            "urn:pulumi:pc2::fleet::fleet:images:HostImages$fleet:images:ServiceImage::cache-manager",
            "urn:pulumi:pc2::fleet::fleet:images:HostImages$fleet:images:ServiceImage$docker-build:index:Image::cache-manager",
        ]);
        assert.ok(pinned.out.every((u) => /^urn:pulumi:pc2::fleet::\S+$/.test(u)));
        // The URNs need no application repository; that it is missing is said, on standard error.
        const missing = (l: string) => l.startsWith("not known here: the tags of stack pc2's service images");
        assert.deepStrictEqual([plain.err.length, plain.err.every(missing)], [1, true]);
        assert.deepStrictEqual(pinned.err.filter((l) => !missing(l)), ["left out: cache-manager (pinned by fleet:pins[0]: nothing is built)"]);
    });

    it("pinAll: every service and family left out, each with its pin; services the stack does not deploy, with why", () => {
        const all = runFleet(["image-targets", "pc2"], configuredProject({ pc2: ["pin-all"] }));
        assert.strictEqual(all.code, 0, all.err.join("\n"));
        assert.ok(all.err.includes("left out: advanced-router (pinned by build lock test/fixtures/build-lock-pc2.json: nothing is built)"));
        assert.ok(all.err.includes("left out: cache-manager (pinned by fleet:pins[0]: nothing is built)"));
        assert.ok(all.err.includes("left out: family-web (only pinned services use it: nothing is built)"));
        const local = runFleet(["image-targets", "local"]);
        assert.ok(local.err.includes("left out: wake-word-detector (not deployed: gated: replaced by RealTimeAudioPipeline while fleet:rtapEnabled is true (002 P0.3))"), local.err.join("\n"));
    });
});

describe("the options of every command that evaluates a stack, from a fresh clone", () => {
    const RUNBOOK = ["--config", "mainpc=test/fixtures/stacks/runbook-mainpc.yaml", "--app-repo", "test/fixtures/app"];
    const address = "not known here: Pulumi.mainpc.yaml: fleet:advertiseAddress: is missing: 'mainpc', the host of fleet:dockerHost, is a name, and published ports are bound to one IP address (CIS Docker 5.14); shown as <mainpc IP>. "
        + "Supply it: --config mainpc=FILE, a file holding \"config: { fleet:advertiseAddress: <value> }\", or pulumi config set fleet:advertiseAddress <value> --stack mainpc";
    const appRepo = (dir: string) => `not known here: the tags of stack mainpc's service images: the application repository is not checked out at ${path.resolve(dir, "../AI_System_Monorepo")} (fleet:appRepo). `
        + "Supply it: --app-repo DIR, or check it out there (scripts/fleet app-repo names the repository and commit)";

    it("plan answers with what it can: what it could not know once at the top, with the option that supplies it; placeholders in its place", () => {
        const dir = freshProject();
        const r = runFleet(["plan", "mainpc"], dir);
        assert.deepStrictEqual([r.code, r.err], [0, []]);
        assert.deepStrictEqual(r.out.slice(0, 4), [address, appRepo(dir), "", "plan for mainpc (stack mainpc, port offset 0, CUDA cu121)"]);
        assert.ok(r.out.includes("ServiceRegistry              core  family-web           <mainpc IP>:7200/8200        -          1     1024    256    -                            http :8200/health start 30s every 1s"), r.out.join("\n"));
        assert.ok(table(r.out, /^SERVICE\s+IMAGE$/).every((l) => l.endsWith("(tag unknown: the application repository is not checked out)")));
        const doc = JSON.parse(runFleet(["plan", "mainpc", "--json"], dir).out.join("\n")) as { unknown: string[]; containers: { publish: { address: string } }[] };
        assert.deepStrictEqual(doc.unknown, [address, appRepo(dir)]);
        assert.ok(doc.containers.every((c) => c.publish.address === "<mainpc IP>"));
    });

    it("the same options on plan, image-targets, check-stack and rollback supply them: nothing unknown, the address and the tags as a configured host has them", () => {
        const dir = freshProject();
        const planned = runFleet(["plan", "mainpc", ...RUNBOOK], dir);
        assert.deepStrictEqual([planned.code, planned.err, planned.out[0]], [0, [], "plan for mainpc (stack mainpc, port offset 0, CUDA cu121)"]);
        assert.ok(planned.out.some((l) => l.startsWith("ServiceRegistry              core  family-web           192.0.2.16:7200/8200 ")));
        assert.ok(!planned.out.some((l) => l.includes("tag unknown")));
        const targets = runFleet(["image-targets", "mainpc", ...RUNBOOK], dir);
        assert.deepStrictEqual(targets.err.filter((l) => !l.startsWith("left out: ")), []);
        // The URNs are the same without them: only standard error says what was not known.
        const bare = runFleet(["image-targets", "mainpc"], dir);
        assert.deepStrictEqual([bare.out, bare.err], [targets.out, [address, appRepo(dir), ...targets.err]]);
        assert.strictEqual(runFleet(["check-stack", "mainpc", ...RUNBOOK], dir).code, 0);
    });

    it("check-stack refuses what pulumi up refuses: the missing address is a problem there, with its fix", () => {
        const r = runFleet(["check-stack", "mainpc", "--app-repo", "test/fixtures/app"], freshProject());
        assert.strictEqual(r.code, 1);
        assert.ok(r.err[0].includes("Pulumi.mainpc.yaml: fleet:advertiseAddress: is missing: 'mainpc', the host of fleet:dockerHost, is a name"), r.err[0]);
    });

    it("--config naming a stack the project lacks is a wrong command line, for every command that takes it", () => {
        for (const command of [["plan", "mainpc"], ["image-targets", "mainpc"], ["check-stack", "mainpc"], ["rollback", "mainpc", "--from", "x.json"], ["diff", "HEAD"]]) {
            const r = runFleet([...command, "--config", "pc9=x.yaml"], freshProject());
            assert.deepStrictEqual([r.code, r.err[0].split("\n")[0]], [2, "fleet: --config pc9=...: no stack 'pc9' in this checkout (local, mainpc, pc2)"], command.join(" "));
        }
    });
});
