/**
 * Where a convergence round's time goes, from the engine's own container events streamed while
 * the round runs (GET /events without `until`: the daemon keeps only its last 256 events for
 * `since`, moby v26.1.5 daemon/events/events.go `eventsLimit`, too few for a host's probes): when
 * the starts ran, and which containers ended the round.
 */
import Docker from "dockerode";
import { eventLines } from "../test/engine/suite/context";
import { median } from "./stats";

export interface ContainerEvent {
    /** Container name. */
    name: string;
    /** `create`, `start`, `health_status: healthy`, ... */
    action: string;
    /** Milliseconds since the epoch. */
    at: number;
}

export interface EventWatch {
    /** Ends the stream and returns the container events it saw, in order. */
    stop(): Promise<ContainerEvent[]>;
}

/**
 * Streams the engine's container events until `stop`. Resolves when the daemon answers; it
 * subscribes the stream right after (api/server/router/system/system_routes.go `getEvents`),
 * long before a round's first create.
 */
export async function watchEvents(docker: Docker): Promise<EventWatch> {
    const stream = await docker.getEvents({ filters: { type: ["container"] } }) as unknown as NodeJS.ReadableStream & { destroy(): void };
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
    return {
        stop: async () => {
            stream.destroy();
            return parseEvents(text);
        },
    };
}

/** The event stream's lines, container events only. */
export function parseEvents(text: string): ContainerEvent[] {
    return eventLines(text)
        .filter((e) => e.Type === "container" && e.Actor?.Attributes?.name)
        .map((e) => ({ name: e.Actor!.Attributes!.name, action: e.Action!, at: e.timeNano! / 1e6 }));
}

interface Life { name: string; create: number; start?: number; healthy?: number }

/** Each container's first create, start and healthy status, in seconds after the round's first create. */
export function lives(events: ContainerEvent[]): Life[] {
    const first = new Map<string, Record<string, number>>();
    for (const e of events) {
        const seen = first.get(e.name) ?? {};
        seen[e.action] ??= e.at;
        first.set(e.name, seen);
    }
    const created = [...first.entries()].filter(([, s]) => s.create !== undefined);
    const t0 = Math.min(...created.map(([, s]) => s.create));
    const rel = (t: number | undefined) => (t === undefined ? undefined : (t - t0) / 1000);
    return created.map(([name, s]) => ({ name, create: rel(s.create)!, start: rel(s.start), healthy: rel(s["health_status: healthy"]) }));
}

/**
 * Two lines for a round: the span of its starts (the engine starts one container after another)
 * and the `last` containers to turn healthy, each with its start and healthy times.
 */
export function timelineLines(events: ContainerEvent[], last = 5): string[] {
    const ls = lives(events);
    const starts = ls.flatMap((l) => (l.start === undefined ? [] : [l.start]));
    if (starts.length === 0) return ["      timeline: no container started"];
    const ending = ls.filter((l) => l.healthy !== undefined).sort((a, b) => b.healthy! - a.healthy!).slice(0, last);
    return [
        `      timeline: ${starts.length} starts from ${Math.min(...starts).toFixed(1)} s to ${Math.max(...starts).toFixed(1)} s after the first create`,
        `      last healthy: ${ending.map((l) => `${l.name} (started ${l.start?.toFixed(1) ?? "?"} s, healthy ${l.healthy!.toFixed(1)} s)`).join(", ")}`,
    ];
}

/** The steps scripts/container-start.sh traces (FLEET_START_TRACE), in the order they run. */
const STEPS = ["begin", "listed", "started", "healthy", "restaged", "admitted", "end"];

/**
 * Where the start commands spent their time, from their FLEET_START_TRACE lines
 * (`<epoch seconds> <service> <step>`): per step, the median and the longest time since the
 * command's previous step, over the commands that reached it; and when the first command began
 * and the last ended, in seconds after `t0Ms`.
 */
export function startStepLines(trace: string, t0Ms: number): string[] {
    const runs = new Map<string, { step: string; at: number }[]>();
    for (const line of trace.split("\n")) {
        const [at, service, step] = line.trim().split(" ");
        if (!step) continue;
        runs.set(service, [...(runs.get(service) ?? []), { step, at: Number(at) * 1000 }]);
    }
    if (runs.size === 0) return ["      start commands: no trace"];
    const spans = new Map<string, number[]>();
    for (const steps of runs.values()) {
        for (let i = 1; i < steps.length; i++) spans.set(steps[i].step, [...(spans.get(steps[i].step) ?? []), (steps[i].at - steps[i - 1].at) / 1000]);
    }
    const all = [...runs.values()].flat().map((s) => s.at);
    return [
        `      start commands: ${runs.size}, first began ${((Math.min(...all) - t0Ms) / 1000).toFixed(1)} s, last ended ${((Math.max(...all) - t0Ms) / 1000).toFixed(1)} s after the first create`,
        `      each step after the previous (median / longest, s): ${STEPS.filter((s) => spans.has(s)).map((s) => `${s} ${median(spans.get(s)!).toFixed(2)} / ${Math.max(...spans.get(s)!).toFixed(2)}`).join(", ")}`,
    ];
}
