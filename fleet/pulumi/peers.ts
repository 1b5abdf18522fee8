/**
 * Cross-stack rules: a host's `uses` (hosts.yaml) read through `fleet:peerStack` must find
 * each service running in the peer stack's committed config: placed on the peer's host
 * (services.yaml, checked by `validate`), and neither disabled, gated nor left out for want of
 * a GPU there (fleet/model/plan.ts `exclusion`). Checked both ways: the consuming stack is told
 * its peer does not run what it uses; the providing stack is told, at the key that leaves the
 * service out, which host uses it.
 */
import * as fs from "fs";
import * as path from "path";
import { ConfigEdit, FleetIssue } from "../model/issues";
import { exclusion } from "../model/plan";
import { Broken, FleetFiles } from "../model/rules";
import { FleetData, Service } from "../model/schema";
import { CONFIG_NAMESPACE, readStackConfig, StackConfig } from "../model/stack";
import { stackNames, readStackFiles } from "./load";
import { withDefaults } from "./merge";
import { PulumiProject } from "./types";

/** The keys that decide whether a placed service runs. */
const SELECTION = ["machine", "disableServices", "enableServices", "rtapEnabled", "gpu"] as const;

/**
 * The committed stack a `fleet:peerStack` names, by its last segment. Sound because the CLI
 * keeps a stack's config in `Pulumi.<stack name>.yaml` next to Pulumi.yaml, the name alone
 * without owner or project (sdk/go/common/workspace/paths.go @ e227d0af `ProjectStackPath`,
 * called with `stack.Ref().Name()`), and `<owner>/<project>/<name>`, `<owner>/<name>` and
 * `<name>` all name the stack `<name>` (pkg/backend/httpstate/backend.go @ 446dfcc8
 * `parseStackName`). Only a stack of this project has its file here: another project segment
 * is refused.
 */
export function peerStackName(peerStack: string, project: string): { stack: string } | { problem: string } {
    const parts = peerStack.split("/");
    if (parts.length > 3 || parts.some((p) => p === "")) return { problem: `could not parse stack name '${peerStack}'` };
    if (parts.length === 3 && parts[1] !== project) return { problem: `names a stack of project '${parts[1]}', whose config is not in this project ('${project}')` };
    return { stack: parts[parts.length - 1] };
}

/** A committed stack as the fleet sees it: its config checked leniently (keys that fail are named). */
interface StackView {
    stack: string;
    file: string;
    cfg?: StackConfig;
    invalid: ReadonlySet<string>;
    raw: Record<string, string>;
}

function viewOf(projectDir: string, project: PulumiProject, stack: string, data: FleetData, broken: Broken): StackView | undefined {
    const { files } = readStackFiles(projectDir, stack);
    if (files.length === 0) return undefined;
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw = Object.fromEntries([...withDefaults(project, files).values].filter(([k, v]) => k.startsWith(prefix) && !v.secure).map(([k, v]) => [k.slice(prefix.length), v.text]));
    const r = readStackConfig(raw, data, files[0].file, broken);
    return { stack, file: files[0].file, cfg: r.cfg, invalid: r.invalid, raw };
}

/** The key of a stack's config that leaves a placed service out, what it says, and its fix. */
interface Cause {
    path: string;
    says: string;
    fix: string;
    edit: ConfigEdit;
}

function causeOf(name: string, svc: Service, cfg: StackConfig): Cause | undefined {
    const ex = exclusion(name, svc, cfg);
    const at = (k: string) => `${CONFIG_NAMESPACE}:${k}`;
    if (!ex) return undefined;
    const j = cfg.disableServices.indexOf(name);
    if (j >= 0) return { path: at(`disableServices[${j}]`), says: `lists ${name}`, fix: "remove the entry", edit: { rm: at(`disableServices[${j}]`) } };
    if (ex.kind === "disabled") return { path: at("enableServices"), says: `does not name ${name}, which services.yaml disables (${svc.disabledReason})`, fix: `add ${name} to it`, edit: { set: at(`enableServices[${cfg.enableServices.length}]`), value: name } };
    if (ex.kind === "gated") return { path: at("rtapEnabled"), says: `is true, and RealTimeAudioPipeline replaces ${name} (gatedBy: rtap, 002 P0.3)`, fix: "set it to false", edit: { set: at("rtapEnabled"), value: "false" } };
    return { path: at("gpu"), says: `is false, and ${name} needs a GPU (compute: gpu)`, fix: "remove it: the host has a GPU", edit: { rm: at("gpu") } };
}

export interface PeerCheck {
    projectDir: string;
    project: PulumiProject;
    stack: string;
    stackFile: string;
    /** The checked stack's config (with its override files), and the keys that failed. */
    cfg: StackConfig;
    invalid: ReadonlySet<string>;
    data: FleetData;
    broken: Broken;
    files: FleetFiles;
}

