/** Cross-checks of services.yaml against the families and hosts, and between services. */
import { FleetIssue } from "./issues";
import { cudaTracks } from "./lineage";
import { containerName } from "./names";
import { intactFamily, publishedPorts, Rule } from "./rules";
import { FleetData, Service } from "./schema";

/** The one service allowed to reach the Docker API (002 P0.5). */
export const DOCKER_API_SERVICE = "SelfHealingSupervisor";

function* serviceHosts(d: FleetData): Generator<[string, Service, string, number]> {
    for (const [name, svc] of Object.entries(d.services)) {
        for (const [i, h] of svc.hosts.entries()) yield [name, svc, h, i];
    }
}

export const serviceRefs: Rule = (d, f, broken) => {
    const out: FleetIssue[] = [];
    const hosts = Object.keys(d.hosts);
    for (const [name, svc] of Object.entries(d.services)) {
        if (!(svc.family in d.families) && !broken.families(svc.family)) {
            out.push({ file: f.services, path: `${name}.family`, message: `'${svc.family}' is not a family in ${f.families}`, fix: `use one of ${Object.keys(d.families).join(", ")}` });
        }
        const seen = new Set<string>();
        for (const [i, h] of svc.hosts.entries()) {
            if (!(h in d.hosts) && !broken.hosts(h)) {
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

export const gpuPlacement: Rule = (d, f, broken) => {
    const out: FleetIssue[] = [];
    for (const [name, svc] of Object.entries(d.services)) {
        // A family that failed its schema, or sits below one, cannot say whether it carries CUDA.
        const judged = svc.family in d.families && intactFamily(d, broken, svc.family);
        if (judged && svc.compute === "gpu" && !cudaTracks(d, svc.family)) {
            out.push({ file: f.services, path: `${name}.family`, message: `needs a GPU (compute: gpu) but '${svc.family}' is a CPU family`, fix: "use a CUDA family (family-torch-cu121, family-llm-cu121, family-vision-cu121) or set compute: cpu" });
        }
        if (svc.cpuFallback && svc.compute !== "gpu") {
            out.push({ file: f.services, path: `${name}.cpuFallback`, message: "is set on a CPU service", fix: "remove it; only GPU services fall back to CPU" });
        }
        if (judged && svc.compute === "cpu" && cudaTracks(d, svc.family)) {
            const cpu = Object.keys(d.families).filter((x) => !cudaTracks(d, x));
            out.push({ file: f.services, path: `${name}.family`, message: `runs on CPU but '${svc.family}' carries the CUDA stack`, fix: `use a CPU family (${cpu.join(", ")}), or set compute: gpu if the service needs the GPU` });
        }
    }
    for (const [name, svc, h, i] of serviceHosts(d)) {
        const host = d.hosts[h];
        if (!host || host.gpu) continue;
        if (svc.compute === "gpu") out.push({ file: f.services, path: `${name}.hosts[${i}]`, message: `needs a GPU (compute: gpu) but host '${h}' has none (no gpu in ${f.hosts})`, fix: `place ${name} on a host with a GPU, or set compute: cpu` });
        if (svc.nvml) out.push({ file: f.services, path: `${name}.nvml`, message: `asks for NVML but host '${h}' has no GPU (no gpu in ${f.hosts})`, fix: `remove nvml, or place ${name} on a host with a GPU` });
    }
    return out;
};

export const dockerSocket: Rule = (d, f) =>
    Object.entries(d.services)
        .filter(([name, svc]) => svc.traits.includes("docker") && name !== DOCKER_API_SERVICE)
        .map(([name]) => ({
            file: f.services, path: `${name}.traits`,
            message: `requests the Docker API, which only ${DOCKER_API_SERVICE} may reach (002 P0.5)`,
            fix: `remove 'docker' from traits; ask ${DOCKER_API_SERVICE} to act on other containers`,
        }));

export const uniqueNames: Rule = (d, f) => {
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
 * checked, gated and disabled ones too, since a stack may switch them on. A clash names both
 * services (the data cannot say which one was just edited) and the next free port above it, so
 * the fix needs no other command (`plan` refuses the same data).
 */
export const portCollisions: Rule = (d, f) => {
    const out: FleetIssue[] = [];
    for (const h of Object.keys(d.hosts)) {
        const owner = new Map<number, string>();
        const placed = Object.entries(d.services).filter(([, svc]) => svc.hosts.includes(h)).map(([name, svc]) => [name, publishedPorts(svc.ports)] as const);
        const used = new Set(placed.flatMap(([, ports]) => ports.map(([, p]) => p)));
        for (const [name, ports] of placed) {
            for (const [key, p] of ports) {
                const prev = owner.get(p);
                if (prev) {
                    let free = p + 1;
                    while (used.has(free)) free++;
                    out.push({ file: f.services, path: `${name}.ports.${key}`, message: `${p} is published on ${h} by both ${prev} and ${name}.ports.${key}`, fix: `give one of them a free port; the next free port above it on ${h} is ${free}` });
                } else owner.set(p, `${name}.ports.${key}`);
            }
        }
    }
    return out;
};
