/**
 * A service's front: an HAProxy container that owns the service's published host ports and its
 * network alias, and forwards each port to the service's admitted containers (fleet/render/front.ts).
 * It lets a replacement start the new container beside the old one and switch with no lost
 * request (scripts/container-start.sh); a container cannot take over host ports another holds.
 *
 * Created stopped: the service's start command sets its PIDs limit and starts it (with the
 * service's first container, or after a replacement of the front itself).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { APP_GID, APP_UID, FRONT_DEFAULTS, LOG_DEFAULTS, LOG_OPTS, RESTART_POLICY } from "../fleet/model/defaults";
import { cpusInput } from "../fleet/model/dockerForms";
import { ContainerPlan } from "../fleet/model/plan";
import { forwardedPorts, frontName } from "../fleet/render/front";
import { CONTAINER_REPLACE_ON_CHANGES, healthcheckInput } from "./serviceContainer";

export interface ServiceFrontArgs {
    plan: ContainerPlan;
    machine: string;
    /** Its configuration (fleet/render/front.ts renderFrontConfig). */
    config: string;
    /** The HAProxy image, by id. */
    imageId: pulumi.Input<string>;
    /** The host's network (the front holds the service's alias there) and its backends network, by id. */
    networkId: pulumi.Input<string>;
    backends: docker.Network;
    /** `seccomp=<json>` it runs under. */
    seccomp: string;
    provider: docker.Provider;
    /** The host's check of every front's configuration, and what else its create waits for. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

/**
 * What every HAProxy front runs as (a service's front, a peer front): read-only, non-root, no
 * capability, the proxy's seccomp profile, its own small limits and log rotation.
 */
export function haproxyContainerInputs(imageId: pulumi.Input<string>, seccomp: string): docker.ContainerArgs {
    const d = FRONT_DEFAULTS;
    return {
        image: imageId,
        user: `${APP_UID}:${APP_GID}`,
        readOnly: true,
        // Its configuration and runtime API socket; nothing else is written.
        tmpfs: { [d.runDir]: `rw,noexec,nosuid,nodev,size=1m,mode=0700,uid=${APP_UID},gid=${APP_GID}` },
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true", seccomp],
        init: false,
        restart: RESTART_POLICY,
        logDriver: LOG_DEFAULTS.driver,
        logOpts: { ...LOG_OPTS },
        memory: d.memoryMb,
        memorySwap: d.memoryMb,
        cpus: cpusInput(d.cpus),
        cpuShares: d.cpuShares,
        healthcheck: healthcheckInput(d.health),
        // Created stopped, like a service's container (its PIDs limit first), and its running
        // state left to a start command (see ServiceContainer).
        start: false,
        mustRun: false,
    };
}

/**
 * A front's resource options: a fixed name (and a service front's fixed host ports), so the old
 * one goes first; every input replaces it, as a service's container.
 */
export function frontOptions(parent: pulumi.Resource, provider: docker.Provider, dependsOn: pulumi.Input<pulumi.Resource>[]): pulumi.CustomResourceOptions {
    return { parent, provider, deleteBeforeReplace: true, replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES, dependsOn };
}

/** A front's environment: its configuration, and the loopback health answer fleet-health asks. */
export function frontEnvs(config: pulumi.Input<string>): pulumi.Input<string>[] {
    return [
        pulumi.interpolate`FLEET_FRONT_CONFIG=${config}`,
        "FLEET_HEALTH_KIND=http",
        `HEALTH_PORT=${FRONT_DEFAULTS.healthPort}`,
        "FLEET_HEALTH_PATH=/health",
    ];
}

export class ServiceFront extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The host's backends network it forwards to. */
    public readonly backends: docker.Network;
    /** Its fixed name, `<container name>-front`. */
    public readonly containerName: pulumi.Output<string>;

    constructor(name: string, args: ServiceFrontArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:containers:ServiceFront", name, {}, opts);
        const c = args.plan;
        this.container = new docker.Container(name, {
            ...haproxyContainerInputs(args.imageId, args.seccomp),
            name: frontName(c.name),
            // One host address, never 0.0.0.0 (CIS Docker 5.14): the one other hosts are told.
            // The ports its configuration listens on (one list: fleet/render/front.ts forwardedPorts).
            ports: forwardedPorts(c).map(({ port }) => ({ internal: port, external: port, ip: c.publishAddress, protocol: "tcp" })),
            networksAdvanced: [
                // Peers on the host reach the service by its name: the front holds it.
                { name: args.networkId, aliases: [c.name] },
                { name: args.backends.id },
            ],
            envs: frontEnvs(args.config),
            labels: [
                // Not fleet.service: the start script finds a service's containers by that label.
                { label: "fleet.front", value: c.service },
                { label: "fleet.machine", value: args.machine },
                { label: "fleet.role", value: "front" },
            ],
        }, frontOptions(this, args.provider, args.dependsOn));
        // `fleet diff` names a front that is replaced: its service stops answering until the start
        // command starts the new one.
        this.backends = args.backends;
        this.containerName = this.container.name;
        this.registerOutputs({ containerName: this.containerName });
    }
}
