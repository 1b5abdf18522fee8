/**
 * Runs the real program (index.ts) under Pulumi's mocks and carries every registered resource
 * out against the local Docker engine, through its Engine API (dockerode): images are built
 * with BuildKit from exactly the registered Dockerfile, context and build arguments; networks,
 * volumes and containers are created from exactly the registered inputs, translated field by
 * field the way the Docker provider does. Real ids and digests flow back into the program.
 *
 * An input the harness does not translate fails the run by name. What this engine cannot do
 * here (GPU device requests, registry push and cache) fails too: the engine suite's override
 * files (test/engine/*-overrides.yaml) turn them off, visibly.
 *
 * Between runs the harness keeps state like Pulumi does: a resource whose inputs did not
 * change is left alone; a changed image is rebuilt; a changed container is replaced (deleted
 * first: its host ports are fixed).
 */
import ignore from "@balena/dockerignore";
import { spawn } from "child_process";
import { createHash } from "crypto";
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tar from "tar-stream";
import { MergedStack } from "../../fleet/model/pulumiConfig";
import { Registered, ResourceHandler, runProgram, RunResult } from "../mocks";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Inputs = Record<string, any>;

/** Input keys of each resource type the harness carries out. */
export const TRANSLATED: Readonly<Record<string, readonly string[]>> = {
    "docker:index/container:Container": ["name", "image", "user", "readOnly", "tmpfs", "mounts", "capabilities", "securityOpts", "init", "restart", "logDriver", "logOpts", "memory", "memorySwap", "shmSize", "cpus", "cpuShares", "ports", "networksAdvanced", "envs", "labels", "healthcheck", "wait", "waitTimeout", "deviceRequests", "removeVolumes"],
    "docker:index/network:Network": ["name", "driver", "internal", "labels"],
    "docker:index/volume:Volume": ["name", "labels"],
    "docker:index/remoteImage:RemoteImage": ["name", "keepLocally"],
    "docker-build:index:Image": ["context", "dockerfile", "buildArgs", "tags", "labels", "platforms", "push", "load", "buildOnPreview", "cacheFrom", "cacheTo", "registries", "target", "network"],
    "command:local:Command": ["create", "environment", "triggers"],
    "pulumi:providers:docker": ["host", "sshOpts", "registryAuth", "version"],
    "pulumi:providers:docker-build": ["host", "registries", "version"],
    "pulumi:providers:command": ["version"],
    "pulumi:pulumi:StackReference": ["name"],
};

export type Action = "create" | "replace" | "unchanged";

export interface Event {
    type: string;
    name: string;
    action: Action;
}

interface Stored {
    inputsKey: string;
    id: string;
    state: Record<string, unknown>;
}

const MB = 1024 * 1024;

/** Go duration ("1h2m3s", "30s", "5m0s") in nanoseconds, as the Engine API takes it. */
export function durationNs(d: string | undefined): number | undefined {
    if (d === undefined) return undefined;
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
    if (!m || d === "") throw new Error(`harness: cannot read duration '${d}'`);
    const [h, mi, s] = [m[1], m[2], m[3]].map((x) => Number(x ?? 0));
    return ((h * 60 + mi) * 60 + s) * 1e9;
}

/** "1.5" CPUs as NanoCpus, the way `docker run --cpus` parses it (a decimal, at most 9 places). */
export function nanoCpus(r: Registered, cpus: string): number {
    if (!/^\d+(\.\d{1,9})?$/.test(cpus)) fail(r, `cannot read cpus '${cpus}'`);
    const [whole, frac = ""] = cpus.split(".");
    return Number(whole) * 1e9 + Number(frac.padEnd(9, "0"));
}

function fail(r: Registered, what: string): never {
    throw new Error(`harness: ${r.type} ${r.name}: ${what}`);
}

function checkTranslated(r: Registered): void {
    const known = TRANSLATED[r.type];
    if (!known) fail(r, "this resource type is not translated to the Docker engine");
    for (const [k, v] of Object.entries(r.inputs)) {
        if (v !== undefined && !known.includes(k)) fail(r, `input '${k}' is not translated`);
    }
}

