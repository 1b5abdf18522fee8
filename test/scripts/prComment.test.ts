/**
 * scripts/pr-comment.sh, the pull-request workflow's diff comment, against a stand-in `gh` that
 * answers the comment list from a file (applying the script's --jq filter with jq, as gh does
 * with its built-in jq) and records what the script sends: it edits its own earlier comment and
 * leaves the preview's alone, posts a new one where it has none, and cuts a report GitHub would
 * refuse.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.resolve(__dirname, "..", "..", "scripts", "pr-comment.sh");
const MARKER = "<!-- fleet diff -->";

function comment(comments: { id: number; body: string }[], report: string): { status: number | null; calls: string[]; body: string; summary: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-gh-"));
    fs.writeFileSync(path.join(dir, "comments.json"), JSON.stringify(comments));
    fs.writeFileSync(path.join(dir, "report.txt"), report);
    fs.writeFileSync(path.join(dir, "gh"), [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        `echo "$*" >> "${dir}/calls"`,
        `if [ "$2" = "--paginate" ]; then jq -r "$5" "${dir}/comments.json"; else cat > "${dir}/body.json"; fi`,
    ].join("\n"), { mode: 0o755 });
    const r = spawnSync("bash", [SCRIPT, "7", path.join(dir, "report.txt")], {
        encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, GITHUB_REPOSITORY: "ai-system/fleet", GITHUB_STEP_SUMMARY: path.join(dir, "summary.md") },
    });
    assert.strictEqual(r.stderr, "");
    return {
        status: r.status,
        calls: fs.readFileSync(path.join(dir, "calls"), "utf8").trim().split("\n"),
        body: (JSON.parse(fs.readFileSync(path.join(dir, "body.json"), "utf8")) as { body: string }).body,
        summary: fs.readFileSync(path.join(dir, "summary.md"), "utf8"),
    };
}

const LIST = `api --paginate repos/ai-system/fleet/issues/7/comments --jq .[] | select(.body | startswith("${MARKER}")) | .id`;
const REPORT = "diff origin/main (1a2b3c4) -> HEAD (5d6e7f8)\n\nstack local: no change\n";

describe("scripts/pr-comment.sh", () => {
    it("edits its own earlier comment, not the preview's", () => {
        const r = comment([{ id: 10, body: "#### :tropical_drink: `preview` on ai-system/fleet/mainpc" }, { id: 11, body: `${MARKER}\nold report` }], REPORT);
        assert.deepStrictEqual([r.status, r.calls], [0, [LIST, "api --method PATCH repos/ai-system/fleet/issues/comments/11 --input -"]]);
        assert.strictEqual(r.body, [
            MARKER,
            "**`scripts/fleet diff`** of this pull request against its base: per stack, the images whose tag moves and the containers replaced, with why (from the two commits; no stack state).",
            "",
            "```",
            `${REPORT}\`\`\``,
            "",
        ].join("\n"));
        assert.strictEqual(r.summary, `\`\`\`\n${REPORT}\`\`\`\n`);
    });

    it("posts a new comment where it has none", () => {
        const r = comment([{ id: 10, body: "#### :tropical_drink: `preview` on ai-system/fleet/mainpc" }], REPORT);
        assert.deepStrictEqual(r.calls, [LIST, "api --method POST repos/ai-system/fleet/issues/7/comments --input -"]);
    });

    it("cuts a report longer than a comment may be, saying where the whole one is", () => {
        const r = comment([], "x".repeat(70000));
        assert.ok(r.body.endsWith(`${"x".repeat(100)}\n... cut at 60000 characters: the job summary holds the whole report\n\`\`\`\n`));
        assert.ok(r.body.length < 65536 && r.summary.length > 70000);
    });
});
