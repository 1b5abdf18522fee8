/**
 * One host's running fleet: the preflight, the fleet network (a declared subnet: its gateway and
 * the resolvers' addresses are fixed, fleet/model/network.ts), the supervisor's Docker API proxy,
 * the host front (every service's host ports) and its two resolvers (every service's name), per
 * planned service a ServiceContainer behind the front, per service of the other host it uses a
 * PeerFront (that service's name on this host's network), and the volume of the host's SBOM
 * index, which every service container mounts read-only. Core services (002 §H phase 1) come up healthy before
 * the rest. The peer fronts start beside them, gating no start: the other host can be down at any
 * moment, so a service retries its calls there anyway, and each gate would cost the host's start
 * a health wait (about a second).
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BuildPlan, PROXY_NAME } from "../fleet/imageplan/buildPlan";
import { gpuProbePlan, requestedGpuIds } from "../fleet/imageplan/gpuProbe";
import { MIN_DOCKER_VERSION, sbomIndexVolumeName } from "../fleet/model/defaults";
import { HostPlan } from "../fleet/model/plan";
import { baselineProfile, seccompOpt, supervisorProfile } from "../fleet/security/seccomp";
import { DockerApiProxy } from "./dockerApiProxy";
import { GpuProbe } from "./gpuProbe";
import { HostImages } from "./hostImages";
import { ImageSettings } from "./image";
import { HostPreflight } from "./preflight";
import { fleetNetworkName, hostFrontHealthPort, hostFrontPidsLimit, listenNames, renderHostFrontConfig, renderPeerFrontConfig, unreachablePeerEndpoint } from "../fleet/render/front";
import { HostFront } from "./hostFront";
import { HostResolvers } from "./hostResolvers";
import { PeerFront } from "./peerFront";
import { ServiceContainer } from "./serviceContainer";

/** HAProxy's check of a host's peer front configurations (the script says how). */
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

/**
 * The endpoint of `service` in a peer stack's `endpoints` output, or a deploy error saying which:
 * none there, or one a container cannot reach.
 */
function peerEndpoint(endpoints: pulumi.Output<unknown>, service: string, stack: string): pulumi.Output<string> {
    return endpoints.apply((e) => {
        const value = e && typeof e === "object" ? (e as Record<string, unknown>)[service] : undefined;
        if (typeof value !== "string") throw new Error(`stack ${stack} exports no endpoint for ${service}: deploy that stack first (its output 'endpoints' lists what it runs)`);
        const why = unreachablePeerEndpoint(value);
        if (why) throw new Error(`stack ${stack} exports ${service}'s endpoint as ${value}: ${why}. Fix: set fleet:advertiseAddress of stack ${stack} to the address this host reaches it at, and run pulumi up on that stack first`);
        return value;
    });
}

export class FleetHost extends pulumi.ComponentResource {
    /** By service name. */
    public readonly containers: Readonly<Record<string, ServiceContainer>>;
    /** The host front (every service's host ports); none without the HAProxy image (a stack with no service). */
    public readonly front?: HostFront;
    public readonly resolvers?: HostResolvers;
    /** Each service of the other host this one uses, by service name. */
    public readonly peerFronts: Readonly<Record<string, PeerFront>>;
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

        // Not the network of the fleet's earlier design (`${name}-net`, fleet-<machine>, no declared
        // subnet): a new resource and name, so the first `up` of the host front creates it beside
        // that one, and the engine deletes that one last, after the containers that used it.
        const network = new docker.Network(`${name}-network`, {
            name: fleetNetworkName(p.machine),
            driver: "bridge",
            ipamConfigs: [{ subnet: p.network.subnet, gateway: p.network.gateway, ipRange: p.network.ipRange }],
            labels: [{ label: "fleet.machine", value: p.machine }],
        }, {
            parent: this, provider,
            // Its name is fixed: a replacement created before the old one is deleted would collide with it.
            deleteBeforeReplace: true,
        });

        // The host's SBOM index (scripts/fleet publish-sboms fills it before `pulumi up`): the
        // same labels as that command gives it, so a create after a publish finds it as it is.
        const sbomIndex = new docker.Volume(`${name}-sboms`, {
            name: sbomIndexVolumeName(p.machine),
            labels: [{ label: "fleet.machine", value: p.machine }],
        }, { parent: this, provider, deleteBeforeReplace: true });

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
        const fronts = haproxy ? this.makeFronts(name, args, haproxy, network) : undefined;

