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

    it("a container's image and network are unknown (its image and network are created in the same update); a service's digest in its environment and labels too; the host front's volume", () => {
        const containers = byType(run.resources, "docker:index/container:Container");
        const unknown: Record<string, string[]> = { "mainpc-docker-api-proxy": ["image", "networksAdvanced"], "mainpc-front": ["image"], "mainpc-resolver-1": ["image", "networksAdvanced"], "mainpc-resolver-2": ["image", "networksAdvanced"] };
        const fixedName: Record<string, string> = { "mainpc-docker-api-proxy": "docker-api-proxy", "mainpc-front": "fleet-mainpc-front", "mainpc-resolver-1": "fleet-mainpc-resolver-1", "mainpc-resolver-2": "fleet-mainpc-resolver-2" };
        assert.strictEqual(containers.filter((c) => c.name in unknown).length, 4);
        for (const c of containers) {
            // The host front's and the resolvers' environment and labels are plain data: known.
            assert.deepStrictEqual(c.unknownInputs, unknown[c.name] ?? ["envs", "image", "labels", "networksAdvanced"], c.name);
            // Theirs and the proxy's names are inputs; a service container's is the provider's auto-name, drawn by its Check.
            assert.strictEqual(c.inputs.name, fixedName[c.name], c.name);
        }
    });

    it("each start command's trigger holds its container's id, unknown until created; its command line is known, with the auto-name the provider's Check drew; the host front's names the image, unknown", () => {
        const commands = byType(run.resources, "command:local:Command").filter((c) => c.name.endsWith("-start"));
        const containers = byType(run.resources, "docker:index/container:Container");
        assert.strictEqual(commands.length, containers.length);
        for (const c of commands) {
            if (c.name === "mainpc-front-start") {
                assert.deepStrictEqual(c.unknownInputs, ["create", "triggers"], c.name);
                continue;
            }
            assert.deepStrictEqual(c.unknownInputs, ["triggers"], c.name);
            const fixed = c.name === "mainpc-docker-api-proxy-start" ? "docker-api-proxy" : /^mainpc-resolver-\d-start$/.test(c.name) ? `fleet-${c.name.replace(/-start$/, "")}` : undefined;
            const name = c.name.replace(/-start$/, "");
            const own = fixed ?? `${name}-[0-9a-f]{7}`;
            // The front's name, the network's and the listen sections are inputs too: known.
            const front = fixed ? "" : ` overlap fleet-mainpc-front fleet-mainpc-net ${name}\\.service-\\d+,${name}\\.health-\\d+(,${name}\\.metrics-\\d+)* 15 10`;
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
