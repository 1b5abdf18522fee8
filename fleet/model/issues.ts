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
}

export function formatIssue(i: FleetIssue): string {
    const where = i.path ? `${i.file}: ${i.path}` : i.file;
    return `${where}: ${i.message}. Fix: ${i.fix}`;
}

export class FleetError extends Error {
    constructor(public readonly issues: readonly FleetIssue[]) {
        super(`${issues.length} problem${issues.length === 1 ? "" : "s"} in the fleet data or stack config:\n` +
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
