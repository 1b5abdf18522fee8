/**
 * One host's running fleet: the preflight, a bridge network, the supervisor's Docker API proxy,
 * and per planned service a ServiceFront (its host ports and its name on the network) and a
 * ServiceContainer behind it. Core services
 * (002 §H phase 1) come up healthy before the rest.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BuildPlan, PROXY_NAME } from "../fleet/imageplan/buildPlan";
import { gpuProbePlan, requestedGpuIds } from "../fleet/imageplan/gpuProbe";
import { MIN_DOCKER_VERSION } from "../fleet/model/defaults";
import { HostPlan } from "../fleet/model/plan";
import { baselineProfile, seccompOpt, supervisorProfile } from "../fleet/security/seccomp";
import { DockerApiProxy } from "./dockerApiProxy";
import { GpuProbe } from "./gpuProbe";
import { HostImages } from "./hostImages";
import { ImageSettings } from "./image";
import { HostPreflight } from "./preflight";
import { backendAlias, backendsNetworkName, renderFrontConfig } from "../fleet/render/front";
import { ServiceContainer } from "./serviceContainer";
import { ServiceFront } from "./serviceFront";

/** HAProxy's check of a host's front configurations (the script says how). */
export const FRONT_CHECK_SCRIPT = "scripts/front-check.sh";

export interface FleetHostArgs {
    plan: HostPlan;
    build: BuildPlan;
    images: HostImages;
    settings: ImageSettings;
    provider: docker.Provider;
    dockerHost: string;
    /** Run the GPU checks of the preflight and the GPU probe. */
    gpu: boolean;
    minDriverMajor?: number;
    apparmorProfile: string;
    /** `endpoints` of the peer stack, when the host uses services of another host. */
    peerEndpoints?: pulumi.Output<unknown>;
    peerStack?: string;
}

/** The endpoint of `service` in a peer stack's `endpoints` output, or a deploy error saying which. */
function peerEndpoint(endpoints: pulumi.Output<unknown>, service: string, stack: string): pulumi.Output<string> {
    return endpoints.apply((e) => {
        const value = e && typeof e === "object" ? (e as Record<string, unknown>)[service] : undefined;
        if (typeof value !== "string") throw new Error(`stack ${stack} exports no endpoint for ${service}: deploy that stack first (its output 'endpoints' lists what it runs)`);
        return value;
    });
}

export class FleetHost extends pulumi.ComponentResource {
    /** By service name. */
    public readonly containers: Readonly<Record<string, ServiceContainer>>;
    /** Each service's front (its host ports and its name on the host network), by service name. */
    public readonly fronts: Readonly<Record<string, ServiceFront>>;
    public readonly preflight: HostPreflight;
    /** Present when a container makes a GPU device request. */
    public readonly gpuProbe?: GpuProbe;
    public readonly networkName: pulumi.Output<string>;

