/**
 * Reads a project's Pulumi.yaml and one stack's files and merges them as `pulumi up` does
 * (fleet/pulumi/config.ts has the rules). Override files have a stack file's shape and go
 * on top of it key by key, as `pulumi config set` would: the engine tests name in one small file
 * what this machine cannot do, instead of building the config by hand.
 */
import * as fs from "fs";
import * as path from "path";
import { FleetError, FleetIssue } from "../model/issues";
import { Decrypt, mergeStack, MergedStack, parseProject, parseStackFile, PulumiProject, StackFile } from "./config";

export interface StackOptions {
    /** Override files (a stack file's shape), applied in order on top of Pulumi.<stack>.yaml. */
    overrides?: readonly string[];
    /** The stack's secrets provider; without it a secure value cannot be handed to the program. */
    decrypt?: Decrypt;
}

function shown(projectDir: string, file: string): string {
    const rel = path.relative(projectDir, file);
    return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

function read(file: string, name: string, fix: string): { text?: string; issue?: FleetIssue } {
    try {
        return { text: fs.readFileSync(file, "utf8") };
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return { issue: { file: name, path: "", message: code === "ENOENT" ? "file not found" : `cannot be read (${code})`, fix } };
    }
}

/** Pulumi.yaml of `projectDir`, checked; throws a FleetError naming file, line and fix. */
export function loadProject(projectDir: string): PulumiProject {
    const r = read(path.join(projectDir, "Pulumi.yaml"), "Pulumi.yaml", "run from the project directory, which holds Pulumi.yaml");
    if (r.issue) throw new FleetError([r.issue]);
    const p = parseProject(r.text!, "Pulumi.yaml");
    if (!p.ok) throw new FleetError(p.issues);
    return p.value;
}

/** The stacks that have a committed file. */
export function stackNames(projectDir: string): string[] {
    return fs.readdirSync(projectDir).filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f)).map((f) => f.split(".")[1]).sort();
}

/** The stack file and override files, parsed; every problem of every file. */
export function readStackFiles(projectDir: string, stack: string, overrides: readonly string[] = []): { files: StackFile[]; issues: FleetIssue[] } {
    const issues: FleetIssue[] = [];
    const files: StackFile[] = [];
    const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
    for (const [i, file] of [stackFile, ...overrides.map((o) => path.resolve(projectDir, o))].entries()) {
        const name = shown(projectDir, file);
        const r = read(file, name, i === 0 ? `use one of ${stackNames(projectDir).join(", ")}, or create ${name} (pulumi stack init ${stack})` : "commit the override file, or correct its path");
        if (r.issue) {
            issues.push(r.issue);
            continue;
        }
        const s = parseStackFile(r.text!, name);
        if (s.ok) files.push(s.value);
        else issues.push(...s.issues);
    }
    return { files, issues };
}

/**
 * The config `pulumi up --stack <stack>` hands the program, or a FleetError with what the CLI
 * would refuse (its first problem is the one the CLI prints).
 */
export function loadStack(projectDir: string, stack: string, opts: StackOptions = {}): MergedStack {
    const project = loadProject(projectDir);
    const { files, issues } = readStackFiles(projectDir, stack, opts.overrides);
    if (issues.length) throw new FleetError(issues);
    const merged = mergeStack(project, stack, files, opts.decrypt);
    if (!merged.ok) throw new FleetError(merged.issues);
    return merged.value;
}
