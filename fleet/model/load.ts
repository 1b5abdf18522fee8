/**
 * Loads the fleet data directory: three YAML files, parsed, shape-checked entry by entry and
 * cross-checked. Returns the data only when every check passes; otherwise throws one
 * `FleetError` listing every problem of every file.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { Broken, checkFleet, FleetFiles } from "./check";
import { FleetError, FleetIssue } from "./issues";
import { mapOf, parseYaml, validate } from "./parse";
import { FamilySchema, FleetData, HostSchema, NameSchema, ServiceSchema } from "./schema";

/**
 * The repository's own data, unless FLEET_DATA_DIR names another directory (the benchmark's
 * synthetic fleet; the CPU-only host fixture; trying a change without editing the real data),
 * read when called: the program reads it at each run.
 */
export function fleetDataDir(): string {
    return process.env.FLEET_DATA_DIR ? path.resolve(process.env.FLEET_DATA_DIR) : path.resolve(__dirname, "..", "data");
}

/** `fleetDataDir()` when this module was loaded (the CLI's and the tests' default). */
export const DEFAULT_FLEET_DIR = fleetDataDir();

/** How a path is shown in messages: relative to the working directory when inside it. */
export function displayPath(p: string): string {
    const rel = path.relative(process.cwd(), p);
    return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : p;
}

function readYaml(file: string, shown: string, issues: FleetIssue[]): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        issues.push({
            file: shown, path: "",
            message: code === "ENOENT" ? "file not found" : `cannot be read (${code ?? String(e)})`,
            fix: code === "ENOENT" ? `create it, or point --fleet at a directory holding hosts.yaml, families.yaml and services.yaml` : "check the file's permissions",
        });
        return undefined;
    }
    const r = parseYaml(text, shown);
    if (!r.ok) {
        issues.push(...r.issues);
        return undefined;
    }
    return r.value;
}

export function fleetFiles(dir: string): FleetFiles {
    return {
        hosts: displayPath(path.join(dir, "hosts.yaml")),
        families: displayPath(path.join(dir, "families.yaml")),
        services: displayPath(path.join(dir, "services.yaml")),
    };
}

/** The entries of one file that passed their schema, and the names of those that did not. */
interface Entries<T> {
    value: Record<string, T>;
    broken: (name: string) => boolean;
}

/**
 * One data file, entry by entry: the file's shape (`<root>:` a mapping), then each entry's name
 * and its schema. An entry that fails is left out and named broken; the others are kept, so
 * the cross-checks still judge them. A file that cannot be read leaves every name unknown.
 */
function entriesOf<S extends z.ZodType>(raw: unknown, root: string, entry: S, file: string, issues: FleetIssue[]): Entries<z.output<S>> {
    const all = { value: {}, broken: () => true };
    if (raw === undefined) return all;
    const top = validate(z.strictObject({ [root]: z.record(z.string(), z.unknown()) }), raw, file);
    const map = mapOf(raw)?.[root];
    if (!top.ok) issues.push(...top.issues);
    const entries = mapOf(map);
    if (!entries) return all;
    const value: Record<string, z.output<S>> = {};
    const broken = new Set<string>();
    for (const [key, v] of Object.entries(entries)) {
        const named = NameSchema.safeParse(key);
        if (!named.success) issues.push({ file, path: key, message: `is not a valid name: ${named.error.issues[0].message}`, fix: "rename it" });
        const r = validate(entry, v, file, [key]);
        if (!r.ok) issues.push(...r.issues);
        if (r.ok && named.success) value[key] = r.value;
        else broken.add(key);
    }
    return { value, broken: (name) => broken.has(name) };
}

/**
 * Loads and checks `dir`, reporting every problem of every file in one run: an entry that fails
 * its schema is left out and the cross-checks judge the rest, without echoing the failed
 * entry's problems as broken references (fleet/model/rules.ts `Broken`).
 */
export function readFleet(dir: string = DEFAULT_FLEET_DIR): { data: FleetData; issues: FleetIssue[]; broken: Broken } {
    const files = fleetFiles(dir);
    const issues: FleetIssue[] = [];
    const hosts = entriesOf(readYaml(path.join(dir, "hosts.yaml"), files.hosts, issues), "hosts", HostSchema, files.hosts, issues);
    const families = entriesOf(readYaml(path.join(dir, "families.yaml"), files.families, issues), "families", FamilySchema, files.families, issues);
    const services = entriesOf(readYaml(path.join(dir, "services.yaml"), files.services, issues), "services", ServiceSchema, files.services, issues);
    const data: FleetData = { hosts: hosts.value, families: families.value, services: services.value };
    const broken: Broken = { hosts: hosts.broken, families: families.broken, services: services.broken };
    return { data, issues: [...issues, ...checkFleet(data, files, broken)], broken };
}

/** Loads and checks `dir`; throws `FleetError` with every problem found. */
export function loadFleet(dir: string = DEFAULT_FLEET_DIR): FleetData {
    const r = readFleet(dir);
    if (r.issues.length > 0) throw new FleetError(r.issues);
    return r.data;
}
