/**
 * Everything the image components need, resolved before any resource exists: rendered
 * Dockerfiles, contexts, versions and tags. Reads the application repository and git, and
 * writes the services' Dockerfiles (with their ignore files) under the build directory, where
 * docker-build reads them; no Pulumi here.
 */
import * as fs from "fs";
import * as path from "path";
import { PROXY_DEFAULTS } from "../model/defaults";
import { FleetError, FleetIssue } from "../model/issues";
import { familyRepository, FamilyImageSpec, FamilyOverrides, imagePlan, ServiceImageSpec } from "../model/images";
import { familyClosure, HostPlan } from "../model/plan";
import { CudaTrack, FleetData } from "../model/schema";
import { StackConfig } from "../model/stack";
import { renderDockerApiProxy, renderFamily, renderService, renderServiceIgnore } from "../render/dockerfile";
import { AppRepoContext, checkAppRepo } from "./appRepo";
import { stageContext } from "./stage";
import { CommitCache, historyIssues, imageVersion, ImageVersion, sourceDateEpoch } from "./version";

/** The helpers baked into the roots, and their ignore file: the families' build context, staged. */
export const FAMILY_ASSETS = path.resolve(__dirname, "..", "render", "assets");
/**
 * The files of every family's (and the proxy's) image besides its rendered Dockerfile, relative
 * to the project: the build context, staged from FAMILY_ASSETS. Not families.yaml, hosts.yaml or
 * the rendering code: what they give one family is its Dockerfile text, which the tag's recipe
 * hash covers. As files they are shared by every family, so a commit that changed one family's
 * pin would move every family's tag, and with them every service's: every image rebuilt and
 * every container replaced for a one-line change.
 */
export const FAMILY_INPUT_PATHS = ["fleet/render/assets"];

/**
 * What an image's tag is computed from (version.ts `VersionInputs`; the parent by its image
 * repository name): `scripts/fleet diff` says which of them moved.
 */
export interface TagInputs {
    root: string;
    paths: string[];
    recipe: string;
    parent?: string;
}

interface Built {
    /** `<registry>/<org>/<repository>` */
    image: string;
    version: ImageVersion;
    tagInputs: TagInputs;
    /** `<image>:<tag>` */
    tag: string;
    /** Registry cache of this image (002 §C: ref=<registry>/<org>/cache). */
    cacheRef: string;
    /**
     * Build arguments known before any build: SOURCE_DATE_EPOCH (fleet/render/layers.ts), and a
     * root's UPSTREAM_IMAGE. BASE_IMAGE is not among them: the component passes the parent's
     * `ref` output, which is tag@digest once pushed.
     */
    buildArgs: Record<string, string>;
    /** The staged build context, relative to the project directory (fleet/imageplan/stage.ts). */
    context: string;
    labels: Record<string, string>;
}

export interface FamilyBuild extends Built {
    spec: FamilyImageSpec;
    dockerfile: { inline: string };
}

export interface ServiceBuild extends Built {
    spec: ServiceImageSpec;
    /** Relative to the project directory, like `context`. */
    dockerfile: { location: string };
}

/** The HAProxy image (the supervisor's Docker API proxy and every service's front), built FROM base-python. */
export interface ProxyBuild extends Built {
    dockerfile: { inline: string };
    /** The family it is built FROM. */
    family: string;
}

export interface BuildPlan {
    families: FamilyBuild[];
    services: ServiceBuild[];
    /** The HAProxy image: present when the host runs any container (its fronts, and the supervisor's proxy). */
    proxy?: ProxyBuild;
}

export const PROXY_FAMILY = "base-python";
export const PROXY_PORT = PROXY_DEFAULTS.port;
/** The proxy's image repository, container name and network alias. */
export const PROXY_NAME = "docker-api-proxy";

