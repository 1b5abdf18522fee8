/**
 * The fleet program: reads the stack config, plans the host, builds its images, runs its
 * containers and exports what runs where. parse -> validate -> plan happen in fleet/ (no
 * Pulumi there); this file wires the plan to components.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { FleetHost } from "./components/fleetHost";
import { HostImages } from "./components/hostImages";
import { buildProvider, dockerProvider, RegistryCredentials } from "./components/providers";
import { BuildPlan, buildPlan } from "./fleet/imageplan/buildPlan";
import { minDriver } from "./fleet/model/check";
import { FleetError, FleetIssue } from "./fleet/model/issues";
import { fleetDataDir, fleetFiles, loadFleet } from "./fleet/model/load";
import { endpointOf, HostPlan, planHost } from "./fleet/model/plan";
import { rollbackPins } from "./fleet/model/rollback";
import { FleetData } from "./fleet/model/schema";
import { advertiseAddress, CONFIG_NAMESPACE, fleetKeys, parseStackConfig, StackConfig } from "./fleet/model/stack";
import { removalsHighestFirst, withCommands } from "./fleet/pulumi/commands";
import { loadProject } from "./fleet/pulumi/load";
import { skipPromiseStacks } from "./fleet/pulumi/promiseStacks";

// Before the first resource: two thirds of the evaluation went to stacks nobody reads (the module says).
skipPromiseStacks();

const stack = pulumi.getStack();
const stackFile = `Pulumi.${stack}.yaml`;

/**
 * Registry credentials, only ever read as secrets. Pulumi.yaml leaves them undeclared (a declared
 * secret would be required on every stack, local included); `scripts/fleet check-stack` refuses a
 * plaintext value or a lone username or password before `pulumi up`.
 */
function credentials(cfg: StackConfig): RegistryCredentials | undefined {
    const config = new pulumi.Config(CONFIG_NAMESPACE);
    const password = config.getSecret("registryPassword");
    const username = config.getSecret("registryUsername");
    if (username === undefined || password === undefined) return undefined;
    return { address: cfg.registry, username, password };
}

interface Resolved {
    fleet: FleetData;
    cfg: StackConfig;
    plan: HostPlan;
    build: BuildPlan;
    creds?: RegistryCredentials;
}

/**
 * What the environment `pulumi up` runs in must give: the project directory as the working
 * directory, which the Pulumi engine gives the program and the providers it starts (pulumi/pulumi
 * pkg/engine/project.go getPwdMain, sdk/go/common/resource/plugin/plugin.go `cmd.Dir = pwd`) and
 * which the build contexts are named relative to; and BUILDX_NO_DEFAULT_ATTESTATIONS=1, which
 * docker-build's exec mode hands on to `docker buildx build` with the rest of its environment
 * (pulumi-docker-build v0.0.22 cli.go `exec`). Without it buildx attaches a provenance attestation
 * holding the build's start and end times to every image, so an image built again from the same
 * inputs gets another digest and every container that runs it is replaced.
 */
function environmentIssues(projectDir: string): FleetIssue[] {
    const issues: FleetIssue[] = [];
    if (path.resolve(process.cwd()) !== path.resolve(projectDir)) {
        issues.push({ file: "environment", path: "working directory", message: `is ${process.cwd()}, not the project directory ${projectDir}`, fix: `run pulumi from ${projectDir} (or with --cwd ${projectDir})` });
    }
    if (process.env.BUILDX_NO_DEFAULT_ATTESTATIONS !== "1") {
        issues.push({
            file: "environment", path: "BUILDX_NO_DEFAULT_ATTESTATIONS",
            message: "is not 1: buildx would attach a provenance attestation with the build's times to every image, so an unchanged image built again gets another digest and its containers are replaced",
            fix: "export BUILDX_NO_DEFAULT_ATTESTATIONS=1 before pulumi (scripts/local-up and the workflows set it)",
        });
    }
    return issues;
}