        const baseline = seccompOpt(baselineProfile());
        const builds = new Map(args.build.services.map((b) => [b.spec.service, b]));
        const containers: Record<string, ServiceContainer> = {};
        const core: pulumi.Resource[] = [];
        for (const c of p.containers) {
            // A pinned service (rollback) runs its pinned image; nothing was built for it.
            const image = c.pinnedImage === undefined ? args.images.services[c.service] : undefined;
            const build = builds.get(c.service);
            const supervisor = c.dockerApi && proxy !== undefined;
            const sc = new ServiceContainer(c.name, {
                plan: c,
                machine: p.machine,
                imageRef: image?.runRef ?? c.pinnedImage!,
                imageDigest: image?.digest,
                gitSha: build ? build.version.revision || build.version.tag : c.pinnedRevision ?? `pinned ${c.pinnedImage}`,
                networkId: network.id,
                sbomIndexVolume: sbomIndex.name,
                seccomp: supervisor ? seccompOpt(supervisorProfile()) : baseline,
                extraSecurityOpts: supervisor && args.apparmorProfile ? [`apparmor=${args.apparmorProfile}`] : undefined,
                extraNetworks: supervisor ? [proxy!.networkId] : undefined,
                extraEnv: supervisor ? { DOCKER_HOST: proxy!.endpoint } : undefined,
                provider,
                dockerHost: args.dockerHost,
                dns: [...p.network.resolvers],
                front: { name: fronts!.front.containerName, network: fleetNetworkName(p.machine), listens: listenNames(c) },
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
        this.front = fronts?.front;
        this.resolvers = fronts?.resolvers;
        this.peerFronts = fronts?.peerFronts ?? {};
        this.networkName = network.name;
        this.registerOutputs({ networkName: this.networkName, containers: Object.keys(containers) });
    }

    /**
     * The host front and its resolvers, one peer front per service of the other host it uses, and
     * before the peer fronts HAProxy's own check of their configurations (the host front's command
     * checks its own): one it refuses fails the `up` before any front is replaced.
     */
    private makeFronts(name: string, args: FleetHostArgs, haproxy: DockerApiProxy, network: docker.Network): { front: HostFront; resolvers: HostResolvers; peerFronts: Record<string, PeerFront> } {
        const p = args.plan;
        // HAProxy and dnsmasq run under the profile the Docker API proxy runs HAProxy under.
        const image = { imageId: haproxy.imageId, seccomp: seccompOpt(supervisorProfile()), provider: args.provider, dockerHost: args.dockerHost };
        const front = new HostFront(`${name}-front`, {
            ...image,
            machine: p.machine,
            network: p.network,
            config: renderHostFrontConfig(p),
            healthPort: hostFrontHealthPort(p),
            pidsLimit: hostFrontPidsLimit(p),
            dependsOn: [this.preflight, network],
        }, { parent: this });
        const resolvers = new HostResolvers(`${name}-resolver`, {
            ...image,
            machine: p.machine,
            network: p.network,
            networkId: network.id,
            dependsOn: [this.preflight],
        }, { parent: this });
        if (p.peers.length === 0) return { front, resolvers, peerFronts: {} };
        if (args.peerEndpoints === undefined) {
            // fleet/model/stackRules.ts refuses a stack whose host uses peers without fleet:peerStack.
            throw new Error(`${p.machine} uses ${p.peers.map((x) => x.service).join(", ")} of another host, and no peer stack's endpoints were given`);
        }
        const endpoints = Object.fromEntries(p.peers.map((x) => [x.service, peerEndpoint(args.peerEndpoints!, x.service, args.peerStack ?? x.machine)]));
        const peerConfigs = Object.fromEntries(p.peers.map((x) => [x.service, endpoints[x.service].apply((e) => renderPeerFrontConfig(x, p.machine, e))]));
        const checked = pulumi.output(peerConfigs).apply((peer) => JSON.stringify(Object.fromEntries(Object.entries(peer).map(([k, v]) => [`${k}'s peer front`, v]))));
        const check = new command.local.Command(`${name}-fronts-check`, {
            create: pulumi.interpolate`bash ${FRONT_CHECK_SCRIPT} ${haproxy.imageId}`,
            stdin: checked,
            environment: { DOCKER_HOST: args.dockerHost },
            triggers: [haproxy.imageId, checked],
        }, { parent: this });
        const peerFronts = Object.fromEntries(p.peers.map((x) => [x.service, new PeerFront(`${x.name}-peer`, {
            ...image,
            peer: x,
            machine: p.machine,
            config: peerConfigs[x.service],
            endpoint: endpoints[x.service],
            networkId: network.id,
            dependsOn: [this.preflight, check],
        }, { parent: this })]));
        return { front, resolvers, peerFronts };
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
