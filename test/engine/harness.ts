/**
 * Stands in for the Pulumi engine and the three providers the program uses, against this
 * machine's Docker engine. It runs the real program (index.ts) under Pulumi's mocks and keeps,
 * per resource, the state its provider would keep: for the Docker provider what its Read reads
 * back from the engine after a create (./providers/container.ts, resources.ts), for docker-build
 * the inputs, digest and context hash (./providers/image.ts), for local.Command its inputs and
 * outputs. The next run diffs the new inputs against that state with the provider's rules and
 * the engine's (./steps.ts: replaceOnChanges, init errors), and carries out each resource's step:
 * create, update, replace (deleted first where the resource or its provider says
 * deleteBeforeReplace, else created first and its old self kept as a pending delete), same; what
 * the program no longer registers and every pending delete are deleted at the end of a run that
 * succeeded, and kept by one that failed. `refresh()` re-reads every resource as `pulumi refresh`
 * does, init errors dropped. Every run reports per resource what it did and why (`events`).
 *
 * An input the harness does not carry out fails the run by name.
 */
import * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "crypto";
import Docker from "dockerode";
import * as os from "os";
import { MergedStack } from "../../fleet/pulumi/config";
import { engineUrns, Registered, ResourceHandler, runProgram, RunResult } from "../mocks";
import { fail, Inputs } from "./fail";
import { RunMetrics } from "./metrics";
import { Slots } from "./providers/buildIo";
import { InitError, Io, notFound } from "./providers/engineIo";
import { checkTranslated, previewDiff, ProviderImpl, PROVIDERS } from "./providers/registry";

import { decide, Decision, ProviderDiff } from "./steps";

export type Action = "create" | "update" | "replace" | "same" | "delete";

export interface RunOptions {
    /** `pulumi up --refresh`: every resource re-read first. */
    refresh?: boolean;
    /** `pulumi up --replace <urn>` of each resource this picks. */
    replace?: (type: string, name: string) => boolean;
    /** Where the program runs from (another checkout of this repository); the project by default. */
    projectDir?: string;
}

/**
 * The SDK's sentinel for a value not known until the update runs (@pulumi/pulumi runtime/rpc
 * `unknownValue`): a mock's state that holds it deserializes to an unknown output.
 */
export const UNKNOWN = pulumi.runtime.unknownValue;

/**
 * Outputs each provider computes, beyond the inputs it echoes: unknown in a preview where the
 * resource is created or replaced. For a replacement the old state's keys are taken as well.
 */
const COMPUTED_OUTPUTS: Readonly<Record<string, readonly string[]>> = {
    "docker:index/container:Container": ["id"],
    "docker:index/remoteImage:RemoteImage": ["id", "imageId", "repoDigest"],
    // ipam_config is Optional+Computed (resource_docker_network.go v4.5.0 L99-104): unknown in a
    // preview of a create that leaves it out (the engine picks the subnet).
    "docker:index/network:Network": ["id", "ipamConfigs"],
    "docker:index/volume:Volume": ["id", "mountpoint"],
    "docker-build:index:Image": ["id", "ref", "digest", "contextHash"],
    "command:local:Command": ["id", "stdout", "stderr"],
};

/**
 * Types served by pulumi-go-provider (docker-build, command). In a preview its Update, like its
 * Create, marks every output that does not echo an input unknown once any input changed
 * (pulumi-go-provider v1.3.0 infer/resource.go `markComputed` with the default flow of
 * `ensureDefaultComputed`: every output depends on every input). The bridged Docker provider's
 * in-place update keeps its computed attributes.
 */
const GO_PROVIDER_TYPES = new Set(["docker-build:index:Image", "command:local:Command"]);

/**
 * What a preview returns for a resource that changes: the inputs, known where they are, and every
 * other output unknown; a bridged in-place update keeps the old outputs besides the new inputs.
 */
export function plannedOutputs(type: string, op: "create" | "update" | "replace", inputs: Inputs, prior?: Inputs, unknown: readonly string[] = []): Inputs {
    if (op === "update" && !GO_PROVIDER_TYPES.has(type)) return { ...prior, ...inputs, ...Object.fromEntries(unknown.map((k) => [k, UNKNOWN])) };
    const out: Inputs = { ...inputs };
    for (const k of new Set([...(COMPUTED_OUTPUTS[type] ?? ["id"]), ...Object.keys(prior ?? {}), ...unknown])) {
        if (inputs[k] === undefined || unknown.includes(k)) out[k] = UNKNOWN;
    }
    return out;
}