export interface BuildPaths {
    /** The project directory: the working directory of the program and the providers. */
    projectDir: string;
    /** Absolute path of the application repository. */
    appRepo: string;
    /** Where generated Dockerfiles and staged contexts are written (inside the project directory). */
    buildDir: string;
    /** How services.yaml and the stack file are named in messages. */
    servicesFile: string;
    /** The stack file that sets `fleet:appRepo`, e.g. `Pulumi.pc2.yaml`. */
    stackFile: string;
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
    // The HAProxy image runs every service's front (components/serviceFront.ts), not only the
    // supervisor's Docker API proxy: a host with any container builds it.
    const needsProxy = plan.containers.length > 0;
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

function specsToBuild(d: FleetData, plan: HostPlan, cfg: StackConfig) {
    const { families, containers } = imagesToBuild(d, plan);
    return imagePlan(d, { ...plan, families, containers }, cfg.cudaTrack, familyOverrides(cfg));
}

type RepoPaths = Pick<BuildPaths, "appRepo" | "servicesFile" | "stackFile">;

/** How the application repository checks name the stack and the lock images (appRepo.ts). */
export function repoContext(cfg: StackConfig, p: RepoPaths): AppRepoContext {
    return { servicesFile: p.servicesFile, stackFile: p.stackFile, given: cfg.appRepo, lockImages: `${cfg.registry}/${cfg.org}` };
}

/**
 * What the checkouts lack for the images of a plan, the check `buildPlan` makes first: a history
 * the tags can be read from (this repository's and the application's; version.ts
 * `historyIssues`), then what the application repository must hold.
 */
export function appRepoIssues(d: FleetData, plan: HostPlan, cfg: StackConfig, p: RepoPaths & { projectDir: string }): FleetIssue[] {
    const services = specsToBuild(d, plan, cfg).services;
    const history = [
        ...historyIssues(p.projectDir, "this repository", p.stackFile),
        ...(services.length && fs.existsSync(p.appRepo) ? historyIssues(p.appRepo, "fleet:appRepo", p.stackFile) : []),
    ];
    return history.length ? history : checkAppRepo(p.appRepo, services, repoContext(cfg, p));
}

export function buildPlan(d: FleetData, plan: HostPlan, cfg: StackConfig, p: BuildPaths): BuildPlan {
    const { needsProxy } = imagesToBuild(d, plan);
    const specs = specsToBuild(d, plan, cfg);
    const issues = appRepoIssues(d, plan, cfg, p);
    if (issues.length > 0) throw new FleetError(issues);

    stageContext(FAMILY_ASSETS, fs.readdirSync(FAMILY_ASSETS), familyContext(p));
    const commits: CommitCache = new Map();
    const familyBuilds = buildFamilies(specs.families, cfg, p, commits);
    fs.mkdirSync(p.buildDir, { recursive: true });
    const services = specs.services.map((spec) => {
        const { build, files, stage } = buildService(spec, familyBuilds.get(spec.family)!, cfg, p, commits);
        for (const [file, text] of Object.entries(files)) writeIfChanged(file, text);
        if (stage) stageContext(p.appRepo, stage.paths, stage.dir);
        return build;
    });
    return { families: [...familyBuilds.values()], services, proxy: needsProxy ? proxyBuild(cfg, p, familyBuilds, commits) : undefined };
}

type PlanPaths = Pick<BuildPaths, "projectDir" | "buildDir">;

/** A path as the program names it: relative to the project directory (stage.ts says why). */
function rel(p: PlanPaths, abs: string): string {
    return path.relative(p.projectDir, abs) || ".";
}

/** Where the families' (and the proxy's) build context is staged. */
function familyContext(p: PlanPaths): string {
    return path.join(p.buildDir, "contexts", "family");
}

/** The builds of `specs` (parents first), by family; their versions come from the project's history. */
export function buildFamilies(specs: FamilyImageSpec[], cfg: StackConfig, p: PlanPaths, commits: CommitCache): Map<string, FamilyBuild> {
    const builds = new Map<string, FamilyBuild>();
    for (const spec of specs) {
        const text = renderFamily(spec);
        const parent = spec.parent ? builds.get(spec.parent) : undefined; // built first: specs come parents first
        const tagInputs = { root: p.projectDir, paths: FAMILY_INPUT_PATHS, recipe: text, ...(parent ? { parent: parent.spec.repository } : {}) };
        const version = imageVersion({ ...tagInputs, parent: parent?.version }, commits);
        builds.set(spec.family, {
            spec, version, tagInputs, ...names(cfg, spec.repository, version),
            buildArgs: { SOURCE_DATE_EPOCH: sourceDateEpoch(version), ...(spec.upstream ? { UPSTREAM_IMAGE: spec.upstream } : {}) },
            context: rel(p, familyContext(p)),
            dockerfile: { inline: text },
            labels: labels(cfg, spec.repository, version),
        });
    }
    return builds;
}

/**
 * A service's build on top of its family's, from an application repository that passed
 * `checkAppRepo`. Nothing is written here: `files` are the generated Dockerfile and its ignore
 * file, `stage` the inputs to stage as its build context (stage.ts), both under `p.buildDir`.
 */
export function buildService(spec: ServiceImageSpec, family: FamilyBuild, cfg: StackConfig, p: BuildPaths, commits: CommitCache): { build: ServiceBuild; files: Record<string, string>; stage?: { paths: string[]; dir: string } } {
    const inputs = [...spec.sources, spec.requirements, ...(spec.dockerfileOverride ? [spec.dockerfileOverride] : [])];
    const files: Record<string, string> = {};
    let location: string;
    let context: string;
    let recipe: string;
    let stage: { paths: string[]; dir: string } | undefined;
    if (spec.dockerfileOverride) {
        // The application's own Dockerfile may COPY anything of its repository: the whole
        // checkout is its context (by its path relative to this project).
        location = rel(p, path.join(p.appRepo, spec.dockerfileOverride));
        context = rel(p, p.appRepo);
        recipe = fs.readFileSync(path.join(p.appRepo, spec.dockerfileOverride), "utf8");
    } else {
        const text = renderService(spec);
        const ignore = renderServiceIgnore(spec);
        const dockerfile = path.join(p.buildDir, `${spec.repository}.Dockerfile`);
        files[dockerfile] = text;
        // BuildKit reads <Dockerfile>.dockerignore in place of the context root's.
        files[`${dockerfile}.dockerignore`] = ignore;
        stage = { paths: inputs, dir: path.join(p.buildDir, "contexts", spec.repository) };
        location = rel(p, dockerfile);
        context = rel(p, stage.dir);
        recipe = text + ignore;
    }
    const tagInputs = { root: p.appRepo, paths: inputs, recipe, parent: family.spec.repository };
    const version = imageVersion({ ...tagInputs, parent: family.version }, commits);
    const build: ServiceBuild = {
        spec, version, tagInputs, ...names(cfg, spec.repository, version),
        buildArgs: { SOURCE_DATE_EPOCH: sourceDateEpoch(version) },
        context,
        dockerfile: { location },
        labels: labels(cfg, spec.repository, version),
    };
    return { build, files, stage };
}

export function proxyBuild(cfg: StackConfig, p: PlanPaths, families: Map<string, FamilyBuild>, commits: CommitCache): ProxyBuild {
    const base = families.get(PROXY_FAMILY);
    if (!base) throw new Error(`the Docker API proxy needs the ${PROXY_FAMILY} family in the plan`);
    const text = renderDockerApiProxy(PROXY_DEFAULTS);
    const tagInputs = { root: p.projectDir, paths: FAMILY_INPUT_PATHS, recipe: text, parent: base.spec.repository };
    const version = imageVersion({ ...tagInputs, parent: base.version }, commits);
    return {
        family: PROXY_FAMILY, version, tagInputs, ...names(cfg, PROXY_NAME, version),
        buildArgs: { SOURCE_DATE_EPOCH: sourceDateEpoch(version) }, context: rel(p, familyContext(p)), dockerfile: { inline: text }, labels: labels(cfg, PROXY_NAME, version),
    };
}

function writeIfChanged(file: string, text: string): void {
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
    fs.writeFileSync(file, text);
}
