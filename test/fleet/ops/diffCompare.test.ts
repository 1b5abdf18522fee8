/**
 * `scripts/fleet diff`'s comparison without git: two evaluations of a stack built from the
 * program's planner over data that differs, and what is replaced, updated in place, added,
 * removed or left alone; and the leaf comparison it reads fields with.
 */
import * as assert from "assert";
import { ChangedFiles, compareSides, ContainerChange, FRONT_RELOADED, FRONT_REPLACED, PEER_FRONT_REPLACED, StackDiff } from "../../../fleet/ops/diffCompare";
import { Side } from "../../../fleet/ops/diffEval";
import { costLines } from "../../../fleet/ops/diffText";
import { leafChanges, leaves, tokenChanges } from "../../../fleet/ops/diffLeaves";
import { planHost } from "../../../fleet/model/plan";
import { FleetData } from "../../../fleet/model/schema";
import { StackConfig } from "../../../fleet/model/stack";
import { realFleet, stackFor } from "../../helpers";

const NO_FILES: ChangedFiles = () => [];

/** One ref holding the mainpc stack as the planner gives it for `data` and `cfg`; every image at one tag. */
function side(label: string, data: FleetData, cfg: StackConfig): Side {
    const plan = planHost(data, cfg);
    const containers = Object.fromEntries(plan.containers.map((c) => [c.service, { repository: `ghcr.io/ai-system/${c.name}`, ref: `ghcr.io/ai-system/${c.name}:t1`, tag: "t1", build: { ref: `ghcr.io/ai-system/${c.name}:t1` } }]));
    return {
        label, commit: label.repeat(40).slice(0, 40), data, appRepo: [], unknown: [],
        stacks: { mainpc: { cfg, plan, images: { containers, builds: {}, families: [] }, config: new Map(), configFiles: {}, peerEndpoints: {} } },
    };
}

describe("scripts/fleet diff: the comparison", () => {
    const fleet = realFleet();
    const cfg = stackFor("mainpc", {}, fleet);
    const base = side("a", fleet, cfg);

    it("a PIDs limit updates the containers in place (docker update), naming the families.yaml key", () => {
        const data = structuredClone(fleet);
        data.families["legacy-py310-cpu"].runtime = { ...data.families["legacy-py310-cpu"].runtime, pidsLimit: 512 };
        const [d] = compareSides(base, side("b", data, cfg), NO_FILES);
        assert.deepStrictEqual(d.images, []);
        assert.deepStrictEqual(d.containers.map((c) => [c.change, c.container, c.fields, c.because]), ["advanced-command-handler", "chitchat-agent", "feedback-handler", "intention-validator-agent", "nlu-agent"].map((c) => [
            "update", c, [{ path: "limits.pidsLimit", base: "256", head: "512" }], ["fleet/data/families.yaml: legacy-py310-cpu.runtime.pidsLimit (none) -> 512"],
        ]));
    });

    it("a service left out is removed, with the key that leaves it out; the start lanes that shift replace nothing", () => {
        const head = side("b", fleet, stackFor("mainpc", { startLanes: 2, disableServices: ["NLUAgent"] } as Partial<StackConfig>, fleet));
        const lanes = side("a", fleet, stackFor("mainpc", { startLanes: 2 } as Partial<StackConfig>, fleet));
        const [d] = compareSides(lanes, head, NO_FILES);
        const reload = { service: "host front", container: "fleet-mainpc-front", change: "reload", because: [FRONT_RELOADED] };
        assert.deepStrictEqual(d, { stack: "mainpc", serviceContainers: 41, images: [], containers: [
            { ...reload, fields: [{ path: "listen nlu-agent.health-6709", base: "present", head: null }, { path: "listen nlu-agent.service-5709", base: "present", head: null }] },
            { service: "NLUAgent", container: "nlu-agent", change: "remove", fields: [], because: ["at b: disabled: listed in the stack's fleet:disableServices"] },
        ] });
        assert.deepStrictEqual(compareSides(head, lanes, NO_FILES)[0].containers.map((c) => [c.change, c.container, c.because]), [["reload", "fleet-mainpc-front", [FRONT_RELOADED]], ["add", "nlu-agent", ["at b: disabled: listed in the stack's fleet:disableServices"]]]);
    });

    it("a stack one ref lacks: every container added, because its stack file does not exist there", () => {
        const none: Side = { ...base, label: "b", stacks: {} };
        const d = compareSides(none, base, NO_FILES)[0];
        assert.strictEqual(d.containers.length, base.stacks.mainpc.plan.containers.length);
        assert.deepStrictEqual(d.containers[0].because, ["at b: Pulumi.mainpc.yaml does not exist"]);
    });

    it("a health port moved: the container replaced (its environment), the host front reloaded with the service's sections, nothing interrupted", () => {
        const data = structuredClone(fleet);
        data.services.Executor.ports = { ...data.services.Executor.ports, health: 6607 };
        const [d] = compareSides(base, side("b", data, cfg), NO_FILES);
        assert.deepStrictEqual(d.containers.map((c) => [c.change, c.container]), [["replace", "executor"], ["reload", "fleet-mainpc-front"]]);
        assert.deepStrictEqual(d.containers[1], {
            service: "host front", container: "fleet-mainpc-front", change: "reload",
            fields: [
                { path: "listen executor.health-6606", base: "present", head: null },
                { path: "listen executor.health-6607", base: null, head: "present" },
                { path: "listen executor.service-5606", base: "present", head: "changed" },
            ],
            because: [FRONT_RELOADED],
        });
        assert.deepStrictEqual(costLines(d), ["  replaces 1 of its 42 service containers:", "    1 because fleet/data/services.yaml: Executor.ports.health 6606 -> 6607"]);
    });

    it("the advertised address moved: the host front reloaded with every section, no container replaced", () => {
        const head = side("b", fleet, { ...cfg, advertiseAddress: "192.0.2.99" });
        const [d] = compareSides(base, head, NO_FILES);
        assert.deepStrictEqual(d.containers.map((c) => [c.change, c.container]), [["reload", "fleet-mainpc-front"]]);
        assert.strictEqual(d.containers[0].fields.length, base.stacks.mainpc.plan.containers.reduce((n, c) => n + 2 + c.ports.metrics.length, 0));
        assert.ok(d.containers[0].fields.every((f) => f.base === "present" && f.head === "changed"));
    });

    it("the HAProxy image moved: the host front replaced, and the summary says every service pauses", () => {
        const withProxy = (s: Side, tag: string): Side => {
            const st = s.stacks.mainpc;
            return { ...s, stacks: { mainpc: { ...st, images: { ...st.images, builds: { "docker-api-proxy": { ref: `r:${tag}`, tag, inputs: { root: "", paths: [], recipe: "" }, built: true } } } } } };
        };
        const [d] = compareSides(withProxy(base, "t1"), withProxy(side("b", fleet, cfg), "t2"), NO_FILES);
        assert.deepStrictEqual(d.containers, [{ service: "host front", container: "fleet-mainpc-front", change: "replace", fields: [{ path: "haproxyImage", base: "t1", head: "t2" }], because: [FRONT_REPLACED] }]);
        assert.deepStrictEqual(costLines(d), ["  replaces none of its 42 service containers", "  replaces the host front: every service of the host pauses until the new one runs (seconds)"]);
    });

    it("the network's subnet moved: every container replaced, and the host front (its health answer is on the gateway)", () => {
        const [d] = compareSides(base, side("b", fleet, { ...cfg, networkSubnet: "10.231.0.0/24" }), NO_FILES);
        assert.strictEqual(d.containers.filter((c) => c.change === "replace" && c.fields.some((f) => f.path === "network")).length, 42);
        assert.deepStrictEqual(d.containers.find((c) => c.container === "fleet-mainpc-front")!.change, "replace");
        assert.strictEqual(costLines(d)[0], "  replaces 42 of its 42 service containers:");
    });

    it("the same data twice: nothing", () => {
        assert.deepStrictEqual(compareSides(base, side("b", fleet, cfg), NO_FILES), [{ stack: "mainpc", images: [], containers: [], serviceContainers: 42 }]);
    });
});

