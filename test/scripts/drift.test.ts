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

/** Runs the script with a `pulumi` that prints `output` and exits `code`; its arguments, exit status and the summary. */
function driftCheck(output: string, code: number): { status: number | null; args: string; summary: string[]; stdout: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-drift-"));
    fs.writeFileSync(path.join(dir, "output.txt"), output);
    fs.writeFileSync(path.join(dir, "pulumi"), `#!/usr/bin/env bash\necho "$*" > "${dir}/args"\ncat "${dir}/output.txt"\nexit ${code}\n`, { mode: 0o755 });
    const summary = path.join(dir, "summary.md");
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "drift-check.sh"), "mainpc"], {
        encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, GITHUB_STEP_SUMMARY: summary },
    });
    return { status: r.status, args: fs.readFileSync(path.join(dir, "args"), "utf8").trim(), summary: fs.readFileSync(summary, "utf8").split("\n"), stdout: r.stdout };
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
