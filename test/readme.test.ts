/**
 * Every command in the shell blocks of README.md and of docs/*.md (where the testing,
 * performance and design detail lives) either runs in CI (the workflows, .ci/run or a test runs
 * exactly that command) or is marked `[real host]` (the Pulumi CLI, a backend, SSH to a host, a
 * registry). A new command without either fails here. The README lists every command of the
 * ops CLI.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { COMMANDS } from "../fleet/ops/help";

const ROOT = path.join(__dirname, "..");
const MARK = "[real host]";

/** Where each unmarked README command is run, and the text that shows it there. */
const EXERCISED: Record<string, { file: string; shows: string }> = {
    "scripts/local-up": { file: "test/scripts/local-up.test.ts", shows: 'path.join(ROOT, "scripts", "local-up")' },
    "bash .ci/run": { file: ".github/workflows/pull-request.yml", shows: "run: sudo bash .ci/run" },
    "scripts/fleet plan local": { file: ".github/workflows/pull-request.yml", shows: "scripts/fleet plan local" },
    "scripts/fleet plan mainpc": { file: ".github/workflows/pull-request.yml", shows: "scripts/fleet plan mainpc" },
    "scripts/fleet plan pc2": { file: ".github/workflows/pull-request.yml", shows: "scripts/fleet plan pc2" },
    "scripts/fleet validate": { file: ".github/workflows/pull-request.yml", shows: "run: scripts/fleet validate" },
    "scripts/fleet check-stack local": { file: ".github/workflows/pull-request.yml", shows: "scripts/fleet check-stack local" },
    "scripts/fleet check-stack mainpc": { file: ".github/workflows/pull-request.yml", shows: "scripts/fleet check-stack mainpc" },
    "scripts/fleet check-stack pc2": { file: ".github/workflows/pull-request.yml", shows: "scripts/fleet check-stack pc2" },
    "scripts/fleet help": { file: "test/fleet/ops/help.test.ts", shows: '[["help"], ["--help"], ["-h"]]' },
    "scripts/fleet plan --help": { file: "test/fleet/ops/help.test.ts", shows: 'runFleet(["plan", "--help"])' },
    "scripts/fleet plan pc2 --json": { file: "test/fleet/ops/plan.test.ts", shows: 'runFleet(["plan", "pc2", "--json"]' },
    "scripts/fleet lock-targets": { file: "test/cli.test.ts", shows: 'run(["lock-targets"])' },
    "scripts/fleet validate --fleet DIR": { file: "test/cli.test.ts", shows: 'run(["validate", "--fleet", dir])' },
    "scripts/fleet dockerfiles --out DIR": { file: "test/cli.test.ts", shows: 'run(["dockerfiles", "--out", out])' },
    "scripts/fleet diagram": { file: "test/cli.test.ts", shows: 'run(["diagram", "--out", out])' },
    "scripts/fleet image-targets mainpc": { file: "test/cli.test.ts", shows: 'run(["image-targets", "mainpc"], configuredProject())' },
    "scripts/fleet diff origin/main": { file: "test/fleet/ops/diff.test.ts", shows: 'runFleet(["diff", "base", "--json"], r.project)' },
    "scripts/fleet rollback pc2 --from pc2-v41.json": { file: "test/fleet/ops/rollback.test.ts", shows: 'runFleet(["rollback", "pc2", "--from", from, "--out", out], project)' },
    "scripts/fleet sbom image-refs.txt --out sboms": { file: "test/engine/suite/sbom.ts", shows: 'runFleetAsync(["sbom", path.join(dir, "image-refs.txt"), "--out", sboms])' },
    "scripts/fleet cve-gate nlu-agent.trivy.json --image <tag@digest> --allowlist security/trivy-allowlist.yaml": { file: "test/fleet/cveGate.test.ts", shows: 'runFleet(["cve-gate", path.join(FIXTURES, report), "--image", ref, "--allowlist", allow])' },
    "scripts/fleet app-repo": { file: "test/fleet/ops/appRepo.test.ts", shows: 'runFleet(["app-repo"], project(' },
    "npm test": { file: ".ci/run", shows: "\nnpm test\n" },
    "npm run test:engine": { file: ".ci/run", shows: "\nnpm run test:engine\n" },
};

/** The commands of the README's ```sh blocks, with whether each is marked. */
export function readmeCommands(text: string): { command: string; marked: boolean }[] {
    const out: { command: string; marked: boolean }[] = [];
    let sh = false;
    for (const line of text.split("\n")) {
        if (line.startsWith("```")) {
            sh = !sh && line.trim() === "```sh";
            continue;
        }
        if (!sh || !line.trim() || line.trim().startsWith("#")) continue;
        out.push({ command: line.replace(/\s+#.*$/, "").trim(), marked: line.includes(MARK) });
    }
    return out;
}

/** README.md and the docs it links, by path from the repository. */
export function operatorDocs(): Record<string, string> {
    const docs = fs.readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`);
    return Object.fromEntries(["README.md", ...docs].map((f) => [f, fs.readFileSync(path.join(ROOT, f), "utf8")]));
}

describe("README commands", () => {
    const docs = operatorDocs();
    const readme = docs["README.md"];
    const commands = Object.values(docs).flatMap(readmeCommands);

    it("the README explains the marker", () => assert.ok(readme.includes(`marked **\`${MARK}\`**`)));

    it("each runs in CI or a test, or is marked as needing a real host", () => {
        const unaccounted = commands.filter((c) => !c.marked && !EXERCISED[c.command]).map((c) => c.command);
        assert.deepStrictEqual(unaccounted, []);
        for (const c of commands.filter((x) => !x.marked)) {
            const e = EXERCISED[c.command];
            assert.ok(fs.readFileSync(path.join(ROOT, e.file), "utf8").includes(e.shows), `${c.command}: ${e.file} does not run it`);
        }
    });

    it("reads the docs the README links (testing, performance and design moved there)", () => {
        for (const f of ["docs/testing.md", "docs/performance.md", "docs/design.md"]) {
            assert.ok(f in docs, f);
            assert.ok(readme.includes(`](${f})`), `README.md links ${f}`);
        }
        assert.ok(commands.some((c) => c.command === "npm run test:engine"), "docs/testing.md's commands are read");
    });

    it("the README lists every command of the ops CLI (scripts/fleet help)", () => {
        const fleet = readmeCommands(readme).map((c) => c.command).filter((c) => c.startsWith("scripts/fleet "));
        assert.deepStrictEqual(COMMANDS.map((c) => c.name).filter((n) => !fleet.some((c) => c.split(" ")[1] === n)), []);
    });

    it("every listed command is still in the README (the list does not go stale)", () => {
        assert.deepStrictEqual(Object.keys(EXERCISED).filter((k) => !commands.some((c) => c.command === k)), []);
    });

    it("finds an unmarked command nobody runs, and ignores other blocks", () => {
        assert.deepStrictEqual(readmeCommands("```sh\nfoo --bar   # does foo\npulumi up  # x [real host]\n```\n```\nnot a command\n```\n"), [
            { command: "foo --bar", marked: false }, { command: "pulumi up", marked: true },
        ]);
    });
});
