/**
 * Where `pulumi up` waits for a container to turn healthy: in the container's own create, or in
 * the host's health gate, one command that waits for all the others once they are created.
 *
 * The provider's `wait` holds the create step of a container until it is healthy
 * (kreuzwerker resourceDockerContainerCreate: a one-second ticker over ContainerInspect until
 * `healthy` or `wait_timeout`), and `pulumi up` runs only `--parallel` steps at once (4 per CPU
 * of the machine running it). Every container waiting in its own step kept the host to that many
 * starting at a time, each step held past its container's readiness until the next poll. With
 * the gate, a step ends once its container is started, the host's containers start as fast as
 * the steps allow, and one step waits for them all, as `docker compose up --wait` does; a failed
 * wait names every service that is not healthy, not only the first. Measured on mainpc with its
 * GPU services, two alternated A/Bs of 3 rounds on 2 cores (docs/performance.md): medians 64.5
 * and 69.0 s waiting in each create, 62.5 and 65.9 s with the gate, compose 65.5 and 59.5 s.
 *
 * A container another waits for (the core tier, a lane predecessor) still waits in its own
 * create: `dependsOn` orders by completed steps, so only a create that ends healthy orders a
 * start after health.
 */
import type { ContainerPlan, PlannedContainer } from "./plan";

/** A container the host's health gate waits for. */
export interface GatedContainer {
    /** Docker container name. */
    name: string;
    service: string;
    /** How long the gate waits for it, from the gate's start: the service's health wait. */
    timeoutSeconds: number;
}

/** Sets each container's `healthWait`: in its create when another container waits for it, else in the host's gate. */
export function assignHealthWaits<C extends PlannedContainer>(containers: C[]): (C & Pick<ContainerPlan, "healthWait">)[] {
    const awaited = new Set(containers.flatMap((c) => (c.startAfter !== undefined ? [c.startAfter] : [])));
    return containers.map((c) => ({ ...c, healthWait: c.tier === "core" || awaited.has(c.service) ? "create" : "gate" }));
}

/** The containers the host's health gate waits for, in plan order. */
export function gatedContainers(containers: readonly ContainerPlan[]): GatedContainer[] {
    return containers.filter((c) => c.healthWait === "gate").map((c) => ({ name: c.name, service: c.service, timeoutSeconds: c.health.waitTimeoutSeconds }));
}

/** `FLEET_GATED` for scripts/health-gate.sh: `container:Service:seconds`, space-separated, in plan order. */
export function healthGateEnv(gated: readonly GatedContainer[]): string {
    return gated.map((g) => `${g.name}:${g.service}:${g.timeoutSeconds}`).join(" ");
}
