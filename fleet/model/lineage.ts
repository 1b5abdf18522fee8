/** A family's ancestry in families.yaml, and what it says about CUDA. */
import { CudaTrack, FleetData } from "./schema";

/** Walks `parent` links up to the root; stops at unknown names and cycles. */
export function lineage(d: FleetData, family: string): string[] {
    const out: string[] = [];
    let cur: string | undefined = family;
    while (cur !== undefined && cur in d.families && !out.includes(cur)) {
        out.push(cur);
        cur = d.families[cur].parent;
    }
    return out;
}

/** The CUDA tracks a family can be built for, or undefined for a CPU family. */
export function cudaTracks(d: FleetData, family: string): string[] | undefined {
    for (const name of lineage(d, family)) {
        const c = d.families[name].cuda;
        if (c) return c.tracks;
    }
    return undefined;
}

/** The oldest NVIDIA driver a CUDA track needs, from the CUDA root families. */
export function minDriver(d: FleetData, track: CudaTrack): number | undefined {
    const drivers = Object.values(d.families).flatMap((f) => {
        const v = f.cuda?.minDriverByTrack?.[track];
        return v === undefined ? [] : [v];
    });
    return drivers.length ? Math.max(...drivers) : undefined;
}