/** The Engine API body of a container, from the provider's inputs. */
export function containerBody(r: Registered): Docker.ContainerCreateOptions {
    const i = r.inputs;
    if (i.deviceRequests !== undefined) fail(r, "GPU device requests need the NVIDIA runtime, which this engine lacks; the engine test stack sets fleet:gpu false");
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const p of i.ports ?? []) {
        const key = `${p.internal}/${p.protocol ?? "tcp"}`;
        exposed[key] = {};
        (bindings[key] ??= []).push({ HostIp: p.ip ?? "0.0.0.0", HostPort: String(p.external ?? "") });
    }
    const nets = i.networksAdvanced ?? [];
    const hc = i.healthcheck;
    return {
        name: i.name,
        Image: i.image,
        User: i.user,
        Env: i.envs,
        Labels: Object.fromEntries((i.labels ?? []).map((l: { label: string; value: string }) => [l.label, l.value])),
        ExposedPorts: exposed,
        Healthcheck: hc ? { Test: hc.tests, Interval: durationNs(hc.interval), Timeout: durationNs(hc.timeout), StartPeriod: durationNs(hc.startPeriod), StartInterval: durationNs(hc.startInterval), Retries: hc.retries } : undefined,
        HostConfig: {
            ReadonlyRootfs: i.readOnly === true,
            Tmpfs: i.tmpfs,
            Mounts: (i.mounts ?? []).map((m: Inputs) => ({ Type: m.type, Source: m.source, Target: m.target, ReadOnly: m.readOnly === true })),
            CapDrop: i.capabilities?.drops,
            CapAdd: i.capabilities?.adds,
            SecurityOpt: i.securityOpts,
            Init: i.init,
            RestartPolicy: { Name: i.restart ?? "no" },
            LogConfig: i.logDriver ? { Type: i.logDriver, Config: i.logOpts ?? {} } : undefined,
            // The provider takes these in megabytes; the Engine API in bytes.
            Memory: i.memory !== undefined ? i.memory * MB : undefined,
            MemorySwap: i.memorySwap !== undefined ? i.memorySwap * MB : undefined,
            ShmSize: i.shmSize !== undefined ? i.shmSize * MB : undefined,
            // `cpus` is the CLI's decimal string; the Engine API takes NanoCpus.
            NanoCpus: i.cpus !== undefined ? nanoCpus(r, i.cpus) : undefined,
            CpuShares: i.cpuShares,
            PortBindings: bindings,
            NetworkMode: nets[0]?.name,
        },
        NetworkingConfig: nets[0] ? { EndpointsConfig: { [nets[0].name]: { Aliases: nets[0].aliases } } } : undefined,
    };
}

function walk(root: string, rel = ""): string[] {
    const out: string[] = [];
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) out.push(...walk(root, p));
        else if (e.isFile()) out.push(p);
    }
    return out;
}

/** The build context as BuildKit gets it from the CLI: ignore rules applied, Dockerfile added. */
export function contextFiles(contextDir: string, ignoreFile: string | undefined): string[] {
    const patterns = ignoreFile && fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")) : [];
    const ig = ignore().add(patterns);
    return walk(contextDir).filter((f) => !ig.ignores(f)).sort();
}

async function tarContext(contextDir: string, files: string[], dockerfile: string): Promise<Buffer> {
    const pack = tar.pack();
    const chunks: Buffer[] = [];
    pack.on("data", (c: unknown) => { chunks.push(c as Buffer); });
    const done = new Promise<void>((res, rej) => { pack.on("end", () => res()); pack.on("error", rej); });
    for (const f of files) {
        const abs = path.join(contextDir, f);
        const st = fs.statSync(abs);
        pack.entry({ name: f, mode: st.mode & 0o777, mtime: new Date(0) }, fs.readFileSync(abs));
    }
    pack.entry({ name: ".fleet-harness.Dockerfile", mode: 0o644, mtime: new Date(0) }, dockerfile);
    pack.finalize();
    await done;
    return Buffer.concat(chunks);
}

