/** Cross-checks of families.yaml: the hierarchy, CUDA tracks, interpreters and CPU limits. */
import { FleetIssue } from "./issues";
import { cudaTracks, lineage } from "./lineage";
import { FleetFiles, intactFamily, Rule } from "./rules";
import { familyRuntime, runtimeSource } from "./runtime";
import { FleetData } from "./schema";

export const familyParentRefs: Rule = (d, f, broken) => {
    const out: FleetIssue[] = [];
    const known = Object.keys(d.families);
    for (const [name, fam] of Object.entries(d.families)) {
        for (const key of ["parent", "inherits"] as const) {
            const ref = fam[key];
            if (ref !== undefined && !(ref in d.families) && !broken.families(ref)) {
                out.push({ file: f.families, path: `${name}.${key}`, message: `'${ref}' is not a family in this file`, fix: `use one of ${known.join(", ")}` });
            }
        }
        if ((fam.parent === undefined) === (fam.upstream === undefined)) {
            out.push({
                file: f.families, path: name,
                message: fam.parent === undefined ? "has neither `parent` nor `upstream`" : "has both `parent` and `upstream`",
                fix: "give a family exactly one base: `parent` (another family) or `upstream` (an external image)",
            });
        }
        if (fam.upstream !== undefined && fam.parent === undefined && fam.python === undefined) {
            out.push({ file: f.families, path: `${name}.python`, message: "is missing on a root family", fix: "state the Python version the upstream image provides" });
        }
    }
    return out;
};

export const familyCycles: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    const reported = new Set<string>();
    for (const start of Object.keys(d.families)) {
        const chain: string[] = [];
        let cur: string | undefined = start;
        while (cur !== undefined && cur in d.families) {
            const at = chain.indexOf(cur);
            if (at >= 0) {
                const cycle = chain.slice(at);
                const key = [...cycle].sort().join(",");
                if (!reported.has(key)) {
                    reported.add(key);
                    out.push({
                        file: f.families, path: `${cycle[0]}.parent`,
                        message: `the hierarchy has a cycle: ${[...cycle, cycle[0]].join(" -> ")}`,
                        fix: "point one of these families at an upstream image or a family outside the cycle",
                    });
                }
                break;
            }
            chain.push(cur);
            cur = d.families[cur].parent;
        }
    }
    return out;
};

export const familyCuda: Rule = (d, f, broken) => {
    const out: FleetIssue[] = [];
    for (const [name, fam] of Object.entries(d.families)) {
        // A family below one that failed its schema cannot be judged: its root is unknown.
        if (!intactFamily(d, broken, name)) continue;
        checkTrackKeys(d, f, name, out);
        if (!fam.cuda) continue;
        const chain = lineage(d, name);
        const root = d.families[chain[chain.length - 1]];
        const rootTracks = root.cuda?.upstreamByTrack ?? {};
        if (fam.upstream && (!fam.cuda.track || !fam.cuda.upstreamByTrack || !fam.cuda.minDriverByTrack)) {
            out.push({ file: f.families, path: `${name}.cuda`, message: "a CUDA root needs `track`, `upstreamByTrack` and `minDriverByTrack`", fix: "add the default track, and the upstream tag and minimum driver of every track" });
        }
        for (const t of fam.upstream ? fam.cuda.tracks : []) {
            if (fam.cuda.minDriverByTrack && !(t in fam.cuda.minDriverByTrack)) {
                out.push({ file: f.families, path: `${name}.cuda.minDriverByTrack`, message: `has no minimum driver for track '${t}'`, fix: "add it (NVIDIA's CUDA release notes list it)" });
            }
        }
        for (const [i, t] of fam.cuda.tracks.entries()) {
            if (!(t in rootTracks)) {
                out.push({ file: f.families, path: `${name}.cuda.tracks[${i}]`, message: `track '${t}' has no upstream image in its root family`, fix: "add the track to the root's cuda.upstreamByTrack or remove it here" });
            }
        }
    }
    return out;
};

/** A family's per-track index and pins name tracks it is built on (its own or its CUDA ancestor's). */
function checkTrackKeys(d: FleetData, f: FleetFiles, name: string, out: FleetIssue[]): void {
    const fam = d.families[name];
    const tracks = cudaTracks(d, name);
    const what = { pipIndexByTrack: "the index", pipByTrack: "the pins" } as const;
    for (const key of ["pipIndexByTrack", "pipByTrack"] as const) {
        if (!fam[key]) continue;
        if (!tracks) {
            // Without a CUDA ancestor the family is built on no track: the key would do nothing.
            out.push({ file: f.families, path: `${name}.${key}`, message: "is set on a family with no CUDA family in its lineage, which is built on no track", fix: key === "pipByTrack" ? "move the pins to `pip`" : "remove it; CPU families install from the default index" });
            continue;
        }
        for (const t of Object.keys(fam[key])) {
            if (!tracks.includes(t)) out.push({ file: f.families, path: `${name}.${key}.${t}`, message: `track '${t}' is not one of this family's cuda.tracks`, fix: `remove ${what[key]} or add the track` });
        }
    }
}

/**
 * A container's CPU limit cannot exceed what its host has: Docker refuses NanoCpus above the
 * engine's CPU count ("range of CPUs is from 0.01 to N"), so the deploy would fail on the host.
 * Reported on the family that sets the value, once per host.
 */
export const familyCpus: Rule = (d, f, broken) => {
    const out: FleetIssue[] = [];
    for (const [h, host] of Object.entries(d.hosts)) {
        const users = new Map<string, string[]>();
        for (const [name, svc] of Object.entries(d.services)) {
            if (svc.hosts.includes(h) && svc.family in d.families && intactFamily(d, broken, svc.family)) users.set(svc.family, [...(users.get(svc.family) ?? []), name]);
        }
        const reported = new Set<string>();
        for (const [family, names] of users) {
            const cpus = familyRuntime(d, family).cpus;
            if (cpus <= host.cpus) continue;
            const source = runtimeSource(d, family, "cpus") ?? family;
            const key = `${source}/${family}`;
            if (reported.has(key)) continue;
            reported.add(key);
            const via = source === family ? "" : ` (inherited by ${family})`;
            out.push({
                file: f.families, path: `${source}.runtime.cpus`,
                message: `${cpus} CPUs${via} is more than host '${h}' has (${host.cpus} in ${f.hosts}), where ${names.join(", ")} run`,
                fix: `set at most ${host.cpus}, or correct ${h}.cpus in ${f.hosts}`,
            });
        }
    }
    return out;
};

/**
 * No pre-release interpreter ships: Debian and Ubuntu version a CPython release candidate as
 * `3.11.0~rc1-...` (`~` sorts before the final release), as jammy's python3.11 was.
 */
export const releaseInterpreters: Rule = (d, f) => Object.entries(d.families).flatMap(([name, fam]) => fam.apt.flatMap((pin, i): FleetIssue[] => {
    const m = /^(python3(?:\.\d+)?(?:-[a-z]+)?)=(.*~(?:rc|a|b|alpha|beta)\d*.*)$/.exec(pin);
    return m ? [{ file: f.families, path: `${name}.apt[${i}]`, message: `${m[1]} ${m[2]} is a pre-release interpreter`, fix: "take Python from an image that ships a final release (python:3.x-slim), or a final package version" }] : [];
}));
