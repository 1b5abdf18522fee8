/**
 * The benchmark's Compose file (bench/compose.ts) as compose v2 reads it: `docker compose config`
 * (no engine needed) parses and normalises it with compose's own rules, and what it reads back
 * is the registered containers' health timing, limits and bindings.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { frontConfigOf, pidsLimits, writeCompose } from "../bench/compose";
import { containerName } from "../fleet/model/names";
import { byType, mockAutoName, nameOf, runbookStack, runningContainers, runProgram, stackConfig } from "./mocks";

describe("the benchmark's compose file", () => {
    it("is valid for docker compose and carries the registered health timing, CPU limits, start order and 127.0.0.1 bindings", async function () {
        this.timeout(300000);
        const r = await runProgram(stackConfig("local"));
        // Named as the provider names them (the harness's state holds the names it drew).
        const containers = byType(r.resources, "docker:index/container:Container").map((c): Record<string, any> => ({ ...c.inputs, name: c.inputs.name ?? mockAutoName(c.name) })); // eslint-disable-line @typescript-eslint/no-explicit-any
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-compose-"));
        const commands = byType(r.resources, "command:local:Command").map((c) => c.inputs);
        const pids = pidsLimits(commands);
        assert.strictEqual(Object.keys(pids).length, runningContainers(r.resources).length + 2, "a PIDs limit for every container and the two resolvers, none for the host front (compose has none of those three)");
        const file = writeCompose(containers, byType(r.resources, "docker:index/network:Network").map((n) => ({ ...n.inputs, id: `${n.name}-id` })), dir, frontConfigOf(commands), pids);
        const cfg = JSON.parse(execFileSync("/usr/bin/docker", ["compose", "-p", "fleet-compose-test", "-f", file, "config", "--format", "json"], { encoding: "utf8" }));
        const executor = cfg.services.executor;
        // Each under its alias (the service's container name, the proxy's own); the container keeps the provider's name.
        assert.deepStrictEqual(Object.keys(cfg.services).sort(), runningContainers(r.resources).map(nameOf).sort());
        assert.strictEqual(executor.container_name, mockAutoName("executor"));
        assert.deepStrictEqual(executor.healthcheck, { test: ["CMD", "/usr/local/bin/fleet-health"], timeout: "10s", interval: "30s", retries: 3, start_period: "30s", start_interval: "1s" });
        assert.deepStrictEqual([executor.cpus, executor.cpu_shares, executor.pids_limit], [1, 512, 256]);
        assert.deepStrictEqual(executor.networks, { "fleet-mainpc-net": { aliases: ["executor"] } }, "the network named, not its id; the service's name, which the resolvers answer in the program");
        assert.deepStrictEqual(executor.ports, [{ mode: "ingress", target: 5606, published: "5606", host_ip: "127.0.0.1", protocol: "tcp" }, { mode: "ingress", target: 6606, published: "6606", host_ip: "127.0.0.1", protocol: "tcp" }], "the host front's ports on the publish address");
        assert.strictEqual(executor.dns, undefined, "Docker's DNS answers the aliases");
        assert.ok(!Object.keys(cfg.services).some((n) => /-front$|-resolver-\d$/.test(n)), "no host front, no resolver");
        assert.strictEqual(cfg.services["docker-api-proxy"].pids_limit, 64);
        assert.deepStrictEqual(executor.depends_on, { "service-registry": { condition: "service_healthy", required: true }, "system-digital-twin": { condition: "service_healthy", required: true }, "unified-system-agent": { condition: "service_healthy", required: true } });
        const ips = Object.values(cfg.services).flatMap((s) => ((s as { ports?: { host_ip: string }[] }).ports ?? []).map((p) => p.host_ip));
        assert.ok(ips.length > 0);
        assert.deepStrictEqual([...new Set(ips)], ["127.0.0.1"]);
        assert.deepStrictEqual(cfg.services["self-healing-supervisor"].depends_on["docker-api-proxy"], { condition: "service_healthy", required: true });
        // The program's networks and volumes: compose starts containers into them, as the program does.
        // docker compose config prints an external network with an empty ipam.
        assert.deepStrictEqual(cfg.networks["fleet-mainpc-docker-api"], { name: "fleet-mainpc-docker-api", external: true, ipam: {} });
        assert.ok(Object.values(cfg.volumes).length > 0 && Object.values(cfg.volumes).every((v) => (v as { external?: boolean }).external === true));
        assert.strictEqual(executor.deploy, undefined, "no device request for a CPU service");
    });

    it("gives each GPU container its device request as compose passes it to the engine", async function () {
        this.timeout(300000);
        const r = await runProgram(runbookStack("mainpc"));
        const containers = byType(r.resources, "docker:index/container:Container").map((c): Record<string, any> => ({ ...c.inputs, name: c.inputs.name ?? mockAutoName(c.name) })); // eslint-disable-line @typescript-eslint/no-explicit-any
        const file = writeCompose(containers, byType(r.resources, "docker:index/network:Network").map((n) => ({ ...n.inputs, id: `${n.name}-id` })), fs.mkdtempSync(path.join(os.tmpdir(), "fleet-compose-")), frontConfigOf(byType(r.resources, "command:local:Command").map((c) => c.inputs)));
        const cfg = JSON.parse(execFileSync("/usr/bin/docker", ["compose", "-p", "fleet-compose-test", "-f", file, "config", "--format", "json"], { encoding: "utf8" }));
        assert.deepStrictEqual(cfg.services["model-ops-coordinator"].deploy.resources.reservations.devices, [{ capabilities: ["gpu"], driver: "nvidia", device_ids: ["0"] }]);
        const withDevices = Object.entries(cfg.services).filter(([, s]) => (s as { deploy?: unknown }).deploy !== undefined).map(([n]) => n).sort();
        assert.deepStrictEqual(withDevices, containers.filter((c) => (c.deviceRequests ?? []).length > 0).map((c) => containerName(c.labels.find((l: { label: string }) => l.label === "fleet.service").value)).sort());
    });
});
