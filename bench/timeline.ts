/**
 * Where a convergence round's time goes, from the engine's own container events streamed while
 * the round runs (GET /events without `until`: the daemon keeps only its last 256 events for
 * `since`, moby v26.1.5 daemon/events/events.go `eventsLimit`, too few for a host's probes): when
 * the starts ran, and which containers ended the round.
 */
import Docker from "dockerode";
import { eventLines } from "../test/engine/suite/context";

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
