/** What each ops CLI command does (fleet/ops/help.ts describes them; fleet/cli.ts dispatches). */
import * as fs from "fs";
import * as path from "path";
import { APP_REPO_FILE, checkoutOutputs, checkoutPath, readAppRepoPin } from "../imageplan/appRepoPin";
import { readPastDeployment, rollbackRows } from "../imageplan/checkpoint";
import { buildLock, lockTargets } from "../imageplan/lock";
import { imageTargetUrns } from "../imageplan/buildPlan";
import { leftOutOfBuild, planImages, splitRef } from "../imageplan/planImages";
import { familySpec, serviceSpec } from "../model/images";
import { SBOM_INDEX } from "../model/defaults";
import { FleetError } from "../model/issues";
import { fleetFiles, loadFleet } from "../model/load";
import { gpuBudget } from "../model/gpuMemory";
import { HostPlan, planHost } from "../model/plan";
import { rollbackPins } from "../model/rollback";
import { CUDA_TRACKS, CudaTrack, FleetData } from "../model/schema";
import { fleetKeys, parseStackConfigWithUnknowns, StackConfig } from "../model/stack";
import { checkStack } from "../pulumi/checkStack";
import { loadStack, stackNames } from "../pulumi/load";
import { renderDiagrams } from "../render/diagram";
import { GateInputError, judge, readAllowlist, verdictLines } from "../security/cveGate";
import { readSbom, sbomDigest } from "../security/sbom";
import { renderFamily, renderService, renderServiceIgnore } from "../render/dockerfile";
import { Args, UsageError } from "./args";
import { diffRefs } from "./diff";
import { diffJson, renderDiff } from "./diffText";
import { CommandHelp } from "./help";
import { planDocument, planJson } from "./planView";
import { renderPlan } from "./planText";
import { missingSbomDir, sbomFilesIn, sbomImages } from "./sbom";
import { publishSboms, readPublishedSboms } from "./sbomPublish";
import { overridesOf, StackInputs } from "./stackInputs";
import { appRepoUnknownLine, unknownKeyLine } from "./unknowns";

/** This repository: its fleet/render and fleet/data are the family images' inputs (index.ts's directory). */
export const REPOSITORY_DIR = path.resolve(__dirname, "..", "..");
/** The committed diagrams, relative to the project. */
export const DIAGRAM_FILE = "docs/fleet-diagrams.md";

export interface CliIO {
    out: (line: string) => void;
    err: (line: string) => void;
}

export interface Context {
    io: CliIO;
    /** Where Pulumi.yaml and the stack files are. */
    projectDir: string;
    /** The fleet data directory (--fleet DIR). */
    fleetDir: string;
}

type Run = (a: Args, ctx: Context, c: CommandHelp) => number | Promise<number>;

/** The positional arguments, exactly `count` of them, or a usage error saying what is expected. */
function positional(a: Args, c: CommandHelp, count: number, expected: string): string[] {
    if (a.positional.length !== count) throw new UsageError(`${c.name} ${expected}`, c);
    return a.positional;
}

function summary(d: FleetData): string {
    const placements = Object.values(d.services).reduce((n, s) => n + s.hosts.length, 0);
    return `fleet data is valid: ${Object.keys(d.services).length} services (${placements} placements) on ${Object.keys(d.hosts).length} hosts, ${Object.keys(d.families).length} families`;
}

/** The stack options of the command line (stackInputs.ts). */
function stackInputs(a: Args, projectDir: string, c: CommandHelp): StackInputs {
    const all: string[] = [];
    const byStack: Record<string, string[]> = {};
    for (const v of a.all.config ?? []) {
        const m = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(v);
        if (m) (byStack[m[1]] ??= []).push(path.resolve(m[2]));
        else all.push(path.resolve(v));
    }
    const stacks = stackNames(projectDir);
    const unknown = Object.keys(byStack).filter((s) => !stacks.includes(s));
    if (unknown.length) throw new UsageError(`--config ${unknown[0]}=...: no stack '${unknown[0]}' in this checkout (${stacks.join(", ")})`, c);
    const appRepo = a.options["app-repo"];
    return { overrides: { all, byStack }, ...(appRepo ? { appRepo: path.resolve(appRepo) } : {}) };
}

/**
 * The stack's `fleet:` config as `pulumi up` merges it (secrets are not needed to plan), the
 * options on top; what no checkout holds takes its placeholder, said in `unknown` (unknowns.ts).
 */
