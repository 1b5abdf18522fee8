/**
 * Fleet-wide defaults, in one place. Families override the runtime values in families.yaml
 * (`runtime:`); a family without a value takes its parent's, then these.
 */

/** Container limits and health timing every family starts from. */
export const RUNTIME_DEFAULTS = {
    /** Memory limit of a container. @default 512 */
    memoryMb: 512,
    /** /dev/shm size; PyTorch data loaders and NCCL need far more on GPU families. @default 64 */
    shmMb: 64,
    /** Process limit of a container (CIS Docker 5.29). @default 256 */
    pidsLimit: 256,
    /**
     * Failing health checks do not count during this time after start, and the engine probes
     * every `startIntervalSeconds` until the first success. @default 30
     */
    startPeriodSeconds: 30,
    /**
     * Probe interval during the start period (Docker >= 25, `--health-start-interval`): a
     * service is seen healthy about a second after it answers instead of after the first 30 s
     * interval. Once healthy the engine probes every `HEALTH_DEFAULTS.intervalSeconds`. GPU
     * families keep it too: `pulumi up` holds a step per container until it is seen healthy, and
     * 5 s made mainpc converge in 70.5 s against 63.7 s (alternated rounds, docs/performance.md).
     * @default 1
     */
    startIntervalSeconds: 1,
    /**
     * CPU limit in CPUs (NanoCpus, CIS Docker 5.12 "CPU priority"/limits). Validated against
     * each host's `cpus` in hosts.yaml. @default 1
     */
    cpus: 1,
    /**
     * Relative CPU weight under contention. Docker's default is 1024; CIS Docker checks that it
     * is set, and CPU services sit below the GPU families, whose model servers feed the GPU.
     * @default 512
     */
    cpuShares: 512,
    /** How long `pulumi up` waits for the container to become healthy. @default 120 */
    waitTimeoutSeconds: 120,
    /** GPU memory a GPU service keeps on its card; CPU families keep none. @default 0 */
    vramMb: 0,
};

/**
 * Lanes of a tier when the stack sets no `fleet:startLanes`: as many as the host has containers,
 * so after the core tier every container of a tier starts at once, bounded only by Pulumi's
 * parallelism (4 per CPU of the machine running `pulumi up`, pkg/cmd/pulumi/operations/up.go
 * defaultParallel). Chosen from the host's convergence, first container create to all healthy,
 * median of 3 alternated rounds on 2 cores (npm run bench, docs/performance.md, 2026-12-01):
 * - local (25 CPU containers): all at once 25.0 s, `--parallel 64` 26.1 s, four lanes 26.8 s,
 *   compose 24.6 s;
 * - mainpc with its GPU services (42): all at once 63.2 s, four lanes 65.4 s, compose 54.5 s;
 *   again with GPU families probed every second (43, 2026-12-02): 66.1 s, 69.5 s, 57.4 s.
 * Lanes make each container healthy sooner after its own create (app tier 2.9 s against 6.5 s)
 * but the host no sooner, and operators wait for the whole `up`. More parallel steps were no
 * faster either: two cores are the bottleneck, not the number of containers starting.
 * Creating a tier without the provider's wait and waiting for it in one host-wide gate was no
 * better (2026-12-02: local 32.1 s against lanes 29.9 s and compose 28.0 s; mainpc A/Bs within
 * the spread): every container then probes at once on two cores.
 * Measured last, once the PIDs-limit commands waited for the host's containers instead of
 * running among their starts (2026-12-02): local all at once 26.6 s, `--parallel 64` 29.9 s,
 * four lanes 29.3 s, compose 28.3 s; mainpc 58.6 s, 58.7 s, 59.5 s, compose 64.7 s. All at once
 * beat compose in every round on both hosts, and stays the default.
 * The earlier default, two lanes per CPU of hosts.yaml, came from the per-container figure; it
 * was all at once on mainpc (48) already and 16 lanes on pc2. `fleet:startLanes` stays for a
 * host where staggering matters more than the whole, such as model loads that peak in memory.
 * @default every container of a tier at once
 */
