/**
 * Image versions. 002 §B tags images `YYYYMMDD-<git_sha>`; here date and sha are those of the
 * newest commit that changed the image's input files (a service's sources in the application
 * repository, a family's build context; fleet/imageplan/buildPlan.ts FAMILY_INPUT_PATHS), or its
 * parent's version, so an image whose inputs did not change keeps its tag and is neither
 * rebuilt nor re-pushed.
 *
 * Decision: a 7-hex recipe hash is appended (`20250810-9c99cc9-1a2b3c4`). The git sha names the
 * sources, not the Dockerfile or the base it was built on; without the suffix a changed pin in
 * families.yaml would push different content under an existing tag, and a rollback to that tag
 * would not get back what ran before.
 *
 * Outside a git checkout, or with uncommitted changes in the inputs, the tag is a content hash
 * (`content-<12 hex>`), which is just as stable.
 *
 * A shallow clone is refused (`historyIssues`): there `git log -1 -- <paths>` answers the oldest
 * commit it has (HEAD, at depth 1) for every path, so every image would be tagged with HEAD and
 * rebuilt, and every container replaced, on every commit. actions/checkout clones at depth 1
 * unless told `fetch-depth: 0`.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { FleetIssue } from "../model/issues";
import { inputFiles } from "./inputs";

export interface ImageVersion {
    tag: string;
    /** Full git sha of the commit the tag names, or "" for a content tag. */
    revision: string;
    /** Committer date (ISO 8601) of that commit, or "" for a content tag. */
    created: string;
}

export interface VersionInputs {
    /** Directory the `paths` are relative to (inside a git work tree or not). */
    root: string;
    paths: string[];
    /** Everything else that shapes the image: Dockerfile text, build args. */
    recipe: string;
    parent?: ImageVersion;
}

function git(cwd: string, args: string[]): string | undefined {
    try {
        return execFileSync("git", ["-C", cwd, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

function lastCommit(root: string, paths: string[]): { sha: string; date: string } | undefined {
    if (git(root, ["rev-parse", "--is-inside-work-tree"]) !== "true") return undefined;
    if (git(root, ["rev-parse", "--is-shallow-repository"]) === "true") throw new Error(`${root} is a shallow clone; historyIssues refuses it before any tag is computed`);
    const dirty = git(root, ["status", "--porcelain", "--untracked-files=all", "--", ...paths]);
    if (dirty === undefined || dirty !== "") return undefined;
    const log = git(root, ["log", "-1", "--format=%H %cI", "--", ...paths]);
    if (!log) return undefined;
    const [sha, date] = log.split(" ");
    return { sha, date };
}

function sha256(text: string): string {
    return createHash("sha256").update(text).digest("hex");
}

/** Commits already looked up, by root and paths: every family shares its inputs' history. */
export type CommitCache = Map<string, { sha: string; date: string } | undefined>;

/**
 * @param commits share one cache across the images of one build plan, so git runs once per
 *   distinct set of inputs; a new plan starts a new cache (the repository may have moved on).
 */
export function imageVersion(i: VersionInputs, commits: CommitCache = new Map()): ImageVersion {
    const recipe = sha256(`${i.recipe}\nparent:${i.parent?.tag ?? ""}`).slice(0, 7);
    const key = [i.root, ...i.paths].join("\0");
    if (!commits.has(key)) commits.set(key, lastCommit(i.root, i.paths));
    const own = commits.get(key);
    const parentGit = !i.parent || i.parent.revision !== "";
    if (own && parentGit) {
        const newest = i.parent && Date.parse(i.parent.created) > Date.parse(own.date) ? { sha: i.parent.revision, date: i.parent.created } : own;
        const day = new Date(newest.date).toISOString().slice(0, 10).replace(/-/g, "");
        return { tag: `${day}-${newest.sha.slice(0, 7)}-${recipe}`, revision: newest.sha, created: new Date(newest.date).toISOString() };
    }
    const h = createHash("sha256").update(`recipe:${recipe}\n`);
    const { files, missing, refused } = inputFiles(i.root, i.paths);
    for (const m of missing) h.update(`missing:${m}\n`);
    for (const r of refused) h.update(`refused:${r.rel}:${r.target}\n`);
    for (const f of files) {
        h.update(`file:${f.rel}:${f.executable ? "x" : "-"}\n`);
        h.update(fs.readFileSync(path.join(i.root, f.source)));
    }
    return { tag: `content-${h.digest("hex").slice(0, 12)}`, revision: "", created: "" };
}

/**
 * A checkout whose history cannot give the image tags: a shallow clone, or a git history that
 * cannot be read. `what` names it in the message (e.g. `this repository`, `fleet:appRepo`).
 */
export function historyIssues(root: string, what: string, file: string): FleetIssue[] {
    if (git(root, ["rev-parse", "--is-inside-work-tree"]) !== "true") return [];
    const shallow = git(root, ["rev-parse", "--is-shallow-repository"]);
    if (shallow === "true") {
        return [{
            file, path: what,
            message: `${root} is a shallow clone: an image's tag names the newest commit that changed its inputs, which a shallow history cannot tell (every image would be tagged with HEAD, rebuilt and its containers replaced)`,
            fix: `git -C ${root} fetch --unshallow (in GitHub Actions: actions/checkout with fetch-depth: 0)`,
        }];
    }
    if (shallow === undefined || git(root, ["log", "-1", "--format=%H"]) === undefined) {
        return [{ file, path: what, message: `the git history of ${root} cannot be read`, fix: `check the checkout (git -C ${root} log -1), or fetch it again with its full history` }];
    }
    return [];
}

/** SOURCE_DATE_EPOCH of an image: its tag's commit time, 0 for a content tag (fleet/render/layers.ts). */
export function sourceDateEpoch(v: ImageVersion): string {
    return v.created ? String(Math.floor(Date.parse(v.created) / 1000)) : "0";
}
