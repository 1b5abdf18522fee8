/**
 * What every running container of a stack must be, checked from outside (the engine's inspect,
 * the published ports) and from inside (a request to the service, an exec as its own user).
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import { FRONT_DEFAULTS, HOST_FRONT, PROXY_DEFAULTS, RESOLVER_DEFAULTS } from "../../../fleet/model/defaults";
import { containerName } from "../../../fleet/model/names";
import { familyRuntime, planHost } from "../../../fleet/model/plan";
import { forwardedPorts, hostFrontPidsLimit, renderHostFrontConfig } from "../../../fleet/render/front";
import { FRONT_CHECK_SCRIPT } from "../../../components/fleetHost";
import { parsedStack, realFleet } from "../../helpers";
import { exec, get, port, PY_BODY, PY_GET, ServiceOutput, StackContext } from "./context";

export function runtimeChecks(ctx: StackContext): void {
    // The local stack is the newcomer's CPU-only run (Pulumi.local.yaml, fleet:gpu false); mainpc
    // and pc2 run every service, GPU ones through Docker's NVIDIA device path (./gpu.ts).
    const cpuOnly = ctx.stack === "local";
    it(cpuOnly ? "builds and starts every CPU service of the host, each healthy; GPU services are listed as not deployed" : "builds and starts every service of the host, GPU services included, each healthy, and the Docker API proxy", async () => {
        const fleet = realFleet();
        const plan = planHost(fleet, parsedStack(ctx.config(), fleet));
        const notDeployed = ctx.first.outputs.notDeployed as Record<string, string>;
        const gpuLeftOut = Object.entries(notDeployed).filter(([, why]) => why.startsWith("no-gpu")).map(([s]) => s);
        // Gated and disabled GPU services are not deployed on any stack (mainpc: StreamingSpeechRecognition, gated by RTAP).
        const otherwiseLeftOut = new Set(plan.excluded.filter((e) => e.kind !== "no-gpu").map((e) => e.service));
        const gpuServices = Object.entries(fleet.services).filter(([n, s]) => s.hosts.includes(ctx.machine) && s.compute === "gpu" && !otherwiseLeftOut.has(n)).map(([n]) => n).sort();
        assert.strictEqual(gpuServices.length, ctx.machine === "mainpc" ? 17 : 5);
        assert.deepStrictEqual(gpuLeftOut.sort(), cpuOnly ? gpuServices : []);
        // 43 containers on mainpc and 24 on pc2 with the proxy (issue 18).
        assert.strictEqual(Object.keys(ctx.services).length, { local: 25, mainpc: 42, pc2: 23 }[ctx.stack]);
        assert.deepStrictEqual(Object.keys(ctx.services).sort(), plan.containers.map((c) => c.service).sort());
        for (const [name, s] of Object.entries(ctx.services)) {
            // `gpu` is any device request: the GPU services' and the NVML scheduler's utility-only one.
            assert.strictEqual(s.gpu, plan.containers.find((c) => c.service === name)!.gpu !== null, name);
            if (gpuServices.includes(name)) assert.ok(s.gpu, `${name}: a GPU service has its device request`);
            const state = (await ctx.docker.getContainer(s.container).inspect()).State;
            assert.strictEqual(state.Health?.Status, "healthy", name);
        }
        assert.strictEqual((await ctx.docker.getContainer("docker-api-proxy").inspect()).State.Health?.Status, "healthy", "docker-api-proxy");
    });

    it("every container reported its start to the host's UnifiedObservabilityCenter with its own image, digest and git sha, and logged the same record as one JSON line", async function () {
        this.timeout(300000);
        const uoc = port(ctx.services.UnifiedObservabilityCenter.endpoint);
        const services = Object.keys(ctx.services).sort();
        // The core tier starts before the UOC and tries again for about two minutes (fleet-entrypoint).
        let reports: Record<string, unknown>[] = [];
        for (const deadline = Date.now() + 180000; ;) {
            reports = JSON.parse((await get(uoc, "/fleet/v1/start-reports")).body) as Record<string, unknown>[];
            if (services.every((n) => reports.some((r) => r.service === n)) || Date.now() > deadline) break;
            await new Promise((r) => setTimeout(r, 2000));
        }
        assert.deepStrictEqual(reports.map((r) => r.service).sort(), services, "one report from each container, no other");
        for (const [name, s] of Object.entries(ctx.services)) {
            const info = await ctx.docker.getContainer(s.container).inspect();
            const env = Object.fromEntries(info.Config.Env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
            const report = reports.find((r) => r.service === name)!;
            assert.deepStrictEqual({ ...report, startedAt: undefined }, {
                service: name, host: ctx.machine, image: env.FLEET_IMAGE, imageDigest: info.Config.Labels["fleet.image-digest"], gitSha: info.Config.Labels["fleet.git-sha"], sbomDigest: null, startedAt: undefined,
            }, name);
            assert.strictEqual(report.imageDigest, s.imageDigest, `${name}: the digest the stack exports`);
            const logged = execFileSync("docker", ["logs", s.container], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n").filter((l) => l.startsWith('{"fleetStartReport": '));
            assert.deepStrictEqual(logged.map((l) => JSON.parse(l).fleetStartReport), [report], `${name}: its log holds the record it sent`);
        }
    });

    it("start lanes on the engine's own clock: no container was started before its lane predecessor was healthy, and the first four of a tier did not wait", () => {
        const fleet = realFleet();
        const plan = planHost(fleet, parsedStack(ctx.config(), fleet));
        assert.strictEqual(plan.startLanes, 4);
        // By the first run's container names (the provider's auto-names).
        const first = ctx.first.outputs.services as Record<string, ServiceOutput>;
        const times = (service: string) => ctx.firstTimes[first[service]?.container ?? ""];
        let waited = 0;
        for (const c of plan.containers) {
            if (!times(c.service)) continue; // not deployed: the local stack's GPU services
            if (c.startAfter === undefined) continue;
            const [own, prev] = [times(c.service), times(c.startAfter)];
            assert.ok(own.started >= prev.healthy, `${c.name} was started ${prev.healthy - own.started} ms before ${c.startAfter} was healthy`);
            waited++;
        }
        const tiers = ["core", "app"].map((t) => plan.containers.filter((c) => c.tier === t && times(c.service)).length);
        assert.strictEqual(waited, tiers.reduce((a, n) => a + Math.max(0, n - 4), 0));
    });

    it("/health answers {\"status\":\"ok\"} on every published health port", async () => {
        for (const [name, s] of Object.entries(ctx.services)) {
            const r = await get(port(s.health.replace(/^http:\/\//, "")), "/health");
            assert.deepStrictEqual([r.status, JSON.parse(r.body)], [200, { status: "ok" }], name);
        }
    });

    it("every service runs as 10001, cannot write its root, holds no capabilities, cannot gain privileges, and reads its host's profile", async () => {
        for (const [name, s] of Object.entries(ctx.services)) {
            const info = JSON.parse((await get(port(s.endpoint), "/")).body);
            assert.deepStrictEqual(
                { uid: info.uid, gid: info.gid, root: info.root_writable, tmp: info.tmp_writable, capEff: info.status.CapEff, capPrm: info.status.CapPrm, nnp: info.status.NoNewPrivs, seccomp: info.status.Seccomp, profile: info.profile_machine, home: info.home },
                { uid: 10001, gid: 10001, root: false, tmp: true, capEff: "0000000000000000", capPrm: "0000000000000000", nnp: "1", seccomp: "2", profile: ctx.machine, home: "/home/appuser" },
                name,
            );
        }
    });

    it(ctx.machine === "pc2" ? "pc2's containers reach MainPC's services by their own names, through peer fronts forwarding to the mainpc stack's endpoints; no container carries a peer's address" : "mainpc uses no other host: no peer front", async () => {
        const fleet = realFleet();
        const plan = planHost(fleet, parsedStack(ctx.config(), fleet));
        const peerFronts = (await ctx.docker.listContainers({ all: true, filters: { label: [`fleet.machine=${ctx.machine}`, "fleet.role=peer-front"] } })).map((c) => c.Names[0].slice(1)).sort();
        assert.deepStrictEqual(peerFronts, plan.peers.map((p) => `${p.name}-peer`));
        assert.deepStrictEqual(plan.peers.map((p) => p.service), ctx.machine === "pc2" ? ["ModelOpsCoordinator", "ServiceRegistry", "SystemDigitalTwin"] : []);
        for (const [name, s] of Object.entries(ctx.services)) {
            const env = (await ctx.docker.getContainer(s.container).inspect()).Config.Env;
            assert.deepStrictEqual(env.filter((e) => /^MAINPC_|_ENDPOINT_FROM=/.test(e)), [], name);
        }
        if (!ctx.peerStandIns) return;
        // From the first container of each tier, by the name and port the service would have on pc2.
        const askers = ["core", "app"].map((t) => plan.containers.find((c) => c.tier === t)?.service).filter((x): x is string => x !== undefined);
        assert.ok(askers.length >= 1);
        for (const service of askers) {
            const container = ctx.services[service].container;
            for (const p of plan.peers) {
                const url = `http://${p.name}:${p.port}/from-${containerName(service)}`;
                const r = await exec(ctx.docker, container, PY_BODY(url));
                assert.deepStrictEqual([r.code, r.output], [0, JSON.stringify({ standIn: p.service, path: `/from-${containerName(service)}` })], `${service} -> ${url}`);
            }
        }
        for (const p of plan.peers) assert.ok(ctx.peerStandIns.requests[p.service].length >= 1, p.service);
    });

    it("every container has the PIDs limit, memory and shared memory limits and log rotation of its family", async () => {
        const fleet = realFleet();
        for (const [name, s] of Object.entries(ctx.services)) {
            const hc = (await ctx.docker.getContainer(s.container).inspect()).HostConfig;
            const rt = familyRuntime(fleet, fleet.services[name].family);
            assert.deepStrictEqual(
                { pids: hc.PidsLimit, memory: hc.Memory, shm: hc.ShmSize },
                { pids: rt.pidsLimit, memory: rt.memoryMb * 1024 * 1024, shm: rt.shmMb * 1024 * 1024 },
                name,
            );
            assert.deepStrictEqual(hc.LogConfig, { Type: "json-file", Config: { "max-file": "5", "max-size": "10m" } }, name);
            assert.strictEqual(hc.Init ?? false, false, name);
        }
    });

    it("only the supervisor reaches the Docker API, and only the endpoints it needs", async () => {
        const sup = ctx.services.SelfHealingSupervisor.container;
        assert.deepStrictEqual(await exec(ctx.docker, sup, PY_GET("http://docker-api-proxy:2375/v1.41/containers/json")), { code: 0, output: "200" });
        assert.deepStrictEqual(await exec(ctx.docker, sup, PY_GET("http://docker-api-proxy:2375/v1.41/containers/create", "POST")), { code: 0, output: "403" });
        assert.deepStrictEqual(await exec(ctx.docker, sup, PY_GET("http://docker-api-proxy:2375/v1.41/images/json")), { code: 0, output: "403" });
        const other = Object.entries(ctx.services).find(([n]) => n !== "SelfHealingSupervisor")![1].container;
        const fromOther = await exec(ctx.docker, other, PY_GET("http://docker-api-proxy:2375/v1.41/containers/json"));
        assert.strictEqual(fromOther.code, 3, fromOther.output);
        assert.match(fromOther.output, /^unreachable /);
        const mounts = await Promise.all(Object.values(ctx.services).map(async (s) => (await ctx.docker.getContainer(s.container).inspect()).Mounts.map((m) => m.Source)));
        assert.ok(mounts.flat().every((src) => !src.includes("docker.sock")));
    });

    it("CIS Docker runtime checks on every running container, the host front included: CPU limit and shares (5.12), ports bound to the host's address or the fleet network's gateway and only by the host front (5.14), a PIDs limit (5.29), an image HEALTHCHECK with a start interval (4.6)", async () => {
        const fleet = realFleet();
        const plan = planHost(fleet, parsedStack(ctx.config(), fleet));
        const running = await ctx.docker.listContainers({ filters: { label: [`fleet.machine=${ctx.machine}`] } });
        assert.strictEqual(running.length, Object.keys(ctx.services).length + 1 + 3 + plan.peers.length, "every service, the proxy, the host front and its two resolvers, the peer fronts");
        for (const summary of running) {
            const info = await ctx.docker.getContainer(summary.Id).inspect();
            const name = info.Name.slice(1);
            const role = info.Config.Labels["fleet.role"];
            const fixed = name === "docker-api-proxy" ? PROXY_DEFAULTS : role === "host-front" ? HOST_FRONT : role === "resolver" ? RESOLVER_DEFAULTS : role === "peer-front" ? FRONT_DEFAULTS : undefined;
            const rt = fixed ?? familyRuntime(fleet, info.Config.Labels["fleet.family"]);
            const hc = info.HostConfig;
            const cpus = fixed ? fixed.cpus : plan.containers.find((c) => c.service === info.Config.Labels["fleet.service"])!.limits.cpus;
            // The host front's limit grows with the containers it admits (fleet-front-ctl runs in it).
            const pids = role === "host-front" ? hostFrontPidsLimit(plan) : rt.pidsLimit;
            assert.deepStrictEqual({ nanoCpus: hc.NanoCpus, shares: hc.CpuShares, pids: hc.PidsLimit }, { nanoCpus: cpus * 1e9, shares: rt.cpuShares, pids }, name);
            if (role === undefined && name !== "docker-api-proxy") assert.strictEqual(cpus, Math.min(rt.cpus, 2), `${name}: the family's limit, capped at this machine's 2 CPUs (fleet:maxCpus)`);
            if (role !== "host-front") assert.notStrictEqual(hc.CpuShares, 1024, `${name}: Docker's default weight`);
            // No container publishes: the host front binds the ports itself, in the host's namespace.
            assert.deepStrictEqual(Object.values(hc.PortBindings ?? {}).flat(), [], name);
            assert.strictEqual(hc.NetworkMode === "host", role === "host-front", `${name}: network mode ${hc.NetworkMode}`);
            const image = await ctx.docker.getImage(info.Image).inspect();
            const ihc = image.Config.Healthcheck as { Test?: string[]; StartInterval?: number } | undefined;
            assert.deepStrictEqual(ihc?.Test, ["CMD", "/usr/local/bin/fleet-health"], `${name}: image HEALTHCHECK`);
            const haproxyImage = role !== undefined;
            const startInterval = (haproxyImage ? FRONT_DEFAULTS.health.startIntervalSeconds : name === "docker-api-proxy" ? PROXY_DEFAULTS.health.startIntervalSeconds : (rt as { startIntervalSeconds: number }).startIntervalSeconds) * 1e9;
            // The host front, its resolvers and the peer fronts run the proxy's image, whose HEALTHCHECK is the proxy's; their containers set their own.
            assert.strictEqual(ihc?.StartInterval, haproxyImage ? PROXY_DEFAULTS.health.startIntervalSeconds * 1e9 : startInterval, `${name}: the image's start interval`);
            assert.strictEqual((info.Config.Healthcheck as { StartInterval?: number }).StartInterval, startInterval, `${name}: the container's start interval`);
            assert.strictEqual(info.State.Health?.Status, "healthy", name);
        }
        // 5.14 for the host front: every listener on a service's port is on the host's address or the gateway, none on every interface.
        const ports = new Set(plan.containers.flatMap((c) => forwardedPorts(c).map((p) => p.port)));
        const listeners = execFileSync("ss", ["-Hltn"], { encoding: "utf8" }).split("\n").map((l) => l.split(/\s+/)[3]).filter((a) => a && ports.has(Number(a.slice(a.lastIndexOf(":") + 1))));
        assert.deepStrictEqual([...new Set(listeners.map((a) => a.slice(0, a.lastIndexOf(":"))))].sort(), [plan.network.gateway, "127.0.0.1"].sort());
        assert.strictEqual(listeners.length, ports.size * 2, "each port on both addresses, once");
    });

    it("HAProxy itself checks the host front's configuration in the image the front runs: this host's passes; one it refuses is named with HAProxy's words, and the check fails", () => {
        const fleet = realFleet();
        const plan = planHost(fleet, parsedStack(ctx.config(), fleet));
        const image = execFileSync("docker", ["inspect", "--format", "{{.Image}}", "docker-api-proxy"], { encoding: "utf8" }).trim();
        const config = renderHostFrontConfig(plan);
        const ok = spawnSync("bash", [FRONT_CHECK_SCRIPT, image], { input: JSON.stringify({ "the host front": config }), encoding: "utf8" });
        assert.deepStrictEqual([ok.status, ok.stdout], [0, "1 of 1 front configurations accepted by HAProxy\n"], ok.stderr);
        const broken = { "the host front": config, Broken: config.replace("    mode tcp\n", "    mode tcpx\n") };
        const r = spawnSync("bash", [FRONT_CHECK_SCRIPT, image], { input: JSON.stringify(broken), encoding: "utf8" });
        assert.strictEqual(r.status, 1);
        assert.match(r.stdout, /^Broken: HAProxy refuses its configuration:\n {2}\[ALERT\] +\(\d+\) : config : parsing \[haproxy\.cfg:\d+\] : unknown proxy mode 'tcpx'\.\n/);
        assert.ok(!r.stdout.includes("[NOTICE]"), r.stdout);
        assert.match(r.stdout, /\n1 of 2 front configurations accepted by HAProxy\n$/);
        assert.strictEqual(r.stderr, "Fix: a front's configuration comes from fleet/render/front.ts and the services' ports and health checks in fleet/data/services.yaml; no front was changed.\n");
    });
}