export function defaultStartLanes(containers: number): number {
    return Math.max(1, containers);
}

/** Health-check timing shared by every container (004 §E's examples). */
export const HEALTH_DEFAULTS = {
    /** @default 30 */
    intervalSeconds: 30,
    /** @default 10 */
    timeoutSeconds: 10,
    /** @default 3 */
    retries: 3,
};

/**
 * How a container takes over from the one it replaces (scripts/container-start.sh): the new
 * container is created stopped and started beside the previous one (a GPU service's after the
 * previous one stopped: one card holds one copy of its model); when the new one is not healthy
 * within its wait, or does not stay healthy for `stableSeconds` once it is (Kubernetes'
 * `minReadySeconds`), it is stopped and the previous one keeps serving (a GPU service's is started
 * again).
 */
export const TAKEOVER_DEFAULTS = {
    /**
     * Seconds a replacing container must stay running and healthy, with no restart, before its
     * predecessor is given up. Only when there is a predecessor: a first deploy has nothing to go
     * back to. Long enough for a service that crashes once it takes its first requests to show
     * it, against 5 s added to each replacement. @default 5
     */
    stableSeconds: 5,
};

/**
 * What every HAProxy the fleet runs as a front shares (the host front, components/hostFront.ts; a
 * peer front, components/peerFront.ts): its timeouts, retries, admission and drain. A replacement
 * starts the new container beside the old one, admits it to the host front once healthy and
 * stable, drains the old one, and only then stops it: a request in flight finishes and a new one
 * finds a ready backend.
 */
export const FRONT_DEFAULTS = {
    /**
     * Health-check interval of a serving backend, in ms; two failures mark it down. Each check is a
     * request to the service's health endpoint, one per forwarded port: at 1 s they were most of a
     * deployed host's idle CPU in its services (78 requests a second on the local stack).
     * @default 3000
     */
    checkIntervalMs: 3000,
    /**
     * Health-check interval of a backend changing state or down (HAProxy's `fastinter` and
     * `downinter`), in ms: a staged container is seen up within this of answering, and a failing
     * one is marked down within the interval and this. @default 500
     */
    checkFastIntervalMs: 500,
    /**
     * Seconds the old container is given to finish its open connections once the front sends it
     * no new ones; it is stopped (SIGTERM) after that even if some remain. @default 10
     */
    drainSeconds: 10,
    /**
     * Seconds the host front is given to see a newly admitted container up (a DNS round and a
     * health check take about 1 s; a reload adding the service's ports may come first). @default 15
     */
    admitSeconds: 15,
    /** A connection refused or timed out is retried, on another backend when there is one. @default 3 */
    retries: 3,
    /** @default 2000 */
    connectTimeoutMs: 2000,
    /** Idle timeout of a forwarded connection, both sides (ZeroMQ sessions stay open). @default "1h" */
    idleTimeout: "1h",
    /** Loopback-only port of a peer front's own health answer (healthy once HAProxy runs). @default 2377 */
    healthPort: 2377,
    /** Where a peer front writes its configuration and its runtime API socket (a tmpfs). */
    runDir: "/run/fleet-front",
    /** @default 32 */
    memoryMb: 32,
    /** @default 32 */
    pidsLimit: 32,
    /** @default 0.25 */
    cpus: 0.25,
    /** @default 256 */
    cpuShares: 256,
    /**
     * Health timing of the front container: HAProxy is up within a second. The start command that
     * starts a front waits for it to be healthy before it returns, so an `up` leaves no front
     * "starting" (a 5 s start interval, tried to save CPU during a deploy, saved none measurable).
     */
    health: { intervalSeconds: 30, timeoutSeconds: 5, startPeriodSeconds: 10, startIntervalSeconds: 1, retries: 3 },
    /** How long a peer front's start command waits for it to be healthy (components/peerFront.ts). @default 60 */
    waitSeconds: 60,
};

/**
 * The host front (components/hostFront.ts, fleet/render/front.ts): one HAProxy per host in the
 * host's network namespace, holding every service's published ports, and its two resolvers
 * (components/hostResolvers.ts). docs/design.md, "The host front", says why one per host.
 */
