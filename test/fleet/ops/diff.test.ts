/**
 * `scripts/fleet diff <base-ref> [<head-ref>]` on real git repositories (diffRepo.ts): per stack
 * the images whose tag moves and the containers replaced, each with why, from the program's own
 * plan and tag code; and what it says about a ref or data it cannot use.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { diffRefs, DiffDocument } from "../../../fleet/ops/diff";
import { FRONT_RELOADED } from "../../../fleet/ops/diffCompare";
import { renderDiff } from "../../../fleet/ops/diffText";
import { commit, diffRepo, edit, git, pinApp, RUNBOOK_ARGS } from "./diffRepo";
import { runFleet } from "./project";

const NO_OVERRIDES = { overrides: { all: [], byStack: {} } };
const RUNBOOK = { overrides: { all: [], byStack: { mainpc: [RUNBOOK_ARGS[1].split("=")[1]], pc2: [RUNBOOK_ARGS[3].split("=")[1]] } } };

/** Per stack: each image with why, each container with its change, fields and why. */
function outline(doc: DiffDocument) {
    return doc.stacks.map((s) => ({
        stack: s.stack,
        images: s.images.map((i) => `${i.image}: ${i.because.join("; ")}`),
        containers: s.containers.map((c) => `${c.change} ${c.container}: ${c.fields.map((f) => f.path).join(", ")}; ${c.because.join("; ")}`),
    }));
}

/** `<yyyymmdd>-<sha7>` of a tag: the commit it names. */
const commitPart = (tag: string | null) => tag!.slice(0, 16);

