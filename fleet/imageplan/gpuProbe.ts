/**
 * The GPU probe of a host (components/gpuProbe.ts, scripts/gpu-probe.sh): before any container
 * with a GPU device request, one short-lived container makes the same request, so a Docker engine
 * without the NVIDIA device driver fails the probe with the fix, and only the GPU containers wait
 * for it. Which GPUs it asks for and which image it runs; no Pulumi here.
 *
 * The device driver is Docker's (moby v26.1.5 daemon/nvidia_linux.go): registered at daemon start
 * only when `nvidia-container-runtime-hook` is on dockerd's PATH (`init`, exec.LookPath); a request
 * it cannot serve fails the container's start with `could not select device driver "" with
 * capabilities: [[gpu]]` (daemon/devices.go `handleDevice`, daemon/errors.go). Nothing in
 * `docker info` says whether it is registered, so a container is the only way to know.
 */
import { FamilyImageSpec } from "../model/images";
import { HostPlan } from "../model/plan";

/** What the probe runs: a family image the stack builds, or an image a rollback pins. */
export type ProbeImage = { family: string } | { pinned: string };

export interface GpuProbePlan {
    /** The host GPUs the containers request (hosts.yaml GPU_VISIBLE_DEVICES), in order. */
    deviceIds: string[];
    image: ProbeImage;
}

/** The host GPUs the plan's containers request, each once, in the order they are first asked for. */
export function requestedGpuIds(plan: HostPlan): string[] {
    return [...new Set(plan.containers.flatMap((c) => c.gpu?.deviceIds ?? []))];
}

/**
 * The probe of a host, or undefined when no container makes a GPU device request (a CPU host, a
 * stack with fleet:gpu false). Its image only needs /bin/true: the device driver serves any image
 * (the hook, not the image, brings the GPU in). The CUDA root family's image is taken when the
 * stack builds it; else another root it builds (a host whose only GPU request is NVML's); when
 * it builds no family at all, the first GPU container's pinned image (the program always builds
 * base-python for the HAProxy image its fronts run, so that takes a plan without fronts).
 * @param built the families the stack builds (BuildPlan.families' specs), parents first
 */
export function gpuProbePlan(plan: HostPlan, built: Pick<FamilyImageSpec, "family" | "parent" | "cudaTrack">[]): GpuProbePlan | undefined {
    const deviceIds = requestedGpuIds(plan);
    if (deviceIds.length === 0) return undefined;
    const roots = built.filter((f) => f.parent === undefined);
    const root = roots.find((f) => f.cudaTrack !== undefined) ?? roots[0];
    if (root) return { deviceIds, image: { family: root.family } };
    const pinned = plan.containers.find((c) => c.gpu !== null && c.pinnedImage !== undefined)!;
    return { deviceIds, image: { pinned: pinned.pinnedImage! } };
}
