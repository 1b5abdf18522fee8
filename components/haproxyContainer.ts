/**
 * What the fleet's HAProxy containers share (the host front, its resolvers, the peer fronts): the
 * image's non-root user, a read-only root, no capability, the proxy's seccomp profile, small
 * limits and log rotation; created stopped, and replaced on any change.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { APP_GID, APP_UID, FRONT_DEFAULTS, LOG_DEFAULTS, LOG_OPTS, RESTART_POLICY } from "../fleet/model/defaults";
import { cpusInput } from "../fleet/model/dockerForms";
import { CONTAINER_REPLACE_ON_CHANGES, healthcheckInput } from "./serviceContainer";

/** What every component running a container of the HAProxy image is given. */
export interface HaproxyComponentArgs {
    /** The HAProxy image, by id. */
    imageId: pulumi.Input<string>;
    /** `seccomp=<json>` it runs under. */
    seccomp: string;
    provider: docker.Provider;
    /** DOCKER_HOST for its command. */
    dockerHost: string;
    /** What its create waits for. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** A container's limits. */
export interface SmallLimits {
    memoryMb: number;
    cpus: number;
    cpuShares: number;
}

/**
 * What every container of the HAProxy image runs as: read-only, non-root, no capability, the
 * proxy's seccomp profile, its own small limits and log rotation. `tmpfs`: what it writes.
 */
export function haproxyContainerInputs(imageId: pulumi.Input<string>, seccomp: string, limits: SmallLimits, tmpfs?: Record<string, string>): docker.ContainerArgs {
    const d = FRONT_DEFAULTS;
    return {
        image: imageId,
        user: `${APP_UID}:${APP_GID}`,
        readOnly: true,
        ...(tmpfs ? { tmpfs } : {}),
        capabilities: { drops: ["ALL"] },
        securityOpts: ["no-new-privileges:true", seccomp],
        init: false,
        restart: RESTART_POLICY,
        logDriver: LOG_DEFAULTS.driver,
        logOpts: { ...LOG_OPTS },
        memory: limits.memoryMb,
        memorySwap: limits.memoryMb,
        cpus: cpusInput(limits.cpus),
        cpuShares: limits.cpuShares,
        healthcheck: healthcheckInput(d.health),
        // Created stopped, like a service's container (its PIDs limit first), and its running
        // state left to a start command (see ServiceContainer).
        start: false,
        mustRun: false,
    };
}

/**
 * A fixed-name container's resource options (the host front: the host's ports; a resolver: its
 * address; a peer front: the peer's name): the old one goes first; every input replaces it, as a
 * service's container.
 */
export function frontOptions(parent: pulumi.Resource, provider: docker.Provider, dependsOn: pulumi.Input<pulumi.Resource>[]): pulumi.CustomResourceOptions {
    return { parent, provider, deleteBeforeReplace: true, replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES, dependsOn };
}

/** The tmpfs a peer front writes its configuration and runtime API socket to. */
export function peerFrontTmpfs(): Record<string, string> {
    return { [FRONT_DEFAULTS.runDir]: `rw,noexec,nosuid,nodev,size=1m,mode=0700,uid=${APP_UID},gid=${APP_GID}` };
}

/** A peer front's environment: its configuration, and the loopback health answer fleet-health asks. */
export function frontEnvs(config: pulumi.Input<string>): pulumi.Input<string>[] {
    return [
        pulumi.interpolate`FLEET_FRONT_CONFIG=${config}`,
        "FLEET_HEALTH_KIND=http",
        `HEALTH_PORT=${FRONT_DEFAULTS.healthPort}`,
        "FLEET_HEALTH_PATH=/health",
    ];
}
