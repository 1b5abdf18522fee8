import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { imageTargetUrns } from "../fleet/imageplan/buildPlan";
import { planHost } from "../fleet/model/plan";
import { parsedStack, realFleet, stackFor } from "./helpers";
import { DEPLOY_PARALLEL } from "../fleet/model/defaults";
import { stackNames } from "../fleet/pulumi/load";
import { engineUrns, PROJECT_DIR, Registered, runbookStack, runProgram } from "./mocks";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Workflow = { on: Record<string, any>; permissions: Record<string, string>; jobs: Record<string, any>; concurrency?: Record<string, unknown>; env?: Record<string, string> };
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = { steps: Step[]; env?: Record<string, string>; defaults?: { run?: { "working-directory"?: string; shell?: string } } };
const ROOT = path.join(__dirname, "..");
const DIR = path.join(ROOT, ".github", "workflows");
const APP_CHECKOUT = ".github/actions/app-checkout/action.yml";
const CHECKOUT = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683";

function workflow(file: string): Workflow {
    return parse(fs.readFileSync(path.join(DIR, file), "utf8")) as Workflow;
}

/** Every job of every workflow, as `<file>#<job>`. */
function allJobs(): [string, Job, Workflow][] {
    return fs.readdirSync(DIR).filter((f) => f.endsWith(".yml")).sort().flatMap((f) => {
        const w = workflow(f);
        return Object.entries(w.jobs).map(([name, job]): [string, Job, Workflow] => [`${f}#${name}`, job as Job, w]);
    });
}

/** A step that runs the program: pulumi up/preview (itself, through pulumi/actions, or the drift check). */
function runsPulumi(s: Step): boolean {
    return (s.uses?.startsWith("pulumi/actions@") === true && s.with?.command !== undefined) || /\bpulumi (up|preview)\b|scripts\/drift-check\.sh/.test(s.run ?? "");
}

/** A job that evaluates the program: it runs pulumi, or a scripts/fleet command. */
function evaluates(job: Job): boolean {
    return job.steps.some((s) => runsPulumi(s) || /scripts\/fleet /.test(s.run ?? ""));
}

