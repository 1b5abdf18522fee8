/**
 * The host front (components/hostFront.ts): one HAProxy 2.6 in the host's network namespace that
 * owns every service's published ports, on the stack's publish address (other hosts) and on the
 * fleet network's gateway (this host's containers, whose resolvers answer every service name with
 * the gateway: fleet/model/network.ts). Each port is forwarded, in TCP mode, to the containers the
 * start commands admitted. Rules relied on, from HAProxy 2.6's doc/configuration.txt and
 * doc/management.txt:
 * - Every backend slot starts `disabled` (forced maintenance) on a placeholder name. `init-addr
 *   last,none`: a slot starts on the address the server-state file holds for it, else none, so
 *   HAProxy starts before any backend and `haproxy -c` resolves nothing, and a reload's new worker
 *   serves the admitted containers at once instead of after its first resolution (with `none`
 *   alone, the engine suite lost a request in a reload: the new worker had no address for 175 ms).
 *   Admission (fleet-front-ctl stage, then its go-ahead; `admit` for a container given back)
 *   points a free slot at one container by name (`set server ... fqdn <container>.<network>`:
 *   Docker's DNS answers a container's name qualified with the network's, through the resolvers),
 *   drained while the container starts (2.6 resolves and checks a drained slot, and sends it
 *   nothing), and sets it `ready` once Docker calls the container healthy. A slot follows its one container only:
 *   another container of the service never lands in an admitted slot before its health check,
 *   which 2.6 would otherwise mark UP before the first check (`init-state` came in 3.1).
 * - `master-worker` with the stats socket's `expose-fd listeners`: a reload (`kill -USR2` to the
 *   master) hands the listeners to the new worker, so adding a service or a port drops no
 *   connection; `server-state-file` with `load-server-state-from-file global` keeps each slot's
 *   name and admin state across the reload and across a restart of the front (management.txt
 *   `show servers state`, written before each reload and after each admission).
 * - The resolvers' holds (5.3.2): `hold timeout`, `refused` and `other` are long, so a resolver
 *   being replaced keeps every admitted address; `nx` is short, so a stopped container leaves at
 *   once; `obsolete 0s` drops an address no longer in the answer.
 * - `retries` with `option redispatch` (4.2): a refused connection is tried again on another slot.
 */
import { FRONT_DEFAULTS, HOST_FRONT } from "../model/defaults";
import { FleetNetwork } from "../model/network";
import { ContainerPlan, HostPlan, PeerPlan } from "../model/plan";

/** The name of the container that stands in for a peer's service on this host (fixed: one per service). */
export function peerFrontName(containerName: string): string {
    return `${containerName}-peer`;
}

/** A host's fleet network: every container's, with a declared subnet (fleet/model/network.ts). */
export function fleetNetworkName(machine: string): string {
    return `fleet-${machine}-net`;
}

/** The host front's container, and the volume holding its configuration and state. */
export function hostFrontName(machine: string): string {
    return `fleet-${machine}-front`;
}

/** The name a container is admitted under: its name qualified with the network's, which Docker's DNS answers. */
export function backendName(containerName: string, networkName: string): string {
    return `${containerName}.${networkName}`;
}

/** The host front's runtime API socket (inside the front; reached with `docker exec`). */
export const FRONT_SOCKET = `${HOST_FRONT.runDir}/admin.sock`;

/** One forwarded port: its role and number. */
export interface ForwardedPort {
    role: string;
    port: number;
}

/** The ports a service's listen sections forward: the service port, the health port and the metrics ports. */
export function forwardedPorts(c: Pick<ContainerPlan, "ports">): ForwardedPort[] {
    return [
        { role: "service", port: c.ports.service },
        { role: "health", port: c.ports.health },
        ...c.ports.metrics.map((port) => ({ role: "metrics", port })),
    ];
}

/** The listen sections of one service, by name: `<container name>.<role>-<port>`. */
export function listenNames(c: Pick<ContainerPlan, "name" | "ports">): string[] {
    return forwardedPorts(c).map((p) => `${c.name}.${p.role}-${p.port}`);
}

const ms = (n: number): string => `${n}ms`;

/** The host front's haproxy.cfg: every service of the host, in the plan's order. */
export function renderHostFrontConfig(p: Pick<HostPlan, "machine" | "containers" | "network" | "publishAddress" | "portOffset">, d = FRONT_DEFAULTS, h = HOST_FRONT): string {
    const binds = p.publishAddress === p.network.gateway ? [p.network.gateway] : [p.publishAddress, p.network.gateway];
    return [
        `# ${p.machine}'s host front (fleet/render/front.ts): every service's ports on ${binds.join(" and ")},`,
        "# forwarded to the containers its start commands admitted.",
        "global",
        "    master-worker",
        "    nbthread 1",
        `    maxconn ${h.maxconn}`,
        `    stats socket ${FRONT_SOCKET} mode 600 level admin expose-fd listeners`,
        `    server-state-file ${h.runDir}/${h.stateFile}`,
        "",
        ...resolversSection(p.network, h),
        "",
        ...defaultsSection(d),
        "    load-server-state-from-file global",
        `    default-server init-addr last,none resolvers fleet resolve-prefer ipv4 check inter ${ms(d.checkIntervalMs)} fastinter ${ms(d.checkFastIntervalMs)} downinter ${ms(d.checkFastIntervalMs)} fall 2 rise 1`,
        "",
        ...healthSection(`${p.network.gateway}:${hostFrontHealthPort(p)}`),
        ...p.containers.flatMap((c) => listenSections(c, binds, h)),
        "",
    ].join("\n");
}

