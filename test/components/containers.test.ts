import * as assert from "assert";
import { PROXY_DEFAULTS } from "../../fleet/model/defaults";
import { familyRuntime, planHost } from "../../fleet/model/plan";
import { containerName } from "../../fleet/model/names";
import { baselineProfile, seccompOpt, supervisorProfile } from "../../fleet/security/seccomp";
import { listenNames } from "../../fleet/render/front";
import { parsedStack, realFleet } from "../helpers";
import { byType, dependsOn, mockAutoName, nameOf, Registered, RUNBOOK_CONFIG, runbookStack, runningContainers, runProgram, stackConfig } from "../mocks";

const CONTAINER = "docker:index/container:Container";
const VOLUME = "docker:index/volume:Volume";
const BASELINE = seccompOpt(baselineProfile());
const SUPERVISOR = seccompOpt(supervisorProfile());
const GPU_SERVICES: Record<string, string[]> = {
    mainpc: ["affective-processing-center", "chain-of-thought-agent", "cognitive-model-agent", "dynamic-identity-agent", "emotion-synthesis-agent", "empathy-agent", "face-recognition-agent", "learning-manager", "learning-opportunity-detector", "model-ops-coordinator", "proactive-agent", "real-time-audio-pipeline", "responder", "streaming-tts-agent", "stt-service", "tiny-llama-service-enhanced", "tts-service"],
    pc2: ["dreaming-mode-agent", "dream-world-agent", "real-time-audio-pipeline-pc2", "speech-relay-service", "vision-processing-agent"],
};

function tierOf(r: Registered): string {
    return (r.inputs.labels as { label: string; value: string }[]).find((l) => l.label === "fleet.tier")!.value;
}

describe("start lanes under mocks (fleet:startLanes 4 on mainpc)", () => {
    it("each container of a tier after the fourth waits for the one four places before it; GPU services start last", async () => {
        const run = await runProgram(runbookStack("mainpc", "start-lanes-4"));
        const services = runningContainers(run.resources).filter((c) => nameOf(c) !== "docker-api-proxy");
        const startOf = (c: Registered) => byType(run.resources, "command:local:Command").find((x) => x.name === `${nameOf(c)}-start`)!;
        const waits: Record<string, string[]> = Object.fromEntries(services.map((c) => [nameOf(c), services.filter((o) => o !== c && tierOf(o) === tierOf(c) && dependsOn(startOf(c), "command:local:Command", `${nameOf(o)}-start`)).map((o) => nameOf(o))]));
        assert.strictEqual(Object.values(waits).filter((w) => w.length > 0).length, 39 - 4);
        assert.deepStrictEqual(waits["service-registry"], []);
        assert.deepStrictEqual(waits["active-learning-monitor"], []);
        assert.deepStrictEqual(waits["code-generator"], ["active-learning-monitor"]);
        assert.deepStrictEqual(waits["voice-profiling-agent"], ["smart-home-agent"]);
        assert.deepStrictEqual(waits["affective-processing-center"], ["streaming-translation-proxy"]);
        assert.deepStrictEqual(waits["tiny-llama-service-enhanced"], ["responder"]);
    });
});

