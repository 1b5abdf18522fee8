/**
 * `fleet:pinAll`, rollback of every service without a rebuild (002 §H.6 FORCE_IMAGE_TAG): the
 * build lock of the deploy to go back to names, per container, the image that deploy ran by
 * registry digest (`running`, from `pulumi stack export`; fleet/imageplan/lock.ts). Every
 * service then runs that image, pulled by digest, and none is built.
 *
 * Why a build lock and not one tag, as 002 has it: a tag here names the newest commit that
 * changed that image's inputs (fleet/imageplan/version.ts), so an image untouched by a release
 * keeps an older tag and no single tag names every image of a release. The lock of a deploy
 * does, by digest, and a digest cannot be moved.
 */
import * as fs from "fs";
import * as path from "path";
import { FleetError, FleetIssue } from "./issues";
import { containerName } from "./names";
import { mapOf } from "./parse";
import { planHost } from "./plan";
import { FleetData } from "./schema";
import { CONFIG_NAMESPACE, RollbackPins, StackConfig } from "./stack";

const AT = `${CONFIG_NAMESPACE}:pinAll`;


/** The parts of a build lock a rollback reads (fleet/imageplan/lock.ts BuildLock). */
interface LockMaps {
    running: Record<string, unknown>;
    built: Record<string, unknown>;
    revisions: Record<string, unknown>;
}

/** Reads the file `pinAll` names as a build lock of `stack`, or throws the one problem that stops it. */
function readLock(pinAll: string, projectDir: string, stack: string, source: string): LockMaps {
    const issue = (message: string, fix: string): FleetError => new FleetError([{ file: source, path: AT, message, fix, edit: { set: AT, value: `<path of build-lock-${stack}.json>` } }]);
    const artifact = `the build-lock-${stack} artifact of the deploy to roll back to`;
    const file = path.resolve(projectDir, pinAll);
    if (!fs.existsSync(file)) throw issue(`${pinAll} does not exist (a relative path starts at the project directory)`, `download ${artifact}, or give its path`);
    let doc: unknown;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw issue(`${pinAll} is not JSON (${(e as Error).message})`, `use ${artifact}, as \`scripts/fleet build-lock\` wrote it`);
    }
    const lock = mapOf(doc);
    const running = mapOf(lock?.running);
    if (!lock || !running) throw issue(`${pinAll} is not a build lock (it has no 'running' map)`, `use ${artifact}, as \`scripts/fleet build-lock\` wrote it`);
    if (lock.stack !== stack) throw issue(`${pinAll} is the build lock of stack '${String(lock.stack)}', not '${stack}'`, `use build-lock-${stack}.json`);
    return { running, built: mapOf(lock.built) ?? {}, revisions: mapOf(lock.revisions) ?? {} };
}

/**
 * Reads and checks the build lock `cfg.pinAll` names (relative paths start at `projectDir`):
 * it must be a build lock of this stack, and name a registry image of this stack's registry for
 * every service the host runs that no `fleet:pins` entry pins. Every problem at once.
 * @param stack the stack being deployed, as the lock's URNs name it
 * @param source how the operator names the config, e.g. `Pulumi.pc2.yaml`
 */
export function rollbackPins(d: FleetData, cfg: StackConfig, projectDir: string, stack: string, source: string): RollbackPins {
    if (cfg.pinAll === undefined) return {};
    const lock = readLock(cfg.pinAll, projectDir, stack, source);
    const pinned = new Set(cfg.pins.map((p) => p.slice(0, p.indexOf("="))));
    const issues: FleetIssue[] = [];
    const out: Record<string, { image: string; revision?: string }> = {};
    for (const c of planHost(d, { ...cfg, pinAll: undefined }).containers) {
        if (pinned.has(c.service)) continue;
        const repository = `${cfg.registry}/${cfg.org}/${containerName(c.service)}`;
        const ref = lock.running[c.name];
        const where = `${cfg.pinAll}: running.${c.name}`;
        // Each pin its own new list item, so the commands of several issues add up.
        const pin = { set: `${CONFIG_NAMESPACE}:pins[${cfg.pins.length + issues.length}]`, value: `${c.service}=<tag>` };
        if (ref === undefined) {
            issues.push({ file: source, path: AT, message: `${c.service} did not run in that deploy (${where} is missing)`, fix: `pin it in ${CONFIG_NAMESPACE}:pins`, edit: { ...pin, or: `leave it out of the rollback with ${CONFIG_NAMESPACE}:disableServices` } });
        } else if (typeof ref !== "string" || !new RegExp(`^${escape(repository)}@sha256:[a-f0-9]{64}$`).test(ref)) {
            issues.push({
                file: source, path: AT,
                message: `${c.service} ran '${String(ref)}' (${where}), not an image of ${repository} by digest`,
                fix: `pin ${c.service} in ${CONFIG_NAMESPACE}:pins`,
                edit: { ...pin, or: `roll back a stack that pushes to ${cfg.registry}/${cfg.org} (a stack that loads its images has no registry to pull them back from)` },
            });
        } else {
            out[c.service] = asDeployed(ref, lock.built[c.name], lock.revisions[c.name], repository);
        }
    }
    if (issues.length > 0) throw new FleetError(issues);
    return out;
}

/**
 * Built in that deploy (a built reference of this repository at the digest that ran, and its
 * revision): the reference and revision its container was given then. Otherwise the digest alone.
 */
function asDeployed(running: string, built: unknown, revision: unknown, repository: string): { image: string; revision?: string } {
    const digest = running.slice(running.indexOf("@"));
    return typeof built === "string" && built.startsWith(`${repository}:`) && built.endsWith(digest) && typeof revision === "string"
        ? { image: built, revision }
        : { image: running };
}

function escape(s: string): string {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
