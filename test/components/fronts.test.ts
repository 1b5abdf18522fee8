/**
 * The host front under mocks (components/hostFront.ts, hostResolvers.ts): one HAProxy per host in
 * the host's network namespace, the only container that binds a service's ports, its
 * configuration delivered by its command and not as an input; two resolvers at fixed addresses;
 * the peer fronts; no front per service.
 */
import * as assert from "assert";
import { planHost } from "../../fleet/model/plan";
import { listenNames, renderHostFrontConfig, renderPeerFrontConfig } from "../../fleet/render/front";
import { seccompOpt, supervisorProfile } from "../../fleet/security/seccomp";
import { parsedStack, realFleet } from "../helpers";
import { byType, dependsOn, isPeerFront, nameOf, PEER_OUTPUTS, Registered, roleOf, RUNBOOK_CONFIG, runbookStack, runningContainers, runProgram } from "../mocks";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:local:Command";

/**
 * What every container of the HAProxy image runs as (components/haproxyContainer.ts): non-root,
 * read-only, no capability, the proxy's seccomp profile, its limits, log rotation, the image's
 * health helper, created stopped.
 */
const haproxyInputs = (image: unknown, limits = { memory: 32, cpus: "0.25", cpuShares: 256 }, tmpfs: Record<string, string> | null = { "/run/fleet-front": "rw,noexec,nosuid,nodev,size=1m,mode=0700,uid=10001,gid=10001" }) => ({
    image,
    user: "10001:10001",
    readOnly: true,
    ...(tmpfs ? { tmpfs } : {}),
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true", seccompOpt(supervisorProfile())],
    init: false,
    restart: "unless-stopped",
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "5" },
    memory: limits.memory,
    memorySwap: limits.memory,
    cpus: limits.cpus,
    cpuShares: limits.cpuShares,
    healthcheck: { tests: ["CMD", "/usr/local/bin/fleet-health"], interval: "30s", timeout: "5s", startPeriod: "10s", startInterval: "1s", retries: 3 },
    start: false,
    mustRun: false,
});

describe("a peer stack's endpoint a container cannot reach", () => {
    it("pc2 refuses MainPC's endpoint on the loopback, naming the stack, the service, the address and the fix", async () => {
        const peer = PEER_OUTPUTS["ai-system/fleet/mainpc"];
        const saved = peer.endpoints;
        peer.endpoints = { ...(saved as Record<string, string>), ServiceRegistry: "127.0.0.1:7200" };
        try {
            await assert.rejects(runProgram(runbookStack("pc2")), (e: Error) => {
                assert.ok(e.message.includes("stack ai-system/fleet/mainpc exports ServiceRegistry's endpoint as 127.0.0.1:7200: a loopback address, which inside a container is the container itself. "
                    + "Fix: set fleet:advertiseAddress of stack ai-system/fleet/mainpc to the address this host reaches it at, and run pulumi up on that stack first"), e.message);
                return true;
            });
        } finally {
            peer.endpoints = saved;
        }
    });
});

