/**
 * Every service's front under mocks (components/serviceFront.ts): one per service, the only
 * container that publishes ports or holds the service's alias, created after HAProxy checked every
 * front's configuration, replaced delete-first.
 */
import * as assert from "assert";
import { planHost } from "../../fleet/model/plan";
import { renderFrontConfig, renderPeerFrontConfig } from "../../fleet/render/front";
import { seccompOpt, supervisorProfile } from "../../fleet/security/seccomp";
import { parsedStack, realFleet } from "../helpers";
import { byType, dependsOn, isFront, isPeerFront, nameOf, PEER_OUTPUTS, Registered, RUNBOOK_CONFIG, runbookStack, runningContainers, runProgram } from "../mocks";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:local:Command";
const labelOf = (r: Registered, label: string) => (r.inputs.labels as { label: string; value: string }[]).find((l) => l.label === label)?.value;

/**
 * What every HAProxy front runs as (components/serviceFront.ts haproxyContainerInputs): non-root,
 * read-only, no capability, the proxy's seccomp profile, small limits, log rotation, the image's
 * health helper, created stopped.
 */
const haproxyInputs = (image: unknown) => ({
    image,
    user: "10001:10001",
    readOnly: true,
    tmpfs: { "/run/fleet-front": "rw,noexec,nosuid,nodev,size=1m,mode=0700,uid=10001,gid=10001" },
    capabilities: { drops: ["ALL"] },
    securityOpts: ["no-new-privileges:true", seccompOpt(supervisorProfile())],
    init: false,
    restart: "unless-stopped",
    logDriver: "json-file",
    logOpts: { "max-size": "10m", "max-file": "5" },
    memory: 32,
    memorySwap: 32,
    cpus: "0.25",
    cpuShares: 256,
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

describe("fronts under mocks", () => {

    for (const stack of ["mainpc", "pc2"]) {
        describe(stack, () => {
            let all: Registered[];
            let fronts: Registered[];
            let services: Registered[];
            const plan = () => planHost(realFleet(), parsedStack(runbookStack(stack)));
            before(async () => {
                all = (await runProgram(runbookStack(stack))).resources;
                fronts = byType(all, CONTAINER).filter(isFront);
                services = runningContainers(all).filter((c) => nameOf(c) !== "docker-api-proxy");
            });

            it("one front per service, named after it, none for the Docker API proxy", () => {
                assert.deepStrictEqual(fronts.map((f) => labelOf(f, "fleet.front")).sort(), services.map((c) => labelOf(c, "fleet.service")).sort());
                const wanted = plan().containers.map((c) => `${c.name}-front`).sort();
                assert.deepStrictEqual(fronts.map((f) => f.name).sort(), wanted);
                assert.deepStrictEqual(fronts.map(nameOf).sort(), wanted);
                assert.deepStrictEqual(byType(all, "fleet:containers:ServiceFront").map((f) => f.name).sort(), wanted);
            });

            it("each front: the service's ports on the advertised address, its alias, the backends network, its configuration; non-root, read-only, no capability, created stopped, replaced delete-first", () => {
                const address = RUNBOOK_CONFIG[stack]["fleet:advertiseAddress"];
                const proxyImage = runningContainers(all).find((c) => nameOf(c) === "docker-api-proxy")!.inputs.image;
                for (const c of plan().containers) {
                    const f = fronts.find((x) => nameOf(x) === `${c.name}-front`)!;
                    assert.deepStrictEqual(f.inputs, {
                        name: `${c.name}-front`,
                        ...haproxyInputs(proxyImage),
                        ports: [c.ports.service, c.ports.health, ...c.ports.metrics].map((p) => ({ internal: p, external: p, ip: address, protocol: "tcp" })),
                        networksAdvanced: [{ name: `${stack}-net-id`, aliases: [c.name] }, { name: `${stack}-backends-id` }],
                        envs: [`FLEET_FRONT_CONFIG=${renderFrontConfig(c, stack)}`, "FLEET_HEALTH_KIND=http", "HEALTH_PORT=2377", "FLEET_HEALTH_PATH=/health"],
                        labels: [{ label: "fleet.front", value: c.service }, { label: "fleet.machine", value: stack }, { label: "fleet.role", value: "front" }],
                    }, c.name);
                    assert.deepStrictEqual([f.opts.deleteBeforeReplace, f.opts.replaceOnChanges], [true, ["*"]], c.name);
                    assert.ok(dependsOn(f, COMMAND, `${stack}-fronts-check`) && dependsOn(f, "fleet:host:HostPreflight", `${stack}-preflight`), c.name);
                }
            });

            it("the service containers publish nothing and hold no alias: the front does", () => {
                for (const c of services) {
                    assert.strictEqual(c.inputs.ports, undefined, nameOf(c));
                    assert.deepStrictEqual(c.inputs.networksAdvanced[0], { name: `${stack}-net-id` }, nameOf(c));
                }
            });

            it("HAProxy checks every front's configuration once per host, before any front is created", () => {
                const checks = byType(all, COMMAND).filter((r) => r.name.endsWith("-fronts-check"));
                assert.deepStrictEqual(checks.map((r) => r.name), [`${stack}-fronts-check`]);
                const [check] = checks;
                const proxyImage = runningContainers(all).find((c) => nameOf(c) === "docker-api-proxy")!.inputs.image;
                const configs: Record<string, string> = Object.fromEntries(plan().containers.map((c) => [c.service, renderFrontConfig(c, stack)]));
                // pc2's peer fronts too, forwarding to the addresses of the mainpc stack's outputs.
                for (const p of plan().peers) configs[`peer:${p.service}`] = renderPeerFrontConfig(p, stack, `192.0.2.16:${p.port}`);
                assert.strictEqual(Object.keys(configs).length, plan().containers.length + (stack === "pc2" ? 3 : 0));
                assert.deepStrictEqual({ ...check.inputs }, {
                    create: `bash scripts/front-check.sh ${proxyImage}`,
                    stdin: JSON.stringify(configs),
                    environment: { DOCKER_HOST: `ssh://ops@${stack}` },
                    triggers: [proxyImage, JSON.stringify(configs)],
                });
            });

            it(stack === "pc2" ? "one peer front per MainPC service pc2 uses: its name and port on pc2's network, forwarding to the mainpc stack's endpoint; started under its PIDs limit beside the services" : "mainpc uses no other host: no peer front", () => {
                const peers = byType(all, CONTAINER).filter(isPeerFront);
                const wanted = plan().peers;
                assert.deepStrictEqual(wanted.map((p) => p.service), stack === "pc2" ? ["ModelOpsCoordinator", "ServiceRegistry", "SystemDigitalTwin"] : []);
                assert.deepStrictEqual(byType(all, "fleet:containers:PeerFront").map((f) => f.name).sort(), wanted.map((p) => `${p.name}-peer`));
                assert.deepStrictEqual(peers.map(nameOf).sort(), wanted.map((p) => `${p.name}-peer`));
                const proxyImage = runningContainers(all).find((c) => nameOf(c) === "docker-api-proxy")!.inputs.image;
                for (const p of wanted) {
                    const f = peers.find((x) => nameOf(x) === `${p.name}-peer`)!;
                    assert.deepStrictEqual(f.inputs, {
                        name: `${p.name}-peer`,
                        ...haproxyInputs(proxyImage),
                        // No host port: only this host's containers reach it, by the service's own name.
                        networksAdvanced: [{ name: `${stack}-net-id`, aliases: [p.name] }],
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

            it("the backends network: internal, per host, replaced delete-first", () => {
                const net = byType(all, "docker:index/network:Network").find((n) => n.name === `${stack}-backends`)!;
                assert.deepStrictEqual(net.inputs, { name: `fleet-${stack}-backends`, driver: "bridge", internal: true, labels: [{ label: "fleet.machine", value: stack }] });
                assert.strictEqual(net.opts.deleteBeforeReplace, true);
            });
        });
    }
});
