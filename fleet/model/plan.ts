/**
 * The planner: for one host and one stack config, what runs there and how. Pure and
 * deterministic: the same data and config give the same plan, in the same order.
 */
import { cudaTracks, DOCKER_API_SERVICE, lineage } from "./check";
import { APP_GID, APP_UID, APP_USER, HEALTH_DEFAULTS, PROFILE_PATH, TMPFS_SIZES_MB, defaultStartLanes } from "./defaults";
import { byName, containerName } from "./names";
import { FleetNetwork, fleetNetwork } from "./network";
import { hostGpuIds, profileDocument, profileEnv, profileJson } from "./profile";
import { familyRuntime } from "./runtime";
import { FleetData, Service, Trait } from "./schema";
import { advertiseAddress, pinnedImage, RollbackPins, StackConfig } from "./stack";

export { familyRuntime } from "./runtime";

export interface HealthIntent {
    kind: "http" | "tcp";
    /** Published (offset) health port; the container listens on the same number. */
    port: number;
    path: string;
    intervalSeconds: number;
    timeoutSeconds: number;
    retries: number;
    startPeriodSeconds: number;
    /** Probe interval until the first success within the start period (Docker >= 25). */
    startIntervalSeconds: number;
    /** How long a deploy waits for the container to turn healthy. */
    waitTimeoutSeconds: number;
}

export interface GpuRequest {
    driver: "nvidia";
    deviceIds: string[];
    capabilities: string[];
}

export interface Limits {
    memoryMb: number;
    shmMb: number;
    pidsLimit: number;
    /** CPU limit, in CPUs (NanoCpus). */
    cpus: number;
    /** Relative CPU weight. */
    cpuShares: number;
}

export interface VolumePlan {
    /** Docker volume name, `fleet-<container>-<purpose>`. */
    name: string;
    purpose: "data" | "logs" | "cache";
    target: string;
}

/**
 * A service of another host this host `uses` (hosts.yaml), reached by the host's containers under
 * the name and port it would have here: a peer front (components/peerFront.ts) holds that alias
 * on the host network and forwards to the address the peer stack's `endpoints` output gives.
 * Location-transparent on purpose: moving the service between hosts swaps the peer front for the
 * service's own front and changes no service container (issue 27: one moved service replaced all
 * 23 pc2 containers when each carried every peer address in its environment).
 */
export interface PeerPlan {
    service: string;
    /** The host that runs it (a key of `uses`). */
    machine: string;
    /** Its container name on its own host: the alias it has here too. */
    name: string;
    /** Its service port plus this stack's offset: the port it would have here. */
    port: number;
}

export interface ContainerPlan {
    service: string;
    /** Docker container name, also the network alias. */
    name: string;
    family: string;
    tier: "core" | "app";
    compute: "cpu" | "gpu";
    traits: Trait[];
    entrypoint: string;
    /** Published ports, after PORT_OFFSET. */
    ports: { service: number; health: number; metrics: number[] };
    /** The host address the ports are bound to (CIS Docker 5.14): the stack's advertised address. */
    publishAddress: string;
    env: Record<string, string>;
    gpu: GpuRequest | null;
    health: HealthIntent;
    limits: Limits;
    /** Reaches the Docker API (only the supervisor). */
    dockerApi: boolean;
    /** Named volumes for what the service writes; kept on delete and on replacement. */
    volumes: VolumePlan[];
    /** tmpfs mounts and their options. */
    tmpfs: Record<string, string>;
    readOnlyRootfs: boolean;
    /** Why the root filesystem is writable, when it is. */
    rootfsException?: string;
    /** The image this service is pinned to (rollback); it is not built. */
    pinnedImage?: string;
    /** The commit a pinned image was built from, when the build lock of fleet:pinAll says. */
    pinnedRevision?: string;
    /**
     * The service of the same tier whose container must be healthy before this one is created
     * (`HostPlan.startLanes`); absent for the first containers of a tier.
     */
    startAfter?: string;
}

export type ExclusionKind = "disabled" | "gated" | "no-gpu";

export interface Exclusion {
    service: string;
    kind: ExclusionKind;
    reason: string;
}

