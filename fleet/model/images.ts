/**
 * What to build for a host plan: one image per family and per service, machine-neutral (the
 * host profile reaches containers at run time, so mainpc and pc2 share every image built from
 * the same inputs). Pure: paths are relative to the application repository.
 */
import { lineage } from "./check";
import { containerName } from "./names";
import { HEALTH_DEFAULTS } from "./defaults";
import { HostPlan } from "./plan";
import { familyRuntime } from "./runtime";
import { CudaTrack, FleetData, Service } from "./schema";

export type ServiceKind = "cpu" | "gpu" | "legacy";

export interface FamilyImageSpec {
    family: string;
    /** Repository name: the family name, with the stack's CUDA track in place of cu121. */
    repository: string;
    /** The family it is built FROM, or undefined for a root built FROM `upstream`. */
    parent?: string;
    /** `image:tag` or `image:tag@digest` of a root. */
    upstream?: string;
    /** Families from the root down to this one. */
    chain: string[];
    python: string;
    /** The interpreter that creates the venv at a root: python3.11, or python3 on an override. */
    venvPython: string;
    cudaTrack?: CudaTrack;
    apt: string[];
    pip: string[];
    /** `--index-url` then `--extra-index-url`s; empty: pip's default (PyPI). */
    pipIndexes: string[];
    /** SM architectures of the fleet's GPUs, for TORCH_CUDA_ARCH_LIST (CUDA families only). */
    cudaArchList?: string;
    /** Library directories of the family's own NVIDIA wheels, for LD_LIBRARY_PATH (see nvidiaLibraryDirs). */
    libraryDirs: string[];
}

export interface ServiceImageSpec {
    service: string;
    repository: string;
    family: string;
    kind: ServiceKind;
    python: string;
    entrypoint: string;
    sources: string[];
    requirements: string;
    /** Reason to install without --require-hashes; undefined means hashes are required. */
    unhashedReason?: string;
    /** A Dockerfile of the application repository used instead of the generated one. */
    dockerfileOverride?: string;
    /** Indexes the service's lock is downloaded from, as FamilyImageSpec's. */
    pipIndexes: string[];
    /** The pins of the service's family chain (see familyPins): its lock may not name them. */
    familyPins: FamilyPin[];
    ports: { service: number; health: number; metrics: number[] };
    health: { kind: string; path: string; intervalSeconds: number; timeoutSeconds: number; retries: number; startPeriodSeconds: number; startIntervalSeconds: number };
}

/** Directories of the application repository shared by many agents (see schema.ts `sources`). */
const SHARED_AGENT_ROOTS = ["main_pc_code/", "pc2_code/"];

export function defaultSources(entrypoint: string): string[] {
    const own = SHARED_AGENT_ROOTS.some((r) => entrypoint.startsWith(r)) || !entrypoint.includes("/")
        ? entrypoint
        : entrypoint.slice(0, entrypoint.lastIndexOf("/"));
    return [own, "common"];
}

export function serviceSources(svc: Service): string[] {
    return svc.sources ?? defaultSources(svc.entrypoint);
}

export function requirementsPath(name: string, svc: Service): string {
    return svc.requirements ?? `requirements/${containerName(name)}.txt`;
}

export function familyRepository(family: string, track: CudaTrack): string {
    return family.replace(/-cu1\d\d$/, `-${track}`);
}

export interface FamilyPin {
    /** Distribution name as written in families.yaml. */
    name: string;
    version: string;
    /** The family of the chain that pins it. */
    family: string;
}

