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
            const service = c.name !== "mainpc-docker-api-proxy";
            assert.deepStrictEqual(c.unknownInputs, service ? ["envs", "image", "labels", "networksAdvanced"] : ["image", "networksAdvanced"], c.name);
            assert.strictEqual(c.inputs.name, service ? c.name : "docker-api-proxy", "its name is an input: known");
        }
    });

    it("each PIDs-limit command's trigger holds its container's id, unknown until created; its command line is known", () => {
        const commands = byType(run.resources, "command:local:Command").filter((c) => c.name.endsWith("-pids-limit"));
        assert.strictEqual(commands.length, byType(run.resources, "docker:index/container:Container").length);
        for (const c of commands) {
            assert.deepStrictEqual(c.unknownInputs, ["triggers"], c.name);
            assert.match(c.inputs.create, /^bash scripts\/container-ready\.sh \S+ \S+ \d+ \d+$/);
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