export interface HostPlan {
    machine: string;
    portOffset: number;
    cudaTrack: string;
    /** Families the containers need, parents before children. */
    families: string[];
    /**
     * In lane order: core tier first; within a tier CPU services, then GPU services, each by
     * name. A container's `startAfter` always comes before it. Only the `dependsOn` edges (core,
     * lanes) order starts: among containers free to start, Pulumi creates them in the order their
     * registrations reach the engine, which the Node SDK decides (docs/performance.md).
     */
    containers: ContainerPlan[];
    /** How many containers of a tier start at once (see `startLanes`). */
    startLanes: number;
    excluded: Exclusion[];
    /** The services of other hosts the host `uses`, by name. */
    peers: PeerPlan[];
    profileDocument: string;
    /** The host's fleet network and its fixed addresses (fleet/model/network.ts). */
    network: FleetNetwork;
    /** The one host address every published port is bound to (the stack's advertiseAddress). */
    publishAddress: string;
}

/** Why a service placed on the host is left out of a stack, or undefined when it runs. */
export function exclusion(name: string, svc: Service, cfg: Pick<StackConfig, "disableServices" | "enableServices" | "rtapEnabled" | "gpu">): Exclusion | undefined {
    if (cfg.disableServices.includes(name)) return { service: name, kind: "disabled", reason: "listed in the stack's fleet:disableServices" };
    if (!svc.enabled && !cfg.enableServices.includes(name)) return { service: name, kind: "disabled", reason: `${svc.disabledReason ?? "disabled in services.yaml"}; fleet:enableServices turns it on` };
    if (svc.gatedBy === "rtap" && cfg.rtapEnabled) return { service: name, kind: "gated", reason: "replaced by RealTimeAudioPipeline while fleet:rtapEnabled is true (002 P0.3)" };
    if (svc.compute === "gpu" && !cfg.gpu) return { service: name, kind: "no-gpu", reason: "needs a GPU and the stack sets fleet:gpu false" };
    return undefined;
}

/**
 * Where a read-only root filesystem would break a Python service, and what replaces it:
 * - HOME: a tmpfs owned by appuser, for libraries that write dotfiles;
 * - /tmp: a tmpfs for `tempfile`; noexec, so nothing is executed from it;
 * - compiled caches that are executed (Triton kernels) or large (model weights) go to the
 *   service's cache volume on GPU families, which is not noexec; CPU services cache in /tmp;
 * - .pyc files are compiled into the image at build time (PYTHONDONTWRITEBYTECODE at run time);
 * - /run/fleet holds the profile document the entrypoint writes (/etc/machine-profile.json
 *   links to it in every image).
 */
function writablePaths(gpuFamily: boolean, container: string): { volumes: VolumePlan[]; tmpfs: Record<string, string>; env: Record<string, string> } {
    const owned = `uid=${APP_UID},gid=${APP_GID}`;
    const volumes: VolumePlan[] = [
        { name: `fleet-${container}-data`, purpose: "data", target: "/app/data" },
        { name: `fleet-${container}-logs`, purpose: "logs", target: "/app/logs" },
    ];
    const tmpfs: Record<string, string> = {
        "/tmp": `rw,noexec,nosuid,nodev,size=${TMPFS_SIZES_MB.tmp}m,mode=1777`,
        [`/home/${APP_USER}`]: `rw,noexec,nosuid,nodev,size=${TMPFS_SIZES_MB.home}m,mode=0700,${owned}`,
        "/run/fleet": `rw,noexec,nosuid,nodev,size=${TMPFS_SIZES_MB.run}m,mode=0755,${owned}`,
    };
    if (gpuFamily) {
        volumes.push({ name: `fleet-${container}-cache`, purpose: "cache", target: "/app/cache" });
        return {
            volumes, tmpfs,
            env: { XDG_CACHE_HOME: "/app/cache", HF_HOME: "/app/cache/huggingface", TORCH_HOME: "/app/cache/torch", TRITON_CACHE_DIR: "/app/cache/triton", NUMBA_CACHE_DIR: "/app/cache/numba" },
        };
    }
    return { volumes, tmpfs, env: { XDG_CACHE_HOME: "/tmp/.cache", NUMBA_CACHE_DIR: "/tmp/numba" } };
}

