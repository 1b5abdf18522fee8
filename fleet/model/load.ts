/**
 * Loads the fleet data directory: three YAML files, parsed, shape-checked and cross-checked.
 * Returns the data only when every check passes; otherwise throws one `FleetError` listing
 * every problem of every file.
 */
import * as fs from "fs";
import * as path from "path";
import { checkFleet, FleetFiles } from "./check";
import { FleetError, FleetIssue } from "./issues";
import { parseYaml, validate } from "./parse";
import { FamiliesFileSchema, FleetData, HostsFileSchema, ServicesFileSchema } from "./schema";

/**
 * The repository's own data, unless FLEET_DATA_DIR names another directory (the benchmark's
 * synthetic fleet; trying a change without editing the real data).
 */
export const DEFAULT_FLEET_DIR = process.env.FLEET_DATA_DIR ? path.resolve(process.env.FLEET_DATA_DIR) : path.resolve(__dirname, "..", "data");

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

/** Loads and checks `dir`; throws `FleetError` with every problem found. */
export function loadFleet(dir: string = DEFAULT_FLEET_DIR): FleetData {
    const files = fleetFiles(dir);
    const issues: FleetIssue[] = [];
    const raw = {
        hosts: readYaml(path.join(dir, "hosts.yaml"), files.hosts, issues),
        families: readYaml(path.join(dir, "families.yaml"), files.families, issues),
        services: readYaml(path.join(dir, "services.yaml"), files.services, issues),
    };
    const hosts = raw.hosts === undefined ? undefined : validate(HostsFileSchema, raw.hosts, files.hosts, "hosts");
    const families = raw.families === undefined ? undefined : validate(FamiliesFileSchema, raw.families, files.families, "families");
    const services = raw.services === undefined ? undefined : validate(ServicesFileSchema, raw.services, files.services, "services");
    for (const r of [hosts, families, services]) if (r && !r.ok) issues.push(...r.issues);
    if (issues.length > 0 || !hosts?.ok || !families?.ok || !services?.ok) throw new FleetError(issues);
    const data: FleetData = { hosts: hosts.value.hosts, families: families.value.families, services: services.value.services };
    const cross = checkFleet(data, files);
    if (cross.length > 0) throw new FleetError(cross);
    return data;
}
