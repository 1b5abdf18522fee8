import * as assert from "assert";
import { advertiseAddress, parseStackConfig } from "../../fleet/model/stack";
import { BASE_STACK, fleetErrors, realFleet } from "../helpers";

const S = "Pulumi.test.yaml";

describe("stack config", () => {
    const fleet = realFleet();

    it("applies the documented defaults and accepts Pulumi's string values", () => {
        const cfg = parseStackConfig({ machine: "pc2", dockerHost: "ssh://ops@192.0.2.17", registry: "ghcr.io", org: "acme", portOffset: "0", appRepo: "../app", sourceUrl: "https://github.com/acme/fleet", peerStack: "acme/fleet/mainpc" }, fleet, S);
        assert.deepStrictEqual(cfg, {
            machine: "pc2", dockerHost: "ssh://ops@192.0.2.17", registry: "ghcr.io", org: "acme", portOffset: 0, appRepo: "../app", sourceUrl: "https://github.com/acme/fleet",
            peerStack: "acme/fleet/mainpc", apparmorProfile: "docker-default", packageIndex: "", buildNetwork: "default", networkSubnet: "10.230.0.0/24", pins: [], rtapEnabled: true, gpu: true, gpuFallback: false, cudaTrack: "cu121", imageOutput: "push", buildOnPreview: false, buildxBuilder: "default", enableServices: [], disableServices: [],
        });
    });

    it("ignores the secret keys, which the wiring reads as secrets", () => {
        const cfg = parseStackConfig({ ...BASE_STACK, machine: "pc2", registryPassword: "v1:abc" }, fleet, S);
        assert.strictEqual((cfg as Record<string, unknown>).registryPassword, undefined);
    });

    const table: { what: string; raw: Record<string, unknown>; expected: string[] }[] = [
        {
            what: "a missing PORT_OFFSET (no silent default, 002 P0.1)",
            raw: { ...BASE_STACK, machine: "pc2", portOffset: undefined },
            expected: ["Pulumi.test.yaml: fleet:portOffset: is missing (number expected). Fix: add it"],
        },
        {
            what: "an unknown machine",
            raw: { ...BASE_STACK, machine: "pc3" },
            expected: ["Pulumi.test.yaml: fleet:machine: 'pc3' is not one of 'mainpc', 'pc2'. Fix: use one of the listed values"],
        },
        {
            what: "a misspelt key and a bad docker host",
            raw: { ...BASE_STACK, machine: "pc2", dockerHost: "pc2:2375", portOfset: 1 },
            expected: [
                "Pulumi.test.yaml: fleet:dockerHost: 'pc2:2375' must start with unix://, ssh:// or tcp://. Fix: correct the value's format",
                "Pulumi.test.yaml: fleet:portOfset: is not a key of the fleet: config; the closest is fleet:portOffset. Fix: rename it to fleet:portOffset",
            ],
        },
        {
            what: "a service switch naming an unknown service or one of the other host",
            raw: { ...BASE_STACK, machine: "pc2", enableServices: ["NLUAgent"], disableServices: ["CacheManagr"] },
            expected: [
                "Pulumi.test.yaml: fleet:enableServices[0]: 'NLUAgent' is not placed on pc2 (it runs on mainpc). Fix: remove the entry; or add pc2 to NLUAgent.hosts in services.yaml",
                "Pulumi.test.yaml: fleet:disableServices[0]: 'CacheManagr' is not a service of the fleet; the closest is CacheManager. Fix: write CacheManager",
            ],
        },
        {
            what: "a CUDA track the torch families cannot build",
            raw: { ...BASE_STACK, machine: "pc2", cudaTrack: "cu124" },
            expected: ["Pulumi.test.yaml: fleet:cudaTrack: 'cu124' cannot build family-torch-cu121 (it supports cu118, cu121), which RealTimeAudioPipelinePC2, SpeechRelayService use. Fix: use one of cu118, cu121"],
        },
        {
            what: "an offset that pushes a port past 65535",
            raw: { ...BASE_STACK, machine: "mainpc", portOffset: 60000 },
            expected: ["Pulumi.test.yaml: fleet:portOffset: 60000 moves UnifiedObservabilityCenter's port 9110 to 69110, above 65535. Fix: use at most 56425"],
        },
        {
            what: "no start lane",
            raw: { ...BASE_STACK, machine: "mainpc", startLanes: 0 },
            expected: ["Pulumi.test.yaml: fleet:startLanes: 0 is below the minimum 1. Fix: use a value of at least 1"],
        },
        {
            what: "a fractional number of start lanes",
            raw: { ...BASE_STACK, machine: "mainpc", startLanes: "2.5" },
            expected: ["Pulumi.test.yaml: fleet:startLanes: 2.5 is not a whole number. Fix: use a whole number"],
        },
    ];
    for (const row of table) {
        it(`reports ${row.what}`, () => {
            assert.deepStrictEqual(fleetErrors(() => parseStackConfig(row.raw, fleet, S)), row.expected);
        });
    }

    it("a key that fails its schema hides no other key's problem, and causes none", () => {
        assert.deepStrictEqual(fleetErrors(() => parseStackConfig({ ...BASE_STACK, machine: "pc2", dockerHost: "pc2:2375", rtapEnabled: "sometimes", disableServices: ["CacheManagr"], pins: ["NLUAgent=v1", 7] }, fleet, S)), [
            "Pulumi.test.yaml: fleet:dockerHost: 'pc2:2375' must start with unix://, ssh:// or tcp://. Fix: correct the value's format",
            "Pulumi.test.yaml: fleet:rtapEnabled: expected boolean, got string 'sometimes'. Fix: write a boolean here",
            "Pulumi.test.yaml: fleet:pins[1]: expected string, got number 7. Fix: write a string here",
            "Pulumi.test.yaml: fleet:disableServices[0]: 'CacheManagr' is not a service of the fleet; the closest is CacheManager. Fix: write CacheManager",
            // The well-formed pin of the broken list is still checked.
            "Pulumi.test.yaml: fleet:pins[0]: 'NLUAgent' is not placed on pc2, so nothing runs the pinned image. Fix: remove the pin",
        ]);
    });

    it("gpu follows the host: true where hosts.yaml gives it a GPU, false where not, unless the stack says false", () => {
        const f = realFleet();
        f.hosts.pc2.gpu = null;
        assert.strictEqual(parseStackConfig({ ...BASE_STACK, machine: "pc2" }, f, S).gpu, false);
        assert.strictEqual(parseStackConfig({ ...BASE_STACK, machine: "mainpc" }, f, S).gpu, true);
        assert.strictEqual(parseStackConfig({ ...BASE_STACK, machine: "mainpc", gpu: false }, f, S).gpu, false);
    });

    it("a GPU service asked for by name where GPUs are off is refused, naming the service and why", () => {
        assert.deepStrictEqual(fleetErrors(() => parseStackConfig({ ...BASE_STACK, machine: "mainpc", gpu: false, enableServices: ["ModelOpsCoordinator"], pins: ["Executor=v1", "STTService=v2"] }, fleet, S)), [
            "Pulumi.test.yaml: fleet:enableServices[0]: 'ModelOpsCoordinator' is enabled by name, but it needs a GPU (compute: gpu), and this stack sets fleet:gpu false. Fix: remove the entry; or set fleet:gpu true where the host's NVIDIA runtime works",
            "Pulumi.test.yaml: fleet:pins[1]: 'STTService' is pinned, but it needs a GPU (compute: gpu), and this stack sets fleet:gpu false. Fix: remove the pin; or set fleet:gpu true where the host's NVIDIA runtime works",
        ]);
    });

    it("reports a host that uses another host's services without a peer stack", () => {
        const { peerStack, ...raw } = BASE_STACK;
        assert.ok(peerStack);
        assert.deepStrictEqual(fleetErrors(() => parseStackConfig({ ...raw, machine: "pc2" }, fleet, S)), [
            "Pulumi.test.yaml: fleet:peerStack: is missing: pc2 uses services of mainpc. Fix: set it to the stack that deploys them, acme/fleet/mainpc",
        ]);
    });

    it("derives the advertised address from an ssh or tcp docker host given by IP, 127.0.0.1 for a local socket", () => {
        const { advertiseAddress: _, ...raw } = BASE_STACK;
        const cases: [string, string | undefined, string][] = [
            ["ssh://ops@192.0.2.7", undefined, "192.0.2.7"], ["tcp://192.0.2.5:2376", undefined, "192.0.2.5"], ["unix:///var/run/docker.sock", undefined, "127.0.0.1"],
            ["ssh://ops@pc2", "192.0.2.17", "192.0.2.17"], ["ssh://ops@pc2", "2001:db8::17", "2001:db8::17"],
        ];
        for (const [dockerHost, given, expected] of cases) {
            assert.strictEqual(advertiseAddress(parseStackConfig({ ...raw, machine: "pc2", dockerHost, ...(given ? { advertiseAddress: given } : {}) }, fleet, S)), expected);
        }
    });

    it("ports are bound to one IP address (CIS Docker 5.14): a host name, a name given, or every interface is refused", () => {
        const { advertiseAddress: _, ...raw } = BASE_STACK;
        const errors = (extra: Record<string, unknown>) => fleetErrors(() => parseStackConfig({ ...raw, machine: "pc2", dockerHost: "ssh://ops@pc2", ...extra }, fleet, S));
        assert.deepStrictEqual(errors({}), ["Pulumi.test.yaml: fleet:advertiseAddress: is missing: 'pc2', the host of fleet:dockerHost, is a name, and published ports are bound to one IP address (CIS Docker 5.14). Fix: set it to the IP address other hosts reach pc2 at"]);
        assert.deepStrictEqual(errors({ advertiseAddress: "pc2.lan" }), ["Pulumi.test.yaml: fleet:advertiseAddress: 'pc2.lan' is not an IP address; published ports are bound to one IP address (CIS Docker 5.14). Fix: set it to the IP address other hosts reach pc2 at"]);
        for (const any of ["0.0.0.0", "::"]) {
            assert.deepStrictEqual(errors({ advertiseAddress: any }), [`Pulumi.test.yaml: fleet:advertiseAddress: '${any}' binds every interface of the host (CIS Docker 5.14). Fix: set it to the one IP address other hosts reach pc2 at`]);
        }
    });

    it("reports gpu: true on a host without a GPU", () => {
        const f = realFleet();
        f.hosts.pc2.gpu = null;
        assert.deepStrictEqual(fleetErrors(() => parseStackConfig({ ...BASE_STACK, machine: "pc2", gpu: true }, f, S)), ["Pulumi.test.yaml: fleet:gpu: is true but host 'pc2' has no GPU (no gpu in hosts.yaml). Fix: remove it: a host without a GPU needs no fleet:gpu"]);
    });
});
