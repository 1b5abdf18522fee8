/**
 * What the Pulumi engine does with a provider's diff (pulumi/pulumi pkg/resource/deploy/
 * step_generator.go, read at the newest stored commit 0ac56e8766, after v3.259.0; the project's
 * @pulumi/pulumi 3.270.0 runs against such an engine):
 * - `applyReplaceOnChanges`: a changed property a `replaceOnChanges` path contains (`*` contains
 *   every path) turns into a replacement; when the old state has init errors and a path contains
 *   the special key `#initerror` (as `*` does), the resource is replaced even with no diff;
 * - `generateStepsFromDiff`: replace keys -> replace; changes only -> update; no changes but init
 *   errors -> an empty update ("attempt to continue awaiting initialization"); else same.
 * Pure: the harness carries the decision out.
 */

export type Op = "create" | "update" | "replace" | "same" | "delete";

export interface ProviderDiff {
    /** Properties that differ, with a short account of each. */
    changed: string[];
    /** Those that force a replacement (ForceNew, replaceOnChanges of the provider's schema). */
    replaces: string[];
    /** What each changed property was and will be, for the report. */
    details?: Record<string, string>;
}

export interface Decision {
    op: Op;
    /** The properties that differ. */
    changed: string[];
    /** Why, property by property; `#initerror` for an init error that forces the replacement. */
    why: string[];
}

const INIT_ERROR = "#initerror";

/** resource.PropertyPath.Contains for top-level and dotted paths, `*` matching any key. */
export function pathContains(path: string, other: string): boolean {
    const p = path.split(".");
    const o = other.split(".");
    if (o.length < p.length) return false;
    return p.every((k, i) => k === "*" || k === o[i]);
}

export function decide(diff: ProviderDiff, replaceOnChanges: readonly string[], initErrors: readonly string[]): Decision {
    const describe = (k: string) => (diff.details?.[k] ? `${k}: ${diff.details[k]}` : k);
    const forced = diff.changed.filter((k) => replaceOnChanges.some((p) => pathContains(p, k)));
    const replaces = [...new Set([...diff.replaces, ...forced])];
    const initReplace = initErrors.length > 0 && replaceOnChanges.some((p) => pathContains(p, INIT_ERROR));
    if (replaces.length > 0 || initReplace) {
        return { op: "replace", changed: diff.changed, why: [...diff.changed.map(describe), ...(initReplace ? [`${INIT_ERROR}: ${initErrors.join("; ")}`] : [])] };
    }
    if (diff.changed.length > 0) return { op: "update", changed: diff.changed, why: diff.changed.map(describe) };
    if (initErrors.length > 0) return { op: "update", changed: [], why: [`(no changes) init errors: ${initErrors.join("; ")}`] };
    return { op: "same", changed: [], why: [] };
}
