/**
 * `scripts/fleet diff`'s comparison of two evaluated refs (diffEval.ts), per stack: the images
 * whose tag moves and why, and the containers `pulumi up` replaces, updates, adds or removes,
 * each with the fields that change and why. Pure: the one question for git (which input files
 * differ) comes in as a function.
 */
import { ImageBuild } from "../imageplan/planImages";
import { PROXY_NAME, TagInputs } from "../imageplan/buildPlan";
import { lineage } from "../model/lineage";
import { ContainerPlan, PeerPlan } from "../model/plan";
import { FleetData } from "../model/schema";
import { hostFrontHealthPort, hostFrontName, peerFrontName, renderHostFrontConfig } from "../render/front";
import { FieldChange, leafChanges, leaves, tokenChanges } from "./diffLeaves";
import { Side, StackSide } from "./diffEval";

export type { FieldChange };

export interface ImageChange {
    /** The image's repository name, e.g. `family-web`, `cache-manager`. */
    image: string;
    /** The tag at base and head; null where the stack does not build it. */
    base: string | null;
    head: string | null;
    because: string[];
}

/** `reload`: the host front takes a new configuration without a restart (its listeners pass to a new worker). */
export type ContainerChangeKind = "replace" | "update" | "reload" | "add" | "remove";

export interface ContainerChange {
    service: string;
    container: string;
    change: ContainerChangeKind;
    fields: FieldChange[];
    because: string[];
}

export interface StackDiff {
    stack: string;
    images: ImageChange[];
    containers: ContainerChange[];
    /** The service containers the stack runs at head (fronts not counted): what the replacements are out of. */
    serviceContainers: number;
}

/** Why a replaced host front's row is there: what its replacement costs (diffText counts it apart). */
export const FRONT_REPLACED = "the host front owns every service's host ports: the old front is removed first, and no service of the host answers until the new one runs (12 s on the engine suite's machine: HAProxy's check of the configuration, the start and its health wait)";

/** Why a reloaded host front's row is there: it costs nothing. */
export const FRONT_RELOADED = "its configuration changes: the front reloads, handing its listeners to a new worker, and drops no connection";

/** The service a host front's row names. */
export const HOST_FRONT_SERVICE = "host front";

/** How the reason of a replaced peer front starts (diffText counts those apart). */
export const PEER_FRONT_REPLACED = "a peer front has a fixed name: the old one is removed first";

/** Why a peer front row is there: what its replacement costs. */
function peerFrontReplaced(machine: string, service: string): string {
    return `${PEER_FRONT_REPLACED}, and ${machine}'s containers cannot reach ${service} until the new one starts (about a second)`;
}

/** Which input files of an image differ between its base and head inputs; undefined when git cannot tell. */
export type ChangedFiles = (base: TagInputs, head: TagInputs) => string[] | undefined;

type Effect = "replace" | "update" | "none";

/**
 * What a change of each ContainerPlan field does to the running container
 * (components/serviceContainer.ts). Every input of the container replaces it (replaceOnChanges
 * `*`, that file says why). Not inputs: the service (the key), what only shapes other fields
 * (compute, traits), what is in the image (entrypoint), the start order (startAfter: a plain
 * dependsOn, which replaces nothing) and the pinned image (compared as `image`). The other
 * host's services are not the containers' business: their peer fronts are compared apart
 * (`comparePeers`). limits.pidsLimit is set by `docker update` after create: the
 * container stays. The host ports and their address are the host front's (components/hostFront.ts),
 * compared by `compareHostFront`; the ports also reach the container through its environment.
 */
const EFFECT: Record<keyof ContainerPlan, Effect> = {
    service: "none", name: "replace", family: "replace", tier: "replace", compute: "none", traits: "none", entrypoint: "none",
    ports: "replace", publishAddress: "none", env: "replace", gpu: "replace", health: "replace", limits: "replace",
    dockerApi: "replace", volumes: "replace", tmpfs: "replace", readOnlyRootfs: "replace", rootfsException: "replace",
    pinnedImage: "none", pinnedRevision: "replace", startAfter: "none",
};

