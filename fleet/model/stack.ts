/**
 * Stack configuration (`fleet:*` keys of Pulumi.<stack>.yaml): one schema for `index.ts`, which
 * reads it through Pulumi, and for the CLI, which reads the file. Defaults live here only.
 */
import { isIP } from "net";
import { z } from "zod";
import { cudaTracks } from "./check";
import { FleetError, FleetIssue } from "./issues";
import { validate } from "./parse";
import { CUDA_TRACKS, FleetData, MAX_PORT } from "./schema";

export const CONFIG_NAMESPACE = "fleet";

const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Keys read as Pulumi secrets by the wiring layer, never through the plain schema. */
export const SECRET_KEYS = ["registryUsername", "registryPassword"] as const;

// Pulumi hands every scalar over as a string; YAML may give a number. Both are accepted.
const str = z.preprocess((v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v), z.string().min(1));

/** The schema; `machine` is checked against the fleet's hosts so it is reported with the rest. */
export const stackConfigSchema = (hosts: readonly [string, ...string[]]) => z.strictObject({
    /** Which host of hosts.yaml this stack deploys. */
    machine: z.enum(hosts),
    /** Docker endpoint: `unix:///var/run/docker.sock`, `ssh://user@host` or `tcp://host:2376`. */
    dockerHost: str.pipe(z.string().regex(/^(unix|ssh|tcp):\/\/.+/, "must start with unix://, ssh:// or tcp://")),
    /** Registry host. @default "ghcr.io" */
    registry: str.pipe(z.string().regex(/^[a-z0-9.-]+(:\d+)?$/, "must be a registry host like ghcr.io")).default("ghcr.io"),
    /** Organisation (namespace) under the registry. */
    org: str.pipe(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "must be lower-case letters, digits, '.', '_' or '-'")),
    /**
     * Added to every published port of the host. Required, with no default: 002 P0.1 found an
     * undefined ${PORT_OFFSET} that silently fell back; each stack states its value.
     */
    portOffset: z.number().int().min(0).max(MAX_PORT),
    /**
     * When true, RealTimeAudioPipeline replaces the legacy audio agents marked `gatedBy: rtap`.
     * @default true
     */
    rtapEnabled: z.boolean().default(true),
    /**
     * False on a host without a usable NVIDIA runtime (the `local` stack): GPU services are left
     * out of the plan, each listed with the reason.
     * @default true
     */
    gpu: z.boolean().default(true),
    /** @default "cu121" (002 §B) */
    cudaTrack: z.enum(CUDA_TRACKS).default("cu121"),
    /** Checkout of the application repository the service images are built from; relative paths start at the project directory. */
    appRepo: str,
    /** Repository URL of this program, for the images' org.opencontainers.image.source label. */
    sourceUrl: str.pipe(z.url({ protocol: /^https?$/ })),
    /**
     * `push` to the registry (mainpc, pc2), or `load` into the build machine's Docker daemon
     * (the local stack, which has no registry).
     * @default "push"
     */
    imageOutput: z.enum(["push", "load"]).default("push"),
    /** Build images during `pulumi preview` too. Off so pull-request previews stay fast. @default false */
    buildOnPreview: z.boolean().default(false),
    /**
     * The buildx builder every image of the stack is built with, named explicitly (components/image.ts
     * says why): a builder with the `docker` driver on the host's daemon. "default" is the builder
     * of the Docker endpoint the Pulumi process sees (DOCKER_HOST or the current docker context),
     * the host's own daemon on the deploy workflow's runner; a docker context named after the host
     * (`docker context create mainpc --docker host=ssh://ops@mainpc`) gives a builder of that name.
     * @default "default"
     */
    buildxBuilder: str.pipe(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be a buildx builder name like default")).default("default"),
    /**
     * Address other hosts reach this host's published ports at, and the one host address every
     * port is bound to (CIS Docker 5.14: never 0.0.0.0). An IP address: Docker binds to an IP,
     * not a name, so an ssh://user@name dockerHost needs it set.
     * @default the host of an ssh:// or tcp:// dockerHost when that is an IP address; 127.0.0.1 for unix://
     */
    advertiseAddress: str.optional(),
    /**
     * How many containers of a tier start at once (fleet/model/plan.ts, `startLanes`): each
     * container waits for the one this many places before it in its tier to be healthy. Set it
     * where the Docker engine has fewer CPUs than the host of hosts.yaml (the local stack on a
     * laptop, the engine tests).
     * @default START_LANES_PER_CPU x the host's `cpus` in hosts.yaml
     */
    startLanes: z.number().int().min(1).max(1000).optional(),
    /** Stack whose `endpoints` output this host's `uses` read, e.g. `acme/fleet/mainpc`. */
    peerStack: str.optional(),
    /**
     * AppArmor profile of the Docker-API path (supervisor and socket proxy); "" on hosts without
     * AppArmor, where Docker refuses the option.
     * @default "docker-default"
     */
    apparmorProfile: z.string().default("docker-default"),
    /**
     * Replaces the upstream image of every root family, e.g. a locally made Debian image on a
     * machine that cannot pull (the engine tests). It must provide python3 with venv, tini and
     * CA certificates.
     */
    upstreamImage: str.optional(),
    /**
     * One PEP 503 index every family and service installs from, in place of the data's (PyPI,
     * and PyTorch's per CUDA track): a mirror, or the engine tests' stand-in index. "" keeps
     * the data's indexes.
     * @default ""
     */
    packageIndex: z.string().regex(/^(|https?:\/\/\S+)$/, "must be empty or the http(s) URL of a PEP 503 index").default(""),
    /**
     * Network of the builds' RUN steps: `host` where the package index listens on the build
     * machine's loopback (the engine tests); BuildKit's own sandbox network otherwise.
     * @default "default"
     */
    buildNetwork: z.enum(["default", "host"]).default("default"),
    /**
     * Rollback of every service without a rebuild (002 §H.6 FORCE_IMAGE_TAG): the path of the
     * build lock (`build-lock-<stack>.json`) of the deploy to go back to; every service runs the
     * image that deploy ran, pulled by digest, and none is built. Not a tag: no one tag names
     * every image of a release (fleet/model/rollback.ts says why). Relative paths start at
     * the project directory.
     */
    pinAll: str.pipe(z.string().regex(/\.json$/, "must be the path of the build-lock-<stack>.json of the deploy to roll back to")).optional(),
    /**
     * Per-service rollback, `Service=<tag>` or `Service=sha256:<digest>`; wins over pinAll.
     * A pinned service is not built. @default []
     */
    pins: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9-]*=.+$/, "must be Service=<tag> or Service=sha256:<digest>")).default([]),
    /** Services to deploy although services.yaml disables them. @default [] */
    enableServices: z.array(z.string()).default([]),
    /** Services to leave out of this stack. @default [] */
    disableServices: z.array(z.string()).default([]),
});

