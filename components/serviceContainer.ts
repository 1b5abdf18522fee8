/**
 * One service's container on its host: image pulled by digest, non-root, read-only root,
 * capabilities dropped, no-new-privileges, the baseline seccomp profile, limits by family,
 * health-gated (`pulumi up` waits for healthy and names the service that is not), state on
 * named volumes that outlive the container.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { APP_GID, APP_UID, LOG_DEFAULTS, LOG_OPTS, RESTART_POLICY } from "../fleet/model/defaults";
import { cpusInput } from "../fleet/model/dockerForms";
import { goDuration } from "../fleet/model/duration";
import { ContainerPlan } from "../fleet/model/plan";

/**
 * Every change to a container replaces it (pulumi/pulumi pkg/resource/deploy/step_generator.go
 * `applyReplaceOnChanges`: the path `*` contains every property):
 * - the provider's Update applies only the restart policy and resource limits
 *   (resourceDockerContainerUpdate's attribute list) and keeps the state it planned: a changed
 *   healthcheck, tmpfs or init would show as updated and never reach the running container;
 * - a container whose create failed its health wait is in the state with init errors, and with
 *   `*` the engine replaces it on the next `up` even when nothing else changed (the same function,
 *   the special key `#initerror`; tested by TestApplyReplaceOnChangesEmptyDetailedDiff, "Empty
 *   diff and non-empty replaceOnChanges w/ init errors"). Without it the engine sends an empty
 *   update, which the bridged provider answers with success because nothing differs, and the
 *   second `up` turns green with the container still unhealthy (pulumi/pulumi#21458).
 */
export const CONTAINER_REPLACE_ON_CHANGES = ["*"];

/** Sets a container's PIDs limit, then confirms that it is healthy (the script says why). */
export const READY_SCRIPT = "scripts/container-ready.sh";

/**
 * The `create` of a container's `<name>-pids-limit` command: the PIDs limit (the provider has no
 * input for it, CIS Docker 5.29), then a health confirmation that outlives a refresh. Its run
 * fails, naming the service, while the container is not healthy after `waitSeconds`.
 */
export function readyCommand(container: pulumi.Input<string>, service: string, pidsLimit: number, waitSeconds: number): pulumi.Output<string> {
    return pulumi.interpolate`bash ${READY_SCRIPT} ${container} ${service} ${pidsLimit} ${waitSeconds}`;
}

/** The provider's healthcheck for the images' stdlib helper, durations in its canonical form. */
export function healthcheckInput(h: { intervalSeconds: number; timeoutSeconds: number; startPeriodSeconds: number; startIntervalSeconds: number; retries: number }): docker.types.input.ContainerHealthcheck {
    return {
        tests: ["CMD", "/usr/local/bin/fleet-health"],
        interval: goDuration(h.intervalSeconds),
        timeout: goDuration(h.timeoutSeconds),
        startPeriod: goDuration(h.startPeriodSeconds),
        startInterval: goDuration(h.startIntervalSeconds),
        retries: h.retries,
    };
}

export interface ServiceContainerArgs {
    plan: ContainerPlan;
    machine: string;
    /** The image ref (tag@digest once pushed). */
    imageRef: pulumi.Input<string>;
    /** The image's manifest digest, for the observability labels; the pulled image's repo digest when absent (a pinned image). */
    imageDigest?: pulumi.Input<string>;
    /** Commit the image was built from, or its content tag. */
    gitSha: string;
    /**
     * The id of the host's network. By id, not name: a network recreated under the same name
     * (removed by hand, then `pulumi up`) has a new id, so its containers are replaced and join
     * it again; the provider never reads networks_advanced back, so by name they would stay
     * disconnected.
     */
    networkId: pulumi.Input<string>;
    /** `seccomp=<json>` of the profile this container runs under. */
    seccomp: string;
    /** Extra security options (AppArmor for the supervisor). */
    extraSecurityOpts?: string[];
    /** Extra networks and environment, for the supervisor's Docker API path. */
    extraNetworks?: pulumi.Input<string>[];
    extraEnv?: Record<string, pulumi.Input<string>>;
    /** Peer endpoints, by environment variable name. */
    peerEnv?: Record<string, pulumi.Input<string>>;
    provider: docker.Provider;
    /** DOCKER_HOST for the PIDs-limit command. */
    dockerHost: string;
    dependsOn: pulumi.Input<pulumi.Resource>[];
    /**
     * What the PIDs-limit command waits for besides its container: the host's other containers,
     * resolved once the host has made them all. Run among the starts, the `docker update`s
     * slowed them (docs/performance.md).
     * @default only its own container
     */
    pidsLimitAfter?: Promise<pulumi.Resource[]>;
}