function stackConfig(projectDir: string, stack: string, data: FleetData, inputs: StackInputs): { cfg: StackConfig; unknown: string[] } {
    const read = parseStackConfigWithUnknowns(fleetKeys(loadStack(projectDir, stack, { overrides: overridesOf(inputs, stack) }).config), data, `Pulumi.${stack}.yaml`);
    const cfg = inputs.appRepo ? { ...read.cfg, appRepo: inputs.appRepo } : read.cfg;
    const unknown = read.unknown.map((i) => unknownKeyLine(i, stack));
    const app = appRepoUnknownLine(path.resolve(projectDir, cfg.appRepo), stack);
    return { cfg, unknown: app ? [...unknown, app] : unknown };
}

/** The stack's config and its plan, and what could not be known. */
function stackPlan(projectDir: string, stack: string, data: FleetData, inputs: StackInputs): { cfg: StackConfig; plan: HostPlan; unknown: string[] } {
    const { cfg, unknown } = stackConfig(projectDir, stack, data, inputs);
    return { cfg, unknown, plan: planHost(data, cfg, rollbackPins(data, cfg, projectDir, stack, `Pulumi.${stack}.yaml`)) };
}

/** What a build of this commit gives the stack's images, with the paths the program builds with (index.ts): nothing is written. */
function stackImages(data: FleetData, hostPlan: HostPlan, cfg: StackConfig, projectDir: string, fleetDir: string, stack: string): ReturnType<typeof planImages> {
    return planImages(data, hostPlan, cfg, {
        projectDir: REPOSITORY_DIR,
        appRepo: path.resolve(projectDir, cfg.appRepo),
        buildDir: path.join(projectDir, ".fleet", "build", stack),
        servicesFile: fleetFiles(fleetDir).services,
        stackFile: `Pulumi.${stack}.yaml`,
    });
}

/** Renders every family and every service (of every host): images are machine-neutral. */
export function writeDockerfiles(d: FleetData, out: string, track: CudaTrack): { families: number; services: number } {
    fs.mkdirSync(out, { recursive: true });
    const families = Object.keys(d.families).map((f) => familySpec(d, f, track));
    for (const f of families) fs.writeFileSync(path.join(out, `${f.repository}.Dockerfile`), renderFamily(f));
    const services = Object.keys(d.services).map((s) => serviceSpec(d, s)).filter((s) => !s.dockerfileOverride);
    for (const s of services) {
        fs.writeFileSync(path.join(out, `${s.repository}.Dockerfile`), renderService(s));
        fs.writeFileSync(path.join(out, `${s.repository}.Dockerfile.dockerignore`), renderServiceIgnore(s));
    }
    return { families: families.length, services: services.length };
}

const validate: Run = (a, { io, fleetDir }, c) => {
    positional(a, c, 0, "takes no arguments");
    io.out(summary(loadFleet(fleetDir)));
    return 0;
};

const plan: Run = (a, { io, projectDir, fleetDir }, c) => {
    const [stack] = positional(a, c, 1, "needs exactly one stack name, e.g. plan mainpc");
    const inputs = stackInputs(a, projectDir, c);
    const data = loadFleet(fleetDir);
    const { cfg, plan: hostPlan, unknown } = stackPlan(projectDir, stack, data, inputs);
    const images = stackImages(data, hostPlan, cfg, projectDir, fleetDir, stack);
    const onCard = hostPlan.containers.filter((x) => x.gpu?.capabilities.includes("gpu")).map((x) => x.service);
    const doc = planDocument(stack, hostPlan, images, unknown, onCard.length ? gpuBudget(data, hostPlan.machine, onCard) : undefined);
    if (a.flags.has("json")) io.out(planJson(doc));
    else renderPlan(doc).forEach((l) => io.out(l));
    return 0;
};

const checkStackCommand: Run = (a, { io, projectDir, fleetDir }, c) => {
    const [stack] = positional(a, c, 1, "needs exactly one stack name, e.g. check-stack local");
    // As `pulumi up` would refuse them: a value left to the operator is a problem here.
    const inputs = stackInputs(a, projectDir, c);
    const r = checkStack(projectDir, stack, { fleetDir, overrides: overridesOf(inputs, stack), appRepo: inputs.appRepo });
    if (r.issues.length) throw new FleetError(r.issues);
    io.out(`Pulumi.${stack}.yaml: stack '${stack}' loads as \`pulumi up\` loads it: ${r.keys} keys, ${r.defaults} of them Pulumi.yaml defaults; the fleet: config is valid; the application repository holds what its ${r.checkedServices} services are built from`);
    return 0;
};

