/**
 * A problem found in the fleet data or the stack config. Every check reports all it finds as
 * `FleetIssue`s; `FleetError` carries them together so nothing is half-applied.
 */
export interface FleetIssue {
    /** The file as the operator names it, e.g. `fleet/data/services.yaml`. */
    file: string;
    /** Dotted path inside the file, e.g. `NLUAgent.ports.health`; empty for the whole file. */
    path: string;
    message: string;
    /** What to change. */
    fix: string;
    /** The change of stack config that makes the fix, for issues of a stack's config. */
    edit?: ConfigEdit;
    /**
     * A value no checkout holds (the host's, set where the stack is deployed): the commands that
     * answer with what they can (plan, diff, image-targets) put `placeholder` in `key`'s place and
     * say so once; `pulumi up` and check-stack refuse it.
     */
    unknown?: { key: string; placeholder: string };
}

/**
 * A change of a stack's config, said without the Pulumi CLI's syntax: fleet/pulumi/commands.ts
 * renders it as the `pulumi config` commands to paste, after the fix's words.
 */
export interface ConfigEdit {
    /** The stack to change, when it is not the stack being checked (a peer's). */
    stack?: string;
    /** A key to remove; `fleet:pins[0]` names one list item. */
    rm?: string;
    /** A key to set (after the removal), to `value`, or to a placeholder of its type. */
    set?: string;
    value?: string;
    /** Another way to fix it, said after the command. */
    or?: string;
}

export function formatIssue(i: FleetIssue): string {
    const where = i.path ? `${i.file}: ${i.path}` : i.file;
    return `${where}: ${i.message}. Fix: ${i.fix}${i.edit?.or ? `; or ${i.edit.or}` : ""}`;
}

export class FleetError extends Error {
    /** @param subject what the problems are in, for the first line. @default "the fleet data or stack config" */
    constructor(public readonly issues: readonly FleetIssue[], subject = "the fleet data or stack config") {
        super(`${issues.length} problem${issues.length === 1 ? "" : "s"} in ${subject}:\n` +
            issues.map((i) => `  - ${formatIssue(i)}`).join("\n"));
        this.name = "FleetError";
    }
}

/** Renders a path array the way operators write it: `a.b[0].c`. */
export function dotted(path: readonly PropertyKey[]): string {
    let out = "";
    for (const p of path) {
        if (typeof p === "number") out += `[${p}]`;
        else out += out ? `.${String(p)}` : String(p);
    }
    return out;
}
