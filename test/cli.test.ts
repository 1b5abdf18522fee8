import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { FIXTURE_APP, realFleetTexts, writeFleetDir } from "./helpers";
import { configuredProject, runFleet } from "./fleet/ops/project";

const PROJECT = path.resolve(__dirname, "..");


const run = runFleet;

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
            `  - ${file}: AdvancedCommandHandler.ports.health: 6710 is published on mainpc by both NLUAgent.ports.health and AdvancedCommandHandler.ports.health. Fix: give one of them a free port; the next free port above it on mainpc is 6712`,
        ].join("\n")]);
        assert.deepStrictEqual(r.out, []);
    });

    it("plan mainpc before the runbook's first step: the plan, with the host's address missing said once at the top, and how to set it; check-stack refuses it as pulumi up would", () => {
        const r = run(["plan", "mainpc"]);
        assert.deepStrictEqual([r.code, r.err, r.out[0]], [0, [],
            "not known here: Pulumi.mainpc.yaml: fleet:advertiseAddress: is missing: 'mainpc', the host of fleet:dockerHost, is a name, and published ports are bound to one IP address (CIS Docker 5.14); shown as <mainpc IP>. "
            + "Supply it: --config mainpc=FILE, a file holding \"config: { fleet:advertiseAddress: <value> }\", or pulumi config set fleet:advertiseAddress <value> --stack mainpc"]);
        const check = run(["check-stack", "mainpc"]);
        assert.strictEqual(check.code, 1);
        assert.ok(check.err[0].includes("  - Pulumi.mainpc.yaml: fleet:advertiseAddress: is missing: 'mainpc', the host of fleet:dockerHost, is a name, and published ports are bound to one IP address (CIS Docker 5.14). Fix: set it to the IP address other hosts reach mainpc at"), check.err[0]);
    });

    it("plan of an unknown stack names the stacks there are", () => {
        const r = run(["plan", "pc3"]);
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.err, ["1 problem in the fleet data or stack config:\n  - Pulumi.pc3.yaml: file not found. Fix: use one of local, mainpc, pc2, or create Pulumi.pc3.yaml (pulumi stack init pc3)"]);
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

describe("fleet CLI: check-stack", () => {
    /** A copy of the project's Pulumi files, with some changed. */
    function project(files: Record<string, string>): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-check-stack-"));
        for (const f of fs.readdirSync(path.join(__dirname, "..")).filter((f) => /^Pulumi(\.[^.]+)?\.yaml$/.test(f))) fs.copyFileSync(path.join(__dirname, "..", f), path.join(dir, f));
        for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
        return dir;
    }
    function check(stack: string, dir?: string, ...options: string[]): { code: number; out: string[]; err: string[] } {
        return run(["check-stack", stack, ...options], dir);
    }

    it("passes every shipped stack, saying what the CLI merged and how many services' inputs it found", () => {
        assert.deepStrictEqual(check("local"), { code: 0, out: ["Pulumi.local.yaml: stack 'local' loads as `pulumi up` loads it: 21 keys, 10 of them Pulumi.yaml defaults; the fleet: config is valid; the application repository holds what its 25 services are built from"], err: [] });
        // mainpc and pc2 after the runbook's first step, the host's LAN address, which no
        // committed file can know (ports bind to it alone: CIS Docker 5.14), against a checkout
        // of the application repository (the fixture application stands in for it).
        for (const [stack, services] of [["mainpc", 42], ["pc2", 23]] as const) {
            assert.deepStrictEqual(check(stack, configuredProject(), "--app-repo", FIXTURE_APP).out, [`Pulumi.${stack}.yaml: stack '${stack}' loads as \`pulumi up\` loads it: ${stack === "pc2" ? 22 : 21} keys, 12 of them Pulumi.yaml defaults; the fleet: config is valid; the application repository holds what its ${services} services are built from`], stack);
        }
    });

    it("mainpc and pc2 as committed: the host's address and the application repository are missing, both said at once with their fix", () => {
        for (const stack of ["mainpc", "pc2"]) {
            assert.deepStrictEqual(check(stack).err, [[
                "2 problems in the fleet data or stack config:",
                `  - Pulumi.${stack}.yaml: fleet:advertiseAddress: is missing: '${stack}', the host of fleet:dockerHost, is a name, and published ports are bound to one IP address (CIS Docker 5.14). Fix: set it to the IP address other hosts reach ${stack} at: pulumi config set fleet:advertiseAddress <IP address of ${stack}> --stack ${stack}`,
                `  - Pulumi.${stack}.yaml: fleet:appRepo: ../AI_System_Monorepo (${path.resolve(PROJECT, "..", "AI_System_Monorepo")}) is not a directory: the service images are built from a checkout of the application repository. Fix: clone the application repository there, or point fleet:appRepo at its checkout: pulumi config set fleet:appRepo <path of the checkout> --stack ${stack}`,
            ].join("\n")], stack);
        }
    });

    it("the pull-request workflow's check-stack commands pass as written, in the workflow's layout (the application repository beside this one; the runbook's address on top)", () => {
        const w = parse(fs.readFileSync(path.join(PROJECT, ".github", "workflows", "pull-request.yml"), "utf8")) as { jobs: { validate: { steps: { run?: string }[] } } };
        const commands = w.jobs.validate.steps.flatMap((st) => (st.run ?? "").split("&&").map((c) => c.trim())).filter((c) => c.startsWith("scripts/fleet check-stack "));
        assert.deepStrictEqual(commands.map((c) => c.split(/\s+/)[2]), ["local", "mainpc", "pc2"]);
        // $GITHUB_WORKSPACE: this project at fleet/, the application repository (here the fixture application) beside it.
        const workspace = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-ws-"));
        const project = path.join(workspace, "fleet");
        fs.mkdirSync(project);
        for (const f of fs.readdirSync(PROJECT).filter((n) => /^Pulumi\.([^.]+\.)?yaml$/.test(n))) fs.copyFileSync(path.join(PROJECT, f), path.join(project, f));
        fs.symlinkSync(path.join(PROJECT, "test"), path.join(project, "test"));
        fs.symlinkSync(FIXTURE_APP, path.join(workspace, "AI_System_Monorepo"));
        for (const c of commands) assert.deepStrictEqual(run(c.split(/\s+/).slice(1), project).err, [], c);
    });

    it("reports the CLI's problems and the program's at once, each with file, key and the pulumi config set that fixes it", () => {
        // The program's cross-checks (services, pins) run once its schema passes, as in `pulumi up`.
        const text = fs.readFileSync(path.join(__dirname, "..", "Pulumi.pc2.yaml"), "utf8")
            .replace("  fleet:portOffset: 0\n", "")
            .replace("fleet:rtapEnabled: true", "fleet:rtapEnabled: sometimes")
            .replace("fleet:dockerHost: ssh://ops@pc2", "fleet:dockerHost: pc2:2375")
            + "  fleet:registryUsername: bot\n";
        const r = check("pc2", project({ "Pulumi.pc2.yaml": text }));
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.err[0].split("\n"), [
            "5 problems in the fleet data or stack config:",
            "  - Pulumi.pc2.yaml: fleet:portOffset: Stack 'pc2' is missing configuration value 'portOffset'. Fix: pulumi config set fleet:portOffset <integer> --stack pc2",
            "  - Pulumi.pc2.yaml: line 7: fleet:rtapEnabled: Stack 'pc2' with configuration key 'rtapEnabled' must be of type 'boolean'. Fix: pulumi config set fleet:rtapEnabled <true|false> --stack pc2",
            "  - Pulumi.pc2.yaml: fleet:dockerHost: 'pc2:2375' must start with unix://, ssh:// or tcp://. Fix: correct the value's format: pulumi config set fleet:dockerHost <value> --stack pc2",
            "  - Pulumi.pc2.yaml: line 13: fleet:registryUsername: is plaintext: a registry credential is a secret. Fix: set it encrypted (the CLI replaces the plaintext line): pulumi config set --secret fleet:registryUsername <value> --stack pc2",
            "  - Pulumi.pc2.yaml: fleet:registryPassword: is missing: fleet:registryUsername is set, and a registry login needs both. Fix: pulumi config set --secret fleet:registryPassword <value> --stack pc2",
        ]);
    });

    it("a malformed stack file: the file, the line and the fix; nothing else is checked", () => {
        const r = check("local", project({ "Pulumi.local.yaml": "config:\n  fleet:machine: mainpc\n  fleet:machine: pc2\n" }));
        assert.deepStrictEqual(r, { code: 1, out: [], err: ["1 problem in the fleet data or stack config:\n  - Pulumi.local.yaml: line 3: mapping key \"fleet:machine\" already defined at line 2 (the Pulumi CLI's YAML parser refuses duplicate keys). Fix: keep one of the two entries"] });
    });

    it("an unknown stack names the stacks there are", () => {
        assert.deepStrictEqual(check("laptop").err, ["1 problem in the fleet data or stack config:\n  - Pulumi.laptop.yaml: file not found. Fix: use one of local, mainpc, pc2, or create Pulumi.laptop.yaml (pulumi stack init laptop)"]);
    });
});

