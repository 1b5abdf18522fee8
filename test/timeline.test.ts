/**
 * The benchmark's round timelines (bench/timeline.ts) from the Engine API's event stream, lines as
 * Docker 26.1 sends them: Type, Action, Actor.Attributes.name, timeNano.
 */
import * as assert from "assert";
import { lives, parseEvents, startStepLines, timelineLines } from "../bench/timeline";

/** One event line; `s` seconds after an arbitrary epoch. */
function line(type: string, action: string, name: string, s: number): string {
    return JSON.stringify({ status: action, id: `id-${name}`, from: "img", Type: type, Action: action, Actor: { ID: `id-${name}`, Attributes: { name } }, scope: "local", time: 1000 + Math.floor(s), timeNano: (1000 + s) * 1e9 });
}

const ROUND = [
    line("container", "create", "a", 0),
    line("network", "connect", "fleet-mainpc", 0.2),
    line("container", "start", "a", 1),
    line("container", "create", "b", 0.5),
    line("container", "exec_create: /usr/local/bin/fleet-health ", "a", 2),
    line("container", "health_status: healthy", "a", 2.5),
    line("container", "start", "b", 3),
    line("container", "health_status: healthy", "b", 9),
    // A restart after the round's end does not move its first start.
    line("container", "start", "a", 12),
    line("container", "create", "c", 4),
    line("container", "start", "c", 5),
].join("\n");

describe("the benchmark's round timelines", () => {
    it("keeps container events only, by name, in milliseconds", () => {
        const events = parseEvents(`${ROUND}\n\n`);
        assert.strictEqual(events.length, 10);
        assert.ok(events.every((e) => ["a", "b", "c"].includes(e.name)));
        assert.deepStrictEqual(events[0], { name: "a", action: "create", at: 1000000 });
    });

    it("gives each container its first create, start and healthy status after the round's first create", () => {
        assert.deepStrictEqual(lives(parseEvents(ROUND)), [
            { name: "a", create: 0, start: 1, healthy: 2.5 },
            { name: "b", create: 0.5, start: 3, healthy: 9 },
            { name: "c", create: 4, start: 5, healthy: undefined },
        ]);
    });

    const table: { what: string; text: string; last: number; expected: string[] }[] = [
        {
            what: "the span of the starts and the last to turn healthy, latest first",
            text: ROUND,
            last: 5,
            expected: [
                "      timeline: 3 starts from 1.0 s to 5.0 s after the first create",
                "      last healthy: b (started 3.0 s, healthy 9.0 s), a (started 1.0 s, healthy 2.5 s)",
            ],
        },
        {
            what: "only as many as asked",
            text: ROUND,
            last: 1,
            expected: [
                "      timeline: 3 starts from 1.0 s to 5.0 s after the first create",
                "      last healthy: b (started 3.0 s, healthy 9.0 s)",
            ],
        },
        {
            what: "a round that started nothing says so",
            text: line("container", "create", "a", 0),
            last: 5,
            expected: ["      timeline: no container started"],
        },
    ];
    for (const row of table) {
        it(row.what, () => assert.deepStrictEqual(timelineLines(parseEvents(row.text), row.last), row.expected));
    }

    // scripts/container-start.sh's FLEET_START_TRACE lines: `<epoch seconds> <service> <step>`.
    const steps: { what: string; trace: string; expected: string[] }[] = [
        {
            what: "the start commands: when the first began and the last ended, and each step's median and longest time",
            trace: [
                "100.5 A begin", "100.6 A listed", "100.9 A started", "103.0 A healthy", "103.2 A restaged", "104.0 A admitted", "104.1 A end",
                "101.0 B begin", "101.2 B listed", "101.3 B started", "102.3 B healthy", "102.9 B admitted", "103.0 B end",
                "",
            ].join("\n"),
            expected: [
                "      start commands: 2, first began 0.5 s, last ended 4.1 s after the first create",
                "      each step after the previous (median / longest, s): listed 0.15 / 0.20, started 0.20 / 0.30, healthy 1.55 / 2.10, restaged 0.20 / 0.20, admitted 0.70 / 0.80, end 0.10 / 0.10",
            ],
        },
        { what: "no trace says so", trace: "", expected: ["      start commands: no trace"] },
    ];
    for (const row of steps) {
        it(row.what, () => assert.deepStrictEqual(startStepLines(row.trace, 100000), row.expected));
    }
});
