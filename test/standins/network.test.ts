/**
 * The stand-in for @pulumi/docker's Network (test/engine/providers/resources.ts) against the
 * provider's own rules for ipam_config: kreuzwerker/terraform-provider-docker v4.5.0's Create
 * request (resourceDockerNetworkCreate, ipamConfigSetToIpamConfigs), the state its Read keeps
 * (resourceDockerNetworkReadRefreshFunc, flattenIpamConfigSpec), and the schema's diff
 * (TypeSet, Optional + Computed + ForceNew).
 */
import * as assert from "assert";
import { PROVIDERS, TRANSLATED } from "../engine/providers/registry";
import { networkCreateRequest, readNetwork } from "../engine/providers/resources";

const INPUTS = { name: "fleet-local", driver: "bridge", labels: [{ label: "fleet.stack", value: "local" }] };

/** What Docker 26.1.5 answers to GET /networks/{id}, with the IPAM.Config it reports. */
function inspect(config: object[]) {
    return {
        Name: "fleet-local", Id: "n1", Scope: "local", Driver: "bridge", EnableIPv6: false, Internal: false, Attachable: false, Ingress: false,
        IPAM: { Driver: "default", Options: {}, Config: config }, Options: {}, Labels: { "fleet.stack": "local" },
    };
}

// docker network inspect on this machine's engine (26.1.5) of `docker network create` with, in
// turn, nothing; --subnet; and --subnet --gateway --ip-range --aux-address.
const AUTO = [{ Subnet: "172.19.0.0/16", Gateway: "172.19.0.1" }];
const SUBNET = [{ Subnet: "10.213.1.0/24" }];
const FULL = [{ Subnet: "10.213.2.0/24", IPRange: "10.213.2.128/25", Gateway: "10.213.2.1", AuxiliaryAddresses: { r: "10.213.2.5" } }];

const diff = (state: object, inputs: object) => PROVIDERS["docker:index/network:Network"].diff(state as never, inputs as never);
const readBack = (config: object[], inputs: object) => readNetwork(inspect(config), inputs);

describe("the Docker provider's network ipam_config, as its source keeps it (no engine needed)", () => {
    it("the harness takes ipamConfigs", () => {
        assert.ok(TRANSLATED["docker:index/network:Network"].includes("ipamConfigs"));
    });

    it("Create: IPAM always with the default driver; IPAM.Config only when given, each field omitted when empty, aux_address as AuxiliaryAddresses", () => {
        const rows: [string, object | undefined, object][] = [
            ["left out", undefined, { Driver: "default" }],
            ["a subnet", [{ subnet: "10.213.1.0/24" }], { Driver: "default", Config: [{ Subnet: "10.213.1.0/24" }] }],
            ["a subnet and its gateway", [{ subnet: "10.213.1.0/24", gateway: "10.213.1.1" }], { Driver: "default", Config: [{ Subnet: "10.213.1.0/24", Gateway: "10.213.1.1" }] }],
            [
                "every field",
                [{ subnet: "10.213.2.0/24", ipRange: "10.213.2.128/25", gateway: "10.213.2.1", auxAddress: { r: "10.213.2.5" } }],
                { Driver: "default", Config: [{ Subnet: "10.213.2.0/24", IPRange: "10.213.2.128/25", Gateway: "10.213.2.1", AuxiliaryAddresses: { r: "10.213.2.5" } }] },
            ],
        ];
        for (const [why, ipamConfigs, ipam] of rows) assert.deepStrictEqual(networkCreateRequest({ ...INPUTS, ipamConfigs }).IPAM, ipam, why);
        assert.deepStrictEqual(networkCreateRequest(INPUTS), {
            Name: "fleet-local", Driver: "bridge", Internal: false, CheckDuplicate: true, IPAM: { Driver: "default" }, Labels: { "fleet.stack": "local" },
        });
        // Two configs go in the set's List order (HashResource codes as strings), not the config's.
        const v4 = { subnet: "10.213.1.0/24" };
        const v6 = { subnet: "fd00:213::/64" };
        assert.deepStrictEqual(networkCreateRequest({ ...INPUTS, ipamConfigs: [v4, v6] }).IPAM.Config, networkCreateRequest({ ...INPUTS, ipamConfigs: [v6, v4] }).IPAM.Config);
    });

    it("Read: ipam_config is what the engine reports, each element with its non-empty fields only", () => {
        const rows: [string, object[], object[]][] = [
            ["the engine's automatic pool, with its gateway", AUTO, [{ subnet: "172.19.0.0/16", gateway: "172.19.0.1" }]],
            ["a configured subnet: Docker 26 reports no gateway it was not given", SUBNET, [{ subnet: "10.213.1.0/24" }]],
            ["every field", FULL, [{ subnet: "10.213.2.0/24", ipRange: "10.213.2.128/25", gateway: "10.213.2.1", auxAddress: { r: "10.213.2.5" } }]],
            ["none (a null driver)", [], []],
        ];
        for (const [why, config, state] of rows) assert.deepStrictEqual(readBack(config, INPUTS).ipamConfigs, state, why);
    });

    it("the diff: Computed when left out, element by element when given, a replacement on any change", () => {
        const subnet = [{ subnet: "10.213.1.0/24" }];
        const full = [{ subnet: "10.213.2.0/24", ipRange: "10.213.2.128/25", gateway: "10.213.2.1", auxAddress: { r: "10.213.2.5" } }];
        const rows: [string, object[], object | undefined, string[], string[]][] = [
            // [why, what the engine reports, the config's ipamConfigs, changed, replaces]
            ["left out, against the engine's automatic subnet (Optional+Computed)", AUTO, undefined, [], []],
            ["a subnet, read back as given", SUBNET, subnet, [], []],
            ["a subnet and its gateway, read back as given", [{ Subnet: "10.213.1.0/24", Gateway: "10.213.1.1" }], [{ subnet: "10.213.1.0/24", gateway: "10.213.1.1" }], [], []],
            ["every field, read back as given", FULL, full, [], []],
            ["a subnet with its other fields given as \"\" and {} (their zero values)", SUBNET, [{ subnet: "10.213.1.0/24", gateway: "", ipRange: "", auxAddress: {} }], [], []],
            ["ipamConfigs dropped from the config: still Computed, no diff (the network keeps its subnet)", SUBNET, undefined, [], []],
            ["another subnet", SUBNET, [{ subnet: "10.213.3.0/24" }], ["ipamConfigs"], ["ipamConfigs"]],
            ["a gateway added to the config", SUBNET, [{ subnet: "10.213.1.0/24", gateway: "10.213.1.1" }], ["ipamConfigs"], ["ipamConfigs"]],
            // An engine that reports the gateway it chose (not Docker 26 for a configured subnet):
            // the config must name it, or the network is replaced on every `up`.
            ["a subnet without its gateway, against a read-back with one", [{ Subnet: "10.213.1.0/24", Gateway: "10.213.1.1" }], subnet, ["ipamConfigs"], ["ipamConfigs"]],
            // A network made before the config gave ipamConfigs holds the automatic pool.
            ["a subnet given to a network the engine numbered", AUTO, subnet, ["ipamConfigs"], ["ipamConfigs"]],
        ];
        for (const [why, reported, ipamConfigs, changed, replaces] of rows) {
            const inputs = { ...INPUTS, ...(ipamConfigs ? { ipamConfigs } : {}) };
            const d = diff(readBack(reported, inputs), inputs);
            assert.deepStrictEqual([d.changed, d.replaces], [changed, replaces], why);
        }
    });
});