/** The service every container reports its start to (002 §H: image, digest, git sha). */
export const OBSERVABILITY_SERVICE = "UnifiedObservabilityCenter";

/**
 * Where a container sends its start report (fleet/render/assets/fleet-entrypoint): the
 * UnifiedObservabilityCenter by its alias and port, whether the host runs it or `uses` a peer's
 * (a peer front holds the alias then); else nowhere, and the record is only logged.
 */
function startReportEnv(d: FleetData, cfg: StackConfig): Record<string, string> {
    const uoc = d.services[OBSERVABILITY_SERVICE];
    if (!uoc) return {};
    const local = uoc.hosts.includes(cfg.machine) && !exclusion(OBSERVABILITY_SERVICE, uoc, cfg);
    const used = Object.values(d.hosts[cfg.machine].uses).some((services) => services.includes(OBSERVABILITY_SERVICE));
    return local || used ? { FLEET_UOC_ENDPOINT: `${containerName(OBSERVABILITY_SERVICE)}:${uoc.ports.service + cfg.portOffset}` } : {};
}

/** The services of other hosts `cfg.machine` uses, by service name. */
function peerPlans(d: FleetData, cfg: StackConfig): PeerPlan[] {
    return Object.entries(d.hosts[cfg.machine].uses)
        .flatMap(([machine, services]) => services.map((service) => ({ service, machine, name: containerName(service), port: d.services[service].ports.service + cfg.portOffset })))
        .sort((a, b) => byName(a.service, b.service));
}

function containerPlan(d: FleetData, name: string, svc: Service, cfg: StackConfig, rollback: RollbackPins): ContainerPlan {
    const host = d.hosts[cfg.machine];
    const rt = familyRuntime(d, svc.family);
    const off = cfg.portOffset;
    const ports = { service: svc.ports.service + off, health: svc.ports.health + off, metrics: svc.ports.metrics.map((p) => p + off) };
    const gpu = svc.compute === "gpu";
    const nvml = svc.nvml && cfg.gpu && host.gpu !== null;
    const writable = writablePaths(isGpuFamily(d, svc.family), containerName(name));
    const env = {
        ...profileEnv({ machine: cfg.machine, host, service: name, portOffset: off, servicePort: ports.service, healthPort: ports.health, gpu, nvml, cpuFallback: svc.cpuFallback || cfg.gpuFallback }),
        ...writable.env,
        FLEET_FAMILY: svc.family,
        FLEET_PROFILE_PATH: PROFILE_PATH,
        FLEET_PROFILE_JSON: profileJson(cfg.machine, host),
        ...startReportEnv(d, cfg),
    };
    const pinned = pinnedImage(cfg, name, containerName(name), rollback);
    return {
        service: name,
        name: containerName(name),
        family: svc.family,
        tier: svc.tier,
        compute: svc.compute,
        traits: svc.traits,
        entrypoint: svc.entrypoint,
        ports,
        publishAddress: advertiseAddress(cfg),
        env: Object.fromEntries(Object.entries(env).sort(([a], [b]) => byName(a, b))),
        gpu: gpu ? { driver: "nvidia", deviceIds: hostGpuIds(host), capabilities: ["gpu"] }
            : nvml ? { driver: "nvidia", deviceIds: hostGpuIds(host), capabilities: ["utility"] } : null,
        health: {
            kind: svc.health.kind,
            port: ports.health,
            path: svc.health.path,
            ...HEALTH_DEFAULTS,
            startPeriodSeconds: rt.startPeriodSeconds,
            startIntervalSeconds: rt.startIntervalSeconds,
            waitTimeoutSeconds: svc.health.waitTimeoutSeconds ?? rt.waitTimeoutSeconds,
        },
        limits: { memoryMb: rt.memoryMb, shmMb: rt.shmMb, pidsLimit: rt.pidsLimit, cpus: Math.min(rt.cpus, cfg.maxCpus ?? rt.cpus), cpuShares: rt.cpuShares },
        dockerApi: name === DOCKER_API_SERVICE && svc.traits.includes("docker"),
        volumes: writable.volumes,
        tmpfs: writable.tmpfs,
        readOnlyRootfs: svc.rootfsWritable === undefined,
        ...(svc.rootfsWritable !== undefined ? { rootfsException: svc.rootfsWritable } : {}),
        ...(pinned !== undefined ? { pinnedImage: pinned } : {}),
        ...(pinned !== undefined && pinned === rollback[name]?.image && rollback[name].revision !== undefined ? { pinnedRevision: rollback[name].revision } : {}),
    };
}

