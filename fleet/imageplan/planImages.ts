/**
 * What each container of a host plan runs, by image reference, before anything is built: the
 * tag a build of this commit gives its image (computed by buildPlan's own functions, never
 * another way), or the image a pin names, where the pin comes from and which build it replaces.
 * Reads git and the application repository as buildPlan does; writes nothing. For
 * `scripts/fleet plan` and `image-targets`.
 */
import * as fs from "fs";
import { checkAppRepo } from "./appRepo";
import { buildFamilies, BuildPaths, buildService, familyOverrides, imagesToBuild, proxyBuild, PROXY_NAME, repoContext, TagInputs } from "./buildPlan";
import { CommitCache } from "./version";
import { familyRepository, imagePlan } from "../model/images";
import { containerName } from "../model/names";
import { ContainerPlan, HostPlan } from "../model/plan";
import { FleetData } from "../model/schema";
import { CONFIG_NAMESPACE, StackConfig } from "../model/stack";

/** What a build of this commit gives an image: its reference, or why that is not known here. */
export type BuildRef = { ref: string } | { unknown: string };

/** Why no service's tag is known without the application repository's checkout (one line at the top says where and how: fleet/ops/unknowns.ts). */
export const NO_APP_REPO = "the application repository is not checked out";

export interface ContainerImage {
    /** `<registry>/<org>/<container>` */
    repository: string;
    /** What the container runs, when known before a build: the pinned image, or the built tag. */
    ref?: string;
    tag?: string;
    /** `sha256:<hex>`: known for a digest pin and for a build lock's images. */
    digest?: string;
    /** `fleet:pins[<i>]` or `build lock <file>`; absent for a built image. */
    pinnedBy?: string;
    /** What a build gives: what runs when nothing pins it, and what a pin replaces. */
    build: BuildRef;
}

export interface FamilyImage {
    family: string;
    /** `<registry>/<org>/<repository>:<tag>` */
    ref: string;
    /** False when only pinned services use it: it is not built. */
    built: boolean;
}

/** One image a build of this commit gives, and what its tag was computed from. */
export interface ImageBuild {
    /** `<registry>/<org>/<repository>:<tag>` */
    ref: string;
    tag: string;
    inputs: TagInputs;
    /** Whether the stack builds it: not a pinned service's, nor a family only pinned services use. */
    built: boolean;
}

export interface PlanImages {
    /** By service. */
    containers: Record<string, ContainerImage>;
    /** Every image whose build is known, by repository name (`family-web`, `cache-manager`). */
    builds: Record<string, ImageBuild>;
    /** Parents first. */
    families: FamilyImage[];
    /** The supervisor's Docker API proxy, when the host runs the supervisor. */
    proxy?: string;
}

/** `repo:tag`, `repo@sha256:...` or `repo:tag@sha256:...` in its parts. */
export function splitRef(ref: string): { repository: string; tag?: string; digest?: string } {
    const at = ref.indexOf("@");
    const name = at < 0 ? ref : ref.slice(0, at);
    const colon = name.lastIndexOf(":");
    const hasTag = colon > name.lastIndexOf("/");
    return {
        repository: hasTag ? name.slice(0, colon) : name,
        ...(hasTag ? { tag: name.slice(colon + 1) } : {}),
        ...(at < 0 ? {} : { digest: ref.slice(at + 1) }),
    };
}

/** Where a pinned container's image comes from: its `fleet:pins` entry, else `fleet:pinAll`'s build lock. */
export function pinSource(cfg: StackConfig, c: ContainerPlan): string | undefined {
    if (c.pinnedImage === undefined) return undefined;
    const i = cfg.pins.findIndex((p) => p.slice(0, p.indexOf("=")) === c.service);
    return i >= 0 ? `${CONFIG_NAMESPACE}:pins[${i}]` : `build lock ${cfg.pinAll}`;
}

