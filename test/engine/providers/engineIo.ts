/**
 * The providers' calls to the Docker engine, as the harness carries them out: Create, Read,
 * Update and Delete of each resource type the program registers, each returning the state its
 * provider would keep (read back from the engine where the provider reads it back).
 */
import { spawn, spawnSync } from "child_process";
import Docker from "dockerode";
import { fail, Inputs } from "../fail";
import { connectRequests, containerConfig, createRequest, readContainer, updateRequest } from "./container";
import { DOCKER_CLI, withoutTag } from "./buildx";
import { networkCreateRequest, readNetwork, readRemoteImage, readVolume } from "./resources";

/** What every provider call needs from the harness. */
export interface Io {
    docker: Docker;
    /** Everything the harness made, removed by cleanup(). */
    made: { containers: Set<string>; networks: Set<string>; volumes: Set<string>; images: Set<string> };
    /** References pulled in the latest run, in order. */
    pulled: string[];
    /** Called when a container created in this run turned healthy (or gave up). */
    onContainer?: (name: string, startedMs: number, info: Docker.ContainerInspectInfo | undefined) => void;
}

export interface Created { id: string; outputs: Inputs }

/**
 * A create that made the resource but could not finish it: the provider returns the partial
 * state with its error (pulumi-terraform-bridge since pulumi/pulumi-terraform-bridge#2713,
 * ErrorResourceInitFailed), and the engine records the resource with `initErrors`.
 */
export class InitError extends Error {
    constructor(message: string, public readonly id: string, public readonly outputs: Inputs) {
        super(message);
    }
}

export const notFound = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;

// ----------------------------------------------------------------------------- containers

/**
 * resourceDockerContainerCreate: create (on the default bridge, or in network_mode), and with
 * networks_advanced disconnect the bridge and connect each entry as connectRequests has it
 * (aliases, IPv4 address, ...; none in host mode, where the program gives none), start, then
 * (wait) poll the health status once a second until healthy or `wait_timeout` seconds; Create
 * ends with Read. A timeout returns the container in state with "container failed to be in
 * healthy state", as the provider does.
 */
export async function createContainer(io: Io, r: { type: string; name: string; inputs: Inputs }): Promise<Created> {
    const { name, body } = createRequest(r.inputs);
    const started = Date.now();
    const c = await io.docker.createContainer({ name, ...body } as Docker.ContainerCreateOptions);
    io.made.containers.add(c.id);
    const config = containerConfig(r.inputs);
    const partial = { ...config, id: c.id };
    const connects = connectRequests(r.inputs);
    if (connects.length > 0) {
        await io.docker.getNetwork("bridge").disconnect({ Container: c.id }).catch((e: Error) => {
            if (!/is not connected to the network bridge/.test(e.message)) throw e;
        });
        for (const n of connects) {
            await io.docker.getNetwork(n.network).connect({ Container: c.id, EndpointConfig: n.endpoint }).catch((e: Error) => {
                throw new InitError(`Unable to connect to network '${n.network}': ${e.message}`, c.id, partial);
            });
        }
    }
    // start false: only created (its start command starts it, and says when it was healthy).
    if (config.start === false) return { id: c.id, outputs: { ...readContainer(await c.inspect(), partial), id: c.id } };
    await c.start().catch((e: Error) => { throw new InitError(`Unable to start container: ${e.message}`, c.id, partial); });
    if (config.wait) {
        const healthy = await waitHealthy(c, (config.waitTimeout ?? 60) * 1000);
        if (!healthy.ok) {
            io.onContainer?.(name, started, undefined);
            throw new InitError(`container failed to be in healthy state (${healthy.why})`, c.id, partial);
        }
    }
    const info = await c.inspect();
    io.onContainer?.(name, started, info);
    return { id: c.id, outputs: { ...readContainer(info, partial), id: c.id } };
}

async function waitHealthy(c: Docker.Container, timeoutMs: number): Promise<{ ok: boolean; why: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const s = (await c.inspect()).State;
        if (s.Health === undefined) return { ok: false, why: "no healthcheck" };
        if (s.Health.Status === "healthy") return { ok: true, why: "" };
        if (Date.now() > deadline) {
            const last = s.Health.Log?.slice(-1)[0]?.Output?.trim() || (s.Running ? "no check passed" : `exited ${s.ExitCode}`);
            return { ok: false, why: `not healthy after ${timeoutMs / 1000}s: ${last}` };
        }
        await new Promise((res) => setTimeout(res, 1000));
    }
}

/** resourceDockerContainerRead: gone when no container of that id is listed (fetchDockerContainer). */
export async function readContainerIo(io: Io, id: string, outputs: Inputs): Promise<Inputs | undefined> {
    const listed = await io.docker.listContainers({ all: true, filters: { id: [id] } });
    if (!listed.some((c) => c.Id === id)) return undefined;
    return { ...readContainer(await io.docker.getContainer(id).inspect(), outputs), id };
}

/** resourceDockerContainerUpdate; the state afterwards is the planned one (Update does not Read). */
export async function updateContainer(io: Io, id: string, outputs: Inputs, inputs: Inputs, changed: string[]): Promise<Inputs> {
    const req = updateRequest(outputs, inputs, changed);
    const c = io.docker.getContainer(id);
    if (req.start) await c.start();
    if (req.update) await c.update(req.update);
    return { ...outputs, ...containerConfig(inputs), id };
}

