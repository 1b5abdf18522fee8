/**
 * The start report of fleet/render/assets/fleet-entrypoint (002 section H), run with this
 * machine's python3 against a UnifiedObservabilityCenter stand-in on loopback that answers 204,
 * answers 500, never answers, or is not there: the record goes to the log as one JSON line and to
 * the UOC by a forked child, and the service starts at once whatever the UOC does.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { PROJECT_DIR } from "../mocks";

const ENTRYPOINT = path.join(PROJECT_DIR, "fleet", "render", "assets", "fleet-entrypoint");
const DIGEST = `sha256:${"d4".repeat(32)}`;
const ENV = {
    PATH: "/usr/bin:/bin", FLEET_SERVICE: "NLUAgent", MACHINE: "mainpc", FLEET_GIT_SHA: "a75b1e0f00000000000000000000000000000001",
    FLEET_IMAGE: `127.0.0.1:5000/ai-system/nlu-agent:20261201-a75b1e0-0f34103@${DIGEST}`, FLEET_IMAGE_DIGEST: DIGEST,
};

interface Run { code: number | null; stdout: string[]; stderr: string[]; startedAfterMs: number; tookMs: number }

/** The logged record: the child prints it while the service starts, so its line may come second. */
function logged(r: Run): Record<string, unknown> {
    const lines = r.stdout.filter((l) => l.startsWith('{"fleetStartReport"'));
    assert.strictEqual(lines.length, 1, r.stdout.join("\n"));
    return JSON.parse(lines[0]).fleetStartReport;
}

/** What the service printed. */
function serviceOut(r: Run): string[] {
    return r.stdout.filter((l) => !l.startsWith('{"fleetStartReport"'));
}

/** The entrypoint with a service that records when it started; resolves once every process closed its output. */
function entrypoint(env: Record<string, string>): Promise<Run> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-entry-"));
    const service = path.join(dir, "service.py");
    const mark = path.join(dir, "started");
    fs.writeFileSync(service, `import time\nopen(${JSON.stringify(mark)}, "w").write(repr(time.time()))\nprint("service started")\n`);
    const t0 = Date.now();
    return new Promise((resolve) => {
        const p = spawn("python3", [ENTRYPOINT], { env: { ...ENV, FLEET_ENTRYPOINT: service, ...env } });
        let out = "";
        let err = "";
        p.stdout.on("data", (d) => (out += d));
        p.stderr.on("data", (d) => (err += d));
        p.on("close", (code) => resolve({
            code, stdout: out.trim().split("\n"), stderr: err.trim() ? err.trim().split("\n") : [],
            startedAfterMs: Number(fs.readFileSync(mark, "utf8")) * 1000 - t0, tookMs: Date.now() - t0,
        }));
    });
}

/** A UOC stand-in on a free loopback port; `answer` decides each POST's status, or null never to answer. */
async function uoc(answer: () => number | null): Promise<{ port: number; received: unknown[]; close: () => void }> {
    const received: unknown[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
            received.push({ method: req.method, path: req.url, type: req.headers["content-type"], record: JSON.parse(body) });
            const status = answer();
            if (status !== null) res.writeHead(status).end();
        });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return { port: (server.address() as net.AddressInfo).port, received, close: () => { server.closeAllConnections(); server.close(); } };
}

const RECORD = { gitSha: ENV.FLEET_GIT_SHA, host: "mainpc", image: ENV.FLEET_IMAGE, imageDigest: DIGEST, sbomDigest: null, service: "NLUAgent" };

