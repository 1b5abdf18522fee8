/**
 * Each resource type the program registers, as its provider handles it: the diff of its state
 * against new inputs, and Create, Read, Update and Delete against this machine's engine.
 */
import { START_SCRIPT } from "../../../components/serviceContainer";
import { Registered } from "../../mocks";
import { fail, Inputs } from "../fail";
import { ProviderDiff } from "../steps";
import { BuildRecord, buildImage, readImage, Slots } from "./buildIo";
import { CONTAINER_ATTRS, CONTAINER_INPUTS } from "./container";
import { Created, createContainer, createNetwork, createRemoteImage, createVolume, deleteContainer, deleteNetwork, deleteVolume, Io, readContainerIo, readNetworkIo, readRemoteImageIo, readVolumeIo, runCommand, updateContainer } from "./engineIo";
import { diffImage } from "./image";
import { COMMAND_ATTRS, NETWORK_ATTRS, NETWORK_INPUTS, REMOTE_IMAGE_ATTRS, VOLUME_ATTRS } from "./resources";
import { Attr, attrDiffers } from "./schema";

export interface ProviderImpl {
    diff(state: Inputs, inputs: Inputs): ProviderDiff;
    create(io: Io, r: Registered, onBuild: (r: BuildRecord) => void): Promise<Created>;
    /** Read: the state now, or undefined when the resource is gone. */
    read?(io: Io, id: string, outputs: Inputs): Promise<Inputs | undefined>;
    update?(io: Io, id: string, outputs: Inputs, inputs: Inputs, changed: string[], onBuild: (r: BuildRecord) => void): Promise<Inputs>;
    delete?(io: Io, id: string, outputs: Inputs): Promise<void>;
    /** The provider's own deleteBeforeReplace (pulumi-docker provider/resources.go: docker_container). */
    deleteBeforeReplace?: boolean;
}

