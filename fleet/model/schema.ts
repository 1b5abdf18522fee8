/**
 * Shapes of the three fleet data files. Every object is strict, so a misspelt key is reported
 * instead of silently ignored. Defaults are applied here and nowhere else.
 */
import { z } from "zod";
import { cpusReadBack } from "./dockerForms";

/** Ports below 1024 need CAP_NET_BIND_SERVICE, which every container drops. */
export const MIN_PORT = 1024;
export const MAX_PORT = 65535;

const port = z.number().int().min(MIN_PORT).max(MAX_PORT);
const relPath = z.string().regex(/^[A-Za-z0-9_.-][A-Za-z0-9_./-]*$/, "must be a relative path").refine((p) => !p.split("/").includes(".."), "must stay inside the application repository");
export const NameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, "must start with a letter and hold only letters, digits and '-'");
const name = NameSchema;

export const CUDA_TRACKS = ["cu118", "cu121", "cu124"] as const;
export type CudaTrack = (typeof CUDA_TRACKS)[number];

export const GATES = ["rtap"] as const;
export type Gate = (typeof GATES)[number];

export const TRAITS = ["web", "audio", "vision", "llm", "docker"] as const;
export type Trait = (typeof TRAITS)[number];

export const HEALTH_KINDS = ["http", "tcp"] as const;

// ------------------------------------------------------------------ hosts.yaml

export const GpuSchema = z.strictObject({
    model: z.string().min(1),
    architecture: z.string().min(1),
    /** Compute capability, "8.9" for Ada, "8.6" for Ampere. */
    smArch: z.string().regex(/^\d+\.\d+$/, "must look like 8.9"),
    vramGb: z.number().positive(),
});

/** GPU keys of the profile: required on a host with a GPU, refused on one without (checkHosts.ts). */
export const GPU_PROFILE_KEYS = ["GPU_VISIBLE_DEVICES", "TORCH_CUDA_ALLOC_CONF"] as const;

export const ProfileSchema = z.strictObject({
    /** Host GPU indexes the GPU services get. Only on a host with a GPU. */
    GPU_VISIBLE_DEVICES: z.string().regex(/^\d+(,\d+)*$/, "must be GPU indexes like 0 or 0,1").optional(),
    /** PyTorch's allocator settings (as PYTORCH_CUDA_ALLOC_CONF). Only on a host with a GPU. */
    TORCH_CUDA_ALLOC_CONF: z.string().regex(/^[a-z_]+:[^,]+(,[a-z_]+:[^,]+)*$/, "must be key:value pairs like max_split_size_mb:64").optional(),
    OMP_NUM_THREADS: z.number().int().positive(),
    UVICORN_WORKERS: z.number().int().positive(),
    MODEL_EVICT_THRESHOLD_PCT: z.number().int().min(1).max(100),
    NUMBA_CACHE_SIZE: z.string().regex(/^\d+MB$/, "must be a size in MB like 512MB"),
});

export const HostSchema = z.strictObject({
    description: z.string().min(1),
    /** Logical CPUs the host's Docker engine sees (`nproc`); no family's CPU limit may exceed it. */
    cpus: z.number().int().positive(),
    /**
     * The host's NVIDIA GPU. A host without one leaves it out (`null` says the same), and its
     * profile leaves out the GPU keys; its stack then deploys no GPU service. @default null
     */
    gpu: GpuSchema.nullable().default(null),
    profile: ProfileSchema,
    /**
     * Services of other hosts this host's containers call, by host: each container gets
     * `<HOST>_<SERVICE>_ENDPOINT` from that host's stack outputs (a StackReference). @default {}
     */
    uses: z.record(name, z.array(name).min(1)).default({}),
});

// ------------------------------------------------------------------ families.yaml

export const UpstreamSchema = z.strictObject({
    image: z.string().regex(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+$/, "must be a registry path like docker.io/library/python"),
    tag: z.string().min(1),
    /** `sha256:...`; when set, FROM lines use tag@digest. */
    digest: z.string().regex(/^sha256:[a-f0-9]{64}$/, "must be sha256: and 64 hex digits").optional(),
    /** `tag` marks an upstream whose digest the data cannot know yet. */
    pin: z.enum(["tag", "digest"]),
});

export const CudaSchema = z.strictObject({
    /** The default track of a CUDA root. Only on roots. */
    track: z.enum(CUDA_TRACKS).optional(),
    /** Upstream tag per track. Only on roots. */
    upstreamByTrack: z.partialRecord(z.enum(CUDA_TRACKS), z.string().min(1)).optional(),
    /** Oldest NVIDIA driver (major version) each track needs; HostPreflight enforces it. Only on roots. */
    minDriverByTrack: z.partialRecord(z.enum(CUDA_TRACKS), z.number().int().positive()).optional(),
    /** Tracks this family can be built for. */
    tracks: z.array(z.enum(CUDA_TRACKS)).min(1),
});

export const RuntimeSchema = z.strictObject({
    memoryMb: z.number().int().min(64).optional(),
    shmMb: z.number().int().min(1).optional(),
    pidsLimit: z.number().int().min(16).optional(),
    startPeriodSeconds: z.number().int().min(0).optional(),
    startIntervalSeconds: z.number().int().min(1).optional(),
    waitTimeoutSeconds: z.number().int().min(10).optional(),
    /**
     * CPUs, in hundredths at most, and only limits the Docker provider reads back as themselves
     * (fleet/model/dockerForms.ts: 0.05 would be kept as "0.1" and replace the container every time).
     */
    cpus: z.number().positive().multipleOf(0.01).superRefine((c, ctx) => {
        const back = cpusReadBack(c);
        if (!back.ok) ctx.addIssue({ code: "custom", message: `is kept by the Docker provider as "${back.form}", another limit, so every deploy would replace the container` });
    }).optional(),
    /** Docker accepts 2 to 262144. */
    cpuShares: z.number().int().min(2).max(262144).optional(),
    /**
     * GPU memory one GPU service of the family keeps on its card (CUDA context and resident
     * models), in MB: the card's budget (hosts.yaml gpu.vramGb) is checked against the sum.
     */
    vramMb: z.number().int().min(0).optional(),
});

