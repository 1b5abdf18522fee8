/**
 * What the engine suite's stacks share: which stacks run and how, the stack context each test
 * module receives, and the helpers that look at the engine, the registry and the services.
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import Docker from "dockerode";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { containerName } from "../../../fleet/model/names";
import { planHost } from "../../../fleet/model/plan";
import { fleetNetworkName } from "../../../fleet/render/front";
import { parsedStack, realFleet } from "../../helpers";
import { appRepoOverride, PROJECT_DIR, RunResult, stackConfig } from "../../mocks";
import { EngineHarness } from "../harness";
import { aliasProbe, hostProbe, Probe } from "../probe";

export const CHANGED: Record<string, { service: string; file: string }> = {
    mainpc: { service: "Executor", file: "main_pc_code/agents/executor.py" },
    pc2: { service: "CacheManager", file: "pc2_code/agents/cache_manager.py" },
};

export const REGISTRY = "127.0.0.1:5000";

/**
 * The stacks the suite runs, each through the CLI's rules with the committed overrides of what
 * this machine cannot do and the temporary copy of the fixture application:
 * - `local`: MainPC's CPU services as the README's main job (images loaded into the daemon);
 * - `mainpc`: push-shaped, the real Pulumi.mainpc.yaml against the registry scripts/engine-up.sh
 *   starts (push, registry cache, children FROM tag@digest, containers pulled by digest);
 * - `pc2`: its own stack, loaded, reading mainpc's endpoints.
 */
export const STACKS: Record<string, { machine: string; overrides: string }> = {
    local: { machine: "mainpc", overrides: "test/engine/local-overrides.yaml" },
    mainpc: { machine: "mainpc", overrides: "test/engine/push-overrides.yaml" },
    pc2: { machine: "pc2", overrides: "test/engine/pc2-overrides.yaml" },
};
export const engineStack = (stack: string, app: string, ...more: string[]) => stackConfig(stack, STACKS[stack].overrides, appRepoOverride(app), ...more);
/** The mainpc stack pc2's StackReference names, as Pulumi.pc2.yaml says. */
export const PEER_STACK = stackConfig("pc2", "fixture-app").config["fleet:peerStack"];

/** The digest the registry serves for `<repo>:<tag>` (or `<repo>@<digest>`), or undefined when it has none. */
export function registryDigest(ref: string, registry = REGISTRY): Promise<string | undefined> {
    const rest = ref.slice(registry.length + 1);
    const at = rest.includes("@") ? rest.indexOf("@") : rest.lastIndexOf(":");
    const [repo, reference] = [rest.slice(0, at), rest.slice(at + 1)];
    const accept = ["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.docker.distribution.manifest.v2+json"].join(", ");
    return new Promise((resolve, reject) => {
        const [host, p] = registry.split(":");
        http.request({ host, port: Number(p), method: "HEAD", path: `/v2/${repo}/manifests/${reference}`, headers: { Accept: accept } }, (res) => {
            res.resume();
            resolve(res.statusCode === 200 ? String(res.headers["docker-content-digest"]) : undefined);
        }).on("error", reject).end();
    });
}

/** A second registry, with htpasswd authentication, for the wrong-credentials test; stopped by the returned function. */
export async function authRegistry(addr: string, user: string, password: string): Promise<() => void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-auth-registry-"));
    fs.writeFileSync(path.join(dir, "htpasswd"), execFileSync("htpasswd", ["-Bbn", user, password], { encoding: "utf8" }));
    fs.writeFileSync(path.join(dir, "config.yml"), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: ${addr}\nauth:\n  htpasswd:\n    realm: fleet-test\n    path: ${dir}/htpasswd\n`);
    const p = spawn("docker-registry", ["serve", path.join(dir, "config.yml")], { stdio: "ignore" });
    for (let i = 0; i < 30; i++) {
        const up = await new Promise<boolean>((res) => http.get(`http://${addr}/v2/`, (r) => { r.resume(); res(r.statusCode === 401); }).on("error", () => res(false)));
        if (up) break;
        await new Promise((res) => setTimeout(res, 500));
    }
    return () => { p.kill(); fs.rmSync(dir, { recursive: true, force: true }); };
}

