/**
 * The stand-in for @pulumi/docker's Container (test/engine/providers/container.ts) against the
 * provider's own rules: kreuzwerker/terraform-provider-docker v4.5.0's Create request, the state
 * its Read keeps from `docker inspect`, and the diff of that state against new inputs. And the
 * engine's step for a diff (test/engine/steps.ts, pulumi/pulumi step_generator.go).
 */
import * as assert from "assert";
import { connectRequests, containerConfig, createRequest, flattenPorts, readContainer, updateRequest } from "../engine/providers/container";
import { goDurationString, parseGoDuration } from "../engine/providers/goForms";
import { PROVIDERS } from "../engine/providers/registry";
import { decide } from "../engine/steps";

const MB = 1024 * 1024;

/** The inputs ServiceContainer gives a CPU service, trimmed to one of each kind. */
const INPUTS = {
    name: "nlu-agent", image: "sha256:abc", user: "10001:10001", readOnly: true, tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=64m,mode=1777" },
    mounts: [{ type: "volume", source: "fleet-nlu-agent-data", target: "/app/data" }], capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true", "seccomp={}"], init: false, restart: "unless-stopped", logDriver: "json-file", logOpts: { "max-size": "10m", "max-file": "5" },
    memory: 768, memorySwap: 768, shmSize: 64, cpus: "1.0", cpuShares: 512,
    ports: [{ internal: 5709, external: 5709, ip: "127.0.0.1", protocol: "tcp" }, { internal: 6709, external: 6709, ip: "127.0.0.1", protocol: "tcp" }],
    networksAdvanced: [{ name: "net-id", aliases: ["nlu-agent"] }], envs: ["A=1", "B=2"], labels: [{ label: "fleet.service", value: "NLUAgent" }],
    healthcheck: { tests: ["CMD", "/usr/local/bin/fleet-health"], interval: "30s", timeout: "10s", startPeriod: "30s", startInterval: "1s", retries: 3 },
    wait: true, waitTimeout: 120, removeVolumes: false,
};

/** What Docker 26 answers to GET /containers/{id}/json for a container created from INPUTS. */
function inspect(over: { HostConfig?: object; State?: object; Config?: object; NetworkSettings?: object } = {}) {
    return {
        Id: "c1", Name: "/nlu-agent", Image: "sha256:abc",
        State: { Running: true, ExitCode: 0, ...over.State },
        Config: {
            Hostname: "c1", Domainname: "", User: "10001:10001", Env: ["A=1", "B=2", "PATH=/opt/venv/bin"], Image: "sha256:abc", WorkingDir: "/app",
            Labels: { "fleet.service": "NLUAgent", "org.opencontainers.image.title": "nlu-agent" },
            Healthcheck: { Test: ["CMD", "/usr/local/bin/fleet-health"], Interval: 30e9, Timeout: 10e9, StartPeriod: 30e9, StartInterval: 1e9, Retries: 3 },
            ...over.Config,
        },
        HostConfig: {
            ReadonlyRootfs: true, Tmpfs: { "/tmp": "rw,noexec,nosuid,nodev,size=64m,mode=1777" }, AutoRemove: false,
            Mounts: [{ Type: "volume", Source: "fleet-nlu-agent-data", Target: "/app/data" }], CapAdd: null, CapDrop: ["ALL"],
            SecurityOpt: ["no-new-privileges:true", "seccomp={}"], Init: false, RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 },
            LogConfig: { Type: "json-file", Config: { "max-file": "5", "max-size": "10m" } },
            Memory: 768 * MB, MemoryReservation: 0, MemorySwap: 768 * MB, ShmSize: 64 * MB, NanoCpus: 1e9, CpuShares: 512, NetworkMode: "bridge",
            // What Docker 26.1.5 reports for what the program leaves out (docker inspect of a container it runs).
            Dns: [], DnsOptions: [], DnsSearch: [], GroupAdd: null, ExtraHosts: null, UsernsMode: "", CpusetCpus: "", IpcMode: "private", Runtime: "runc",
            Privileged: false, PublishAllPorts: false, BlkioDeviceReadBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteBps: [], BlkioDeviceWriteIOps: [],
            ...over.HostConfig,
        },
        NetworkSettings: { Ports: { "6709/tcp": [{ HostIp: "127.0.0.1", HostPort: "6709" }], "5709/tcp": [{ HostIp: "127.0.0.1", HostPort: "5709" }] }, ...over.NetworkSettings },
    };
}

