/**
 * One service's container on its host: image pulled by digest, non-root, read-only root,
 * capabilities dropped, no-new-privileges, the baseline seccomp profile, limits by family,
 * health-gated (`pulumi up` waits for healthy and names the service that is not), state on
 * named volumes that outlive the container.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { APP_GID, APP_UID, FRONT_DEFAULTS, LOG_DEFAULTS, LOG_OPTS, RESTART_POLICY, SBOM_INDEX, TAKEOVER_DEFAULTS } from "../fleet/model/defaults";
import { cpusInput } from "../fleet/model/dockerForms";
import { goDuration } from "../fleet/model/duration";
import { ContainerPlan } from "../fleet/model/plan";

/**
 * Every change to a container replaces it (pulumi/pulumi pkg/resource/deploy/step_generator.go
 * `applyReplaceOnChanges`: the path `*` contains every property):
 * - the provider's Update applies only the restart policy and resource limits
 *   (resourceDockerContainerUpdate's attribute list) and keeps the state it planned: a changed
 *   healthcheck, tmpfs or init would show as updated and never reach the running container;
 * - a container whose create failed its health wait (the Docker API proxy's: the provider waits
 *   for it; a service container's wait is its start command's) is in the state with init errors,
 *   and with `*` the engine replaces it on the next `up` even when nothing else changed (the same function,
 *   the special key `#initerror`; tested by TestApplyReplaceOnChangesEmptyDetailedDiff, "Empty
 *   diff and non-empty replaceOnChanges w/ init errors"). Without it the engine sends an empty
 *   update, which the bridged provider answers with success because nothing differs, and the
 *   second `up` turns green with the container still unhealthy (pulumi/pulumi#21458).
 */
export const CONTAINER_REPLACE_ON_CHANGES = ["*"];

/** Starts a container in its predecessor's place and confirms it healthy (the script says how). */
export const START_SCRIPT = "scripts/container-start.sh";

/** The host front, as a service container's start command needs it. */
export interface StartFront {
    /** The host front container's name. */
    name: string;
    /** The fleet network's name: a container is admitted as `<container>.<network>`. */
    network: string;
    /** The service's listen sections in the front (fleet/render/front.ts listenNames). */
    listens: string[];
}

/** What a `<name>-start` command is told (scripts/container-start.sh, its usage). */
export interface StartArgs {
    container: pulumi.Input<string>;
    service: string;
    machine: string;
    pidsLimit: number;
    waitSeconds: number;
    stableSeconds: number;
    /**
     * `overlap`: the new container starts beside the old one, which is drained and stopped once
     * the new one serves. `stop-first`: the old one stops first (a GPU service: one card holds one
     * copy of its model). @default "stop-first"
     */
    takeover?: "overlap" | "stop-first";
    /** The service's front; none for the Docker API proxy. */
    front?: StartFront;
}

/**
 * The `create` of a container's `<name>-start` command: its PIDs limit before its first process
 * (the provider has no input for it, CIS Docker 5.29), the container started beside or after its
 * predecessors of the same service and host, confirmed healthy (and, when it replaced one, stable
 * for `stableSeconds`), admitted to its front, its predecessors drained and stopped; or stopped
 * again with its predecessors serving. Its run fails, naming the service, while the container is
 * not healthy; unlike a create's init error, a command that never succeeded survives `pulumi
 * refresh`, so no later `up` turns green over it.
 */
