/** What a cross-check of the fleet data is given, and what it returns. */
import { FleetIssue } from "./issues";
import { FleetData, Service } from "./schema";

export interface FleetFiles {
    hosts: string;
    families: string;
    services: string;
}

/**
 * Entries present in a file that failed their own schema check, by kind (fleet/model/load.ts
 * leaves them out of the data). A cross-check does not report a reference to one of them, nor
 * anything it cannot judge without them: the entry's own problems are already reported, and a
 * second message would only echo the first.
 */
export type Broken = Readonly<Record<keyof FleetFiles, (name: string) => boolean>>;

export const NOTHING_BROKEN: Broken = { hosts: () => false, families: () => false, services: () => false };

export type Rule = (d: FleetData, f: FleetFiles, broken: Broken) => FleetIssue[];

/** Whether a family's ancestors (`parent` and `inherits`, transitively) all parsed. */
export function intactFamily(d: FleetData, broken: Broken, family: string): boolean {
    const seen = new Set<string>();
    const todo = [family];
    while (todo.length) {
        const cur = todo.pop()!;
        if (seen.has(cur)) continue;
        seen.add(cur);
        if (broken.families(cur)) return false;
        const f = d.families[cur];
        if (f) todo.push(...[f.parent, f.inherits].filter((x): x is string => x !== undefined));
    }
    return true;
}

/** A service's published ports by their key in services.yaml (`service`, `health`, `metrics[i]`). */
export function publishedPorts(ports: Service["ports"]): [string, number][] {
    return [["service", ports.service], ["health", ports.health], ...ports.metrics.map((p, i): [string, number] => [`metrics[${i}]`, p])];
}
