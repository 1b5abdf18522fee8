/**
 * A peer front: an HAProxy container that stands in, on this host, for a service of the other
 * host (fleet/model/plan.ts `PeerPlan`). It holds the service's own name on the host network and
 * forwards its port to the address the peer stack's `endpoints` output gives
 * (fleet/render/front.ts renderPeerFrontConfig). The host's containers reach a peer's service
 * exactly as they reach one of their own host, so a service moved between hosts swaps this
 * container for the service's listen sections in the host front and replaces no service container.
 *
 * It publishes no host port. Its name is fixed (one per used service), so a replacement (the
 * peer's address moved) removes the old one first; `fleet diff` names it.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { FRONT_DEFAULTS } from "../fleet/model/defaults";
import { PeerPlan } from "../fleet/model/plan";
import { peerFrontName } from "../fleet/render/front";
import { frontEnvs, frontOptions, HaproxyComponentArgs, haproxyContainerInputs, peerFrontTmpfs } from "./haproxyContainer";
import { startCommand } from "./serviceContainer";

/** `dependsOn`: the host's check of the peer fronts' configurations, and what else its create waits for. */
export interface PeerFrontArgs extends HaproxyComponentArgs {
    peer: PeerPlan;
    machine: string;
    /** Its configuration (fleet/render/front.ts renderPeerFrontConfig), known once the peer stack's output is. */
    config: pulumi.Input<string>;
    /** The peer stack's endpoint it forwards to, checked (components/fleetHost.ts peerEndpoint). */
    endpoint: pulumi.Output<string>;
    /** The host's network, by id: the front holds the service's name there. */
    networkId: pulumi.Input<string>;
}

export class PeerFront extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** Its start command: run once it is running, healthy and under its PIDs limit. */
    public readonly started: command.local.Command;
    /** The peer stack's endpoint it forwards to. */
    public readonly endpoint: pulumi.Output<string>;

    constructor(name: string, args: PeerFrontArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:containers:PeerFront", name, {}, opts);
        const p = args.peer;
        const d = FRONT_DEFAULTS;
        this.container = new docker.Container(name, {
            ...haproxyContainerInputs(args.imageId, args.seccomp, d, peerFrontTmpfs()),
            name: peerFrontName(p.name),
            networksAdvanced: [{ name: args.networkId, aliases: [p.name] }],
            envs: frontEnvs(args.config),
            labels: [
                // Not fleet.service: the start script finds a service's containers by that label,
                // and the service may run on this host later (a move), beside this front.
                { label: "fleet.peer", value: p.service },
                { label: "fleet.peer-machine", value: p.machine },
                { label: "fleet.machine", value: args.machine },
                { label: "fleet.role", value: "peer-front" },
            ],
        }, frontOptions(this, args.provider, args.dependsOn));
        // No predecessor: no container carries the label fleet.service=<its name>.
        this.started = new command.local.Command(`${name}-start`, {
            create: startCommand({ container: this.container.name, service: peerFrontName(p.name), machine: args.machine, pidsLimit: d.pidsLimit, waitSeconds: d.waitSeconds, stableSeconds: 0 }),
            environment: { DOCKER_HOST: args.dockerHost },
            triggers: [this.container.id, d.pidsLimit],
        }, { parent: this, dependsOn: [this.container] });
        this.endpoint = args.endpoint;
        this.registerOutputs({ containerName: this.container.name, endpoint: this.endpoint });
    }
}
