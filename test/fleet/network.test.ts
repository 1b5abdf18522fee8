/** fleet/model/network.ts: a host's fleet network and its fixed addresses, by table. */
import * as assert from "assert";
import { fleetNetwork, subnetProblem } from "../../fleet/model/network";

describe("fleet/model/network.ts", () => {
    const addresses: [string, { gateway: string; ipRange: string; resolvers: [string, string] }][] = [
        ["10.230.0.0/24", { gateway: "10.230.0.1", ipRange: "10.230.0.128/25", resolvers: ["10.230.0.2", "10.230.0.3"] }],
        ["172.30.16.0/20", { gateway: "172.30.16.1", ipRange: "172.30.24.0/21", resolvers: ["172.30.16.2", "172.30.16.3"] }],
        ["10.1.0.0/16", { gateway: "10.1.0.1", ipRange: "10.1.128.0/17", resolvers: ["10.1.0.2", "10.1.0.3"] }],
    ];
    for (const [subnet, want] of addresses) {
        it(`${subnet}: the gateway first, the resolvers next, containers from the upper half`, () => {
            assert.deepStrictEqual(fleetNetwork(subnet), { subnet, ...want });
        });
    }

    const problems: [string, string | undefined][] = [
        ["10.230.0.0/24", undefined],
        ["10.230.0.0", "is not an IPv4 subnet like 10.230.0.0/24"],
        ["10.230.0.300/24", "is not an IPv4 subnet like 10.230.0.0/24"],
        ["fd00::/64", "is not an IPv4 subnet like 10.230.0.0/24"],
        ["10.230.0.0/25", "has a /25 prefix; use /16 to /24 (a /24 holds 126 containers)"],
        ["10.0.0.0/8", "has a /8 prefix; use /16 to /24 (a /24 holds 126 containers)"],
        ["10.230.0.5/24", "is not the start of a /24: 10.230.0.0/24 is"],
    ];
    for (const [subnet, why] of problems) {
        it(`${subnet}: ${why ?? "a fleet network"}`, () => assert.strictEqual(subnetProblem(subnet), why));
    }

    it("refuses a subnet it cannot use, naming the key", () => {
        assert.throws(() => fleetNetwork("10.230.0.0/25"), { message: "fleet:networkSubnet '10.230.0.0/25' has a /25 prefix; use /16 to /24 (a /24 holds 126 containers)" });
    });
});
