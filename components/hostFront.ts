/**
 * The host front: one HAProxy in the host's network namespace that owns every service's published
 * ports, on the stack's publish address and on the fleet network's gateway, and forwards each to
 * the service's admitted containers (fleet/render/front.ts). A replacement starts the new container
 * beside the old one and switches with no lost request (scripts/container-start.sh); a container
 * cannot take over host ports another holds, and one front for the host costs the engine one start
 * where a front per service cost one per service (docs/performance.md).
 *
 * The host's network namespace is the one exception to CIS Docker 5.9 (docs/design.md,
 * "Replacing a container"): Docker cannot add a published port to a running container, so a
 * front in its own namespace would be replaced, dropping every service's connections, whenever
 * a service or a port is added. Here a reload adds them. It runs non-root, read-only, without
 * any capability (its ports are above 1024).
 *
 * Its configuration is not a container input: its command copies it into the front's volume and
 * reloads (scripts/host-front.sh), so a new service reloads the front instead of replacing it. The
 * volume also keeps the admitted slots (the server-state file), so a replaced or restarted front
 * serves the containers admitted before.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { HOST_FRONT } from "../fleet/model/defaults";
import { FleetNetwork } from "../fleet/model/network";
import { hostFrontName } from "../fleet/render/front";
import { frontOptions, HaproxyComponentArgs, haproxyContainerInputs } from "./haproxyContainer";

/** Copies the configuration into the front's volume and starts or reloads it (the script says how). */
export const HOST_FRONT_SCRIPT = "scripts/host-front.sh";

/** `dependsOn`: the preflight, and the network whose gateway it listens on. */
export interface HostFrontArgs extends HaproxyComponentArgs {
    machine: string;
    network: FleetNetwork;
    /** Its configuration (fleet/render/front.ts renderHostFrontConfig). */
    config: string;
    /** Where its own health answer listens on the gateway (fleet/render/front.ts hostFrontHealthPort). */
    healthPort: number;
    /** Its PIDs limit, set by its command (fleet/render/front.ts hostFrontPidsLimit). */
    pidsLimit: number;
}

export class HostFront extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** Its command: run once the front runs the current configuration, healthy. */
    public readonly started: command.local.Command;
    /** Its fixed name, `fleet-<machine>-front`. */
    public readonly containerName: string;

    constructor(name: string, args: HostFrontArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:containers:HostFront", name, {}, opts);
        const h = HOST_FRONT;
        this.containerName = hostFrontName(args.machine);
        const volume = new docker.Volume(`${name}-state`, {
            name: this.containerName,
            labels: [{ label: "fleet.machine", value: args.machine }, { label: "fleet.role", value: "host-front" }],
        }, { parent: this, provider: args.provider, deleteBeforeReplace: true });
        this.container = new docker.Container(name, {
            ...haproxyContainerInputs(args.imageId, args.seccomp, h),
            name: this.containerName,
            networkMode: "host",
            mounts: [{ type: "volume", source: volume.name, target: h.runDir }],
            envs: [
                "FLEET_ROLE=host-front",
                "FLEET_HEALTH_KIND=http",
                `HEALTH_HOST=${args.network.gateway}`,
                `HEALTH_PORT=${args.healthPort}`,
                "FLEET_HEALTH_PATH=/health",
                // fleet-front-ctl's name of a free slot, from the one place it is defined.
                `FLEET_FRONT_FREE_SLOT=${h.freeSlot}`,
            ],
            labels: [
                { label: "fleet.machine", value: args.machine },
                { label: "fleet.role", value: "host-front" },
            ],
        }, frontOptions(this, args.provider, args.dependsOn));
        this.started = new command.local.Command(`${name}-start`, {
            create: pulumi.interpolate`bash ${HOST_FRONT_SCRIPT} ${this.containerName} ${args.machine} ${args.imageId} ${args.pidsLimit} ${h.waitSeconds}`,
            // A changed configuration runs the command again (no `update`: the create runs), which reloads.
            // So does a changed PIDs limit (in `create`): it follows the host's containers, and as
            // a trigger it replaced the command on every service added or moved, for a reload.
            stdin: args.config,
            environment: { DOCKER_HOST: args.dockerHost },
            triggers: [this.container.id],
        }, { parent: this, dependsOn: [this.container] });
        this.registerOutputs({ containerName: this.containerName });
    }
}
