/**
 * The real program against this machine's Docker engine: every CPU service of each host is
 * built with BuildKit, started, and checked from outside and from inside its container.
 * Needs a running engine and the base image of scripts/make-base-images.sh (.ci/run does both).
 */
import * as assert from "assert";
import { execFileSync, spawn, spawnSync } from "child_process";
import Docker from "dockerode";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { exactPins } from "../../fleet/imageplan/appRepo";
import { buildLock } from "../../fleet/imageplan/lock";
import { PROXY_DEFAULTS } from "../../fleet/model/defaults";
import { familyPins, serviceSpec } from "../../fleet/model/images";
import { familyRuntime, planHost } from "../../fleet/model/plan";
import { imageTargetUrns } from "../../fleet/imageplan/buildPlan";
import { FIXTURE_APP, parsedStack, realFleet, standIns } from "../helpers";
import { appRepoOverride, engineUrns, pinAllOverride, pinsOverride, Registered, RunResult, stackConfig } from "../mocks";
import { cacheHits, EngineHarness, withoutTag } from "./harness";

const CHANGED: Record<string, { service: string; file: string }> = {
    mainpc: { service: "Executor", file: "main_pc_code/agents/executor.py" },
    pc2: { service: "CacheManager", file: "pc2_code/agents/cache_manager.py" },
};

const REGISTRY = "127.0.0.1:5000";

/**
 * The stacks the suite runs, each through the CLI's rules with the committed overrides of what
 * this machine cannot do and the temporary copy of the fixture application:
 * - `local`: MainPC's CPU services as the README's main job (images loaded into the daemon);
 * - `mainpc`: push-shaped, the real Pulumi.mainpc.yaml against the registry scripts/engine-up.sh
 *   starts (push, registry cache, children FROM tag@digest, containers pulled by digest);
 * - `pc2`: its own stack, loaded, reading mainpc's endpoints.
 */
const STACKS: Record<string, { machine: string; overrides: string }> = {
    local: { machine: "mainpc", overrides: "test/engine/local-overrides.yaml" },
    mainpc: { machine: "mainpc", overrides: "test/engine/push-overrides.yaml" },
    pc2: { machine: "pc2", overrides: "test/engine/pc2-overrides.yaml" },
};
const engineStack = (stack: string, app: string, ...more: string[]) => stackConfig(stack, STACKS[stack].overrides, appRepoOverride(app), ...more);
/** The mainpc stack pc2's StackReference names, as Pulumi.pc2.yaml says. */
const PEER_STACK = stackConfig("pc2", "fixture-app").config["fleet:peerStack"];

/** The digest the registry serves for `<repo>:<tag>` (or `<repo>@<digest>`), or undefined when it has none. */
function registryDigest(ref: string, registry = REGISTRY): Promise<string | undefined> {
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
async function authRegistry(addr: string, user: string, password: string): Promise<() => void> {
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

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: urlPath, timeout: 5000 }, (res) => {
            let body = "";
            res.on("data", (d) => (body += d));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        }).on("error", reject);
    });
}

/** Runs a command in a container as its own user; returns exit code and output. */
async function exec(docker: Docker, container: string, cmd: string[]): Promise<{ code: number; output: string }> {
    const e = await docker.getContainer(container).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await e.start({ hijack: true, stdin: false });
    let output = "";
    const sink = { write: (c: Buffer) => { output += c.toString(); return true; } } as unknown as NodeJS.WritableStream;
    docker.modem.demuxStream(stream, sink, sink);
    await new Promise((res) => stream.on("end", res));
    return { code: (await e.inspect()).ExitCode ?? -1, output: output.trim() };
}

/** One message of the Engine API's event stream. */
interface EngineEvent { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } }

/** Engine events between two instants (seconds since the epoch), as the Engine API's GET /events gives them. */
async function engineEvents(docker: Docker, since: number, until: number): Promise<EngineEvent[]> {
    const stream = await docker.getEvents({ since, until }) as unknown as NodeJS.ReadableStream;
    let text = "";
    for await (const chunk of stream) text += chunk.toString();
    return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as EngineEvent);
}

const ATTACKS = fs.readFileSync(path.join(__dirname, "proxy-attacks.py"), "utf8");

const PY_GET = (url: string, method = "GET") => [
    "/opt/venv/bin/python", "-c",
    `import urllib.request,sys\ntry:\n r=urllib.request.urlopen(urllib.request.Request(${JSON.stringify(url)}, method=${JSON.stringify(method)}), timeout=5); print(r.status)\nexcept urllib.error.HTTPError as e: print(e.code)\nexcept Exception as e: print('unreachable', type(e).__name__); sys.exit(3)`,
];

/**
 * Run inside a service container: every distribution importlib.metadata finds on sys.path (by
 * PEP 503 name, with where it lives), and for each [distribution, version, module] asked for, the
 * installed metadata version and the imported module's __version__.
 */