const short = (v: unknown) => {
    const s = JSON.stringify(v ?? null);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** A bridged schema's diff, with what each changed attribute was and will be. */
function schemaDiff(attrs: readonly Attr[]) {
    return (state: Inputs, inputs: Inputs): ProviderDiff => {
        const changed = attrs.filter((a) => attrDiffers(a, state[a.key], inputs[a.key]));
        return {
            changed: changed.map((a) => a.key),
            replaces: changed.filter((a) => a.forceNew).map((a) => a.key),
            details: Object.fromEntries(changed.map((a) => [a.key, `${short(state[a.key])} -> ${short(inputs[a.key])}`])),
        };
    };
}

/**
 * A container's start command (components/serviceContainer.ts `startCommand`) is where it turns
 * healthy now that the provider only creates it: the run's metrics take that moment from here.
 */
async function startedContainer(io: Io, create: string, started: number, ok: boolean): Promise<void> {
    const m = new RegExp(`^bash ${START_SCRIPT.replace(/\./g, "\\.")} (\\S+) `).exec(create);
    if (!m) return;
    const info = ok ? await io.docker.getContainer(m[1]).inspect().catch(() => undefined) : undefined;
    // From the container's create, as before the provider stopped starting it.
    io.onContainer?.(m[1], info ? Date.parse(info.Created) : started, info);
}

/** One concurrent-build limit for the whole process: ~30 BuildKit solves at once fail on 2 cores. */
const BUILD_SLOTS = new Slots(Number(process.env.FLEET_HARNESS_BUILDS ?? 2));

async function build(io: Io, r: Registered, onBuild: (rec: BuildRecord) => void): Promise<Created> {
    const b = await buildImage(r, BUILD_SLOTS, io.made.images);
    onBuild(b.record);
    return { id: b.id, outputs: b.outputs };
}

export const PROVIDERS: Readonly<Record<string, ProviderImpl>> = {
    "docker:index/container:Container": {
        diff: schemaDiff(CONTAINER_ATTRS),
        create: (io, r) => createContainer(io, r),
        read: readContainerIo,
        update: (io, id, outputs, inputs, changed) => updateContainer(io, id, outputs, inputs, changed),
        delete: deleteContainer,
        deleteBeforeReplace: true,
    },
    "docker:index/network:Network": {
        diff: schemaDiff(NETWORK_ATTRS),
        create: (io, r) => createNetwork(io, r.inputs),
        read: readNetworkIo,
        delete: (io, id) => deleteNetwork(io, id),
    },
    "docker:index/volume:Volume": {
        diff: schemaDiff(VOLUME_ATTRS),
        create: (io, r) => createVolume(io, r.inputs),
        read: readVolumeIo,
        delete: (io, id) => deleteVolume(io, id),
    },
    "docker:index/remoteImage:RemoteImage": {
        diff: schemaDiff(REMOTE_IMAGE_ATTRS),
        create: (io, r) => createRemoteImage(io, r),
        read: (io, _id, outputs) => readRemoteImageIo(io, outputs),
        // keep_locally: Delete leaves the image in the daemon.
        delete: async (io, _id, outputs) => {
            if (!outputs.keepLocally) await io.docker.getImage(String(outputs.name)).remove().catch(() => undefined);
        },
    },
    "docker-build:index:Image": {
        diff: (state, inputs) => ({ changed: diffImage(state, inputs), replaces: [] }),
        create: build,
        read: (_io, _id, outputs) => readImage(outputs),
        update: async (io, _id, _outputs, inputs, _changed, onBuild) => (await build(io, { type: "docker-build:index:Image", name: String(inputs.tags?.[0]), inputs, opts: undefined as never }, onBuild)).outputs,
        // Image.Delete removes the image from the daemon and its manifest from the registry.
        delete: async (io, _id, outputs) => {
            for (const t of outputs.tags ?? []) await io.docker.getImage(t).remove({ force: true }).catch(() => undefined);
        },
    },
    "command:local:Command": {
        diff: schemaDiff(COMMAND_ATTRS),
        // A failed create is a plain error: nothing is kept (pulumi-go-provider v1.3.0
        // infer/resource.go Create), so the next `up` creates it again.
        create: async (io, r) => {
            const started = Date.now();
            const out = await runCommand(r.inputs.create, r.inputs.environment ?? {}, r.inputs.stdin);
            await startedContainer(io, String(r.inputs.create), started, out.code === 0);
            if (out.code !== 0) fail(r, out.error);
            return { id: r.name, outputs: { ...r.inputs, stdout: out.stdout, stderr: out.stderr } };
        },
        update: async (_io, id, _outputs, inputs) => {
            const out = await runCommand(inputs.create, inputs.environment ?? {}, inputs.stdin);
            if (out.code !== 0) fail({ type: "command:local:Command", name: id }, out.error);
            return { ...inputs, stdout: out.stdout, stderr: out.stderr };
        },
    },
};

/** The bridged and command schemas by type; docker-build's Diff never replaces. */
const SCHEMAS: Readonly<Record<string, readonly Attr[]>> = {
    "docker:index/container:Container": CONTAINER_ATTRS,
    "docker:index/network:Network": NETWORK_ATTRS,
    "docker:index/volume:Volume": VOLUME_ATTRS,
    "docker:index/remoteImage:RemoteImage": REMOTE_IMAGE_ATTRS,
    "command:local:Command": COMMAND_ATTRS,
};

/**
 * A preview's diff: the provider's diff of the known inputs, and every unknown input a change
 * that replaces where its attribute is ForceNew (an SDKv2 plan shows an unknown as "known after
 * apply", a difference; pulumi-go-provider's Diff counts an unknown input as changed, and
 * `triggers` replaces). `unknown` are the top-level inputs a preview does not know yet.
 */
export function previewDiff(type: string, p: ProviderImpl, state: Inputs, inputs: Inputs, unknown: readonly string[]): ProviderDiff {
    const known = p.diff(state, Object.fromEntries(Object.entries(inputs).filter(([k]) => !unknown.includes(k))));
    const schema = SCHEMAS[type] ?? [];
    const changed = [...new Set([...known.changed.filter((k) => !unknown.includes(k)), ...unknown])];
    const replaces = [...new Set([...known.replaces.filter((k) => !unknown.includes(k)), ...unknown.filter((k) => schema.find((a) => a.key === k)?.forceNew)])];
    const details = { ...known.details, ...Object.fromEntries(unknown.map((k) => [k, `${short(state[k])} -> (known after the update)`])) };
    return { changed, replaces, details };
}

/** Input keys of each resource type the harness carries out. */
export const TRANSLATED: Readonly<Record<string, readonly string[]>> = {
    "docker:index/container:Container": CONTAINER_INPUTS,
    "docker:index/network:Network": NETWORK_INPUTS,
    "docker:index/volume:Volume": ["name", "labels"],
    "docker:index/remoteImage:RemoteImage": ["name", "keepLocally"],
    "docker-build:index:Image": ["context", "dockerfile", "buildArgs", "tags", "labels", "platforms", "push", "load", "exports", "buildOnPreview", "cacheFrom", "cacheTo", "registries", "target", "network", "builder", "exec"],
    "command:local:Command": ["create", "environment", "stdin", "triggers"],
    "pulumi:providers:docker": ["host", "sshOpts", "registryAuth", "version"],
    "pulumi:providers:docker-build": ["host", "registries", "version"],
    "pulumi:providers:command": ["version"],
    "pulumi:pulumi:StackReference": ["name"],
};

export function checkTranslated(r: Registered): void {
    const known = TRANSLATED[r.type];
    if (!known) fail(r, "this resource type is not translated to the Docker engine");
    for (const [k, v] of Object.entries(r.inputs)) {
        if (v !== undefined && !known.includes(k)) fail(r, `input '${k}' is not translated`);
    }
}