const diff = (state: object, inputs: object) => PROVIDERS["docker:index/container:Container"].diff(state as never, inputs as never);
const created = () => readContainer(inspect(), containerConfig(INPUTS));

describe("the Docker provider's container, as its source keeps it (no engine needed)", () => {
    it("reads and writes Go durations (Duration.String, ParseDuration)", () => {
        const rows: [number, string][] = [[0, "0s"], [1e9, "1s"], [30e9, "30s"], [300e9, "5m0s"], [3723e9, "1h2m3s"], [1.5e9, "1.5s"], [5e8, "500ms"], [120e9, "2m0s"]];
        assert.deepStrictEqual(rows.map(([ns]) => goDurationString(ns)), rows.map(([, s]) => s));
        assert.deepStrictEqual(rows.map(([, s]) => parseGoDuration(s)), rows.map(([ns]) => ns));
        assert.throws(() => parseGoDuration("5 minutes"), /cannot read duration '5 minutes'/);
    });

    it("Create: on the default bridge (networks_advanced are connected after), limits in bytes and NanoCPUs, init as given", () => {
        const { name, body } = createRequest(INPUTS);
        assert.strictEqual(name, "nlu-agent");
        assert.deepStrictEqual(body.HostConfig, {
            Privileged: false, PublishAllPorts: false, RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 }, Runtime: "",
            Mounts: [{ Type: "volume", Target: "/app/data", Source: "fleet-nlu-agent-data", ReadOnly: false }], AutoRemove: false, ReadonlyRootfs: true,
            LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "5" } }, Tmpfs: INPUTS.tmpfs,
            PortBindings: { "5709/tcp": [{ HostIp: "127.0.0.1", HostPort: "5709" }], "6709/tcp": [{ HostIp: "127.0.0.1", HostPort: "6709" }] },
            CapAdd: [], CapDrop: ["ALL"], DeviceRequests: undefined, SecurityOpt: INPUTS.securityOpts,
            Memory: 768 * MB, MemorySwap: 768 * MB, ShmSize: 64 * MB, NanoCpus: 1e9, CpuShares: 512, Dns: undefined, NetworkMode: "bridge", Init: false,
        });
        assert.deepStrictEqual([body.User, body.Env, body.Labels, body.Healthcheck.StartInterval, body.NetworkingConfig], ["10001:10001", ["A=1", "B=2"], { "fleet.service": "NLUAgent" }, 1e9, {}]);
        const gpu = createRequest({ ...INPUTS, deviceRequests: [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }] }).body.HostConfig.DeviceRequests;
        assert.deepStrictEqual(gpu, [{ Driver: "nvidia", Count: 0, DeviceIDs: ["0"], Capabilities: [["gpu"]], Options: {} }]);
    });

    it("Read keeps what the engine holds: cpus as nanoInt64ToDecimalString, healthcheck as Go durations, ports sorted by number; env, labels and networks as configured", () => {
        const s = created();
        assert.deepStrictEqual([s.cpus, s.memory, s.memorySwap, s.shmSize, s.healthcheck.startPeriod, s.workingDir, s.networkMode], ["1.0", 768, 768, 64, "30s", "/app", "bridge"]);
        assert.deepStrictEqual(s.ports, [{ internal: 5709, external: 5709, ip: "127.0.0.1", protocol: "tcp" }, { internal: 6709, external: 6709, ip: "127.0.0.1", protocol: "tcp" }]);
        assert.deepStrictEqual([s.envs, s.labels, s.networksAdvanced], [INPUTS.envs, INPUTS.labels, INPUTS.networksAdvanced], "never read back (resourceDockerContainerRead leaves them)");
        assert.deepStrictEqual(flattenPorts({ "8080/tcp": [{ HostIp: "0.0.0.0", HostPort: "8080" }, { HostIp: "::", HostPort: "8080" }] }).map((p) => p.ip), ["0.0.0.0", "::"], "one entry per binding, IPv6 too");
        assert.deepStrictEqual([1e9, 1.5e9, 2.25e9, 1e10, 5e8].map((n) => readContainer(inspect({ HostConfig: { NanoCpus: n } }), containerConfig(INPUTS)).cpus), ["1.0", "1.5", "2.25", "10.", "0.5"]);
        // What the program never sets, as Read keeps it from Docker 26's answer.
        assert.deepStrictEqual(
            [s.dns, s.dnsOpts, s.dnsSearches, s.groupAdds, s.hosts, s.sysctls, s.storageOpts, s.usernsMode, s.privileged, s.publishAllPorts, s.tty, s.stdinOpen, s.cpuSet, s.deviceReadBps, s.ipcMode, s.runtime, s.stopTimeout],
            [[], [], [], [], [], {}, {}, "", false, false, false, false, "", [], "private", "runc", undefined],
        );
        assert.deepStrictEqual(readContainer(inspect({ HostConfig: { ExtraHosts: ["registry:10.0.0.3"] } }), containerConfig(INPUTS)).hosts, [{ host: "registry", ip: "10.0.0.3" }], "flattenExtraHosts");
    });

    it("the same inputs again: no diff against the state Create kept", () => {
        assert.deepStrictEqual(diff(created(), INPUTS), { changed: [], replaces: [], details: {} });
        // Set order, port order and a "" user are no change (TypeSet; suppressIfPortsDidNotChangeForMigrationV0ToV1; user's DiffSuppressFunc).
        assert.deepStrictEqual(diff(created(), { ...INPUTS, envs: ["B=2", "A=1"], ports: [...INPUTS.ports].reverse() }).changed, []);
    });

    it("what each read-back difference does: replace where ForceNew, else update in place", () => {
        const rows: [string, object, object, string[], string[]][] = [
            // [why, state override (inspect), inputs override, changed, replaces]
            ["cpus given as '1': the state says '1.0'", {}, { cpus: "1" }, ["cpus"], ["cpus"]],
            ["a kernel without swap accounting: the daemon keeps MemorySwap -1", { HostConfig: { MemorySwap: -1 } }, {}, ["memorySwap"], []],
            ["daemon.json log-opts merged into the container's (kreuzwerker#873)", { HostConfig: { LogConfig: { Type: "json-file", Config: { "max-file": "5", "max-size": "10m", compress: "true" } } } }, {}, ["logOpts"], ["logOpts"]],
            ["docker update --cpus 2 by hand", { HostConfig: { NanoCpus: 2e9 } }, {}, ["cpus"], ["cpus"]],
            // Docker 26 clears a stopped container's ports ({}); Read takes them while must_run is still true.
            ["stopped by hand", { State: { Running: false, ExitCode: 137 }, NetworkSettings: { Ports: {} } }, {}, ["mustRun", "ports"], ["ports"]],
            ["another healthcheck interval", {}, { healthcheck: { ...INPUTS.healthcheck, interval: "1m0s" } }, ["healthcheck"], []],
            ["another tmpfs size", {}, { tmpfs: { "/tmp": "rw,size=128m" } }, ["tmpfs"], []],
            ["another image", {}, { image: "sha256:def" }, ["image"], ["image"]],
            ["another env", {}, { envs: ["A=1"] }, ["envs"], ["envs"]],
            ["a port bound to another address", {}, { ports: [INPUTS.ports[0], { ...INPUTS.ports[1], ip: "10.0.0.5" }] }, ["ports"], ["ports"]],
            // Read sets these whatever the config says; the program sets none of them. A daemon
            // (or a hand) that fills one in replaces the container where the schema says ForceNew.
            ["a sysctl the daemon adds", { HostConfig: { Sysctls: { "net.ipv4.ip_unprivileged_port_start": "0" } } }, {}, ["sysctls"], ["sysctls"]],
            ["daemon.json dns written into the container", { HostConfig: { Dns: ["10.0.0.2"] } }, {}, ["dns"], ["dns"]],
            ["a group added", { HostConfig: { GroupAdd: ["video"] } }, {}, ["groupAdds"], ["groupAdds"]],
            ["a storage option", { HostConfig: { StorageOpt: { size: "10G" } } }, {}, ["storageOpts"], ["storageOpts"]],
            ["a user namespace mode", { HostConfig: { UsernsMode: "host" } }, {}, ["usernsMode"], ["usernsMode"]],
            ["an extra host", { HostConfig: { ExtraHosts: ["registry:10.0.0.3"] } }, {}, ["hosts"], ["hosts"]],
            ["privileged", { HostConfig: { Privileged: true } }, {}, ["privileged"], ["privileged"]],
            ["a tty", { Config: { Tty: true } }, {}, ["tty"], ["tty"]],
            ["a CPU set by hand (docker update --cpuset-cpus): updated in place", { HostConfig: { CpusetCpus: "0-1" } }, {}, ["cpuSet"], []],
            ["a read throttle: updated in place", { HostConfig: { BlkioDeviceReadBps: [{ Path: "/dev/sda", Rate: 1048576 }] } }, {}, ["deviceReadBps"], []],
            // Optional+Computed: whatever the engine holds while the config leaves them out.
            ["the daemon's ipc mode, runtime, stop signal and timeout, command and entrypoint", { HostConfig: { IpcMode: "shareable", Runtime: "nvidia" }, Config: { StopSignal: "SIGINT", StopTimeout: 5, Cmd: ["python"], Entrypoint: ["/usr/bin/tini", "--"] } }, {}, [], []],
        ];
        for (const [why, state, inputs, changed, replaces] of rows) {
            const d = diff(readContainer(inspect(state), containerConfig(INPUTS)), { ...INPUTS, ...inputs });
            assert.deepStrictEqual([d.changed, d.replaces], [changed, replaces], why);
        }
    });

    it("Update: a stopped container is started; a limit or the restart policy goes to POST /update; anything else only changes the state", () => {
        const stopped = readContainer(inspect({ State: { Running: false }, NetworkSettings: { Ports: {} } }), containerConfig(INPUTS));
        assert.deepStrictEqual([stopped.mustRun, stopped.ports], [false, []], "the ports read back empty, before must_run is set false");
        assert.deepStrictEqual(updateRequest(stopped, INPUTS, ["mustRun"]), { start: true });
        assert.deepStrictEqual(updateRequest(created(), INPUTS, ["memorySwap"]).update, { RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 }, CpuShares: 512, Memory: 768 * MB, MemoryReservation: 0, CpusetCpus: "", MemorySwap: 768 * MB });
        assert.deepStrictEqual(updateRequest(created(), INPUTS, ["healthcheck", "tmpfs"]), { start: false });
    });
});

