/**
 * Cross-checks between the three data files: what zod cannot see in one file alone. Each rule
 * returns every problem it finds, so an operator fixes them all in one pass.
 */
import { FleetIssue } from "./issues";
import { CudaTrack, FleetData, Service } from "./schema";
import { containerName } from "./names";
import { familyRuntime, runtimeSource } from "./runtime";

/** The one service allowed to reach the Docker API (002 P0.5). */
export const DOCKER_API_SERVICE = "SelfHealingSupervisor";

export interface FleetFiles {
    hosts: string;
    families: string;
    services: string;
}

type Rule = (d: FleetData, f: FleetFiles) => FleetIssue[];

const familyParentRefs: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    const known = Object.keys(d.families);
    for (const [name, fam] of Object.entries(d.families)) {
        for (const key of ["parent", "inherits"] as const) {
            const ref = fam[key];
            if (ref !== undefined && !(ref in d.families)) {
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

const familyCycles: Rule = (d, f) => {
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

const familyCuda: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    for (const [name, fam] of Object.entries(d.families)) {
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

function* serviceHosts(d: FleetData): Generator<[string, Service, string, number]> {
    for (const [name, svc] of Object.entries(d.services)) {
        for (const [i, h] of svc.hosts.entries()) yield [name, svc, h, i];
    }
}

const serviceRefs: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    const hosts = Object.keys(d.hosts);
    for (const [name, svc] of Object.entries(d.services)) {
        if (!(svc.family in d.families)) {
            out.push({ file: f.services, path: `${name}.family`, message: `'${svc.family}' is not a family in ${f.families}`, fix: `use one of ${Object.keys(d.families).join(", ")}` });
        }
        const seen = new Set<string>();
        for (const [i, h] of svc.hosts.entries()) {
            if (!(h in d.hosts)) {
                out.push({ file: f.services, path: `${name}.hosts[${i}]`, message: `'${h}' is not a host in ${f.hosts}`, fix: `use one of ${hosts.join(", ")}` });
            }
            if (seen.has(h)) out.push({ file: f.services, path: `${name}.hosts[${i}]`, message: `'${h}' is listed twice`, fix: "list each host once" });
            seen.add(h);
        }
        if (!svc.enabled && !svc.disabledReason) {
            out.push({ file: f.services, path: `${name}.disabledReason`, message: "is missing on a disabled service", fix: "say why the service is off, so the plan can show it" });
        }
    }
    return out;
};

const gpuPlacement: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    for (const [name, svc] of Object.entries(d.services)) {
        if (svc.compute === "gpu" && svc.family in d.families && !cudaTracks(d, svc.family)) {
            out.push({ file: f.services, path: `${name}.family`, message: `needs a GPU (compute: gpu) but '${svc.family}' is a CPU family`, fix: "use a CUDA family (family-torch-cu121, family-llm-cu121, family-vision-cu121) or set compute: cpu" });
        }
        if (svc.cpuFallback && svc.compute !== "gpu") {
            out.push({ file: f.services, path: `${name}.cpuFallback`, message: "is set on a CPU service", fix: "remove it; only GPU services fall back to CPU" });
        }
        if (svc.compute === "cpu" && svc.family in d.families && cudaTracks(d, svc.family)) {
            out.push({ file: f.services, path: `${name}.family`, message: `runs on CPU but '${svc.family}' carries the CUDA stack`, fix: "use a CPU family, or set compute: gpu if the service needs the GPU" });
        }
    }
    for (const [name, svc, h, i] of serviceHosts(d)) {
        const host = d.hosts[h];
        if (!host || host.gpu) continue;
        if (svc.compute === "gpu") out.push({ file: f.services, path: `${name}.hosts[${i}]`, message: `needs a GPU but host '${h}' has none`, fix: "place the service on a GPU host or set compute: cpu" });
        if (svc.nvml) out.push({ file: f.services, path: `${name}.nvml`, message: `asks for NVML but host '${h}' has no GPU`, fix: "remove nvml or place the service on a GPU host" });
    }
    return out;
};

const dockerSocket: Rule = (d, f) =>
    Object.entries(d.services)
        .filter(([name, svc]) => svc.traits.includes("docker") && name !== DOCKER_API_SERVICE)
        .map(([name]) => ({
            file: f.services, path: `${name}.traits`,
            message: `requests the Docker API, which only ${DOCKER_API_SERVICE} may reach (002 P0.5)`,
            fix: `remove 'docker' from traits; ask ${DOCKER_API_SERVICE} to act on other containers`,
        }));

const uniqueNames: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    const byContainer = new Map<string, string>();
    for (const name of Object.keys(d.services)) {
        const c = containerName(name);
        const other = byContainer.get(c);
        if (other) out.push({ file: f.services, path: name, message: `has the same container name '${c}' as ${other}`, fix: "rename one of the two services" });
        else byContainer.set(c, name);
    }
    for (const name of Object.keys(d.services)) {
        const c = containerName(name);
        if (c in d.families) out.push({ file: f.services, path: name, message: `has the image name '${c}' of a family`, fix: "rename the service; image names must be unique" });
    }
    return out;
};

/**
 * Published ports must be unique per host. The stack's PORT_OFFSET shifts every port of a host
 * by the same amount, so collisions do not depend on it; every service placed on the host is
 * checked, gated and disabled ones too, since a stack may switch them on.
 */
const portCollisions: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    for (const h of Object.keys(d.hosts)) {
        const owner = new Map<number, string>();
        for (const [name, svc] of Object.entries(d.services)) {
            if (!svc.hosts.includes(h)) continue;
            const ports: [string, number][] = [["service", svc.ports.service], ["health", svc.ports.health], ...svc.ports.metrics.map((p, i): [string, number] => [`metrics[${i}]`, p])];
            for (const [key, p] of ports) {
                const prev = owner.get(p);
                if (prev) {
                    out.push({ file: f.services, path: `${name}.ports.${key}`, message: `${p} is already published on ${h} by ${prev}`, fix: "choose a free port; `npm run fleet -- plan <stack>` lists the ports in use" });
                } else owner.set(p, `${name}.ports.${key}`);
            }
        }
    }
    return out;
};

const hostUses: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    for (const [h, host] of Object.entries(d.hosts)) {
        for (const [peer, services] of Object.entries(host.uses)) {
            if (peer === h || !(peer in d.hosts)) {
                out.push({ file: f.hosts, path: `${h}.uses.${peer}`, message: peer === h ? "a host cannot use itself" : `'${peer}' is not a host in this file`, fix: `use one of ${Object.keys(d.hosts).filter((x) => x !== h).join(", ")}` });
                continue;
            }
            for (const [i, svc] of services.entries()) {
                if (!d.services[svc]?.hosts.includes(peer)) {
                    out.push({ file: f.hosts, path: `${h}.uses.${peer}[${i}]`, message: `'${svc}' is not a service placed on ${peer}`, fix: `name a service of ${f.services} that runs on ${peer}` });
                }
            }
        }
    }
    return out;
};

