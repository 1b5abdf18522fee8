/**
 * `scripts/fleet check-stack <stack>`: the operator's check before `pulumi up`. The CLI's own
 * config rules (Pulumi.yaml, the stack file, the merge: fleet/pulumi/config.ts), then the
 * program's validation of the `fleet:` keys (stack.ts), then the registry secrets, which
 * Pulumi.yaml does not declare. Every problem at once, each with file, key and the
 * `pulumi config set` command that fixes it.
 */
import { FleetError, FleetIssue } from "../model/issues";
import { ConfigDeclaration, mergeStack, setCommand } from "./config";
import { loadProject, readStackFiles } from "./load";
import { rollbackPins } from "../model/rollback";
import { FleetData } from "../model/schema";
import { CONFIG_NAMESPACE, parseStackConfig, SECRET_KEYS } from "../model/stack";

export interface StackCheck {
    issues: FleetIssue[];
    /** Keys handed to the program, and how many came from Pulumi.yaml's defaults. */
    keys: number;
    defaults: number;
}

function issuesOf(fn: () => void): FleetIssue[] {
    try {
        fn();
        return [];
    } catch (e) {
        if (e instanceof FleetError) return [...e.issues];
        throw e;
    }
}

export function checkStack(projectDir: string, stack: string, fleet: () => FleetData): StackCheck {
    let project;
    try {
        project = loadProject(projectDir);
    } catch (e) {
        if (e instanceof FleetError) return { issues: [...e.issues], keys: 0, defaults: 0 };
        throw e;
    }
    const { files, issues } = readStackFiles(projectDir, stack);
    if (issues.length) return { issues, keys: 0, defaults: 0 };
    const stackFile = files[0].file;
    const merged = mergeStack(project, stack, files);
    const cli = merged.ok ? [] : merged.issues;
    // Every key the CLI rules already named is left out of the program's report.
    const named = new Set(cli.flatMap((i) => i.path.replace(/^line \d+: /, "").split(", ")));
    const values = new Map(files.flatMap((f) => [...f.config]));
    for (const [k, d] of Object.entries(project.config)) {
        const key = k.includes(":") ? k : `${project.name}:${k}`;
        const fallback = d.default ?? d.value;
        if (!values.has(key) && fallback !== undefined) values.set(key, { text: typeof fallback === "object" ? JSON.stringify(fallback) : String(fallback), secure: false, object: typeof fallback === "object", file: project.file, line: d.line });
    }
    const prefix = `${CONFIG_NAMESPACE}:`;
    const raw = Object.fromEntries([...values].filter(([k, v]) => k.startsWith(prefix) && !v.secure).map(([k, v]) => [k.slice(prefix.length), v.text]));
    const decl = (key: string): ConfigDeclaration | undefined => project.config[key.slice(prefix.length)] ?? project.config[key];
    const data = issuesOf(() => fleet());
    // The build lock fleet:pinAll names is read and checked as the program reads it.
    const program = data.length ? data : issuesOf(() => {
        const d = fleet();
        rollbackPins(d, parseStackConfig(raw, d, stackFile), projectDir, stack, stackFile);
    })
        .filter((i) => !named.has(i.path.replace(/\[\d+\]$/, "")))
        .map((i) => (i.file === stackFile && i.path.startsWith(prefix) ? { ...i, fix: `${i.fix}: ${setCommand(stack, i.path.replace(/\[\d+\]$/, ""), decl(i.path.replace(/\[\d+\]$/, "")))}` } : i));
    const secrets: FleetIssue[] = [];
    const present = SECRET_KEYS.filter((k) => values.has(prefix + k));
    for (const k of present) {
        const v = values.get(prefix + k)!;
        if (!v.secure) secrets.push({ file: v.file, path: `line ${v.line}: ${prefix}${k}`, message: "is plaintext: a registry credential is a secret", fix: `remove the line, then ${setCommand(stack, prefix + k, { secret: true })}` });
    }
    if (present.length === 1) {
        const missing = SECRET_KEYS.find((k) => !present.includes(k))!;
        secrets.push({ file: stackFile, path: prefix + missing, message: `is missing: ${prefix}${present[0]} is set, and a registry login needs both`, fix: setCommand(stack, prefix + missing, { secret: true }) });
    }
    return { issues: [...cli, ...program, ...secrets], keys: values.size, defaults: [...values.values()].filter((v) => v.file === project.file).length };
}
