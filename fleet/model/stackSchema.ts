/**
 * The `fleet:` keys of a stack (Pulumi.<stack>.yaml): their schema and defaults, one for
 * `index.ts`, which reads them through Pulumi, and for the CLI, which reads the file. Defaults
 * live here only; fleet/model/stack.ts checks a stack's values against the fleet data.
 */
import { z } from "zod";
import { subnetProblem } from "./network";
import { innerDef } from "./parse";
import { CUDA_TRACKS, MAX_PORT } from "./schema";

export const CONFIG_NAMESPACE = "fleet";

export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Keys read as Pulumi secrets by the wiring layer, never through the plain schema. */
export const SECRET_KEYS = ["registryUsername", "registryPassword"] as const;

// Pulumi hands every scalar over as a string; YAML may give a number. Both are accepted.
/** One `fleet:pins` entry: `Service=<tag>` or `Service=sha256:<digest>`. */
export const PIN = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*=.+$/, "must be Service=<tag> or Service=sha256:<digest>");

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
     * False where the host has a GPU but no usable NVIDIA runtime (the `local` stack): GPU
     * services are left out of the plan, each listed with the reason. Not declared in
     * Pulumi.yaml: its default differs per host, which one declared value cannot say.
     * @default whether the host has a GPU in hosts.yaml (`gpu`)
     */
    gpu: z.boolean().optional(),
    /**
     * When true, every GPU container of the stack may start on CPU: it gets GPU_FALLBACK=cpu, so
     * fleet-entrypoint logs "no GPU visible; GPU_FALLBACK=cpu, starting on CPU" and starts the
     * service instead of exiting 70 when no GPU is visible (004 §D: "degrade to CPU when
     * possible"). For a host whose driver is being fixed, and the engine tests, whose stand-in
     * NVIDIA hook makes no GPU visible. A service's own `cpuFallback` sets it for that service.
     * @default false
     */
    gpuFallback: z.boolean().default(false),
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
     * The host's fleet network (fleet/model/network.ts): every container's network, the gateway the
     * host front listens on, the resolvers' fixed addresses. It must not overlap the host's LAN or
     * another Docker network of the host (Docker refuses: "Pool overlaps with other one on this
     * address space"); a change replaces the network and every container once.
     * @default "10.230.0.0/24"
     */
    networkSubnet: str.pipe(z.string().superRefine((s, ctx) => {
        const why = subnetProblem(s);
        if (why) ctx.addIssue({ code: "custom", message: why });
    })).default("10.230.0.0/24"),
    /**
     * How many containers of a tier start at once (fleet/model/plan.ts, `startLanes`): each
     * container waits for the one this many places before it in its tier to be healthy. For a
     * host where staggered starts matter more than the whole host's time (model loads that peak
     * in memory); the engine tests set 4 to check the order.
     * @default every container of a tier at once (fleet/model/defaults.ts defaultStartLanes says why)
     */
    startLanes: z.number().int().min(1).max(1000).optional(),
    /**
     * Caps every container's CPU limit (families.yaml `runtime.cpus`) at this many CPUs, for a
     * machine with fewer CPUs than the host of hosts.yaml standing in for it (the engine tests on
     * 2 CPUs): the Docker engine refuses a limit above its own CPU count ("Range of CPUs is from
     * 0.01 to 2.00, as there are only 2 CPUs available", moby v26.1.5
     * daemon/daemon_unix.go, verifyPlatformContainerResources). CPU shares are kept, so the weights stay the families'.
     * @default none: the families' limits, which fleet/model/checkFamilies.ts holds to hosts.yaml's `cpus`
     */
    maxCpus: z.number().int().min(1).optional(),
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
    pins: z.array(PIN).default([]),
    /** Services to deploy although services.yaml disables them. @default [] */
    enableServices: z.array(z.string()).default([]),
    /** Services to leave out of this stack. @default [] */
    disableServices: z.array(z.string()).default([]),
});

/** The validated config; `gpu` is resolved against the host (its default is the host's GPU). */
export type StackConfig = Omit<z.output<ReturnType<typeof stackConfigSchema>>, "gpu"> & { gpu: boolean };

/** Every key the program reads, secrets included: what an unknown key is compared with. */
export function stackKeys(): string[] {
    return [...Object.keys(stackConfigSchema(["-"]).shape), ...SECRET_KEYS];
}

/** A key's type as Pulumi names it (the placeholder of a `pulumi config set`), or undefined. */
export function stackKeyType(key: string): "string" | "integer" | "boolean" | "array" | undefined {
    if ((SECRET_KEYS as readonly string[]).includes(key)) return "string";
    const t = innerDef((stackConfigSchema(["-"]).shape as Record<string, unknown>)[key]);
    if (!t) return undefined;
    return t.type === "number" ? "integer" : t.type === "boolean" ? "boolean" : t.type === "array" ? "array" : "string";
}