export interface Event {
    type: string;
    name: string;
    action: Action;
    /** Why, property by property (empty for same, create and delete). */
    why: string[];
}

interface Stored {
    type: string;
    name: string;
    id: string;
    inputs: Inputs;
    outputs: Inputs;
    /** The engine's `initErrors`: the resource exists but its create did not finish. */
    initErrors: string[];
    retainOnDelete: boolean;
    /** Its `name` is the provider's auto-name, not the program's (the bridge's `__defaults`). */
    autoNamed?: boolean;
    /** The resources it depends on (`type::name`), from its registration: what the deletes are ordered by. */
    dependencies?: string[];
}

/** `type::name` of a URN (`urn:pulumi:<stack>::<project>::<parent types$>type::name`): the harness's key. */
export function urnKey(urn: string): string {
    const cut = urn.lastIndexOf("::");
    const types = urn.slice(0, cut);
    return `${types.slice(types.lastIndexOf("::") + 2).split("$").pop()}::${urn.slice(cut + 2)}`;
}

/**
 * The order the engine deletes in: a resource only once nothing left to delete depends on it
 * (pulumi/pulumi pkg/resource/deploy/step_generator.go `ScheduleDeletes`: antichains of the old
 * snapshot's dependency graph, each finished before the next). So a replaced container, pending
 * deletion, goes before the network it was attached to, which the program no longer registers.
 * Among the ready ones, the given order.
 */
export function deleteOrder<T extends { key: string; dependencies: string[] }>(items: T[]): T[][] {
    const rest = [...items];
    const out: T[][] = [];
    while (rest.length) {
        let ready = rest.filter((d) => !rest.some((o) => o !== d && o.dependencies.includes(d.key)));
        // A cycle cannot come from one registration order; were there one, the first goes first.
        if (ready.length === 0) ready = [rest[0]];
        out.push(ready);
        for (const d of ready) rest.splice(rest.indexOf(d), 1);
    }
    return out;
}

/**
 * Types whose `name` the provider fills in when the program leaves it out: pulumi-docker's
 * provider/resources.go `prov.SetAutonaming(255, "-")`, every resource with a `name` input and
 * no field of its own (RemoteImage has one). pulumi-terraform-bridge info/autonaming.go
 * `AutoName`: the URN's name, the separator and 7 random hex digits.
 */
const AUTONAMED = new Set(["docker:index/container:Container", "docker:index/network:Network", "docker:index/volume:Volume"]);

/**
 * The registration with its auto-name, where the program set none: the name in the state when
 * the provider drew it (an SDKv2 resource keeps a default across updates, the bridge's
 * `__defaults`), else a new one; `fresh` draws a new one, as the engine's second Check without
 * the old inputs does for a replacement (pulumi/pulumi step_generator.go, "If we are going to
 * perform a replacement, we need to recompute the default values").
 */
function autoNamed<R extends Registered>(r: R, prior: Stored | undefined, fresh = false): { r: R; autoNamed: boolean } {
    if (!AUTONAMED.has(r.type) || r.inputs.name !== undefined) return { r, autoNamed: false };
    const name = !fresh && prior?.autoNamed ? prior.inputs.name : `${r.name}-${randomBytes(4).toString("hex").slice(0, 7)}`;
    return { r: { ...r, inputs: { ...r.inputs, name } }, autoNamed: true };
}