export type StackConfig = z.output<ReturnType<typeof stackConfigSchema>>;

/** Accepts what Pulumi stores (strings, JSON for structured values) and what YAML gives. */
export function fromPulumiValue(v: unknown): unknown {
    if (typeof v !== "string") return v;
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
}

/**
 * Validates the raw `fleet:` map (namespace stripped) against the schema and the fleet data.
 * @param source how the operator names the config, e.g. `Pulumi.mainpc.yaml`
 */
export function parseStackConfig(raw: Record<string, unknown>, fleet: FleetData, source: string): StackConfig {
    const plain = Object.fromEntries(
        Object.entries(raw)
            .filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k))
            .map(([k, v]) => [k, fromPulumiValue(v)]),
    );
    const hostNames = Object.keys(fleet.hosts) as [string, ...string[]];
    const r = validate(stackConfigSchema(hostNames), plain, source, undefined, `${CONFIG_NAMESPACE}:`);
    if (!r.ok) throw new FleetError(r.issues);
    const cfg = r.value;
    const issues: FleetIssue[] = [];
    const at = (key: string) => `${CONFIG_NAMESPACE}:${key}`;
    const host = fleet.hosts[cfg.machine];
    for (const key of ["enableServices", "disableServices"] as const) {
        for (const [i, name] of cfg[key].entries()) {
            const svc = fleet.services[name];
            const path = at(`${key}[${i}]`);
            if (!svc) issues.push({ file: source, path, message: `'${name}' is not a service of the fleet`, fix: "correct the name (names are case-sensitive, as in services.yaml)" });
            else if (!svc.hosts.includes(cfg.machine)) issues.push({ file: source, path, message: `'${name}' is not placed on ${cfg.machine} (it runs on ${svc.hosts.join(", ")})`, fix: "remove the entry, or add the host to the service in services.yaml" });
        }
    }
    const pins = cfg.pins.map(parsePin);
    for (const [i, { service: name, ref }] of pins.entries()) {
        const path = at(`pins[${i}]`);
        const svc = fleet.services[name];
        if (!svc) issues.push({ file: source, path, message: `'${name}' is not a service of the fleet`, fix: "correct the name (names are case-sensitive, as in services.yaml)" });
        else if (!svc.hosts.includes(cfg.machine)) issues.push({ file: source, path, message: `'${name}' is not placed on ${cfg.machine}`, fix: "remove the pin" });
        if (!IMAGE_TAG.test(ref) && !DIGEST.test(ref)) issues.push({ file: source, path, message: `'${ref}' is neither an image tag nor sha256:<64 hex>`, fix: "use a tag from `pulumi stack output services` or the registry, or the image's digest" });
        if (pins.findIndex((p) => p.service === name) !== i) issues.push({ file: source, path, message: `'${name}' is pinned twice`, fix: "keep one pin per service" });
    }
    for (const [i, name] of cfg.enableServices.entries()) {
        if (cfg.disableServices.includes(name)) issues.push({ file: source, path: at(`enableServices[${i}]`), message: `'${name}' is also in disableServices`, fix: "keep the service in one of the two lists" });
    }
    let highest = 0;
    let highestOwner = "";
    const users = new Map<string, string[]>();
    for (const [name, svc] of Object.entries(fleet.services)) {
        if (!svc.hosts.includes(cfg.machine)) continue;
        for (const p of [svc.ports.service, svc.ports.health, ...svc.ports.metrics]) {
            if (p > highest) [highest, highestOwner] = [p, name];
        }
        if (cfg.gpu && svc.compute === "gpu") users.set(svc.family, [...(users.get(svc.family) ?? []), name]);
    }
    for (const [family, names] of users) {
        const tracks = cudaTracks(fleet, family) ?? [];
        if (!tracks.includes(cfg.cudaTrack)) {
            issues.push({ file: source, path: at("cudaTrack"), message: `'${cfg.cudaTrack}' cannot build ${family} (it supports ${tracks.join(", ")}), which ${names.join(", ")} use`, fix: `use one of ${tracks.join(", ")}` });
        }
    }
    if (highest + cfg.portOffset > MAX_PORT) {
        issues.push({ file: source, path: at("portOffset"), message: `${cfg.portOffset} moves ${highestOwner}'s port ${highest} to ${highest + cfg.portOffset}, above ${MAX_PORT}`, fix: `use at most ${MAX_PORT - highest}` });
    }
    if (Object.keys(host.uses).length > 0 && !cfg.peerStack) {
        issues.push({ file: source, path: at("peerStack"), message: `is missing: ${cfg.machine} uses services of ${Object.keys(host.uses).join(", ")}`, fix: "set it to the stack that deploys them, e.g. <org>/fleet/mainpc" });
    }
    const address = advertiseAddress(cfg);
    if (isIP(address) === 0) {
        issues.push({
            file: source, path: at("advertiseAddress"),
            message: cfg.advertiseAddress !== undefined ? `'${address}' is not an IP address; published ports are bound to one IP address (CIS Docker 5.14)`
                : `is missing: '${address}', the host of fleet:dockerHost, is a name, and published ports are bound to one IP address (CIS Docker 5.14)`,
            fix: `set it to the IP address other hosts reach ${cfg.machine} at`,
        });
    } else if (/^(0\.0\.0\.0|::|0:0:0:0:0:0:0:0)$/.test(address)) {
        issues.push({ file: source, path: at("advertiseAddress"), message: `'${address}' binds every interface of the host (CIS Docker 5.14)`, fix: `set it to the one IP address other hosts reach ${cfg.machine} at` });
    }
    if (cfg.gpu && !host.gpu) {
        issues.push({ file: source, path: at("gpu"), message: `is true but host '${cfg.machine}' has no GPU`, fix: "set it to false" });
    }
    if (issues.length > 0) throw new FleetError(issues);
    return cfg;
}