function execFile(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const p = spawn(file, args);
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("close", (code) => resolve({ code: code ?? -1, stdout: stdout.trim(), stderr: stderr.trim() }));
    });
}

function run(command: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const p = spawn("bash", ["-c", command], { env: { ...process.env, ...env } });
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += d));
        p.stderr.on("data", (d) => (stderr += d));
        p.on("close", (code) => resolve({ code: code ?? -1, stdout: stdout.trim(), stderr: stderr.trim() }));
    });
}

/** Runs at most `size` tasks at once. */
class Slots {
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

export class EngineHarness {
    public readonly docker = new Docker();
    private readonly state = new Map<string, Stored>();
    /**
     * Concurrent `buildx build`s. Unbounded, ~30 BuildKit solves on this 2-core machine end in
     * "DeadlineExceeded" while exporting; two at a time; FLEET_HARNESS_BUILDS raises it on a bigger one.
     */
    private readonly buildSlots = new Slots(Number(process.env.FLEET_HARNESS_BUILDS ?? 2));
    private readonly made = { containers: new Set<string>(), networks: new Set<string>(), volumes: new Set<string>(), images: new Set<string>() };
    /** Events of the latest run. */
    public events: Event[] = [];
    /** Seconds from create to healthy, by container name, of the latest run. */
    public healthySeconds: Record<string, number> = {};
    /** Seconds of each image build of the latest run, by resource name. */
    public buildSeconds: Record<string, number> = {};
    /** Wall-clock span of the latest run's image builds (they run concurrently), in ms since the epoch. */
    public buildWindow = { start: 0, end: 0 };
    /** Wall-clock span from the latest run's first container create to its last container healthy, in ms since the epoch. */
    public containerWindow = { start: 0, end: 0 };

    /** @param peers outputs of the stacks a StackReference may name */
    constructor(private readonly peers: Record<string, Record<string, unknown>> = {}) {}

    async run(config: MergedStack): Promise<RunResult> {
        this.events = [];
        this.healthySeconds = {};
        this.buildSeconds = {};
        this.buildWindow = { start: 0, end: 0 };
        this.containerWindow = { start: 0, end: 0 };
        const handler: ResourceHandler = (r) => this.apply(r);
        return runProgram(config, { handler });
    }

    private async apply(r: Registered & { custom: boolean }): Promise<{ id: string; state: Record<string, unknown> }> {
        if (process.env.FLEET_HARNESS_DEBUG) console.error(`harness: ${r.type} ${r.name}`);
        if (!r.custom) return { id: "", state: {} };
        checkTranslated(r);
        const key = `${r.type}::${r.name}`;
        const inputsKey = createHash("sha256").update(JSON.stringify(r.inputs)).digest("hex");
        const prev = this.state.get(key);
        if (prev && prev.inputsKey === inputsKey) {
            this.events.push({ type: r.type, name: r.name, action: "unchanged" });
            return { id: prev.id, state: prev.state };
        }
        if (prev) await this.remove(r, prev);
        const result = await this.create(r);
        if (process.env.FLEET_HARNESS_DEBUG) console.error(`harness: done ${r.type} ${r.name} at ${new Date().toISOString()}`);
        this.state.set(key, { inputsKey, ...result });
        this.events.push({ type: r.type, name: r.name, action: prev ? "replace" : "create" });
        return result;
    }

    private async remove(r: Registered, prev: Stored): Promise<void> {
        if (r.type === "docker:index/container:Container") {
            await this.docker.getContainer(prev.id).remove({ force: true, v: false });
            this.made.containers.delete(prev.id);
        } else if (r.type === "docker:index/network:Network" || r.type === "docker:index/volume:Volume") {
            fail(r, "would be replaced: the harness expects networks and volumes to keep their inputs");
        }
    }