const imageTargets: Run = (a, { io, projectDir, fleetDir }, c) => {
    const [stack] = positional(a, c, 1, "needs exactly one stack name");
    const inputs = stackInputs(a, projectDir, c);
    const data = loadFleet(fleetDir);
    const { cfg, plan: hostPlan, unknown } = stackPlan(projectDir, stack, data, inputs);
    // Standard output is the URN list alone: the deploy workflow reads it with mapfile. The URNs
    // need neither the host's address nor the application repository; what is unknown is said.
    unknown.forEach((l) => io.err(l));
    imageTargetUrns(data, hostPlan, stack, cfg.cudaTrack).forEach((u) => io.out(u));
    leftOutOfBuild(data, hostPlan, cfg).forEach((l) => io.err(`left out: ${l}`));
    return 0;
};

const lockTargetsCommand: Run = (a, { io, fleetDir }, c) => {
    positional(a, c, 0, "takes no arguments");
    lockTargets(loadFleet(fleetDir)).forEach((t) => io.out(`${t.service} ${t.python} ${t.input} ${t.output} ${t.family}`));
    return 0;
};

const buildLockCommand: Run = (a, { io }, c) => {
    const [file] = positional(a, c, 1, "needs the export file, or - for standard input");
    const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
    const lock = buildLock(JSON.parse(text));
    io.out(JSON.stringify(a.options.sboms === undefined ? lock : { ...lock, sboms: sbomsOf(lock.built, a.options.sboms) }, null, 2));
    return 0;
};

/**
 * Each built image's SBOM digest, from the SBOMs `sbom` wrote to DIR (the scan job's artifact):
 * the SBOM whose subject is the image's repository at its digest. A built image without one is
 * an error naming it: the lock would otherwise say nothing of what the image holds.
 */
function sbomsOf(built: Record<string, string>, dir: string): Record<string, string> {
    if (!fs.existsSync(dir)) throw new FleetError([missingSbomDir(dir)], "the SBOMs");
    const bySubject = new Map<string, string>();
    for (const f of sbomFilesIn(dir)) {
        const bytes = fs.readFileSync(f);
        const s = readSbom(bytes.toString("utf8")).subject;
        bySubject.set(`${s.name}@${s.version}`, sbomDigest(bytes));
    }
    const out: Record<string, string> = {};
    const missing: string[] = [];
    for (const [name, ref] of Object.entries(built)) {
        const { repository, digest } = splitRef(ref);
        const found = bySubject.get(`${repository}@${digest}`);
        if (found) out[name] = found;
        else missing.push(name);
    }
    if (missing.length) {
        throw new FleetError(missing.map((name) => ({ file: dir, path: name, message: `has no SBOM of ${built[name]}`, fix: `make it: scripts/fleet sbom <refs file> --out ${dir}` })), "the SBOMs");
    }
    return out;
}

/**
 * `sbom <refs file|-> --out DIR [--check]`: per image reference (tag@digest, one a line), its
 * CycloneDX SBOM written to DIR/<repository name>.cdx.json and checked against the image; with
 * --check, only the check of the SBOMs DIR holds. Every image is done before the verdict.
 */