const aptPin = z.string().regex(/^[a-z0-9.+-]+=[A-Za-z0-9.+~:-]+$/, "must be pinned as name=version");
const pipPin = z.string().regex(/^[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!-]+$/, "must be pinned as name==version");

export const FamilySchema = z.strictObject({
    description: z.string().min(1),
    /** The family this one is built FROM. Exactly one of `parent` and `upstream`. */
    parent: name.optional(),
    /** The upstream image a root family is built FROM. */
    upstream: UpstreamSchema.optional(),
    /** The family 002 §B draws as this root's parent; used for runtime defaults and the diagram. */
    inherits: name.optional(),
    /** Python minor version; inherited from the parent when omitted. */
    python: z.enum(["3.10", "3.11"]).optional(),
    cuda: CudaSchema.optional(),
    /** @default [] */
    apt: z.array(aptPin).default([]),
    /** @default [] */
    pip: z.array(pipPin).default([]),
    pipIndexByTrack: z.partialRecord(z.enum(CUDA_TRACKS), z.url()).optional(),
    /**
     * Pins installed on one CUDA track only, after `pip`: builds of a package for one CUDA major
     * version (onnxruntime-gpu and NVIDIA's -cu11/-cu12 library wheels). @default {}
     */
    pipByTrack: z.partialRecord(z.enum(CUDA_TRACKS), z.array(pipPin)).optional(),
    runtime: RuntimeSchema.optional(),
});

// ------------------------------------------------------------------ services.yaml

export const HealthSchema = z.strictObject({
    kind: z.enum(HEALTH_KINDS),
    /** @default "/health" (http only) */
    path: z.string().regex(/^\//, "must start with /").default("/health"),
    /**
     * How long `pulumi up` waits for this service to turn healthy, where it differs from its
     * family's (a model server that loads for longer than its family's others).
     * @default the family's runtime.waitTimeoutSeconds
     */
    waitTimeoutSeconds: z.number().int().min(10).optional(),
});

export const ServiceSchema = z.strictObject({
    /** Which seed the row comes from. @default "002" */
    source: z.enum(["002", "004"]).default("002"),
    hosts: z.array(name).min(1),
    /** @default "cpu" */
    compute: z.enum(["cpu", "gpu"]).default("cpu"),
    /** @default [] */
    traits: z.array(z.enum(TRAITS)).default([]),
    family: name,
    /** `core` services start before the rest of their host (002 §H phase 1). @default "app" */
    tier: z.enum(["core", "app"]).default("app"),
    /** Utility-only GPU access for NVML on a CPU family. @default false */
    nvml: z.boolean().default(false),
    /**
     * GPU memory this GPU service keeps on its card, in MB, where it differs from its family's
     * runtime.vramMb (a service that holds models for others). Only for compute: gpu.
     * @default the family's runtime.vramMb
     */
    vramMb: z.number().int().min(0).optional(),
    /**
     * A GPU service that may start on CPU when no GPU is visible (004 §D: "degrade to CPU when
     * possible"), instead of failing fast. @default false
     */
    cpuFallback: z.boolean().default(false),
    gatedBy: z.enum(GATES).optional(),
    /** @default true */
    enabled: z.boolean().default(true),
    disabledReason: z.string().min(1).optional(),
    ports: z.strictObject({
        service: port,
        health: port,
        /** @default [] */
        metrics: z.array(port).default([]),
    }),
    /** Path of the Python entrypoint inside the application repository. */
    entrypoint: z.string().regex(/^[A-Za-z0-9_./-]+\.py$/, "must be a relative path to a .py file").refine((p) => !p.startsWith("/") && !p.split("/").includes(".."), "must stay inside the application repository"),
    /** @default { kind: "http", path: "/health" } */
    health: HealthSchema.default({ kind: "http", path: "/health" }),
    /**
     * Hash-locked requirements (pip --require-hashes) in the application repository.
     * @default "requirements/<container-name>.txt"
     */
    requirements: relPath.optional(),
    /** Why this service installs without hashes; without it a missing lock fails validation. */
    allowUnhashed: z.string().min(10, "must say why, in a sentence").optional(),
    /**
     * Why this service needs a writable root filesystem. Without it the root is read-only and
     * the service writes only to its volumes and tmpfs mounts.
     */
    rootfsWritable: z.string().min(10, "must say why, in a sentence").optional(),
    /** A Dockerfile in the application repository to build instead of the generated one. */
    dockerfile: relPath.optional(),
    /**
     * Paths of the application repository copied into /app.
     * @default the entrypoint file alone under main_pc_code/ and pc2_code/ (shared agent
     * directories, so one agent's change rebuilds one image), else the entrypoint's directory;
     * plus common/ (004 §C: "common/ is always available").
     */
    sources: z.array(relPath).min(1).optional(),
});


export type Host = z.infer<typeof HostSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type Family = z.infer<typeof FamilySchema>;
export type Runtime = z.infer<typeof RuntimeSchema>;
export type Service = z.infer<typeof ServiceSchema>;

/** The whole fleet after parsing, before cross-checks. */
export interface FleetData {
    hosts: Record<string, Host>;
    families: Record<string, Family>;
    services: Record<string, Service>;
}
