import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { imageTargetUrns } from "../fleet/imageplan/buildPlan";
import { planHost } from "../fleet/model/plan";
import { realFleet, stackFor } from "./helpers";
import { stackNames } from "../fleet/pulumi/load";
import { engineUrns, PROJECT_DIR, Registered, runbookStack, runProgram } from "./mocks";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Workflow = { on: Record<string, any>; permissions: Record<string, string>; jobs: Record<string, any>; concurrency?: Record<string, unknown> };
const DIR = path.join(__dirname, "..", ".github", "workflows");

function workflow(file: string): Workflow {
    return parse(fs.readFileSync(path.join(DIR, file), "utf8")) as Workflow;
}

describe("GitHub Actions workflows", () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml"));

    it("are the pull-request, deploy and cache-prune workflows", () => {
        assert.deepStrictEqual(files.sort(), ["deploy.yml", "prune-registry-cache.yml", "pull-request.yml"]);
    });

    it("pin every action by a 40-hex commit SHA, never a tag", () => {
        for (const f of files) {
            const uses = [...fs.readFileSync(path.join(DIR, f), "utf8").matchAll(/uses:\s*([^\s#]+)/g)].map((m) => m[1]);
            assert.ok(uses.length > 0, f);
            for (const u of uses) assert.match(u, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${f}: ${u}`);
        }
    });

    it("default to read-only permissions and widen them per job only", () => {
        for (const f of files) {
            const w = workflow(f);
            assert.strictEqual(w.permissions.contents, "read", f);
            assert.ok(Object.keys(w.permissions).every((k) => k === "contents" || (f === "prune-registry-cache.yml" && k === "packages")), f);
        }
        assert.deepStrictEqual(workflow("pull-request.yml").jobs.preview.permissions, { contents: "read", "pull-requests": "write" });
        assert.deepStrictEqual(workflow("deploy.yml").jobs.images.permissions, { contents: "read", packages: "write" });
    });

    it("pull requests: tests, validation, and a commented preview of both stacks", () => {
        const w = workflow("pull-request.yml");
        assert.deepStrictEqual(w.on, { pull_request: { branches: ["main"] } });
        assert.ok(w.jobs.test.steps.some((s: { run?: string }) => s.run?.includes("bash .ci/run")));
        assert.ok(w.jobs.validate.steps.some((s: { run?: string }) => s.run === "scripts/fleet validate"));
        // check-stack runs for every committed stack, before any preview.
        const checked = w.jobs.validate.steps.flatMap((s: { run?: string }) => [...(s.run ?? "").matchAll(/scripts\/fleet check-stack (\S+)/g)].map((m) => m[1]));
        assert.deepStrictEqual(checked.sort(), stackNames(PROJECT_DIR));
        const p = w.jobs.preview;
        assert.deepStrictEqual(p.needs, ["test", "validate"]);
        assert.deepStrictEqual(p.strategy.matrix.stack, ["mainpc", "pc2"]);
        const step = p.steps.find((s: { uses?: string }) => s.uses?.startsWith("pulumi/actions@"));
        assert.deepStrictEqual({ command: step.with.command, comment: step.with["comment-on-pr"], policy: step.with.policyPacks }, { command: "preview", comment: true, policy: "policy" });
    });

    it("merges: test, build images, scan (Trivy + SBOM), then deploy mainpc before pc2", () => {
        const w = workflow("deploy.yml");
        assert.deepStrictEqual(w.on, { push: { branches: ["main"] } });
        assert.strictEqual(w.jobs.images.needs, "test");
        assert.strictEqual(w.jobs.scan.needs, "images");
        assert.strictEqual(w.jobs["deploy-mainpc"].needs, "scan");
        assert.strictEqual(w.jobs["deploy-pc2"].needs, "deploy-mainpc");
        assert.deepStrictEqual(w.jobs.images.strategy.matrix.stack, ["mainpc", "pc2"]);
        assert.ok(w.jobs.images.steps.some((s: { run?: string }) => s.run?.includes("scripts/fleet image-targets")));
        const scan = w.jobs.scan.steps.map((s: { uses?: string; run?: string }) => s.uses ?? s.run);
        assert.ok(scan.some((s: string) => s.startsWith("aquasecurity/setup-trivy@")));
        assert.ok(scan.some((s: string) => s.startsWith("anchore/sbom-action/download-syft@")));
        assert.ok(scan.some((s: string) => s.startsWith("scripts/scan-images.sh")));
        for (const job of ["deploy-mainpc", "deploy-pc2"]) {
            const step = w.jobs[job].steps.find((s: { uses?: string }) => s.uses?.startsWith("pulumi/actions@"));
            assert.strictEqual(step.with.command, "up", job);
            assert.strictEqual(step.with.policyPacks, "policy", job);
            assert.ok(w.jobs[job].steps.some((s: { run?: string }) => s.run?.includes("scripts/fleet build-lock - > build-lock-")), `${job} records build-lock.json`);
        }
        assert.strictEqual(w.concurrency?.["cancel-in-progress"], false, "a deploy is never cancelled half-way");
    });

    it("prunes the registry cache on a schedule", () => {
        const w = workflow("prune-registry-cache.yml");
        assert.ok(w.on.schedule[0].cron);
        assert.ok(w.jobs.prune.steps.some((s: { run?: string }) => s.run?.startsWith("scripts/prune-registry-cache.sh ai-system cache")));
    });

    it("scan-images.sh fails on findings and writes SBOMs: every script the workflows run exists and is executable", () => {
        for (const s of ["scripts/scan-images.sh", "scripts/image-refs.sh", "scripts/prune-registry-cache.sh", ".ci/run"]) {
            const st = fs.statSync(path.join(__dirname, "..", s));
            assert.ok(st.mode & 0o100, s);
        }
    });
});

describe("image targets", () => {
    for (const stack of ["mainpc", "pc2"]) {
        it(`${stack}: the URNs the deploy workflow targets are exactly the stack's image resources, their provider and the components they sit in`, async () => {
            const { resources } = await runProgram(runbookStack(stack));
            const urns = engineUrns(stack, resources);
            const wanted = (r: Registered) => r.type === "docker-build:index:Image" || r.type === "pulumi:providers:docker-build" || r.type.startsWith("fleet:images:")
                || (r.type === "fleet:host:FleetHost") || (r.type === "fleet:host:DockerApiProxy");
            const expected = resources.filter(wanted).map((r) => urns.get(`${r.type}::${r.name}`)!).sort();
            const f = realFleet();
            assert.deepStrictEqual(imageTargetUrns(f, planHost(f, stackFor(stack)), stack, "cu121").sort(), expected);
        });
    }
});