export function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        const req = http.get({ host: "127.0.0.1", port, path: urlPath, timeout: 5000 }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        }).on("error", reject);
        // The option only reports an idle socket; the request ends here.
        req.on("timeout", () => req.destroy(new Error(`no answer from 127.0.0.1:${port}${urlPath} in 5 s`)));
    });
}

/** Runs a command in a container as its own user; returns exit code and output. */
export async function exec(docker: Docker, container: string, cmd: string[]): Promise<{ code: number; output: string }> {
    const e = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await e.start({ hijack: true, stdin: false });
    let output = "";
    const sink = { write: (c: Buffer) => { output += c.toString(); return true; } } as unknown as NodeJS.WritableStream;
    docker.modem.demuxStream(stream, sink, sink);
    await new Promise((res) => stream.on("end", res));
    return { code: (await e.inspect()).ExitCode ?? -1, output: output.trim() };
}

/** One message of the Engine API's event stream. */
export interface EngineEvent { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; timeNano?: number }

/** Engine events between two instants (seconds since the epoch), as the Engine API's GET /events gives them. */
export async function engineEvents(docker: Docker, since: number, until: number): Promise<EngineEvent[]> {
    const stream = await docker.getEvents({ since, until }) as unknown as NodeJS.ReadableStream;
    let text = "";
    for await (const chunk of stream) text += chunk.toString();
    return eventLines(text);
}

/** The Engine API's event stream, one JSON message a line. */
export function eventLines(text: string): EngineEvent[] {
    return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as EngineEvent);
}

export const ATTACKS = fs.readFileSync(path.join(__dirname, "..", "proxy-attacks.py"), "utf8");

/** The command that prints the body `url` answers, from inside a service's container (exit status 1 when it cannot). */
export const PY_BODY = (url: string) => ["/opt/venv/bin/python", "-c", `import urllib.request; print(urllib.request.urlopen(${JSON.stringify(url)}, timeout=5).read().decode())`];

export const PY_GET = (url: string, method = "GET") => [
    "/opt/venv/bin/python", "-c",
    `import urllib.request,sys\ntry:\n r=urllib.request.urlopen(urllib.request.Request(${JSON.stringify(url)}, method=${JSON.stringify(method)}), timeout=5); print(r.status)\nexcept urllib.error.HTTPError as e: print(e.code)\nexcept Exception as e: print('unreachable', type(e).__name__); sys.exit(3)`,
];

/**
 * Run inside a service container: every distribution importlib.metadata finds on sys.path (by
 * PEP 503 name, with where it lives), and for each [distribution, version, module] asked for, the
 * installed metadata version and the imported module's __version__.
 */
export const ENVIRONMENT_PROBE = `
import importlib, importlib.metadata as md, json, os, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
seen = {}
for d in md.distributions():
    seen.setdefault(norm(d.metadata["Name"]), []).append(str(d.locate_file("")))
got = {}
for name, version, module in json.loads(sys.argv[1]):
    got[name] = [md.version(name), importlib.import_module(module).__version__]
ns = []
if os.environ.get("PROBE_NAMESPACE"):
    import fleetstandin.uvicorn_part, fleetstandin.gunicorn_part
    ns = [fleetstandin.uvicorn_part.DISTRIBUTION, fleetstandin.gunicorn_part.DISTRIBUTION]
print(json.dumps({"uid": os.getuid(), "twice": {n: p for n, p in seen.items() if len(p) > 1}, "got": got, "pth": os.environ.get("FLEET_STANDIN_PTH"), "namespace": ns}))
`;


/** A service as the program's `services` output names it. */
export interface ServiceOutput { container: string; endpoint: string; health: string; gpu: boolean; image: string; imageDigest: string }

/**
 * One stack's run of the suite, filled by its `before`: the temporary copy of the fixture
 * application, the first run, and what it exported.
 */
