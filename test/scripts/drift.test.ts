/**
 * scripts/drift-check.sh, the drift workflow's step, against a stand-in `pulumi` that prints a
 * preview and exits as the CLI does: the preview's exit status, and a job summary that names
 * each resource that would change. The fixture (test/fixtures/pulumi/preview-drift.txt) is this
 * program's resources in the `--diff` display of pulumi/pulumi's own display tests
 * (pkg/backend/display/testdata/not-truncated/webserver-userdata.json.create-diff.txt), ending
 * with the error `--expect-no-changes` returns (pkg/backend/backenderr NoChangesExpectedError).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURE = path.join(ROOT, "test", "fixtures", "pulumi", "preview-drift.txt");

/** Every fleet container healthy, as `docker ps --format '{{.Label "fleet.service"}}\t{{.Names}}\t{{.Status}}'` prints them. */
const HEALTHY = "Executor\texecutor\tUp 3 hours (healthy)\n\tdocker-api-proxy\tUp 3 hours (healthy)\n";

/**
 * Runs the script with a `pulumi` that prints `output` and exits `code`, and a `docker` whose
 * `ps` prints `ps` (exit `psCode`); the arguments each got, exit status and the summary.
 */
function driftCheck(output: string, code: number, ps = HEALTHY, psCode = 0): { status: number | null; args: string; dockerArgs: string; summary: string[]; stdout: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-drift-"));
    fs.writeFileSync(path.join(dir, "output.txt"), output);
    fs.writeFileSync(path.join(dir, "ps.txt"), ps);
    fs.writeFileSync(path.join(dir, "pulumi"), `#!/usr/bin/env bash\necho "$*" > "${dir}/args"\ncat "${dir}/output.txt"\nexit ${code}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "docker"), `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > "${dir}/docker-args"\ncat "${dir}/ps.txt"\nexit ${psCode}\n`, { mode: 0o755 });
    const summary = path.join(dir, "summary.md");
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "drift-check.sh"), "mainpc"], {
        encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, GITHUB_STEP_SUMMARY: summary },
    });
    return { status: r.status, args: fs.readFileSync(path.join(dir, "args"), "utf8").trim(), dockerArgs: fs.readFileSync(path.join(dir, "docker-args"), "utf8"), summary: fs.readFileSync(summary, "utf8").split("\n"), stdout: r.stdout };
}

describe("scripts/drift-check.sh", () => {
    it("drift: fails with the preview's status and names each resource that would change in the job summary", () => {
        const text = fs.readFileSync(FIXTURE, "utf8");
        const r = driftCheck(text, 255);
        assert.strictEqual(r.status, 255);
        assert.strictEqual(r.args, "preview --refresh --expect-no-changes --diff --color never --non-interactive --stack ai-system/mainpc");
        assert.strictEqual(r.stdout, text, "the log holds the whole preview");
        assert.deepStrictEqual(r.summary.slice(0, 9), [
            "### mainpc: drift",
            "The host differs from what this commit deploys; README, Drift, says what to do. What would change:",
            "",
            "- replace cache-manager (docker:index/container:Container)",
            "- create nlu-agent (docker:index/container:Container)",
            "",
            "<details><summary>pulumi preview --refresh --expect-no-changes --stack ai-system/mainpc</summary>",
            "",
            "```",
        ]);
        assert.ok(r.summary.join("\n").includes("error: no changes were expected for preview but changes were proposed"));
    });

    it("a fleet container that is not running healthy, stopped ones included, fails the check, even with no drift, and is named in the log and the summary", () => {
        const ps = [
            "Executor\texecutor-1a2b3c4\tUp 3 hours (healthy)",
            "CodeGenerator\tcode-generator\tUp 2 minutes (unhealthy)",
            "Responder\tresponder-9f8e7d6\tExited (137) 2 hours ago",
            "TranslationService\ttranslation-service-0c1d2e3\tCreated",
            "NLUAgent\tnlu-agent\tUp 4 seconds (health: starting)",
            "CacheManager\tcache-manager\tRestarting (3) 1 second ago",
            "\tdocker-api-proxy\tUp 3 hours (unhealthy)",
        ].join("\n") + "\n";
        const r = driftCheck("Previewing update (ai-system/mainpc)\n\nResources:\n    120 unchanged\n", 0, ps);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.dockerArgs, 'ps\n--all\n--filter\nlabel=fleet.machine\n--format\n{{.Label "fleet.service"}}\\t{{.Names}}\\t{{.Status}}\n', "docker's formatter turns the two characters \\t into a tab");
        const named = [
            "- CodeGenerator (code-generator): Up 2 minutes (unhealthy)",
            "- Responder (responder-9f8e7d6): Exited (137) 2 hours ago",
            "- TranslationService (translation-service-0c1d2e3): Created",
            "- NLUAgent (nlu-agent): Up 4 seconds (health: starting)",
            "- CacheManager (cache-manager): Restarting (3) 1 second ago",
            "- docker-api-proxy: Up 3 hours (unhealthy)",
        ];
        assert.ok(r.stdout.endsWith(["Fleet containers not running healthy (docker ps --all):", ...named, ""].join("\n")), r.stdout);
        assert.deepStrictEqual(r.summary.slice(0, 11), [
            "### mainpc: containers not healthy",
            "They are not running healthy, and the preview cannot see it. README, Drift, says what to do.",
            "",
            ...named,
            "",
            "### mainpc: no drift",
        ]);
    });

    it("drift and an unhealthy container: the preview's status, both named", () => {
        const r = driftCheck(fs.readFileSync(FIXTURE, "utf8"), 255, "CodeGenerator\tcode-generator\tUp 2 minutes (unhealthy)\n");
        assert.strictEqual(r.status, 255);
        assert.deepStrictEqual([r.summary[0], r.summary[3], r.summary[5]], ["### mainpc: containers not healthy", "- CodeGenerator (code-generator): Up 2 minutes (unhealthy)", "### mainpc: drift"]);
    });

    it("containers that cannot be listed fail the check with docker's words", () => {
        const r = driftCheck("Resources:\n    120 unchanged\n", 0, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n", 1);
        assert.strictEqual(r.status, 1);
        assert.strictEqual(r.summary[3], "- the host's containers could not be listed: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?");
    });

    it("no drift: exit 0 and says so", () => {
        const r = driftCheck("Previewing update (ai-system/mainpc)\n\nResources:\n    120 unchanged\n", 0);
        assert.deepStrictEqual([r.status, r.summary[0]], [0, "### mainpc: no drift"]);
    });

    it("a preview that fails before comparing (no resource named): says so, with its output", () => {
        const r = driftCheck("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions\n", 255);
        assert.deepStrictEqual([r.status, r.summary[0]], [255, "### mainpc: the preview failed before it could compare (its output below)"]);
        assert.ok(r.summary.includes("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"));
    });
});
