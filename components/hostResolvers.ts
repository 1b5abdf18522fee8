/**
 * A host's two resolvers (fleet/render/assets/fleet-haproxy, role `resolver`): dnsmasq on the fleet
 * network at fixed addresses, answering every service's name with the gateway, where the host
 * front listens, and every other name from Docker's DNS. Service containers are told them by
 * address (`dns`); the host front resolves admitted containers through them.
 *
 * In a container on the fleet network, port 53 needs no capability: Docker sets the network
 * namespace's `net.ipv4.ip_unprivileged_port_start` to 0 (docs/performance.md, tried on 26.1.5).
 * Two, so a name is answered while one is replaced: the second's create waits for the first's
 * start, so a change of both replaces them one after the other.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { RESOLVER_DEFAULTS } from "../fleet/model/defaults";
import { FleetNetwork } from "../fleet/model/network";
import { frontOptions, HaproxyComponentArgs, haproxyContainerInputs } from "./haproxyContainer";
import { startCommand } from "./serviceContainer";

/** `imageId`: the HAProxy image, which holds dnsmasq. */
export interface HostResolversArgs extends HaproxyComponentArgs {
    machine: string;
    network: FleetNetwork;
    /** The fleet network, by id. */
    networkId: pulumi.Input<string>;
}

/** A resolver's container name. */
export function resolverName(machine: string, index: number): string {
    return `fleet-${machine}-resolver-${index + 1}`;
}

export class HostResolvers extends pulumi.ComponentResource {
    public readonly containers: docker.Container[];
    public readonly started: command.local.Command[];

    constructor(name: string, args: HostResolversArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:containers:HostResolvers", name, {}, opts);
        const d = RESOLVER_DEFAULTS;
        this.containers = [];
        this.started = [];
        args.network.resolvers.forEach((address, i) => {
            const container = new docker.Container(`${name}-${i + 1}`, {
                ...haproxyContainerInputs(args.imageId, args.seccomp, d, { "/tmp": "rw,noexec,nosuid,nodev,size=1m,mode=1777" }),
                name: resolverName(args.machine, i),
                networksAdvanced: [{ name: args.networkId, ipv4Address: address }],
                envs: [
                    "FLEET_ROLE=resolver",
                    `FLEET_RESOLVER_ANSWER=${args.network.gateway}`,
                    // dnsmasq answers DNS over TCP too: a connection to port 53 is its health.
                    "FLEET_HEALTH_KIND=tcp",
                    "HEALTH_PORT=53",
                ],
                labels: [
                    { label: "fleet.machine", value: args.machine },
                    { label: "fleet.role", value: "resolver" },
                ],
            }, frontOptions(this, args.provider, [...args.dependsOn, ...this.started.slice(-1)]));
            const started = new command.local.Command(`${name}-${i + 1}-start`, {
                create: startCommand({ container: container.name, service: resolverName(args.machine, i), machine: args.machine, pidsLimit: d.pidsLimit, waitSeconds: d.waitSeconds, stableSeconds: 0 }),
                environment: { DOCKER_HOST: args.dockerHost },
                triggers: [container.id, d.pidsLimit],
            }, { parent: this, dependsOn: [container] });
            this.containers.push(container);
            this.started.push(started);
        });
        this.registerOutputs({ containers: this.containers.map((c) => c.name) });
    }
}