    constructor(name: string, args: FleetHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:host:FleetHost", name, {}, opts);
        const p = args.plan;
        const provider = args.provider;
        const triggers = [...args.build.families.map((f) => f.tag), ...args.build.services.map((s) => s.tag)];
        this.preflight = new HostPreflight(`${name}-preflight`, {
            machine: p.machine,
            dockerHost: args.dockerHost,
            minDockerVersion: MIN_DOCKER_VERSION,
            gpu: args.gpu,
            minDriverMajor: args.minDriverMajor,
            gpuIds: args.gpu ? requestedGpuIds(p) : [],
            cudaTrack: p.cudaTrack,
            builder: args.settings.builder,
            // The registry cache export needs it (components/image.ts); a load does not.
            triggers,
        }, { parent: this });
        this.gpuProbe = args.gpu ? this.probe(`${name}-gpu-probe`, args, triggers) : undefined;

        const network = new docker.Network(`${name}-net`, {
            name: `fleet-${p.machine}`,
            driver: "bridge",
            labels: [{ label: "fleet.machine", value: p.machine }],
        }, {
            parent: this, provider,
            // Its name is fixed: a replacement created before the old one is deleted would collide with it.
            deleteBeforeReplace: true,
        });

        const haproxy = args.build.proxy ? new DockerApiProxy(`${name}-${PROXY_NAME}`, {
            machine: p.machine,
            run: p.containers.some((c) => c.dockerApi),
            build: args.build.proxy,
            baseImage: args.images.families[args.build.proxy.family].baseRef,
            settings: args.settings,
            provider,
            apparmorProfile: args.apparmorProfile,
            dockerHost: args.dockerHost,
            dependsOn: [this.preflight],
        }, { parent: this }) : undefined;
        const proxy = haproxy?.running;
        const fronts = haproxy ? this.makeFronts(name, args, haproxy, network) : {};

        const baseline = seccompOpt(baselineProfile());
        const builds = new Map(args.build.services.map((b) => [b.spec.service, b]));
        const containers: Record<string, ServiceContainer> = {};
        const core: pulumi.Resource[] = [];
        for (const c of p.containers) {
            // A pinned service (rollback) runs its pinned image; nothing was built for it.
            const image = c.pinnedImage === undefined ? args.images.services[c.service] : undefined;
            const build = builds.get(c.service);
            const supervisor = c.dockerApi && proxy !== undefined;
            const peerEnv = args.peerEndpoints
                ? Object.fromEntries(c.peers.map((x) => [x.env, peerEndpoint(args.peerEndpoints!, x.service, args.peerStack ?? x.machine)]))
                : undefined;
            const sc = new ServiceContainer(c.name, {
                plan: c,
                machine: p.machine,
                imageRef: image?.runRef ?? c.pinnedImage!,
                imageDigest: image?.digest,
                gitSha: build ? build.version.revision || build.version.tag : c.pinnedRevision ?? `pinned ${c.pinnedImage}`,
                networkId: network.id,
                seccomp: supervisor ? seccompOpt(supervisorProfile()) : baseline,
                extraSecurityOpts: supervisor && args.apparmorProfile ? [`apparmor=${args.apparmorProfile}`] : undefined,
                extraNetworks: supervisor ? [proxy!.networkId] : undefined,
                extraEnv: supervisor ? { DOCKER_HOST: proxy!.endpoint } : undefined,
                peerEnv,
                provider,
                dockerHost: args.dockerHost,
                front: { container: fronts[c.service].container, network: backendsNetworkName(p.machine), alias: backendAlias(c.name), backends: fronts[c.service].backends },
                dependsOn: [
                    this.preflight,
                    // Only a GPU request needs the device driver: CPU services deploy without it.
                    ...(c.gpu !== null && this.gpuProbe ? [this.gpuProbe] : []),
                    ...(supervisor ? [proxy!.started] : []),
                ],
                // Core first: the rest of the host starts once the core is healthy. Within a
                // tier, a container starts after its lane predecessor (fleet/model/plan.ts,
                // startLanes). Only starts wait: every container is created at once.
                startAfter: [
                    ...(c.tier === "core" ? [] : core),
                    ...(c.startAfter !== undefined ? [containers[c.startAfter].started] : []),
                ],
            }, { parent: this });
            if (c.tier === "core") core.push(sc.started);
            containers[c.service] = sc;
        }
        this.containers = containers;
        this.fronts = fronts;
        this.networkName = network.name;
        this.registerOutputs({ networkName: this.networkName, containers: Object.keys(containers) });
    }

    /**
     * The host's backends network, one front per service, and before them HAProxy's own check of
     * every front's configuration: a configuration it refuses fails the `up` before any front is
     * replaced.
     */
    private makeFronts(name: string, args: FleetHostArgs, haproxy: DockerApiProxy, network: docker.Network): Record<string, ServiceFront> {
        const p = args.plan;
        const backends = new docker.Network(`${name}-backends`, {
            name: backendsNetworkName(p.machine),
            driver: "bridge",
            // Fronts and admitted containers only, no route out: egress is the host network's.
            internal: true,
            labels: [{ label: "fleet.machine", value: p.machine }],
        }, { parent: this, provider: args.provider, deleteBeforeReplace: true });
        const configs = Object.fromEntries(p.containers.map((c) => [c.service, renderFrontConfig(c, p.machine)]));
        const check = new command.local.Command(`${name}-fronts-check`, {
            create: pulumi.interpolate`bash ${FRONT_CHECK_SCRIPT} ${haproxy.imageId}`,
            stdin: JSON.stringify(configs),
            environment: { DOCKER_HOST: args.dockerHost },
            triggers: [haproxy.imageId, JSON.stringify(configs)],
        }, { parent: this });
        const seccomp = seccompOpt(supervisorProfile());
        return Object.fromEntries(p.containers.map((c) => [c.service, new ServiceFront(`${c.name}-front`, {
            plan: c,
            machine: p.machine,
            config: configs[c.service],
            imageId: haproxy.imageId,
            networkId: network.id,
            backends,
            // HAProxy runs under the profile the Docker API proxy runs it under.
            seccomp,
            provider: args.provider,
            dependsOn: [this.preflight, check],
        }, { parent: this })]));
    }

    /** The GPU probe, after the preflight and the image it runs; none without a GPU request. */
    private probe(name: string, args: FleetHostArgs, triggers: string[]): GpuProbe | undefined {
        const probe = gpuProbePlan(args.plan, args.build.families.map((f) => f.spec));
        if (!probe) return undefined;
        const image = probe.image;
        const family = "family" in image ? args.images.families[image.family] : undefined;
        return new GpuProbe(name, {
            machine: args.plan.machine,
            dockerHost: args.dockerHost,
            deviceIds: probe.deviceIds,
            image: "family" in image ? family!.runRef : image.pinned,
            triggers,
            dependsOn: [this.preflight, ...(family ? [family] : [])],
        }, { parent: this });
    }
}
