/**
 * docker-build's Image as the provider keeps it (pulumi/pulumi-docker-build v0.0.22,
 * provider/internal/image.go `Create`, `Update`, `Read`, `Diff`; context.go
 * `hashBuildContext`). Its state is the inputs plus `ref`, `digest` and `contextHash`. Its Diff
 * never replaces: any difference, including a changed build context, is an update, and Update
 * builds again (it calls Create). Paths are resolved against the working directory, which is
 * the project directory for the provider the Pulumi engine starts (plugin.go `cmd.Dir = pwd`;
 * engine/project.go getPwdMain: the directory of Pulumi.yaml).
 */
import ignore from "@balena/dockerignore";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Inputs } from "../fail";

/**
 * The files of a local directory the hash covers: fsutil's walk in lexical order, minus what the
 * ignore file excludes, symlinks and regular files only.
 */
function walk(root: string, excludes: string[]): { rel: string; mode: number }[] {
    const ig = ignore().add(excludes);
    const out: { rel: string; mode: number }[] = [];
    const visit = (rel: string) => {
        for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
            const p = rel ? `${rel}/${name}` : name;
            const st = fs.lstatSync(path.join(root, p));
            if (st.isDirectory()) visit(p);
            else if ((st.isFile() || st.isSymbolicLink()) && !ig.ignores(p)) out.push({ rel: p, mode: st.mode });
        }
    };
    visit("");
    return out;
}

/** Go's fs.FileMode.String() for a regular file or a symlink: "-rw-r--r--", "Lrwxrwxrwx". */
export function goFileMode(mode: number): string {
    const type = (mode & 0o170000) === 0o120000 ? "L" : "-";
    const rwx = "rwxrwxrwx";
    return type + [...rwx].map((c, i) => ((mode >> (8 - i)) & 1 ? c : "-")).join("");
}

/** getIgnorePatterns: `<dockerfile>.dockerignore`, else the context root's `.dockerignore`. */
function ignorePatterns(contextPath: string, dockerfilePath: string): string[] {
    for (const p of [`${dockerfilePath}.dockerignore`, path.join(contextPath, ".dockerignore")]) {
        if (fs.existsSync(p) && fs.statSync(p).isFile()) {
            return fs.readFileSync(p, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
        }
    }
    return [];
}

/**
 * hashBuildContext: sha256 over the Dockerfile's bytes (when it is a file), then per context file
 * its bytes, its cleaned relative path and its mode string. The mode is part of it, so the same
 * checkout under another umask hashes differently. A symbolic link is opened, as `hashFile` does
 * (pulumi-docker-build v0.0.22 provider/internal/context.go): the bytes of what it leads to,
 * with the link's own mode string; a link to a directory is skipped (EISDIR); a dangling one
 * fails the hash, and with it the build ("unable to hash build context").
 */
export function hashBuildContext(contextPath: string, dockerfilePath: string): string {
    const h = createHash("sha256");
    const isDir = fs.existsSync(contextPath) && fs.statSync(contextPath).isDirectory();
    const dockerfileIsFile = dockerfilePath !== "" && fs.existsSync(dockerfilePath) && fs.statSync(dockerfilePath).isFile();
    if (dockerfileIsFile) h.update(fs.readFileSync(dockerfilePath));
    if (isDir) {
        for (const f of walk(contextPath, ignorePatterns(contextPath, dockerfilePath))) {
            const abs = path.join(contextPath, f.rel);
            let bytes: Buffer;
            try {
                if (fs.statSync(abs).isDirectory()) continue;
                bytes = fs.readFileSync(abs);
            } catch (e) {
                throw new Error(`unable to hash build context: could not open "${f.rel}": ${(e as Error).message}`);
            }
            h.update(bytes);
            h.update(path.posix.normalize(f.rel));
            h.update(goFileMode(f.mode));
        }
    }
    return h.digest("hex");
}

/** BuildContext.validate: the Dockerfile as Diff compares it (a missing location is <context>/Dockerfile). */
function dockerfileOf(i: Inputs): Inputs {
    const d = { ...(i.dockerfile ?? {}) };
    if (!d.location && d.inline === undefined) d.location = path.join(i.context?.location ?? ".", "Dockerfile");
    return d;
}

const DIFFED = ["addHosts", "buildArgs", "buildOnPreview", "builder", "cacheFrom", "cacheTo", "exports", "labels", "load", "network", "noCache", "platforms", "pull", "push", "secrets", "ssh", "tags", "target"];

function same(a: unknown, b: unknown): boolean {
    return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Image.Diff: every difference is an update (never a replacement). */
export function diffImage(state: Inputs, inputs: Inputs): string[] {
    const changed = DIFFED.filter((k) => !same(state[k], inputs[k]));
    if (state.context?.location !== inputs.context?.location) changed.push("context.location");
    if (!same(state.context?.named, inputs.context?.named)) changed.push("context.named");
    const dockerfile = dockerfileOf(inputs);
    if (!same(state.dockerfile, dockerfile)) changed.push("dockerfile");
    if ((state.registries ?? []).length !== (inputs.registries ?? []).length) changed.push("registries");
    else if ((state.registries ?? []).some((r: Inputs, i: number) => r.username !== inputs.registries[i].username || r.address !== inputs.registries[i].address)) changed.push("registries");
    if (hashBuildContext(inputs.context?.location ?? ".", dockerfile.location ?? "") !== state.contextHash) changed.push("contextHash");
    return changed;
}

/** The state Create keeps: the inputs (Dockerfile as validated) and what the build gave. */
export function imageState(inputs: Inputs, built: { digest: string; ref: string }): Inputs {
    const dockerfile = dockerfileOf(inputs);
    return { ...inputs, dockerfile, contextHash: hashBuildContext(inputs.context?.location ?? ".", dockerfile.location ?? ""), digest: built.digest, ref: built.ref };
}

/** isExported: pushed to a registry (`push`, or an export with push=true), which Read then checks. */
export function isExported(i: Inputs): boolean {
    if (i.push) return true;
    return (i.exports ?? []).some((e: Inputs) => (e.raw !== undefined ? /(^|,)push=true(,|$)/.test(e.raw) : e.registry ? e.registry.push !== false : e.image?.push === true));
}