describe("fleet-entrypoint's start report (needs python3)", () => {
    it("logs the record as one JSON line and POSTs the same record to the host's UOC; the service starts", async () => {
        const u = await uoc(() => 204);
        try {
            const r = await entrypoint({ FLEET_UOC_ENDPOINT: `127.0.0.1:${u.port}` });
            assert.deepStrictEqual([r.code, r.stderr, serviceOut(r)], [0, [], ["service started"]]);
            const record = logged(r);
            assert.match(String(record.startedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
            assert.deepStrictEqual({ ...record, startedAt: undefined }, { ...RECORD, startedAt: undefined });
            assert.deepStrictEqual(u.received, [{ method: "POST", path: "/fleet/v1/start-reports", type: "application/json", record }]);
        } finally {
            u.close();
        }
    });

    it("a UOC answering 500: tried again, then logged as not delivered; the service started at once", async () => {
        const u = await uoc(() => 500);
        try {
            const r = await entrypoint({ FLEET_UOC_ENDPOINT: `127.0.0.1:${u.port}`, FLEET_UOC_REPORT_DELAYS: "0,0.2" });
            assert.deepStrictEqual([r.code, serviceOut(r), u.received.length], [0, ["service started"], 2]);
            assert.deepStrictEqual(r.stderr, [`fleet-entrypoint: start report not delivered to http://127.0.0.1:${u.port}/fleet/v1/start-reports after 2 tries (HTTP 500); the service runs anyway`]);
        } finally {
            u.close();
        }
    });

    it("a UOC that never answers: each try times out after 2 s, and the service did not wait for them", async function () {
        this.timeout(30000);
        const u = await uoc(() => null);
        try {
            const r = await entrypoint({ FLEET_UOC_ENDPOINT: `127.0.0.1:${u.port}`, FLEET_UOC_REPORT_DELAYS: "0" });
            assert.deepStrictEqual(r.stderr, [`fleet-entrypoint: start report not delivered to http://127.0.0.1:${u.port}/fleet/v1/start-reports after 1 tries (timed out); the service runs anyway`]);
            assert.ok(r.tookMs >= 2000, `the report gave up after its timeout (${r.tookMs} ms)`);
            assert.ok(r.startedAfterMs < 1500, `the service started ${r.startedAfterMs} ms after the entrypoint, not after the report's ${r.tookMs} ms`);
        } finally {
            u.close();
        }
    });

    it("a UOC that is down: connection refused, logged; the service started", async () => {
        const u = await uoc(() => 204);
        const port = u.port;
        u.close();
        const r = await entrypoint({ FLEET_UOC_ENDPOINT: `127.0.0.1:${port}`, FLEET_UOC_REPORT_DELAYS: "0" });
        assert.deepStrictEqual([r.code, serviceOut(r)], [0, ["service started"]]);
        assert.deepStrictEqual(r.stderr, [`fleet-entrypoint: start report not delivered to http://127.0.0.1:${port}/fleet/v1/start-reports after 1 tries ([Errno 111] Connection refused); the service runs anyway`]);
    });

    it("no UOC for the host: the record is only logged", async () => {
        const r = await entrypoint({});
        assert.deepStrictEqual([r.code, serviceOut(r), r.stderr], [0, ["service started"], ["fleet-entrypoint: no UnifiedObservabilityCenter for this host: the start report is only logged"]]);
        assert.strictEqual(logged(r).service, "NLUAgent");
    });
});

describe("fleet-entrypoint's SBOM digest, from the host's SBOM index (needs python3)", () => {
    const SBOM = `sha256:${"5b".repeat(32)}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-sbom-index-"));
    const index = (images: Record<string, unknown>, format: unknown = 1) => JSON.stringify({ fleetSbomIndex: format, images });
    const at = (name: string, text?: string): string => {
        const file = path.join(dir, name);
        if (text !== undefined) fs.writeFileSync(file, text);
        return file;
    };
    const NOT_NOW = "fleet-entrypoint: no SBOM digest in the start report: ";

    it("the image's entry: its SBOM digest is in the logged and the sent record", async () => {
        const u = await uoc(() => 204);
        try {
            const file = at("index.json", index({ [DIGEST]: { image: "127.0.0.1:5000/ai-system/nlu-agent", sbomDigest: SBOM, publishedAt: "2026-12-07T10:00:00Z" } }));
            const r = await entrypoint({ FLEET_SBOM_INDEX: file, FLEET_UOC_ENDPOINT: `127.0.0.1:${u.port}` });
            assert.deepStrictEqual([r.code, r.stderr, serviceOut(r)], [0, [], ["service started"]]);
            assert.strictEqual(logged(r).sbomDigest, SBOM);
            assert.deepStrictEqual(u.received.map((x) => (x as { record: { sbomDigest: string } }).record.sbomDigest), [SBOM]);
        } finally {
            u.close();
        }
    });

    const nulls: [string, () => string, string][] = [
        ["no index on the host", () => at("absent.json"), `${path.join(dir, "absent.json")} does not exist: no SBOM was published to this host`],
        ["an index without the image", () => at("other.json", index({ [`sha256:${"0".repeat(64)}`]: { image: "x", sbomDigest: SBOM, publishedAt: "2026-12-07T10:00:00Z" } })),
            `${path.join(dir, "other.json")} has no entry for ${DIGEST} (publish the image's SBOM with scripts/fleet publish-sboms before pulumi up)`],
        ["an index of another format", () => at("v2.json", index({}, 2)), `${path.join(dir, "v2.json")} is not a fleet SBOM index of format 1`],
    ];
    for (const [name, file, why] of nulls) {
        it(`${name}: null, and the log says why; the service started at once`, async () => {
            const r = await entrypoint({ FLEET_SBOM_INDEX: file() });
            assert.deepStrictEqual([r.code, serviceOut(r), logged(r).sbomDigest], [0, ["service started"], null]);
            assert.deepStrictEqual(r.stderr, [`${NOT_NOW}${why}`, "fleet-entrypoint: no UnifiedObservabilityCenter for this host: the start report is only logged"]);
            assert.ok(r.startedAfterMs < 1000, `the service started ${r.startedAfterMs} ms after the entrypoint, not after the index's reads`);
        });
    }

    it("an index written while the container starts (a publish replaces the file): read again, found", async () => {
        const file = at("late.json");
        setTimeout(() => fs.writeFileSync(file, index({ [DIGEST]: { image: "x", sbomDigest: SBOM, publishedAt: "2026-12-07T10:00:00Z" } })), 150);
        const r = await entrypoint({ FLEET_SBOM_INDEX: file });
        assert.deepStrictEqual([r.code, logged(r).sbomDigest], [0, SBOM]);
    });
});
