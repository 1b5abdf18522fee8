/**
 * `app-repo.yaml`: which commit of the application repository the service images are built
 * from. Every stack names a checkout (`fleet:appRepo`); this file names what the checkout must
 * hold, so the workflows check it out at that commit (not at whatever a runner kept) and a new
 * application version reaches the fleet through a reviewed pull request that moves `ref`.
 *
 * The stacks that build from it are those whose `fleet:appRepo` lies outside this repository
 * (the `local` stack builds from the fixture application inside it); they must name one
 * checkout, since the workflows check out one.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { FleetError, FleetIssue } from "../model/issues";
import { parseYaml, validate } from "../model/parse";

/** At the project's root, beside Pulumi.yaml. */
export const APP_REPO_FILE = "app-repo.yaml";

export const AppRepoPinSchema = z.strictObject({
    /** `<owner>/<name>` on GitHub, as actions/checkout's `repository` input takes it. */
    repository: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/, "is not <owner>/<name>"),
    /** The commit to build from; null until the runbook's first step pins it. */
    ref: z.string().regex(/^[0-9a-f]{40}$/, "is not a commit (40 lower-case hex digits)").nullable(),
});

export type AppRepoPin = z.output<typeof AppRepoPinSchema>;

/** `app-repo.yaml`'s text, checked; every problem with the file's name (`shown`) and its fix. */
export function parseAppRepoPin(text: string, shown: string): { ok: true; value: AppRepoPin } | { ok: false; issues: FleetIssue[] } {
    const y = parseYaml(text, shown);
    if (!y.ok) return y;
    const r = validate(AppRepoPinSchema, y.value, shown);
    if (r.ok) return r;
    // A sha of digits alone reads as a number: say to quote it.
    return { ok: false, issues: r.issues.map((i) => (i.path === "ref" && i.message.startsWith("expected string") ? { ...i, fix: "quote it: ref: \"<40 hex digits>\"" } : i)) };
}

/**
 * `app-repo.yaml` of `projectDir`, or a FleetError naming what is wrong. Absent: undefined when
 * `optional` (a commit from before the file existed), else a problem.
 */
export function readAppRepoPin(projectDir: string, optional = false): AppRepoPin | undefined {
    const file = path.join(projectDir, APP_REPO_FILE);
    if (!fs.existsSync(file)) {
        if (optional) return undefined;
        throw new FleetError([{ file: APP_REPO_FILE, path: "", message: "file not found", fix: `run from the project directory, which holds ${APP_REPO_FILE} beside Pulumi.yaml` }]);
    }
    const r = parseAppRepoPin(fs.readFileSync(file, "utf8"), APP_REPO_FILE);
    if (!r.ok) throw new FleetError(r.issues);
    return r.value;
}

/** A stack's checkout of the application repository, as its config names it. */
export interface StackCheckout {
    stack: string;
    /** The stack file, e.g. `Pulumi.mainpc.yaml`. */
    file: string;
    /** `fleet:appRepo` as written (relative paths start at the project directory). */
    appRepo: string;
}

/** Whether `appRepo` lies outside `projectDir`: then it is the application repository, not a fixture of this one. */
export function isExternal(projectDir: string, appRepo: string): boolean {
    const rel = path.relative(projectDir, path.resolve(projectDir, appRepo));
    return rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);
}

/**
 * Where the application repository is checked out, relative to the directory that holds this
 * checkout (the workflows' `$GITHUB_WORKSPACE`, with this repository at `fleet/`): the one
 * checkout the stacks outside this repository name. Every stack that disagrees, or points outside
 * that directory, is a problem.
 */
export function checkoutPath(projectDir: string, stacks: readonly StackCheckout[]): { where: string; appRepo: string } {
    const external = stacks.filter((s) => isExternal(projectDir, s.appRepo));
    const key = "fleet:appRepo";
    if (external.length === 0) {
        throw new FleetError([{ file: stacks.map((s) => s.file).join(", ") || "Pulumi.<stack>.yaml", path: key, message: "no stack builds from a checkout outside this repository", fix: `set ${key} of the stacks that deploy hosts to the application repository's checkout, e.g. ../AI_System_Monorepo` }]);
    }
    const workspace = path.dirname(projectDir);
    const first = external[0];
    const where = path.relative(workspace, path.resolve(projectDir, first.appRepo));
    const issues: FleetIssue[] = [];
    if (where.startsWith("..") || path.isAbsolute(where)) {
        issues.push({ file: first.file, path: key, message: `'${first.appRepo}' is outside ${workspace}, the directory that holds this checkout: actions/checkout places a repository under $GITHUB_WORKSPACE alone (its input \`path\`)`, fix: `check it out beside this repository: pulumi config set ${key} ../${path.basename(first.appRepo)} --stack ${first.stack}` });
    }
    for (const s of external.slice(1)) {
        if (path.resolve(projectDir, s.appRepo) !== path.resolve(projectDir, first.appRepo)) {
            issues.push({ file: s.file, path: key, message: `'${s.appRepo}' is not ${first.file}'s '${first.appRepo}': the workflows check out one application repository`, fix: `pulumi config set ${key} ${first.appRepo} --stack ${s.stack}` });
        }
    }
    if (issues.length) throw new FleetError(issues);
    return { where, appRepo: first.appRepo };
}

/** The lines `scripts/fleet app-repo` prints for `$GITHUB_OUTPUT`, or why a workflow cannot check the repository out. */
export function checkoutOutputs(pin: AppRepoPin, checkout: { where: string; appRepo: string }, shown: string): string[] {
    if (pin.ref === null) {
        throw new FleetError([{
            file: shown, path: "ref",
            message: `is not set: no commit of ${pin.repository} is pinned, and the workflows build from the pinned commit alone`,
            fix: `write the commit to deploy (git -C ${checkout.appRepo} rev-parse HEAD prints the checkout's) as ref: "<40 hex digits>" in ${shown}, and merge it through a reviewed pull request (README, Runbook)`,
        }]);
    }
    return [`repository=${pin.repository}`, `ref=${pin.ref}`, `path=${checkout.where}`];
}
