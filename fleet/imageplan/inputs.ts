/**
 * The files an image is built from, one definition for its tag (version.ts, for a checkout
 * outside git or with uncommitted inputs) and its build context (stage.ts): what is listed,
 * minus what never belongs in an image.
 */
import * as fs from "fs";
import * as path from "path";
import { byName } from "../model/names";

/** Directory and file names never part of an image's inputs (see ALWAYS_IGNORED of fleet/render). */
export const SKIPPED = new Set(["__pycache__", ".git", ".venv", "node_modules", ".pytest_cache", ".mypy_cache"]);

export interface InputFile {
    /** Path relative to the root, with '/'. */
    rel: string;
    /** Whether any execute bit is set (the only part of the mode an image keeps from a checkout). */
    executable: boolean;
    /**
     * The file whose bytes it holds, relative to the root: `rel` itself, or for a path below a
     * symbolic link the file the link leads to (links are resolved: see `inputFiles`).
     */
    source: string;
}

/** A symbolic link an image cannot take: why, and where it points. */
export interface RefusedLink {
    rel: string;
    target: string;
    problem: "dangling" | "outside" | "loop";
}

function skipped(name: string): boolean {
    return SKIPPED.has(name) || name.endsWith(".pyc");
}

/**
 * Every file under `paths` (files or directories relative to `root`), sorted; a path that does
 * not exist is listed in `missing`.
 *
 * Symbolic links are resolved, to the file or directory they lead to: what docker-build hashes
 * for a link is its target's bytes (pulumi-docker-build v0.0.22 provider/internal/context.go
 * `hashFile` opens it; a link to a directory is skipped, a dangling one fails the build with
 * "unable to hash build context"), while COPY would put the link itself in the image. A staged
 * context holds regular files only, so the tag, the provider's hash and the image agree. A link
 * that dangles, leaves the root (an image takes the repository's files, not the host's) or
 * loops is refused, in `refused`.
 */
export function inputFiles(root: string, paths: readonly string[]): { files: InputFile[]; missing: string[]; refused: RefusedLink[] } {
    const files: InputFile[] = [];
    const missing: string[] = [];
    const refused: RefusedLink[] = [];
    const realRoot = fs.realpathSync(root);
    // `source`: where the bytes are (relative to the root); `chain`: the directories a link led through.
    const visit = (rel: string, source: string, chain: readonly string[]) => {
        const abs = path.join(root, source);
        const st = fs.lstatSync(abs);
        if (st.isSymbolicLink()) {
            const target = fs.readlinkSync(abs);
            let real: string;
            try {
                real = fs.realpathSync(abs);
            } catch {
                refused.push({ rel, target, problem: "dangling" });
                return;
            }
            if (real !== realRoot && !real.startsWith(`${realRoot}${path.sep}`)) {
                refused.push({ rel, target, problem: "outside" });
                return;
            }
            if (chain.some((c) => real === c || c.startsWith(`${real}${path.sep}`))) {
                refused.push({ rel, target, problem: "loop" });
                return;
            }
            visit(rel, path.relative(realRoot, real).split(path.sep).join("/"), [...chain, real]);
        } else if (st.isDirectory()) {
            const real = fs.realpathSync(abs);
            for (const name of fs.readdirSync(abs).sort()) if (!skipped(name)) visit(path.posix.join(rel, name), path.posix.join(source, name), [...chain, real]);
        } else if (st.isFile()) files.push({ rel, executable: (st.mode & 0o111) !== 0, source });
    };
    for (const p of [...new Set(paths)].sort()) {
        if (!fs.existsSync(path.join(root, p)) && !isLink(path.join(root, p))) missing.push(p);
        else {
            const rel = p.replace(/\/+$/, "");
            visit(rel, rel, []);
        }
    }
    const seen = new Set<string>();
    const byRel = (a: { rel: string }, b: { rel: string }) => byName(a.rel, b.rel);
    return { files: files.filter((f) => (seen.has(f.rel) ? false : (seen.add(f.rel), true))).sort(byRel), missing, refused: refused.sort(byRel) };
}

function isLink(p: string): boolean {
    try {
        return fs.lstatSync(p).isSymbolicLink();
    } catch {
        return false;
    }
}
