/**
 * app-repo.yaml and `scripts/fleet app-repo`: the application repository's pin, loaded strictly,
 * and what the workflows check out (repository, commit, path beside this repository), refused
 * while no commit is pinned or when the stacks name different checkouts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parseAppRepoPin, readAppRepoPin } from "../../../fleet/imageplan/appRepoPin";
import { formatIssue } from "../../../fleet/model/issues";
import { configuredProject, runFleet } from "./project";

const PROJECT = path.resolve(__dirname, "..", "..", "..");
const SHA = "0123456789abcdef0123456789abcdef01234567";

/** A project whose app-repo.yaml says `text`, with stack settings written into its stack files. */
function project(text: string, overrides: Record<string, string[]> = {}): string {
    const dir = configuredProject(overrides);
    fs.writeFileSync(path.join(dir, "app-repo.yaml"), text);
    return dir;
}

function setAppRepo(dir: string, stack: string, value: string): void {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace(/fleet:appRepo: .*/, `fleet:appRepo: ${value}`));
}

describe("app-repo.yaml", () => {
    it("the committed file names the repository and leaves the commit to the runbook's first step", () => {
        assert.deepStrictEqual(readAppRepoPin(PROJECT), { repository: "ai-system/AI_System_Monorepo", ref: null });
    });

    const table: { what: string; text: string; expected: string[] }[] = [
        { what: "a short sha", text: "repository: a/b\nref: abc123\n", expected: ["app-repo.yaml: ref: 'abc123' is not a commit (40 lower-case hex digits). Fix: correct the value's format"] },
        { what: "a sha of digits alone, which YAML reads as a number", text: "repository: a/b\nref: 1234567890123456789012345678901234567890\n", expected: ["app-repo.yaml: ref: expected string, got number 1.2345678901234568e+39. Fix: quote it: ref: \"<40 hex digits>\""] },
        { what: "a repository without its owner, and a misspelt key", text: "repository: AI_System_Monorepo\nreff: null\n", expected: [
            "app-repo.yaml: repository: 'AI_System_Monorepo' is not <owner>/<name>. Fix: correct the value's format",
            "app-repo.yaml: ref: is missing (string expected). Fix: add it",
            "app-repo.yaml: reff: is not a known key. Fix: rename it to ref, or remove it",
        ] },
        { what: "a key written twice", text: "repository: a/b\nref: null\nref: null\n", expected: ["app-repo.yaml: line 3, column 1: the key 'ref' appears twice in the same mapping (a duplicate name). Fix: give every entry a unique name, or merge the two 'ref' entries"] },
    ];
    for (const row of table) {
        it(`refuses ${row.what}`, () => {
            const r = parseAppRepoPin(row.text, "app-repo.yaml");
            assert.deepStrictEqual(r.ok ? [] : r.issues.map(formatIssue), row.expected);
        });
    }

    it("accepts a pinned commit", () => {
        assert.deepStrictEqual(parseAppRepoPin(`repository: ai-system/AI_System_Monorepo\nref: "${SHA}"\n`, "app-repo.yaml"), { ok: true, value: { repository: "ai-system/AI_System_Monorepo", ref: SHA } });
    });
});

describe("scripts/fleet app-repo", () => {
    it("prints the repository, the pinned commit and the checkout's path beside this repository, for $GITHUB_OUTPUT", () => {
        const r = runFleet(["app-repo"], project(`repository: ai-system/AI_System_Monorepo\nref: "${SHA}"\n`));
        assert.deepStrictEqual(r, { code: 0, out: ["repository=ai-system/AI_System_Monorepo", `ref=${SHA}`, "path=AI_System_Monorepo"], err: [] });
    });

    it("the committed pin: exit 1 until the runbook's first step sets the commit, saying how", () => {
        const r = runFleet(["app-repo"], project(fs.readFileSync(path.join(PROJECT, "app-repo.yaml"), "utf8")));
        assert.deepStrictEqual([r.code, r.out], [1, []]);
        assert.deepStrictEqual(r.err, [[
            "1 problem in the fleet data or stack config:",
            "  - app-repo.yaml: ref: is not set: no commit of ai-system/AI_System_Monorepo is pinned, and the workflows build from the pinned commit alone. Fix: write the commit to deploy (git -C ../AI_System_Monorepo rev-parse HEAD prints the checkout's) as ref: \"<40 hex digits>\" in app-repo.yaml, and merge it through a reviewed pull request (README, Runbook)",
        ].join("\n")]);
    });

    it("refuses stacks that name different checkouts, or one outside the directory that holds this checkout", () => {
        const dir = project(`repository: a/b\nref: "${SHA}"\n`);
        setAppRepo(dir, "pc2", "../Other");
        assert.deepStrictEqual(runFleet(["app-repo"], dir).err[0].split("\n").slice(1), [
            "  - Pulumi.pc2.yaml: fleet:appRepo: '../Other' is not Pulumi.mainpc.yaml's '../AI_System_Monorepo': the workflows check out one application repository. Fix: pulumi config set fleet:appRepo ../AI_System_Monorepo --stack pc2",
        ]);
        setAppRepo(dir, "pc2", "../AI_System_Monorepo");
        setAppRepo(dir, "mainpc", "../../AI_System_Monorepo");
        const r = runFleet(["app-repo"], dir);
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.err[0].split("\n").slice(1), [
            `  - Pulumi.mainpc.yaml: fleet:appRepo: '../../AI_System_Monorepo' is outside ${path.dirname(dir)}, the directory that holds this checkout: actions/checkout places a repository under $GITHUB_WORKSPACE alone (its input \`path\`). Fix: check it out beside this repository: pulumi config set fleet:appRepo ../AI_System_Monorepo --stack mainpc`,
            "  - Pulumi.pc2.yaml: fleet:appRepo: '../AI_System_Monorepo' is not Pulumi.mainpc.yaml's '../../AI_System_Monorepo': the workflows check out one application repository. Fix: pulumi config set fleet:appRepo ../../AI_System_Monorepo --stack pc2",
        ]);
    });

    it("the local stack's fixture application inside this repository is not the application repository", () => {
        const dir = project(`repository: a/b\nref: "${SHA}"\n`);
        for (const s of ["mainpc", "pc2"]) setAppRepo(dir, s, "test/fixtures/app");
        assert.deepStrictEqual(runFleet(["app-repo"], dir).err[0].split("\n").slice(1), [
            "  - Pulumi.local.yaml, Pulumi.mainpc.yaml, Pulumi.pc2.yaml: fleet:appRepo: no stack builds from a checkout outside this repository. Fix: set fleet:appRepo of the stacks that deploy hosts to the application repository's checkout, e.g. ../AI_System_Monorepo",
        ]);
    });

    it("a project without app-repo.yaml is told where it belongs", () => {
        const r = runFleet(["app-repo"], configuredProject());
        assert.deepStrictEqual(r.err[0].split("\n").slice(1), ["  - app-repo.yaml: file not found. Fix: run from the project directory, which holds app-repo.yaml beside Pulumi.yaml"]);
    });
});
