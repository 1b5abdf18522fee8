/**
 * fleet/render/front.ts: a service front's HAProxy configuration, by table. HAProxy itself checks
 * every rendered configuration on the engine (each deploy's `<host>-fronts-check`).
 */
import * as assert from "assert";
import { FRONT_DEFAULTS } from "../../fleet/model/defaults";
import { planHost } from "../../fleet/model/plan";
import { backendAlias, backendsNetworkName, forwardedPorts, frontName, peerFrontName, renderFrontConfig, renderPeerFrontConfig, unreachablePeerEndpoint } from "../../fleet/render/front";
import { parsedStack, realFleet } from "../helpers";
import { runbookStack } from "../mocks";

type Service = Parameters<typeof renderFrontConfig>[0];
const health = (kind: "http" | "tcp", port: number) => ({ kind, port, path: "/health", intervalSeconds: 30, timeoutSeconds: 10, retries: 3, startPeriodSeconds: 30, startIntervalSeconds: 1, waitTimeoutSeconds: 120 });

/** The sections every front's configuration shares (fleet/render/front.ts), line by line. */
const GLOBAL_LINES = [
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
const HEALTH_LINES = [
    "# The front's own health answer, on the loopback only: healthy once HAProxy runs, with or",
    "# without a backend (a service's first container is admitted after the front started).",
    "frontend front-health",
    "    mode http",
    "    bind 127.0.0.1:2377",
    "    http-request return status 200 content-type application/json string '{\"status\":\"ok\"}' if { path /health }",
    "    http-request return status 404",
];

describe("fleet/render/front.ts", () => {
    it("names: the front, the backend alias, the backends network", () => {
        assert.deepStrictEqual([frontName("executor"), backendAlias("executor"), backendsNetworkName("pc2")], ["executor-front", "executor-backend", "fleet-pc2-backends"]);
    });

    const table: { name: string; service: Service; listens: string[] }[] = [
        {
            name: "an HTTP health check: each port checked with GET on the health path, at the health port",
            service: { service: "MemoryFusionHub", name: "memory-fusion-hub", ports: { service: 5713, health: 6713, metrics: [8080] }, health: health("http", 6713) },
            listens: [
                "listen service-5713", "    bind :5713", "    option httpchk", "    http-check send meth GET uri /health ver HTTP/1.0", "    http-check expect status 200", "    server-template b 3 memory-fusion-hub-backend:5713 check port 6713", "",
                "listen health-6713", "    bind :6713", "    option httpchk", "    http-check send meth GET uri /health ver HTTP/1.0", "    http-check expect status 200", "    server-template b 3 memory-fusion-hub-backend:6713 check port 6713", "",
                "listen metrics-8080", "    bind :8080", "    option httpchk", "    http-check send meth GET uri /health ver HTTP/1.0", "    http-check expect status 200", "    server-template b 3 memory-fusion-hub-backend:8080 check port 6713",
            ],
        },
        {
            name: "a TCP health check: a connect to the health port, no HTTP check",
            service: { service: "Relay", name: "relay", ports: { service: 7000, health: 8000, metrics: [] }, health: health("tcp", 8000) },
            listens: [
                "listen service-7000", "    bind :7000", "    server-template b 3 relay-backend:7000 check port 8000", "",
                "listen health-8000", "    bind :8000", "    server-template b 3 relay-backend:8000 check port 8000",
            ],
        },
    ];
    for (const row of table) {
        it(row.name, () => {
            const text = renderFrontConfig(row.service, "mainpc");
            const lines = text.split("\n");
            assert.deepStrictEqual(lines.slice(lines.indexOf(row.listens[0]), -1), row.listens);
            assert.ok(text.endsWith("\n"));
        });
    }

    it("the shared sections: the runtime socket, Docker's DNS re-asked every 500 ms with vanished addresses dropped, TCP with retries and redispatch, a loopback health answer", () => {
        const text = renderFrontConfig(table[1].service, "pc2");
        const head = text.slice(0, text.indexOf("listen "));
        assert.deepStrictEqual(head.split("\n"), [
            "# Relay's front on pc2 (fleet/render/front.ts): its published ports, forwarded to",
            "# the containers holding the alias relay-backend on the backends network.",
            ...GLOBAL_LINES,
            "",
            "resolvers docker",
            "    nameserver docker 127.0.0.11:53",
            "    accepted_payload_size 8192",
            "    resolve_retries 3",
            "    timeout resolve 500ms",
            "    timeout retry 500ms",
            "    hold valid 500ms",
            "    hold other 500ms",
            "    hold refused 500ms",
            "    hold nx 500ms",
            "    hold timeout 500ms",
            "    hold obsolete 0s",
            "",
            ...DEFAULTS_LINES,
            "    default-server init-addr none resolvers docker resolve-prefer ipv4 check inter 1000ms fall 2 rise 1",
            "",
            ...HEALTH_LINES,
            "",
            "",
        ]);
    });

    it("a peer front: the peer's service port, on the port it would have here, forwarded in TCP to the peer stack's endpoint; no DNS, no check on the peer", () => {
        const p = { service: "ServiceRegistry", machine: "mainpc", name: "service-registry", port: 7300 };
        assert.strictEqual(peerFrontName(p.name), "service-registry-peer");
        assert.deepStrictEqual(renderPeerFrontConfig(p, "pc2", "192.0.2.16:7200").split("\n"), [
            "# ServiceRegistry of mainpc, as pc2's containers reach it (fleet/render/front.ts): service-registry:7300,",
            "# forwarded to 192.0.2.16:7200 (the mainpc stack's endpoints output).",
            ...GLOBAL_LINES,
            "",
            ...DEFAULTS_LINES,
            "",
            ...HEALTH_LINES,
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
        const text = renderFrontConfig(table[1].service, "pc2", { ...FRONT_DEFAULTS, slots: 5, resolveMs: 250, retries: 1 });
        assert.match(text, /server-template b 5 relay-backend:7000 check port 8000/);
        assert.match(text, /hold valid 250ms/);
        assert.match(text, /\n {4}retries 1\n/);
    });

    it("every planned service of both hosts: its service, health and metrics ports forwarded, each once", () => {
        for (const stack of ["mainpc", "pc2"]) {
            for (const c of planHost(realFleet(), parsedStack(runbookStack(stack))).containers) {
                const ports = forwardedPorts(c).map((p) => p.port);
                assert.deepStrictEqual(ports, [c.ports.service, c.ports.health, ...c.ports.metrics], c.service);
                const binds = [...renderFrontConfig(c, stack).matchAll(/^ {4}bind :(\d+)$/gm)].map((m) => Number(m[1]));
                assert.deepStrictEqual(binds, ports, c.service);
            }
        }
    });
});