    private async create(r: Registered): Promise<{ id: string; state: Record<string, unknown> }> {
        const i = r.inputs;
        switch (r.type) {
            case "docker-build:index:Image": return this.build(r);
            case "docker:index/remoteImage:RemoteImage": {
                // Nothing can be pulled here: the image was loaded by the build.
                const info = await this.docker.getImage(i.name).inspect();
                return { id: info.Id, state: { ...i, imageId: info.Id, repoDigest: info.RepoDigests?.[0] ?? "" } };
            }
            case "docker:index/network:Network": {
                const n = await this.docker.createNetwork({ Name: i.name, Driver: i.driver, Internal: i.internal === true, Labels: Object.fromEntries((i.labels ?? []).map((l: Inputs) => [l.label, l.value])) });
                this.made.networks.add(n.id);
                return { id: n.id, state: { ...i } };
            }
            case "docker:index/volume:Volume": {
                await this.docker.createVolume({ Name: i.name, Labels: Object.fromEntries((i.labels ?? []).map((l: Inputs) => [l.label, l.value])) });
                this.made.volumes.add(i.name);
                return { id: i.name, state: { ...i } };
            }
            case "docker:index/container:Container": return this.container(r);
            case "command:local:Command": {
                const out = await run(i.create, i.environment ?? {});
                if (out.code !== 0) fail(r, `command failed (${out.code}): ${out.stderr}`);
                return { id: r.name, state: { ...i, stdout: out.stdout, stderr: out.stderr } };
            }
            case "pulumi:pulumi:StackReference": {
                const outputs = this.peers[i.name];
                if (!outputs) fail(r, `no outputs for stack ${i.name}; run that stack first`);
                return { id: i.name, state: { name: i.name, outputs } };
            }
            default:
                // Providers: nothing to carry out.
                return { id: r.name, state: { ...i } };
        }
    }