const ENVIRONMENT_PROBE = `
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

/** The push-shaped mainpc stack's first run, for the registry-cache test at the end of the suite. */
let mainpcFirst: RunResult | undefined;

describe("against the Docker engine", () => {
    const peers: Record<string, Record<string, unknown>> = {};
    const harness = new EngineHarness(peers);
    const docker = harness.docker;

    before(() => harness.purgeLeftovers());
    after(() => harness.cleanup());

    for (const stack of Object.keys(STACKS)) {
        const machine = STACKS[stack].machine;
        describe(stack, () => {
            let app: string;
            let first: RunResult;
            let services: Record<string, { container: string; endpoint: string; health: string; gpu: boolean; image: string; imageDigest: string }>;
            let firstUrns: Map<string, string>;
            let firstTimes: EngineHarness["engineTimes"];
            let firstExport: ReturnType<EngineHarness["exportDeployment"]>;
            const port = (endpoint: string) => Number(endpoint.split(":").pop()!.split("/")[0]);

            before(async () => {
                // A copy of the fixture application, so one service's source can change.
                app = fs.mkdtempSync(path.join(os.tmpdir(), `fleet-engine-${machine}-`));
                fs.cpSync(FIXTURE_APP, app, { recursive: true });
                first = await harness.run(engineStack(stack, app));
                firstTimes = harness.engineTimes;
                if (stack === "mainpc") mainpcFirst = first;
                firstUrns = engineUrns(stack, first.resources, first.urns);
                firstExport = harness.exportDeployment(first);
                services = first.outputs.services as typeof services;
                if (machine === "mainpc") {
                    // pc2 uses ModelOpsCoordinator, a GPU service this GPU-less mainpc leaves out;
                    // the program rightly refuses a peer stack without it, so the test adds the
                    // endpoint mainpc exports when it has its GPU.
                    peers[PEER_STACK] = { endpoints: { ...(first.outputs.endpoints as object), ModelOpsCoordinator: "127.0.0.1:7212" } };
                }
            });

            after(() => harness.cleanup());

            /** The production path against the registry; mainpc only (push-overrides.yaml). */
            function pushShaped(): void {
                const repoOf = (ref: string) => withoutTag(ref).slice(0, withoutTag(ref).indexOf("@"));
                let changedDigest = "";

                it("a second run with nothing changed pushes nothing, builds nothing and replaces nothing", async () => {
                    await harness.run(engineStack(stack, app));
                    assert.deepStrictEqual(harness.events.filter((e) => e.action !== "same"), []);
                    assert.deepStrictEqual([harness.pushed, harness.pulled, Object.keys(harness.buildSeconds)], [[], [], []]);
                    changedDigest = (await docker.getContainer(services[CHANGED.mainpc.service].container).inspect()).Config.Labels["fleet.image-digest"];
                });

                it("rollback: a digest pin replaces only that container, pulled from the registry by digest, nothing built", async () => {
                    const { service } = CHANGED.mainpc;
                    const s = services[service];
                    const original = s.imageDigest; // the first run's digest, before the source change
                    assert.notStrictEqual(original, changedDigest);
                    const repo = repoOf(s.image);
                    // The daemon no longer holds it: the rollback must come from the registry.
                    for (const name of [s.image.slice(0, s.image.indexOf("@")), `${repo}@${original}`]) await docker.getImage(name).remove().catch(() => undefined);
                    assert.strictEqual(await docker.getImage(`${repo}@${original}`).inspect().then(() => true, () => false), false, "the old image is gone from the daemon");
                    const before = Object.fromEntries(await Promise.all(Object.entries(services).map(async ([n, x]) => [n, (await docker.getContainer(x.container).inspect()).Id])));
                    await harness.run(engineStack(stack, app, pinsOverride([`${service}=${original}`])));
                    assert.deepStrictEqual(harness.events.filter((e) => e.action !== "same").map((e) => `${e.type} ${e.name} ${e.action}`).sort(), [
                        `command:local:Command ${s.container}-pids-limit replace`,
                        "command:local:Command mainpc-preflight replace", // the pinned image is no longer among the built tags
                        `docker:index/container:Container ${s.container} replace`,
                        `docker:index/remoteImage:RemoteImage ${s.container} replace`,
                    ]);
                    assert.deepStrictEqual([harness.pushed, Object.keys(harness.buildSeconds), harness.pulled], [[], [], [`${repo}@${original}`]]);
                    const c = await docker.getContainer(s.container).inspect();
                    assert.strictEqual(c.State.Health?.Status, "healthy");
                    assert.strictEqual(c.Config.Labels["fleet.image-digest"], original);
                    assert.ok((await docker.getImage(c.Image).inspect()).RepoDigests.includes(`${repo}@${original}`));
                    for (const [n, x] of Object.entries(services)) {
                        if (n !== service) assert.strictEqual((await docker.getContainer(x.container).inspect()).Id, before[n], `${n} kept its container`);
                    }
                });

                it("a pin to a digest the registry lacks fails at the pull, naming it, and the running container keeps running", async () => {
                    const { service } = CHANGED.mainpc;
                    const s = services[service];
                    const missing = `sha256:${"0".repeat(63)}1`;
                    const running = (await docker.getContainer(s.container).inspect()).Id;
                    await assert.rejects(harness.run(engineStack(stack, app, pinsOverride([`${service}=${missing}`]))),
                        (e: Error) => e.message.startsWith(`harness: docker:index/remoteImage:RemoteImage ${s.container}: pull of ${repoOf(s.image)}@${missing} failed: `) && /manifest unknown|not found/.test(e.message));
                    const after = await docker.getContainer(s.container).inspect();
                    assert.deepStrictEqual([after.Id, after.State.Running, after.State.Health?.Status], [running, true, "healthy"]);
                });

                it("rollback of everything: pinAll names the first run's build lock; only the container whose image changed since is replaced, its image pulled by digest, nothing built or pushed", async () => {
                    const { service } = CHANGED.mainpc;
                    const s = services[service];
                    const lock = buildLock(firstExport);
                    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-")), "build-lock-mainpc.json");
                    fs.writeFileSync(file, JSON.stringify(lock, null, 2));
                    // Back to the changed source (the pins above were for one run each), then drop
                    // the first run's image of that service from the daemon: it must come back
                    // from the registry.
                    await harness.run(engineStack(stack, app));
                    const original = lock.running[s.container];
                    const repo = repoOf(s.image);
                    for (const name of [s.image.slice(0, s.image.indexOf("@")), original]) await docker.getImage(name).remove().catch(() => undefined);
                    assert.strictEqual(await docker.getImage(original).inspect().then(() => true, () => false), false, "the first run's image is gone from the daemon");
                    const before = Object.fromEntries(await Promise.all(Object.entries(services).map(async ([n, x]) => [n, (await docker.getContainer(x.container).inspect()).Id])));
                    await harness.run(engineStack(stack, app, pinAllOverride(file)));
                    assert.deepStrictEqual(harness.events.filter((e) => e.action !== "same").map((e) => `${e.type} ${e.name} ${e.action}`).sort(), [
                        `command:local:Command ${s.container}-pids-limit replace`,
                        "command:local:Command mainpc-preflight replace", // no service image is among the built tags any more
                        `docker:index/container:Container ${s.container} replace`,
                        `docker:index/remoteImage:RemoteImage ${s.container} replace`,
                    ]);
                    assert.deepStrictEqual([harness.pushed, Object.keys(harness.buildSeconds), harness.pulled], [[], [], [original]]);
                    assert.strictEqual(original.slice(0, original.indexOf("@")), repo);
                    for (const [name, x] of Object.entries(services)) {
                        const c = await docker.getContainer(x.container).inspect();
                        const ref = lock.running[x.container];
                        assert.strictEqual(c.State.Health?.Status, "healthy", name);
                        assert.strictEqual(c.Config.Labels["fleet.image-digest"], ref.slice(ref.indexOf("@") + 1), `${name} runs the digest it ran in the first deploy`);
                        assert.strictEqual(c.Config.Labels["fleet.git-sha"], lock.revisions[x.container], `${name} is labelled with the revision its image was built from`);
                        if (name === service) assert.notStrictEqual(c.Id, before[name], `${name} was replaced`);
                        else assert.strictEqual(c.Id, before[name], `${name} kept its container`);
                    }
                });

                it("build-lock.json of the first run matches the registry's manifests", async () => {
                    const lock = buildLock(firstExport);
                    assert.strictEqual(lock.stack, "mainpc");
                    const images = first.resources.filter((r: Registered) => r.type === "docker-build:index:Image");
                    assert.deepStrictEqual(Object.keys(lock.built).sort(), images.map((r) => r.name).sort());
                    for (const [name, ref] of Object.entries(lock.built)) {
                        const tag = ref.slice(0, ref.indexOf("@"));
                        assert.strictEqual(`${tag}@${await registryDigest(tag)}`, ref, `${name}: the registry serves ${tag} at the locked digest`);
                    }
                    assert.deepStrictEqual(Object.keys(lock.running).sort(), [...Object.values(services).map((x) => x.container), "mainpc-docker-api-proxy"].sort());
                    for (const [name, repoDigest] of Object.entries(lock.running)) {
                        assert.strictEqual(await registryDigest(repoDigest), repoDigest.slice(repoDigest.indexOf("@") + 1), `${name} runs an image the registry serves`);
                    }
                    for (const [, up] of Object.entries(lock.upstream)) assert.strictEqual(up, "fleet-test/bookworm-python:slim");
                });

                it("children build FROM their parent's tag@digest in the registry; every image and its cache are in the registry", async () => {
                    const images = first.resources.filter((r: Registered) => r.type === "docker-build:index:Image");
                    for (const img of images) {
                        const base = img.inputs.buildArgs.BASE_IMAGE as string | undefined;
                        if (base !== undefined) {
                            assert.match(base, /^127\.0\.0\.1:5000\/fleet-engine\/[a-z0-9-]+:[^@]+@sha256:[0-9a-f]{64}$/, img.name);
                            assert.strictEqual(await registryDigest(base.slice(0, base.indexOf("@"))), base.slice(base.indexOf("@") + 1), img.name);
                        }
                        // A family that adds no layer (no RUN/COPY/ADD: families install nothing here) has no cache to export.
                        const repo = (img.inputs.tags[0] as string).split("/")[2].split(":")[0];
                        const layers = img.inputs.dockerfile.location !== undefined || /^(RUN|COPY|ADD)\b/m.test(img.inputs.dockerfile.inline);
                        assert.strictEqual(Boolean(await registryDigest(`${REGISTRY}/fleet-engine/cache:${repo}`)), layers, `${img.name}: cache manifest pushed iff it has layers`);
                    }
                });

                it("the deploy workflow's --target URNs (scripts/fleet image-targets) are exactly the image URNs the program registers", () => {
                    const fleet = realFleet();
                    const cfg = parsedStack(engineStack(stack, app), fleet);
                    const targets = imageTargetUrns(fleet, planHost(fleet, cfg), "mainpc", cfg.cudaTrack);
                    const registered = new Set(firstUrns.values());
                    for (const t of targets) assert.ok(registered.has(t), `target ${t} is registered`);
                    // The image resources, their provider and the components they sit in (test/workflows.test.ts does the same for the shipped stacks).
                    const wanted = [...firstUrns].filter(([k]) => /^(docker-build:index:Image|pulumi:providers:docker-build|fleet:images:[A-Za-z]+|fleet:host:FleetHost|fleet:host:DockerApiProxy)::/.test(k)).map(([, u]) => u).sort();
                    assert.deepStrictEqual([...targets].sort(), wanted);
                });

                it("an unreachable registry fails the build naming the registry and the image", async () => {
                    const img = first.resources.find((r: Registered) => r.type === "docker-build:index:Image" && r.name === "base-python")!;
                    const inputs = JSON.parse(JSON.stringify(img.inputs).replaceAll(REGISTRY, "127.0.0.1:5999"));
                    const h = new EngineHarness();
                    await assert.rejects(h.applyOne({ ...img, inputs }), (e: Error) => {
                        assert.match(e.message, new RegExp(`^harness: docker-build:index:Image base-python: build of 127\\.0\\.0\\.1:5999/fleet-engine/base-python:\\S+ failed \\(docker buildx exit 1\\): ERROR: failed to solve: failed to push 127\\.0\\.0\\.1:5999/fleet-engine/base-python:\\S+: .*dial tcp 127\\.0\\.0\\.1:5999: connect: connection refused`));
                        return true;
                    });
                    await h.cleanup();
                });

                it("wrong registry credentials fail naming the registry, and the secret is never shown", async () => {
                    const secret = "wrong-s3cret-never-shown";
                    const stop = await authRegistry("127.0.0.1:5001", "fleet", "the-right-password");
                    try {
                        const img = first.resources.find((r: Registered) => r.type === "docker-build:index:Image" && r.name === "base-python")!;
                        const inputs = { ...JSON.parse(JSON.stringify(img.inputs).replaceAll(REGISTRY, "127.0.0.1:5001")), registries: [{ address: "127.0.0.1:5001", username: "fleet", password: secret }] };
                        const h = new EngineHarness();
                        await assert.rejects(h.applyOne({ ...img, inputs }), (e: Error) => {
                            assert.match(e.message, /^harness: docker-build:index:Image base-python: build of 127\.0\.0\.1:5001\/fleet-engine\/base-python:\S+ failed \(docker buildx exit 1\): ERROR: failed to solve: failed to push 127\.0\.0\.1:5001\/fleet-engine\/base-python:\S+: .*401 Unauthorized/);
                            assert.ok(!e.message.includes(secret) && !e.message.includes(Buffer.from(`fleet:${secret}`).toString("base64")), "no secret in the error");
                            return true;
                        });
                        // The right password pushes: the failure above was the credentials.
                        const ok = { ...inputs, registries: [{ address: "127.0.0.1:5001", username: "fleet", password: "the-right-password" }] };
                        const done = await h.applyOne({ ...img, inputs: ok });
                        assert.match(String(done.state.ref), /^127\.0\.0\.1:5001\/fleet-engine\/base-python:\S+@sha256:[0-9a-f]{64}$/);
                        await h.cleanup();
                    } finally {
                        stop();
                    }
                });
            }

            it("builds and starts every CPU service of the host, each healthy; GPU services are listed as not deployed", async () => {
                const notDeployed = first.outputs.notDeployed as Record<string, string>;
                const gpuLeftOut = Object.entries(notDeployed).filter(([, why]) => why.startsWith("no-gpu")).map(([s]) => s);
                assert.strictEqual(gpuLeftOut.length, machine === "mainpc" ? 17 : 5);
                assert.strictEqual(Object.keys(services).length, machine === "mainpc" ? 25 : 18);
                for (const [name, s] of Object.entries(services)) {
                    assert.strictEqual(s.gpu, false, name);
                    const state = (await docker.getContainer(s.container).inspect()).State;
                    assert.strictEqual(state.Health?.Status, "healthy", name);
                }
            });

            it("start lanes on the engine's own clock: no container was created before its lane predecessor was healthy, and the first four of a tier did not wait", () => {
                const fleet = realFleet();
                const plan = planHost(fleet, parsedStack(engineStack(stack, app), fleet));
                assert.strictEqual(plan.startLanes, 4);
                const times = firstTimes;
                let waited = 0;
                for (const c of plan.containers) {
                    if (!times[c.name]) continue; // GPU services are not deployed here
                    if (c.startAfter === undefined) continue;
                    const prev = plan.containers.find((p) => p.service === c.startAfter)!;
                    assert.ok(times[c.name].created >= times[prev.name].healthy, `${c.name} was created ${times[prev.name].healthy - times[c.name].created} ms before ${prev.name} was healthy`);
                    waited++;
                }
                const tiers = ["core", "app"].map((t) => plan.containers.filter((c) => c.tier === t && times[c.name]).length);
                assert.strictEqual(waited, tiers.reduce((a, n) => a + Math.max(0, n - 4), 0));
            });

            it("/health answers {\"status\":\"ok\"} on every published health port", async () => {
                for (const [name, s] of Object.entries(services)) {
                    const r = await get(port(s.health.replace(/^http:\/\//, "")), "/health");
                    assert.deepStrictEqual([r.status, JSON.parse(r.body)], [200, { status: "ok" }], name);
                }
            });

            it("every service runs as 10001, cannot write its root, holds no capabilities, cannot gain privileges, and reads its host's profile", async () => {
                for (const [name, s] of Object.entries(services)) {
                    const info = JSON.parse((await get(port(s.endpoint), "/")).body);
                    assert.deepStrictEqual(
                        { uid: info.uid, gid: info.gid, root: info.root_writable, tmp: info.tmp_writable, capEff: info.status.CapEff, capPrm: info.status.CapPrm, nnp: info.status.NoNewPrivs, seccomp: info.status.Seccomp, profile: info.profile_machine, home: info.home },
                        { uid: 10001, gid: 10001, root: false, tmp: true, capEff: "0000000000000000", capPrm: "0000000000000000", nnp: "1", seccomp: "2", profile: machine, home: "/home/appuser" },
                        name,
                    );
                }
            });

            it(machine === "pc2" ? "pc2's containers get MainPC's endpoints from the mainpc stack's outputs" : "mainpc's containers get no peer endpoints", async () => {
                for (const [name, s] of Object.entries(services)) {
                    const env = (await docker.getContainer(s.container).inspect()).Config.Env;
                    const peerEnv = env.filter((e) => e.startsWith("MAINPC_")).sort();
                    assert.deepStrictEqual(peerEnv, machine === "pc2" ? [
                        "MAINPC_MODEL_OPS_COORDINATOR_ENDPOINT=127.0.0.1:7212",
                        "MAINPC_SERVICE_REGISTRY_ENDPOINT=127.0.0.1:7200",
                        "MAINPC_SYSTEM_DIGITAL_TWIN_ENDPOINT=127.0.0.1:7220",
                        "MAINPC_UNIFIED_OBSERVABILITY_CENTER_ENDPOINT=127.0.0.1:9100",
                    ] : [], name);
                }
            });

            it("every container has the PIDs limit, memory limit and log rotation of its family", async () => {
                for (const [name, s] of Object.entries(services)) {
                    const hc = (await docker.getContainer(s.container).inspect()).HostConfig;
                    assert.strictEqual(hc.PidsLimit, 256, name);
                    assert.ok((hc.Memory ?? 0) >= 512 * 1024 * 1024, name);
                    assert.deepStrictEqual(hc.LogConfig, { Type: "json-file", Config: { "max-file": "5", "max-size": "10m" } }, name);
                    assert.strictEqual(hc.Init ?? false, false, name);
                }
            });

            it("only the supervisor reaches the Docker API, and only the endpoints it needs", async () => {
                const sup = services.SelfHealingSupervisor.container;
                assert.deepStrictEqual(await exec(docker, sup, PY_GET("http://docker-api-proxy:2375/v1.41/containers/json")), { code: 0, output: "200" });
                assert.deepStrictEqual(await exec(docker, sup, PY_GET("http://docker-api-proxy:2375/v1.41/containers/create", "POST")), { code: 0, output: "403" });
                assert.deepStrictEqual(await exec(docker, sup, PY_GET("http://docker-api-proxy:2375/v1.41/images/json")), { code: 0, output: "403" });
                const other = Object.entries(services).find(([n]) => n !== "SelfHealingSupervisor")![1].container;
                const fromOther = await exec(docker, other, PY_GET("http://docker-api-proxy:2375/v1.41/containers/json"));
                assert.strictEqual(fromOther.code, 3, fromOther.output);
                assert.match(fromOther.output, /^unreachable /);
                const mounts = await Promise.all(Object.values(services).map(async (s) => (await docker.getContainer(s.container).inspect()).Mounts.map((m) => m.Source)));
                assert.ok(mounts.flat().every((src) => !src.includes("docker.sock")));
            });

            it("CIS Docker runtime checks on every running container: CPU limit and shares (5.12), ports bound to the host's address (5.14), a PIDs limit (5.29), an image HEALTHCHECK with a start interval (4.6)", async () => {
                const fleet = realFleet();
                const running = await docker.listContainers({ filters: { label: [`fleet.machine=${machine}`] } });
                assert.strictEqual(running.length, Object.keys(services).length + 1, "every service and the proxy");
                for (const summary of running) {
                    const info = await docker.getContainer(summary.Id).inspect();
                    const name = info.Name.slice(1);
                    const proxy = name === "docker-api-proxy";
                    const rt = proxy ? PROXY_DEFAULTS : familyRuntime(fleet, info.Config.Labels["fleet.family"]);
                    const hc = info.HostConfig;
                    assert.deepStrictEqual({ nanoCpus: hc.NanoCpus, shares: hc.CpuShares, pids: hc.PidsLimit }, { nanoCpus: rt.cpus * 1e9, shares: rt.cpuShares, pids: rt.pidsLimit }, name);
                    assert.notStrictEqual(hc.CpuShares, 1024, `${name}: Docker's default weight`);
                    const bindings = Object.values(hc.PortBindings ?? {}).flat() as { HostIp: string }[];
                    assert.ok(proxy ? bindings.length === 0 : bindings.length >= 2, `${name}: ${bindings.length} bindings`);
                    for (const b of bindings) assert.strictEqual(b.HostIp, "127.0.0.1", name);
                    const published = Object.values(info.NetworkSettings.Ports ?? {}).flat().filter((p) => p) as { HostIp: string }[];
                    assert.ok(published.every((p) => p.HostIp === "127.0.0.1"), `${name}: ${JSON.stringify(published)}`);
                    const image = await docker.getImage(info.Image).inspect();
                    const ihc = image.Config.Healthcheck as { Test?: string[]; StartInterval?: number } | undefined;
                    assert.deepStrictEqual(ihc?.Test, ["CMD", "/usr/local/bin/fleet-health"], `${name}: image HEALTHCHECK`);
                    const startInterval = (proxy ? PROXY_DEFAULTS.health.startIntervalSeconds : (rt as { startIntervalSeconds: number }).startIntervalSeconds) * 1e9;
                    assert.strictEqual(ihc?.StartInterval, startInterval, `${name}: the image's start interval`);
                    assert.strictEqual((info.Config.Healthcheck as { StartInterval?: number }).StartInterval, startInterval, `${name}: the container's start interval`);
                    assert.strictEqual(info.State.Health?.Status, "healthy", name);
                }
            });

            // One host is enough: the proxy, its image and its config are the same on both.
            if (machine === "mainpc") it("the Docker API proxy (HAProxy) survives the requests a filtering proxy must: nothing outside the allow-list reaches the engine", async () => {
                const sup = await docker.getContainer(services.SelfHealingSupervisor.container).inspect();
                const api = `v${(await docker.version()).ApiVersion}`;
                // Fractional seconds (the Engine API takes them): a whole-second window also caught
                // the previous test's execs on the supervisor.
                const since = Date.now() / 1000;
                const e = await docker.getContainer(sup.Id).exec({ Cmd: ["/opt/venv/bin/python", "-c", ATTACKS, "docker-api-proxy", "2375", api, sup.Name.slice(1), sup.Image], AttachStdout: true, AttachStderr: true });
                const stream = await e.start({ hijack: true, stdin: false });
                let output = "";
                const sink = { write: (c: Buffer) => { output += c.toString(); return true; } } as unknown as NodeJS.WritableStream;
                docker.modem.demuxStream(stream, sink, sink);
                await new Promise((res) => stream.on("end", res));
                assert.strictEqual((await e.inspect()).ExitCode, 0, output);
                await new Promise((res) => setTimeout(res, 1500));
                const until = Math.ceil(Date.now() / 1000) + 1;
                assert.deepStrictEqual(JSON.parse(output), {
                    "absolute-form": ["HTTP/1.1 403"], "absolute-form-allowed": ["HTTP/1.1 200"],
                    // The body is read chunked (Content-Length dropped): the hidden create is body, never a request.
                    "cl-te": ["HTTP/1.1 200"], "te-cl": ["HTTP/1.1 404"], "te-obfuscated": ["HTTP/1.1 400"], "te-underscore": ["HTTP/1.1 403"],
                    "request-in-body": ["HTTP/1.1 200"],
                    // One answer, then the connection is closed: the pipelined create and exec are never read.
                    "pipelined": ["HTTP/1.1 200"],
                    "encoded-slash": ["HTTP/1.1 403"], "encoded-dots": ["HTTP/1.1 403"], "dot-segments": ["HTTP/1.1 403"], "dot-segments-restart": ["HTTP/1.1 403"], "double-slash": ["HTTP/1.1 403"],
                    "http10": ["HTTP/1.1 403"], "http10-allowed": ["HTTP/1.0 200"],
                    "lower-case-post": ["HTTP/1.1 403"], "lower-case-get": ["HTTP/1.1 403"],
                    "oversized-header": ["HTTP/1.1 400"], "oversized-create": ["HTTP/1.1 400"],
                    "exec": ["HTTP/1.1 403"], "pull": ["HTTP/1.1 403"], "create": ["HTTP/1.1 403"],
                });
                const events = await engineEvents(docker, since, until);
                // The window holds this test's own exec: the stream is read, and it shows execs.
                assert.ok(events.some((ev) => ev.Action?.startsWith("exec_create") && ev.Actor?.Attributes?.execID === e.id), "the test's own exec is in the event stream");
                const leaked = events.filter((ev) => {
                    const a = ev.Actor?.Attributes ?? {};
                    if (ev.Type === "container" && ev.Action === "create") return (a.name ?? "").startsWith("fleet-attack") || a["fleet.attack"] !== undefined;
                    // An exec the proxy let through shows as its exec_create; an earlier test's exec may still die inside the window.
                    if (ev.Type === "container" && ev.Action?.startsWith("exec_create")) return ev.Actor?.ID === sup.Id && a.execID !== e.id;
                    if (ev.Type === "image") return ev.Action === "pull" && `${ev.Actor?.ID}`.includes("fleet-attack");
                    return false;
                });
                assert.deepStrictEqual(leaked, []);
                const made = await docker.listContainers({ all: true, filters: { name: ["fleet-attack"] } });
                assert.deepStrictEqual(made, []);
            });

            it("changing one service's source rebuilds only its image and replaces only its container", async () => {
                const before = Object.fromEntries(await Promise.all(Object.entries(services).map(async ([n, s]) => [n, (await docker.getContainer(s.container).inspect()).Id])));
                const { service, file } = CHANGED[machine];
                fs.appendFileSync(path.join(app, file), "# changed by the engine test\n");
                const changedRun = await harness.run(engineStack(stack, app));
                const changed = harness.events.filter((e) => e.action !== "same");
                const container = services[service].container;
                assert.deepStrictEqual(changed.map((e) => `${e.type} ${e.name} ${e.action}`).sort(), [
                    `command:local:Command ${container}-pids-limit replace`,
                    `command:local:Command ${machine}-preflight replace`, // its triggers are the host's image tags
                    `docker-build:index:Image ${container} replace`,
                    `docker:index/container:Container ${container} replace`,
                    `docker:index/remoteImage:RemoteImage ${container} replace`,
                ].sort());
                if (stack === "mainpc") {
                    const image = harness.exportDeployment(changedRun).deployment.resources.find((r) => r.type === "docker-build:index:Image" && r.urn.endsWith(`::${container}`))!;
                    assert.deepStrictEqual(harness.pushed, [(image.inputs.tags as string[])[0]], "one image pushed");
                }
                for (const [n, s] of Object.entries(services)) {
                    const id = (await docker.getContainer(s.container).inspect()).Id;
                    if (n === service) assert.notStrictEqual(id, before[n], `${n} was replaced`);
                    else assert.strictEqual(id, before[n], `${n} kept its container`);
                }
            });

            if (stack === "local") it("a pin the package index lacks fails the build naming the family, or the service, and the package; nothing is half-built", async () => {
                const h = new EngineHarness();
                const imageOf = (name: string) => first.resources.find((r: Registered) => r.type === "docker-build:index:Image" && r.name === name)!;
                const tagged = async (tag: string) => (await docker.getImage(tag).inspect()).Id;
                try {
                    // A family pin (families.yaml) the index does not have.
                    const family = imageOf("family-web");
                    assert.ok(family.inputs.dockerfile.inline.includes("gunicorn==22.0.0"), "family-web pins gunicorn 22.0.0");
                    const familyId = await tagged(family.inputs.tags[0]);
                    const familyInputs = { ...family.inputs, dockerfile: { inline: family.inputs.dockerfile.inline.replaceAll("gunicorn==22.0.0", "gunicorn==22.0.99") } };
                    await assert.rejects(h.applyOne({ ...family, inputs: familyInputs }), (e: Error) => {
                        assert.match(e.message, /^harness: docker-build:index:Image family-web: build of \S+ failed \(docker buildx exit 1\): ERROR: failed to solve: process .* did not complete successfully: exit code: 1; /);
                        assert.ok(e.message.includes("ERROR: No matching distribution found for gunicorn==22.0.99"), e.message);
                        return true;
                    });
                    assert.strictEqual(await tagged(family.inputs.tags[0]), familyId, "the family's tag still names the image it had");

                    // A service lock line the index does not have (hashes stay: the version is what is missing).
                    const service = imageOf("nlu-agent");
                    const copy = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-engine-badpin-"));
                    fs.cpSync(app, copy, { recursive: true });
                    const lock = path.join(copy, "requirements/nlu-agent.txt");
                    assert.ok(fs.readFileSync(lock, "utf8").includes("certifi==2024.2.2 \\"), "nlu-agent's lock pins certifi 2024.2.2");
                    fs.writeFileSync(lock, fs.readFileSync(lock, "utf8").replace("certifi==2024.2.2 \\", "certifi==2099.1.1 \\"));
                    const serviceId = await tagged(service.inputs.tags[0]);
                    try {
                        await assert.rejects(h.applyOne({ ...service, inputs: JSON.parse(JSON.stringify(service.inputs).replaceAll(app, copy)) }), (e: Error) => {
                            assert.match(e.message, /^harness: docker-build:index:Image nlu-agent: build of \S+ failed \(docker buildx exit 1\): ERROR: failed to solve: process .* did not complete successfully: exit code: 1; /);
                            assert.ok(e.message.includes("ERROR: No matching distribution found for certifi==2099.1.1"), e.message);
                            return true;
                        });
                    } finally {
                        fs.rmSync(copy, { recursive: true, force: true });
                    }
                    assert.strictEqual(await tagged(service.inputs.tags[0]), serviceId, "the service's tag still names the image it had");
                } finally {
                    await h.cleanup();
                }
            });

            it("every service's one Python environment: no distribution twice on sys.path, pip check clean, family pins and the service's own additions import at their versions, the family's console script runs as 10001", async () => {
                const d = realFleet();
                const modules = new Map(standIns().map((x) => [`${x.name}==${x.version}`, x.import]));
                for (const [name, s] of Object.entries(services)) {
                    const family = d.services[name].family;
                    const own = exactPins(fs.readFileSync(path.join(app, serviceSpec(d, name).requirements), "utf8"));
                    const want = [...familyPins(d, family), ...own].map((p) => [p.name, p.version, modules.get(`${p.name}==${p.version}`)]);
                    assert.ok(own.length > 0 && want.every((w) => w[2] !== undefined), `${name}: its lock adds something, and every pin has a stand-in`);
                    const web = family === "family-web";
                    const probe = await exec(docker, s.container, ["env", ...(web ? ["PROBE_NAMESPACE=1"] : []), "/opt/venv/bin/python", "-c", ENVIRONMENT_PROBE, JSON.stringify(want)]);
                    assert.strictEqual(probe.code, 0, `${name}: ${probe.output}`);
                    const r = JSON.parse(probe.output);
                    assert.deepStrictEqual(r, {
                        uid: 10001, twice: {}, got: Object.fromEntries(want.map(([n, v]) => [n, [v, v]])),
                        // websockets' .pth (family-web) runs at interpreter start; the namespace
                        // package fleetstandin has one portion from base-cpu-pydeps, one from family-web.
                        pth: web ? "websockets" : null, namespace: web ? ["uvicorn", "gunicorn"] : [],
                    }, name);
                    // The root filesystem is read-only: without --no-cache-dir pip warns that it cannot use its cache.
                    assert.deepStrictEqual(await exec(docker, s.container, ["/opt/venv/bin/pip", "check", "--no-cache-dir"]), { code: 0, output: "No broken requirements found." }, name);
                    const uvicorn = familyPins(d, family).find((p) => p.name === "uvicorn")!;
                    assert.deepStrictEqual(await exec(docker, s.container, ["sh", "-c", "id -u; uvicorn"]), { code: 0, output: `10001\nuvicorn ${uvicorn.version}` }, name);
                }
            });

            if (stack === "mainpc") pushShaped();

            if (stack === "pc2") {
                it("scripts/lock-requirements.sh resolves each fixture service in its family image to the committed lock, and refuses to replace a family package", () => {
                    const env = { ...process.env, FLEET_LOCK_IMAGES: "localhost/ai-system", FLEET_LOCK_INDEX: "http://127.0.0.1:3141/simple/" };
                    const script = path.join(__dirname, "..", "..", "scripts", "lock-requirements.sh");
                    // One service per CPU family of pc2: each lock takes two containers.
                    for (const [service, lock] of [["UnifiedWebAgent", "unified-web-agent"], ["CacheManager", "cache-manager"]]) {
                        const out = path.join(app, "requirements", `${lock}.txt`);
                        fs.rmSync(out);
                        const r = spawnSync("bash", [script, app], { encoding: "utf8", env: { ...env, FLEET_LOCK_ONLY: service } });
                        assert.strictEqual(r.status, 0, r.stderr);
                        assert.strictEqual(fs.readFileSync(out, "utf8"), fs.readFileSync(path.join(FIXTURE_APP, "requirements", `${lock}.txt`), "utf8"), service);
                    }
                    fs.writeFileSync(path.join(app, "requirements", "unified-web-agent.in"), "starlette==0.36.3\nhttpx==0.27.0\n");
                    const r = spawnSync("bash", [script, app], { encoding: "utf8", env: { ...env, FLEET_LOCK_ONLY: "UnifiedWebAgent" } });
                    assert.deepStrictEqual([r.status, r.stderr.trim()], [1, "lock: UnifiedWebAgent: starlette==0.36.3 would replace starlette==0.37.2 of family family-web. Fix: ask for 0.37.2 in requirements/unified-web-agent.in, or change the family pin"]);
                });
            }

            it("docker stop ends every service promptly: tini forwards SIGTERM, nothing is killed after the grace period", async () => {
                const seconds: Record<string, number> = {};
                await Promise.all(Object.entries(services).map(async ([n, s]) => {
                    const started = Date.now();
                    await docker.getContainer(s.container).stop({ t: 10 });
                    seconds[n] = (Date.now() - started) / 1000;
                }));
                for (const [n, s] of Object.entries(services)) {
                    const state = (await docker.getContainer(s.container).inspect()).State;
                    assert.strictEqual(state.ExitCode, 0, `${n} exited ${state.ExitCode} (137 would mean killed after the grace period)`);
                }
                const slowest = Object.entries(seconds).sort(([, a], [, b]) => b - a)[0];
                console.log(`      stop: slowest ${slowest[0]} ${slowest[1].toFixed(1)}s of ${Object.keys(seconds).length}`);
            });
        });
    }
});

// Last, because it empties the builder cache every later build would start from.
describe("the registry cache (push-shaped mainpc), on an empty builder cache", () => {
    it("a service image rebuilt with no local build cache imports its registry cache: every RUN step is CACHED, none runs again", async () => {
        assert.ok(mainpcFirst, "the mainpc stack ran earlier in this process");
        const img = mainpcFirst!.resources.find((r: Registered) => r.type === "docker-build:index:Image" && r.name === "nlu-agent")!;
        assert.ok(img.inputs.cacheFrom?.length, "the image names its registry cache");
        execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
        const h = new EngineHarness();
        try {
            await h.applyOne(img);
            const log = h.buildLogs["nlu-agent"];
            assert.match(log, /importing cache manifest from 127\.0\.0\.1:5000\/fleet-engine\/cache:nlu-agent/);
            const hits = cacheHits(log);
            assert.ok(hits.runs >= 2, `the image has RUN steps (${hits.runs})`);
            assert.deepStrictEqual([hits.cachedRuns, hits.runs], [hits.runs, hits.runs], "every RUN step came from the registry cache");
        } finally {
            await h.cleanup();
        }
    });
});