/** resourceDockerContainerDelete: stop (destroy_grace_seconds, else 0), remove (-v by remove_volumes), wait. */
export async function deleteContainer(io: Io, id: string, outputs: Inputs): Promise<void> {
    const c = io.docker.getContainer(id);
    await c.stop({ t: 0 }).catch((e) => { if (!notFound(e) && (e as { statusCode?: number }).statusCode !== 304) throw e; });
    await c.remove({ force: true, v: outputs.removeVolumes !== false }).catch((e) => { if (!notFound(e)) throw e; });
    io.made.containers.delete(id);
}

// ----------------------------------------------------------------------------- networks, volumes

/** resourceDockerNetworkCreate, then its Read (resourceDockerNetworkReadRefreshFunc). */
export async function createNetwork(io: Io, inputs: Inputs): Promise<Created> {
    const n = await io.docker.createNetwork(networkCreateRequest(inputs) as Docker.NetworkCreateOptions);
    io.made.networks.add(n.id);
    return { id: n.id, outputs: { ...readNetwork(await n.inspect(), inputs), id: n.id } };
}

export async function readNetworkIo(io: Io, id: string, outputs: Inputs): Promise<Inputs | undefined> {
    const info = await io.docker.getNetwork(id).inspect().catch((e) => { if (notFound(e)) return undefined; throw e; });
    return info ? { ...readNetwork(info, outputs), id } : undefined;
}

export async function deleteNetwork(io: Io, id: string): Promise<void> {
    await io.docker.getNetwork(id).remove().catch((e) => { if (!notFound(e)) throw e; });
    io.made.networks.delete(id);
}

export async function createVolume(io: Io, inputs: Inputs): Promise<Created> {
    await io.docker.createVolume({ Name: inputs.name, Labels: Object.fromEntries((inputs.labels ?? []).map((l: Inputs) => [l.label, l.value])) });
    io.made.volumes.add(inputs.name);
    const info = await io.docker.getVolume(inputs.name).inspect();
    return { id: info.Name, outputs: { ...readVolume(info, inputs), id: info.Name } };
}

export async function readVolumeIo(io: Io, id: string, outputs: Inputs): Promise<Inputs | undefined> {
    const info = await io.docker.getVolume(id).inspect().catch((e) => { if (notFound(e)) return undefined; throw e; });
    return info ? { ...readVolume(info, outputs), id } : undefined;
}

export async function deleteVolume(io: Io, id: string): Promise<void> {
    await io.docker.getVolume(id).remove().catch((e) => { if (!notFound(e)) throw e; });
    io.made.volumes.delete(id);
}

// ----------------------------------------------------------------------------- remote images

/** findImage: the daemon's image of that name, pulled first when the daemon lacks it; then Read. */
export async function createRemoteImage(io: Io, r: { type: string; name: string; inputs: Inputs }): Promise<Created> {
    const name: string = r.inputs.name;
    let info = await inspectImage(io, name);
    if (!info) {
        const ref = withoutTag(name);
        const pull = spawnSync(DOCKER_CLI, ["pull", "--quiet", ref], { encoding: "utf8" });
        if (pull.status !== 0) fail(r, `pull of ${ref} failed: ${pull.stderr.trim()}`);
        io.pulled.push(ref);
        io.made.images.add(ref);
        info = await inspectImage(io, name);
        if (!info) fail(r, `unable to find or pull image ${name}`);
    }
    return { id: `${info.Id}${name}`, outputs: readRemoteImage(info, { ...r.inputs }) };
}

async function inspectImage(io: Io, name: string): Promise<Docker.ImageInspectInfo | undefined> {
    return io.docker.getImage(withoutTag(name)).inspect().catch((e) => { if (notFound(e)) return undefined; throw e; });
}

export async function readRemoteImageIo(io: Io, outputs: Inputs): Promise<Inputs | undefined> {
    const info = await inspectImage(io, String(outputs.name));
    return info ? readRemoteImage(info, outputs) : undefined;
}

// ----------------------------------------------------------------------------- commands

/**
 * local.Command's run (pulumi-command v1.2.1 provider/pkg/provider/local/commandOutputs.go `run`):
 * `/bin/sh -c` (dash on Debian: no bash) in the provider's environment plus the resource's;
 * stdout and stderr lose one trailing newline (`strings.TrimSuffix`), nothing else. A failure is
 * its error text: the exit status, the command quoted, then stdout and stderr as they came.
 */
export function runCommand(command: string, env: Record<string, string>, stdin?: string): Promise<{ code: number; stdout: string; stderr: string; error: string }> {
    return new Promise((resolve) => {
        const p = spawn("/bin/sh", ["-c", command], { env: { ...process.env, ...env } });
        // pulumi-command v1.2.1 provider/pkg/provider/local/commandOutputs.go: a non-empty
        // `stdin` is the process's standard input; otherwise it has none (os/exec: /dev/null).
        // A command that exits without reading its input must not fail the harness (EPIPE).
        p.stdin.on("error", () => undefined);
        if (stdin) p.stdin.end(stdin);
        else p.stdin.end();
        let stdout = "";
        let stderr = "";
        let both = "";
        p.stdout.on("data", (d) => { stdout += d; both += d; });
        p.stderr.on("data", (d) => { stderr += d; both += d; });
        p.on("close", (code) => resolve({ code: code ?? -1, stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, ""), error: `exit status ${code ?? -1}: running ${JSON.stringify(command)}:\n${both}` }));
    });
}
