/**
 * `scripts/fleet plan` as a table, drawn from the plan document (planView.ts) alone. Columns
 * have fixed widths, not the widest cell's: a longer name pushes its own row out and no other,
 * so adding, removing or moving one service changes its own rows only (and the counts below).
 */
import { byName } from "../model/names";
import { reservationList } from "../model/gpuMemory";
import { ContainerView, ImageView, PlanDocument } from "./planView";

interface Column { title: string; width: number }

/** Widths fit the fleet's longest values today (LearningOpportunityDetector, family-vision-cu121). */
const RUNS: Column[] = [
    { title: "SERVICE", width: 27 }, { title: "TIER", width: 4 }, { title: "FAMILY", width: 19 },
    { title: "ADDRESS:SVC/HEALTH +METRICS", width: 27 }, { title: "GPU", width: 9 }, { title: "CPUS", width: 4 },
    { title: "MEM MB", width: 6 }, { title: "PIDS", width: 5 }, { title: "STARTS AFTER", width: 27 }, { title: "HEALTH", width: 0 },
];
const IMAGES: Column[] = [{ title: "SERVICE", width: 27 }, { title: "IMAGE", width: 0 }];
const FAMILIES: Column[] = [{ title: "FAMILY", width: 19 }, { title: "IMAGE", width: 0 }];

function row(columns: Column[], cells: string[]): string {
    return cells.map((cell, i) => cell.padEnd(columns[i].width)).join("  ").trimEnd();
}

function table(columns: Column[], rows: string[][]): string[] {
    return [row(columns, columns.map((c) => c.title)), ...rows.map((r) => row(columns, r))];
}

function seconds(s: number): string {
    return s % 60 === 0 && s >= 60 ? `${s / 60}m` : `${s}s`;
}

function runsRow(c: ContainerView): string[] {
    const p = c.publish;
    const h = c.health;
    return [
        c.service, c.tier, c.family,
        `${p.address}:${p.service}/${p.health}` + (p.metrics.length ? ` +${p.metrics.join(",")}` : ""),
        c.gpu ? `${c.gpu.capabilities.join(",")}:${c.gpu.deviceIds.join(",")}` : "-",
        String(c.limits.cpus), String(c.limits.memoryMb), String(c.limits.pidsLimit),
        c.startsAfter ?? "-",
        `${h.kind} :${h.port}${h.kind === "http" ? h.path : ""} start ${seconds(h.startPeriodSeconds)} every ${seconds(h.startIntervalSeconds)}`,
    ];
}

/** The build of this commit, or why its tag is not known. */
function build(i: ImageView): string {
    return i.build ?? `${i.repository} (tag unknown: ${i.buildUnknown})`;
}

/** What runs and where it comes from: built, or pinned (by what) in place of the build. */
export function imageCell(i: ImageView): string {
    if (i.pinnedBy === null) return build(i);
    return `${i.ref}  pinned by ${i.pinnedBy}; replaces ${build(i)}`;
}

/** The card's budget: what the deployed GPU services keep on it (hosts.yaml gpu.vramGb, fleet/model/gpuMemory.ts). */
function gpuMemoryLine(b: NonNullable<PlanDocument["gpuMemory"]>): string {
    return `GPU memory of the ${b.model}: ${b.reservedMb} of ${b.totalMb} MB kept by its GPU services (${Math.round((100 * b.reservedMb) / b.totalMb)}%): ${reservationList(b)}`;
}

export function renderPlan(doc: PlanDocument): string[] {
    const c = doc.containers;
    const perFamily = new Map<string, number>();
    for (const x of c) perFamily.set(x.family, (perFamily.get(x.family) ?? 0) + 1);
    const gpu = c.filter((x) => x.gpu?.capabilities.includes("gpu")).map((x) => x.service);
    const lines = [
        ...doc.unknown,
        ...(doc.unknown.length ? [""] : []),
        // The CUDA track matters only where a container asks for the GPU.
        `plan for ${doc.machine} (stack ${doc.stack}, port offset ${doc.portOffset}, ${c.some((x) => x.gpu) ? `CUDA ${doc.cudaTrack}` : "no GPU container"})`,
        "",
        ...table(RUNS, c.map(runsRow)),
        "",
        ...table(IMAGES, c.map((x) => [x.service, imageCell(x.image)])),
        "",
        ...table(FAMILIES, [
            ...doc.families.map((f) => [f.family, f.built ? f.image : `${f.image}  not built: only pinned services use it`]),
            ...(doc.proxy ? [["(Docker API proxy)", doc.proxy]] : []),
        ]),
        "",
        `${c.length} containers; per family: ` + [...perFamily].sort(([a], [b]) => byName(a, b)).map(([f, n]) => `${f} ${n}`).join(", "),
        `GPU services (${gpu.length}): ${gpu.join(", ") || "none"}`,
        ...(doc.gpuMemory ? [gpuMemoryLine(doc.gpuMemory)] : []),
        doc.startLanes >= c.length ? "start: core, then every other container at once"
            : `start: core, then the rest; ${doc.startLanes} containers of a tier at a time, each after the one ${doc.startLanes} before it is healthy (STARTS AFTER)`,
        `network ${doc.network.name} ${doc.network.subnet}: the host front ${doc.network.front} binds every port on ${doc.network.binds.join(" and ")}; `
            + `resolvers ${doc.network.resolvers.join(" and ")} answer the services' names`,
    ];
    if (doc.notDeployed.length === 0) lines.push("not deployed: none");
    else {
        lines.push(`not deployed (${doc.notDeployed.length}):`);
        for (const e of doc.notDeployed) lines.push(`  ${e.service}: ${e.kind}: ${e.reason}`);
    }
    if (doc.peers.length) {
        lines.push(`services of other hosts (${doc.peers.length}), reached here by name through a peer front:`);
        for (const p of doc.peers) lines.push(`  ${p.service} of ${p.machine}: ${p.reachedAs} (${p.container})`);
    }
    return lines;
}