/** PEP 503 normalized name: how pip compares distribution names. */
export function normalizeName(name: string): string {
    return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/**
 * Whether the pin `==pinned` accepts `version`: the same version, or, when the pin has no local
 * label, the same public version with any label (PEP 440 "Version matching": "If the specified
 * version identifier is a public version identifier (no local version label), then the local
 * version label of any candidate versions MUST be ignored"; pip's packaging
 * specifiers.py `Specifier._compare_equal`). So `torch==2.2.2` accepts 2.2.2+cu121 and
 * 2.2.2+cu118 alike, and `torch==2.2.2+cu118` only that build.
 */
export function pinAccepts(pinned: string, version: string): boolean {
    return pinned === version || (!pinned.includes("+") && version.split("+")[0] === pinned);
}

/**
 * The `name==version` pins of a family and its ancestors, root first. Every family of a chain
 * installs into the one venv /opt/venv its root creates, so these are installed in any image of
 * the family (with whatever they depend on). pip turns on --ignore-installed whenever --target
 * is given (src/pip/_internal/commands/install.py: `if options.target_dir:
 * options.ignore_installed = True`), so per-layer --target directories chained on PYTHONPATH
 * would install every shared dependency again in each layer; one environment lets pip see what
 * the parents installed.
 */
export function familyPins(d: FleetData, family: string, track: CudaTrack = "cu121"): FamilyPin[] {
    return lineage(d, family).reverse().flatMap((n) => trackPins(d, n, track).map((p) => {
        const [name, version] = p.split("==");
        return { name, version, family: n };
    }));
}

/** A family's own pins on `track`: `pip`, then `pipByTrack[track]`. */
export function trackPins(d: FleetData, family: string, track: CudaTrack): string[] {
    const f = d.families[family];
    return [...f.pip, ...(f.pipByTrack?.[track] ?? [])];
}

/** Where every family installs its packages (the root's venv, see familyPins). */
export function sitePackages(python: string): string {
    return `/opt/venv/lib/python${python}/site-packages`;
}

/** NVIDIA's per-library wheels: `nvidia-<lib>-cu<major>`, e.g. nvidia-cuda-runtime-cu12. */
const NVIDIA_WHEEL = /^nvidia-(.+)-cu\d+$/;

/**
 * The directories holding the shared libraries of the NVIDIA wheels a family pins itself, sorted
 * so the image's environment does not change when the pins are reordered. Each such wheel puts
 * its libraries in `nvidia/<lib>/lib` of site-packages, <lib> being the project's middle part
 * with `_` for `-` (nvidia-cuda-runtime-cu12: nvidia/cuda_runtime/lib/libcudart.so.12;
 * nvidia-cudnn-cu12: nvidia/cudnn/lib/libcudnn.so.9). A program that dlopens them by soname
 * (onnxruntime-gpu's CUDA provider) finds them only on the loader's search path, and the loader
 * reads LD_LIBRARY_PATH once at process start, so the image's environment must carry it.
 * Families that get these wheels as dependencies of torch need none: torch preloads its own
 * (torch/__init__.py `_load_global_deps`), so only a family's own pins count.
 */
export function nvidiaLibraryDirs(pins: string[], python: string): string[] {
    const libs = pins.map((p) => NVIDIA_WHEEL.exec(normalizeName(p.split("==")[0]))?.[1]).filter((l): l is string => l !== undefined);
    return [...new Set(libs.map((l) => l.replace(/-/g, "_")))].sort().map((l) => `${sitePackages(python)}/nvidia/${l}/lib`);
}

function rootOf(d: FleetData, family: string): string {
    const chain = lineage(d, family);
    return chain[chain.length - 1];
}

/** Python minor version of a family: its root's (only roots state it). */
export function familyPython(d: FleetData, family: string): string {
    return d.families[rootOf(d, family)].python ?? "3.11";
}

/** Stack-level overrides of what images are built from (see StackConfig). */
export interface FamilyOverrides {
    upstreamImage?: string;
    /** One index for every family and service in place of the data's (PyPI, PyTorch). */
    packageIndex?: string;
}

const NO_OVERRIDES: FamilyOverrides = {};
const PYPI = "https://pypi.org/simple";

/** A family's own index (PyTorch's per CUDA track) comes first; PyPI serves the rest. */
function packageIndexes(o: FamilyOverrides, own: string | undefined): string[] {
    if (o.packageIndex) return [o.packageIndex];
    return own ? [own, PYPI] : [];
}

export function familySpec(d: FleetData, family: string, track: CudaTrack, o: FamilyOverrides = NO_OVERRIDES): FamilyImageSpec {
    const f = d.families[family];
    const chain = lineage(d, family).reverse();
    const python = familyPython(d, family);
    const pins = trackPins(d, family, track);
    const isCuda = chain.some((n) => d.families[n].cuda);
    let upstream: string | undefined;
    if (f.upstream) {
        const tag = f.cuda?.upstreamByTrack?.[track] ?? f.upstream.tag;
        // A digest pins one tag only: it is dropped when the track selects another tag.
        const digest = tag === f.upstream.tag && f.upstream.digest ? `@${f.upstream.digest}` : "";
        upstream = o.upstreamImage ?? `${f.upstream.image}:${tag}${digest}`;
    }
    const arch = [...new Set(Object.values(d.hosts).flatMap((h) => (h.gpu ? [h.gpu.smArch] : [])))].sort();
    return {
        family,
        repository: familyRepository(family, track),
        parent: f.parent,
        upstream,
        chain,
        python,
        venvPython: o.upstreamImage ? "python3" : `python${python}`,
        cudaTrack: isCuda ? track : undefined,
        apt: f.apt,
        pip: pins,
        pipIndexes: packageIndexes(o, f.pipIndexByTrack?.[track]),
        cudaArchList: isCuda ? arch.join(";") : undefined,
        libraryDirs: nvidiaLibraryDirs(pins, python),
    };
}

export function serviceKind(d: FleetData, svc: Service): ServiceKind {
    if (svc.compute === "gpu") return "gpu";
    return familyPython(d, svc.family) === "3.10" ? "legacy" : "cpu";
}

/** @param track the stack's CUDA track, which picks its family's pins (`pipByTrack`) */
export function serviceSpec(d: FleetData, service: string, o: FamilyOverrides = NO_OVERRIDES, track: CudaTrack = "cu121"): ServiceImageSpec {
    const svc = d.services[service];
    const rt = familyRuntime(d, svc.family);
    // Images are machine-neutral: ports come from the data without any stack's offset; the
    // container's environment carries the offset ports at run time.
    return {
        service,
        repository: containerName(service),
        family: svc.family,
        kind: serviceKind(d, svc),
        python: familyPython(d, svc.family),
        entrypoint: svc.entrypoint,
        sources: serviceSources(svc),
        requirements: requirementsPath(service, svc),
        unhashedReason: svc.allowUnhashed,
        dockerfileOverride: svc.dockerfile,
        pipIndexes: packageIndexes(o, undefined),
        familyPins: familyPins(d, svc.family, track),
        ports: svc.ports,
        health: { ...HEALTH_DEFAULTS, kind: svc.health.kind, path: svc.health.path, startPeriodSeconds: rt.startPeriodSeconds, startIntervalSeconds: rt.startIntervalSeconds },
    };
}

/** Every image a host plan needs: families in build order, then services in plan order. */
export function imagePlan(d: FleetData, plan: HostPlan, track: CudaTrack, o: FamilyOverrides = NO_OVERRIDES): { families: FamilyImageSpec[]; services: ServiceImageSpec[] } {
    return {
        families: plan.families.map((f) => familySpec(d, f, track, o)),
        services: plan.containers.map((c) => serviceSpec(d, c.service, o, track)),
    };
}
