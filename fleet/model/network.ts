/**
 * A host's fleet network and the fixed addresses in it (docs/design.md, "The host front").
 *
 * The host front (components/hostFront.ts) runs in the host's network namespace and listens on the
 * network's gateway, and two resolvers answer every service's name with that gateway. A service
 * container is told the resolvers by address (`dns`, a container input), so they need addresses
 * Docker never hands out on its own: Docker takes `--ip` only on a network with a declared subnet
 * ("user specified IP address is supported only when connecting to networks with user configured
 * subnets", moby v26.1.5 daemon/container_operations.go validateEndpointSettings), and allocates
 * the others from `ipRange` (libnetwork ipam: the pool's sub-range), so the resolvers take
 * addresses below it and no container can take theirs first.
 */
import { isIPv4 } from "net";

export interface FleetNetwork {
    /** `a.b.c.d/n`, the stack's fleet:networkSubnet. */
    subnet: string;
    /** The subnet's first address: the bridge's, where the host front listens for containers. */
    gateway: string;
    /** Where Docker allocates containers' addresses: the subnet's upper half. */
    ipRange: string;
    /** The resolvers' fixed addresses: the second and third of the subnet, below `ipRange`. */
    resolvers: [string, string];
}

const toInt = (ip: string): number => ip.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** The smallest and largest prefixes a fleet network may have: room for a host's containers twice over, and no more than a /16. */
export const SUBNET_PREFIX = { min: 16, max: 24 };

/** Why `subnet` cannot be a host's fleet network, or undefined. */
export function subnetProblem(subnet: string): string | undefined {
    const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(subnet);
    if (!m || !isIPv4(m[1])) return "is not an IPv4 subnet like 10.230.0.0/24";
    const prefix = Number(m[2]);
    if (prefix < SUBNET_PREFIX.min || prefix > SUBNET_PREFIX.max) return `has a /${prefix} prefix; use /${SUBNET_PREFIX.min} to /${SUBNET_PREFIX.max} (a /24 holds 126 containers)`;
    const size = 2 ** (32 - prefix);
    if (toInt(m[1]) % size !== 0) return `is not the start of a /${prefix}: ${toIp(toInt(m[1]) - (toInt(m[1]) % size))}/${prefix} is`;
    return undefined;
}

/** The addresses of a fleet network on `subnet` (checked by subnetProblem). */
export function fleetNetwork(subnet: string): FleetNetwork {
    const why = subnetProblem(subnet);
    if (why) throw new Error(`fleet:networkSubnet '${subnet}' ${why}`);
    const [base, prefix] = subnet.split("/");
    const start = toInt(base);
    const half = 2 ** (32 - Number(prefix) - 1);
    return {
        subnet,
        gateway: toIp(start + 1),
        ipRange: `${toIp(start + half)}/${Number(prefix) + 1}`,
        resolvers: [toIp(start + 2), toIp(start + 3)],
    };
}