const sbom: Run = async (a, { io }, c) => {
    const [list] = positional(a, c, 1, "needs the file of image references (one tag@digest a line), or - for standard input");
    const out = a.options.out;
    if (!out) throw new UsageError(`${c.name} needs --out DIR: where each image's <name>.cdx.json is written (or read, with --check)`, c);
    if (list !== "-" && !fs.existsSync(list)) throw new FleetError([{ file: list, path: "", message: "does not exist", fix: "write the image references, one a line: pulumi stack export | scripts/image-refs.sh > image-refs.txt" }], "the image list");
    const refs = fs.readFileSync(list === "-" ? 0 : list, "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPOSITORY_DIR, "package.json"), "utf8")) as { version: string };
    const runs = await sbomImages(refs, out, { name: "fleet sbom", version: pkg.version }, a.flags.has("check"));
    for (const r of runs) {
        if (r.made) io.out(`sbom: ${r.ref}: ${r.made} -> ${r.file}`);
        r.problems.forEach((p) => io.err(`sbom: ${r.ref}: ${r.file}: ${p}`));
        if (r.fix) io.err(`sbom: ${r.ref}: ${r.file}: Fix: ${r.fix}`);
        if (!r.problems.length) io.out(`sbom: ${r.ref}: lists exactly what the image holds (${r.digest})`);
    }
    const bad = runs.filter((r) => r.problems.length).length;
    (bad ? io.err : io.out)(`sbom: ${runs.length - bad} of ${runs.length} images' SBOMs list exactly what they hold${bad ? `; ${bad} ${bad === 1 ? "does" : "do"} not` : ""}`);
    return bad ? 1 : 0;
};

/**
 * `publish-sboms <stack> <dir>`: every SBOM of DIR read and checked first (nothing is written when
 * one is bad), then merged into the stack's host's SBOM index (fleet/ops/sbomPublish.ts).
 */
const publishSbomsCommand: Run = async (a, { io, projectDir, fleetDir }, c) => {
    const [stack, dir] = positional(a, c, 2, "needs the stack and the SBOM directory, e.g. publish-sboms mainpc sboms");
    const inputs = stackInputs(a, projectDir, c);
    // The engine is the one Pulumi deploys to: a value this checkout does not hold is refused, not guessed.
    const read = parseStackConfigWithUnknowns(fleetKeys(loadStack(projectDir, stack, { overrides: overridesOf(inputs, stack) }).config), loadFleet(fleetDir), `Pulumi.${stack}.yaml`);
    const needed = read.unknown.filter((i) => i.unknown!.key === "dockerHost" || i.unknown!.key === "machine");
    if (needed.length) throw new FleetError(needed.map((i) => ({ ...i, fix: `${i.fix}, or give it: --config ${stack}=FILE` })));
    const cfg = read.cfg;
    const { sboms, problems } = readPublishedSboms(dir);
    if (problems.length) throw new FleetError(problems, "the SBOMs");
    const r = await publishSboms(sboms, cfg.machine, cfg.dockerHost, new Date());
    if (r.replacedUnreadable) io.err(`publish-sboms: ${r.volume}: the index there was unreadable (${r.replacedUnreadable}); it is replaced by this one`);
    io.out(`publish-sboms: ${r.volume} on ${cfg.dockerHost}: ${sboms.length} SBOM digest${sboms.length === 1 ? "" : "s"} published (${r.added.length} new, ${r.updated.length} again), ${r.dropped.length} dropped (not published for ${SBOM_INDEX.keepDays} days), ${Object.keys(r.index.images).length} in the index`);
    return 0;
};

/**
 * `rollback <stack> --from FILE`: the build lock of a past deployment, from what Pulumi recorded
 * of it (fleet/imageplan/checkpoint.ts), written where `fleet:pinAll` reads it, and what that
 * does to each container against this commit's data. Nothing is written when the file is not a
 * deployment of this stack, or records no image any container ran.
 */
const rollback: Run = (a, { io, projectDir, fleetDir }, c) => {
    const [stack] = positional(a, c, 1, "needs exactly one stack name, e.g. rollback pc2 --from pc2-v41.json");
    const inputs = stackInputs(a, projectDir, c);
    const from = a.options.from;
    if (!from) throw new UsageError(`${c.name} needs --from FILE: the deployment to go back to (pulumi stack export --stack ${stack} --version N --file FILE)`, c);
    const file = path.resolve(from);
    if (!fs.existsSync(file)) throw new FleetError([{ file: from, path: "", message: "does not exist", fix: `export the deployment first: pulumi stack export --stack ${stack} --version <N> --file ${from}` }]);
    const past = readPastDeployment(from, fs.readFileSync(file));
    if (past.project !== "fleet" || past.stack !== stack) {
        throw new FleetError([{ file: from, path: "", message: `is a deployment of stack '${past.stack}' of project '${past.project}', not of stack '${stack}' of project 'fleet'`, fix: `export stack ${stack}'s: pulumi stack export --stack ${stack} --version <N> --file <file>` }]);
    }
    const lock = buildLock({ deployment: { resources: past.resources } });
    if (Object.keys(lock.running).length === 0) {
        throw new FleetError([{ file: from, path: "", message: "records no image any container ran (no docker:index/remoteImage:RemoteImage resource): nothing can be restored from it", fix: "pick a version that deployed the fleet's containers (pulumi stack history), or pin each service (fleet:pins)" }]);
    }
    const data = loadFleet(fleetDir);
    const { cfg, unknown } = stackConfig(projectDir, stack, data, inputs);
    unknown.forEach((l) => io.err(l));
    // This commit's containers, whatever the stack pins now: the rollback replaces any pinAll.
    const hostPlan = planHost(data, { ...cfg, pinAll: undefined });
    const images = stackImages(data, hostPlan, cfg, projectDir, fleetDir, stack);
    const builds = Object.fromEntries(Object.entries(images.containers).map(([s, i]) => [s, i.build]));
    const rows = rollbackRows(lock, hostPlan.containers, builds);
    const out = a.options.out ?? `build-lock-${stack}.json`;
    fs.writeFileSync(path.resolve(out), `${JSON.stringify(lock, null, 2)}\n`);
    io.out(`${from}: a ${past.format} of stack ${stack}; wrote ${out}, the build lock fleet:pinAll takes`);
    const width = Math.max(...rows.map((r) => r.service.length));
    for (const r of rows) io.out(`  ${r.service.padEnd(width)}  ${r.change}: ${r.detail}`);
    io.out("Next:");
    io.out(`  pulumi config set fleet:pinAll ${out} --stack ${stack}`);
    io.out(`  scripts/fleet plan ${stack}    # each row "pinned by build lock ${out}"`);
    io.out(`  pulumi up --stack ${stack}`);
    return 0;
};

/** `cve-gate <report.json> --image REF --allowlist FILE`: the deploy's CVE decision on one Trivy report. */
const cveGate: Run = (a, { io }, c) => {
    const [report] = positional(a, c, 1, "needs the Trivy JSON report of one image");
    const image = a.options.image;
    const allowFile = a.options.allowlist;
    if (!image || !allowFile) throw new UsageError(`${c.name} needs --image <tag@digest> and --allowlist FILE`, c);
    const read = (f: string) => {
        if (!fs.existsSync(f)) throw new GateInputError(f, "does not exist", f === allowFile ? "give security/trivy-allowlist.yaml" : `write it with trivy image --format json --output ${f} ${image}`);
        return fs.readFileSync(f, "utf8");
    };
    try {
        const verdict = judge(read(report), report, readAllowlist(read(allowFile), allowFile), image);
        const lines = verdictLines(verdict, allowFile);
        lines.blocking.forEach((l) => io.err(l));
        lines.allowed.forEach((l) => io.out(l));
        (verdict.blocking.length ? io.err : io.out)(lines.summary);
        return verdict.blocking.length ? 1 : 0;
    } catch (e) {
        if (!(e instanceof GateInputError)) throw e;
        io.err(`cve-gate: ${e.message}`);
        return 1;
    }
};

const diagram: Run = (a, { io, projectDir, fleetDir }, c) => {
    positional(a, c, 0, "takes no arguments");
    const out = path.resolve(a.options.out ?? path.join(projectDir, DIAGRAM_FILE));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, renderDiagrams(loadFleet(fleetDir)));
    io.out(`wrote ${out}`);
    return 0;
};