/** The address other hosts use for this one (see advertiseAddress). */
export function advertiseAddress(cfg: StackConfig): string {
    if (cfg.advertiseAddress) return cfg.advertiseAddress;
    const m = /^(?:ssh|tcp):\/\/(?:[^@/]+@)?([^:/]+)/.exec(cfg.dockerHost);
    return m ? m[1] : "127.0.0.1";
}

/**
 * The `fleet:` keys of the config the CLI hands the program (fleet/pulumi/load.ts
 * `loadStack`), namespace stripped: what `parseStackConfig` takes.
 */
export function fleetKeys(config: Record<string, string>): Record<string, string> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.fromEntries(Object.entries(config).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/** `Service=<ref>` as its two parts. */
function parsePin(pin: string): { service: string; ref: string } {
    const at = pin.indexOf("=");
    return { service: pin.slice(0, at), ref: pin.slice(at + 1) };
}

/**
 * What each planned service runs under fleet:pinAll, by service (fleet/model/rollback.ts reads it
 * from the build lock): the image reference and, for an image that deploy built, its revision.
 */
export type RollbackPins = Readonly<Record<string, { image: string; revision?: string }>>;

/**
 * The image a pinned service runs, or undefined when it is built: its `fleet:pins` entry, else
 * what `rollback` (the build lock `fleet:pinAll` names, fleet/model/rollback.ts) says it ran.
 */
export function pinnedImage(cfg: StackConfig, service: string, repository: string, rollback: RollbackPins = {}): string | undefined {
    const ref = cfg.pins.map(parsePin).find((p) => p.service === service)?.ref;
    if (ref === undefined) return rollback[service]?.image;
    const image = `${cfg.registry}/${cfg.org}/${repository}`;
    return DIGEST.test(ref) ? `${image}@${ref}` : `${image}:${ref}`;
}
