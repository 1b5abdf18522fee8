import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runCli } from "../fleet/cli";
import { realFleetTexts, writeFleetDir } from "./helpers";

function run(argv: string[]): { code: number; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    const code = runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
}

describe("fleet CLI", () => {
    it("validate: exit 0 and a one-line summary on the real data", () => {
        assert.deepStrictEqual(run(["validate"]), { code: 0, out: ["fleet data is valid: 69 services (72 placements) on 2 hosts, 9 families"], err: [] });
    });

    it("validate --fleet DIR: exit 1 and every problem of broken data", () => {
        const texts = realFleetTexts();
        texts["services.yaml"] = texts["services.yaml"]
            .replace("family: legacy-py310-cpu\n    ports: { service: 5709, health: 6709 }", "family: legacy-py310-cpu\n    ports: { service: 5709, health: 6710 }")
            .replace("    family: base-cpu-pydeps\n    ports: { service: 5606", "    family: family-nope\n    ports: { service: 5606");
        const dir = writeFleetDir(texts);
        const r = run(["validate", "--fleet", dir]);
        assert.strictEqual(r.code, 1);
        const shown = path.relative(process.cwd(), path.join(dir, "services.yaml"));
        const file = shown.startsWith("..") ? path.join(dir, "services.yaml") : shown;
        assert.deepStrictEqual(r.err, [[
            "2 problems in the fleet data or stack config:",
            `  - ${file}: Executor.family: 'family-nope' is not a family in ${file.replace("services.yaml", "families.yaml")}. Fix: use one of base-python, base-utils, base-cpu-pydeps, family-web, base-gpu-cu121, family-torch-cu121, family-llm-cu121, family-vision-cu121, legacy-py310-cpu`,
            `  - ${file}: AdvancedCommandHandler.ports.health: 6710 is already published on mainpc by NLUAgent.ports.health. Fix: choose a free port; \`npm run fleet -- plan <stack>\` lists the ports in use`,
        ].join("\n")]);
        assert.deepStrictEqual(r.out, []);
    });

    it("plan mainpc: a row per container and the summary", () => {
        const r = run(["plan", "mainpc"]);
        assert.strictEqual(r.code, 0);
        assert.strictEqual(r.out[0], "plan for mainpc (port offset 0, CUDA cu121)");
        assert.match(r.out[2], /^SERVICE\s+FAMILY\s+PORTS \(svc\/health \+metrics\)\s+GPU\s+HEALTH$/);
        assert.match(r.out[3], /^ServiceRegistry \(core\)\s+family-web\s+7200\/8200\s+-\s+http :8200\/health start 30s$/);
        assert.ok(r.out.some((l) => /^ModelOpsCoordinator\s+family-llm-cu121\s+7212\/8212\s+gpu:0\s+http :8212\/health start 5m$/.test(l)));
        assert.ok(r.out.some((l) => /^CrossMachineGPUScheduler\s+base-cpu-pydeps\s+7155\/8155\s+utility:0\s+/.test(l)));
        assert.ok(r.out.includes("42 containers; families in build order: base-gpu-cu121, base-python, legacy-py310-cpu, base-utils, family-torch-cu121, family-vision-cu121, base-cpu-pydeps, family-llm-cu121, family-web"));
        assert.ok(r.out.includes("not deployed (7):"));
        assert.ok(r.out.includes("  ObservabilityDashboardAPI: disabled: duplicates UnifiedObservabilityCenter's metrics UI (002 P0.2); UOC is kept; fleet:enableServices turns it on"));
        assert.ok(r.out.includes("  WakeWordDetector: gated: replaced by RealTimeAudioPipeline while fleet:rtapEnabled is true (002 P0.3)"));
    });

    it("plan pc2: 23 containers, 5 on the GPU", () => {
        const r = run(["plan", "pc2"]);
        assert.strictEqual(r.code, 0);
        assert.ok(r.out.includes("23 containers; families in build order: base-gpu-cu121, base-python, base-utils, family-torch-cu121, family-vision-cu121, base-cpu-pydeps, family-web"));
        assert.ok(r.out.includes("GPU services (5): DreamWorldAgent, DreamingModeAgent, RealTimeAudioPipelinePC2, SpeechRelayService, VisionProcessingAgent"));
        assert.ok(r.out.includes("not deployed: none"));
    });

    it("plan of an unknown stack names the stacks there are", () => {
        const r = run(["plan", "pc3"]);
        assert.strictEqual(r.code, 1);
        assert.match(r.err[0], /Pulumi\.pc3\.yaml: stack 'pc3' has no config file\. Fix: use one of (\w+, )*mainpc, pc2(, \w+)*, or create Pulumi\.pc3\.yaml/);
    });

    it("usage errors exit 2", () => {
        assert.strictEqual(run([]).code, 2);
        assert.strictEqual(run(["plan"]).code, 2);
        assert.strictEqual(run(["validate", "--flet", "x"]).code, 2);
        assert.strictEqual(run(["deploy"]).code, 2);
    });
});

describe("fleet CLI: dockerfiles", () => {
    it("writes a Dockerfile for every family and every service, and an ignore file per service", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-df-"));
        const r = run(["dockerfiles", "--out", out]);
        assert.deepStrictEqual(r, { code: 0, out: [`wrote 9 family and 69 service Dockerfiles to ${out}`], err: [] });
        const files = fs.readdirSync(out);
        assert.strictEqual(files.filter((f) => f.endsWith(".Dockerfile")).length, 78);
        assert.strictEqual(files.filter((f) => f.endsWith(".Dockerfile.dockerignore")).length, 69);
        assert.ok(files.includes("family-torch-cu121.Dockerfile") && files.includes("cross-machine-gpu-scheduler.Dockerfile"));
    });

    it("--cuda selects the track of the GPU families", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-df-"));
        assert.strictEqual(run(["dockerfiles", "--out", out, "--cuda", "cu118"]).code, 0);
        // The GPU root is the same Debian Python image on every track; the track picks torch's index.
        assert.match(fs.readFileSync(path.join(out, "base-gpu-cu118.Dockerfile"), "utf8"), /^# Family base-gpu-cu121 \(CUDA cu118\): FROM docker\.io\/library\/python:3\.11-slim-bookworm$/m);
        assert.match(fs.readFileSync(path.join(out, "family-torch-cu118.Dockerfile"), "utf8"), /--index-url https:\/\/download\.pytorch\.org\/whl\/cu118 /);
        assert.strictEqual(run(["dockerfiles", "--cuda", "cu200"]).code, 2);
    });
});