const dockerfiles: Run = (a, { io, projectDir, fleetDir }, c) => {
    positional(a, c, 0, "takes no arguments");
    const track = a.options.cuda ?? "cu121";
    if (!(CUDA_TRACKS as readonly string[]).includes(track)) throw new UsageError(`--cuda must be one of ${CUDA_TRACKS.join(", ")}`, c);
    const out = path.resolve(a.options.out ?? path.join(projectDir, "out", "dockerfiles"));
    const written = writeDockerfiles(loadFleet(fleetDir), out, track as CudaTrack);
    io.out(`wrote ${written.families} family and ${written.services} service Dockerfiles to ${out}`);
    return 0;
};

const appRepo: Run = (a, { io, projectDir }, c) => {
    positional(a, c, 0, "takes no arguments");
    const pin = readAppRepoPin(projectDir)!;
    const stacks = stackNames(projectDir).map((stack) => ({ stack, file: `Pulumi.${stack}.yaml`, appRepo: loadStack(projectDir, stack).config["fleet:appRepo"] }));
    checkoutOutputs(pin, checkoutPath(projectDir, stacks), APP_REPO_FILE).forEach((l) => io.out(l));
    return 0;
};

const diff: Run = (a, { io, projectDir }, c) => {
    if (a.positional.length < 1 || a.positional.length > 2) throw new UsageError(`${c.name} needs a base ref and at most a head ref, e.g. diff origin/main HEAD`, c);
    const [base, head] = a.positional;
    // Each ref is evaluated with its own fleet/data: another data directory has no ref.
    if (a.options.fleet !== undefined) throw new UsageError(`${c.name} evaluates each ref's own fleet/data; --fleet does not apply (commit the data, or compare with the working tree: diff <base-ref>)`, c);
    const doc = diffRefs(projectDir, base, head, stackInputs(a, projectDir, c));
    if (a.flags.has("json")) io.out(diffJson(doc));
    else renderDiff(doc).forEach((l) => io.out(l));
    return 0;
};

/** Every command but `help`, which the dispatcher answers. */
export const RUN: Readonly<Record<string, Run>> = {
    validate,
    plan,
    "check-stack": checkStackCommand,
    "image-targets": imageTargets,
    "lock-targets": lockTargetsCommand,
    "build-lock": buildLockCommand,
    rollback,
    "cve-gate": cveGate,
    sbom,
    "publish-sboms": publishSbomsCommand,
    diagram,
    dockerfiles,
    "app-repo": appRepo,
    diff,
};