describe("fleet CLI: the README's other commands", () => {
    it("diagram --out FILE writes what docs/fleet-diagrams.md holds", () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-diagram-")), "d.md");
        assert.deepStrictEqual(run(["diagram", "--out", out]), { code: 0, out: [`wrote ${out}`], err: [] });
        assert.strictEqual(fs.readFileSync(out, "utf8"), fs.readFileSync(path.join(__dirname, "..", "docs", "fleet-diagrams.md"), "utf8"));
    });

    it("lock-targets: one line per hash-locked service, what scripts/lock-requirements.sh resolves", () => {
        const r = run(["lock-targets"]);
        assert.strictEqual(r.code, 0);
        assert.strictEqual(r.out[0], "ServiceRegistry 3.11 requirements/service-registry.in requirements/service-registry.txt family-web");
        assert.ok(r.out.includes("NLUAgent 3.10 requirements/nlu-agent.in requirements/nlu-agent.txt legacy-py310-cpu"), r.out.join("\n"));
        assert.strictEqual(r.out.length, 69);
    });

    it("image-targets mainpc: one URN a line, all of the mainpc stack", () => {
        const r = run(["image-targets", "mainpc"], configuredProject());
        assert.strictEqual(r.code, 0);
        assert.ok(r.out.length > 10 && r.out.every((u) => u.startsWith("urn:pulumi:mainpc::fleet::")), r.out.join("\n"));
    });
});
