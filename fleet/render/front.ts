/**
 * A service's front (components/serviceFront.ts): the HAProxy 2.6 configuration that owns the
 * service's published ports and forwards each, in TCP mode, to the service's containers that
 * joined the host's backends network. Rules relied on, from HAProxy 2.6's
 * doc/configuration.txt:
 * - `server-template` (5.2) makes `slots` servers that take the addresses Docker's DNS returns
 *   for the backend alias, one each; `init-addr none` starts them without one, so the front starts
 *   before any backend (and `haproxy -c` checks the file without resolving anything).
 * - A server that gets an address leaves maintenance "UP, checked at once" (2.6 has no
 *   `init-state`, added in 3.1): so a container joins the alias only once Docker calls it healthy
 *   and stable (scripts/container-start.sh), never before.
 * - `retries` with `option redispatch` (4.2): a connection refused by one backend is tried again
 *   on another.
 * - `hold obsolete 0s` (5.3.2): an address no longer in the answer is dropped at once.
 * - The runtime API on `stats socket ... level admin` (9.3) sets a server to `drain` (no new
 *   connection, open ones go on) and reports each server's open sessions (`show stat`, scur).
 */
import { FRONT_DEFAULTS } from "../model/defaults";
import { ContainerPlan, PeerPlan } from "../model/plan";

/** The alias a service's containers hold on the backends network once admitted. */
export function backendAlias(containerName: string): string {
    return `${containerName}-backend`;
}

/** The name of a service's front container (fixed: it owns the host ports). */
export function frontName(containerName: string): string {
    return `${containerName}-front`;
}

/** The name of the container that stands in for a peer's service on this host (fixed: one per service). */
export function peerFrontName(containerName: string): string {
    return `${containerName}-peer`;
}

/** The network only fronts and admitted service containers join, per host. */
export function backendsNetworkName(machine: string): string {
    return `fleet-${machine}-backends`;
}

/** The front's runtime API socket (inside the front; reached with `docker exec`). */
export const FRONT_SOCKET = `${FRONT_DEFAULTS.runDir}/admin.sock`;

/** One forwarded port: its role (the listen section's name) and number. */
export interface ForwardedPort {
    role: string;
    port: number;
}

/** The ports a front forwards: the service port, the health port and the metrics ports. */
export function forwardedPorts(c: Pick<ContainerPlan, "ports">): ForwardedPort[] {
    return [
        { role: "service", port: c.ports.service },
        { role: "health", port: c.ports.health },
        ...c.ports.metrics.map((port) => ({ role: "metrics", port })),
    ];
}

const ms = (n: number): string => `${n}ms`;

/** The front's haproxy.cfg for one service. */
export function renderFrontConfig(c: Pick<ContainerPlan, "service" | "name" | "ports" | "health">, machine: string, d = FRONT_DEFAULTS): string {
    const alias = backendAlias(c.name);
    const resolve = ms(d.resolveMs);
    const check = c.health.kind === "http"
        ? [
            // The same answer Docker's health check wants (fleet-health): 200 on the health path.
            "    option httpchk",
            `    http-check send meth GET uri ${c.health.path} ver HTTP/1.0`,
            "    http-check expect status 200",
        ]
        : [];
    return [
        `# ${c.service}'s front on ${machine} (fleet/render/front.ts): its published ports, forwarded to`,
        `# the containers holding the alias ${alias} on the backends network.`,
        ...globalSection(),
        "",
        "resolvers docker",
        "    nameserver docker 127.0.0.11:53",
        "    accepted_payload_size 8192",
        "    resolve_retries 3",
        `    timeout resolve ${resolve}`,
        `    timeout retry ${resolve}`,
        `    hold valid ${resolve}`,
        `    hold other ${resolve}`,
        `    hold refused ${resolve}`,
        `    hold nx ${resolve}`,
        `    hold timeout ${resolve}`,
        "    hold obsolete 0s",
        "",
        ...defaultsSection(d),
        `    default-server init-addr none resolvers docker resolve-prefer ipv4 check inter ${ms(d.checkIntervalMs)} fall 2 rise 1`,
        "",
        ...healthSection(d),
        ...forwardedPorts(c).flatMap((p) => [
            "",
            `listen ${p.role}-${p.port}`,
            `    bind :${p.port}`,
            ...check,
            `    server-template b ${d.slots} ${alias}:${p.port} check port ${c.health.port}`,
        ]),
        "",
    ].join("\n");
}

function globalSection(): string[] {
    return [
        "global",
        "    nbthread 1",
        "    maxconn 4096",
        `    stats socket ${FRONT_SOCKET} mode 600 level admin`,
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

function healthSection(d: typeof FRONT_DEFAULTS): string[] {
    return [
        "# The front's own health answer, on the loopback only: healthy once HAProxy runs, with or",
        "# without a backend (a service's first container is admitted after the front started).",
        "frontend front-health",
        "    mode http",
        `    bind 127.0.0.1:${d.healthPort}`,
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
        ...healthSection(d),
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
