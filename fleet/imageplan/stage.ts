/**
 * Build contexts staged under the project's build directory, so an image's inputs do not depend
 * on where or how this repository and the application are checked out.
 *
 * docker-build's Image diff compares `context.location` and `dockerfile.location` as strings and
 * hashes the context with each file's mode (pulumi-docker-build v0.0.22 provider/internal/image.go
 * `Diff`, context.go `hashFile`: `fileMode.String()`): an absolute path differs from one clone to
 * the next, and a checkout made under umask 077 gives every file other modes than one under 022.
 * Either would rebuild every image. So each context is a directory under `.fleet/build/<stack>/`
 * holding only the image's inputs, with modes reduced to 0644 and 0755 (executable or not, the one
 * difference an image keeps), named relative to the project directory, the working directory of
 * the program and of the providers the Pulumi engine starts (pulumi/pulumi
 * sdk/go/common/resource/plugin/plugin.go `cmd.Dir = pwd`; pkg/engine/project.go `getPwdMain`).
 */
import * as fs from "fs";
import * as path from "path";
import { InputFile, inputFiles } from "./inputs";

function sameFile(target: string, f: InputFile, from: string): boolean {
    if (!fs.existsSync(target) && !isLink(target)) return false;
    const st = fs.lstatSync(target);
    if (!st.isFile() || (st.mode & 0o7777) !== mode(f)) return false;
    return fs.readFileSync(target).equals(fs.readFileSync(path.join(from, f.source)));
}

function isLink(p: string): boolean {
    try {
        return fs.lstatSync(p).isSymbolicLink();
    } catch {
        return false;
    }
}

const mode = (f: InputFile) => (f.executable ? 0o755 : 0o644);

/** Every file and directory below `dir`, relative, deepest first. */
function existing(dir: string, rel = ""): string[] {
    const abs = path.join(dir, rel);
    if (!fs.existsSync(abs)) return [];
    return fs.readdirSync(abs).flatMap((name) => {
        const p = path.posix.join(rel, name);
        return fs.lstatSync(path.join(dir, p)).isDirectory() ? [...existing(dir, p), `${p}/`] : [p];
    });
}

/**
 * Makes `dir` hold exactly `paths` of `from` (files, or directories walked as inputs.ts walks
 * them, symbolic links resolved to what they lead to), each regular file 0644 or 0755 and each
 * directory 0755 whatever the umask; files that are already right are left untouched, anything
 * else in `dir` is removed. Links inputs.ts refuses are left out: checkAppRepo reports them first.
 */
export function stageContext(from: string, paths: readonly string[], dir: string): void {
    const { files } = inputFiles(from, paths);
    const wanted = new Set<string>();
    for (const f of files) {
        wanted.add(f.rel);
        for (let d = path.posix.dirname(f.rel); d !== "."; d = path.posix.dirname(d)) wanted.add(`${d}/`);
    }
    for (const e of existing(dir)) if (!wanted.has(e)) fs.rmSync(path.join(dir, e), { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, 0o755);
    for (const d of [...wanted].filter((w) => w.endsWith("/")).sort()) {
        fs.mkdirSync(path.join(dir, d), { recursive: true });
        fs.chmodSync(path.join(dir, d), 0o755);
    }
    for (const f of files) {
        const target = path.join(dir, f.rel);
        if (sameFile(target, f, from)) continue;
        fs.rmSync(target, { force: true });
        // A link's target, as a regular file: the context holds no link (inputs.ts says why).
        fs.copyFileSync(path.join(from, f.source), target);
        fs.chmodSync(target, mode(f));
    }
}