export interface StackContext {
    stack: string;
    machine: string;
    harness: EngineHarness;
    docker: Docker;
    app: string;
    first: RunResult;
    /** Per service, as the stack's latest successful run exported it (the container's current name). */
    readonly services: Record<string, ServiceOutput>;
    firstUrns: Map<string, string>;
    firstTimes: EngineHarness["engineTimes"];
    firstExport: ReturnType<EngineHarness["exportDeployment"]>;
    /** pc2's: MainPC's services as its peer fronts reach them here. */
    peerStandIns?: PeerStandIns;
    /** The stack's config, as `pulumi up` reads it, with the application copy and more override files. */
    config(...more: string[]): ReturnType<typeof stackConfig>;
}

/**
 * MainPC's services as pc2's peer fronts reach them on this machine. The mainpc stack publishes on
 * 127.0.0.1, which inside a container is the container itself (the program refuses it:
 * fleet/render/front.ts unreachablePeerEndpoint), and it is torn down before pc2 runs. So each
 * service pc2 uses answers on the default bridge's gateway address, which every container reaches
 * (the host's own address: the INPUT chain, not Docker's isolation between networks), at the port
 * the mainpc stack exported: `{"standIn": <service>}` and the path asked. `endpoints` is the mainpc
 * stack's output with those services' addresses moved there.
 */
export interface PeerStandIns {
    endpoints: Record<string, string>;
    /** Requests each stand-in answered, by service. */
    requests: Record<string, string[]>;
    close(): Promise<void>;
}

export async function peerStandIns(mainpcEndpoints: Record<string, string>, services: string[]): Promise<PeerStandIns> {
    const gateway = execFileSync("docker", ["network", "inspect", "bridge", "--format", "{{(index .IPAM.Config 0).Gateway}}"], { encoding: "utf8" }).trim();
    const endpoints = { ...mainpcEndpoints };
    const requests: Record<string, string[]> = {};
    const servers: http.Server[] = [];
    for (const service of services) {
        const p = port(mainpcEndpoints[service]);
        requests[service] = [];
        const server = http.createServer((req, res) => {
            requests[service].push(req.url ?? "");
            res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ standIn: service, path: req.url }));
        });
        await new Promise<void>((resolve, reject) => server.once("error", reject).listen(p, gateway, resolve));
        servers.push(server);
        endpoints[service] = `${gateway}:${p}`;
    }
    return { endpoints, requests, close: async () => { await Promise.all(servers.map((s) => new Promise((r) => s.close(r)))); } };
}

