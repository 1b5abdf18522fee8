/**
 * The only path to a host's Docker API (002 P0.5): a proxy container holds docker.sock and
 * forwards list, inspect, restart, events, ping and version; the supervisor reaches it over an
 * internal network no other container joins. The proxy is HAProxy from Debian, its allow-list
 * ACLs in fleet/render/assets/fleet-docker-api-proxy.cfg (a hand-written parser would have to
 * get request framing right itself; HAProxy's is maintained and fuzzed). 002 asks for the socket mounted read-only, but a
 * read-only bind of a socket does not stop API writes (anyone who can connect can create a
 * privileged container), so the socket goes to the proxy alone.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { PROXY_NAME, PROXY_PORT, ProxyBuild } from "../fleet/imageplan/buildPlan";
import { PROXY_DEFAULTS } from "../fleet/model/defaults";
import { seccompOpt, supervisorProfile } from "../fleet/security/seccomp";
import { ImageSettings, ProxyImage } from "./image";
import { cpusInput } from "../fleet/model/dockerForms";
import { CONTAINER_REPLACE_ON_CHANGES, healthcheckInput, startCommand } from "./serviceContainer";

/**
 * Declared exception to the non-root rule: the socket is root:docker 0660 and the docker
 * group's id differs per host, so the proxy runs as uid 0, with every capability dropped
 * (as the socket's owner it needs none to connect; HAProxy binds an unprivileged port and
 * does not chroot or change user), a read-only root (HAProxy writes nothing in foreground
 * mode), no-new-privileges and the supervisor's seccomp profile.
 */
export const PROXY_USER = "0:0";

export interface DockerApiProxyArgs {
    machine: string;
    /**
     * Run the proxy (the host runs the supervisor). Without it the component only builds and
     * pulls the HAProxy image, which every service's front runs: under this component, because
     * its image resources were here first (their URNs are the deployed state's).
     */
    run: boolean;
    build: ProxyBuild;
    /** Ref of the family image the proxy is built FROM. */
    baseImage: pulumi.Input<string>;
    settings: ImageSettings;
    provider: docker.Provider;
    apparmorProfile: string;
    /** DOCKER_HOST for the start command. */
    dockerHost: string;
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The running proxy: what the supervisor is given. */
export interface RunningProxy {
    /** The internal network the supervisor joins to reach the proxy (by id, see ServiceContainerArgs.networkId). */
    networkId: pulumi.Output<string>;
    /** DOCKER_HOST for the supervisor. */
    endpoint: string;
    container: docker.Container;
    /** Its start command: run once the proxy is healthy and under its PIDs limit. */
    started: command.local.Command;
}

export class DockerApiProxy extends pulumi.ComponentResource {
    /** The HAProxy image on the host, by id: what the fronts run. */
    public readonly imageId: pulumi.Output<string>;
    /** Present when `run`. */
    public readonly running?: RunningProxy;

    constructor(name: string, args: DockerApiProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:host:DockerApiProxy", name, {}, opts);
        const image = new ProxyImage(name, { build: args.build, base: args.baseImage, settings: args.settings }, { parent: this });
        const pulled = new docker.RemoteImage(name, { name: image.runRef, keepLocally: true }, { parent: this, provider: args.provider });
        this.imageId = pulled.imageId;
        this.running = args.run ? this.proxy(name, args, pulled) : undefined;
        this.registerOutputs({ imageId: this.imageId, networkId: this.running?.networkId, endpoint: this.running?.endpoint });
    }

    private proxy(name: string, args: DockerApiProxyArgs, pulled: docker.RemoteImage): RunningProxy {
        const network = new docker.Network(`${name}-net`, {
            name: `fleet-${args.machine}-docker-api`,
            driver: "bridge",
            // No route out: only the proxy and the supervisor are on it.
            internal: true,
            labels: [{ label: "fleet.machine", value: args.machine }],
        }, { parent: this, provider: args.provider, deleteBeforeReplace: true });
        const securityOpts = ["no-new-privileges:true", seccompOpt(supervisorProfile())];
        if (args.apparmorProfile) securityOpts.push(`apparmor=${args.apparmorProfile}`);
        const h = PROXY_DEFAULTS.health;
        const container = new docker.Container(name, {
            name: PROXY_NAME,
            image: pulled.imageId,
            user: PROXY_USER,
            readOnly: true,
            capabilities: { drops: ["ALL"] },
            securityOpts,
            init: false,
            restart: "unless-stopped",
            mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }],
            networksAdvanced: [{ name: network.id, aliases: [PROXY_NAME] }],
            // The image's HEALTHCHECK, stated here too so the provider waits for it: healthy once
            // HAProxy's loopback health frontend sees the engine answer /_ping.
            healthcheck: healthcheckInput(h),
            wait: true,
            waitTimeout: PROXY_DEFAULTS.waitTimeoutSeconds,
            memory: PROXY_DEFAULTS.memoryMb,
            memorySwap: PROXY_DEFAULTS.memoryMb,
            cpus: cpusInput(PROXY_DEFAULTS.cpus),
            cpuShares: PROXY_DEFAULTS.cpuShares,
            labels: [{ label: "fleet.machine", value: args.machine }, { label: "fleet.role", value: PROXY_NAME }],
        }, { parent: this, provider: args.provider, deleteBeforeReplace: true, replaceOnChanges: CONTAINER_REPLACE_ON_CHANGES, dependsOn: args.dependsOn });
        // CIS Docker 5.29 and the health confirmation that outlives a refresh (see ServiceContainer).
        // The provider starts the proxy (a fixed name, replaced delete-first): the command finds
        // it running, sets its limit and waits; no predecessor carries its labels.
        const started = new command.local.Command(`${name}-start`, {
            create: startCommand({ container: container.name, service: PROXY_NAME, machine: args.machine, pidsLimit: PROXY_DEFAULTS.pidsLimit, waitSeconds: PROXY_DEFAULTS.waitTimeoutSeconds, stableSeconds: 0 }),
            environment: { DOCKER_HOST: args.dockerHost },
            triggers: [container.id, PROXY_DEFAULTS.pidsLimit],
        }, { parent: this, dependsOn: [container], aliases: [{ name: `${name}-pids-limit` }] });
        return { networkId: network.id, endpoint: `tcp://${PROXY_NAME}:${PROXY_PORT}`, container, started };
    }
}
