/** Cross-checks of hosts.yaml: what a host uses of another host's services, and its GPU profile. */
import { closest } from "./closest";
import { containerName } from "./names";
import { gpuBudget, reservationList } from "./gpuMemory";
import { FleetIssue } from "./issues";
import { intactFamily, Rule } from "./rules";
import { GPU_PROFILE_KEYS } from "./schema";

/**
 * A host's `uses` names services placed on the other host. A service that exists but is placed
 * elsewhere is reported on services.yaml, where the move was made, naming the consumer; a name
 * services.yaml does not know is reported on the `uses` entry. A service placed on the host itself
 * cannot be used from a peer: the host's containers reach a used service by its own name, which
 * the service's front holds when it runs here (fleet/model/plan.ts `PeerPlan`).
 */
export const hostUses: Rule = (d, f, broken) => {
    const out: FleetIssue[] = [];
    for (const [h, host] of Object.entries(d.hosts)) {
        for (const [peer, services] of Object.entries(host.uses)) {
            if (broken.hosts(peer)) continue;
            if (peer === h || !(peer in d.hosts)) {
                out.push({ file: f.hosts, path: `${h}.uses.${peer}`, message: peer === h ? "a host cannot use itself" : `'${peer}' is not a host in this file`, fix: `use one of ${Object.keys(d.hosts).filter((x) => x !== h).join(", ")}` });
                continue;
            }
            for (const [i, name] of services.entries()) {
                const svc = d.services[name];
                if (!svc && broken.services(name)) continue;
                if (!svc) {
                    const near = closest(name, Object.keys(d.services).filter((x) => d.services[x].hosts.includes(peer)));
                    out.push({ file: f.hosts, path: `${h}.uses.${peer}[${i}]`, message: `'${name}' is not a service of ${f.services}${near ? `; the closest on ${peer} is ${near}` : ""}`, fix: near ? `write ${near}` : `name a service of ${f.services} that runs on ${peer} (names are case-sensitive)` });
                } else if (!svc.hosts.includes(peer)) {
                    out.push({ file: f.services, path: `${name}.hosts`, message: `does not include ${peer}, where ${h} uses ${name} (${f.hosts}: ${h}.uses.${peer}[${i}])`, fix: `add ${peer} to ${name}.hosts, or remove ${name} from ${h}.uses.${peer} in ${f.hosts}` });
                } else if (svc.hosts.includes(h)) {
                    out.push({ file: f.hosts, path: `${h}.uses.${peer}[${i}]`, message: `${name} runs on ${h} itself (${f.services}: ${name}.hosts), and ${h}'s containers reach it by its name, ${containerName(name)}: the one on ${h} holds that name, not ${peer}'s`, fix: `remove ${name} from ${h}.uses.${peer}, or ${h} from ${name}.hosts in ${f.services}` });
                }
            }
        }
    }
    return out;
};

/**
 * The profile's GPU keys follow the host's `gpu`: a host with a GPU needs them (its GPU services
 * get the device and the allocator settings from them), and a host without one must not carry
 * them: they would reach its containers' profile document, describing a GPU that is not there,
 * and a leftover key is more often a `gpu` block deleted by mistake than a setting meant.
 */
export const hostProfiles: Rule = (d, f) => Object.entries(d.hosts).flatMap(([h, host]) => GPU_PROFILE_KEYS.flatMap((key): FleetIssue[] => {
    const set = host.profile[key] !== undefined;
    if (host.gpu && !set) {
        return [{ file: f.hosts, path: `${h}.profile.${key}`, message: `is missing: host '${h}' has a GPU (${h}.gpu)`, fix: key === "GPU_VISIBLE_DEVICES" ? `add the GPU's index, e.g. GPU_VISIBLE_DEVICES: "0"; or, for a host without a GPU, leave out ${h}.gpu` : `add it, e.g. TORCH_CUDA_ALLOC_CONF: "max_split_size_mb:64"; or, for a host without a GPU, leave out ${h}.gpu` }];
    }
    if (!host.gpu && set) {
        return [{ file: f.hosts, path: `${h}.profile.${key}`, message: `is set, but host '${h}' has no GPU (no ${h}.gpu)`, fix: `remove it: a host without a GPU leaves out gpu and the profile's ${GPU_PROFILE_KEYS.join(" and ")}; or describe the GPU in ${h}.gpu` }];
    }
    return [];
}));

/**
 * A card holds what its GPU services keep on it: the GPU services placed on a host (enabled, the
 * gated ones too: a stack may turn them on) must fit the host's `gpu.vramGb`. Reported on the
 * host's vramGb, naming every service with its figure; `vramMb` on a CPU service is a mistake.
 */
export const gpuMemory: Rule = (d, f, broken) => {
    const out: FleetIssue[] = [];
    for (const [name, svc] of Object.entries(d.services)) {
        if (svc.vramMb !== undefined && svc.compute !== "gpu") {
            out.push({ file: f.services, path: `${name}.vramMb`, message: "is set on a CPU service (compute: cpu): it keeps nothing on a GPU", fix: "remove it, or set compute: gpu if the service runs on the GPU" });
        }
    }
    for (const [h, host] of Object.entries(d.hosts)) {
        if (!host.gpu) continue;
        const placed = Object.entries(d.services).filter(([, s]) => s.hosts.includes(h) && s.compute === "gpu" && s.enabled !== false);
        // A figure from a family that failed its schema is unknown: the sum is not judged.
        if (placed.some(([, s]) => !(s.family in d.families) || !intactFamily(d, broken, s.family))) continue;
        const b = gpuBudget(d, h, placed.map(([n]) => n))!;
        if (b.reservedMb <= b.totalMb) continue;
        out.push({
            file: f.hosts, path: `${h}.gpu.vramGb`,
            message: `${host.gpu.vramGb} GB (${b.totalMb} MB) on the ${b.model} is less than the ${b.reservedMb} MB its ${b.services.length} GPU services keep on it, ${b.reservedMb - b.totalMb} MB over: ${reservationList(b)}`,
            fix: `place GPU services elsewhere (services.yaml hosts), turn one off (enabled: false), or correct a figure measured on the host (nvidia-smi --query-compute-apps=pid,used_memory --format=csv): vramMb in ${f.services} or runtime.vramMb in ${f.families}`,
        });
    }
    return out;
};