export class EngineHarness extends RunMetrics {
    public readonly docker = new Docker();
    private readonly state = new Map<string, Stored>();
    /**
     * Old resources of create-first replacements, marked `Delete: true` as the engine marks them
     * once the replacement's create returned, even with init errors (pulumi/pulumi
     * pkg/resource/deploy/step.go `CreateStep.Apply`, "Mark the old resource as pending deletion",
     * after the `resourceStatus == resource.StatusPartialFailure` branch kept the new outputs).
     * They are deleted only in the deletes phase, which a run reaches once every registration
     * succeeded (deployment_executor.go `Execute`: a failed step cancels the run before
     * `performPostSteps`; step_generator.go `GenerateDeletes`, the `res.Delete` branch), so a
     * failed run keeps them, in the state and on the host, for a later successful run to delete.
     */
    private pendingDeletes: Stored[] = [];
    /**
     * Resource operations under way at once: the Pulumi CLI's default `--parallel`, 4 per CPU of
     * the machine that runs it (pkg/cmd/pulumi/operations/up.go `defaultParallel`). A container's
     * create lasts until it is healthy, so this bounds how many start together.
     */
    private steps = new Slots(EngineHarness.defaultParallel());
    /** `pulumi up --parallel`: 4 per CPU unless PULUMI_PARALLEL says otherwise. */
    static defaultParallel(): number {
        return Number(process.env.PULUMI_PARALLEL) || 4 * os.cpus().length;
    }
    /** The next runs as `pulumi up --parallel n` would run them. */
    set parallel(n: number) {
        this.steps = new Slots(n);
    }
    /** Keys of the resources the latest run registered. */
    private seen = new Set<string>();
    private readonly made = { containers: new Set<string>(), networks: new Set<string>(), volumes: new Set<string>(), images: new Set<string>() };
    /** What the latest run (or refresh) did to each resource, in order. */
    public events: Event[] = [];
    /**
     * Each stack's outputs as of its latest successful run (a failed run has none to give): after
     * a failed `up` they name the containers that still serve.
     */
    public readonly stackOutputs: Record<string, Record<string, unknown>> = {};
    /** @param peers outputs of the stacks a StackReference may name */
    constructor(private readonly peers: Record<string, Record<string, unknown>> = {}) {
        super();
    }

    private io(): Io {
        return { docker: this.docker, made: this.made, pulled: this.pulled, onContainer: (name, started, info) => this.onContainer(name, started, info) };
    }

    private reset(): void {
        this.events = [];
        this.seen = new Set();
        this.resetMetrics();
    }

    /**
     * `pulumi up` of the stack `config` describes (`--refresh` first with `refresh: true`). What
     * the program no longer registers is deleted once every registration succeeded.
     */
    async run(config: MergedStack, opts: RunOptions = {}): Promise<RunResult> {
        const refreshed = opts.refresh ? await this.refresh() : [];
        this.reset();
        this.events.push(...refreshed);
        const handler: ResourceHandler = (r) => this.apply(r, opts.replace);
        // A failed run throws here and reaches no deletes: what it replaced create-first stays pending.
        const result = await runProgram(config, { handler, projectDir: opts.projectDir });
        // What the program no longer registers and the replaced resources created first, pending
        // deletion: deleted once every registration succeeded, dependents first.
        const gone = [...this.state.entries()].filter(([k]) => !this.seen.has(k)).reverse().map(([key, s]) => ({ key, s, gone: true }));
        const pending = this.pendingDeletes.splice(0).map((s) => ({ key: `${s.type}::${s.name}`, s, gone: false }));
        for (const batch of deleteOrder([...gone, ...pending].map((d) => ({ ...d, dependencies: d.s.dependencies ?? [] })))) {
            for (const d of batch) {
                await this.destroy(d.s);
                if (!d.gone) continue;
                this.state.delete(d.key);
                this.events.push({ type: d.s.type, name: d.s.name, action: "delete", why: ["no longer registered by the program"] });
            }
        }
        this.stackOutputs[config.stack] = result.outputs;
        return result;
    }

    /** The old resources of create-first replacements still pending deletion, as `type name`. */
    pending(): string[] {
        return this.pendingDeletes.map((s) => `${s.type} ${s.name}`);
    }

    /**
     * `pulumi preview`: the program runs with the SDK in preview mode, every resource is diffed
     * against the state as `up` would diff it, and nothing is carried out. A resource created,
     * replaced or updated returns what its provider returns in a preview: its inputs, and its
     * computed outputs unknown (`plannedOutputs`), so what depends on them sees unknowns, as in a
     * real preview (an image that will be rebuilt has no known digest yet). A replacement has an
     * unknown id (the mocks turn an empty id into an unknown one). `events` says what `up` would
     * do; the state, the pending deletes and the host stay as they were.
     */
    async preview(config: MergedStack, opts: Omit<RunOptions, "refresh"> = {}): Promise<RunResult> {
        this.reset();
        const handler: ResourceHandler = (r) => this.previewOne(r, opts.replace);
        const result = await runProgram(config, { handler, projectDir: opts.projectDir, preview: true });
        for (const [, s] of [...this.state.entries()].filter(([k]) => !this.seen.has(k)).reverse()) {
            this.events.push({ type: s.type, name: s.name, action: "delete", why: ["no longer registered by the program"] });
        }
        return result;
    }

