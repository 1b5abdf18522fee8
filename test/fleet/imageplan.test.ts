import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { unhashedRequirements } from "../../fleet/imageplan/appRepo";
import { buildPlan, BuildPlan } from "../../fleet/imageplan/buildPlan";
import { imageVersion } from "../../fleet/imageplan/version";
import { loadFleet } from "../../fleet/model/load";
import { planHost } from "../../fleet/model/plan";
import { CudaTrack, FleetData } from "../../fleet/model/schema";
import { StackConfig } from "../../fleet/model/stack";
import { FIXTURE_APP, fleetErrors, realFleet, stackFor } from "../helpers";

const PROJECT = path.resolve(__dirname, "..", "..");

function git(dir: string, ...args: string[]): void {
    execFileSync("git", ["-C", dir, ...args], { stdio: "ignore", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
}

function committedCopy(sources: [string, string][], date: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-git-"));
    for (const [from, to] of sources) fs.cpSync(from, path.join(dir, to), { recursive: true });
    git(dir, "init", "-q");
    git(dir, "add", "-A");
    execFileSync("git", ["-C", dir, "commit", "-qm", "app"], { env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t", GIT_COMMITTER_DATE: date, GIT_AUTHOR_DATE: date } });
    return dir;
}

/** A git repository holding a copy of the fixture application, committed at `date`. */
function appRepoCopy(date = "2025-08-10T12:00:00Z"): string {
    return committedCopy([[FIXTURE_APP, "."]], date);
}

/**
 * The family inputs (fleet/data, fleet/render) committed in a repository of their own, so the
 * families' versions do not depend on whether this checkout has uncommitted changes.
 */
const PROJECT_COPY = committedCopy([[path.join(PROJECT, "fleet", "data"), "fleet/data"], [path.join(PROJECT, "fleet", "render"), "fleet/render"]], "2025-08-01T00:00:00Z");

function plan(appRepo: string, machine = "pc2", fleet: FleetData = realFleet(), change: Partial<StackConfig> = {}): BuildPlan {
    const cfg = stackFor(machine, { appRepo, ...change }, fleet);
    return buildPlan(fleet, planHost(fleet, cfg), cfg, { projectDir: PROJECT_COPY, appRepo, buildDir: fs.mkdtempSync(path.join(os.tmpdir(), "fleet-build-")), servicesFile: "services.yaml", stackFile: `Pulumi.${machine}.yaml` });
}

function tags(p: BuildPlan): Record<string, string> {
    return Object.fromEntries([...p.families.map((f) => [f.spec.family, f.version.tag]), ...p.services.map((s) => [s.spec.service, s.version.tag])]);
}

describe("image versions and tags", () => {
    it("a committed service is tagged YYYYMMDD-<sha>-<recipe> from the newest commit of its inputs or its family", () => {
        const app = appRepoCopy("2099-01-02T03:04:05Z");
        const p = plan(app);
        const svc = p.services.find((s) => s.spec.service === "CacheManager")!;
        assert.match(svc.version.tag, /^20990102-[0-9a-f]{7}-[0-9a-f]{7}$/);
        assert.strictEqual(svc.version.created, "2099-01-02T03:04:05.000Z");
        assert.strictEqual(svc.labels["org.opencontainers.image.revision"].slice(0, 7), svc.version.tag.slice(9, 16));
    });

    it("changing one service's source changes only that service's tag and generated inputs", () => {
        const app = appRepoCopy();
        const before = plan(app);
        fs.appendFileSync(path.join(app, "pc2_code/agents/cache_manager.py"), "# changed\n");
        git(app, "commit", "-qam", "change CacheManager");
        const after = plan(app);
        const a = tags(before);
        const b = tags(after);
        const changed = Object.keys(a).filter((k) => a[k] !== b[k]);
        assert.deepStrictEqual(changed, ["CacheManager"]);
        for (const s of after.services.filter((x) => x.spec.service !== "CacheManager")) {
            const old = before.services.find((x) => x.spec.service === s.spec.service)!;
            assert.strictEqual(fs.readFileSync(path.resolve(PROJECT_COPY, s.dockerfile.location), "utf8"), fs.readFileSync(path.resolve(PROJECT_COPY, old.dockerfile.location), "utf8"));
        }
    });

    it("uncommitted inputs give a content tag that still only moves for that service", () => {
        const app = appRepoCopy();
        fs.appendFileSync(path.join(app, "pc2_code/agents/task_scheduler.py"), "# wip\n");
        const t = tags(plan(app));
        assert.match(t.TaskScheduler, /^content-[0-9a-f]{12}$/);
        assert.match(t.CacheManager, /^\d{8}-[0-9a-f]{7}-[0-9a-f]{7}$/);
    });

    it("outside git the tag is a content hash, stable across runs", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-nogit-"));
        fs.writeFileSync(path.join(dir, "a.py"), "print(1)\n");
        const v1 = imageVersion({ root: dir, paths: ["a.py"], recipe: "FROM x" });
        assert.deepStrictEqual(imageVersion({ root: dir, paths: ["a.py"], recipe: "FROM x" }), v1);
        assert.match(v1.tag, /^content-[0-9a-f]{12}$/);
        assert.notStrictEqual(imageVersion({ root: dir, paths: ["a.py"], recipe: "FROM y" }).tag, v1.tag);
        fs.writeFileSync(path.join(dir, "a.py"), "print(2)\n");
        assert.notStrictEqual(imageVersion({ root: dir, paths: ["a.py"], recipe: "FROM x" }).tag, v1.tag);
    });

    it("a changed family recipe retags the family and every image built on it", () => {
        const app = appRepoCopy();
        const fleet = realFleet();
        const before = tags(plan(app, "pc2", fleet));
        fleet.families["family-web"].pip.push("orjson==3.10.3");
        const after = tags(plan(app, "pc2", fleet));
        const changed = Object.keys(before).filter((k) => before[k] !== after[k]).sort();
        assert.deepStrictEqual(changed, ["CentralErrorBus", "UnifiedObservabilityCenter", "UnifiedWebAgent", "family-web"]);
    });

    it("a one-line change to a family pin retags that family and its descendants, nothing else", () => {
        const app = appRepoCopy();
        const fleet = realFleet();
        const before = plan(app, "mainpc", fleet);
        const pins = fleet.families["base-cpu-pydeps"].pip;
        pins[pins.indexOf("uvicorn==0.30.1")] = "uvicorn==0.30.0";
        const after = tags(plan(app, "mainpc", fleet));
        const a = tags(before);
        const changed = Object.keys(a).filter((k) => a[k] !== after[k]).sort();
        const descendants = before.services.filter((s) => ["base-cpu-pydeps", "family-web"].includes(s.spec.family)).map((s) => s.spec.service);
        assert.deepStrictEqual(changed, ["base-cpu-pydeps", "family-web", ...descendants].sort());
        assert.ok(before.families.some((f) => f.spec.family === "base-utils") && before.services.some((s) => s.spec.family === "legacy-py310-cpu"), "the plan holds images that must keep their tags");
    });

    it("a committed change to one family's pin in families.yaml retags that family's chain only, not every family that shares the file", () => {
        const app = appRepoCopy();
        const project = committedCopy([[path.join(PROJECT, "fleet", "data"), "fleet/data"], [path.join(PROJECT, "fleet", "render"), "fleet/render"]], "2025-08-01T00:00:00Z");
        const tagsAt = () => {
            const fleet = loadFleet(path.join(project, "fleet", "data"));
            const cfg = stackFor("mainpc", { appRepo: app }, fleet);
            return tags(buildPlan(fleet, planHost(fleet, cfg), cfg, { projectDir: project, appRepo: app, buildDir: fs.mkdtempSync(path.join(os.tmpdir(), "fleet-build-")), servicesFile: "services.yaml", stackFile: "Pulumi.mainpc.yaml" }));
        };
        const a = tagsAt();
        const families = path.join(project, "fleet", "data", "families.yaml");
        fs.writeFileSync(families, fs.readFileSync(families, "utf8").replace("uvicorn==0.30.1", "uvicorn==0.30.0"));
        git(project, "commit", "-qam", "base-cpu-pydeps: uvicorn 0.30.0");
        const b = tagsAt();
        const fleet = realFleet();
        const chain = Object.keys(a).filter((k) => ["base-cpu-pydeps", "family-web"].includes(fleet.services[k]?.family ?? k));
        assert.deepStrictEqual(Object.keys(a).filter((k) => a[k] !== b[k]).sort(), chain.sort());
        assert.ok(chain.length > 2 && Object.keys(a).length > chain.length + 10, "the plan holds images that must keep their tags");
    });
});

describe("application repository checks", () => {
    function broken(edit: (app: string, fleet: FleetData) => void): string[] {
        const app = appRepoCopy();
        const fleet = realFleet();
        edit(app, fleet);
        return fleetErrors(() => plan(app, "pc2", fleet)).map((m) => m.split(app).join("<app>"));
    }

    it("reports a missing requirements lock, with the command that writes it (Debian has no pip-tools)", () => {
        assert.deepStrictEqual(broken((app) => fs.rmSync(path.join(app, "requirements/cache-manager.txt"))), [
            "services.yaml: CacheManager.requirements: <app>/requirements/cache-manager.txt does not exist in the application repository (its input requirements/cache-manager.in does). Fix: lock it: FLEET_LOCK_IMAGES=ghcr.io/ai-system FLEET_LOCK_ONLY=CacheManager scripts/lock-requirements.sh <app>, and commit it",
        ]);
    });

    it("reports a missing lock whose input is missing too: write the input, then lock it", () => {
        assert.deepStrictEqual(broken((app) => ["txt", "in"].forEach((x) => fs.rmSync(path.join(app, `requirements/cache-manager.${x}`)))), [
            "services.yaml: CacheManager.requirements: <app>/requirements/cache-manager.txt does not exist in the application repository, nor its input requirements/cache-manager.in. Fix: list what CacheManager adds to its family in <app>/requirements/cache-manager.in, then FLEET_LOCK_IMAGES=ghcr.io/ai-system FLEET_LOCK_ONLY=CacheManager scripts/lock-requirements.sh <app>; or commit an empty requirements/cache-manager.txt if it needs nothing beyond its family",
        ]);
    });

    const HASH = "--hash=sha256:" + "a".repeat(64);
    const familyPinCases: [string, string, string[]][] = [
        ["another version of a family package", `starlette==0.38.0 \\\n    ${HASH}\n`, [
            "services.yaml: UnifiedWebAgent.requirements: requirements/unified-web-agent.txt asks for starlette==0.38.0, but its family installs starlette==0.37.2 (pinned by family-web). Fix: use starlette==0.37.2, or change the pin in fleet/data/families.yaml for every service of family-web",
        ]],
        ["another version of a grandparent's package, its name spelled differently", `FastAPI==0.110.0 ${HASH}\nUvicorn==0.29.0 ${HASH}\n`, [
            "services.yaml: UnifiedWebAgent.requirements: requirements/unified-web-agent.txt asks for FastAPI==0.110.0, but its family installs fastapi==0.111.0 (pinned by base-cpu-pydeps). Fix: use fastapi==0.111.0, or change the pin in fleet/data/families.yaml for every service of base-cpu-pydeps",
            "services.yaml: UnifiedWebAgent.requirements: requirements/unified-web-agent.txt asks for Uvicorn==0.29.0, but its family installs uvicorn==0.30.1 (pinned by base-cpu-pydeps). Fix: use uvicorn==0.30.1, or change the pin in fleet/data/families.yaml for every service of base-cpu-pydeps",
        ]],
        ["a family package again at the same version", `numpy==1.26.4 ${HASH}\n`, [
            "services.yaml: UnifiedWebAgent.requirements: requirements/unified-web-agent.txt pins numpy==1.26.4, which its family already installs (base-cpu-pydeps pins numpy==1.26.4). Fix: remove it: a service lock holds only what the service adds to its family (scripts/lock-requirements.sh)",
        ]],
    ];
    for (const [name, lock, expected] of familyPinCases) {
        it(`a service lock naming a family package: ${name}`, () => {
            assert.deepStrictEqual(broken((app) => fs.writeFileSync(path.join(app, "requirements/unified-web-agent.txt"), lock)), expected);
        });
    }

    it("a torch-family lock naming torch's builds, judged on the stack's track: a pin its family's build satisfies (no local label) is a re-install, another build a conflict", () => {
        const lock = `torch==2.2.2 ${HASH}\ntorchvision==0.17.2+cu118 ${HASH}\n`;
        const at = "services.yaml: RealTimeAudioPipelinePC2.requirements: requirements/real-time-audio-pipeline-pc2.txt";
        const errors = (track: CudaTrack) => {
            const app = appRepoCopy();
            fs.writeFileSync(path.join(app, "requirements/real-time-audio-pipeline-pc2.txt"), lock);
            return fleetErrors(() => plan(app, "pc2", realFleet(), { cudaTrack: track }));
        };
        const reinstall = (pin: string, family: string) => `${at} pins ${pin}, which its family already installs (family-torch-cu121 pins ${family}). Fix: remove it: a service lock holds only what the service adds to its family (scripts/lock-requirements.sh)`;
        assert.deepStrictEqual(errors("cu121"), [
            reinstall("torch==2.2.2", "torch==2.2.2+cu121"),
            `${at} asks for torchvision==0.17.2+cu118, but its family installs torchvision==0.17.2+cu121 (pinned by family-torch-cu121). Fix: use torchvision==0.17.2+cu121, or change the pin in fleet/data/families.yaml for every service of family-torch-cu121`,
        ]);
        assert.deepStrictEqual(errors("cu118"), [reinstall("torch==2.2.2", "torch==2.2.2+cu118"), reinstall("torchvision==0.17.2+cu118", "torchvision==0.17.2+cu118")]);
    });

    it("a service lock holding only what its family lacks passes", () => {
        const app = appRepoCopy();
        fs.writeFileSync(path.join(app, "requirements/unified-web-agent.txt"), `httpx==0.27.0 ${HASH}\nstarlette-extras==0.38.0 ${HASH}\n`);
        assert.doesNotThrow(() => plan(app, "pc2"));
    });

    it("reports a lock without hashes, unless the service says why", () => {
        const lock = "requests==2.32.3\n";
        assert.deepStrictEqual(broken((app) => fs.writeFileSync(path.join(app, "requirements/cache-manager.txt"), lock)), [
            "services.yaml: CacheManager.requirements: <app>/requirements/cache-manager.txt is not hash-locked (requests==2.32.3 without --hash). Fix: regenerate it from requirements/cache-manager.in: FLEET_LOCK_IMAGES=ghcr.io/ai-system FLEET_LOCK_ONLY=CacheManager scripts/lock-requirements.sh <app>; or set allowUnhashed with the reason",
        ]);
        const app = appRepoCopy();
        fs.writeFileSync(path.join(app, "requirements/cache-manager.txt"), lock);
        const fleet = realFleet();
        fleet.services.CacheManager.allowUnhashed = "internal wheel index serves no hashes";
        assert.doesNotThrow(() => plan(app, "pc2", fleet));
    });

    it("reports a Dockerfile override that does not exist, and a missing entrypoint, together", () => {
        assert.deepStrictEqual(broken((app, fleet) => {
            fleet.services.CacheManager.dockerfile = "pc2_code/Dockerfile.cache";
            fs.rmSync(path.join(app, "pc2_code/agents/task_scheduler.py"));
        }), [
            "services.yaml: CacheManager.dockerfile: <app>/pc2_code/Dockerfile.cache does not exist in the application repository. Fix: correct the path or remove `dockerfile` to use the generated one",
            "services.yaml: TaskScheduler.entrypoint: <app>/pc2_code/agents/task_scheduler.py does not exist in the application repository. Fix: correct the entrypoint path",
            "services.yaml: TaskScheduler.sources[0]: <app>/pc2_code/agents/task_scheduler.py does not exist in the application repository. Fix: correct the path, or set `sources` for this service",
        ]);
    });

    it("uses an existing Dockerfile override as is", () => {
        const app = appRepoCopy();
        fs.writeFileSync(path.join(app, "pc2_code/Dockerfile.cache"), "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n");
        const fleet = realFleet();
        fleet.services.CacheManager.dockerfile = "pc2_code/Dockerfile.cache";
        const s = plan(app, "pc2", fleet).services.find((x) => x.spec.service === "CacheManager")!;
        // Relative to the project directory, like every context and Dockerfile the program names.
        assert.deepStrictEqual([s.dockerfile.location, s.context], [path.relative(PROJECT_COPY, path.join(app, "pc2_code/Dockerfile.cache")), path.relative(PROJECT_COPY, app)]);
    });

    it("symbolic links an image cannot take, on the key that lists them: dangling, leaving the repository, leading to itself", () => {
        assert.deepStrictEqual(broken((app) => {
            fs.symlinkSync("nowhere.py", path.join(app, "memory_fusion_hub/gone.py"));
            fs.symlinkSync("/etc/passwd", path.join(app, "memory_fusion_hub/passwd"));
            fs.symlinkSync(".", path.join(app, "memory_fusion_hub/self"));
        }), [
            "services.yaml: MemoryFusionHub.sources[0]: <app>/memory_fusion_hub/gone.py is a symbolic link to nowhere.py, which does not exist: docker-build cannot hash the build context (\"unable to hash build context\"). Fix: point it at a file of the repository, or remove it",
            "services.yaml: MemoryFusionHub.sources[0]: <app>/memory_fusion_hub/passwd is a symbolic link to /etc/passwd, outside the application repository: an image takes the repository's files only. Fix: copy the file into the repository in its place, or remove the link",
            "services.yaml: MemoryFusionHub.sources[0]: <app>/memory_fusion_hub/self is a symbolic link to ., a directory it sits in, so it leads to itself. Fix: remove the link",
        ]);
    });

    it("a symbolic link inside the repository is staged as what it leads to, a regular file or a directory; the content tag follows the target's bytes", () => {
        const app = appRepoCopy();
        fs.symlinkSync("../common", path.join(app, "memory_fusion_hub/shared"));
        fs.writeFileSync(path.join(app, "memory_fusion_hub/tool.sh"), "#!/bin/sh\n", { mode: 0o755 });
        fs.symlinkSync("tool.sh", path.join(app, "memory_fusion_hub/tool"));
        const fleet = realFleet();
        const build = (p: BuildPlan) => p.services.find((x) => x.spec.service === "MemoryFusionHub")!;
        const first = plan(app, "pc2", fleet);
        const staged = path.join(PROJECT_COPY, build(first).context);
        for (const f of ["memory_fusion_hub/shared", "memory_fusion_hub/tool"]) assert.ok(!fs.lstatSync(path.join(staged, f)).isSymbolicLink(), f);
        const common = fs.readdirSync(path.join(app, "common")).filter((n) => !n.endsWith(".pyc") && n !== "__pycache__").sort();
        assert.deepStrictEqual(fs.readdirSync(path.join(staged, "memory_fusion_hub/shared")).sort(), common);
        assert.strictEqual(fs.statSync(path.join(staged, "memory_fusion_hub/tool")).mode & 0o777, 0o755, "the target's execute bit");
        const tag = build(first).version.tag;
        assert.match(tag, /^content-/, "uncommitted inputs: a content tag");
        fs.appendFileSync(path.join(app, "common", common.find((n) => n.endsWith(".py"))!), "# changed\n");
        assert.notStrictEqual(build(plan(app, "pc2", fleet)).version.tag, tag, "the link's target changed: the tag moves");
    });

    it("an application repository that is not there is named", () => {
        assert.deepStrictEqual(fleetErrors(() => plan("/nonexistent/app")), ["Pulumi.pc2.yaml: fleet:appRepo: /nonexistent/app is not a directory: the service images are built from a checkout of the application repository. Fix: clone the application repository there, or point fleet:appRepo at its checkout"]);
    });

    const locks: [string, string, string[]][] = [
        ["empty", "", []],
        ["comments only", "# nothing\n\n", []],
        ["hashed with continuation", "requests==2.32.3 \\\n    --hash=sha256:" + "a".repeat(64) + "\n", []],
        ["options are not requirements", "--index-url https://example.org/simple\n", []],
        ["one unhashed among hashed", "a==1 --hash=sha256:" + "b".repeat(64) + "\nb==2\n", ["b==2"]],
    ];
    for (const [what, text, expected] of locks) {
        it(`finds unhashed requirements: ${what}`, () => assert.deepStrictEqual(unhashedRequirements(text), expected));
    }
});
