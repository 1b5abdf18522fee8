/**
 * fleet/render/assets/fleet-health, run as the daemon runs a HEALTHCHECK: the file executed
 * through its own shebang (`env -S python3 -I -S`), against a server on 127.0.0.1.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.join(__dirname, "..", "..", "fleet", "render", "assets", "fleet-health");

/** A server that answers each connection with `answer` (raw bytes) and keeps the request lines it got. */
async function server(answer: string): Promise<{ port: number; requests: string[]; close: () => void }> {
    const requests: string[] = [];
    const s = net.createServer((c) => {
        let got = "";
        c.on("data", (d) => {
            got += d.toString("latin1");
            if (got.includes("\r\n\r\n")) {
                requests.push(got.split("\r\n")[0]);
                c.end(answer);
            }
        });
    });
    await new Promise<void>((res) => s.listen(0, "127.0.0.1", res));
    return { port: (s.address() as net.AddressInfo).port, requests, close: () => s.close() };
}

function run(env: Record<string, string>): Promise<{ code: number; out: string }> {
    return new Promise((res) => {
        execFile(SCRIPT, [], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env } }, (e, stdout) => res({ code: e ? Number(e.code) : 0, out: stdout.trim() }));
    });
}

const http = (status: string, body: string) => `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;

describe("fleet-health, the HEALTHCHECK of every image", () => {
    const rows: [string, string, number, (port: number) => string][] = [
        ["200 with status ok", http("200 OK", '{"status": "ok"}'), 0, (p) => `GET http://127.0.0.1:${p}/health: ok`],
        ["503 while starting", http("503 Service Unavailable", '{"status":"starting"}'), 1, (p) => `GET http://127.0.0.1:${p}/health: 503 b'{"status":"starting"}'`],
        ["200 with another status", http("200 OK", '{"status":"degraded"}'), 1, (p) => `GET http://127.0.0.1:${p}/health: 200 b'{"status":"degraded"}'`],
        ["200 whose body is not JSON", http("200 OK", "fine"), 1, (p) => `GET http://127.0.0.1:${p}/health: 200, body is not JSON`],
        ["an answer that is not HTTP", "hello\r\n\r\n", 1, (p) => `GET http://127.0.0.1:${p}/health: not an HTTP answer: 'hello'`],
        ["a connection closed without an answer", "", 1, (p) => `GET http://127.0.0.1:${p}/health: not an HTTP answer: ''`],
    ];
    for (const [what, answer, code, out] of rows) {
        it(`${what}: exit ${code}`, async () => {
            const s = await server(answer);
            try {
                assert.deepStrictEqual(await run({ HEALTH_PORT: String(s.port) }), { code, out: out(s.port) });
                assert.deepStrictEqual(s.requests, ["GET /health HTTP/1.0"]);
            } finally {
                s.close();
            }
        });
    }

    it("asks for FLEET_HEALTH_PATH; ignores PYTHONPATH and site (a json module planted on PYTHONPATH is not imported)", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-health-"));
        fs.writeFileSync(path.join(dir, "json.py"), "raise SystemExit('planted json imported')\n");
        const s = await server(http("200 OK", '{"status":"ok"}'));
        try {
            assert.deepStrictEqual(await run({ HEALTH_PORT: String(s.port), FLEET_HEALTH_PATH: "/ready", PYTHONPATH: dir }), { code: 0, out: `GET http://127.0.0.1:${s.port}/ready: ok` });
            assert.deepStrictEqual(s.requests, ["GET /ready HTTP/1.0"]);
        } finally {
            s.close();
        }
    });

    it("tcp: a port that accepts connections is healthy; a closed one is not, naming the error", async () => {
        const s = await server("");
        const port = s.port;
        try {
            assert.deepStrictEqual(await run({ HEALTH_PORT: String(port), FLEET_HEALTH_KIND: "tcp" }), { code: 0, out: `tcp ${port} accepts connections` });
        } finally {
            s.close();
        }
        await new Promise((res) => setTimeout(res, 50));
        assert.deepStrictEqual(await run({ HEALTH_PORT: String(port), FLEET_HEALTH_KIND: "tcp" }), { code: 1, out: `tcp ${port}: [Errno 111] Connection refused` });
        assert.deepStrictEqual(await run({ HEALTH_PORT: String(port) }), { code: 1, out: `GET http://127.0.0.1:${port}/health: [Errno 111] Connection refused` });
    });

    it("no HEALTH_PORT: unhealthy, saying so", async () => {
        assert.deepStrictEqual(await run({}), { code: 1, out: "HEALTH_PORT is not set" });
    });
});