/** Every image of the plan as if nothing were pinned: what pins replace is built there. */
function unpinned(plan: HostPlan): HostPlan {
    return {
        ...plan,
        containers: plan.containers.map((c) => {
            const copy = { ...c };
            delete copy.pinnedImage;
            delete copy.pinnedRevision;
            return copy;
        }),
    };
}

export function planImages(d: FleetData, plan: HostPlan, cfg: StackConfig, p: BuildPaths): PlanImages {
    const built = imagesToBuild(d, plan);
    const all = imagesToBuild(d, unpinned(plan));
    const specs = imagePlan(d, { ...plan, families: all.families, containers: all.containers }, cfg.cudaTrack, familyOverrides(cfg));
    const commits: CommitCache = new Map();
    const appRepoMissing = !fs.existsSync(p.appRepo);
    const families = buildFamilies(specs.families, cfg, p, commits);
    const builds: Record<string, ImageBuild> = {};
    for (const f of families.values()) builds[f.spec.repository] = { ref: f.tag, tag: f.version.tag, inputs: f.tagInputs, built: built.families.includes(f.spec.family) };
    const containers: Record<string, ContainerImage> = {};
    const byService = new Map(plan.containers.map((c) => [c.service, c]));
    for (const spec of specs.services) {
        const c = byService.get(spec.service)!;
        const issues = appRepoMissing ? [] : checkAppRepo(p.appRepo, [spec], repoContext(cfg, p));
        const service = appRepoMissing || issues.length > 0 ? undefined : buildService(spec, families.get(spec.family)!, cfg, p, commits).build;
        const build: BuildRef = service ? { ref: service.tag } : { unknown: appRepoMissing ? NO_APP_REPO : issues.map((x) => `${x.path}: ${x.message}`).join("; ") };
        if (service) builds[spec.repository] = { ref: service.tag, tag: service.version.tag, inputs: service.tagInputs, built: c.pinnedImage === undefined };
        const repository = `${cfg.registry}/${cfg.org}/${spec.repository}`;
        const ref = c.pinnedImage ?? ("ref" in build ? build.ref : undefined);
        const parts: { tag?: string; digest?: string } = ref === undefined ? {} : splitRef(ref);
        const pinnedBy = pinSource(cfg, c);
        containers[c.service] = {
            repository,
            ...(ref !== undefined ? { ref } : {}),
            ...(parts.tag !== undefined ? { tag: parts.tag } : {}),
            ...(parts.digest !== undefined ? { digest: parts.digest } : {}),
            ...(pinnedBy !== undefined ? { pinnedBy } : {}),
            build,
        };
    }
    const proxy = all.needsProxy ? proxyBuild(cfg, p, families, commits) : undefined;
    if (proxy) builds[PROXY_NAME] = { ref: proxy.tag, tag: proxy.version.tag, inputs: proxy.tagInputs, built: true };
    return {
        containers,
        builds,
        families: all.families.map((f) => ({ family: f, ref: families.get(f)!.tag, built: built.families.includes(f) })),
        ...(proxy ? { proxy: proxy.tag } : {}),
    };
}

/**
 * What `pulumi up --target` of a stack's images leaves out, and why: pinned services (nothing
 * is built for them), families only they use, and the services the stack does not deploy.
 * One line each, `<image> (<why>)`.
 */
export function leftOutOfBuild(d: FleetData, plan: HostPlan, cfg: StackConfig): string[] {
    const built = imagesToBuild(d, plan).families;
    const families = imagesToBuild(d, unpinned(plan)).families.filter((f) => !built.includes(f));
    return [
        ...plan.containers.filter((c) => c.pinnedImage !== undefined).map((c) => `${c.name} (pinned by ${pinSource(cfg, c)}: nothing is built)`),
        ...families.map((f) => `${familyRepository(f, cfg.cudaTrack)} (only pinned services use it: nothing is built)`),
        ...plan.excluded.map((e) => `${containerName(e.service)} (not deployed: ${e.kind}: ${e.reason})`),
    ];
}