export const HOST_FRONT = {
    /**
     * Backend slots per forwarded port: one per container of the service that can run at once (the
     * serving one, the one taking over, and one left by an interrupted `up`). @default 3
     */
    slots: 3,
    /** The name a free slot resolves (RFC 6761 `.invalid`: never an answer). @default "fleet-free.invalid" */
    freeSlot: "fleet-free.invalid",
    /**
     * How often each admitted container's name is resolved again, in ms (HAProxy's `timeout
     * resolve`; also how long it holds an answer). Every resolution asks both resolvers, which ask
     * Docker's DNS inside dockerd: at 500 ms that was 6 % of a core on the idle local stack. A
     * staged container is resolved while it starts, so its admission does not wait for it.
     * @default 1000
     */
    resolveMs: 1000,
    /**
     * How long the front keeps an address while no resolver answers (timeout, refused, other):
     * a resolver replaced or down never takes a service's backends away. @default "1h"
     */
    resolverOutageHold: "1h",
    /**
     * Connections the front holds at once, every service together. HAProxy needs about two file
     * descriptors a connection and raises its own limit to that at start; 8192 stays under the
     * 20,000 open files Docker 26's containerd gives a container here (a higher value made the
     * front exit: "Cannot raise FD limit to 33210, limit is 20000"). @default 8192
     */
    maxconn: 8192,
    /**
     * Port of the front's own health answer, plus the stack's portOffset, on the fleet network's
     * gateway (each stack's own address: two stacks on one engine never share it). @default 8404
     */
    healthPort: 8404,
    /** The front's volume: configuration, server state, runtime API socket, pid file. */
    runDir: "/run/fleet-front",
    /** @default "haproxy.cfg" */
    configFile: "haproxy.cfg",
    /** @default "servers.state" */
    stateFile: "servers.state",
    /** @default 128 */
    memoryMb: 128,
    /**
     * The master, its worker, and a worker left finishing connections per reload; the front's PIDs
     * limit adds `pidsPerContainer` per container it admits (fleet/render/front.ts
     * hostFrontPidsLimit). @default 64
     */
    pidsLimit: 64,
    /**
     * fleet-front-ctl runs in the front's cgroup (`docker exec`): per container, the stage held
     * through its start and the retire of the container it replaces. With a fixed 64, mainpc's 42
     * stages at once left the front about 16 processes. @default 2
     */
    pidsPerContainer: 2,
    /** @default 1 */
    cpus: 1,
    /** @default 1024 */
    cpuShares: 1024,
    /** How long the front's command waits for it to be healthy after a start. @default 60 */
    waitSeconds: 60,
};

/**
 * A host's resolvers (components/hostResolvers.ts): dnsmasq answering every single-label name
 * with the fleet network's gateway (where the host front listens) and forwarding every other name
 * to Docker's DNS. Two, replaced one after the other, so a name is always answered.
 */
export const RESOLVER_DEFAULTS = {
    /** @default 16 */
    memoryMb: 16,
    /** @default 16 */
    pidsLimit: 16,
    /** @default 0.25 */
    cpus: 0.25,
    /** @default 256 */
    cpuShares: 256,
    /** How long a resolver's start command waits for it to be healthy. @default 60 */
    waitSeconds: 60,
};

/**
 * `pulumi up --parallel` of the documented deploys (scripts/local-up's PULUMI_PARALLEL, the
 * deploy workflow's `parallel`): a slot for every container, front and start command of the
 * largest host at once (mainpc: 42 services, 126). The CLI's default, 4 per CPU of the machine
 * running Pulumi (pulumi/pulumi pkg/cmd/pulumi/operations/up.go `defaultParallel`), makes the
 * starts queue for slots that other starts hold through their health waits. @default 128
 */
export const DEPLOY_PARALLEL = 128;

/** Non-root identity of every runtime stage (002 §A). */
export const APP_UID = 10001;
export const APP_GID = 10001;
export const APP_USER = "appuser";

/** How every container restarts: after crashes and daemon restarts, not after `docker stop`. */
export const RESTART_POLICY = "unless-stopped";

