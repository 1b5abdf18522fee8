/**
 * The files an image is built from, one definition for its tag (version.ts, for a checkout
 * outside git or with uncommitted inputs) and its build context (stage.ts): what is listed,
 * minus what never belongs in an image.
 */
import * as fs from "fs";
import * as path from "path";

/** Directory and file names never part of an image's inputs (see ALWAYS_IGNORED of fleet/render). */
export const SKIPPED = new Set(["__pycache__", ".git", ".venv", "node_modules", ".pytest_cache", ".mypy_cache"]);

export interface InputFile {
    /** Path relative to the root, with '/'. */
    rel: string;
    /** Whether any execute bit is set (the only part of the mode an image keeps from a checkout). */
    executable: boolean;
    /** A symbolic link's target; undefined for a regular file. */
    link?: string;
}

function skipped(name: string): boolean {
    return SKIPPED.has(name) || name.endsWith(".pyc");
}

/**
 * Every file under `paths` (files or directories relative to `root`), sorted; a path that does
 * not exist is listed in `missing`.
 */
export function inputFiles(root: string, paths: readonly string[]): { files: InputFile[]; missing: string[] } {
    const files: InputFile[] = [];
    const missing: string[] = [];
    const visit = (rel: string) => {
        const abs = path.join(root, rel);
        const st = fs.lstatSync(abs);
        if (st.isSymbolicLink()) files.push({ rel, executable: false, link: fs.readlinkSync(abs) });
        else if (st.isDirectory()) {
            for (const name of fs.readdirSync(abs).sort()) if (!skipped(name)) visit(path.posix.join(rel, name));
        } else if (st.isFile()) files.push({ rel, executable: (st.mode & 0o111) !== 0 });
    };
    for (const p of [...new Set(paths)].sort()) {
        if (!fs.existsSync(path.join(root, p)) && !isLink(path.join(root, p))) missing.push(p);
        else visit(p.replace(/\/+$/, ""));
    }
    const seen = new Set<string>();
    return { files: files.filter((f) => (seen.has(f.rel) ? false : (seen.add(f.rel), true))).sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0)), missing };
}

function isLink(p: string): boolean {
    try {
        return fs.lstatSync(p).isSymbolicLink();
    } catch {
        return false;
    }
}
