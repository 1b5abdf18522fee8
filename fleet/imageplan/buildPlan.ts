/**
 * Everything the image components need, resolved before any resource exists: rendered
 * Dockerfiles, contexts, versions and tags. Reads the application repository and git, and
 * writes the services' Dockerfiles (with their ignore files) under the build directory, where
 * docker-build reads them; no Pulumi here.
 */
import * as fs from "fs";
import * as path from "path";
import { PROXY_DEFAULTS } from "../model/defaults";
import { FleetError } from "../model/issues";
import { familyRepository, FamilyImageSpec, FamilyOverrides, imagePlan, ServiceImageSpec } from "../model/images";
import { familyClosure, HostPlan } from "../model/plan";
import { CudaTrack, FleetData } from "../model/schema";
import { StackConfig } from "../model/stack";
import { renderDockerApiProxy, renderFamily, renderService, renderServiceIgnore } from "../render/dockerfile";
import { checkAppRepo } from "./appRepo";
import { CommitCache, imageVersion, ImageVersion } from "./version";

/** Context of every family build: the helpers baked into the roots, and their ignore file. */
export const FAMILY_CONTEXT = path.resolve(__dirname, "..", "render", "assets");
/** Inputs of every family besides its rendered Dockerfile, relative to the project. */
const FAMILY_INPUT_PATHS = ["fleet/data/families.yaml", "fleet/data/hosts.yaml", "fleet/render"];

interface Built {
    /** `<registry>/<org>/<repository>` */
    image: string;
    version: ImageVersion;
    /** `<image>:<tag>` */
    tag: string;
    /** Registry cache of this image (002 §C: ref=<registry>/<org>/cache). */
    cacheRef: string;
    /**
     * Build arguments known before any build. BASE_IMAGE is not among them: the component passes
     * the parent's `ref` output, which is tag@digest once pushed.
     */
    buildArgs: Record<string, string>;
    context: string;
    labels: Record<string, string>;
}

export interface FamilyBuild extends Built {
    spec: FamilyImageSpec;
    dockerfile: { inline: string };
}

export interface ServiceBuild extends Built {
    spec: ServiceImageSpec;
    dockerfile: { location: string };
}

/** The supervisor's Docker API proxy image, built FROM base-python. */
export interface ProxyBuild extends Built {
    dockerfile: { inline: string };
    /** The family it is built FROM. */
    family: string;
}

export interface BuildPlan {
    families: FamilyBuild[];
    services: ServiceBuild[];
    /** Present when the host runs the self-healing supervisor. */
    proxy?: ProxyBuild;
}

export const PROXY_FAMILY = "base-python";
export const PROXY_PORT = PROXY_DEFAULTS.port;
/** The proxy's image repository, container name and network alias. */
export const PROXY_NAME = "docker-api-proxy";

export interface BuildPaths {
    projectDir: string;
    /** Absolute path of the application repository. */
    appRepo: string;
    /** Where generated service Dockerfiles are written. */
    buildDir: string;
    /** How services.yaml is named in messages. */
    servicesFile: string;
}

function labels(cfg: StackConfig, title: string, v: ImageVersion): Record<string, string> {
    const l: Record<string, string> = {
        "org.opencontainers.image.title": title,
        "org.opencontainers.image.source": cfg.sourceUrl,
        "org.opencontainers.image.version": v.tag,
        "org.opencontainers.image.revision": v.revision || v.tag,
    };
    if (v.created) l["org.opencontainers.image.created"] = v.created;
    return l;
}

function names(cfg: StackConfig, repository: string, v: ImageVersion) {
    const image = `${cfg.registry}/${cfg.org}/${repository}`;
    return { image, tag: `${image}:${v.tag}`, cacheRef: `${cfg.registry}/${cfg.org}/cache:${repository}` };
}

/** What the stack changes about every image it builds (fleet:upstreamImage, fleet:packageIndex). */
export function familyOverrides(cfg: StackConfig): FamilyOverrides {
    return { upstreamImage: cfg.upstreamImage, packageIndex: cfg.packageIndex };
}

/** What a host plan builds: pinned services (rollback) are not built, nor families only they need. */
export function imagesToBuild(d: FleetData, plan: HostPlan): { families: string[]; containers: HostPlan["containers"]; needsProxy: boolean } {
    const containers = plan.containers.filter((c) => c.pinnedImage === undefined);
    const needsProxy = plan.containers.some((c) => c.dockerApi);
    return { families: familyClosure(d, [...containers.map((c) => c.family), ...(needsProxy ? [PROXY_FAMILY] : [])]), containers, needsProxy };
}

/**
 * URNs of the image resources of a stack (and the components and provider they need), for
 * `pulumi up --target`: the deploy workflow builds and scans images before it deploys.
 * Mirrors the resource names and parents of components/hostImages.ts and fleetHost.ts.
 */