describe("scripts/fleet diff", () => {
    it("a change to one service's file in the application repository lists that image and its container only", () => {
        const r = diffRepo(["local", "mainpc"]);
        edit(path.join(r.app, "main_pc_code/agents/nlu_agent.py"), "", "# changed\n");
        const appHead = commit(r.app, "NLUAgent: a change");
        pinApp(r.project, appHead);
        const head = commit(r.project, "deploy the application's new commit");
        const doc = diffRefs(r.project, "base", "HEAD", RUNBOOK);
        const image = doc.stacks[1].images[0];
        const appDay = git(r.app, "log", "-1", "--format=%cs").replace(/-/g, "");
        assert.strictEqual(image.head, `${appDay}-${appHead.slice(0, 7)}-${image.base!.slice(-7)}`, "the new tag names the application's commit; the recipe is the same");
        const appBase = git(r.app, "rev-parse", "HEAD~1");
        assert.deepStrictEqual(renderDiff(doc), [
            `diff base (${r.base.slice(0, 7)}) -> HEAD (${head.slice(0, 7)})`,
            `application repository at base: ai-system/AI_System_Monorepo at ${appBase.slice(0, 7)} (base's app-repo.yaml)`,
            `application repository at HEAD: ai-system/AI_System_Monorepo at ${appHead.slice(0, 7)} (HEAD's app-repo.yaml)`,
            "",
            "stack local: no change",
            "",
            "stack mainpc: 1 image moves, 1 container replaced",
            "  replaces 1 of its 42 service containers:",
            "    1 because image nlu-agent moved",
            `  image nlu-agent: ${image.base} -> ${image.head}`,
            "    files: main_pc_code/agents/nlu_agent.py",
            "  replace nlu-agent (NLUAgent)",
            `    image: ghcr.io/ai-system/nlu-agent:${image.base} -> ghcr.io/ai-system/nlu-agent:${image.head}`,
            "    because: image nlu-agent moved",
        ]);
    });

    it("a family recipe change (a families.yaml pin) lists the family's chain: the family, its child family, their services' images and containers", () => {
        const r = diffRepo(["local"]);
        edit(path.join(r.project, "fleet/data/families.yaml"), "uvicorn==0.30.1", "uvicorn==0.30.0");
        commit(r.project, "base-cpu-pydeps: uvicorn 0.30.0");
        const doc = diffRefs(r.project, "base", "HEAD", NO_OVERRIDES);
        const [pydeps, web] = [
            ["ActiveLearningMonitor", "CodeGenerator", "CrossMachineGPUScheduler", "EmotionEngine", "Executor", "GoTToTAgent", "HumanAwarenessAgent", "MemoryFusionHub", "MoodTrackerAgent", "PredictiveHealthMonitor", "SelfHealingSupervisor", "SystemDigitalTwin", "ToneDetector", "UnifiedSystemAgent", "VoiceProfilingAgent"],
            ["CloudTranslationService", "ServiceRegistry", "SmartHomeAgent", "StreamingTranslationProxy", "UnifiedObservabilityCenter"],
        ];
        const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, "$1-$2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2").toLowerCase();
        const images = [
            "base-cpu-pydeps: recipe: its Dockerfile changed: -uvicorn==0.30.1 +uvicorn==0.30.0",
            "family-web: parent base-cpu-pydeps moved",
            ...pydeps.map((s) => `${kebab(s)}: parent base-cpu-pydeps moved`),
            ...web.map((s) => `${kebab(s)}: parent family-web moved`),
        ].sort();
        const containers = [...pydeps, ...web].map(kebab).sort().map((c) => `replace ${c}: image; image ${c} moved`);
        assert.deepStrictEqual(outline(doc), [{ stack: "local", images, containers }]);
        // The pin is in the Dockerfiles, not in a file the families share: the tags keep their commit, only the recipe moves.
        for (const i of doc.stacks[0].images) assert.strictEqual(commitPart(i.head), commitPart(i.base), i.image);
    });

    it("a port change in a stack (fleet:portOffset) lists every container of that stack, with the fields and the key, and no image", () => {
        const r = diffRepo(["local"]);
        edit(path.join(r.project, "Pulumi.local.yaml"), "fleet:portOffset: 0", "fleet:portOffset: 100");
        commit(r.project, "local: port offset 100");
        const doc = diffRefs(r.project, "base", "HEAD", NO_OVERRIDES);
        const [local] = doc.stacks;
        assert.deepStrictEqual(local.images, []);
        const planned = JSON.parse(runFleet(["plan", "local", "--json"]).out.join("\n")) as { containers: { container: string }[] };
        // Every container (its environment holds its ports), and the host front: its own health answer's port moves with the offset.
        assert.deepStrictEqual(local.containers.map((c) => `${c.change} ${c.container}`), [...planned.containers.map((c) => `replace ${c.container}`), "replace fleet-mainpc-front"].sort());
        assert.deepStrictEqual(renderDiff(doc).slice(renderDiff(doc).indexOf("  replace nlu-agent (NLUAgent)")).slice(0, 9), [
            "  replace nlu-agent (NLUAgent)",
            // The host's UnifiedObservabilityCenter moves with the offset too: the start reports follow it.
            "    env.FLEET_UOC_ENDPOINT: unified-observability-center:9100 -> unified-observability-center:9200",
            "    env.HEALTH_PORT: 6709 -> 6809",
            "    env.PORT_OFFSET: 0 -> 100",
            "    env.SERVICE_PORT: 5709 -> 5809",
            "    health.port: 6709 -> 6809",
            "    ports.health: 6709 -> 6809",
            "    ports.service: 5709 -> 5809",
            "    because: HEAD:Pulumi.local.yaml: fleet:portOffset 0 -> 100",
        ]);
    });

    it("a service's port in services.yaml: its image (the port is in its Dockerfile) and container, and the peer front of the stack that uses it", () => {
        const r = diffRepo(["mainpc", "pc2"]);
        edit(path.join(r.project, "fleet/data/services.yaml"), "ports: { service: 7200, health: 8200 }", "ports: { service: 7199, health: 8200 }");
        commit(r.project, "ServiceRegistry: port 7199");
        const doc = diffRefs(r.project, "base", "HEAD", RUNBOOK);
        const [mainpc, pc2] = outline(doc);
        assert.deepStrictEqual(mainpc, {
            stack: "mainpc",
            images: ["service-registry: recipe: its Dockerfile changed: -SERVICE_PORT=7200 -7200 +SERVICE_PORT=7199 +7199"],
            containers: [
                // The host front reloads with the port: nothing is interrupted.
                `reload fleet-mainpc-front: listen service-registry.service-7199, listen service-registry.service-7200; ${FRONT_RELOADED}`,
                "replace service-registry: env.SERVICE_PORT, image, ports.service; image service-registry moved; fleet/data/services.yaml: ServiceRegistry.ports.service 7200 -> 7199",
            ],
        });
        assert.deepStrictEqual(pc2.images, []);
        // pc2 reaches it through its peer front, on the port it has now: that one container moves, none of pc2's services.
        assert.deepStrictEqual(pc2.containers, [
            "replace service-registry-peer: endpoint, port; stack mainpc: ServiceRegistry's endpoint 192.0.2.16:7200 -> 192.0.2.16:7199; fleet/data/services.yaml: ServiceRegistry.ports.service 7200 -> 7199; "
                + "a peer front has a fixed name: the old one is removed first, and pc2's containers cannot reach ServiceRegistry until the new one starts (about a second)",
        ]);
    });

    it("the command line: --json, the head defaulting to the working tree; a change of the program's code is named, not evaluated; no worktree is left", () => {
        const r = diffRepo(["local"]);
        for (const f of ["index.ts", "fleet/model/plan.ts"]) {
            fs.mkdirSync(path.dirname(path.join(r.project, f)), { recursive: true });
            fs.writeFileSync(path.join(r.project, f), "// changed\n");
        }
        const head = commit(r.project, "code");
        const r1 = runFleet(["diff", "base", "--json"], r.project);
        assert.strictEqual(r1.code, 0, r1.err.join("\n"));
        const doc = JSON.parse(r1.out.join("\n")) as DiffDocument;
        assert.deepStrictEqual(doc, {
            version: 1, base: { ref: "base", commit: r.base, appRepo: [] }, head: { ref: "working tree", commit: head, appRepo: [] }, codeChanged: ["fleet/model/plan.ts", "index.ts"],
            stacks: [{ stack: "local", images: [], containers: [], serviceContainers: 25 }], uncommitted: [], unknown: [],
        });
        assert.deepStrictEqual(git(r.project, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree ")), [`worktree ${r.project}`]);
        assert.deepStrictEqual(renderDiff(doc), [
            `diff base (${r.base.slice(0, 7)}) -> the working tree (on ${head.slice(0, 7)})`,
            "the program's code differs between the refs (fleet/model/plan.ts, index.ts): both are evaluated with this checkout's code, so what that change does is not shown here (pulumi preview shows it)",
            "",
            "stack local: no change",
        ]);
    });

    it("a ref that names no commit, a wrong command line, a shallow clone: each named with its fix", () => {
        const r = diffRepo(["local"]);
        assert.deepStrictEqual(runFleet(["diff", "origin/mian"], r.project), {
            code: 1, out: [], err: [[
                "1 problem in the fleet data or stack config:",
                `  - git: 'origin/mian': is not a commit of ${r.project}. Fix: name a branch, tag or commit it has (git -C ${r.project} log --oneline), or fetch it first (git -C ${r.project} fetch origin)`,
            ].join("\n")],
        });
        assert.strictEqual(runFleet(["diff"], r.project).err[0].split("\n")[0], "fleet: diff needs a base ref and at most a head ref, e.g. diff origin/main HEAD");
        assert.strictEqual(runFleet(["diff", "base", "--config", "pc9=x.yaml"], r.project).err[0].split("\n")[0], "fleet: --config pc9=...: no stack 'pc9' in this checkout (local)");
        assert.strictEqual(runFleet(["diff", "base", "HEAD", "HEAD"], r.project).code, 2);
        assert.strictEqual(runFleet(["diff", "base", "--fleet", "x"], r.project).err[0].split("\n")[0], "fleet: diff evaluates each ref's own fleet/data; --fleet does not apply (commit the data, or compare with the working tree: diff <base-ref>)");
        const shallow = `${r.project}-shallow`;
        git(path.dirname(r.project), "clone", "-q", "--depth", "1", `file://${r.project}`, shallow);
        assert.deepStrictEqual(runFleet(["diff", "HEAD"], shallow).err[0].split("\n").slice(1), [
            `  - git: this repository: ${shallow} is a shallow clone: an image's tag names the newest commit that changed its inputs, which a shallow history cannot tell (every image would be tagged with HEAD, rebuilt and its containers replaced). Fix: git -C ${shallow} fetch --unshallow (in GitHub Actions: actions/checkout with fetch-depth: 0)`,
        ]);
    });

    it("data that does not load at a ref, and a pinned commit the application checkout lacks: named by the ref, before anything is compared", () => {
        const r = diffRepo(["mainpc"]);
        edit(path.join(r.project, "fleet/data/services.yaml"), "ports: { service: 7200, health: 8200 }", "ports: { service: 7200, health: 8200, extra: 1 }");
        commit(r.project, "a key services.yaml does not know");
        const mainpc = RUNBOOK_ARGS.slice(0, 2);
        assert.deepStrictEqual(runFleet(["diff", "base", "HEAD", ...mainpc], r.project).err[0].split("\n").slice(1), [
            "  - HEAD:fleet/data/services.yaml: ServiceRegistry.ports.extra: is not a known key. Fix: remove it, or use one of service, health, metrics",
        ]);
        git(r.project, "checkout", "-q", "base");
        pinApp(r.project, "f".repeat(40));
        commit(r.project, "pin a commit nobody has");
        const leftovers = () => fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith("fleet-diff-")).sort();
        const before = leftovers();
        const lacking = runFleet(["diff", "base", "HEAD", ...mainpc], r.project);
        assert.deepStrictEqual([lacking.code, lacking.err[0].split("\n").slice(1)], [1, [
            `  - HEAD:app-repo.yaml: ref: ${"f".repeat(40)} is not a commit of ${r.app}. Fix: check ai-system/AI_System_Monorepo out there with its full history (git -C ${r.app} fetch origin; in GitHub Actions: actions/checkout with fetch-depth: 0)`,
        ]]);
        // base was evaluated (a worktree of each repository) before HEAD failed: both are gone.
        assert.deepStrictEqual(leftovers(), before);
        for (const repo of [r.project, r.app]) assert.deepStrictEqual(git(repo, "worktree", "list", "--porcelain").split("\n").filter((l) => l.startsWith("worktree ")), [`worktree ${repo}`]);
    });

    it("edits not committed: diff <base> compares with the files as they are, untracked ones too, named without a ref; diff <base> HEAD names them as left out", () => {
        const r = diffRepo(["mainpc"]);
        const mainpc = RUNBOOK_ARGS.slice(0, 2);
        edit(path.join(r.project, "fleet/data/services.yaml"), "ports: { service: 7200, health: 8200 }", "ports: { service: 7199, health: 8200 }");
        const worktree = runFleet(["diff", "base", ...mainpc], r.project);
        assert.strictEqual(worktree.code, 0, worktree.err.join("\n"));
        assert.deepStrictEqual(worktree.out.filter((l) => l.startsWith("diff ") || l.startsWith("stack ") || l.includes("because: fleet/")), [
            `diff base (${r.base.slice(0, 7)}) -> the working tree (on ${r.base.slice(0, 7)})`,
            "stack mainpc: 1 image moves, 1 container replaced, 1 container reloaded",
            "    because: fleet/data/services.yaml: ServiceRegistry.ports.service 7200 -> 7199",
        ]);
        // An untracked override file and the edit: HEAD has neither, so `diff base HEAD` says so instead of a bare "no change".
        fs.writeFileSync(path.join(r.project, "notes.txt"), "x\n");
        const commits = runFleet(["diff", "base", "HEAD", ...mainpc], r.project);
        assert.deepStrictEqual(commits.out.filter((l) => !l.startsWith("application repository")), [
            `diff base (${r.base.slice(0, 7)}) -> HEAD (${r.base.slice(0, 7)})`,
            "this checkout's files differ from HEAD (fleet/data/services.yaml, notes.txt): not in this comparison of commits; scripts/fleet diff base compares base with the files as they are",
            "",
            "stack mainpc: no change",
        ]);
        const data = runFleet(["diff", "base", "--json", ...mainpc], r.project);
        assert.deepStrictEqual((JSON.parse(data.out.join("\n")) as DiffDocument).uncommitted, []);
        // The working tree's data that does not load is named as the file itself.
        edit(path.join(r.project, "fleet/data/services.yaml"), "ports: { service: 7199, health: 8200 }", "ports: { service: 7199, health: 8200, extra: 1 }");
        assert.deepStrictEqual(runFleet(["diff", "base", ...mainpc], r.project).err[0].split("\n").slice(1), [
            "  - fleet/data/services.yaml: ServiceRegistry.ports.extra: is not a known key. Fix: remove it, or use one of service, health, metrics",
        ]);
    });

    it("from a fresh clone (no application repository, no host address): diff <base> answers, saying once what it could not know and what supplies it", () => {
        const r = diffRepo(["mainpc"]);
        // The application repository checked out elsewhere than the stacks name (or not at all).
        const elsewhere = `${r.app}-elsewhere`;
        fs.renameSync(r.app, elsewhere);
        edit(path.join(r.project, "fleet/data/services.yaml"), "ports: { service: 7200, health: 8200 }", "ports: { service: 7199, health: 8200 }");
        const d = runFleet(["diff", "base"], r.project);
        assert.strictEqual(d.code, 0, d.err.join("\n"));
        assert.deepStrictEqual(d.out.slice(0, 4), [
            `diff base (${r.base.slice(0, 7)}) -> the working tree (on ${r.base.slice(0, 7)})`,
            "not known here: Pulumi.mainpc.yaml: fleet:advertiseAddress: is missing: 'mainpc', the host of fleet:dockerHost, is a name, and published ports are bound to one IP address (CIS Docker 5.14); shown as <mainpc IP>. "
                + "Supply it: --config mainpc=FILE, a file holding \"config: { fleet:advertiseAddress: <value> }\", or pulumi config set fleet:advertiseAddress <value> --stack mainpc",
            `not known here: the tags of stack mainpc's service images: the application repository is not checked out at ${r.app} (fleet:appRepo). Supply it: --app-repo DIR, or check it out there (scripts/fleet app-repo names the repository and commit)`,
            "",
        ]);
        // What the data says is known: the port moves, so the container is replaced and the host front reloads.
        assert.deepStrictEqual(d.out.filter((l) => /^ {2}(replace|reload|image) /.test(l)), ["  reload fleet-mainpc-front (host front)", "  replace service-registry (ServiceRegistry)"]);
        // --app-repo names that checkout and --config the address: nothing unknown, and the image moves too.
        const withApp = runFleet(["diff", "base", "--app-repo", elsewhere, "--config", `mainpc=${RUNBOOK_ARGS[1].split("=")[1]}`], r.project);
        assert.strictEqual(withApp.code, 0, withApp.err.join("\n"));
        assert.deepStrictEqual(withApp.out.filter((l) => l.startsWith("not known here")), []);
        assert.deepStrictEqual(withApp.out.filter((l) => /^ {2}(replace|reload|image) /.test(l)).map((l) => l.split(":")[0]), ["  image service-registry", "  reload fleet-mainpc-front (host front)", "  replace service-registry (ServiceRegistry)"]);
    });

    it("the cost before the rows: a service moved between hosts replaces none of the other host's containers; its peer front is removed", () => {
        // The move of issue 27: ModelOpsCoordinator from mainpc to pc2, dropped from pc2's uses.
        const r = diffRepo(["mainpc", "pc2"]);
        edit(path.join(r.project, "fleet/data/services.yaml"), "  ModelOpsCoordinator:\n    hosts: [mainpc]\n", "  ModelOpsCoordinator:\n    hosts: [pc2]\n");
        edit(path.join(r.project, "fleet/data/hosts.yaml"), "mainpc: [ServiceRegistry, SystemDigitalTwin, ModelOpsCoordinator]", "mainpc: [ServiceRegistry, SystemDigitalTwin]");
        // With its 8192 MB PC2's card refuses it (test/fleet/check.test.ts); a smaller model cache fits.
        edit(path.join(r.project, "fleet/data/services.yaml"), "    vramMb: 8192\n", "    vramMb: 4096\n");
        const out = renderDiff(diffRefs(r.project, "base", undefined, RUNBOOK));
        /** A stack's section: from its `stack` line to the blank line after it. */
        const stackLines = (stack: string) => {
            const from = out.findIndex((l) => l.startsWith(`stack ${stack}:`));
            const end = out.indexOf("", from);
            return out.slice(from, end < 0 ? undefined : end);
        };
        const pc2 = stackLines("pc2");
        // pc2's containers reach it by its name either way: pc2's host front now serves the name its peer
        // front held (fleet/model/plan.ts PeerPlan). Before, each carried every peer's address and all 23 were replaced.
        assert.deepStrictEqual(pc2.slice(0, 2), ["stack pc2: 2 images move, 1 container reloaded, 1 container added, 1 container removed", "  replaces none of its 24 service containers"]);
        assert.deepStrictEqual(pc2.filter((l) => /^ {2}(replace|reload|add|remove) /.test(l)), ["  reload fleet-pc2-front (host front)", "  add model-ops-coordinator (ModelOpsCoordinator)", "  remove model-ops-coordinator-peer (ModelOpsCoordinator)"]);
        assert.deepStrictEqual(pc2.slice(pc2.indexOf("  remove model-ops-coordinator-peer (ModelOpsCoordinator)") + 1), ["    because: fleet/data/hosts.yaml: pc2.uses.mainpc no longer lists ModelOpsCoordinator"]);
        // mainpc: the family ModelOpsCoordinator alone used there is no longer built.
        // mainpc's host front reloads without its listen sections.
        assert.strictEqual(stackLines("mainpc")[0], "stack mainpc: 1 image moves, 1 container reloaded, 1 container removed");
    });
});
