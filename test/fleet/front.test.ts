/**
 * fleet/render/front.ts: the host front's and a peer front's HAProxy configurations, by table.
 * HAProxy itself checks every rendered configuration on the engine (the host front's command, each
 * deploy's `<host>-fronts-check`).
 */
import * as assert from "assert";
import { FRONT_DEFAULTS, HOST_FRONT } from "../../fleet/model/defaults";
import { fleetNetwork } from "../../fleet/model/network";
import { ContainerPlan, planHost } from "../../fleet/model/plan";
import { backendName, fleetNetworkName, forwardedPorts, hostFrontHealthPort, hostFrontName, hostFrontPidsLimit, listenNames, peerFrontName, renderHostFrontConfig, renderPeerFrontConfig, unreachablePeerEndpoint } from "../../fleet/render/front";
import { parsedStack, realFleet } from "../helpers";
import { runbookStack } from "../mocks";

type Service = Pick<ContainerPlan, "service" | "name" | "ports" | "health">;
/** A host of the given services on 10.230.0.0/24, published on 192.0.2.16. */
const host = (containers: Service[], publishAddress = "192.0.2.16") => ({ machine: "mainpc", containers: containers as ContainerPlan[], network: fleetNetwork("10.230.0.0/24"), publishAddress, portOffset: 0 });
const health = (kind: "http" | "tcp", port: number) => ({ kind, port, path: "/health", intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30, startIntervalSeconds: 1, waitTimeoutSeconds: 120 });

/** The sections every front's configuration shares (fleet/render/front.ts), line by line. */
const PEER_GLOBAL_LINES = [
    "global",
    "    nbthread 1",
    "    maxconn 4096",
    "    stats socket /run/fleet-front/admin.sock mode 600 level admin",
];
const DEFAULTS_LINES = [
    "defaults",
    "    mode tcp",
    "    timeout connect 2000ms",
    "    timeout check 2000ms",
    "    timeout client 1h",
    "    timeout server 1h",
    "    retries 3",
    "    option redispatch",
];
const health_lines = (bind: string) => [
    "# The front's own health answer: healthy once HAProxy runs, with or without a backend.",
    "frontend front-health",
    "    mode http",
    `    bind ${bind}`,
    "    http-request return status 200 content-type application/json string '{\"status\":\"ok\"}' if { path /health }",
    "    http-request return status 404",
];
const slots = (port: number, check: number) => [1, 2, 3].map((n) => `    server b${n} fleet-free.invalid:${port} check port ${check} disabled`);

