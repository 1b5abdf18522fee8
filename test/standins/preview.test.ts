/**
 * The engine harness's preview (test/engine/harness.ts `preview`) on a stack with no state: no
 * engine needed, since a preview carries nothing out. Every resource previews as a create, and
 * what depends on an output a create computes sees an unknown, as `pulumi preview` shows it.
 */
import * as assert from "assert";
import { EngineHarness, UNKNOWN } from "../engine/harness";
import { byType, stackConfig } from "../mocks";

describe("the engine harness's preview of a stack with no state (no engine needed)", () => {
    const h = new EngineHarness();
    let run: Awaited<ReturnType<EngineHarness["preview"]>>;
    before(async function () {
        this.timeout(300000);
        run = await h.preview(stackConfig("local"));
    });

    it("every custom resource the program registers previews as a create, and nothing is kept", () => {
        const custom = run.resources.filter((r) => !r.type.startsWith("fleet:") && !r.type.startsWith("pulumi:"));
        assert.ok(custom.length > 100, `${custom.length} resources`);
        assert.deepStrictEqual(h.events.map((e) => `${e.type} ${e.name} ${e.action}`).sort(), custom.map((r) => `${r.type} ${r.name} create`).sort());
        assert.deepStrictEqual(h.outputsOf("docker:index/container:Container"), {}, "a preview stores no state");
    });

    it("a container's image and network are unknown (its image and network are created in the same update); a service's digest in its environment and labels too", () => {
        const containers = byType(run.resources, "docker:index/container:Container");
        for (const c of containers) {
            const front = c.name.endsWith("-front");
            const service = c.name !== "mainpc-docker-api-proxy" && !front;
            // A front's environment (its configuration) and labels are plain data: known.
            assert.deepStrictEqual(c.unknownInputs, service ? ["envs", "image", "labels", "networksAdvanced"] : ["image", "networksAdvanced"], c.name);
            // The proxy's and a front's name are inputs; a service container's is the provider's auto-name, drawn by its Check.
            assert.strictEqual(c.inputs.name, service ? undefined : front ? c.name : "docker-api-proxy", c.name);
        }
    });

    it("each start command's trigger holds its container's id, unknown until created; its command line is known, with the auto-name the provider's Check drew", () => {
        const commands = byType(run.resources, "command:local:Command").filter((c) => c.name.endsWith("-start"));
        const containers = byType(run.resources, "docker:index/container:Container");
        assert.strictEqual(commands.length, containers.filter((c) => !c.name.endsWith("-front")).length);
        for (const c of commands) {
            assert.deepStrictEqual(c.unknownInputs, ["triggers"], c.name);
            const proxy = c.name === "mainpc-docker-api-proxy-start";
            const name = c.name.replace(/-start$/, "");
            const own = proxy ? "docker-api-proxy" : `${name}-[0-9a-f]{7}`;
            // The front's name is an input too: known.
            const front = proxy ? "" : ` overlap ${name}-front fleet-mainpc-backends ${name}-backend 32 15 10`;
            assert.match(c.inputs.create, new RegExp(`^bash scripts/container-start\\.sh ${own} \\S+ mainpc \\d+ \\d+ \\d+${front}$`), c.name);
        }
    });

    it("the stack's services output: the image and digest of each service unknown, its endpoints known", () => {
        const services = run.outputs.services as Record<string, Record<string, unknown>>;
        assert.ok(Object.keys(services).length > 20);
        for (const [name, s] of Object.entries(services)) {
            assert.deepStrictEqual([s.image, s.imageDigest], [UNKNOWN, UNKNOWN], name);
            assert.match(String(s.endpoint), /^127\.0\.0\.1:\d+$/, name);
        }
    });
});