    /**
     * The context goes to `docker buildx build -` as a tarball on stdin, through the CLI's
     * session: Docker 26's BuildKit fails every session-less Engine API build here ("failed to
     * read downloaded context ... build-context-<id>: no such host"). The default builder (the
     * docker driver) puts the image in the daemon's store, as the Engine API build did.
     */
    private async build(r: Registered): Promise<{ id: string; state: Record<string, unknown> }> {
        const i = r.inputs;
        if (i.push) fail(r, "registry push is not possible here; the engine test stack sets fleet:imageOutput load");
        if (i.cacheFrom || i.cacheTo) fail(r, "a registry cache needs a registry; the engine test stack loads images");
        if (i.registries) fail(r, "registry credentials are not used here");
        if (i.network !== undefined && i.network !== "default" && i.network !== "host") fail(r, `build network '${i.network}' is not translated`);
        if ((i.platforms ?? []).some((p: string) => p !== "linux/amd64") || process.arch !== "x64") fail(r, `platforms ${i.platforms} cannot be built on ${process.arch}`);
        const ctx: string = i.context.location;
        let text: string;
        let ignoreFile: string;
        if (i.dockerfile.inline !== undefined) {
            text = i.dockerfile.inline;
            ignoreFile = path.join(ctx, ".dockerignore");
        } else {
            text = fs.readFileSync(i.dockerfile.location, "utf8");
            // BuildKit prefers <Dockerfile>.dockerignore to the context root's.
            ignoreFile = fs.existsSync(`${i.dockerfile.location}.dockerignore`) ? `${i.dockerfile.location}.dockerignore` : path.join(ctx, ".dockerignore");
        }
        const started = Date.now();
        const body = await tarContext(ctx, contextFiles(ctx, ignoreFile), text);
        // Docker >= 23 refuses a tar body with BuildKit over the bare Engine API (it wants a
        // client session), so builds go through the buildx CLI against the default builder.
        const work = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-harness-build-"));
        const dockerfile = i.dockerfile.inline !== undefined ? path.join(work, "Dockerfile") : i.dockerfile.location;
        if (i.dockerfile.inline !== undefined) fs.writeFileSync(dockerfile, text);
        const args = ["buildx", "build", "--builder", "default", "--progress", "plain", "--file", dockerfile,
            "--metadata-file", path.join(work, "metadata.json"), "--platform", "linux/amd64",
            ...i.tags.flatMap((t: string) => ["--tag", t]),
            ...Object.entries(i.buildArgs ?? {}).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]),
            ...Object.entries(i.labels ?? {}).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
            ...(i.target ? ["--target", i.target] : []),
            ...(i.network === "host" ? ["--network", "host"] : []), ctx];
        const out = await this.buildSlots.run(() => execFile("/usr/bin/docker", args));
        fs.rmSync(work, { recursive: true, force: true });
        if (out.code !== 0) fail(r, `build failed: ${out.stderr.split("\n").slice(-15).join("\n")}`);
        const imageId = (await this.docker.getImage(i.tags[0]).inspect()).Id;
        for (const t of i.tags) this.made.images.add(t);
        this.buildSeconds[r.name] = (Date.now() - started) / 1000;
        this.buildWindow = { start: this.buildWindow.start || started, end: Date.now() };
        return { id: imageId, state: { ...i, ref: i.tags[0], digest: imageId, contextHash: createHash("sha256").update(body).digest("hex") } };
    }

    private async container(r: Registered): Promise<{ id: string; state: Record<string, unknown> }> {
        const i = r.inputs;
        const started = Date.now();
        const c = await this.docker.createContainer(containerBody(r));
        this.made.containers.add(c.id);
        for (const n of (i.networksAdvanced ?? []).slice(1)) {
            await this.docker.getNetwork(n.name).connect({ Container: c.id, EndpointConfig: { Aliases: n.aliases } });
        }
        await c.start();
        if (i.wait) await this.waitHealthy(r, c, (i.waitTimeout ?? 60) * 1000);
        this.healthySeconds[i.name] = (Date.now() - started) / 1000;
        this.containerWindow = { start: Math.min(this.containerWindow.start || started, started), end: Math.max(this.containerWindow.end, Date.now()) };
        return { id: c.id, state: { ...i, name: i.name } };
    }

    private async waitHealthy(r: Registered, c: Docker.Container, timeoutMs: number): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const s = (await c.inspect()).State;
            if (s.Health?.Status === "healthy") return;
            if (!s.Running) fail(r, `container exited (${s.ExitCode}) before it was healthy`);
            if (Date.now() > deadline) {
                const log = s.Health?.Log?.slice(-1)[0]?.Output?.trim() ?? "no health check ran";
                fail(r, `container ${r.inputs.name} was not healthy after ${timeoutMs / 1000}s: ${log}`);
            }
            await new Promise((res) => setTimeout(res, 1000));
        }
    }

    /** The registered inputs of every container the harness holds, in creation order (the benchmark's compose file). */
    containerInputs(): Inputs[] {
        return this.inputsOf("docker:index/container:Container");
    }

    /** The registered inputs of every network the harness holds. */
    networkInputs(): Inputs[] {
        return this.inputsOf("docker:index/network:Network");
    }

    private inputsOf(type: string): Inputs[] {
        return [...this.state.entries()].filter(([k]) => k.startsWith(`${type}::`)).map(([, v]) => v.state as Inputs);
    }

    /**
     * Removes what an interrupted earlier run left behind (containers, networks and volumes
     * labelled fleet.machine), so names are free again.
     */
    async purgeLeftovers(): Promise<void> {
        const filters = { label: ["fleet.machine"] };
        for (const c of await this.docker.listContainers({ all: true, filters })) await this.docker.getContainer(c.Id).remove({ force: true, v: true });
        for (const n of await this.docker.listNetworks({ filters })) await this.docker.getNetwork(n.Id).remove();
        for (const v of (await this.docker.listVolumes({ filters })).Volumes ?? []) await this.docker.getVolume(v.Name).remove();
    }

    /** Removes every container, network, volume and image tag the harness made. */
    async cleanup(): Promise<void> {
        for (const id of this.made.containers) await this.docker.getContainer(id).remove({ force: true, v: true }).catch(() => undefined);
        for (const id of this.made.networks) await this.docker.getNetwork(id).remove().catch(() => undefined);
        for (const name of this.made.volumes) await this.docker.getVolume(name).remove().catch(() => undefined);
        for (const tag of this.made.images) await this.docker.getImage(tag).remove({ force: true }).catch(() => undefined);
        this.made.containers.clear();
        this.made.networks.clear();
        this.made.volumes.clear();
        this.made.images.clear();
        this.state.clear();
    }
}
