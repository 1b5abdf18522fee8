/**
 * Every service's front under mocks (components/serviceFront.ts): one per service, the only
 * container that publishes ports or holds the service's alias, created after HAProxy checked every
 * front's configuration, replaced delete-first.
 */
import * as assert from "assert";
import { planHost } from "../../fleet/model/plan";
import { renderFrontConfig } from "../../fleet/render/front";
import { seccompOpt, supervisorProfile } from "../../fleet/security/seccomp";
import { parsedStack, realFleet } from "../helpers";
import { byType, dependsOn, isFront, nameOf, Registered, RUNBOOK_CONFIG, runbookStack, runningContainers, runProgram } from "../mocks";

const CONTAINER = "docker:index/container:Container";
const COMMAND = "command:local:Command";
const labelOf = (r: Registered, label: string) => (r.inputs.labels as { label: string; value: string }[]).find((l) => l.label === label)?.value;

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
                        image: proxyImage,
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
                        ports: [c.ports.service, c.ports.health, ...c.ports.metrics].map((p) => ({ internal: p, external: p, ip: address, protocol: "tcp" })),
                        networksAdvanced: [{ name: `${stack}-net-id`, aliases: [c.name] }, { name: `${stack}-backends-id` }],
                        envs: [`FLEET_FRONT_CONFIG=${renderFrontConfig(c, stack)}`, "FLEET_HEALTH_KIND=http", "HEALTH_PORT=2377", "FLEET_HEALTH_PATH=/health"],
                        labels: [{ label: "fleet.front", value: c.service }, { label: "fleet.machine", value: stack }, { label: "fleet.role", value: "front" }],
                        healthcheck: { tests: ["CMD", "/usr/local/bin/fleet-health"], interval: "30s", timeout: "5s", startPeriod: "10s", startInterval: "1s", retries: 3 },
                        start: false,
                        mustRun: false,
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
                const configs = Object.fromEntries(plan().containers.map((c) => [c.service, renderFrontConfig(c, stack)]));
                assert.deepStrictEqual({ ...check.inputs }, {
                    create: `bash scripts/front-check.sh ${proxyImage}`,
                    stdin: JSON.stringify(configs),
                    environment: { DOCKER_HOST: `ssh://ops@${stack}` },
                    triggers: [proxyImage, JSON.stringify(configs)],
                });
            });

            it("the backends network: internal, per host, replaced delete-first", () => {
                const net = byType(all, "docker:index/network:Network").find((n) => n.name === `${stack}-backends`)!;
                assert.deepStrictEqual(net.inputs, { name: `fleet-${stack}-backends`, driver: "bridge", internal: true, labels: [{ label: "fleet.machine", value: stack }] });
                assert.strictEqual(net.opts.deleteBeforeReplace, true);
            });
        });
    }
});