/** Where the host front answers its own health check: the gateway, so two stacks' fronts on one engine never share it. */
export function hostFrontHealthPort(p: Pick<HostPlan, "portOffset">, h = HOST_FRONT): number {
    return h.healthPort + p.portOffset;
}

/** The front's PIDs limit: its own processes, and fleet-front-ctl's for each container it admits. */
export function hostFrontPidsLimit(p: Pick<HostPlan, "containers">, h = HOST_FRONT): number {
    return h.pidsLimit + h.pidsPerContainer * p.containers.length;
}

function resolversSection(n: FleetNetwork, h: typeof HOST_FRONT): string[] {
    const resolve = ms(h.resolveMs);
    return [
        "resolvers fleet",
        ...n.resolvers.map((ip, i) => `    nameserver resolver-${i + 1} ${ip}:53`),
        "    accepted_payload_size 8192",
        "    resolve_retries 3",
        `    timeout resolve ${resolve}`,
        `    timeout retry ${resolve}`,
        `    hold valid ${resolve}`,
        `    hold nx ${resolve}`,
        "    hold obsolete 0s",
        `    hold timeout ${h.resolverOutageHold}`,
        `    hold refused ${h.resolverOutageHold}`,
        `    hold other ${h.resolverOutageHold}`,
    ];
}

function listenSections(c: ContainerPlan, binds: string[], h: typeof HOST_FRONT): string[] {
    const check = c.health.kind === "http"
        ? [
            // The same answer Docker's health check wants (fleet-health): 200 on the health path.
            "    option httpchk",
            `    http-check send meth GET uri ${c.health.path} ver HTTP/1.0`,
            "    http-check expect status 200",
        ]
        : [];
    return forwardedPorts(c).flatMap((p, i) => [
        "",
        `listen ${listenNames(c)[i]}`,
        ...binds.map((ip) => `    bind ${ip}:${p.port}`),
        ...check,
        ...Array.from({ length: h.slots }, (_, s) => `    server b${s + 1} ${h.freeSlot}:${p.port} check port ${c.health.port} disabled`),
    ]);
}

function globalSection(): string[] {
    return [
        "global",
        "    nbthread 1",
        "    maxconn 4096",
        `    stats socket ${FRONT_DEFAULTS.runDir}/admin.sock mode 600 level admin`,
    ];
}

function defaultsSection(d: typeof FRONT_DEFAULTS): string[] {
    return [
        "defaults",
        "    mode tcp",
        `    timeout connect ${ms(d.connectTimeoutMs)}`,
        `    timeout check ${ms(d.connectTimeoutMs)}`,
        `    timeout client ${d.idleTimeout}`,
        `    timeout server ${d.idleTimeout}`,
        `    retries ${d.retries}`,
        "    option redispatch",
    ];
}

function healthSection(bind: string): string[] {
    return [
        "# The front's own health answer: healthy once HAProxy runs, with or without a backend.",
        "frontend front-health",
        "    mode http",
        `    bind ${bind}`,
        "    http-request return status 200 content-type application/json string '{\"status\":\"ok\"}' if { path /health }",
        "    http-request return status 404",
    ];
}

/**
 * A peer front's haproxy.cfg: the peer's service port, on the port the service would have here,
 * forwarded in TCP mode to `endpoint` (`<address>:<port>`, the peer stack's `endpoints` output).
 * No health check on that server: with one server, a failed check would refuse every connection
 * while the peer may already answer again; a refused or timed-out connection is retried instead
 * (`retries`), and the client sees what it would see connecting to the peer itself.
 */
export function renderPeerFrontConfig(p: PeerPlan, machine: string, endpoint: string, d = FRONT_DEFAULTS): string {
    return [
        `# ${p.service} of ${p.machine}, as ${machine}'s containers reach it (fleet/render/front.ts): ${p.name}:${p.port},`,
        `# forwarded to ${endpoint} (the ${p.machine} stack's endpoints output).`,
        ...globalSection(),
        "",
        ...defaultsSection(d),
        "",
        ...healthSection(`127.0.0.1:${d.healthPort}`),
        "",
        `listen service-${p.port}`,
        `    bind :${p.port}`,
        `    server peer ${endpoint}`,
        "",
    ].join("\n");
}

/**
 * Why a peer's endpoint (`<address>:<port>`) cannot be forwarded to, or undefined. A loopback
 * address names the forwarding container itself (a peer stack on a local engine advertises
 * 127.0.0.1): forwarded there, the peer front would connect to its own listener.
 */
export function unreachablePeerEndpoint(endpoint: string): string | undefined {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(endpoint);
    if (!m) return "not <address>:<port>";
    const host = m[1].replace(/^\[(.*)\]$/, "$1");
    if (/^127\./.test(host) || host === "::1" || host === "localhost") return "a loopback address, which inside a container is the container itself";
    return undefined;
}