function effectOf(field: string): Effect {
    if (field === "image") return "replace";
    if (field === "limits.pidsLimit") return "update";
    if (field === "network") return "replace";
    return EFFECT[field.split(/[.[]/)[0] as keyof ContainerPlan] ?? "replace";
}

function byName<T>(key: (t: T) => string): (a: T, b: T) => number {
    return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** The images a stack builds, by repository name. */
function built(s: StackSide | undefined): Map<string, ImageBuild> {
    return new Map(Object.entries(s?.images.builds ?? {}).filter(([, b]) => b.built));
}

function imageReasons(name: string, a: ImageBuild, b: ImageBuild, baseAll: Map<string, ImageBuild>, headAll: Map<string, ImageBuild>, files: ChangedFiles): string[] {
    const why: string[] = [];
    const changed = files(a.inputs, b.inputs);
    if (changed?.length) why.push(`files: ${changed.join(", ")}`);
    if (a.inputs.recipe !== b.inputs.recipe) why.push(`recipe: its Dockerfile changed${tokenChanges(a.inputs.recipe, b.inputs.recipe)}`);
    const [pa, pb] = [a.inputs.parent, b.inputs.parent];
    if (pa !== pb) why.push(`parent: ${pa ?? "none"} -> ${pb ?? "none"}`);
    else if (pa !== undefined && baseAll.get(pa)?.tag !== headAll.get(pb!)?.tag) why.push(`parent ${pa} moved`);
    if (why.length === 0) why.push(a.tag.startsWith("content-") || b.tag.startsWith("content-") ? "its input files changed (uncommitted: a content tag)" : `the newest commit of its input files moved (${name}: ${a.tag.split("-")[1]} -> ${b.tag.split("-")[1]})`);
    return why;
}

function images(base: StackSide | undefined, head: StackSide | undefined, files: ChangedFiles): ImageChange[] {
    const a = built(base);
    const b = built(head);
    const baseAll = new Map(Object.entries(base?.images.builds ?? {}));
    const headAll = new Map(Object.entries(head?.images.builds ?? {}));
    const out: ImageChange[] = [];
    for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
        const x = a.get(name);
        const y = b.get(name);
        if (x && y && x.tag === y.tag) continue;
        const because = x && y ? imageReasons(name, x, y, baseAll, headAll, files) : [x ? "no longer built by this stack" : "newly built by this stack"];
        out.push({ image: name, base: x?.tag ?? null, head: y?.tag ?? null, because });
    }
    return out;
}

/** A container as compared: its plan's fields and the image it runs. */
function fieldsOf(s: StackSide, c: ContainerPlan): Map<string, string> {
    const f = leaves(c);
    f.set("image", s.images.containers[c.service].ref ?? `(unknown: ${JSON.stringify(s.images.containers[c.service].build)})`);
    // The host's network: every container's (by id) and its resolvers' addresses (`dns`).
    f.set("network", s.plan.network.subnet);
    return f;
}

function dataReasons(base: Side, head: Side, a: StackSide, b: StackSide, c: ContainerPlan): string[] {
    const files = { services: "fleet/data/services.yaml", families: "fleet/data/families.yaml", hosts: "fleet/data/hosts.yaml" };
    const entry = (d: FleetData, kind: keyof FleetData, name: string) => (d[kind] as Record<string, unknown>)[name];
    const out: string[] = [];
    const of = (kind: keyof FleetData, name: string) => leafChanges(entry(base.data, kind, name), entry(head.data, kind, name), name)
        .forEach((x) => out.push(`${files[kind]}: ${x.path} ${x.base ?? "(none)"} -> ${x.head ?? "(none)"}`));
    of("services", c.service);
    const families = new Set([...(c.family in base.data.families ? lineage(base.data, c.family) : []), ...lineage(head.data, c.family)]);
    [...families].sort().forEach((f) => of("families", f));
    of("hosts", b.cfg.machine);
    for (const x of leafChanges(a.config, b.config)) out.push(`${b.configFiles[x.path] ?? a.configFiles[x.path]}: ${x.path} ${x.base ?? "(none)"} -> ${x.head ?? "(none)"}`);
    return out;
}

function compareContainer(base: Side, head: Side, a: StackSide, b: StackSide, x: ContainerPlan, y: ContainerPlan): ContainerChange | undefined {
    const fields = leafChanges(fieldsOf(a, x), fieldsOf(b, y)).filter((f) => effectOf(f.path) !== "none");
    if (fields.length === 0) return undefined;
    const because: string[] = [];
    const image = fields.find((f) => f.path === "image");
    if (image) {
        const [pa, pb] = [a.images.containers[x.service].pinnedBy, b.images.containers[y.service].pinnedBy];
        const repository = b.images.containers[y.service].repository.split("/").pop()!;
        because.push(pb ? `pinned by ${pb}` : pa ? `no longer pinned (was ${pa}): image ${repository} as built` : `image ${repository} moved`);
    }
    if (fields.some((f) => f.path !== "image")) {
        const data = dataReasons(base, head, a, b, y);
        because.push(...(data.length ? data : ["no change of the data or of this stack's config explains it (both refs are evaluated with the same code)"]));
    }
    return { service: y.service, container: y.name, change: fields.some((f) => effectOf(f.path) === "replace") ? "replace" : "update", fields, because };
}

/** Why a container is added or removed: what leaves it out of the stack on the other side. */
function presence(s: Side, st: StackSide | undefined, service: string, stackFile: string): string {
    if (!st) return `${stackFile} does not exist`;
    const ex = st.plan.excluded.find((e) => e.service === service);
    if (ex) return `${ex.kind}: ${ex.reason}`;
    return service in s.data.services ? `fleet/data/services.yaml: ${service} is not placed on ${st.cfg.machine}` : `fleet/data/services.yaml: ${service} does not exist`;
}

/** What replaces the host front (components/hostFront.ts): its image, the network it listens on, its health port. */
function hostFrontFields(s: StackSide): Record<string, unknown> {
    return {
        haproxyImage: s.images.builds[PROXY_NAME]?.tag ?? "(none)",
        network: s.plan.network,
        healthPort: hostFrontHealthPort(s.plan),
    };
}

/** The host front's listen sections, by name, as rendered (fleet/render/front.ts). */
function listenSections(s: StackSide): Map<string, string> {
    const blocks = renderHostFrontConfig(s.plan).split(/\n(?=listen )/).slice(1);
    return new Map(blocks.map((b) => [b.split("\n", 1)[0].slice("listen ".length), b.trim()]));
}

/**
 * The host front: replaced (the one change of a deploy that pauses every CPU service of the host:
 * the reviewer must see it), or reloaded where a service's ports or health check change, or a
 * service comes or goes, which drops nothing.
 */
function compareHostFront(a: StackSide | undefined, b: StackSide | undefined): ContainerChange[] {
    if (!a || !b || b.plan.containers.length === 0) return [];
    const container = hostFrontName(b.cfg.machine);
    const replaced = leafChanges(hostFrontFields(a), hostFrontFields(b));
    if (replaced.length) return [{ service: HOST_FRONT_SERVICE, container, change: "replace", fields: replaced, because: [FRONT_REPLACED] }];
    const [x, y] = [listenSections(a), listenSections(b)];
    const fields = [...new Set([...x.keys(), ...y.keys()])].sort()
        .filter((name) => x.get(name) !== y.get(name))
        .map((name) => ({ path: `listen ${name}`, base: x.has(name) ? "present" : null, head: y.has(name) ? (x.has(name) ? "changed" : "present") : null }));
    return fields.length ? [{ service: HOST_FRONT_SERVICE, container, change: "reload", fields, because: [FRONT_RELOADED] }] : [];
}

/** What a peer front is made from (fleet/render/front.ts renderPeerFrontConfig, components/peerFront.ts). */
function peerFields(s: StackSide, p: PeerPlan): Record<string, unknown> {
    return { name: p.name, port: p.port, endpoint: s.peerEndpoints[p.service] ?? "(none)", haproxyImage: s.images.builds[PROXY_NAME]?.tag ?? "(none)" };
}

/**
 * The peer fronts: one added or removed where the host's `uses` gains or loses a service (a move
 * between hosts swaps it for the service's listen sections in the host front and replaces no
 * service container), one
 * replaced where the peer's address, the port or the HAProxy image moves.
 */
function comparePeers(base: Side, head: Side, a: StackSide | undefined, b: StackSide | undefined): ContainerChange[] {
    const xs = new Map((a?.plan.peers ?? []).map((p) => [p.service, p]));
    const ys = new Map((b?.plan.peers ?? []).map((p) => [p.service, p]));
    const machine = (b ?? a)!.cfg.machine;
    const out: ContainerChange[] = [];
    for (const service of new Set([...xs.keys(), ...ys.keys()])) {
        const x = xs.get(service);
        const y = ys.get(service);
        const uses = (p: PeerPlan, now: boolean) => `fleet/data/hosts.yaml: ${machine}.uses.${p.machine} ${now ? "now lists" : "no longer lists"} ${service}`;
        if (!x || !y) {
            const p = (y ?? x)!;
            out.push({ service, container: peerFrontName(p.name), change: y ? "add" : "remove", fields: [], because: [uses(p, !!y)] });
            continue;
        }
        const fields = leafChanges(peerFields(a!, x), peerFields(b!, y));
        if (fields.length === 0) continue;
        const because: string[] = [];
        const endpoint = fields.find((f) => f.path === "endpoint");
        if (endpoint) because.push(`stack ${b!.peerStack ?? a!.peerStack}: ${service}'s endpoint ${endpoint.base ?? "(none)"} -> ${endpoint.head ?? "(none)"}`);
        if (x.machine !== y.machine) because.push(`fleet/data/hosts.yaml: ${machine}.uses lists ${service} of ${y.machine}, was of ${x.machine}`);
        if (x.port !== y.port) {
            const [pa, pb] = [base.data.services[service]?.ports.service, head.data.services[service]?.ports.service];
            because.push(pa !== pb ? `fleet/data/services.yaml: ${service}.ports.service ${pa ?? "(none)"} -> ${pb ?? "(none)"}` : `fleet:portOffset ${a!.cfg.portOffset} -> ${b!.cfg.portOffset}`);
        }
        if (fields.some((f) => f.path === "haproxyImage")) because.push("the HAProxy image moved");
        because.push(peerFrontReplaced(machine, service));
        out.push({ service, container: peerFrontName(y.name), change: "replace", fields, because });
    }
    return out;
}

function containers(base: Side, head: Side, stack: string): ContainerChange[] {
    const a = base.stacks[stack];
    const b = head.stacks[stack];
    const xs = new Map((a?.plan.containers ?? []).map((c) => [c.service, c]));
    const ys = new Map((b?.plan.containers ?? []).map((c) => [c.service, c]));
    const file = `Pulumi.${stack}.yaml`;
    const out: ContainerChange[] = [];
    for (const service of new Set([...xs.keys(), ...ys.keys()])) {
        const x = xs.get(service);
        const y = ys.get(service);
        if (x && y) {
            const c = compareContainer(base, head, a!, b!, x, y);
            if (c) out.push(c);
        } else if (y) {
            out.push({ service, container: y.name, change: "add", fields: [], because: [`at ${base.label}: ${presence(base, a, service, file)}`] });
        } else if (x) {
            out.push({ service, container: x.name, change: "remove", fields: [], because: [`at ${head.label}: ${presence(head, b, service, file)}`] });
        }
    }
    if (a || b) out.push(...comparePeers(base, head, a, b), ...compareHostFront(a, b));
    return out.sort(byName((c) => c.container));
}

/** Every stack of either ref, by name; a stack without changes has empty lists. */
export function compareSides(base: Side, head: Side, files: ChangedFiles): StackDiff[] {
    const stacks = [...new Set([...Object.keys(base.stacks), ...Object.keys(head.stacks)])].sort();
    return stacks.map((stack) => ({
        stack, images: images(base.stacks[stack], head.stacks[stack], files), containers: containers(base, head, stack),
        serviceContainers: head.stacks[stack]?.plan.containers.length ?? 0,
    }));
}
