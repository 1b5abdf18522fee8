/**
 * docker-build's Image against this machine's BuildKit: Create (and Update, which is Create) runs
 * the `docker buildx build` its exec mode runs (./buildx.ts), Read checks a pushed image's tags
 * in the registry at the digest the state holds (image.go Read).
 */
import { spawn } from "child_process";
import * as http from "http";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { fail, Inputs } from "../fail";
import { buildErrors, buildxInvocation, dockerConfig, DOCKER_CLI, refOf, registryTagRace, withoutTag } from "./buildx";
import { imageState, isExported } from "./image";

/** Runs at most `size` tasks at once. */
export class Slots {
    private free: number;
    private readonly waiting: (() => void)[] = [];
    constructor(size: number) { this.free = size; }
    async run<T>(task: () => Promise<T>): Promise<T> {
        if (this.free === 0) await new Promise<void>((res) => this.waiting.push(res));
        else this.free--;
        try {
            return await task();
        } finally {
            const next = this.waiting.shift();
            if (next) next();
            else this.free++;
        }
    }
}

export interface BuildRecord { seconds: number; log: string; started: number; pushed?: string }

/**
 * Builds one Image; its state as Create keeps it. The context goes to `docker buildx build` as
 * the provider passes it (exec mode, the named builder), with the digest read from
 * `--metadata-file` (`containerimage.digest`).
 */
export async function buildImage(r: { type: string; name: string; inputs: Inputs }, slots: Slots, made: Set<string>): Promise<{ id: string; outputs: Inputs; record: BuildRecord }> {
    const i = r.inputs;
    if ((i.platforms ?? []).some((p: string) => p !== "linux/amd64") || process.arch !== "x64") fail(r, `platforms ${i.platforms} cannot be built on ${process.arch}`);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-docker-"));
    const metadata = path.join(tmp, "metadata.json");
    const { args, stdin } = buildxInvocation({ ...r, opts: undefined as never }, metadata);
    const hostDir = path.join(os.homedir(), ".docker");
    const hostConfig = fs.existsSync(path.join(hostDir, "config.json")) ? JSON.parse(fs.readFileSync(path.join(hostDir, "config.json"), "utf8")) : {};
    fs.writeFileSync(path.join(tmp, "config.json"), JSON.stringify(dockerConfig(i.registries, hostConfig)), { mode: 0o600 });
    if (fs.existsSync(path.join(hostDir, "contexts"))) fs.cpSync(path.join(hostDir, "contexts"), path.join(tmp, "contexts"), { recursive: true });
    const started = Date.now();
    const buildx = () => new Promise<{ code: number; stderr: string }>((resolve) => {
        const p = spawn(DOCKER_CLI, args, { env: { ...process.env, DOCKER_CONFIG: tmp, BUILDX_CONFIG: path.join(hostDir, "buildx") } });
        let stderr = "";
        p.stderr.on("data", (d) => (stderr += d));
        p.stdout.on("data", () => undefined);
        p.on("close", (code) => resolve({ code: code ?? -1, stderr }));
        p.stdin.end(stdin ?? "");
    });
    const out = await slots.run(async () => {
        const first = await buildx();
        if (first.code === 0 || !registryTagRace(first.stderr)) return first;
        // Not what the provider does: it is the suite's registry that is at fault (see registryTagRace).
        console.log(`      harness: ${r.name}: the suite's registry answered 500 to a manifest request while its tag was being pushed; building again`);
        return buildx();
    });
    try {
        if (out.code !== 0) fail(r, `build of ${i.tags?.[0]} failed (docker buildx exit ${out.code}): ${buildErrors(out.stderr)}`);
        const meta = JSON.parse(fs.readFileSync(metadata, "utf8")) as Record<string, unknown>;
        const digest = String(meta["containerimage.digest"] ?? "");
        for (const t of i.tags ?? []) made.add(t);
        const record: BuildRecord = { seconds: (Date.now() - started) / 1000, log: out.stderr, started, ...(isExported(i) ? { pushed: i.tags[0] } : {}) };
        return { id: digest || r.name, outputs: imageState(i, { digest, ref: refOf(i.tags[0], digest) }), record };
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}

/** HEAD of a manifest in a registry the harness reaches over plain HTTP (the suite's, on the loopback). */
function manifestExists(ref: string): Promise<boolean | undefined> {
    const m = /^([^/]+)\/(.+)@(sha256:[0-9a-f]{64})$/.exec(withoutTag(ref));
    if (!m) return Promise.resolve(undefined);
    const [host, port] = m[1].split(":");
    const accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
    return new Promise((resolve) => {
        http.request({ host, port: Number(port ?? 80), method: "HEAD", path: `/v2/${m[2]}/manifests/${m[3]}`, headers: { Accept: accept }, timeout: 5000 }, (res) => {
            res.resume();
            resolve(res.statusCode === 200 ? true : res.statusCode === 404 ? false : undefined);
        }).on("error", () => resolve(undefined)).end();
    });
}

/**
 * Image.Read: nothing to check for an image that was not pushed; a pushed one keeps the tags the
 * registry still serves at the state's digest (`Inspect(<tag>@<digest>)`), and is gone (empty
 * ID) when none is left. An answer other than found or not found leaves the state as it is.
 */
export async function readImage(outputs: Inputs): Promise<Inputs | undefined> {
    if (!isExported(outputs) || !outputs.digest) return outputs;
    const kept: string[] = [];
    for (const tag of outputs.tags as string[]) {
        const found = await manifestExists(`${tag}@${outputs.digest}`);
        if (found === undefined) return outputs;
        if (found) kept.push(tag);
    }
    return kept.length === 0 ? undefined : { ...outputs, tags: kept };
}
