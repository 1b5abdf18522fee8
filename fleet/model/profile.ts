/**
 * The host profile (002 §D) as the environment of a container, under the names the software
 * really reads, and as the profile document the seeds' entrypoints expect.
 *
 * Decisions:
 * - 002 names `TORCH_CUDA_ALLOC_CONF`; PyTorch reads `PYTORCH_CUDA_ALLOC_CONF`. 004 spells the
 *   value `max_split_size_mb=64`, but PyTorch parses `key:value` pairs, so 002's value is used.
 * - `GPU_VISIBLE_DEVICES` is read by nothing. It selects the host GPU of the device request and
 *   `NVIDIA_VISIBLE_DEVICES` (so a host whose default runtime is nvidia still exposes only that
 *   GPU: nvidia/cuda images set NVIDIA_VISIBLE_DEVICES=all). Inside the container the runtime
 *   renumbers the selected GPUs from 0, so `CUDA_VISIBLE_DEVICES` counts from 0, whatever the
 *   host index.
 * - OMP_NUM_THREADS is mirrored to MKL_NUM_THREADS (004 §D), since MKL ignores OMP's variable
 *   when it uses its own threading layer.
 * - UVICORN_WORKERS is read by the uvicorn CLI (its UVICORN_ env prefix); gunicorn (family-web)
 *   reads WEB_CONCURRENCY, so both are set.
 * - NUMBA_CACHE_SIZE (003) is not a setting Numba reads; it stays in the profile document only.
 * - A host without a GPU has neither `gpu` nor the profile's GPU keys (schema.ts): its document
 *   says `"gpu": null` and its containers get no GPU variable, since no GPU request is made.
 */
import { Host } from "./schema";

export interface EnvInputs {
    machine: string;
    host: Host;
    service: string;
    portOffset: number;
    servicePort: number;
    healthPort: number;
    /** A compute GPU request is made for the container. */
    gpu: boolean;
    /** A utility-only (NVML) GPU request is made for the container. */
    nvml: boolean;
    /** The GPU service may start on CPU when no GPU is visible. */
    cpuFallback: boolean;
}

/** GPU indexes on the host, from the profile; none on a host without a GPU. */
export function hostGpuIds(host: Host): string[] {
    return host.profile.GPU_VISIBLE_DEVICES?.split(",") ?? [];
}

export function profileEnv(i: EnvInputs): Record<string, string> {
    const p = i.host.profile;
    const env: Record<string, string> = {
        FLEET_SERVICE: i.service,
        MACHINE: i.machine,
        PORT_OFFSET: String(i.portOffset),
        SERVICE_PORT: String(i.servicePort),
        HEALTH_PORT: String(i.healthPort),
        OMP_NUM_THREADS: String(p.OMP_NUM_THREADS),
        MKL_NUM_THREADS: String(p.OMP_NUM_THREADS),
        UVICORN_WORKERS: String(p.UVICORN_WORKERS),
        WEB_CONCURRENCY: String(p.UVICORN_WORKERS),
        MODEL_EVICT_THRESHOLD_PCT: String(p.MODEL_EVICT_THRESHOLD_PCT),
    };
    const ids = hostGpuIds(i.host);
    if (i.gpu) {
        Object.assign(env, {
            NVIDIA_VISIBLE_DEVICES: ids.join(","),
            NVIDIA_DRIVER_CAPABILITIES: "compute,utility",
            CUDA_DEVICE_ORDER: "PCI_BUS_ID",
            CUDA_VISIBLE_DEVICES: ids.map((_, n) => String(n)).join(","),
            REQUIRED_GPU: "true",
        });
        // Set on every host with a GPU (fleet/model/checkHosts.ts), the only hosts GPU services run on.
        if (p.TORCH_CUDA_ALLOC_CONF !== undefined) env.PYTORCH_CUDA_ALLOC_CONF = p.TORCH_CUDA_ALLOC_CONF;
        if (i.cpuFallback) env.GPU_FALLBACK = "cpu";
    } else if (i.nvml) {
        Object.assign(env, { NVIDIA_VISIBLE_DEVICES: ids.join(","), NVIDIA_DRIVER_CAPABILITIES: "utility" });
    }
    return Object.fromEntries(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}

/** The profile document's content: the blueprint's keys verbatim plus the host's hardware. */
function profileContent(machine: string, host: Host): object {
    return { machine, description: host.description, gpu: host.gpu, profile: host.profile };
}

/** /etc/machine-profile.json as a file. */
export function profileDocument(machine: string, host: Host): string {
    return JSON.stringify(profileContent(machine, host), null, 2) + "\n";
}

/** The same document on one line, for the container's FLEET_PROFILE_JSON. */
export function profileJson(machine: string, host: Host): string {
    return JSON.stringify(profileContent(machine, host));
}