/** Log rotation of every container (json-file keeps `docker logs` working). */
export const LOG_DEFAULTS = {
    driver: "json-file",
    /** @default "10m" */
    maxSize: "10m",
    /** @default "5" */
    maxFile: "5",
};

/** The containers' log options, as the Docker provider takes them (its `log_opts` map). */
export const LOG_OPTS: Readonly<Record<string, string>> = { "max-size": LOG_DEFAULTS.maxSize, "max-file": LOG_DEFAULTS.maxFile };

/** Sizes of the tmpfs mounts every container gets (the root filesystem is read-only). */
export const TMPFS_SIZES_MB = {
    /** `tempfile` and sockets. @default 64 */
    tmp: 64,
    /** HOME of appuser: libraries that write dotfiles. @default 16 */
    home: 16,
    /** The host profile document, written by the entrypoint. @default 1 */
    run: 1,
};

/**
 * The SBOM digests a host's containers report at start (docs/design.md, "SBOMs"): one index
 * file in a volume per host, `fleet-<machine>-sboms`, written by `scripts/fleet publish-sboms`
 * before `pulumi up` and mounted read-only in every service container. Not an environment
 * variable: that would replace every container when only the SBOM generator changed, and show
 * every container replaced in a pull request's preview, which has no SBOMs.
 */
export const SBOM_INDEX = {
    /** Where the volume is mounted in a service container. @default "/run/fleet-sboms" */
    mountPath: "/run/fleet-sboms",
    /** The index's file name in the volume. @default "index.json" */
    file: "index.json",
    /**
     * An image's entry is dropped from the index this many days after it was last published,
     * unless it is published again; a container of an older image (a pin kept that long)
     * then reports no SBOM digest, and says why in its log. @default 180
     */
    keepDays: 180,
};

/** The volume holding a host's SBOM index. */
export function sbomIndexVolumeName(machine: string): string {
    return `fleet-${machine}-sboms`;
}

/** Where the entrypoint writes the profile document; /etc/machine-profile.json links here. */
export const PROFILE_PATH = "/run/fleet/machine-profile.json";

/**
 * Oldest Docker engine the fleet deploys to. 25.0 is the first engine with a health start
 * interval (API 1.44, `StartInterval`); older engines ignore it and run the first check only
 * after the 30 s interval, so a host takes minutes to converge. It also covers what 20.10
 * was needed for (device requests, BuildKit cache mounts, cgroup v2). @default "25.0"
 */
export const MIN_DOCKER_VERSION = "25.0";

/**
 * The Docker API proxy (components/dockerApiProxy.ts): HAProxy from Debian bookworm, at the
 * version of bookworm-security (2.6.12-1+deb12u3 in bookworm main lacks the later fixes).
 */
export const PROXY_DEFAULTS = {
    /**
     * HAProxy, and dnsmasq for the host's resolvers (the same image runs both: one image to build,
     * scan and pin per host).
     * @default ["haproxy=2.6.12-1+deb12u4", "dnsmasq-base=2.90-4~deb12u2"]
     */
    aptPins: ["haproxy=2.6.12-1+deb12u4", "dnsmasq-base=2.90-4~deb12u2"],
    /** Port the supervisor reaches the proxy at. @default 2375 */
    port: 2375,
    /** Loopback-only port of the proxy's own health answer (not published). @default 2376 */
    healthPort: 2376,
    /** @default 64 */
    memoryMb: 64,
    /** HAProxy runs one thread; the limit bounds a fork bomb through a compromised proxy (CIS 5.29). @default 64 */
    pidsLimit: 64,
    /** @default 0.5 */
    cpus: 0.5,
    /** @default 512 */
    cpuShares: 512,
    /** Health timing of the image and the container: HAProxy is up within a second. */
    health: { intervalSeconds: 30, timeoutSeconds: 5, startPeriodSeconds: 10, startIntervalSeconds: 1, retries: 3 },
    /** How long `pulumi up` waits for the proxy to become healthy. @default 60 */
    waitTimeoutSeconds: 60,
};
