/**
 * `scripts/fleet diff <base-ref> [<head-ref>]`: what merging head onto base does to each stack,
 * without stack state: the images whose tag moves (rebuilt and pushed) and the containers
 * replaced, updated, added or removed, each with why. Both refs are evaluated with the code of
 * the checkout the command runs in (diffEval.ts); the document is version 1 of `--json`.
 *
 * With one ref, head is this checkout's files as they are, uncommitted and untracked ones
 * included, as `git diff <ref>` compares (issue 27: an edit that `diff HEAD` called "no change").
 * With two, both are commits, and files of the checkout that differ from HEAD are listed
 * (`uncommitted`) when head is HEAD, so "no change" never hides an edit.
 */
import { ChangedFiles, compareSides, StackDiff } from "./diffCompare";
import { DiffRun, evaluateRef, Side, WORKING_TREE } from "./diffEval";
import { StackInputs } from "./stackInputs";
import { changedFiles, headCommit, removeWorktree, resolveCommit } from "../imageplan/worktree";
import { historyIssues } from "../imageplan/version";
import { FleetError } from "../model/issues";

export const DIFF_DOCUMENT_VERSION = 1;

export interface RefView {
    /** The ref as given; for the files as they are, "working tree". */
    ref: string;
    /** Its commit; for the working tree, the commit checked out under it. */
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
    /** With head HEAD: the checkout's files that differ from it (uncommitted, untracked), which this comparison leaves out. */
    uncommitted: string[];
    /** What this checkout could not tell at either ref, with what supplies it (fleet/ops/unknowns.ts). */
    unknown: string[];
}

/**
 * Input files that differ between two evaluations of an image: the earlier checkout's commit
 * against the later checkout's files as they are (a temporary worktree holds its commit's; the
 * working tree and an application checkout used as it is may hold edits).
 */
const gitFiles: ChangedFiles = (a, b) => {
    const from = headCommit(a.root);
    return from ? changedFiles(b.root, from, undefined, [...new Set([...a.paths, ...b.paths])]) : undefined;
};

function commitOf(projectDir: string, ref: string): string {
    const sha = resolveCommit(projectDir, ref);
    if (sha) return sha;
    throw new FleetError([{ file: "git", path: `'${ref}'`, message: `is not a commit of ${projectDir}`, fix: `name a branch, tag or commit it has (git -C ${projectDir} log --oneline), or fetch it first (git -C ${projectDir} fetch origin)` }]);
}

/** The program's code (not its data, nor the families' build context, which are inputs compared here). */
const CODE_PATHS = ["index.ts", "components", "fleet", "policy", ":(exclude)fleet/data", ":(exclude)fleet/render/assets"];

const view = (s: Side): RefView => ({ ref: s.label, commit: s.commit, appRepo: s.appRepo });

/**
 * Evaluates both refs and compares them; without `headRef`, the base ref against the checkout's
 * files as they are. The temporary worktrees are gone when it returns.
 */
export function diffRefs(projectDir: string, baseRef: string, headRef: string | undefined, inputs: StackInputs): DiffDocument {
    const history = historyIssues(projectDir, "this repository", "git");
    if (history.length) throw new FleetError(history);
    const baseSha = commitOf(projectDir, baseRef);
    const headSha = headRef === undefined ? undefined : commitOf(projectDir, headRef);
    const checkedOut = headCommit(projectDir);
    const run: DiffRun = { projectDir, ...inputs, worktrees: new Map() };
    try {
        const base = evaluateRef(run, baseRef, baseSha);
        const head = headSha === undefined ? evaluateRef(run, WORKING_TREE, undefined) : evaluateRef(run, headRef!, headSha);
        const codeChanged = changedFiles(projectDir, baseSha, headSha, CODE_PATHS) ?? [];
        const uncommitted = headSha !== undefined && headSha === checkedOut ? changedFiles(projectDir, headSha, undefined, ["."]) ?? [] : [];
        const unknown = [...new Set([...base.unknown, ...head.unknown])];
        return { version: DIFF_DOCUMENT_VERSION, base: view(base), head: view(head), codeChanged, stacks: compareSides(base, head, gitFiles), uncommitted, unknown };
    } finally {
        for (const w of run.worktrees.values()) removeWorktree(w.repo, w.dir);
    }
}
