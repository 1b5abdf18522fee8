/**
 * `scripts/fleet check-stack <stack>`: the operator's check before `pulumi up`, of everything
 * it would refuse before it creates a resource, all at once: the CLI's own config rules
 * (Pulumi.yaml, the stack file, the merge: fleet/pulumi/config.ts), the fleet data
 * (fleet/model/load.ts), the program's checks of the `fleet:` keys (fleet/model/stack.ts),
 * the build lock `fleet:pinAll` names, the application repository (what `buildPlan` checks
 * first), the cross-stack rules (peers.ts) and the registry secrets, which Pulumi.yaml does not
 * declare. Each problem with file, key or line, and the `pulumi config` commands that fix it.
 */
import * as path from "path";
import { appRepoIssues } from "../imageplan/buildPlan";
import { FleetError, FleetIssue } from "../model/issues";
import { fleetFiles, readFleet } from "../model/load";
import { planHost } from "../model/plan";
import { rollbackPins } from "../model/rollback";
import { FleetFiles, intactFamily } from "../model/rules";
import { CONFIG_NAMESPACE, readStackConfig, SECRET_KEYS, StackRead } from "../model/stack";
import { removalsHighestFirst, setCommand, withCommands } from "./commands";
import { loadProject, readStackFiles } from "./load";
import { mergeStack, withDefaults } from "./merge";
import { peerIssues } from "./peers";
import { PulumiProject } from "./types";

export interface StackCheck {
    issues: FleetIssue[];
    /** Keys handed to the program, and how many came from Pulumi.yaml's defaults. */
    keys: number;
    defaults: number;
    /** Services whose image inputs were found in the application repository. */
    checkedServices: number;
}

export interface CheckOptions {
    /** The fleet data directory. */
    fleetDir: string;
    /** Override files of a stack file's shape, applied on top as `pulumi config set` would. */
    overrides?: readonly string[];
    /** A checkout of the application repository to check in place of `fleet:appRepo`. */
    appRepo?: string;
}

/** The keys whose values decide which services a stack builds (the application repository's checks read them). */
const PLAN_KEYS = ["machine", "appRepo", "disableServices", "enableServices", "rtapEnabled", "gpu", "pins", "pinAll"] as const;

function issuesOf<T>(fn: () => T): { value?: T; issues: FleetIssue[] } {
    try {
        return { value: fn(), issues: [] };
    } catch (e) {
        if (e instanceof FleetError) return { issues: [...e.issues] };
        throw e;
    }
}

interface Checked {
    projectDir: string;
    project: PulumiProject;
    stack: string;
    stackFile: string;
    read: StackRead;
    fleet: ReturnType<typeof readFleet>;
    files: FleetFiles;
}

/** The program's checks that need its config: pinAll's build lock, the application repository, the peers. */
function programIssues({ projectDir, project, stack, stackFile, read, fleet, files }: Checked): { issues: FleetIssue[]; checked: number } {
    const cfg = read.cfg;
    if (!cfg) return { issues: [], checked: 0 };
    const out: FleetIssue[] = [];
    let checked = 0;
    if (PLAN_KEYS.every((k) => !read.invalid.has(k))) {
        const rollback = issuesOf(() => rollbackPins(fleet.data, cfg, projectDir, stack, stackFile));
        out.push(...rollback.issues);
        // Services whose family failed its schema cannot be specified; their own problems are reported.
        const plan = planHost(fleet.data, cfg, rollback.value ?? {});
        const judged = { ...plan, containers: plan.containers.filter((c) => c.family in fleet.data.families && intactFamily(fleet.data, fleet.broken, c.family)) };
        const repo = appRepoIssues(fleet.data, judged, cfg, { projectDir, appRepo: path.resolve(projectDir, cfg.appRepo), servicesFile: files.services, stackFile });
        out.push(...repo);
        if (!repo.some((i) => i.path === `${CONFIG_NAMESPACE}:appRepo`)) checked = judged.containers.length;
    }
    out.push(...peerIssues({ projectDir, project, stack, stackFile, cfg, invalid: read.invalid, data: fleet.data, broken: fleet.broken, files }));
    return { issues: out, checked };
}

export function checkStack(projectDir: string, stack: string, opts: CheckOptions): StackCheck {
    const none = { keys: 0, defaults: 0, checkedServices: 0 };
    const loaded = issuesOf(() => loadProject(projectDir));
    if (!loaded.value) return { issues: loaded.issues, ...none };
    const project = loaded.value;
    const { files, issues } = readStackFiles(projectDir, stack, opts.overrides);
    if (issues.length) return { issues, ...none };
    const stackFile = files[0].file;
    const merged = mergeStack(project, stack, files);
    const cli = merged.ok ? [] : merged.issues;
    // Every key the CLI rules already named is left out of the program's report.
    const named = new Set(cli.flatMap((i) => i.path.replace(/^line \d+: /, "").split(", ")));
    const { values } = withDefaults(project, files);
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw: Record<string, string> = Object.fromEntries([...values].filter(([k, v]) => k.startsWith(prefix) && !v.secure).map(([k, v]) => [k.slice(prefix.length), v.text]));
    if (opts.appRepo !== undefined) raw.appRepo = path.resolve(opts.appRepo);
    const fleet = readFleet(opts.fleetDir);
    const read = readStackConfig(raw, fleet.data, stackFile, fleet.broken);
    const program = programIssues({ projectDir, project, stack, stackFile, read, fleet, files: fleetFiles(opts.fleetDir) });
    const stackIssues = removalsHighestFirst([...read.issues, ...program.issues].filter((i) => !named.has(i.path) && !named.has(i.path.replace(/\[\d+\]$/, ""))), stack)
        .map((i) => withCommands(i, stack, project));
    const secrets: FleetIssue[] = [];
    const present = SECRET_KEYS.filter((k) => values.has(prefix + k));
    for (const k of present) {
        const v = values.get(prefix + k)!;
        if (!v.secure) secrets.push({ file: v.file, path: `line ${v.line}: ${prefix}${k}`, message: "is plaintext: a registry credential is a secret", fix: `set it encrypted (the CLI replaces the plaintext line): ${setCommand(stack, prefix + k, { secret: true })}` });
    }
    if (present.length === 1) {
        const missing = SECRET_KEYS.find((k) => !present.includes(k))!;
        secrets.push({ file: stackFile, path: prefix + missing, message: `is missing: ${prefix}${present[0]} is set, and a registry login needs both`, fix: setCommand(stack, prefix + missing, { secret: true }) });
    }
    return { issues: [...cli, ...fleet.issues, ...stackIssues, ...secrets], keys: values.size, defaults: [...values.values()].filter((v) => v.file === project.file).length, checkedServices: program.checked };
}
