/**
 * A commit of a repository checked out on its own, for `scripts/fleet diff`: a detached `git
 * worktree` in a temporary directory, which shares the repository's objects (no clone, no
 * network) and leaves the checkout the operator works in as it is. Removed again afterwards,
 * with its administrative entry (`git worktree remove --force`).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

function git(cwd: string, args: string[]): string | undefined {
    try {
        return execFileSync("git", ["-C", cwd, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

/** The full sha of `ref` in `repo`, or undefined when it names no commit there. */
export function resolveCommit(repo: string, ref: string): string | undefined {
    // `--end-of-options` keeps a ref that starts with '-' from being read as an option.
    return git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]) || undefined;
}

/** `repo`'s commit `sha` in a new detached worktree; returns its directory. */
export function addWorktree(repo: string, sha: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-diff-"));
    execFileSync("git", ["-C", repo, "worktree", "add", "--detach", "--quiet", dir, sha], { stdio: ["ignore", "ignore", "pipe"] });
    return dir;
}

export function removeWorktree(repo: string, dir: string): void {
    git(repo, ["worktree", "remove", "--force", dir]);
    fs.rmSync(dir, { recursive: true, force: true });
    git(repo, ["worktree", "prune"]);
}

/** The checked-out commit of `root`, or undefined outside git. */
export function headCommit(root: string): string | undefined {
    return git(root, ["rev-parse", "HEAD"]) || undefined;
}

/**
 * Files under `paths` that differ between commit `from` and commit `to` of the repository of
 * `root`, sorted; with no `to`, between `from` and the files of `root` as they are, untracked
 * ones included (what `git diff <from>` and `git status` show). Undefined when git cannot tell.
 */
export function changedFiles(root: string, from: string, to: string | undefined, paths: readonly string[]): string[] | undefined {
    const out = git(root, ["diff", "--name-only", "--no-renames", from, ...(to ? [to] : []), "--", ...paths]);
    if (out === undefined) return undefined;
    const untracked = to ? "" : git(root, ["ls-files", "--others", "--exclude-standard", "--full-name", "--", ...paths]);
    if (untracked === undefined) return undefined;
    return [...new Set([...out.split("\n"), ...untracked.split("\n")])].filter((l) => l !== "").sort();
}
