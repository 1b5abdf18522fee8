/**
 * The only path to a host's Docker API (002 P0.5): a proxy container holds docker.sock and
 * forwards list, inspect, restart, events, ping and version; the supervisor reaches it over an
 * internal network no other container joins. 002 asks for the socket mounted read-only, but a
 * read-only bind of a socket does not stop API writes (anyone who can connect can create a
 * privileged container), so the socket goes to the proxy alone.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { PROXY_NAME, PROXY_PORT, ProxyBuild } from "../fleet/build/buildPlan";
import { seccompOpt, supervisorProfile } from "../fleet/security/seccomp";
import { ImageSettings, ProxyImage } from "./image";

/**
 * Declared exception to the non-root rule: the socket is root:docker 0660 and the docker
 * group's id differs per host, so the proxy runs as uid 0, with every capability dropped,
 * a read-only root, no-new-privileges and the supervisor's seccomp profile.
 */
export const PROXY_USER = "0:0";

export interface DockerApiProxyArgs {
    machine: string;
    build: ProxyBuild;
    /** Ref of the family image the proxy is built FROM. */
    baseImage: pulumi.Input<string>;
    settings: ImageSettings;
    provider: docker.Provider;
    apparmorProfile: string;
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class DockerApiProxy extends pulumi.ComponentResource {
    /** The internal network the supervisor joins to reach the proxy. */
    public readonly networkName: pulumi.Output<string>;
    /** DOCKER_HOST for the supervisor. */
    public readonly endpoint: string;
    public readonly container: docker.Container;

    constructor(name: string, args: DockerApiProxyArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:host:DockerApiProxy", name, {}, opts);
        const image = new ProxyImage(name, { build: args.build, base: args.baseImage, settings: args.settings }, { parent: this });
        const pulled = new docker.RemoteImage(name, { name: image.runRef, keepLocally: true }, { parent: this, provider: args.provider });
        const network = new docker.Network(`${name}-net`, {
            name: `fleet-${args.machine}-docker-api`,
            driver: "bridge",
            // No route out: only the proxy and the supervisor are on it.
            internal: true,
            labels: [{ label: "fleet.machine", value: args.machine }],
        }, { parent: this, provider: args.provider });
        const securityOpts = ["no-new-privileges:true", seccompOpt(supervisorProfile())];
        if (args.apparmorProfile) securityOpts.push(`apparmor=${args.apparmorProfile}`);
        this.container = new docker.Container(name, {
            name: PROXY_NAME,
            image: pulled.imageId,
            user: PROXY_USER,
            readOnly: true,
            capabilities: { drops: ["ALL"] },
            securityOpts,
            init: false,
            restart: "unless-stopped",
            mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }],
            networksAdvanced: [{ name: network.name, aliases: [PROXY_NAME] }],
            healthcheck: {
                tests: ["CMD", "/opt/venv/bin/python", "-c", `import socket; socket.create_connection(("127.0.0.1", ${PROXY_PORT}), 2)`],
                interval: "30s",
                timeout: "5s",
                startPeriod: "10s",
                retries: 3,
            },
            memory: 64,
            labels: [{ label: "fleet.machine", value: args.machine }, { label: "fleet.role", value: PROXY_NAME }],
        }, { parent: this, provider: args.provider, deleteBeforeReplace: true, dependsOn: args.dependsOn });
        this.networkName = network.name;
        this.endpoint = `tcp://${PROXY_NAME}:${PROXY_PORT}`;
        this.registerOutputs({ networkName: this.networkName, endpoint: this.endpoint });
    }
}