describe("containers under mocks", () => {

    for (const stack of ["mainpc", "pc2"]) {
        describe(stack, () => {
            let all: Registered[];
            let containers: Registered[];
            let services: Registered[];
            let outputs: Record<string, unknown>;
            before(async () => {
                const run = await runProgram(runbookStack(stack));
                all = run.resources;
                outputs = run.outputs;
                containers = runningContainers(all);
                services = containers.filter((c) => nameOf(c) !== "docker-api-proxy");
            });

            it("runs exactly the planned containers, plus the Docker API proxy", () => {
                assert.strictEqual(services.length, stack === "mainpc" ? 42 : 23);
                assert.strictEqual(containers.length - services.length, 1);
                assert.strictEqual(byType(all, "fleet:containers:ServiceContainer").length, services.length);
                assert.deepStrictEqual(byType(all, "fleet:host:FleetHost").map((h) => h.name), [stack]);
            });

            it("every service container: non-root, read-only root, no capabilities, no-new-privileges, the baseline seccomp profile, no Docker init", () => {
                for (const c of services) {
                    const n = nameOf(c);
                    assert.strictEqual(c.inputs.user, "10001:10001", n);
                    assert.strictEqual(c.inputs.readOnly, true, n);
                    assert.deepStrictEqual(c.inputs.capabilities, { drops: ["ALL"] }, n);
                    assert.strictEqual(c.inputs.securityOpts[0], "no-new-privileges:true", n);
                    assert.strictEqual(c.inputs.securityOpts[1], n === "self-healing-supervisor" ? SUPERVISOR : BASELINE, n);
                    assert.strictEqual(c.inputs.init, false, n);
                    assert.strictEqual(c.inputs.restart, "unless-stopped", n);
                    assert.strictEqual(c.inputs.logDriver, "json-file", n);
                    assert.deepStrictEqual(c.inputs.logOpts, { "max-file": "5", "max-size": "10m" }, n);
                    assert.match(c.inputs.image, /^sha256:[0-9a-f]{64}$/, `${n} runs an image by digest`);
                    assert.strictEqual(c.inputs.memorySwap, c.inputs.memory, n);
                    // Created stopped, started by its start command; no fixed name, so the
                    // replacement is created before the old one goes, overriding the provider.
                    assert.deepStrictEqual([c.inputs.name, c.inputs.start, c.inputs.mustRun, c.inputs.wait, c.inputs.waitTimeout], [undefined, false, false, undefined, undefined], n);
                    assert.strictEqual(c.opts.deleteBeforeReplace, false, n);
                    // Any change replaces (the provider's Update applies only limits), init errors too.
                    assert.deepStrictEqual(c.opts.replaceOnChanges, ["*"], n);
                    assert.deepStrictEqual(Object.keys(c.inputs.tmpfs).sort(), ["/home/appuser", "/run/fleet", "/tmp"], n);
                }
            });

            it("the supervisor alone has AppArmor set, the proxy network and DOCKER_HOST; only the proxy mounts the socket, read-only", () => {
                const sup = services.find((c) => nameOf(c) === "self-healing-supervisor")!;
                assert.deepStrictEqual(sup.inputs.securityOpts, ["no-new-privileges:true", SUPERVISOR, "apparmor=docker-default"]);
                // By the networks' ids (the mocks' `<resource name>-id`): a network recreated under its
                // name gets another id, and the containers on it are replaced and join it again.
                const idOf = (network: string) => `${byType(all, "docker:index/network:Network").find((n) => nameOf(n) === network)!.name}-id`;
                assert.deepStrictEqual(sup.inputs.networksAdvanced, [{ name: idOf(`fleet-${stack}-net`) }, { name: idOf(`fleet-${stack}-docker-api`) }]);
                assert.ok(sup.inputs.envs.includes("DOCKER_HOST=tcp://docker-api-proxy:2375"));
                for (const c of services.filter((x) => x !== sup)) {
                    assert.ok(!c.inputs.envs.some((e: string) => e.startsWith("DOCKER_HOST=")), nameOf(c));
                    assert.strictEqual(c.inputs.networksAdvanced.length, 1, nameOf(c));
                    assert.ok(!(c.inputs.securityOpts as string[]).some((o) => o.startsWith("apparmor=")), nameOf(c));
                }
                const withSocket = containers.filter((c) => (c.inputs.mounts ?? []).some((m: { source?: string }) => m.source === "/var/run/docker.sock"));
                assert.deepStrictEqual(withSocket.map((c) => nameOf(c)), ["docker-api-proxy"]);
                const proxy = withSocket[0];
                assert.deepStrictEqual(proxy.inputs.mounts, [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }]);
                assert.strictEqual(proxy.inputs.user, "0:0", "declared exception: the socket is root:docker");
                assert.deepStrictEqual(proxy.inputs.capabilities, { drops: ["ALL"] });
                assert.strictEqual(proxy.inputs.readOnly, true);
                assert.deepStrictEqual(proxy.inputs.ports, undefined, "the proxy publishes nothing");
                const net = byType(all, "docker:index/network:Network").find((n) => nameOf(n) === `fleet-${stack}-docker-api`)!;
                assert.strictEqual(net.inputs.internal, true);
            });

            it("GPU device requests exactly on the GPU services, utility-only for NVML", () => {
                const gpu = services.filter((c) => (c.inputs.deviceRequests ?? []).some((d: { capabilities: string[] }) => d.capabilities.includes("gpu")));
                assert.deepStrictEqual(gpu.map((c) => nameOf(c)).sort(), [...GPU_SERVICES[stack]].sort());
                for (const c of gpu) {
                    assert.deepStrictEqual(c.inputs.deviceRequests, [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }]);
                    assert.ok(c.inputs.envs.includes("REQUIRED_GPU=true"));
                }
                const nvml = services.filter((c) => (c.inputs.deviceRequests ?? []).some((d: { capabilities: string[] }) => d.capabilities.includes("utility")));
                assert.deepStrictEqual(nvml.map((c) => nameOf(c)), stack === "mainpc" ? ["cross-machine-gpu-scheduler"] : []);
            });

            it("no container publishes a port (the host front binds them itself), and the host front's ports are unique on the host", () => {
                assert.deepStrictEqual(byType(all, CONTAINER).filter((c) => c.inputs.ports !== undefined).map(nameOf), []);
                const config = byType(all, "command:local:Command").find((r) => r.name === `${stack}-front-start`)!.inputs.stdin as string;
                const binds = [...config.matchAll(/^ {4}bind (\S+)$/gm)].map((m) => m[1]);
                assert.ok(binds.length > services.length * 4);
                assert.strictEqual(new Set(binds).size, binds.length);
            });

            it("every service's volumes are retained on delete and mounted", () => {
                const volumes = byType(all, VOLUME).filter((v) => v.name !== `${stack}-sboms` && v.name !== `${stack}-front-state`);
                assert.ok(volumes.length >= services.length * 2);
                for (const v of volumes) assert.strictEqual(v.opts.retainOnDelete, true, nameOf(v));
                for (const c of services) {
                    const mounts = c.inputs.mounts as { type: string; source: string; target: string }[];
                    assert.deepStrictEqual(mounts.slice(0, 2).map((m) => [m.type, m.target]), [["volume", "/app/data"], ["volume", "/app/logs"]], nameOf(c));
                    assert.strictEqual(c.inputs.removeVolumes, false);
                }
            });

            it("one SBOM index volume for the host, mounted read-only last in every service container, which is told where its index is", () => {
                const index = byType(all, VOLUME).filter((v) => v.name === `${stack}-sboms`);
                assert.deepStrictEqual(index.map((v) => [v.inputs, v.opts.retainOnDelete, v.opts.deleteBeforeReplace]), [
                    [{ name: `fleet-${stack}-sboms`, labels: [{ label: "fleet.machine", value: stack }] }, false, true],
                ]);
                for (const c of services) {
                    const mounts = c.inputs.mounts as unknown[];
                    assert.deepStrictEqual(mounts[mounts.length - 1], { type: "volume", source: `fleet-${stack}-sboms`, target: "/run/fleet-sboms", readOnly: true }, nameOf(c));
                    assert.strictEqual((c.inputs.envs as string[]).filter((e) => e.startsWith("FLEET_SBOM")).join(), "FLEET_SBOM_INDEX=/run/fleet-sboms/index.json", nameOf(c));
                }
                // Only service containers run the entrypoint that reads it.
                for (const c of containers.filter((x) => !services.includes(x))) assert.ok(!JSON.stringify(c.inputs.mounts ?? []).includes("sboms"), nameOf(c));
            });

            it("the preflight runs before every container is created; the core is started and healthy before the rest start", () => {
                const preflight = byType(all, "command:local:Command").find((r) => r.name === `${stack}-preflight`)!;
                // Relative to the project directory: the same command from every checkout.
                assert.strictEqual(preflight.inputs.create, "bash scripts/host-preflight.sh");
                assert.deepStrictEqual({ ...preflight.inputs.environment }, {
                    DOCKER_HOST: `ssh://ops@${stack}`, FLEET_MACHINE: stack, FLEET_MIN_DOCKER: "25.0", FLEET_GPU: "true", FLEET_MIN_DRIVER: "535", FLEET_GPU_IDS: "0", FLEET_CUDA_TRACK: "cu121", FLEET_BUILDER: "default",
                    FLEET_LOG_DRIVER: "json-file", FLEET_LOG_OPTS: "max-size,max-file",
                });
                for (const c of containers) assert.ok(dependsOn(c, "fleet:host:HostPreflight", `${stack}-preflight`), `${nameOf(c)} waits for the preflight`);
                const core = ["service-registry", "system-digital-twin", "unified-system-agent"];
                const starts = byType(all, "command:local:Command").filter((r) => r.name.endsWith("-start"));
                for (const c of services) {
                    const n = nameOf(c);
                    // Creates wait for no other container and no other start: they all run at once.
                    assert.deepStrictEqual(c.opts.dependencies.filter((u) => u.includes("docker:index/container:Container")), [], n);
                    assert.deepStrictEqual(c.opts.dependencies.filter((u) => u.includes("command:local:Command")).map((u) => u.slice(u.lastIndexOf("::") + 2)).sort(), [
                        `${stack}-preflight`, ...(c.inputs.deviceRequests ? [`${stack}-gpu-probe`] : []), ...(n === "self-healing-supervisor" ? [`${stack}-docker-api-proxy-start`] : []),
                    ].sort(), n);
                    const start = starts.find((x) => x.name === `${n}-start`)!;
                    const startsAfter = start.opts.dependencies.filter((u) => u.includes("command:local:Command")).map((u) => u.slice(u.lastIndexOf("::") + 2)).sort();
                    assert.deepStrictEqual(startsAfter, stack === "mainpc" && !core.includes(n) ? core.map((x) => `${x}-start`) : [], n);
                    assert.deepStrictEqual(start.opts.dependencies.filter((u) => u.includes("docker:index/container:Container")).map((u) => u.slice(u.lastIndexOf("::") + 2)), [n], n);
                }
            });

            it("a container starts after exactly its planned lane predecessor among its tier, no other", () => {
                const plan = planHost(realFleet(), parsedStack(runbookStack(stack)));
                const starts = byType(all, "command:local:Command").filter((r) => r.name.endsWith("-start"));
                for (const c of services) {
                    const start = starts.find((x) => x.name === `${nameOf(c)}-start`)!;
                    const waitsFor = services.filter((o) => o !== c && tierOf(o) === tierOf(c) && dependsOn(start, "command:local:Command", `${nameOf(o)}-start`)).map((o) => nameOf(o));
                    const planned = plan.containers.find((p) => p.name === nameOf(c))!.startAfter;
                    assert.deepStrictEqual(waitsFor, planned ? [containerName(planned)] : [], nameOf(c));
                }
                // The default starts each tier at once (lanes under mocks: "start lanes under mocks" above).
                assert.strictEqual(plan.containers.filter((p) => p.startAfter).length, 0);
            });

            it("healthchecks use the helper with durations in the provider's canonical form, and a start interval of 1s on every family, GPU ones included", () => {
                for (const c of services) {
                    const h = c.inputs.healthcheck;
                    assert.deepStrictEqual(h.tests, ["CMD", "/usr/local/bin/fleet-health"]);
                    for (const d of [h.interval, h.timeout, h.startPeriod, h.startInterval]) assert.match(d, /^(\d+h)?(\d+m)?\d+s$/, `${nameOf(c)}: ${d}`);
                    assert.ok(!/^\d+m$|^\d+h$/.test(h.startPeriod));
                    assert.strictEqual(h.startInterval, "1s", nameOf(c));
                }
                const proxy = containers.find((c) => nameOf(c) === "docker-api-proxy")!;
                assert.deepStrictEqual(proxy.inputs.healthcheck, { tests: ["CMD", "/usr/local/bin/fleet-health"], interval: "30s", timeout: "5s", startPeriod: "10s", startInterval: "1s", retries: 3 });
                assert.strictEqual(proxy.inputs.wait, true);
                const llm = services.find((c) => nameOf(c) === "model-ops-coordinator");
                if (llm) {
                    assert.deepStrictEqual(llm.inputs.healthcheck, { tests: ["CMD", "/usr/local/bin/fleet-health"], interval: "30s", timeout: "10s", startPeriod: "5m0s", startInterval: "1s", retries: 3 });
                    assert.match(byType(all, "command:local:Command").find((x) => x.name === "model-ops-coordinator-start")!.inputs.create, / 900 5 stop-first /, "its start waits 900 s, stop-first");
                    assert.strictEqual(llm.inputs.memory, 16384);
                    assert.strictEqual(llm.inputs.shmSize, 4096);
                }
            });

            it("labels and environment carry service, family, git sha and image digest for the observability center", () => {
                for (const c of services) {
                    const labels = Object.fromEntries((c.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
                    assert.deepStrictEqual(Object.keys(labels).sort(), ["fleet.family", "fleet.git-sha", "fleet.image-digest", "fleet.machine", "fleet.service", "fleet.tier"]);
                    assert.match(labels["fleet.image-digest"], /^sha256:[0-9a-f]{64}$/);
                    const env = c.inputs.envs as string[];
                    for (const k of ["FLEET_SERVICE", "FLEET_FAMILY", "FLEET_GIT_SHA", "FLEET_IMAGE_DIGEST", "FLEET_PROFILE_JSON"]) assert.ok(env.some((e) => e.startsWith(`${k}=`)), `${nameOf(c)}: ${k}`);
                    assert.ok(!env.some((e) => e.startsWith("TORCH_CUDA_ALLOC_CONF=")));
                }
            });

            it("every container is started by its start command, under its PIDs limit from its first process (CIS Docker 5.29), in its predecessor's place, confirmed healthy; the proxy's finds it started", () => {
                const plan = planHost(realFleet(), parsedStack(runbookStack(stack)));
                // The host front's, its resolvers' and the peer fronts' starts: fronts.test.ts.
                const starts = byType(all, "command:local:Command").filter((r) => r.name.endsWith("-start") && !/-peer-start$|^\w+-front-start$|^\w+-resolver-\d-start$/.test(r.name));
                assert.deepStrictEqual(starts.map((p) => p.name).sort(), [...services.map((c) => `${nameOf(c)}-start`), `${stack}-docker-api-proxy-start`].sort());
                for (const p of starts) {
                    const proxy = p.name === `${stack}-docker-api-proxy-start`;
                    const name = p.name.replace(/-start$/, "");
                    const c = services.find((x) => nameOf(x) === name);
                    const service = c && (c.inputs.labels as { label: string; value: string }[]).find((l) => l.label === "fleet.service")!.value;
                    const wait = c && plan.containers.find((x) => x.name === name)!.health.waitTimeoutSeconds;
                    // The container by the name the provider gave it (the mocks' auto-name).
                    // Beside the old one, unless the service holds a GPU's memory.
                    const takeover = c && (c.inputs.deviceRequests ?? []).some((d: { capabilities: string[] }) => d.capabilities.includes("gpu")) ? "stop-first" : "overlap";
                    assert.strictEqual(p.inputs.create, proxy
                        ? `bash scripts/container-start.sh docker-api-proxy docker-api-proxy ${stack} 64 60 0`
                        : `bash scripts/container-start.sh ${mockAutoName(name)} ${service} ${stack} 256 ${wait} 5 ${takeover} fleet-${stack}-front fleet-${stack}-net ${listenNames(plan.containers.find((x) => x.name === name)!).join(",")} 15 10`);
                    assert.deepStrictEqual({ ...p.inputs.environment }, { DOCKER_HOST: `ssh://ops@${stack}` });
                    assert.deepStrictEqual(p.inputs.triggers, proxy ? [`${stack}-docker-api-proxy-id`, 64] : [`${name}-id`, 256], p.name);
                    // Renamed from `-pids-limit`: the alias keeps the deployed state's command.
                    const own = proxy ? [`${stack}-docker-api-proxy`] : [name];
                    assert.deepStrictEqual(p.opts.dependencies.filter((u) => u.includes("docker:index/container:Container::")).map((u) => u.slice(u.lastIndexOf("::") + 2)), own, p.name);
                }
                assert.deepStrictEqual(byType(all, "command:local:Command").filter((r) => r.name.endsWith("-pids-limit")), []);
            });

            it("the services output names each service's container as the provider named it", () => {
                const out = outputs.services as Record<string, { container: string }>;
                for (const c of services) {
                    const service = (c.inputs.labels as { label: string; value: string }[]).find((l) => l.label === "fleet.service")!.value;
                    assert.strictEqual(out[service].container, mockAutoName(nameOf(c)), service);
                }
            });

            it("every container has its family's CPU limit and shares (CIS Docker 5.12), the limit as the provider reads it back; GPU families get more, the proxy half a CPU", () => {
                const fleet = realFleet();
                for (const c of services) {
                    const family = (c.inputs.labels as { label: string; value: string }[]).find((l) => l.label === "fleet.family")!.value;
                    const rt = familyRuntime(fleet, family);
                    assert.deepStrictEqual([c.inputs.cpus, c.inputs.cpuShares], [`${rt.cpus}.0`, rt.cpuShares], nameOf(c));
                }
                const byName = (n: string) => containers.find((c) => nameOf(c) === n)!;
                assert.deepStrictEqual([byName("docker-api-proxy").inputs.cpus, byName("docker-api-proxy").inputs.cpuShares], ["0.5", 512]);
                assert.deepStrictEqual([byName("docker-api-proxy").inputs.memory, PROXY_DEFAULTS.memoryMb], [64, 64]);
                if (stack === "mainpc") {
                    assert.deepStrictEqual([byName("executor").inputs.cpus, byName("executor").inputs.cpuShares], ["1.0", 512]);
                    assert.deepStrictEqual([byName("model-ops-coordinator").inputs.cpus, byName("model-ops-coordinator").inputs.cpuShares], ["6.0", 2048]);
                    assert.deepStrictEqual([byName("stt-service").inputs.cpus, byName("stt-service").inputs.cpuShares], ["4.0", 2048]);
                } else {
                    assert.deepStrictEqual([byName("vision-processing-agent").inputs.cpus, byName("vision-processing-agent").inputs.cpuShares], ["2.0", 2048]);
                }
            });

            it("every service port is bound to the host's advertised address or the fleet network's gateway, never 0.0.0.0 (CIS Docker 5.14), and the exported endpoints name the advertised address", () => {
                const address = RUNBOOK_CONFIG[stack]["fleet:advertiseAddress"];
                const config = byType(all, "command:local:Command").find((r) => r.name === `${stack}-front-start`)!.inputs.stdin as string;
                const binds = [...config.matchAll(/^ {4}bind (\S+):(\d+)$/gm)].map((m) => m[1]);
                assert.deepStrictEqual([...new Set(binds)], ["10.230.0.1", address]);
                const plan = planHost(realFleet(), parsedStack(runbookStack(stack)));
                const endpoints = outputs.endpoints as Record<string, string>;
                for (const c of plan.containers) {
                    assert.strictEqual(endpoints[c.service], `${address}:${c.ports.service}`, c.service);
                    assert.ok(config.includes(`    bind ${address}:${c.ports.service}\n`), c.service);
                }
            });

            it(stack === "pc2" ? "pc2 reads MainPC's endpoints from the mainpc stack, never a hard-coded address" : "mainpc references no other stack", () => {
                const refs = byType(all, "pulumi:pulumi:StackReference");
                if (stack === "mainpc") {
                    assert.deepStrictEqual(refs, []);
                    return;
                }
                assert.deepStrictEqual(refs.map((r) => nameOf(r)), ["ai-system/fleet/mainpc"]);
                // Through the peer fronts' configuration (fronts.test.ts), not the services' environment.
                const forwards = byType(all, "docker:index/container:Container").flatMap((c) => ((c.inputs.envs ?? []) as string[]).filter((e) => e.startsWith("FLEET_FRONT_CONFIG=")))
                    .flatMap((e) => [...e.matchAll(/server peer (\S+)/g)].map((m) => m[1])).sort();
                assert.deepStrictEqual(forwards, ["192.0.2.16:7200", "192.0.2.16:7212", "192.0.2.16:7220"]);
            });
        });
    }

    it("the local stack: CPU services only on the local daemon, images loaded, no GPU, no AppArmor option", async () => {
        const all = (await runProgram(stackConfig("local"))).resources;
        const containers = runningContainers(all);
        assert.ok(containers.every((c) => c.inputs.deviceRequests === undefined));
        assert.ok(containers.every((c) => !(c.inputs.securityOpts as string[]).some((o) => o.startsWith("apparmor="))));
        assert.strictEqual(containers.filter((c) => nameOf(c) !== "docker-api-proxy").length, 25);
        assert.ok(byType(all, "docker-build:index:Image").every((i) => i.inputs.push === false && i.inputs.load === true));
        assert.deepStrictEqual(byType(all, "pulumi:providers:docker").map((p) => p.inputs.host), ["unix:///var/run/docker.sock"]);
        const preflight = byType(all, "command:local:Command").find((r) => r.name === "mainpc-preflight")!;
        assert.strictEqual(preflight.inputs.environment.FLEET_GPU, "false");
        const config = byType(all, "command:local:Command").find((r) => r.name === "mainpc-front-start")!.inputs.stdin as string;
        assert.deepStrictEqual([...new Set([...config.matchAll(/^ {4}bind (\S+):\d+$/gm)].map((m) => m[1]))], ["10.230.0.1", "127.0.0.1"]);
    });
});