describe("the host front under mocks", () => {

    for (const stack of ["mainpc", "pc2"]) {
        describe(stack, () => {
            let all: Registered[];
            let services: Registered[];
            const plan = () => planHost(realFleet(), parsedStack(runbookStack(stack)));
            const proxyImage = () => runningContainers(all).find((c) => nameOf(c) === "docker-api-proxy")!.inputs.image;
            before(async () => {
                all = (await runProgram(runbookStack(stack))).resources;
                services = runningContainers(all).filter((c) => nameOf(c) !== "docker-api-proxy");
            });

            it("one host front, in the host's network namespace; no front per service", () => {
                assert.deepStrictEqual(byType(all, "fleet:containers:HostFront").map((f) => f.name), [`${stack}-front`]);
                assert.deepStrictEqual(byType(all, CONTAINER).filter((c) => roleOf(c) === "host-front").map(nameOf), [`fleet-${stack}-front`]);
                assert.deepStrictEqual(byType(all, CONTAINER).filter((c) => roleOf(c) === "front"), []);
                assert.deepStrictEqual(byType(all, "fleet:containers:ServiceFront"), []);
                assert.deepStrictEqual(byType(all, "docker:index/network:Network").filter((n) => n.name.endsWith("-backends")), []);
            });

            it("the host front: non-root, read-only, no capability, the host's network namespace, its volume, a health answer on the gateway, no configuration among its inputs; created stopped, replaced delete-first", () => {
                const f = byType(all, CONTAINER).find((c) => roleOf(c) === "host-front")!;
                assert.deepStrictEqual(f.inputs, {
                    name: `fleet-${stack}-front`,
                    ...haproxyInputs(proxyImage(), { memory: 128, cpus: "1.0", cpuShares: 1024 }, null),
                    networkMode: "host",
                    mounts: [{ type: "volume", source: `fleet-${stack}-front`, target: "/run/fleet-front" }],
                    envs: ["FLEET_ROLE=host-front", "FLEET_HEALTH_KIND=http", "HEALTH_HOST=10.230.0.1", "HEALTH_PORT=8404", "FLEET_HEALTH_PATH=/health", "FLEET_FRONT_FREE_SLOT=fleet-free.invalid"],
                    labels: [{ label: "fleet.machine", value: stack }, { label: "fleet.role", value: "host-front" }],
                });
                assert.deepStrictEqual([f.opts.deleteBeforeReplace, f.opts.replaceOnChanges], [true, ["*"]]);
                assert.ok(dependsOn(f, "fleet:host:HostPreflight", `${stack}-preflight`) && dependsOn(f, "docker:index/network:Network", `${stack}-network`));
                const volume = byType(all, "docker:index/volume:Volume").find((v) => v.name === `${stack}-front-state`)!;
                assert.deepStrictEqual(volume.inputs, { name: `fleet-${stack}-front`, labels: [{ label: "fleet.machine", value: stack }, { label: "fleet.role", value: "host-front" }] });
                assert.strictEqual(volume.opts.deleteBeforeReplace, true);
            });

            it("its command: HAProxy's check, the configuration copied in, then a start or a reload; the configuration is its stdin, so a change reloads and replaces nothing", () => {
                const cmd = byType(all, COMMAND).find((r) => r.name === `${stack}-front-start`)!;
                const pids = { mainpc: 64 + 2 * 42, pc2: 64 + 2 * 23 }[stack];
                assert.deepStrictEqual({ ...cmd.inputs }, {
                    // 64 for HAProxy, and 2 per service for fleet-front-ctl's stage and retire.
                    create: `bash scripts/host-front.sh fleet-${stack}-front ${stack} ${proxyImage()} ${pids} 60`,
                    stdin: renderHostFrontConfig(plan()),
                    environment: { DOCKER_HOST: `ssh://ops@${stack}` },
                    triggers: [`${stack}-front-id`],
                });
                assert.ok(dependsOn(cmd, CONTAINER, `${stack}-front`));
                // Every service's ports, on the runbook's address and on the gateway.
                const address = RUNBOOK_CONFIG[stack]["fleet:advertiseAddress"];
                const binds = [...(cmd.inputs.stdin as string).matchAll(/^ {4}bind (\S+)$/gm)].map((m) => m[1]);
                assert.deepStrictEqual(binds, ["10.230.0.1:8404", ...plan().containers.flatMap((c) => [c.ports.service, c.ports.health, ...c.ports.metrics].flatMap((p) => [`${address}:${p}`, `10.230.0.1:${p}`]))]);
            });

            it("two resolvers at fixed addresses below the containers' range, answering with the gateway; the second created once the first runs", () => {
                const resolvers = byType(all, CONTAINER).filter((c) => roleOf(c) === "resolver");
                assert.deepStrictEqual(resolvers.map((r) => r.name), [`${stack}-resolver-1`, `${stack}-resolver-2`]);
                resolvers.forEach((r, i) => {
                    assert.deepStrictEqual(r.inputs, {
                        name: `fleet-${stack}-resolver-${i + 1}`,
                        ...haproxyInputs(proxyImage(), { memory: 16, cpus: "0.25", cpuShares: 256 }, { "/tmp": "rw,noexec,nosuid,nodev,size=1m,mode=1777" }),
                        networksAdvanced: [{ name: `${stack}-network-id`, ipv4Address: `10.230.0.${i + 2}` }],
                        envs: ["FLEET_ROLE=resolver", "FLEET_RESOLVER_ANSWER=10.230.0.1", "FLEET_HEALTH_KIND=tcp", "HEALTH_PORT=53"],
                        labels: [{ label: "fleet.machine", value: stack }, { label: "fleet.role", value: "resolver" }],
                    }, r.name);
                    assert.deepStrictEqual([r.opts.deleteBeforeReplace, r.opts.replaceOnChanges], [true, ["*"]], r.name);
                    const start = byType(all, COMMAND).find((c) => c.name === `${r.name}-start`)!;
                    assert.deepStrictEqual({ ...start.inputs }, {
                        create: `bash scripts/container-start.sh fleet-${stack}-resolver-${i + 1} fleet-${stack}-resolver-${i + 1} ${stack} 16 60 0`,
                        environment: { DOCKER_HOST: `ssh://ops@${stack}` },
                        triggers: [`${stack}-resolver-${i + 1}-id`, 16],
                    }, r.name);
                });
                assert.ok(dependsOn(resolvers[1], COMMAND, `${stack}-resolver-1-start`));
                assert.ok(!dependsOn(resolvers[0], COMMAND, `${stack}-resolver-2-start`));
            });

            it("the fleet network: a declared subnet, its gateway, containers from the upper half; replaced delete-first", () => {
                const nets = byType(all, "docker:index/network:Network").filter((n) => n.name === `${stack}-network`);
                assert.deepStrictEqual(nets.map((n) => n.inputs), [{
                    name: `fleet-${stack}-net`, driver: "bridge",
                    ipamConfigs: [{ subnet: "10.230.0.0/24", gateway: "10.230.0.1", ipRange: "10.230.0.128/25" }],
                    labels: [{ label: "fleet.machine", value: stack }],
                }]);
                assert.strictEqual(nets[0].opts.deleteBeforeReplace, true);
            });

            it("the service containers publish nothing and hold no alias; the resolvers answer their names; each start command admits its container to its listen sections", () => {
                for (const c of services) {
                    assert.strictEqual(c.inputs.ports, undefined, nameOf(c));
                    assert.deepStrictEqual(c.inputs.networksAdvanced[0], { name: `${stack}-network-id` }, nameOf(c));
                    assert.deepStrictEqual(c.inputs.dns, ["10.230.0.2", "10.230.0.3"], nameOf(c));
                }
                for (const c of plan().containers) {
                    const start = byType(all, COMMAND).find((r) => r.name === `${c.name}-start`)!;
                    assert.ok((start.inputs.create as string).includes(` fleet-${stack}-front fleet-${stack}-net ${listenNames(c).join(",")} 15 10`), c.name);
                }
            });

            it(stack === "pc2" ? "HAProxy checks the peer fronts' configurations once, before any peer front is created" : "mainpc uses no other host: no peer front to check", () => {
                const checks = byType(all, COMMAND).filter((r) => r.name.endsWith("-fronts-check"));
                if (stack === "mainpc") return assert.deepStrictEqual(checks, []);
                assert.deepStrictEqual(checks.map((r) => r.name), [`${stack}-fronts-check`]);
                const configs = Object.fromEntries(plan().peers.map((p) => [`${p.service}'s peer front`, renderPeerFrontConfig(p, stack, `192.0.2.16:${p.port}`)]));
                assert.strictEqual(Object.keys(configs).length, 3);
                assert.deepStrictEqual({ ...checks[0].inputs }, {
                    create: `bash scripts/front-check.sh ${proxyImage()}`,
                    stdin: JSON.stringify(configs),
                    environment: { DOCKER_HOST: `ssh://ops@${stack}` },
                    triggers: [proxyImage(), JSON.stringify(configs)],
                });
            });

            it(stack === "pc2" ? "one peer front per MainPC service pc2 uses: its name and port on pc2's network, forwarding to the mainpc stack's endpoint; started under its PIDs limit beside the services" : "mainpc uses no other host: no peer front", () => {
                const peers = byType(all, CONTAINER).filter(isPeerFront);
                const wanted = plan().peers;
                assert.deepStrictEqual(wanted.map((p) => p.service), stack === "pc2" ? ["ModelOpsCoordinator", "ServiceRegistry", "SystemDigitalTwin"] : []);
                assert.deepStrictEqual(byType(all, "fleet:containers:PeerFront").map((f) => f.name).sort(), wanted.map((p) => `${p.name}-peer`));
                assert.deepStrictEqual(peers.map(nameOf).sort(), wanted.map((p) => `${p.name}-peer`));
                for (const p of wanted) {
                    const f = peers.find((x) => nameOf(x) === `${p.name}-peer`)!;
                    assert.deepStrictEqual(f.inputs, {
                        name: `${p.name}-peer`,
                        ...haproxyInputs(proxyImage()),
                        // No host port: only this host's containers reach it, by the service's own name.
                        networksAdvanced: [{ name: `${stack}-network-id`, aliases: [p.name] }],
                        envs: [`FLEET_FRONT_CONFIG=${renderPeerFrontConfig(p, stack, `192.0.2.16:${p.port}`)}`, "FLEET_HEALTH_KIND=http", "HEALTH_PORT=2377", "FLEET_HEALTH_PATH=/health"],
                        labels: [{ label: "fleet.peer", value: p.service }, { label: "fleet.peer-machine", value: "mainpc" }, { label: "fleet.machine", value: stack }, { label: "fleet.role", value: "peer-front" }],
                    }, p.service);
                    assert.deepStrictEqual([f.opts.deleteBeforeReplace, f.opts.replaceOnChanges], [true, ["*"]], p.service);
                    assert.ok(dependsOn(f, COMMAND, `${stack}-fronts-check`), p.service);
                    const start = byType(all, COMMAND).find((r) => r.name === `${p.name}-peer-start`)!;
                    assert.deepStrictEqual({ ...start.inputs }, {
                        create: `bash scripts/container-start.sh ${p.name}-peer ${p.name}-peer ${stack} 32 60 0`,
                        environment: { DOCKER_HOST: `ssh://ops@${stack}` },
                        triggers: [`${p.name}-peer-id`, 32],
                    }, p.service);
                }
                // They gate no start: nothing waits for a peer front (components/fleetHost.ts says why).
                const others = all.filter((r) => !wanted.some((p) => r.name.startsWith(`${p.name}-peer`)));
                assert.ok(others.length > 100);
                for (const r of others) assert.deepStrictEqual(wanted.filter((p) => dependsOn(r, COMMAND, `${p.name}-peer-start`) || dependsOn(r, "fleet:containers:PeerFront", `${p.name}-peer`)), [], r.name);
                // No service container holds a peer's address: a peer that moves replaces none of them.
                for (const c of services) assert.deepStrictEqual((c.inputs.envs as string[]).filter((e) => /^MAINPC_|ENDPOINT_FROM/.test(e)), [], nameOf(c));
            });
        });
    }
});