export function startCommand(a: StartArgs): pulumi.Output<string> {
    const base = pulumi.interpolate`bash ${START_SCRIPT} ${a.container} ${a.service} ${a.machine} ${a.pidsLimit} ${a.waitSeconds} ${a.stableSeconds}`;
    if (a.front === undefined) return base;
    const f = FRONT_DEFAULTS;
    return pulumi.interpolate`${base} ${a.takeover ?? "stop-first"} ${a.front.name} ${a.front.network} ${a.front.listens.join(",")} ${f.admitSeconds} ${f.drainSeconds}`;
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

/**
 * How a service's container takes over: beside the old one, unless it asks for GPU compute (its
 * model's memory on the card twice may not fit; an NVML-only request holds none).
 */
export function takeoverOf(c: Pick<ContainerPlan, "gpu">): "overlap" | "stop-first" {
    return c.gpu?.capabilities.includes("gpu") ? "stop-first" : "overlap";
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
    /** The volume of the host's SBOM index, by name: mounted read-only, read by the entrypoint's start report. */
    sbomIndexVolume: pulumi.Input<string>;
    /** `seccomp=<json>` of the profile this container runs under. */
    seccomp: string;
    /** Extra security options (AppArmor for the supervisor). */
    extraSecurityOpts?: string[];
    /** Extra networks and environment, for the supervisor's Docker API path. */
    extraNetworks?: pulumi.Input<string>[];
    extraEnv?: Record<string, pulumi.Input<string>>;
    provider: docker.Provider;
    /** DOCKER_HOST for the start command. */
    dockerHost: string;
    /**
     * The host's resolvers, by address: every service's name resolves to the host front there
     * (fleet/model/network.ts). Fixed addresses, so a resolver's replacement replaces no container.
     */
    dns: string[];
    /** The host front: it holds the service's ports; the start command admits the container to it. */
    front: StartFront;
    /** What the container's create waits for (the preflight, the GPU probe, the proxy's start). */
    dependsOn: pulumi.Input<pulumi.Resource>[];
    /**
     * What its start waits for: the start commands of the core tier and of its lane
     * predecessor (components/fleetHost.ts). Creates run at once; starts keep the tier order.
     * @default nothing beyond its own container
     */
    startAfter?: pulumi.Resource[];
}

export class ServiceContainer extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The command that starts the container and confirms it healthy: what later tiers wait for. */
    public readonly started: command.local.Command;
    /**
     * The container's name: `<resource name>-<7 hex>`, Pulumi's auto-name, new on each
     * replacement (two containers of a service exist during one). Find a service's container by
     * its labels `fleet.service` and `fleet.machine`, or by this stack output.
     */
    public readonly containerName: pulumi.Output<string>;
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
            `FLEET_SBOM_INDEX=${SBOM_INDEX.mountPath}/${SBOM_INDEX.file}`,
            ...Object.entries(args.extraEnv ?? {}).map(([k, v]) => pulumi.interpolate`${k}=${v}`),
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
            // No name: the provider's auto-name (pulumi-docker provider/resources.go
            // SetAutonaming; pulumi-terraform-bridge info/autonaming.go AutoName: the resource
            // name, "-", 7 random hex), kept across updates and drawn again for a replacement
            // (pulumi/pulumi step_generator.go: "If we are going to perform a replacement, we
            // need to recompute the default values"). A fixed name would forbid the new
            // container while the old one exists.
            image: image.imageId,
            user: `${APP_UID}:${APP_GID}`,
            readOnly: c.readOnlyRootfs,
            tmpfs: c.tmpfs,
            mounts: [
                ...c.volumes.map((v, i) => ({ type: "volume", source: volumes[i].name, target: v.target })),
                // A fixed input: a publish changes the index's content, never the container.
                { type: "volume", source: args.sbomIndexVolume, target: SBOM_INDEX.mountPath, readOnly: true },
            ],
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
            // No ports and no alias: the host front holds the ports, and the resolvers answer the
            // service's name with the front's address (components/hostFront.ts). The front reaches
            // the container by its own name once the start command admitted it.
            dns: args.dns,
            networksAdvanced: [
                { name: args.networkId },
                ...(args.extraNetworks ?? []).map((n) => ({ name: n })),
            ],
            envs: env,
            labels,
            healthcheck: healthcheckInput(h),
            // Created, not started: the start command sets the PIDs limit first, then starts it
            // (a GPU service's after its predecessor stopped: the card's memory).
            start: false,
            // The provider leaves the container's running state alone. With the default, its
            // Read after the create (resourceDockerContainerRead: stopped and must_run, so
            // must_run := false) would differ from the config on every later `up`, and
            // replaceOnChanges would replace the container each time. A container stopped by
            // hand is named by the drift check (scripts/drift-check.sh), not restarted by an `up`.
            mustRun: false,
            deviceRequests: c.gpu ? [{ driver: c.gpu.driver, deviceIds: c.gpu.deviceIds, capabilities: c.gpu.capabilities }] : undefined,
            removeVolumes: false,
        }, {
            ...childOpts,
            // Created before the old one is deleted, overriding the provider's default
            // (pulumi-docker provider/resources.go: docker_container DeleteBeforeReplace; the
            // option wins, pulumi/pulumi step_generator.go "deleteBeforeReplace := diff..."). The
            // old one stays a pending delete until the whole `up` succeeded (step.go,
            // CreateStep.Apply), so the start command can go back to it.
            deleteBeforeReplace: false,
            replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES,
            dependsOn: args.dependsOn,
        });

        this.started = new command.local.Command(`${name}-start`, {
            create: startCommand({
                container: this.container.name, service: c.service, machine: args.machine,
                pidsLimit: c.limits.pidsLimit, waitSeconds: h.waitTimeoutSeconds, stableSeconds: TAKEOVER_DEFAULTS.stableSeconds,
                takeover: takeoverOf(c),
                front: args.front,
            }),
            environment: { DOCKER_HOST: args.dockerHost },
            triggers: [this.container.id, c.limits.pidsLimit],
        }, {
            parent: this,
            dependsOn: [this.container, ...(args.startAfter ?? [])],
            // Its first name: it only set the PIDs limit and confirmed health then.
            aliases: [{ name: `${name}-pids-limit` }],
        });

        this.containerName = this.container.name;
        this.imageId = image.imageId;
        this.imageDigest = pulumi.output(digest);
        this.registerOutputs({ containerName: this.containerName, imageId: this.imageId, imageDigest: this.imageDigest });
    }
}