export class ServiceContainer extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly containerName: string;
    /** Image id (sha256 of the image config) the container runs. */
    public readonly imageId: pulumi.Output<string>;
    /** Manifest digest of the image, as labelled on the container. */
    public readonly imageDigest: pulumi.Output<string>;

    constructor(name: string, args: ServiceContainerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:containers:ServiceContainer", name, {}, opts);
        const c = args.plan;
        const childOpts = { parent: this, provider: args.provider };

        const image = new docker.RemoteImage(name, { name: args.imageRef, keepLocally: true }, childOpts);
        const digest = args.imageDigest ?? image.repoDigest.apply((d) => d.slice(d.indexOf("@") + 1));
        const volumes = c.volumes.map((v) => new docker.Volume(`${name}-${v.purpose}`, {
            name: v.name,
            labels: [{ label: "fleet.service", value: c.service }, { label: "fleet.machine", value: args.machine }],
        }, {
            ...childOpts,
            // A destroy or a replacement never drops a service's data: Docker reuses a volume
            // of the same name when the resource is created again.
            retainOnDelete: true,
        }));

        const env: pulumi.Input<string>[] = [
            ...Object.entries(c.env).map(([k, v]) => `${k}=${v}`),
            pulumi.interpolate`FLEET_IMAGE=${args.imageRef}`,
            pulumi.interpolate`FLEET_IMAGE_DIGEST=${digest}`,
            `FLEET_GIT_SHA=${args.gitSha}`,
            ...Object.entries({ ...args.peerEnv, ...args.extraEnv }).map(([k, v]) => pulumi.interpolate`${k}=${v}`),
        ];
        const labels = [
            { label: "fleet.service", value: c.service },
            { label: "fleet.family", value: c.family },
            { label: "fleet.machine", value: args.machine },
            { label: "fleet.tier", value: c.tier },
            { label: "fleet.git-sha", value: args.gitSha },
            { label: "fleet.image-digest", value: digest },
            // Read by the read-only-rootfs policy: an exception is declared in the data, with why.
            ...(c.rootfsException ? [{ label: "fleet.rootfs-exception", value: c.rootfsException }] : []),
        ];
        const h = c.health;
        this.container = new docker.Container(name, {
            name: c.name,
            image: image.imageId,
            user: `${APP_UID}:${APP_GID}`,
            readOnly: c.readOnlyRootfs,
            tmpfs: c.tmpfs,
            mounts: c.volumes.map((v, i) => ({ type: "volume", source: volumes[i].name, target: v.target })),
            capabilities: { drops: ["ALL"] },
            securityOpts: ["no-new-privileges:true", args.seccomp, ...(args.extraSecurityOpts ?? [])],
            // tini is PID 1 in every image; Docker's init on top would be a second init.
            init: false,
            restart: RESTART_POLICY,
            logDriver: LOG_DEFAULTS.driver,
            logOpts: { ...LOG_OPTS },
            memory: c.limits.memoryMb,
            // No swap beyond the memory limit: a swapping model server is slower than a restarted one.
            memorySwap: c.limits.memoryMb,
            shmSize: c.limits.shmMb,
            cpus: cpusInput(c.limits.cpus),
            cpuShares: c.limits.cpuShares,
            // One host address, never 0.0.0.0 (CIS Docker 5.14): the one other hosts are told.
            ports: [c.ports.service, c.ports.health, ...c.ports.metrics].map((p) => ({ internal: p, external: p, ip: c.publishAddress, protocol: "tcp" })),
            networksAdvanced: [
                { name: args.networkId, aliases: [c.name] },
                ...(args.extraNetworks ?? []).map((n) => ({ name: n })),
            ],
            envs: env,
            labels,
            healthcheck: healthcheckInput(h),
            wait: true,
            waitTimeout: h.waitTimeoutSeconds,
            deviceRequests: c.gpu ? [{ driver: c.gpu.driver, deviceIds: c.gpu.deviceIds, capabilities: c.gpu.capabilities }] : undefined,
            removeVolumes: false,
        }, {
            ...childOpts,
            // Host ports are fixed: the old container must release them before the new one starts.
            deleteBeforeReplace: true,
            replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES,
            dependsOn: args.dependsOn,
        });

        // The provider has no pidsLimit input (CIS Docker 5.29); `docker update` sets it on the
        // created container and runs again whenever the container is replaced. A container
        // restarted by Docker keeps the limit; one recreated outside Pulumi does not. The same
        // run confirms the container is healthy: unlike the create's init error, a command that
        // never succeeded survives `pulumi refresh`, so no later `up` turns green while the
        // container is unhealthy (scripts/container-ready.sh).
        new command.local.Command(`${name}-pids-limit`, {
            create: readyCommand(this.container.name, c.service, c.limits.pidsLimit, h.waitTimeoutSeconds),
            environment: { DOCKER_HOST: args.dockerHost },
            triggers: [this.container.id, c.limits.pidsLimit],
        }, { parent: this, dependsOn: this.pidsLimitAfter(args.pidsLimitAfter) });

        this.containerName = c.name;
        this.imageId = image.imageId;
        this.imageDigest = pulumi.output(digest);
        this.registerOutputs({ containerName: this.containerName, imageId: this.imageId, imageDigest: this.imageDigest });
    }

    private pidsLimitAfter(others: Promise<pulumi.Resource[]> | undefined): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
        const own: pulumi.Resource = this.container;
        return others ? others.then((rs) => [own, ...rs]) : [own];
    }
}