describe("dns, network_mode host and a static IPv4 address, as kreuzwerker v4.5.0 has them (no engine needed)", () => {
    // The program's host-mode container: no networks_advanced, no ports.
    const { ports: _p, networksAdvanced: _n, ...rest } = INPUTS;
    const HOST = { ...rest, networkMode: "host", dns: ["10.213.9.9", "1.1.1.1"] };
    /** What Docker 26.1.5 reports for it (docker inspect of a `--network host --dns ...` container). */
    const hostInspect = (over: { HostConfig?: object } = {}) => inspect({
        HostConfig: { NetworkMode: "host", Dns: ["1.1.1.1", "10.213.9.9"], ...over.HostConfig },
        Config: { Hostname: "vm" },
        NetworkSettings: { Bridge: "", Ports: {}, Networks: { host: { IPAMConfig: null, Aliases: null, NetworkID: "99ee9954a658", EndpointID: "a506", Gateway: "", IPAddress: "", MacAddress: "" } } },
    });
    const hostState = () => readContainer(hostInspect(), containerConfig(HOST));

    it("dns: HostConfig.Dns in the set's order (by HashString code), whatever the config's; absent when not given", () => {
        const rows: [string[], string[] | undefined][] = [
            [["10.213.9.9", "1.1.1.1"], ["1.1.1.1", "10.213.9.9"]],
            [["1.1.1.1", "10.213.9.9"], ["1.1.1.1", "10.213.9.9"]],
            // crc32 "8.8.8.8" = 3817307869, "1.1.1.1" = 218290772: by code as a string, "2..." < "3...".
            [["8.8.8.8", "1.1.1.1"], ["1.1.1.1", "8.8.8.8"]],
            [["1.1.1.1", "1.1.1.1"], ["1.1.1.1"]],
            [[], undefined],
        ];
        for (const [dns, sent] of rows) assert.deepStrictEqual(createRequest({ ...INPUTS, dns }).body.HostConfig.Dns, sent, dns.join(","));
        assert.strictEqual(createRequest(INPUTS).body.HostConfig.Dns, undefined);
        assert.deepStrictEqual(hostState().dns, ["1.1.1.1", "10.213.9.9"], "Read: HostConfig.Dns as reported (funcs.go L852)");
    });

    it("network_mode host: HostConfig.NetworkMode \"host\", no ports, nothing in NetworkingConfig, no network disconnected or connected", () => {
        const { body } = createRequest(HOST);
        assert.deepStrictEqual([body.HostConfig.NetworkMode, body.HostConfig.PortBindings, body.ExposedPorts, body.NetworkingConfig], ["host", undefined, undefined, {}]);
        assert.deepStrictEqual(connectRequests(HOST), []);
        const s = hostState();
        // NetworkSettings.Networks {"host": ...} is never read: networks_advanced stays the config's (none).
        assert.deepStrictEqual([s.networkMode, s.networksAdvanced, s.ports, s.hostname], ["host", [], [], "vm"]);
    });

    it("networks_advanced ipv4_address: IPAMConfig.IPv4Address of its connect (omitempty); never at create; connects in the set's order", () => {
        const one = { ...INPUTS, networksAdvanced: [{ name: "net-a", aliases: ["svc", "alias"], ipv4Address: "10.213.5.10" }] };
        assert.deepStrictEqual(createRequest(one).body.NetworkingConfig, {}, "Create's NetworkingConfig stays empty (L391)");
        assert.deepStrictEqual(connectRequests(one), [
            { network: "net-a", endpoint: { IPAMConfig: { IPv4Address: "10.213.5.10" }, Aliases: ["alias", "svc"], MacAddress: "", DriverOpts: {}, GwPriority: 0 } },
        ], "aliases in HashString order too: crc32 \"alias\" 3781979028 sorts before \"svc\" 69788041 as strings");
        assert.deepStrictEqual(connectRequests(INPUTS), [
            { network: "net-id", endpoint: { IPAMConfig: {}, Aliases: ["nlu-agent"], MacAddress: "", DriverOpts: {}, GwPriority: 0 } },
        ], "no address: IPAMConfig present and empty");
        const a = { name: "net-a", ipv4Address: "10.213.5.10" };
        const b = { name: "net-b", aliases: ["svc"] };
        const order = (nets: object[]) => connectRequests({ ...INPUTS, networksAdvanced: nets }).map((c) => c.network);
        assert.deepStrictEqual(order([a, b]), order([b, a]), "the set's List order, not the config's");
        assert.deepStrictEqual(order([a, b]).sort(), ["net-a", "net-b"]);
        const full = connectRequests({ ...INPUTS, networksAdvanced: [{ name: "n", ipv6Address: "fd00::5", linkLocalIps: ["169.254.0.5"], macAddress: "02:42:ac:11:00:05", driverOpts: ["a=1", "b", "c=x=y"], gwPriority: 2 }] })[0];
        assert.deepStrictEqual(full.endpoint, { IPAMConfig: { IPv6Address: "fd00::5", LinkLocalIPs: ["169.254.0.5"] }, Aliases: [], MacAddress: "02:42:ac:11:00:05", DriverOpts: { a: "1", c: "x=y" }, GwPriority: 2 });
        // Read leaves networks_advanced alone: the state keeps the address the config gave.
        const s = readContainer(inspect({ NetworkSettings: { Networks: { "net-a": { IPAddress: "10.213.5.10", IPAMConfig: { IPv4Address: "10.213.5.10" } } } } }), containerConfig(one));
        assert.deepStrictEqual(s.networksAdvanced, one.networksAdvanced);
    });

    it("the diff against the read-back state: what must not differ, and what replaces", () => {
        const withIp = { ...INPUTS, networksAdvanced: [{ name: "net-id", aliases: ["nlu-agent"], ipv4Address: "10.213.5.10" }] };
        const ipState = readContainer(inspect(), containerConfig(withIp));
        const rows: [string, object, object, string[], string[]][] = [
            // [why, state, inputs, changed, replaces]
            ["host mode, dns in another order than the engine's, Networks {host}: no diff", hostState(), HOST, [], []],
            ["host mode, the same dns in the config's order", hostState(), { ...HOST, dns: ["1.1.1.1", "10.213.9.9"] }, [], []],
            ["a bridge container with network_mode left out: the default \"bridge\" as read", created(), INPUTS, [], []],
            ["the same ipv4_address (the state keeps the config's)", ipState, withIp, [], []],
            ["the same network and address, aliases in another order", ipState, { ...withIp, networksAdvanced: [{ name: "net-id", aliases: ["nlu-agent"], ipv4Address: "10.213.5.10" }] }, [], []],
            ["another dns server", hostState(), { ...HOST, dns: ["10.213.9.9", "8.8.8.8"] }, ["dns"], ["dns"]],
            ["dns dropped from the config (not Computed)", hostState(), { ...HOST, dns: undefined }, ["dns"], ["dns"]],
            ["network_mode host dropped: the default bridge", hostState(), { ...HOST, networkMode: undefined }, ["networkMode"], ["networkMode"]],
            ["another ipv4_address", ipState, { ...withIp, networksAdvanced: [{ name: "net-id", aliases: ["nlu-agent"], ipv4Address: "10.213.5.11" }] }, ["networksAdvanced"], ["networksAdvanced"]],
            ["an ipv4_address added", created(), withIp, ["networksAdvanced"], ["networksAdvanced"]],
            // moby v26.1.5 api/server/router/container/container_routes.go L482-488 turns "default"
            // into "bridge" at create; Read stores "bridge"; the provider does not normalise: a
            // config "default" replaces the container on every `up`.
            ["network_mode \"default\": the engine reports \"bridge\"", created(), { ...INPUTS, networkMode: "default" }, ["networkMode"], ["networkMode"]],
        ];
        for (const [why, state, inputs, changed, replaces] of rows) {
            const d = diff(state, inputs);
            assert.deepStrictEqual([d.changed, d.replaces], [changed, replaces], why);
        }
    });
});