describe("GitHub Actions workflows", () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".yml"));

    it("are the pull-request, deploy, drift and cache-prune workflows", () => {
        assert.deepStrictEqual(files.sort(), ["deploy.yml", "drift.yml", "prune-registry-cache.yml", "pull-request.yml"]);
    });

    it("pin every action by a 40-hex commit SHA, never a tag; the one local action is this repository's own", () => {
        for (const f of [...files.map((x) => path.join(DIR, x)), path.join(ROOT, APP_CHECKOUT)]) {
            const uses = [...fs.readFileSync(f, "utf8").matchAll(/uses:\s*([^\s#]+)/g)].map((m) => m[1]);
            assert.ok(uses.length > 0, f);
            for (const u of uses) {
                if (u === "./fleet/.github/actions/app-checkout") continue;
                assert.match(u, /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${f}: ${u}`);
            }
        }
    });

    it("every job that evaluates the program checks out this repository at fleet/ and the application repository beside it, both with full history, and runs in fleet/", () => {
        const evaluating = allJobs().filter(([, job]) => evaluates(job)).map(([name]) => name).sort();
        assert.deepStrictEqual(evaluating, [
            "deploy.yml#deploy-mainpc", "deploy.yml#deploy-pc2", "deploy.yml#images", "drift.yml#drift",
            "pull-request.yml#diff", "pull-request.yml#preview", "pull-request.yml#validate",
        ]);
        for (const [name, job] of allJobs().filter(([, j]) => evaluates(j))) {
            assert.deepStrictEqual(job.steps.slice(0, 2), [
                { uses: CHECKOUT, with: { path: "fleet", "fetch-depth": 0 } },
                { uses: "./fleet/.github/actions/app-checkout", with: { token: "${{ secrets.APP_REPO_TOKEN }}" } },
            ], name);
            assert.deepStrictEqual(job.defaults?.run, { shell: "bash", "working-directory": "fleet" }, name);
            for (const s of job.steps.filter((x) => x.uses?.startsWith("pulumi/actions@") && x.with?.command)) assert.strictEqual(s.with?.["work-dir"], "fleet", name);
            for (const s of job.steps.filter((x) => x.uses?.startsWith("actions/upload-artifact@"))) assert.match(String(s.with?.path), /^fleet\//, `${name}: upload-artifact paths start at $GITHUB_WORKSPACE`);
        }
    });

    it("the application repository's checkout: the repository, commit and path scripts/fleet app-repo prints, full history, the token for a private repository", () => {
        const action = parse(fs.readFileSync(path.join(ROOT, APP_CHECKOUT), "utf8")) as { inputs: Record<string, { required: boolean }>; runs: { using: string; steps: (Step & { id?: string; shell?: string; "working-directory"?: string })[] } };
        assert.deepStrictEqual(action.inputs.token.required, true);
        assert.deepStrictEqual(action.runs, {
            using: "composite",
            steps: [
                { id: "pin", shell: "bash", "working-directory": "fleet", run: "scripts/fleet app-repo >> \"$GITHUB_OUTPUT\"" },
                {
                    uses: CHECKOUT,
                    with: { repository: "${{ steps.pin.outputs.repository }}", ref: "${{ steps.pin.outputs.ref }}", path: "${{ steps.pin.outputs.path }}", "fetch-depth": 0, token: "${{ inputs.token }}" },
                },
            ],
        });
    });

    it("no checkout is shallow where tags are computed: the test jobs fetch the full history too", () => {
        for (const [name, job] of allJobs()) {
            const own = job.steps.filter((s) => s.uses === CHECKOUT);
            const needsHistory = evaluates(job) || job.steps.some((s) => s.run?.includes(".ci/run"));
            if (needsHistory) for (const s of own) assert.strictEqual(s.with?.["fetch-depth"], 0, name);
        }
    });

    it("every job that runs pulumi exports BUILDX_NO_DEFAULT_ATTESTATIONS=1 (the program refuses to run without it)", () => {
        const running = allJobs().filter(([, job]) => job.steps.some(runsPulumi));
        assert.deepStrictEqual(running.map(([n]) => n).sort(), ["deploy.yml#deploy-mainpc", "deploy.yml#deploy-pc2", "deploy.yml#images", "drift.yml#drift", "pull-request.yml#preview"]);
        for (const [name, job, w] of running) {
            for (const s of job.steps.filter(runsPulumi)) assert.strictEqual({ ...w.env, ...job.env, ...s.env }.BUILDX_NO_DEFAULT_ATTESTATIONS, "1", name);
        }
    });

    it("default to read-only permissions and widen them per job only", () => {
        for (const f of files) {
            const w = workflow(f);
            assert.strictEqual(w.permissions.contents, "read", f);
            assert.ok(Object.keys(w.permissions).every((k) => k === "contents" || (f === "prune-registry-cache.yml" && k === "packages")), f);
        }
        assert.deepStrictEqual(workflow("pull-request.yml").jobs.preview.permissions, { contents: "read", "pull-requests": "write" });
        assert.deepStrictEqual(workflow("pull-request.yml").jobs.diff.permissions, { contents: "read", "pull-requests": "write" });
        assert.strictEqual(workflow("drift.yml").jobs.drift.permissions, undefined);
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

    it("pull requests: scripts/fleet diff of the pull request against its base, commented beside the previews", () => {
        const runs = workflow("pull-request.yml").jobs.diff.steps.map((s: Step) => s.run).filter(Boolean);
        assert.deepStrictEqual(runs, [
            "scripts/fleet diff \"origin/${{ github.base_ref }}\" HEAD | tee fleet-diff.txt",
            "scripts/pr-comment.sh ${{ github.event.pull_request.number }} fleet-diff.txt",
        ]);
    });

    it("drift: daily and on demand, per host on its runner, the refreshing preview that fails on any change", () => {
        const w = workflow("drift.yml");
        assert.ok(w.on.schedule[0].cron && "workflow_dispatch" in w.on);
        const job = w.jobs.drift;
        assert.deepStrictEqual([job.strategy.matrix.stack, job.runs_on ?? job["runs-on"]], [stackNames(PROJECT_DIR).filter((s) => s !== "local"), ["self-hosted", "fleet", "${{ matrix.stack }}"]]);
        assert.ok(job.steps.some((s: Step) => s.run === "scripts/drift-check.sh ${{ matrix.stack }}"));
        assert.match(fs.readFileSync(path.join(ROOT, "scripts", "drift-check.sh"), "utf8"), /\npulumi preview --refresh --expect-no-changes --diff --color never --non-interactive --stack "ai-system\/\$stack"/);
        assert.notStrictEqual(w.concurrency?.group, workflow("deploy.yml").concurrency?.group, "a queued drift check never cancels a pending deploy");
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
        assert.ok(scan.includes("scripts/scan-images.sh image-refs.txt security/trivy-allowlist.yaml sboms"));
        assert.ok(!scan.some((s: string) => /syft/.test(s)), "one SBOM generator: scripts/fleet sbom, the one CI runs");
        // The SBOM step pulls through the host's engine: logged in before, logged out whatever happens.
        const at = (run: string) => scan.indexOf(run);
        assert.ok(at('echo "$GITHUB_TOKEN" | docker login ghcr.io --username "$GITHUB_ACTOR" --password-stdin') >= 0);
        assert.ok(at('echo "$GITHUB_TOKEN" | docker login ghcr.io --username "$GITHUB_ACTOR" --password-stdin') < at("scripts/scan-images.sh image-refs.txt security/trivy-allowlist.yaml sboms"));
        const logout = w.jobs.scan.steps.find((s: { run?: string }) => s.run === "docker logout ghcr.io");
        assert.strictEqual(logout.if, "always()");
        assert.strictEqual(w.jobs.scan.steps.find((s: { run?: string }) => s.run?.includes("docker login")).env.GITHUB_TOKEN, "${{ secrets.GITHUB_TOKEN }}");
        assert.deepStrictEqual(w.jobs.scan.steps.find((s: { uses?: string }) => s.uses?.startsWith("actions/upload-artifact@")).with, { name: "sbom-${{ matrix.stack }}", path: "sboms/" });
        for (const job of ["deploy-mainpc", "deploy-pc2"]) {
            const step = w.jobs[job].steps.find((s: { uses?: string }) => s.uses?.startsWith("pulumi/actions@"));
            assert.strictEqual(step.with.command, "up", job);
            assert.strictEqual(step.with.policyPacks, "policy", job);
            // pulumi/actions v7.0.0 action.yml input `parallel` (src/config.ts getNumberInput).
            assert.strictEqual(step.with.parallel, DEPLOY_PARALLEL, job);
            const stack = job.replace("deploy-", "");
            const steps = w.jobs[job].steps as { uses?: string; run?: string; with?: Record<string, string> }[];
            const sboms = steps.findIndex((s) => s.uses?.startsWith("actions/download-artifact@") && s.with?.name === `sbom-${stack}`);
            const lock = steps.findIndex((s) => s.run === `pulumi stack export --stack ai-system/${stack} | scripts/fleet build-lock - --sboms sboms > build-lock-${stack}.json`);
            assert.ok(sboms >= 0 && lock > sboms, `${job} records build-lock.json with the SBOM digests of the scan job's artifact`);
            // The digests reach the host's index before `up` starts any container, which reads it at start.
            const publish = steps.findIndex((s) => s.run === `scripts/fleet publish-sboms ${stack} sboms`);
            const up = steps.indexOf(step);
            assert.ok(sboms < publish && publish < up, `${job}: the SBOMs downloaded (${sboms}), published (${publish}), then up (${up})`);
            // The job's steps run in fleet/ (defaults.run.working-directory); the artifact lands in the workspace's path.
            assert.deepStrictEqual([w.jobs[job].defaults.run["working-directory"], steps[sboms].with?.path], ["fleet", "fleet/sboms"]);
        }
        assert.strictEqual(w.concurrency?.["cancel-in-progress"], false, "a deploy is never cancelled half-way");
    });

    it("deploys with a Pulumi slot for every container, front and start command of the largest host, here and in scripts/local-up", () => {
        const largest = Math.max(...["mainpc", "pc2"].map((stack) => planHost(realFleet(), parsedStack(runbookStack(stack))).containers.length));
        assert.ok(DEPLOY_PARALLEL >= 3 * largest, `${DEPLOY_PARALLEL} slots for ${largest} containers`);
        const localUp = fs.readFileSync(path.join(ROOT, "scripts/local-up"), "utf8");
        assert.ok(localUp.includes(`export PULUMI_PARALLEL="\${PULUMI_PARALLEL:-${DEPLOY_PARALLEL}}"\n`), "scripts/local-up sets PULUMI_PARALLEL unless it is set");
    });

    it("prunes the registry cache on a schedule", () => {
        const w = workflow("prune-registry-cache.yml");
        assert.ok(w.on.schedule[0].cron);
        assert.ok(w.jobs.prune.steps.some((s: { run?: string }) => s.run?.startsWith("scripts/prune-registry-cache.sh ai-system cache")));
    });

    it("scan-images.sh fails on findings and writes SBOMs: every script the workflows run exists and is executable", () => {
        for (const s of ["scripts/scan-images.sh", "scripts/image-refs.sh", "scripts/prune-registry-cache.sh", "scripts/drift-check.sh", "scripts/pr-comment.sh", ".ci/run"]) {
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
