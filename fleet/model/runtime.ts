/**
 * A family's runtime values (limits and health timing): its own, else its ancestors' (parent,
 * then `inherits`), else the fleet-wide defaults. Used by the planner and by the cross-checks.
 */
import { RUNTIME_DEFAULTS } from "./defaults";
import { FleetData } from "./schema";

export type FamilyRuntime = typeof RUNTIME_DEFAULTS;

/** The family and its ancestors, the family first. */
function runtimeChain(d: FleetData, family: string): string[] {
    const chain: string[] = [];
    let cur: string | undefined = family;
    while (cur !== undefined && cur in d.families && !chain.includes(cur)) {
        chain.push(cur);
        const f: FleetData["families"][string] = d.families[cur];
        cur = f.parent ?? f.inherits;
    }
    return chain;
}

export function familyRuntime(d: FleetData, family: string): FamilyRuntime {
    const out = { ...RUNTIME_DEFAULTS };
    for (const name of runtimeChain(d, family).reverse()) {
        const rt = d.families[name].runtime ?? {};
        for (const k of Object.keys(out) as (keyof FamilyRuntime)[]) out[k] = rt[k] ?? out[k];
    }
    return out;
}

/** The family whose `runtime.<key>` gives `family` its value, or undefined for the default. */
export function runtimeSource(d: FleetData, family: string, key: keyof FamilyRuntime): string | undefined {
    return runtimeChain(d, family).find((f) => d.families[f].runtime?.[key] !== undefined);
}
