/**
 * The docker CLI of the machine that runs a command (`sbom`, `publish-sboms`), with its exit
 * status and output kept: each caller says what a failure means for its subject.
 */
import { spawn } from "child_process";
import { extract } from "tar-stream";

export interface Ran {
    code: number | null;
    stdout: string;
    stderr: string;
}

/** A docker command that failed, or whose output could not be read. */
export class DockerCliError extends Error {}

export interface DockerOptions {
    /** Its standard input. @default none */
    input?: Buffer;
    /** DOCKER_HOST, the engine it talks to. @default the caller's environment's */
    dockerHost?: string;
}

/** Runs `docker args`; `onStdout` reads the output as a stream instead of collecting it. */
export function docker(args: string[], onStdout?: (s: NodeJS.ReadableStream) => Promise<void>, o: DockerOptions = {}): Promise<Ran> {
    return new Promise((resolve, reject) => {
        const env = o.dockerHost === undefined ? process.env : { ...process.env, DOCKER_HOST: o.dockerHost };
        const p = spawn("docker", args, { stdio: [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"], env });
        let stdout = "";
        let stderr = "";
        const out = p.stdout!;
        const reading = onStdout ? onStdout(out) : new Promise<void>((r) => out.on("data", (d) => (stdout += d)).on("end", r));
        p.stderr!.on("data", (d) => (stderr += d));
        p.on("error", reject);
        p.on("close", (code) => reading.then(() => resolve({ code, stdout, stderr }), reject));
        if (o.input !== undefined) p.stdin!.end(o.input);
    });
}

/** `docker args`'s output, or a DockerCliError naming `what` and docker's last error line. */
export async function dockerOk(args: string[], what: string, o: DockerOptions = {}): Promise<string> {
    const r = await docker(args, undefined, o);
    if (r.code !== 0) throw new DockerCliError(`${what}: docker ${args[0]} exited ${r.code}: ${r.stderr.trim().split("\n").pop()}`);
    return r.stdout;
}

/**
 * The files of a tar stream a docker command writes (`export`, `cp ... -`) that `wanted` names,
 * by absolute path, and the targets of its symbolic links among them.
 */
export async function tarFiles(args: string[], what: string, wanted: (name: string) => boolean, o: DockerOptions = {}): Promise<{ files: Record<string, string>; links: Record<string, string> }> {
    const files: Record<string, string> = {};
    const links: Record<string, string> = {};
    try {
        const r = await docker(args, (stream) => new Promise<void>((resolve, reject) => {
            const x = extract();
            x.on("entry", (header, body, next) => {
                const name = `/${header.name.replace(/^\.?\//, "").replace(/\/$/, "")}`;
                if (header.type === "symlink" && wanted(name)) links[name] = header.linkname ?? "";
                if (header.type !== "file" || !wanted(name)) {
                    body.on("end", next).resume();
                    return;
                }
                const chunks: Buffer[] = [];
                body.on("data", (c: unknown) => chunks.push(c as Buffer)).on("end", () => {
                    files[name] = Buffer.concat(chunks).toString("utf8");
                    next();
                });
            });
            x.on("finish", resolve).on("error", reject);
            stream.pipe(x);
        }), o);
        if (r.code !== 0) throw new DockerCliError(`${what}: docker ${args[0]} exited ${r.code}: ${r.stderr.trim()}`);
    } catch (e) {
        // A stream cut short (the engine went away) is the subject's problem, not the command's.
        throw e instanceof DockerCliError ? e : new DockerCliError(`${what}: docker ${args[0]}: ${(e as Error).message}`);
    }
    return { files, links };
}
