/**
 * What each service's image holds (its packages installed for real, one environment per
 * chain), what a bad pin does to a build, the requirement locks, and how services stop.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exactPins } from "../../../fleet/imageplan/appRepo";
import { familyPins, serviceSpec } from "../../../fleet/model/images";
import { FIXTURE_APP, realFleet, standIns } from "../../helpers";
import { PROJECT_DIR, Registered } from "../../mocks";
import { EngineHarness } from "../harness";
import { engineEvents, ENVIRONMENT_PROBE, exec, StackContext } from "./context";

export function packageChecks(ctx: StackContext): void {
    if (ctx.stack === "local") it("a pin the package index lacks fails the build naming the family, or the service, and the package; nothing is half-built", async () => {
        const h = new EngineHarness();
        const imageOf = (name: string) => ctx.first.resources.find((r: Registered) => r.type === "docker-build:index:Image" && r.name === name)!;
        const tagged = async (tag: string) => (await ctx.docker.getImage(tag).inspect()).Id;
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
            // A copy of its staged build context (fleet/imageplan/stage.ts) with the lock broken.
            const copy = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-engine-badpin-"));
            fs.cpSync(path.join(PROJECT_DIR, service.inputs.context.location), copy, { recursive: true });
            const lock = path.join(copy, "requirements/nlu-agent.txt");
            assert.ok(fs.readFileSync(lock, "utf8").includes("certifi==2024.2.2 \\"), "nlu-agent's lock pins certifi 2024.2.2");
            fs.writeFileSync(lock, fs.readFileSync(lock, "utf8").replace("certifi==2024.2.2 \\", "certifi==2099.1.1 \\"));
            const serviceId = await tagged(service.inputs.tags[0]);
            try {
                await assert.rejects(h.applyOne({ ...service, inputs: { ...service.inputs, context: { location: copy } } }), (e: Error) => {
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
        const dists = standIns();
        const modules = new Map(dists.map((x) => [`${x.name}==${x.version}`, x.import]));
        for (const [name, s] of Object.entries(ctx.services)) {
            const family = d.services[name].family;
            const own = exactPins(fs.readFileSync(path.join(ctx.app, serviceSpec(d, name).requirements), "utf8"));
            const want = [...familyPins(d, family), ...own].map((p) => [p.name, p.version, modules.get(`${p.name}==${p.version}`)]);
            assert.ok(want.every((w) => w[2] !== undefined), `${name}: every pin has a stand-in`);
            // The fixture's GPU services use the standard library only: their chains' pins are what they check.
            assert.ok(own.length > 0 || d.services[name].compute === "gpu", `${name}: its lock adds something`);
            const web = family === "family-web";
            const probe = await exec(ctx.docker, s.container, ["env", ...(web ? ["PROBE_NAMESPACE=1"] : []), "/opt/venv/bin/python", "-c", ENVIRONMENT_PROBE, JSON.stringify(want)]);
            assert.strictEqual(probe.code, 0, `${name}: ${probe.output}`);
            const r = JSON.parse(probe.output);
            assert.deepStrictEqual(r, {
                uid: 10001, twice: {}, got: Object.fromEntries(want.map(([n, v]) => [n, [v, v]])),
                // websockets' .pth (family-web) runs at interpreter start; the namespace
                // package fleetstandin has one portion from base-cpu-pydeps, one from family-web.
                pth: web ? "websockets" : null, namespace: web ? ["uvicorn", "gunicorn"] : [],
            }, name);
            // The root filesystem is read-only: without --no-cache-dir pip warns that it cannot use its cache.
            assert.deepStrictEqual(await exec(ctx.docker, s.container, ["/opt/venv/bin/pip", "check", "--no-cache-dir"]), { code: 0, output: "No broken requirements found." }, name);
            // The first console script of the chain (uvicorn on the CPU chains, accelerate on the
            // LLM one); the torch and vision chains' stand-ins have none.
            const scripted = familyPins(d, family).map((p) => dists.find((x) => x.name === p.name && x.version === p.version)!).find((x) => x.scripts);
            const script = scripted ? Object.keys(scripted.scripts!)[0] : undefined;
            assert.deepStrictEqual(await exec(ctx.docker, s.container, ["sh", "-c", `id -u${script ? `; ${script}` : ""}`]), { code: 0, output: `10001${scripted ? `\n${scripted.name} ${scripted.version}` : ""}` }, name);
        }
    });

    if (ctx.stack === "pc2") {
        it("scripts/lock-requirements.sh resolves each fixture service in its family image to the committed lock, and refuses to replace a family package", () => {
            const env = { ...process.env, FLEET_LOCK_IMAGES: "localhost/ai-system", FLEET_LOCK_INDEX: "http://127.0.0.1:3141/simple/" };
            const script = path.join(__dirname, "..", "..", "..", "scripts", "lock-requirements.sh");
            // The stack's later tests deploy this application again: whatever this test changes, it puts back.
            const touched = ["unified-web-agent.txt", "cache-manager.txt", "unified-web-agent.in"].map((f) => path.join(ctx.app, "requirements", f));
            const saved = touched.map((f) => fs.readFileSync(f));
            try {
                // One service per CPU family of pc2: each lock takes two containers.
                for (const [service, lock] of [["UnifiedWebAgent", "unified-web-agent"], ["CacheManager", "cache-manager"]]) {
                    const out = path.join(ctx.app, "requirements", `${lock}.txt`);
                    fs.rmSync(out);
                    const r = spawnSync("bash", [script, ctx.app], { encoding: "utf8", env: { ...env, FLEET_LOCK_ONLY: service } });
                    assert.strictEqual(r.status, 0, r.stderr);
                    assert.strictEqual(fs.readFileSync(out, "utf8"), fs.readFileSync(path.join(FIXTURE_APP, "requirements", `${lock}.txt`), "utf8"), service);
                }
                fs.writeFileSync(touched[2], "starlette==0.36.3\nhttpx==0.27.0\n");
                const r = spawnSync("bash", [script, ctx.app], { encoding: "utf8", env: { ...env, FLEET_LOCK_ONLY: "UnifiedWebAgent" } });
                assert.deepStrictEqual([r.status, r.stderr.trim()], [1, "lock: UnifiedWebAgent: starlette==0.36.3 would replace starlette==0.37.2 of family family-web. Fix: ask for 0.37.2 in requirements/unified-web-agent.in, or change the family pin"]);
            } finally {
                touched.forEach((f, i) => fs.writeFileSync(f, saved[i]));
            }
        });
    }
}

/** Last of a stack: the services are stopped. */
export function stopChecks(ctx: StackContext): void {
    it("docker stop ends every service promptly: tini forwards SIGTERM, nothing is killed after the grace period", async () => {
        const seconds: Record<string, number> = {};
        const since = Math.floor(Date.now() / 1000) - 1;
        // What a process that outlives its grace period was doing, taken 8 s into the 10 s.
        const stuck: Record<string, string> = {};
        const watch = setTimeout(() => {
            for (const [n, s] of Object.entries(ctx.services)) if (seconds[n] === undefined) stuck[n] = processReport(s.container);
        }, 8000);
        try {
            await Promise.all(Object.entries(ctx.services).map(async ([n, s]) => {
                const started = Date.now();
                await ctx.docker.getContainer(s.container).stop({ t: 10 });
                seconds[n] = (Date.now() - started) / 1000;
            }));
        } finally {
            clearTimeout(watch);
        }
        const until = Math.ceil(Date.now() / 1000) + 1;
        for (const [n, s] of Object.entries(ctx.services)) {
            const info = await ctx.docker.getContainer(s.container).inspect();
            // On failure, what the engine knew: its state (OOMKilled, restarts), the signals it
            // sent, the processes at 8 s, and the last log lines of both streams.
            if (info.State.ExitCode !== 0) {
                const events = (await engineEvents(ctx.docker, since, until)).filter((e) => e.Actor?.ID === info.Id)
                    .map((e) => `${new Date((e.timeNano ?? 0) / 1e6).toISOString()} ${e.Action}${e.Actor?.Attributes?.signal ? ` signal ${e.Actor.Attributes.signal}` : ""}`);
                const logs = spawnSync("docker", ["logs", "--tail", "12", "--timestamps", s.container], { encoding: "utf8" });
                const lines = `${logs.stdout}${logs.stderr}`.split("\n").filter((l) => l).sort().join("\n");
                assert.fail(`${n} exited ${info.State.ExitCode} (137 would mean killed after the grace period), stopped in ${seconds[n].toFixed(1)} s, restarted ${info.RestartCount} times: ${JSON.stringify(info.State)}\nevents:\n${events.join("\n")}\nat 8 s:\n${stuck[n] ?? "(stopped by then)"}\nlogs:\n${lines}`);
            }
        }
        const slowest = Object.entries(seconds).sort(([, a], [, b]) => b - a)[0];
        console.log(`      stop: slowest ${slowest[0]} ${slowest[1].toFixed(1)}s of ${Object.keys(seconds).length}`);
    });
}

/**
 * The container's processes and threads as the host's kernel shows them: state, where each
 * sleeps, and the signals pending, blocked and caught (/proc/<pid>/status).
 */
function processReport(container: string): string {
    const top = spawnSync("docker", ["top", container, "-eLo", "pid,tid,stat,wchan:24,args"], { encoding: "utf8" });
    if (top.status !== 0) return `docker top: ${top.stderr.trim()}`;
    const pids = [...new Set(top.stdout.split("\n").slice(1).map((l) => l.trim().split(/\s+/)[0]).filter((p) => /^\d+$/.test(p)))];
    const signals = pids.map((pid) => {
        try {
            const status = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").filter((l) => /^(SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):/.test(l));
            return `${pid}: ${status.join(" ")}`;
        } catch (e) {
            return `${pid}: ${(e as Error).message}`;
        }
    });
    return `${top.stdout.trim()}\n${signals.join("\n")}`;
}
