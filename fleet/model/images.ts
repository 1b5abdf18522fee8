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
    pipIndex?: string;
    /** SM architectures of the fleet's GPUs, for TORCH_CUDA_ARCH_LIST (CUDA families only). */
    cudaArchList?: string;
    /** Package directories of this family and its ancestors, child first (see layerDirs). */
    layers: string[];
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
    /** The family's package directories, child first; the service's own comes before them. */
    familyLayers: string[];
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

/**
 * A root family installs its packages into the venv /opt/venv; every descendant installs into
 * /opt/layers/<name> and puts it on PYTHONPATH. A child copying the whole venv instead would
 * store its parent's packages again in its own layer (torch alone is gigabytes).
 */
export function layerDirs(d: FleetData, family: string): string[] {
    return lineage(d, family).filter((n) => d.families[n].parent !== undefined && d.families[n].pip.length > 0).map((n) => `/opt/layers/${n}`);
}

function rootOf(d: FleetData, family: string): string {
    const chain = lineage(d, family);
    return chain[chain.length - 1];
}

/** Python minor version of a family: its root's (only roots state it). */
export function familyPython(d: FleetData, family: string): string {
    return d.families[rootOf(d, family)].python ?? "3.11";
}

/** Stack-level overrides of what families are built from (see StackConfig). */
export interface FamilyOverrides {
    upstreamImage?: string;
    installFamilyPackages: boolean;
}

const NO_OVERRIDES: FamilyOverrides = { installFamilyPackages: true };

export function familySpec(d: FleetData, family: string, track: CudaTrack, o: FamilyOverrides = NO_OVERRIDES): FamilyImageSpec {
    const f = d.families[family];
    const chain = lineage(d, family).reverse();
    const python = familyPython(d, family);
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
        apt: o.installFamilyPackages ? f.apt : [],
        pip: o.installFamilyPackages ? f.pip : [],
        pipIndex: o.installFamilyPackages ? f.pipIndexByTrack?.[track] : undefined,
        cudaArchList: isCuda ? arch.join(";") : undefined,
        layers: layerDirs(d, family),
    };
}

export function serviceKind(d: FleetData, svc: Service): ServiceKind {
    if (svc.compute === "gpu") return "gpu";
    return familyPython(d, svc.family) === "3.10" ? "legacy" : "cpu";
}

export function serviceSpec(d: FleetData, service: string): ServiceImageSpec {
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
        familyLayers: layerDirs(d, svc.family),
        ports: svc.ports,
        health: { ...HEALTH_DEFAULTS, kind: svc.health.kind, path: svc.health.path, startPeriodSeconds: rt.startPeriodSeconds, startIntervalSeconds: rt.startIntervalSeconds },
    };
}

/** Every image a host plan needs: families in build order, then services in plan order. */
export function imagePlan(d: FleetData, plan: HostPlan, track: CudaTrack, o: FamilyOverrides = NO_OVERRIDES): { families: FamilyImageSpec[]; services: ServiceImageSpec[] } {
    return {
        families: plan.families.map((f) => familySpec(d, f, track, o)),
        services: plan.containers.map((c) => serviceSpec(d, c.service)),
    };
}
