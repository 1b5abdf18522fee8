/**
 * Changes as operators make them: one service's source, and a service whose new image never
 * turns healthy.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { containerName } from "../../../fleet/model/names";
import * as os from "os";
import { PROJECT_DIR } from "../../mocks";
import { brokenCheckout, CHANGED, containerIds, get, noneFailed, probed, StackContext } from "./context";

export function changeChecks(ctx: StackContext): void {
    it("changing one service's source rebuilds only its image and replaces only its container", async () => {
        const before = await containerIds(ctx.docker, ctx.services);
        const { service, file } = CHANGED[ctx.machine];
        fs.appendFileSync(path.join(ctx.app, file), "# changed by the engine test\n");
        const container = containerName(service);
        // The pull request's preview first: the image's new digest is unknown until built, and
        // what depends on it previews as replaced, which here is what `up` then does.
        await ctx.harness.preview(ctx.config());
        const previewed = ctx.harness.changes();
        assert.deepStrictEqual(ctx.harness.pending(), [], "a preview carries nothing out");
        assert.deepStrictEqual(await containerIds(ctx.docker, ctx.services), before, "a preview carries nothing out");
        const p = await probed(ctx, service, () => ctx.harness.run(ctx.config()));
        if (p.result instanceof Error) throw p.result;
        const changedRun = p.result;
        // Started beside the old one, admitted by the front, the old one drained, then stopped.
        noneFailed(p, 20, `${service} replaced by a good image`);
        assert.deepStrictEqual(previewed, ctx.harness.changes(), "the preview showed what up did");
        assert.deepStrictEqual(ctx.harness.changes(), [
            `command:local:Command ${container}-start replace`,
            // Its triggers are the host's image tags, as the GPU probe's (a stack with GPU services).
            ...(ctx.stack === "local" ? [] : [`command:local:Command ${ctx.machine}-gpu-probe replace`]),
            `command:local:Command ${ctx.machine}-preflight replace`,
            `docker-build:index:Image ${container} update`, // docker-build's Diff never replaces: Update builds again
            `docker:index/container:Container ${container} replace`,
            `docker:index/remoteImage:RemoteImage ${container} replace`,
        ].sort());
        if (ctx.stack === "mainpc") {
            const image = ctx.harness.exportDeployment(changedRun).deployment.resources.find((r) => r.type === "docker-build:index:Image" && r.urn.endsWith(`::${container}`))!;
            assert.deepStrictEqual(ctx.harness.pushed, [(image.inputs.tags as string[])[0]], "one image pushed");
        }
        for (const [n, s] of Object.entries(ctx.services)) {
            const id = (await ctx.docker.getContainer(s.container).inspect()).Id;
            if (n === service) assert.notStrictEqual(id, before[n], `${n} was replaced`);
            else assert.strictEqual(id, before[n], `${n} kept its container`);
        }
    });

    if (ctx.stack === "local") it("a new image that turns healthy, then crashes within the stability window: `up` fails saying so while the previous container keeps serving, no request lost; the fix takes over", async function () {
        this.timeout(600000);
        const [service, entry] = ["CodeGenerator", "main_pc_code/agents/code_generator_agent.py"];
        const second = brokenCheckout(ctx, service, entry, "crashes once healthy");
        const previous = ctx.services[service].container;
        const previousId = (await ctx.docker.getContainer(previous).inspect()).Id;
        const p = await probed(ctx, service, () => ctx.harness.run(second.cfg(), { projectDir: second.projectDir }));
        assert.ok(p.result instanceof Error, "the up fails");
        assert.match(p.result.message, new RegExp(`\\n${service} \\(${containerName(service)}-[0-9a-f]{7}\\) turned healthy, then did not stay so for 5 s: state \\w+, health \\w+, exit code \\d+, restarted [1-9]\\d* times;`));
        assert.match(p.result.message, new RegExp(`\\n${service}: the previous container ${previous} kept serving\\.\\n`));
        noneFailed(p, 100, "an image that crashes once healthy, not taking over");
        const info = await ctx.docker.getContainer(previous).inspect();
        assert.deepStrictEqual([info.Id, info.State.Running, info.State.Health?.Status], [previousId, true, "healthy"]);
        second.fix();
        const fixed = await probed(ctx, service, () => ctx.harness.run(second.cfg(), { projectDir: second.projectDir }));
        if (fixed.result instanceof Error) throw fixed.result;
        noneFailed(fixed, 20, "the fix taking over");
        await ctx.harness.run(ctx.config());
    });

    if (ctx.stack === "local") it("a port added to one service reloads the host front: no request to another service is lost, on its port or its name, no other container is replaced, and the front listens on the new port", async function () {
        this.timeout(600000);
        const [moved, watched] = ["NLUAgent", "Executor"];
        const before = await containerIds(ctx.docker, ctx.services);
        const data = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-metrics-data-"));
        fs.cpSync(path.join(PROJECT_DIR, "fleet", "data"), data, { recursive: true });
        const file = path.join(data, "services.yaml");
        const text = fs.readFileSync(file, "utf8");
        const entry = new RegExp(`(\\n  ${moved}:\\n(?:    .*\\n)*?    ports: \\{ service: \\d+, health: \\d+)( \\})`);
        assert.match(text, entry, `${moved}'s ports in services.yaml`);
        fs.writeFileSync(file, text.replace(entry, "$1, metrics: [9709]$2"));
        process.env.FLEET_DATA_DIR = data;
        try {
            const p = await probed(ctx, watched, () => ctx.harness.run(ctx.config()));
            if (p.result instanceof Error) throw p.result;
            noneFailed(p, 20, `the host front reloaded for ${moved}'s new metrics port`);
            assert.ok(ctx.harness.changes().includes(`command:local:Command ${ctx.machine}-front-start update`), "the front's command ran again: a reload");
            assert.ok(!ctx.harness.changes().includes(`docker:index/container:Container ${ctx.machine}-front replace`), "the front itself stays");
            const after = await containerIds(ctx.docker, ctx.services);
            for (const [n, id] of Object.entries(before)) if (n !== moved) assert.strictEqual(after[n], id, `${n} kept its container`);
            // The front listens on the new port, on the stack's address and the gateway.
            const listening = execFileSync("ss", ["-Hltn", "sport", "= :9709"], { encoding: "utf8" }).split("\n").filter(Boolean).map((l) => l.split(/\s+/)[3]).sort();
            assert.deepStrictEqual(listening, ["10.230.0.1:9709", "127.0.0.1:9709"]);
            assert.strictEqual((await get(Number(new URL(ctx.services[moved].health).port), "/health")).status, 200, `${moved} answers`);
            // The port taken away again: a second reload, whose new worker loads the slots the first
            // one loaded (HAProxy 2.6.12 applies a saved name only to a slot marked as named through
            // its API, a mark it does not show again after loading: fleet-front-ctl `kept`).
            delete process.env.FLEET_DATA_DIR;
            const back = await probed(ctx, watched, () => ctx.harness.run(ctx.config()));
            if (back.result instanceof Error) throw back.result;
            noneFailed(back, 20, `the host front reloaded without ${moved}'s metrics port`);
            assert.ok(ctx.harness.changes().includes(`command:local:Command ${ctx.machine}-front-start update`), "the front reloaded again");
            await new Promise((r) => setTimeout(r, 3000)); // past the resolvers' hold: a slot that lost its name is down by then
            for (const [n, s] of Object.entries(ctx.services)) assert.strictEqual((await fetch(s.health)).status, 200, `${n} answers after two reloads`);
        } finally {
            delete process.env.FLEET_DATA_DIR;
            fs.rmSync(data, { recursive: true, force: true });
            await ctx.harness.run(ctx.config());
        }
    });

    if (ctx.stack === "local") it("the host front replaced (a new HAProxy image, `--replace` here): removed first, the earlier design's fronts stopped before the new one starts, every service answers again through it (the admitted slots come from its volume); the gap is reported", async function () {
        this.timeout(600000);
        const service = "Executor";
        // A container of the fleet's earlier design (one front per service, which held the host ports the host front binds).
        const earlier = `fleet-test-earlier-front-${process.pid}`;
        const image = (await ctx.docker.getContainer("docker-api-proxy").inspect()).Image;
        execFileSync("docker", ["run", "-d", "--name", earlier, "--label", "fleet.role=front", "--label", `fleet.machine=${ctx.machine}`, "--entrypoint", "sleep", image, "600"], { stdio: "ignore" });
        try {
            const p = await probed(ctx, service, () => ctx.harness.run(ctx.config(), { replace: (type, name) => type === "docker:index/container:Container" && name === `${ctx.machine}-front` }));
            if (p.result instanceof Error) throw p.result;
            assert.ok(ctx.harness.changes().includes(`docker:index/container:Container ${ctx.machine}-front replace`));
            assert.strictEqual((await ctx.docker.getContainer(earlier).inspect()).State.Running, false, "the earlier front was stopped");
            for (const [n, s] of Object.entries(ctx.services)) assert.strictEqual((await fetch(s.health)).status, 200, `${n} answers through the new front`);
            // Reported, not asserted: a replaced front is a gap for every service (fleet diff says so).
            console.log(`      the host front's replacement: ${p.host.failed} of ${p.host.ok + p.host.failed} requests failed on ${service}'s port, longest gap ${p.host.longestGapMs} ms`);
        } finally {
            execFileSync("docker", ["rm", "-f", earlier], { stdio: "ignore" });
        }
    });

    if (ctx.stack === "local") it("`up` interrupted in the middle of a replacement (its start command killed once the new container runs beside the old one): the service never stops answering, and the next `up` converges to one healthy container", async function () {
        this.timeout(600000);
        const service = "Executor";
        const resource = containerName(service);
        const file = path.join(ctx.app, "main_pc_code/agents/executor.py");
        const before = fs.readFileSync(file, "utf8");
        fs.appendFileSync(file, "# changed by the interrupted-up test\n");
        try {
            const previous = ctx.services[service].container;
            const running = async () => (await ctx.docker.listContainers({ filters: { label: [`fleet.service=${service}`, `fleet.machine=${ctx.machine}`] } })).map((c) => c.Names[0].slice(1));
            const p = await probed(ctx, service, async () => {
                const up = ctx.harness.run(ctx.config());
                // Like the engine's cancellation of a running command (pulumi-command kills its
                // process through its context): once the new container runs beside the old one.
                for (let i = 0; i < 600 && (await running()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
                execFileSync("pkill", ["-KILL", "-f", `container-start\\.sh ${resource}-`]);
                return up;
            });
            assert.ok(p.result instanceof Error, "the interrupted up fails");
            assert.match(p.result.message, new RegExp(`command:local:Command ${resource}-start: exit status`));
            noneFailed(p, 20, "an interrupted replacement");
            assert.ok((await running()).includes(previous), "the old container still runs");
            const q = await probed(ctx, service, () => ctx.harness.run(ctx.config()));
            if (q.result instanceof Error) throw q.result;
            noneFailed(q, 20, "the next up");
            const now = await running();
            assert.deepStrictEqual(now, [ctx.services[service].container], "one container of the service runs: the new one");
            assert.notStrictEqual(now[0], previous);
            assert.strictEqual((await ctx.docker.getContainer(now[0]).inspect()).State.Health?.Status, "healthy");
            assert.deepStrictEqual(ctx.harness.pending(), []);
        } finally {
            fs.writeFileSync(file, before);
            await ctx.harness.run(ctx.config());
        }
    });

    if (ctx.stack === "local") it("a new image that never turns healthy: `up` fails naming the service while the previous container (same id) keeps serving, no request lost on its port or alias; the same `up`, `refresh` then `up`, and `up --refresh` all fail again the same way; the fix takes over with no lost request and deletes what was pending", async function () {
        this.timeout(900000);
        const [service, entry] = ["CodeGenerator", "main_pc_code/agents/code_generator_agent.py"];
        const resource = containerName(service);
        const second = brokenCheckout(ctx, service, entry);
        const h = ctx.harness;
        const cfg = second.cfg;
        const previous = ctx.services[service].container;
        const previousId = (await ctx.docker.getContainer(previous).inspect()).Id;
        const serving = async (why: string) => {
            const info = await ctx.docker.getContainer(previous).inspect();
            assert.deepStrictEqual([info.Id, info.State.Running, info.State.Health?.Status], [previousId, true, "healthy"], `${why}: the previous container serves`);
            const health = ctx.services[service].health;
            assert.strictEqual((await fetch(health)).status, 200, `${why}: ${health} answers`);
        };
        let failedName = "";
        const failed = (e: Error) => {
            const m = new RegExp(`^harness: command:local:Command ${resource}-start: exit status 1: running "bash scripts/container-start\\.sh (${resource}-[0-9a-f]{7}) ${service} ${ctx.machine} 256 10 5 overlap fleet-${ctx.machine}-front fleet-${ctx.machine}-net \\S+ 15 10":\n`).exec(e.message);
            assert.ok(m, e.message);
            failedName = m[1];
            assert.notStrictEqual(failedName, previous, "a new container, beside the previous one");
            assert.match(e.message, new RegExp(`\\n${service} \\(${failedName}\\) is not healthy after 10 s: state running, health (starting|unhealthy)`));
            assert.match(e.message, /the engine test's broken CodeGenerator/, "its last log lines");
            assert.match(e.message, new RegExp(`\\n${service}: the previous container ${previous} kept serving\\.\\n`));
            return true;
        };
        const p = await probed(ctx, service, () => h.run(cfg(), { projectDir: second.projectDir }));
        assert.ok(p.result instanceof Error && failed(p.result), "the up fails");
        // The new container never took a request: it started beside the old one, which kept serving.
        noneFailed(p, 100, "a broken image not taking over");
        await serving("after the failed up");
        assert.strictEqual((await ctx.docker.getContainer(failedName).inspect()).State.Running, false, "the new container stopped, kept for its logs");
        // Created first: the previous container and its image are pending deletion, not deleted.
        const pending = [`docker:index/container:Container ${resource}`, `docker:index/remoteImage:RemoteImage ${resource}`, "command:local:Command mainpc-preflight"].sort();
        assert.deepStrictEqual(h.pending().sort(), pending);
        assert.deepStrictEqual(h.stored("docker:index/container:Container", resource)!.initErrors, [], "the provider only created it: no health wait, no init error");

        // Nothing changed: the container is the same, and its start, never successful, runs again.
        await assert.rejects(h.run(cfg(), { projectDir: second.projectDir }), failed);
        assert.strictEqual(h.events.find((e) => e.name === resource && e.type === "docker:index/container:Container")!.action, "same");
        await serving("after the same up again");
        await h.refresh();
        await assert.rejects(h.run(cfg(), { projectDir: second.projectDir }), failed);
        await serving("after refresh, then up");
        await assert.rejects(h.run(cfg(), { projectDir: second.projectDir, refresh: true }), failed);
        await serving("after up --refresh");
        assert.deepStrictEqual(h.pending().sort(), pending, "a failed run deletes none of them");

        second.fix();
        const fixed = await probed(ctx, service, () => h.run(cfg(), { projectDir: second.projectDir }));
        if (fixed.result instanceof Error) throw fixed.result;
        noneFailed(fixed, 20, "the fix taking over");
        const now = ctx.services[service].container;
        assert.strictEqual((await ctx.docker.getContainer(now).inspect()).State.Health?.Status, "healthy");
        assert.deepStrictEqual(h.pending(), [], "the successful run deleted what was pending");
        for (const gone of [previous, failedName]) assert.strictEqual(await ctx.docker.getContainer(gone).inspect().then(() => true, () => false), false, `${gone} is gone`);
        // Back to this checkout: only the wait differs, an argument of the start command, which
        // runs again (an update) and finds its container running and healthy.
        await h.run(ctx.config());
        assert.deepStrictEqual(h.changes(), [`command:local:Command ${resource}-start update`]);
    });
}
