/**
 * `scripts/fleet plan`'s document: what a stack runs, per container, as the operator and scripts
 * read it. `plan --json` prints it as it is; the table (planText.ts) is drawn from it alone.
 *
 * Version 1. Every key is always present, in the order written here (absent values are null);
 * a change to a key's meaning or a removed key is a new version, an added key is not.
 * Containers come core tier first, then by name: the position of a row never depends on other
 * rows (adding, removing or moving a service adds, removes or moves its own row).
 */
import { fleetNetworkName, hostFrontName, peerFrontName } from "../render/front";
import { GpuBudget } from "../model/gpuMemory";
import { ContainerImage, PlanImages } from "../imageplan/planImages";
import { byName } from "../model/names";
import { ContainerPlan, HostPlan } from "../model/plan";

export const PLAN_DOCUMENT_VERSION = 1;

export interface ImageView {
    /** What the container runs, when known before a build: the pinned image, or `<repository>:<tag>` of the build. */
    ref: string | null;
    /** `<registry>/<org>/<container>` */
    repository: string;
    tag: string | null;
    /** `sha256:<hex>`, known for a digest pin and a build lock's images. */
    digest: string | null;
    /** `fleet:pins[<i>]` or `build lock <file>`; null when the image is built. */
    pinnedBy: string | null;
    /** `<repository>:<tag>` a build of this commit gives: what runs unpinned, and what a pin replaces. */
    build: string | null;
    /** Why `build` is not known here (e.g. the application repository is missing). */
    buildUnknown: string | null;
}

export interface ContainerView {
    service: string;
    /** Docker container name. */
    container: string;
    tier: "core" | "app";
    family: string;
    image: ImageView;
    /** Ports as published on the host (port offset applied), bound to `address` alone. */
    publish: { address: string; service: number; health: number; metrics: number[] };
    /** NVIDIA device request: `gpu` for compute, `utility` for NVML only. */
    gpu: { capabilities: string[]; deviceIds: string[] } | null;
    limits: { cpus: number; cpuShares: number; memoryMb: number; shmMb: number; pidsLimit: number };
    /** The container that must be healthy before this one is created (start lanes). */
    startsAfter: string | null;
    health: { kind: "http" | "tcp"; port: number; path: string; startPeriodSeconds: number; startIntervalSeconds: number; intervalSeconds: number; timeoutSeconds: number; retries: number; waitTimeoutSeconds: number };
}

export interface PlanDocument {
    version: number;
    stack: string;
    machine: string;
    portOffset: number;
    cudaTrack: string;
    /** Containers of a tier that start at once. */
    startLanes: number;
    containers: ContainerView[];
    /** Parents first; `built` false when only pinned services use the family. */
    families: { family: string; image: string; built: boolean }[];
    /** The supervisor's Docker API proxy image, or null when the host does not run the supervisor. */
    proxy: string | null;
    notDeployed: { service: string; kind: string; reason: string }[];
    /** Services of the other host this one uses: the name and port its containers reach each by, and the peer front that holds them. */
    peers: { service: string; machine: string; reachedAs: string; container: string }[];
    /** The card's memory and what the deployed GPU services keep on it (largest first); null without a GPU container. */
    gpuMemory: GpuBudget | null;
    /**
     * The host's network and front (fleet/model/network.ts, components/hostFront.ts): the front's
     * container and the addresses it binds every service's ports on, the resolvers that answer the
     * services' names.
     */
    network: { name: string; subnet: string; gateway: string; resolvers: string[]; front: string; binds: string[] };
    /** What this checkout could not tell, each with the option or command that supplies it (fleet/ops/unknowns.ts). */
    unknown: string[];
}

/** Core tier first, then by name: a row's place depends on that row alone. */
export function rowOrder(a: { tier: string; service: string }, b: { tier: string; service: string }): number {
    if (a.tier !== b.tier) return a.tier === "core" ? -1 : 1;
    return byName(a.service, b.service);
}

function imageView(i: ContainerImage): ImageView {
    return {
        ref: i.ref ?? null,
        repository: i.repository,
        tag: i.tag ?? null,
        digest: i.digest ?? null,
        pinnedBy: i.pinnedBy ?? null,
        build: "ref" in i.build ? i.build.ref : null,
        buildUnknown: "unknown" in i.build ? i.build.unknown : null,
    };
}

function containerView(c: ContainerPlan, image: ContainerImage): ContainerView {
    const h = c.health;
    const l = c.limits;
    return {
        service: c.service,
        container: c.name,
        tier: c.tier,
        family: c.family,
        image: imageView(image),
        publish: { address: c.publishAddress, service: c.ports.service, health: c.ports.health, metrics: [...c.ports.metrics] },
        gpu: c.gpu ? { capabilities: [...c.gpu.capabilities], deviceIds: [...c.gpu.deviceIds] } : null,
        limits: { cpus: l.cpus, cpuShares: l.cpuShares, memoryMb: l.memoryMb, shmMb: l.shmMb, pidsLimit: l.pidsLimit },
        startsAfter: c.startAfter ?? null,
        health: {
            kind: h.kind, port: h.port, path: h.path, startPeriodSeconds: h.startPeriodSeconds, startIntervalSeconds: h.startIntervalSeconds,
            intervalSeconds: h.intervalSeconds, timeoutSeconds: h.timeoutSeconds, retries: h.retries, waitTimeoutSeconds: h.waitTimeoutSeconds,
        },
    };
}

export function planDocument(stack: string, plan: HostPlan, images: PlanImages, unknown: string[] = [], gpuMemory?: GpuBudget): PlanDocument {
    return {
        version: PLAN_DOCUMENT_VERSION,
        stack,
        machine: plan.machine,
        portOffset: plan.portOffset,
        cudaTrack: plan.cudaTrack,
        startLanes: plan.startLanes,
        containers: [...plan.containers].sort(rowOrder).map((c) => containerView(c, images.containers[c.service])),
        families: images.families.map((f) => ({ family: f.family, image: f.ref, built: f.built })),
        proxy: images.proxy ?? null,
        notDeployed: plan.excluded.map((e) => ({ service: e.service, kind: e.kind, reason: e.reason })),
        peers: plan.peers.map((p) => ({ service: p.service, machine: p.machine, reachedAs: `${p.name}:${p.port}`, container: peerFrontName(p.name) })),
        gpuMemory: gpuMemory ?? null,
        network: {
            name: fleetNetworkName(plan.machine), subnet: plan.network.subnet, gateway: plan.network.gateway, resolvers: [...plan.network.resolvers],
            front: hostFrontName(plan.machine), binds: [...new Set([plan.publishAddress, plan.network.gateway])],
        },
        unknown,
    };
}

/** `plan --json`: the document, two-space indented, keys in the order above. */
export function planJson(doc: PlanDocument): string {
    return JSON.stringify(doc, null, 2);
}