export function imageTargetUrns(d: FleetData, plan: HostPlan, stack: string, track: CudaTrack): string[] {
    const { families, containers, needsProxy } = imagesToBuild(d, plan);
    const urn = (types: string[], name: string) => `urn:pulumi:${stack}::fleet::${types.join("$")}::${name}`;
    const host = "fleet:images:HostImages";
    const out = [urn(["pulumi:providers:docker-build"], `${plan.machine}-build`), urn([host], plan.machine)];
    for (const f of families) {
        const repo = familyRepository(f, track);
        out.push(urn([host, "fleet:images:FamilyImage"], repo), urn([host, "fleet:images:FamilyImage", "docker-build:index:Image"], repo));
    }
    for (const c of containers) {
        out.push(urn([host, "fleet:images:ServiceImage"], c.name), urn([host, "fleet:images:ServiceImage", "docker-build:index:Image"], c.name));
    }
    if (needsProxy) {
        const fh = ["fleet:host:FleetHost", "fleet:host:DockerApiProxy"];
        const name = `${plan.machine}-${PROXY_NAME}`;
        out.push(urn([fh[0]], plan.machine), urn(fh, name), urn([...fh, "fleet:images:ProxyImage"], name), urn([...fh, "fleet:images:ProxyImage", "docker-build:index:Image"], name));
    }
    return out;
}

export function buildPlan(d: FleetData, plan: HostPlan, cfg: StackConfig, p: BuildPaths): BuildPlan {
    const { families, containers: built, needsProxy } = imagesToBuild(d, plan);
    const specs = imagePlan(d, { ...plan, families, containers: built }, cfg.cudaTrack, familyOverrides(cfg));
    const issues = checkAppRepo(p.appRepo, specs.services, p.servicesFile);
    if (issues.length > 0) throw new FleetError(issues);

    const commits: CommitCache = new Map();
    const familyBuilds = buildFamilies(specs.families, cfg, p.projectDir, commits);
    fs.mkdirSync(p.buildDir, { recursive: true });
    const services = specs.services.map((spec) => {
        const { build, files } = buildService(spec, familyBuilds.get(spec.family)!, cfg, p, commits);
        for (const [file, text] of Object.entries(files)) writeIfChanged(file, text);
        return build;
    });
    return { families: [...familyBuilds.values()], services, proxy: needsProxy ? proxyBuild(cfg, p, familyBuilds, commits) : undefined };
}

/** The builds of `specs` (parents first), by family; their versions come from `projectDir`'s history. */
export function buildFamilies(specs: FamilyImageSpec[], cfg: StackConfig, projectDir: string, commits: CommitCache): Map<string, FamilyBuild> {
    const builds = new Map<string, FamilyBuild>();
    for (const spec of specs) {
        const text = renderFamily(spec);
        const parent = spec.parent ? builds.get(spec.parent) : undefined; // built first: specs come parents first
        const version = imageVersion({ root: projectDir, paths: FAMILY_INPUT_PATHS, recipe: text, parent: parent?.version }, commits);
        builds.set(spec.family, {
            spec, version, ...names(cfg, spec.repository, version),
            buildArgs: spec.upstream ? { UPSTREAM_IMAGE: spec.upstream } : {},
            context: FAMILY_CONTEXT,
            dockerfile: { inline: text },
            labels: labels(cfg, spec.repository, version),
        });
    }
    return builds;
}

/**
 * A service's build on top of its family's, from an application repository that passed
 * `checkAppRepo`; `files` are the generated Dockerfile and its ignore file, which the build
 * reads from `p.buildDir` (not written here).
 */
export function buildService(spec: ServiceImageSpec, family: FamilyBuild, cfg: StackConfig, p: BuildPaths, commits: CommitCache): { build: ServiceBuild; files: Record<string, string> } {
    let location: string;
    let recipe: string;
    const files: Record<string, string> = {};
    if (spec.dockerfileOverride) {
        location = path.join(p.appRepo, spec.dockerfileOverride);
        recipe = fs.readFileSync(location, "utf8");
    } else {
        const text = renderService(spec);
        const ignore = renderServiceIgnore(spec);
        location = path.join(p.buildDir, `${spec.repository}.Dockerfile`);
        files[location] = text;
        // BuildKit reads <Dockerfile>.dockerignore in place of the context root's.
        files[`${location}.dockerignore`] = ignore;
        recipe = text + ignore;
    }
    const inputs = [...spec.sources, spec.requirements, ...(spec.dockerfileOverride ? [spec.dockerfileOverride] : [])];
    const version = imageVersion({ root: p.appRepo, paths: inputs, recipe, parent: family.version }, commits);
    const build: ServiceBuild = {
        spec, version, ...names(cfg, spec.repository, version),
        buildArgs: {},
        context: p.appRepo,
        dockerfile: { location },
        labels: labels(cfg, spec.repository, version),
    };
    return { build, files };
}

export function proxyBuild(cfg: StackConfig, p: Pick<BuildPaths, "projectDir">, families: Map<string, FamilyBuild>, commits: CommitCache): ProxyBuild {
    const base = families.get(PROXY_FAMILY);
    if (!base) throw new Error(`the Docker API proxy needs the ${PROXY_FAMILY} family in the plan`);
    const text = renderDockerApiProxy(PROXY_DEFAULTS);
    const version = imageVersion({ root: p.projectDir, paths: FAMILY_INPUT_PATHS, recipe: text, parent: base.version }, commits);
    return {
        family: PROXY_FAMILY, version, ...names(cfg, PROXY_NAME, version),
        buildArgs: {}, context: FAMILY_CONTEXT, dockerfile: { inline: text }, labels: labels(cfg, PROXY_NAME, version),
    };
}

function writeIfChanged(file: string, text: string): void {
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
    fs.writeFileSync(file, text);
}