describe("fleet/render/front.ts", () => {
    it("names: the fleet network, the host front, a container as admitted, a service's listen sections", () => {
        assert.deepStrictEqual(
            [fleetNetworkName("pc2"), hostFrontName("pc2"), backendName("executor-1a2b3c4", "fleet-pc2-net"), listenNames({ name: "relay", ports: { service: 7000, health: 8000, metrics: [9100] } })],
            ["fleet-pc2-net", "fleet-pc2-front", "executor-1a2b3c4.fleet-pc2-net", ["relay.service-7000", "relay.health-8000", "relay.metrics-9100"]]);
    });

    const table: { name: string; service: Service; listens: string[] }[] = [
        {
            name: "an HTTP health check: each port on both addresses, checked with GET on the health path at the health port, three free slots",
            service: { service: "MemoryFusionHub", name: "memory-fusion-hub", ports: { service: 5713, health: 6713, metrics: [8080] }, health: health("http", 6713) },
            listens: [
                "listen memory-fusion-hub.service-5713", "    bind 192.0.2.16:5713", "    bind 10.230.0.1:5713", "    option httpchk", "    http-check send meth GET uri /health ver HTTP/1.0", "    http-check expect status 200", ...slots(5713, 6713), "",
                "listen memory-fusion-hub.health-6713", "    bind 192.0.2.16:6713", "    bind 10.230.0.1:6713", "    option httpchk", "    http-check send meth GET uri /health ver HTTP/1.0", "    http-check expect status 200", ...slots(6713, 6713), "",
                "listen memory-fusion-hub.metrics-8080", "    bind 192.0.2.16:8080", "    bind 10.230.0.1:8080", "    option httpchk", "    http-check send meth GET uri /health ver HTTP/1.0", "    http-check expect status 200", ...slots(8080, 6713),
            ],
        },
        {
            name: "a TCP health check: a connect to the health port, no HTTP check",
            service: { service: "Relay", name: "relay", ports: { service: 7000, health: 8000, metrics: [] }, health: health("tcp", 8000) },
            listens: [
                "listen relay.service-7000", "    bind 192.0.2.16:7000", "    bind 10.230.0.1:7000", ...slots(7000, 8000), "",
                "listen relay.health-8000", "    bind 192.0.2.16:8000", "    bind 10.230.0.1:8000", ...slots(8000, 8000),
            ],
        },
    ];
    for (const row of table) {
        it(row.name, () => {
            const text = renderHostFrontConfig(host([row.service]));
            const lines = text.split("\n");
            assert.deepStrictEqual(lines.slice(lines.indexOf(row.listens[0]), -1), row.listens);
            assert.ok(text.endsWith("\n"));
        });
    }

    it("the shared sections: master-worker with listeners handed over, the server-state file, the two resolvers with long holds on their failures, TCP with retries and redispatch, a health answer on the gateway", () => {
        const text = renderHostFrontConfig(host([table[1].service]));
        const head = text.slice(0, text.indexOf("listen "));
        assert.deepStrictEqual(head.split("\n"), [
            "# mainpc's host front (fleet/render/front.ts): every service's ports on 192.0.2.16 and 10.230.0.1,",
            "# forwarded to the containers its start commands admitted.",
            "global",
            "    master-worker",
            "    nbthread 1",
            "    maxconn 8192",
            "    stats socket /run/fleet-front/admin.sock mode 600 level admin expose-fd listeners",
            "    server-state-file /run/fleet-front/servers.state",
            "",
            "resolvers fleet",
            "    nameserver resolver-1 10.230.0.2:53",
            "    nameserver resolver-2 10.230.0.3:53",
            "    accepted_payload_size 8192",
            "    resolve_retries 3",
            "    timeout resolve 1000ms",
            "    timeout retry 1000ms",
            "    hold valid 1000ms",
            "    hold nx 1000ms",
            "    hold obsolete 0s",
            "    hold timeout 1h",
            "    hold refused 1h",
            "    hold other 1h",
            "",
            ...DEFAULTS_LINES,
            "    load-server-state-from-file global",
            "    default-server init-addr last,none resolvers fleet resolve-prefer ipv4 check inter 3000ms fastinter 500ms downinter 500ms fall 2 rise 1",
            "",
            ...health_lines("10.230.0.1:8404"),
            "",
            "",
        ]);
    });

    it("a host published on its gateway binds each port once; the health port moves with the stack's portOffset", () => {
        const text = renderHostFrontConfig(host([table[1].service], "10.230.0.1"));
        assert.deepStrictEqual([...text.matchAll(/^ {4}bind (\S+)$/gm)].map((m) => m[1]), ["10.230.0.1:8404", "10.230.0.1:7000", "10.230.0.1:8000"]);
        assert.strictEqual(hostFrontHealthPort({ portOffset: 100 }), 8504);
    });

    it("the host front's PIDs limit: HAProxy's 64, and 2 per container it admits (fleet-front-ctl's stage and retire run in its cgroup)", () => {
        const containers = (n: number) => ({ containers: Array.from({ length: n }, () => ({}) as ContainerPlan) });
        assert.deepStrictEqual([0, 1, 23, 42].map((n) => hostFrontPidsLimit(containers(n))), [64, 66, 110, 148]);
    });

    it("a peer front: the peer's service port, on the port it would have here, forwarded in TCP to the peer stack's endpoint; no DNS, no check on the peer", () => {
        const p = { service: "ServiceRegistry", machine: "mainpc", name: "service-registry", port: 7300 };
        assert.strictEqual(peerFrontName(p.name), "service-registry-peer");
        assert.deepStrictEqual(renderPeerFrontConfig(p, "pc2", "192.0.2.16:7200").split("\n"), [
            "# ServiceRegistry of mainpc, as pc2's containers reach it (fleet/render/front.ts): service-registry:7300,",
            "# forwarded to 192.0.2.16:7200 (the mainpc stack's endpoints output).",
            ...PEER_GLOBAL_LINES,
            "",
            ...DEFAULTS_LINES,
            "",
            ...health_lines("127.0.0.1:2377"),
            "",
            "listen service-7300",
            "    bind :7300",
            "    server peer 192.0.2.16:7200",
            "",
        ]);
    });

    const endpoints: [string, string | undefined][] = [
        ["192.0.2.16:7200", undefined],
        ["[2001:db8::1]:7200", undefined],
        ["127.0.0.1:7200", "a loopback address, which inside a container is the container itself"],
        ["127.0.1.1:7200", "a loopback address, which inside a container is the container itself"],
        ["[::1]:7200", "a loopback address, which inside a container is the container itself"],
        ["localhost:7200", "a loopback address, which inside a container is the container itself"],
        ["192.0.2.16", "not <address>:<port>"],
        ["", "not <address>:<port>"],
    ];
    for (const [endpoint, why] of endpoints) {
        it(`a peer endpoint ${JSON.stringify(endpoint)}: ${why ?? "forwarded to"}`, () => assert.strictEqual(unreachablePeerEndpoint(endpoint), why));
    }

    it("the defaults move the configuration: slots, timings", () => {
        const text = renderHostFrontConfig(host([table[1].service]), { ...FRONT_DEFAULTS, retries: 1 }, { ...HOST_FRONT, slots: 5, resolveMs: 250, resolverOutageHold: "10m" });
        assert.match(text, /server b5 fleet-free.invalid:7000 check port 8000 disabled\n/);
        assert.doesNotMatch(text, /server b6 /);
        assert.match(text, /hold valid 250ms/);
        assert.match(text, /hold timeout 10m/);
        assert.match(text, /\n {4}retries 1\n/);
    });

    it("every planned service of both hosts: its service, health and metrics ports forwarded, each once, on both addresses", () => {
        for (const stack of ["mainpc", "pc2"]) {
            const plan = planHost(realFleet(), parsedStack(runbookStack(stack)));
            const text = renderHostFrontConfig(plan);
            const sections = text.split(/\n(?=listen )/).slice(1);
            assert.deepStrictEqual(sections.map((b) => b.split("\n", 1)[0].slice(7)), plan.containers.flatMap((c) => listenNames(c)), stack);
            for (const c of plan.containers) {
                const ports = forwardedPorts(c).map((p) => p.port);
                assert.deepStrictEqual(ports, [c.ports.service, c.ports.health, ...c.ports.metrics], c.service);
                const binds = sections.filter((b) => b.startsWith(`listen ${c.name}.`)).flatMap((b) => [...b.matchAll(/^ {4}bind (\S+)$/gm)].map((m) => m[1]));
                assert.deepStrictEqual(binds, ports.flatMap((p) => [`${plan.publishAddress}:${p}`, `${plan.network.gateway}:${p}`]), c.service);
            }
        }
    });
});
