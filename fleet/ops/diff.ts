/**
 * `scripts/fleet diff <base-ref> [<head-ref>]`: what merging head onto base does to each stack,
 * without stack state: the images whose tag moves (rebuilt and pushed) and the containers
 * replaced, updated, added or removed, each with why. Both refs are evaluated with the code of
 * the checkout the command runs in (diffEval.ts); the document is version 1 of `--json`.
 *
 * Decision: head defaults to HEAD, not the working tree: a ref names what a pull request
 * merges, and uncommitted changes are in no ref (commit them to see them).
 */
import { ChangedFiles, compareSides, StackDiff } from "./diffCompare";
import { DiffRun, evaluateRef, Side } from "./diffEval";
import { changedFiles, headCommit, removeWorktree, resolveCommit } from "../imageplan/worktree";
import { historyIssues } from "../imageplan/version";
import { FleetError } from "../model/issues";

export const DIFF_DOCUMENT_VERSION = 1;

export interface RefView {
    ref: string;
    commit: string;
    /** Which application repository the stacks outside this repository were built from. */
    appRepo: string[];
}

export interface DiffDocument {
    version: number;
    base: RefView;
    head: RefView;
    /** Files of the program's code that differ between the refs: both are evaluated with this checkout's code, so their effect is not shown. */
    codeChanged: string[];
    /** Every stack of either ref, by name. */
    stacks: StackDiff[];
}

/** Input files that differ between two evaluations of an image, read from the later checkout's repository. */
const gitFiles: ChangedFiles = (a, b) => {
    const [from, to] = [headCommit(a.root), headCommit(b.root)];
    if (!from || !to) return undefined;
    return changedFiles(b.root, from, to, [...new Set([...a.paths, ...b.paths])]);
};

function commitOf(projectDir: string, ref: string): string {
    const sha = resolveCommit(projectDir, ref);
    if (sha) return sha;
    throw new FleetError([{ file: "git", path: `'${ref}'`, message: `is not a commit of ${projectDir}`, fix: `name a branch, tag or commit it has (git -C ${projectDir} log --oneline), or fetch it first (git -C ${projectDir} fetch origin)` }]);
}

/** The program's code (not its data, nor the families' build context, which are inputs compared here). */
const CODE_PATHS = ["index.ts", "components", "fleet", "policy", ":(exclude)fleet/data", ":(exclude)fleet/render/assets"];

const view = (s: Side): RefView => ({ ref: s.label, commit: s.commit, appRepo: s.appRepo });

/** Evaluates both refs and compares them; the temporary worktrees are gone when it returns. */
export function diffRefs(projectDir: string, baseRef: string, headRef: string, overrides: DiffRun["overrides"]): DiffDocument {
    const history = historyIssues(projectDir, "this repository", "git");
    if (history.length) throw new FleetError(history);
    const [baseSha, headSha] = [commitOf(projectDir, baseRef), commitOf(projectDir, headRef)];
    const run: DiffRun = { projectDir, overrides, worktrees: new Map() };
    try {
        const base = evaluateRef(run, baseRef, baseSha);
        const head = evaluateRef(run, headRef, headSha);
        const codeChanged = changedFiles(projectDir, baseSha, headSha, CODE_PATHS) ?? [];
        return { version: DIFF_DOCUMENT_VERSION, base: view(base), head: view(head), codeChanged, stacks: compareSides(base, head, gitFiles) };
    } finally {
        for (const w of run.worktrees.values()) removeWorktree(w.repo, w.dir);
    }
}
