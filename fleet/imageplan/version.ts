/**
 * Image versions. 002 §B tags images `YYYYMMDD-<git_sha>`; here date and sha are those of the
 * newest commit that changed the image's inputs (its sources, or its parent's version), so an
 * image whose inputs did not change keeps its tag and is neither rebuilt nor re-pushed.
 *
 * Decision: a 7-hex recipe hash is appended (`20250810-9c99cc9-1a2b3c4`). The git sha names the
 * sources, not the Dockerfile or the base it was built on; without the suffix a changed pin in
 * families.yaml would push different content under an existing tag, and a rollback to that tag
 * would not get back what ran before.
 *
 * Outside a git checkout, or with uncommitted changes in the inputs, the tag is a content hash
 * (`content-<12 hex>`), which is just as stable.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

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

/** Directory and file names never part of an image's inputs (see ALWAYS_IGNORED). */
const SKIPPED = new Set(["__pycache__", ".git", ".venv", "node_modules", ".pytest_cache", ".mypy_cache"]);

function git(cwd: string, args: string[]): string | undefined {
    try {
        return execFileSync("git", ["-C", cwd, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

function lastCommit(root: string, paths: string[]): { sha: string; date: string } | undefined {
    if (git(root, ["rev-parse", "--is-inside-work-tree"]) !== "true") return undefined;
    const dirty = git(root, ["status", "--porcelain", "--untracked-files=all", "--", ...paths]);
    if (dirty === undefined || dirty !== "") return undefined;
    const log = git(root, ["log", "-1", "--format=%H %cI", "--", ...paths]);
    if (!log) return undefined;
    const [sha, date] = log.split(" ");
    return { sha, date };
}

function hashTree(h: ReturnType<typeof createHash>, root: string, rel: string): void {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) {
        h.update(`missing:${rel}\n`);
        return;
    }
    const st = fs.statSync(abs);
    if (st.isDirectory()) {
        for (const name of fs.readdirSync(abs).sort()) {
            if (!SKIPPED.has(name) && !name.endsWith(".pyc")) hashTree(h, root, path.join(rel, name));
        }
    } else {
        h.update(`file:${rel}:${st.mode & 0o111 ? "x" : "-"}\n`);
        h.update(fs.readFileSync(abs));
    }
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
    for (const p of [...i.paths].sort()) hashTree(h, i.root, p);
    return { tag: `content-${h.digest("hex").slice(0, 12)}`, revision: "", created: "" };
}