/** The port of `host:port` or `http://host:port/path`. */
export const port = (endpoint: string) => Number(endpoint.replace(/^http:\/\//, "").split(":").pop()!.split("/")[0]);

/** Container id of every service, by service name. */
export async function containerIds(docker: Docker, services: Record<string, ServiceOutput>): Promise<Record<string, string>> {
    return Object.fromEntries(await Promise.all(Object.entries(services).map(async ([n, s]) => [n, (await docker.getContainer(s.container).inspect()).Id])));
}

/** The files of `dir` into `to` as a fresh checkout writes them: modes from the process umask (only the execute bits kept). */
export function copyTree(dir: string, to: string, skip: (rel: string) => boolean = () => false, rel = ""): void {
    fs.mkdirSync(path.join(to, rel), { recursive: true });
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
        const r = path.join(rel, e.name);
        if (skip(r)) continue;
        if (e.isDirectory()) copyTree(dir, to, skip, r);
        else if (e.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(path.join(dir, r)), path.join(to, r));
        else fs.writeFileSync(path.join(to, r), fs.readFileSync(path.join(dir, r)), { mode: fs.statSync(path.join(dir, r)).mode & 0o111 ? 0o777 : 0o666 });
    }
}

/** Runs `fn` with the process umask set to `mask`. */
export function withUmask<T>(mask: number, fn: () => T): T {
    const old = process.umask(mask);
    try {
        return fn();
    } finally {
        process.umask(old);
    }
}

/**
 * A second checkout of this repository: `git clone` of HEAD at another path, made under umask
 * 077 (every file 0600 or 0700, where the first checkout has 0644 and 0755), its node_modules
 * linked to the first's, and a copy of the application beside it, made the same way.
 */
export function secondCheckout(app: string): { projectDir: string; app: string } {
    const dirty = execFileSync("git", ["-C", PROJECT_DIR, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim();
    if (dirty) throw new Error(`the second checkout is a clone of HEAD, and this checkout has uncommitted changes; commit them first:\n${dirty}`);
    return withUmask(0o077, () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-checkout-"));
        execFileSync("git", ["clone", "--quiet", "--no-hardlinks", PROJECT_DIR, path.join(root, "fleet")]);
        fs.symlinkSync(path.join(PROJECT_DIR, "node_modules"), path.join(root, "fleet", "node_modules"));
        copyTree(app, path.join(root, "app"));
        return { projectDir: path.join(root, "fleet"), app: path.join(root, "app") };
    });
}

/**
 * A second checkout in which `service`'s entrypoint (`entry`, in the application) runs and never
 * answers (or answers, then crashes 3 s after each start), and whose data gives the service a 10 s wait (services.yaml
 * health.waitTimeoutSeconds), so a failed wait does not take its family's minutes. `cfg` is the
 * stack's config from it; `fix` puts the entrypoint back.
 */
export function brokenCheckout(ctx: StackContext, service: string, entry: string, how: "never answers" | "crashes once healthy" = "never answers"): { projectDir: string; cfg: () => ReturnType<typeof stackConfig>; fix: () => void } {
    const second = secondCheckout(ctx.app);
    const data = path.join(second.projectDir, "fleet", "data", "services.yaml");
    const text = fs.readFileSync(data, "utf8");
    const slow = text.replace(new RegExp(`(  ${service}:\\n(?:    .*\\n)*?)(    entrypoint: )`), "$1    health: { kind: http, waitTimeoutSeconds: 10 }\n$2");
    if (slow === text) throw new Error(`no entry of ${service} with an entrypoint in services.yaml`);
    fs.writeFileSync(data, slow);
    const good = fs.readFileSync(path.join(second.app, entry), "utf8");
    fs.writeFileSync(path.join(second.app, entry), how === "never answers"
        ? `import time\nprint("the engine test's broken ${service}", flush=True)\ntime.sleep(100000)\n`
        // Serves as it should, healthy within its first second or two, and dies 3 s after its start.
        : `import os, threading\nprint("the engine test's ${service} that crashes", flush=True)\nthreading.Timer(3.0, lambda: os._exit(3)).start()\n${good}`);
    return {
        projectDir: second.projectDir,
        cfg: () => stackConfig(ctx.stack, STACKS[ctx.stack].overrides, appRepoOverride(second.app)),
        fix: () => fs.writeFileSync(path.join(second.app, entry), good),
    };
}

/**
 * 20 requests a second on a CPU service's health endpoint, on its published port and by its alias
 * from a container on the host's network, around `step`: what each probe saw.
 */
export async function probed<T>(ctx: StackContext, service: string, step: () => Promise<T>): Promise<{ result: T | Error; host: Probe; alias: Probe }> {
    const health = new URL(ctx.services[service].health);
    const image = (await ctx.docker.getContainer("docker-api-proxy").inspect()).Image;
    const host = hostProbe(health.href);
    const plan = planHost(realFleet(), parsedStack(ctx.config()));
    const alias = await aliasProbe(image, fleetNetworkName(ctx.machine), [...plan.network.resolvers], `http://${containerName(service)}:${health.port}${health.pathname}`);
    const result = await step().catch((e: Error) => e);
    return { result, host: await host.stop(), alias: await alias.stop() };
}

/** No request failed, on either path, and each asked at least `min` times. */
export function noneFailed(p: { host: Probe; alias: Probe }, min: number, why: string): void {
    for (const [path, x] of Object.entries({ "published port": p.host, alias: p.alias })) {
        assert.strictEqual(x.failed, 0, `${why}: ${x.failed} of ${x.ok + x.failed} requests failed on the ${path} (longest gap ${x.longestGapMs} ms)`);
        assert.ok(x.ok >= min, `${why}: only ${x.ok} requests on the ${path}`);
    }
}