/** The services `consumer` uses of `provider`'s host that `provider` leaves out, each with its cause. */
function gaps(c: PeerCheck, consumer: string, provider: StackConfig): { name: string; i: number; cause: Cause }[] {
    const used = c.data.hosts[consumer]?.uses[provider.machine] ?? [];
    return used.flatMap((name, i) => {
        const svc = c.data.services[name];
        // A service not placed on the provider's host is `validate`'s to report (checkHosts.ts).
        const cause = svc?.hosts.includes(provider.machine) ? causeOf(name, svc, provider) : undefined;
        return cause ? [{ name, i, cause }] : [];
    });
}

/** The checked stack uses a peer: the peer must exist here, deploy the used host, and run what is used. */
function asConsumer(c: PeerCheck): FleetIssue[] {
    const peers = Object.keys(c.data.hosts[c.cfg.machine]?.uses ?? {});
    const at = `${CONFIG_NAMESPACE}:peerStack`;
    if (peers.length === 0 || !c.cfg.peerStack || c.invalid.has("peerStack")) return [];
    const edit = (why: string): FleetIssue => ({ file: c.stackFile, path: at, message: `'${c.cfg.peerStack}' ${why}`, fix: `name the stack of this project that deploys ${peers.join(", ")}`, edit: { set: at, value: `${c.cfg.org}/${c.project.name}/${peers[0]}` } });
    const named = peerStackName(c.cfg.peerStack, c.project.name);
    if ("problem" in named) return [edit(named.problem)];
    const file = `Pulumi.${named.stack}.yaml`;
    if (!fs.existsSync(path.join(c.projectDir, file))) return [edit(`names stack '${named.stack}', which has no ${file} here (stacks: ${stackNames(c.projectDir).join(", ")})`)];
    const peer = viewOf(c.projectDir, c.project, named.stack, c.data, c.broken);
    if (!peer?.cfg || SELECTION.some((k) => peer.invalid.has(k))) {
        return [{ file: c.stackFile, path: at, message: `what ${file} runs cannot be told: its config has problems`, fix: `scripts/fleet check-stack ${named.stack} lists them` }];
    }
    const out: FleetIssue[] = [];
    for (const host of peers) {
        if (host !== peer.cfg.machine) {
            out.push(edit(`deploys ${peer.cfg.machine} (${file}: fleet:machine), but ${c.cfg.machine} uses services of ${host}`));
            continue;
        }
        for (const g of gaps(c, c.cfg.machine, peer.cfg)) {
            out.push({
                file: c.stackFile, path: at,
                message: `'${c.cfg.peerStack}' does not run ${g.name}, which ${c.cfg.machine} uses (${c.files.hosts}: ${c.cfg.machine}.uses.${host}[${g.i}]): ${file}: ${g.cause.path} ${g.cause.says}`,
                fix: `in ${file}, ${g.cause.path}: ${g.cause.fix}`,
                edit: { ...g.cause.edit, stack: named.stack, or: `remove ${g.name} from ${c.cfg.machine}.uses.${host} in ${c.files.hosts}` },
            });
        }
    }
    return out;
}

/** Other committed stacks read the checked one as their peer: it must run what their hosts use. */
function asProvider(c: PeerCheck): FleetIssue[] {
    if (SELECTION.some((k) => c.invalid.has(k))) return [];
    return stackNames(c.projectDir).filter((s) => s !== c.stack).flatMap((other) => {
        const v = viewOf(c.projectDir, c.project, other, c.data, c.broken);
        const named = v?.raw.peerStack ? peerStackName(v.raw.peerStack, c.project.name) : undefined;
        if (!v?.cfg || v.invalid.has("machine") || !named || !("stack" in named) || named.stack !== c.stack) return [];
        const consumer = v.cfg.machine;
        return gaps(c, consumer, c.cfg).map((g): FleetIssue => ({
            file: c.stackFile, path: g.cause.path,
            message: `${g.cause.says}, but ${consumer} uses ${g.name} from this stack (${c.files.hosts}: ${consumer}.uses.${c.cfg.machine}[${g.i}]; ${v.file}: fleet:peerStack)`,
            fix: g.cause.fix,
            edit: { ...g.cause.edit, or: `remove ${g.name} from ${consumer}.uses.${c.cfg.machine} in ${c.files.hosts}` },
        }));
    });
}

/** Both directions of the cross-stack rules for the checked stack. */
export function peerIssues(c: PeerCheck): FleetIssue[] {
    return [...asConsumer(c), ...asProvider(c)];
}