/**
 * A container's CPU limit cannot exceed what its host has: Docker refuses NanoCpus above the
 * engine's CPU count ("range of CPUs is from 0.01 to N"), so the deploy would fail on the host.
 * Reported on the family that sets the value, once per host.
 */
const familyCpus: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    for (const [h, host] of Object.entries(d.hosts)) {
        const users = new Map<string, string[]>();
        for (const [name, svc] of Object.entries(d.services)) {
            if (svc.hosts.includes(h) && svc.family in d.families) users.set(svc.family, [...(users.get(svc.family) ?? []), name]);
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
const releaseInterpreters: Rule = (d, f) => Object.entries(d.families).flatMap(([name, fam]) => fam.apt.flatMap((pin, i): FleetIssue[] => {
    const m = /^(python3(?:\.\d+)?(?:-[a-z]+)?)=(.*~(?:rc|a|b|alpha|beta)\d*.*)$/.exec(pin);
    return m ? [{ file: f.families, path: `${name}.apt[${i}]`, message: `${m[1]} ${m[2]} is a pre-release interpreter`, fix: "take Python from an image that ships a final release (python:3.x-slim), or a final package version" }] : [];
}));


const RULES: Rule[] = [familyCpus, hostUses, familyParentRefs, familyCycles, familyCuda, releaseInterpreters, serviceRefs, gpuPlacement, dockerSocket, uniqueNames, portCollisions];

/** Every cross-file problem of the data. */
export function checkFleet(d: FleetData, files: FleetFiles): FleetIssue[] {
    return RULES.flatMap((r) => r(d, files));
}

/** The oldest NVIDIA driver a CUDA track needs, from the CUDA root families. */
export function minDriver(d: FleetData, track: CudaTrack): number | undefined {
    const drivers = Object.values(d.families).flatMap((f) => {
        const v = f.cuda?.minDriverByTrack?.[track];
        return v === undefined ? [] : [v];
    });
    return drivers.length ? Math.max(...drivers) : undefined;
}
