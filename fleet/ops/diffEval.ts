/**
 * One ref as `scripts/fleet diff` sees it: this repository at that commit in a temporary
 * worktree, and every committed stack of it evaluated with the program's own code (loadFleet,
 * the CLI's config merge, planHost, appRepoIssues, planImages), as `pulumi up` of that commit
 * would evaluate it. The application repository is the commit that ref's app-repo.yaml pins,
 * in a worktree of the checkout the stacks name; where it pins none, that checkout as it is.
 */
import * as fs from "fs";
import * as path from "path";
import { isExternal, readAppRepoPin } from "../imageplan/appRepoPin";
import { appRepoIssues } from "../imageplan/buildPlan";
import { PlanImages, planImages } from "../imageplan/planImages";
import { addWorktree, headCommit, resolveCommit } from "../imageplan/worktree";
import { FleetError, FleetIssue } from "../model/issues";
import { loadFleet } from "../model/load";
import { endpointOf, HostPlan, planHost } from "../model/plan";
import { rollbackPins } from "../model/rollback";
import { FleetData } from "../model/schema";
import { CONFIG_NAMESPACE, fleetKeys, parseStackConfigWithUnknowns, StackConfig } from "../model/stack";
import { overridesOf, StackInputs } from "./stackInputs";
import { appRepoUnknownLine, unknownKeyLine } from "./unknowns";
import { loadProject, loadStack, stackNames } from "../pulumi/load";
import { peerStackName } from "../pulumi/peers";

export interface StackSide {
    cfg: StackConfig;
    /** `fleet:` keys as the CLI hands them to the program (secrets left out), and the file that set each. */
    config: Map<string, string>;
    configFiles: Record<string, string>;
    plan: HostPlan;
    images: PlanImages;
    /** The peer stack (`fleet:peerStack`) by name, and the addresses its services give this host's `uses`, by service. */
    peerStack?: string;
    peerEndpoints: Record<string, string>;
}

export interface Side {
    /** The ref as given, e.g. `origin/main`. */
    label: string;
    commit: string;
    data: FleetData;
    /** Which application repository each stack outside this repository was evaluated with. */
    appRepo: string[];
    stacks: Record<string, StackSide>;
    /** What this checkout could not tell, with what supplies it (fleet/ops/unknowns.ts). */
    unknown: string[];
}

/** The stack options (stackInputs.ts), for every stack at both refs. */
export interface DiffRun extends StackInputs {
    /** The checkout the command runs in: its git repository, and where relative paths of stacks start. */
    projectDir: string;
    /** Worktrees made so far, by `<repository>\0<commit>`, removed by the caller. */
    worktrees: Map<string, { repo: string; dir: string }>;
}

/** A worktree of `repo` at `sha`, made once per run. */
export function worktreeOf(run: DiffRun, repo: string, sha: string): string {
    const key = `${repo}\0${sha}`;
    if (!run.worktrees.has(key)) run.worktrees.set(key, { repo, dir: addWorktree(repo, sha) });
    return run.worktrees.get(key)!.dir;
}

/** The label of the head of a one-ref diff: the checkout's files as they are. */
export const WORKING_TREE = "working tree";

/** A file of the checkout named `label`, as the operator names it: `<ref>:<file>`, or the file itself in the working tree. */
const fileAt = (label: string, file: string): string => (label === WORKING_TREE ? file : `${label}:${file}`);

/** Problems as the operator names them: files of the ref's checkout as `<ref>:<file>`, its temporary directory left out. */
function atRef(e: unknown, label: string, dir: string): unknown {
    if (!(e instanceof FleetError)) return e;
    const text = (s: string) => s.split(`${dir}${path.sep}`).join("").split(dir).join(label === WORKING_TREE ? "this checkout" : `the checkout of ${label}`);
    return new FleetError(e.issues.map((i): FleetIssue => {
        const rel = path.isAbsolute(i.file) ? path.relative(dir, i.file) : i.file;
        const inside = !rel.startsWith("..") && !path.isAbsolute(rel);
        return { ...i, file: inside ? fileAt(label, rel) : i.file, message: text(i.message), fix: text(i.fix) };
    }));
}

