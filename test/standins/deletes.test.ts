/**
 * The harness's deletes phase against the engine's order (test/engine/harness.ts deleteOrder;
 * pulumi/pulumi pkg/resource/deploy/step_generator.go ScheduleDeletes): a resource goes only once
 * nothing left to delete depends on it. No engine needed.
 */
import * as assert from "assert";
import { deleteOrder, urnKey } from "../engine/harness";

const item = (key: string, ...dependencies: string[]) => ({ key, dependencies });
const keys = (batches: { key: string }[][]) => batches.map((b) => b.map((d) => d.key));

describe("the harness's deletes, in the engine's order (no engine needed)", () => {
    it("a URN's key: the last type of its chain of parent types, and its name", () => {
        assert.deepStrictEqual([
            urnKey("urn:pulumi:local::fleet::fleet:host:FleetHost$fleet:containers:ServiceContainer$docker:index/container:Container::executor"),
            urnKey("urn:pulumi:local::fleet::docker:index/network:Network::mainpc-net"),
            urnKey("urn:pulumi:local::fleet::fleet:host:FleetHost$command:local:Command::mainpc-front-start"),
        ], ["docker:index/container:Container::executor", "docker:index/network:Network::mainpc-net", "command:local:Command::mainpc-front-start"]);
    });

    it("the host front's first up: the old network, which the program no longer registers, goes after the replaced containers still attached to it, pending deletion", () => {
        const net = "docker:index/network:Network::mainpc-net";
        const backends = "docker:index/network:Network::mainpc-backends";
        const front = "docker:index/container:Container::executor-front";
        // As the harness lists them: what is gone (reverse registration order), then the pending deletes.
        const order = deleteOrder([item(front, net, backends), item(backends), item(net), item("docker:index/container:Container::executor", net, backends), item("docker:index/container:Container::nlu-agent", net)]);
        assert.deepStrictEqual(keys(order), [
            [front, "docker:index/container:Container::executor", "docker:index/container:Container::nlu-agent"],
            [backends, net],
        ]);
    });

    it("nothing depends on anything: one batch, in the given order; a chain: one at a time, dependents first", () => {
        assert.deepStrictEqual(keys(deleteOrder([item("a"), item("b")])), [["a", "b"]]);
        assert.deepStrictEqual(keys(deleteOrder([item("a"), item("b", "a"), item("c", "b")])), [["c"], ["b"], ["a"]]);
        // A dependency outside the set orders nothing.
        assert.deepStrictEqual(keys(deleteOrder([item("a", "kept"), item("b")])), [["a", "b"]]);
    });
});