/** parse -> validate -> plan; every problem at once, nothing created before they are all fixed. */
function resolve(): Resolved {
    try {
        const projectDir = __dirname;
        const env = environmentIssues(projectDir);
        if (env.length > 0) throw new FleetError(env);
        const fleet = loadFleet(fleetDataDir());
        const cfg = parseStackConfig(fleetKeys(pulumi.runtime.allConfig()), fleet, stackFile);
        const plan = planHost(fleet, cfg, rollbackPins(fleet, cfg, projectDir, stack, stackFile));
        const build = buildPlan(fleet, plan, cfg, {
            projectDir,
            appRepo: path.resolve(projectDir, cfg.appRepo),
            buildDir: path.join(projectDir, ".fleet", "build", stack),
            servicesFile: fleetFiles(fleetDataDir()).services,
            stackFile,
        });
        return { fleet, cfg, plan, build, creds: credentials(cfg) };
    } catch (e) {
        // RunError prints the message alone: the operator sees the problems, not a stack trace.
        if (e instanceof FleetError) throw new pulumi.RunError(withFixCommands(e).message);
        throw e;
    }
}

/** The problems with the `pulumi config` commands that fix them, as `scripts/fleet check-stack` prints them. */
function withFixCommands(e: FleetError): FleetError {
    try {
        const project = loadProject(__dirname);
        return new FleetError(removalsHighestFirst(e.issues, stack).map((i) => withCommands(i, stack, project)));
    } catch {
        return e;
    }
}

const { fleet, cfg, plan, build, creds } = resolve();

const settings = {
    output: cfg.imageOutput,
    buildOnPreview: cfg.buildOnPreview,
    network: cfg.buildNetwork,
    credentials: creds,
    builder: cfg.buildxBuilder,
    provider: buildProvider(`${cfg.machine}-build`, cfg.dockerHost, creds),
};
const images = new HostImages(cfg.machine, { plan: build, settings });
const peer = cfg.peerStack ? new pulumi.StackReference(cfg.peerStack) : undefined;
const host = new FleetHost(cfg.machine, {
    plan,
    build,
    images,
    settings,
    provider: dockerProvider(`${cfg.machine}-docker`, cfg.dockerHost, creds),
    dockerHost: cfg.dockerHost,
    gpu: cfg.gpu && fleet.hosts[cfg.machine].gpu !== null,
    minDriverMajor: minDriver(fleet, cfg.cudaTrack),
    apparmorProfile: cfg.apparmorProfile,
    peerEndpoints: peer?.getOutput("endpoints"),
    peerStack: cfg.peerStack,
});

const address = advertiseAddress(cfg);

export const machine = plan.machine;
export const families = plan.families;
/** Per service: where it answers, what it runs, and under which container name. */
export const services = Object.fromEntries(plan.containers.map((c) => [c.service, {
    container: host.containers[c.service].containerName,
    endpoint: endpointOf(c),
    health: `http://${address}:${c.ports.health}${c.health.path}`,
    family: c.family,
    gpu: c.gpu !== null,
    image: images.services[c.service]?.runRef ?? c.pinnedImage,
    imageDigest: host.containers[c.service].imageDigest,
    pinned: c.pinnedImage !== undefined,
}]));
/** Per service of another host this one uses: the endpoint its peer front forwards to (the peer stack's, checked). */
export const peers = Object.fromEntries(Object.entries(host.peerFronts).map(([service, f]) => [service, f.endpoint]));
/** Service endpoints by name, read by other hosts' stacks through a StackReference. */
export const endpoints = Object.fromEntries(plan.containers.map((c) => [c.service, endpointOf(c)]));
export const summary = {
    machine: plan.machine,
    containers: plan.containers.length,
    gpuContainers: plan.containers.filter((c) => c.gpu?.capabilities.includes("gpu")).length,
    families: plan.families.length,
    portOffset: plan.portOffset,
    cudaTrack: plan.cudaTrack,
    network: host.networkName,
    /** The host front holding every service's host ports (components/hostFront.ts). */
    front: host.front?.containerName ?? null,
    preflight: host.preflight.report,
};
export const notDeployed = Object.fromEntries(plan.excluded.map((e) => [e.service, `${e.kind}: ${e.reason}`]));