    private async previewOne(r: Registered & { custom: boolean }, replace?: RunOptions["replace"]): Promise<{ id: string; state: Record<string, unknown> }> {
        if (!r.custom) return { id: "", state: {} };
        checkTranslated(r);
        const key = `${r.type}::${r.name}`;
        this.seen.add(key);
        const p = PROVIDERS[r.type];
        // Providers and stack references do nothing on the host; a stack reference is read in a preview too.
        if (!p) return this.provider(r).create(this.io(), r, () => undefined).then(({ id, outputs }) => ({ id, state: outputs }));
        const prior = this.state.get(key);
        r = autoNamed(r, prior).r;
        if (!prior) {
            this.events.push({ type: r.type, name: r.name, action: "create", why: [] });
            return { id: "", state: plannedOutputs(r.type, "create", r.inputs, undefined, r.unknownInputs) };
        }
        const d = this.decision(r, prior, previewDiff(r.type, p, prior.outputs, r.inputs, r.unknownInputs ?? []), replace);
        this.events.push({ type: r.type, name: r.name, action: d.op as Action, why: d.why });
        if (d.op === "same") return { id: prior.id, state: prior.outputs };
        const op = d.op === "update" ? "update" : "replace";
        return { id: op === "update" ? prior.id : "", state: plannedOutputs(r.type, op, r.inputs, prior.outputs, r.unknownInputs) };
    }

    /** The events of the latest run other than `same`, as `type name action`, sorted. */
    changes(): string[] {
        return this.events.filter((e) => e.action !== "same").map((e) => `${e.type} ${e.name} ${e.action}`).sort();
    }

    /**
     * `pulumi refresh`: every resource re-read through its provider's Read. A resource its
     * provider no longer finds leaves the state (event `delete`); one whose state changed is
     * stored as read (event `update`, with the properties that changed), without init errors:
     * the engine stores the init errors Read returns (pulumi/pulumi pkg/resource/deploy/step.go
     * `RefreshStep.Apply`, `s.new.InitErrors = initErrors`, set only from an InitError of Read),
     * and the bridged provider returns them from Create and Update only (pulumi-terraform-bridge
     * pkg/tfbridge/provider.go, `initializationError` in Create and Update, none in Read). So an
     * unhealthy container is `same` after a refresh (pulumi/pulumi#17949). Pending deletes are
     * read too; one gone leaves them.
     */
    async refresh(): Promise<Event[]> {
        const events: Event[] = [];
        const kept: Stored[] = [];
        for (const s of this.pendingDeletes) {
            const p = PROVIDERS[s.type];
            if (!p?.read || (await p.read(this.io(), s.id, s.outputs)) !== undefined) kept.push(s);
        }
        this.pendingDeletes = kept;
        for (const [key, s] of this.state) {
            const p = PROVIDERS[s.type];
            if (!p?.read) continue;
            const read = await p.read(this.io(), s.id, s.outputs);
            if (read === undefined) {
                this.state.delete(key);
                events.push({ type: s.type, name: s.name, action: "delete", why: ["gone: its provider's Read no longer finds it"] });
                continue;
            }
            const why = p.diff(s.outputs, read).changed.filter((k) => JSON.stringify(s.outputs[k]) !== JSON.stringify(read[k])).map((k) => `${k}: ${JSON.stringify(s.outputs[k])} -> ${JSON.stringify(read[k])}`);
            this.state.set(key, { ...s, outputs: read, initErrors: [] });
            events.push({ type: s.type, name: s.name, action: why.length ? "update" : "same", why });
        }
        this.events = events;
        return events;
    }

    /**
     * The resources of the latest run as `pulumi stack export` lists them (type, URN, inputs,
     * outputs), for fleet/imageplan/lock.ts.
     */
    exportDeployment(run: RunResult): { deployment: { resources: { type: string; urn: string; inputs: Record<string, unknown>; outputs: Record<string, unknown> }[] } } {
        const urns = engineUrns(run.stack, run.resources, run.urns);
        const resources = [...this.seen].filter((k) => this.state.has(k)).map((k) => {
            const s = this.state.get(k)!;
            return { type: s.type, urn: urns.get(k) ?? "", inputs: s.inputs, outputs: s.outputs };
        });
        return { deployment: { resources } };
    }