/** Where a service answers other hosts: its stack's `endpoints` output (index.ts), which the `uses` of a peer's stack read. */
export function endpointOf(c: Pick<ContainerPlan, "publishAddress" | "ports">): string {
    return `${c.publishAddress}:${c.ports.service}`;
}

/** Families needed by `families`, with all their ancestors, parents first, ties by name. */
export function familyClosure(d: FleetData, families: Iterable<string>): string[] {
    const all = new Set<string>();
    for (const f of families) for (const a of lineage(d, f)) all.add(a);
    const depth = (f: string) => lineage(d, f).length;
    return [...all].sort((a, b) => depth(a) - depth(b) || byName(a, b));
}

/**
 * Plans the host `cfg.machine`. Expects data and config that passed their checks.
 * @param rollback service -> image ref of `fleet:pinAll`'s build lock (fleet/model/rollback.ts)
 */
export function planHost(d: FleetData, cfg: StackConfig, rollback: RollbackPins = {}): HostPlan {
    const containers: ContainerPlan[] = [];
    const excluded: Exclusion[] = [];
    for (const [name, svc] of Object.entries(d.services).sort(([a], [b]) => byName(a, b))) {
        if (!svc.hosts.includes(cfg.machine)) continue;
        const ex = exclusion(name, svc, cfg);
        if (ex) excluded.push(ex);
        else containers.push(containerPlan(d, name, svc, cfg, rollback));
    }
    const lanes = cfg.startLanes ?? defaultStartLanes(containers.length);
    return {
        machine: cfg.machine,
        portOffset: cfg.portOffset,
        cudaTrack: cfg.cudaTrack,
        families: familyClosure(d, containers.map((c) => c.family)),
        // In lane order (startLanes sorts them).
        containers: startLanes(containers, lanes),
        startLanes: lanes,
        excluded,
        peers: peerPlans(d, cfg),
        profileDocument: profileDocument(cfg.machine, d.hosts[cfg.machine]),
        network: fleetNetwork(cfg.networkSubnet),
        publishAddress: advertiseAddress(cfg),
    };
}

/**
 * Starts each tier in `lanes` lanes: the n-th container of a tier is created once the
 * (n - lanes)-th is healthy, so at most `lanes` containers of a tier are starting at any time.
 * Started all at once, a tier's containers queue for the CPUs together and each is slower to
 * turn healthy, but the host converges no later (defaultStartLanes has the figures), so a
 * stack's default is all at once and lanes are a stack's choice. Lanes rather than waves: a slow or failing container holds up its own lane only, and a container waits for
 * one other, not for a whole wave. CPU services come first and GPU services last, so a model
 * server's long load never holds up a CPU service behind it.
 *
 * The edge is a plain `dependsOn`: Pulumi never replaces a container because the one it waits
 * for is replaced (delete-before-replace replaces only dependents whose inputs reference the
 * replaced resource; pkg/resource/deploy/step_generator.go, calculateDependentReplacements).
 */
export function startLanes(containers: ContainerPlan[], lanes: number): ContainerPlan[] {
    const ordered = [...containers].sort(startOrder);
    return ordered.map((c) => {
        const tier = ordered.filter((x) => x.tier === c.tier);
        const i = tier.indexOf(c);
        return i >= lanes ? { ...c, startAfter: tier[i - lanes].service } : c;
    });
}

/** Core tier first; within a tier CPU services, then GPU services, each by name. */
function startOrder(a: ContainerPlan, b: ContainerPlan): number {
    if (a.tier !== b.tier) return a.tier === "core" ? -1 : 1;
    if (a.compute !== b.compute) return a.compute === "cpu" ? -1 : 1;
    return byName(a.service, b.service);
}

/** Whether a family carries the CUDA stack. */
export function isGpuFamily(d: FleetData, family: string): boolean {
    return cudaTracks(d, family) !== undefined;
}