describe("the engine's step for a provider's diff (pulumi/pulumi step_generator.go)", () => {
    it("replace keys replace, other changes update, nothing is same; replaceOnChanges and init errors as applyReplaceOnChanges has them", () => {
        const rows: [string, { changed: string[]; replaces: string[] }, string[], string[], string][] = [
            ["no change", { changed: [], replaces: [] }, [], [], "same"],
            ["ForceNew", { changed: ["cpus"], replaces: ["cpus"] }, [], [], "replace"],
            ["update in place", { changed: ["memorySwap"], replaces: [] }, [], [], "update"],
            ["replaceOnChanges names it", { changed: ["healthcheck"], replaces: [] }, ["healthcheck"], [], "replace"],
            ["replaceOnChanges * contains every property", { changed: ["tmpfs"], replaces: [] }, ["*"], [], "replace"],
            ["init errors, no diff, no replaceOnChanges: an empty update (pulumi/pulumi#21458)", { changed: [], replaces: [] }, [], ["container failed to be in healthy state"], "update"],
            ["init errors, no diff, replaceOnChanges *: replaced", { changed: [], replaces: [] }, ["*"], ["container failed to be in healthy state"], "replace"],
            ["init errors, replaceOnChanges of another property: an empty update", { changed: [], replaces: [] }, ["healthcheck"], ["x"], "update"],
        ];
        for (const [why, d, roc, initErrors, op] of rows) assert.strictEqual(decide(d, roc, initErrors).op, op, why);
        assert.deepStrictEqual(decide({ changed: [], replaces: [] }, ["*"], ["container failed to be in healthy state"]).why, ["#initerror: container failed to be in healthy state"]);
    });
});