    /**
     * A deployment as a self-managed backend's history keeps it after an update
     * (pulumi/pulumi pkg/backend/diy/state.go `addToHistory`): an apitype `VersionedCheckpoint`,
     * version 3, whose `latest` deployment lists the stack resource (with the stack's outputs)
     * and the custom resources of `exported` (`exportDeployment`).
     */
    static checkpoint(stack: string, exported: ReturnType<EngineHarness["exportDeployment"]>, outputs: Record<string, unknown>): Record<string, unknown> {
        const root = { urn: `urn:pulumi:${stack}::fleet::pulumi:pulumi:Stack::fleet-${stack}`, custom: false, type: "pulumi:pulumi:Stack", outputs };
        const resources = exported.deployment.resources.map((r) => ({ urn: r.urn, custom: true, id: String(r.outputs.id ?? r.urn.slice(r.urn.lastIndexOf("::") + 2)), type: r.type, inputs: r.inputs, outputs: r.outputs }));
        return { version: 3, checkpoint: { stack, latest: { manifest: { time: new Date().toISOString(), magic: "", version: "" }, secrets_providers: { type: "passphrase", state: {} }, resources: [root, ...resources] } } };
    }

    /** The outputs the harness keeps for every resource of `type`, by resource name. */
    outputsOf(type: string): Record<string, Inputs> {
        return Object.fromEntries([...this.state.values()].filter((s) => s.type === type).map((s) => [s.name, s.outputs]));
    }

    /** The state the harness keeps for a resource (its provider's outputs and the engine's init errors). */
    stored(type: string, name: string): { id: string; outputs: Inputs; initErrors: string[] } | undefined {
        const s = this.state.get(`${type}::${name}`);
        return s && { id: s.id, outputs: s.outputs, initErrors: s.initErrors };
    }

    /** Carries out one registered custom resource outside a program run (tests of a single build or pull). */
    applyOne(r: Registered): Promise<{ id: string; state: Record<string, unknown> }> {
        return this.apply({ ...r, custom: true });
    }

    private async apply(registered: Registered & { custom: boolean }, replace?: RunOptions["replace"]): Promise<{ id: string; state: Record<string, unknown> }> {
        if (!registered.custom) return { id: "", state: {} };
        checkTranslated(registered);
        const key = `${registered.type}::${registered.name}`;
        this.seen.add(key);
        const p = this.provider(registered);
        const prior = this.state.get(key);
        const { r, autoNamed: auto } = autoNamed(registered, prior);
        if (!prior) return this.create(r, p, key, "create", [], auto);
        const d = this.decision(r, prior, p.diff(prior.outputs, r.inputs), replace);
        if (d.op === "same") {
            this.state.set(key, { ...prior, dependencies: r.opts.dependencies.map(urnKey) });
            this.events.push({ type: r.type, name: r.name, action: "same", why: [] });
            return { id: prior.id, state: prior.outputs };
        }
        if (d.op === "update") {
            const outputs = p.update ? await this.steps.run(() => p.update!(this.io(), prior.id, prior.outputs, r.inputs, d.changed, (rec) => this.onBuild(r.name, rec))) : { ...prior.outputs, ...r.inputs };
            this.state.set(key, { ...prior, inputs: r.inputs, outputs, initErrors: [], dependencies: r.opts.dependencies.map(urnKey) });
            this.events.push({ type: r.type, name: r.name, action: "update", why: d.why });
            return { id: prior.id, state: outputs };
        }
        const renamed = autoNamed(registered, prior, true).r;
        // The program's option wins over the provider's default, either way (step_generator.go:
        // `deleteBeforeReplace := diff.DeleteBeforeReplace`, then `if goal.DeleteBeforeReplace != nil`).
        if (r.opts.deleteBeforeReplace ?? p.deleteBeforeReplace) {
            await this.destroy(prior);
            this.state.delete(key);
            return this.create(renamed, p, key, "replace", d.why, auto);
        }
        return this.create(renamed, p, key, "replace", d.why, auto, prior);
    }

    /** The engine's step for a registered resource with state: `--replace` first, else its diff as the engine reads it. */
    private decision(r: Registered, prior: Stored, diff: ProviderDiff, replace?: RunOptions["replace"]): Decision {
        if (replace?.(r.type, r.name) === true) return { op: "replace", changed: [], why: ["--replace"] };
        return decide(diff, r.opts.replaceOnChanges, prior.initErrors);
    }

    private provider(r: Registered): ProviderImpl {
        const p = PROVIDERS[r.type];
        if (p) return p;
        // Providers and stack references: nothing to carry out.
        if (r.type === "pulumi:pulumi:StackReference") {
            return {
                diff: () => ({ changed: [], replaces: [] }),
                create: async (_io, rr) => {
                    const outputs = this.peers[rr.inputs.name];
                    if (!outputs) fail(rr, `no outputs for stack ${rr.inputs.name}; run that stack first`);
                    return { id: rr.inputs.name, outputs: { name: rr.inputs.name, outputs } };
                },
            };
        }
        return { diff: () => ({ changed: [], replaces: [] }), create: async (_io, rr) => ({ id: rr.name, outputs: { ...rr.inputs } }) };
    }

