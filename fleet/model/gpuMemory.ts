/**
 * A host's GPU memory budget (issue 27): what each GPU service placed on it keeps on the card
 * (its own `vramMb`, else its family's runtime.vramMb), against the card's `vramGb` in
 * hosts.yaml. One GPU per host (hosts.yaml `gpu`); every GPU service of a host shares it.
 */
import { byName } from "./names";
import { FleetData, Service } from "./schema";
import { familyRuntime } from "./runtime";

/** MB in a GB, as NVIDIA states card memory (24 GB = 24576 MiB on an RTX 4090's spec sheet). */
export const MB_PER_GB = 1024;

export interface GpuReservation {
    service: string;
    vramMb: number;
}

export interface GpuBudget {
    model: string;
    totalMb: number;
    reservedMb: number;
    /** Largest first, then by name. */
    services: GpuReservation[];
}

/** What one GPU service keeps on its card. */
export function serviceVramMb(d: FleetData, svc: Service): number {
    return svc.vramMb ?? familyRuntime(d, svc.family).vramMb;
}

/**
 * The card of `machine` and what the named services keep on it; undefined for a host without
 * a GPU. `services`: those that run on the card (compute: gpu), by name.
 */
export function gpuBudget(d: FleetData, machine: string, services: readonly string[]): GpuBudget | undefined {
    const gpu = d.hosts[machine]?.gpu;
    if (!gpu) return undefined;
    const reserved = services.map((service) => ({ service, vramMb: serviceVramMb(d, d.services[service]) }))
        .sort((a, b) => b.vramMb - a.vramMb || byName(a.service, b.service));
    return { model: gpu.model, totalMb: gpu.vramGb * MB_PER_GB, reservedMb: reserved.reduce((n, r) => n + r.vramMb, 0), services: reserved };
}

/** `ModelOpsCoordinator 8192, TinyLlamaServiceEnhanced 3072, ...`: the reservations, largest first. */
export function reservationList(b: GpuBudget): string {
    return b.services.map((r) => `${r.service} ${r.vramMb}`).join(", ");
}