describe("scripts/fleet diff: leaves", () => {
    it("paths of mappings, lists of plain values as one leaf, lists of mappings by index, odd keys quoted", () => {
        assert.deepStrictEqual([...leaves({ b: { y: 1, x: "s" }, a: [1, 2], m: [{ k: true }], t: { "/tmp": "rw" }, u: undefined, n: null })], [
            ["a", "[1,2]"], ["b.x", "s"], ["b.y", "1"], ["m[0].k", "true"], ["n", "null"], ["t[\"/tmp\"]", "rw"],
        ]);
    });

    it("changes: sorted by path, absent as null", () => {
        assert.deepStrictEqual(leafChanges({ p: 1, q: [1], r: "x" }, { p: 2, q: [1], s: "y" }, "S"), [
            { path: "S.p", base: "1", head: "2" }, { path: "S.r", base: "x", head: null }, { path: "S.s", base: null, head: "y" },
        ]);
    });

    const words: [string, string, string][] = [
        ["RUN pip install a==1 b==2\nRUN x a==1", "RUN pip install a==2 b==2\nRUN x a==2", ": -a==1 +a==2"],
        ["A B", "B A", ""],
        ["x", "x 1 2 3 4 5 6 7 8", ": +1 +2 +3 +4 +5 +6 (2 more)"],
    ];
    for (const [a, b, expected] of words) it(`words that differ: ${JSON.stringify(expected)}`, () => assert.strictEqual(tokenChanges(a, b), expected));

    it("the cost lines: replacements out of the stack's service containers, reasons by count then by name, at most five; fronts and peer fronts apart; 'none' when rows replace no service container, nothing without rows", () => {
        const row = (container: string, because: string[], change: ContainerChange["change"] = "replace"): ContainerChange => ({ service: container, container, change, fields: [], because });
        const reasons = ["r1", "r2", "r3", "r4", "r5", "r6"];
        const d: StackDiff = {
            stack: "pc2", images: [], serviceContainers: 24,
            containers: [
                row("a", ["image a moved", "shared"]), row("b", ["shared"]), row("c", reasons), row("fleet-pc2-front", [FRONT_REPLACED]), row("d", ["added"], "add"),
                row("s-peer", [`${PEER_FRONT_REPLACED}, and pc2's containers cannot reach s until the new one starts (about a second)`]),
            ],
        };
        assert.deepStrictEqual(costLines(d), [
            "  replaces 3 of its 24 service containers:",
            "    2 because shared",
            "    1 because image a moved",
            "    1 because r1",
            "    1 because r2",
            "    1 because r3",
            "    and 3 more reasons, in the rows below",
            "  replaces the host front: every service of the host pauses until the new one runs (seconds)",
            "  replaces 1 peer front (s-peer): the host's containers cannot reach each of those services for about a second",
        ]);
        // A change that replaces no service container says so: the reviewer need not count rows.
        assert.deepStrictEqual(costLines({ ...d, containers: [row("d", ["added"], "add")] }), ["  replaces none of its 24 service containers"]);
        assert.deepStrictEqual(costLines({ ...d, containers: [] }), []);
    });
});