    /**
     * The provider's Create. `replacing`, the old resource of a create-first replacement, becomes a
     * pending delete once the create returned, with or without init errors; a create that fails
     * outright leaves it the live resource (step.go `CreateStep.Apply` returns before marking it).
     */
    private async create(r: Registered, p: ProviderImpl, key: string, action: Action, why: string[], autoNamed: boolean, replacing?: Stored): Promise<{ id: string; state: Record<string, unknown> }> {
        try {
            const { id, outputs } = await this.steps.run(() => p.create(this.io(), r, (rec) => this.onBuild(r.name, rec)));
            if (replacing) this.pendingDeletes.push(replacing);
            this.state.set(key, { type: r.type, name: r.name, id, inputs: r.inputs, outputs, initErrors: [], retainOnDelete: r.opts.retainOnDelete, autoNamed, dependencies: r.opts.dependencies.map(urnKey) });
            this.events.push({ type: r.type, name: r.name, action, why });
            return { id, state: outputs };
        } catch (e) {
            if (!(e instanceof InitError)) throw e;
            if (replacing) this.pendingDeletes.push(replacing);
            // The engine records the resource with its init errors; the update fails naming it.
            this.state.set(key, { type: r.type, name: r.name, id: e.id, inputs: r.inputs, outputs: e.outputs, initErrors: [e.message], retainOnDelete: r.opts.retainOnDelete, autoNamed, dependencies: r.opts.dependencies.map(urnKey) });
            this.events.push({ type: r.type, name: r.name, action, why: [...why, `failed: ${e.message}`] });
            fail(r, e.message);
        }
    }

    /** The provider's Delete, or nothing for a resource marked retainOnDelete (the engine skips it). */
    private async destroy(s: Stored): Promise<void> {
        if (s.retainOnDelete) return;
        await this.steps.run(async () => PROVIDERS[s.type]?.delete?.(this.io(), s.id, s.outputs));
    }

    /** The registered inputs of every container the harness holds, in creation order (the benchmark's compose file). */
    containerInputs(): Inputs[] {
        return this.inputsOf("docker:index/container:Container");
    }

    /** The registered inputs of every local command the harness ran and holds (the PIDs limits). */
    commandInputs(): Inputs[] {
        return this.inputsOf("command:local:Command");
    }

    /** The registered inputs of every network the harness holds, with the id the engine gave it. */
    networkInputs(): (Inputs & { id: string })[] {
        return [...this.state.values()].filter((s) => s.type === "docker:index/network:Network").map((s) => ({ ...s.inputs, id: s.id }));
    }

    private inputsOf(type: string): Inputs[] {
        return [...this.state.values()].filter((s) => s.type === type).map((s) => s.inputs);
    }

    /**
     * Removes every container the harness made and forgets them, keeping its images: the next
     * run finds the images unchanged and creates every container, as `pulumi up --refresh` does
     * on a host whose containers are gone.
     */
    async forgetContainers(): Promise<void> {
        for (const [key, s] of [...this.state.entries()]) {
            if (s.type !== "docker:index/container:Container") continue;
            await this.docker.getContainer(s.id).remove({ force: true, v: false }).catch(() => undefined);
            this.made.containers.delete(s.id);
            this.state.delete(key);
        }
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
        // The suite's own images from an earlier run on this daemon. Its builds are reproducible,
        // so an earlier run's pull by digest, which the containerd image store keeps as a record
        // named `repo@digest` (Docker 26.1.5 lists it untagged), would still resolve this
        // run's `repo:tag@digest` once the tag moves (daemon/containerd/image.go resolveImage
        // matches any record of the repository at that digest): state no fresh host has.
        for (const img of await this.docker.listImages({ all: true })) {
            for (const name of [...(img.RepoTags ?? []), ...(img.RepoDigests ?? [])].filter((n) => SUITE_IMAGES.test(n))) {
                await this.docker.getImage(name).remove({ force: true }).catch((e) => { if (!notFound(e)) throw e; });
            }
        }
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
        this.pendingDeletes = [];
    }
}

/** The repositories only this suite writes: its registry namespace and the rebuild test's copies. */
const SUITE_IMAGES = /^([^/]+\/fleet-engine\/|fleet-rebuild-before\/)/;

export { cacheHits, withoutTag } from "./providers/buildx";