/** The application repository a stack is built from at this ref, and how it was found. */
function appRoot(run: DiffRun, label: string, dir: string, appRepo: string): { root: string; how?: string } {
    if (!isExternal(dir, appRepo) && !run.appRepo) return { root: path.resolve(dir, appRepo) };
    const checkout = run.appRepo ?? path.resolve(run.projectDir, appRepo);
    // Not checked out: its services' tags are unknown on both sides, said once (unknowns.ts).
    if (!fs.existsSync(checkout)) return { root: checkout };
    const pin = readAppRepoPin(dir, true);
    if (!pin?.ref) return { root: checkout, how: `${appRepo} as it is checked out (${label}'s app-repo.yaml pins no commit)` };
    const sha = resolveCommit(checkout, pin.ref);
    if (!sha) {
        throw new FleetError([{
            file: "app-repo.yaml", path: "ref", message: `${pin.ref} is not a commit of ${checkout}`,
            fix: `check ${pin.repository} out there with its full history (git -C ${checkout} fetch origin; in GitHub Actions: actions/checkout with fetch-depth: 0)`,
        }]);
    }
    return { root: worktreeOf(run, checkout, sha), how: `${pin.repository} at ${sha.slice(0, 7)} (${label}'s app-repo.yaml)` };
}

function evaluateStack(run: DiffRun, label: string, dir: string, data: FleetData, stack: string, how: Set<string>, unknown: Set<string>): StackSide {
    const stackFile = `Pulumi.${stack}.yaml`;
    const merged = loadStack(dir, stack, { overrides: overridesOf(run, stack) });
    const read = parseStackConfigWithUnknowns(fleetKeys(merged.config), data, stackFile);
    const cfg = read.cfg;
    // Named without the ref: the same key unknown at both refs is said once.
    read.unknown.forEach((i) => unknown.add(unknownKeyLine(i, stack)));
    const plan = planHost(data, cfg, rollbackPins(data, cfg, dir, stack, stackFile));
    const app = appRoot(run, label, dir, cfg.appRepo);
    if (app.how) how.add(app.how);
    const missing = appRepoUnknownLine(app.root, stack);
    if (missing) unknown.add(missing);
    const paths = { projectDir: dir, appRepo: app.root, buildDir: path.join(dir, ".fleet", "build", stack), servicesFile: "fleet/data/services.yaml", stackFile };
    const issues = missing ? [] : appRepoIssues(data, plan, cfg, paths);
    if (issues.length) throw new FleetError(issues);
    const prefix = `${CONFIG_NAMESPACE}:`;
    const values = [...merged.values].filter(([k, v]) => k.startsWith(prefix) && !v.secure);
    return {
        cfg, plan, images: planImages(data, plan, cfg, paths), peerEndpoints: {},
        config: new Map(values.map(([k, v]) => [k, v.text])),
        configFiles: Object.fromEntries(values.map(([k, v]) => [k, path.isAbsolute(v.file) ? v.file : fileAt(label, v.file)])),
    };
}

/** What each stack's `uses` read from its peer stack: that stack's `endpoints`, as this ref deploys it. */
function linkPeers(project: string, stacks: Record<string, StackSide>): void {
    for (const s of Object.values(stacks)) {
        if (!s.cfg.peerStack) continue;
        const name = peerStackName(s.cfg.peerStack, project);
        const peer = "stack" in name ? stacks[name.stack] : undefined;
        if (!peer || !("stack" in name)) continue;
        s.peerStack = name.stack;
        const endpoints = new Map(peer.plan.containers.map((c) => [c.service, endpointOf(c)]));
        for (const p of s.plan.peers) s.peerEndpoints[p.service] = endpoints.get(p.service) ?? "(not deployed)";
    }
}

/**
 * Evaluates every stack of `sha` (this repository's commit named `label`); without `sha`, of the
 * checkout's files as they are, uncommitted edits included.
 */
export function evaluateRef(run: DiffRun, label: string, sha: string | undefined): Side {
    const dir = sha === undefined ? run.projectDir : worktreeOf(run, run.projectDir, sha);
    try {
        const data = loadFleet(path.join(dir, "fleet", "data"));
        const how = new Set<string>();
        const unknown = new Set<string>();
        const stacks: Record<string, StackSide> = {};
        for (const stack of stackNames(dir)) stacks[stack] = evaluateStack(run, label, dir, data, stack, how, unknown);
        linkPeers(loadProject(dir).name, stacks);
        return { label, commit: sha ?? headCommit(dir) ?? "", data, appRepo: [...how].sort(), stacks, unknown: [...unknown] };
    } catch (e) {
        throw atRef(e, label, dir);
    }
}
