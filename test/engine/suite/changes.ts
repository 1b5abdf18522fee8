/**
 * Changes as operators make them: one service's source, and a service whose new image never
 * turns healthy.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { appRepoOverride, stackConfig } from "../../mocks";
import { CHANGED, containerIds, secondCheckout, StackContext, STACKS } from "./context";

export function changeChecks(ctx: StackContext): void {
    it("changing one service's source rebuilds only its image and replaces only its container", async () => {
        const before = await containerIds(ctx.docker, ctx.services);
        const { service, file } = CHANGED[ctx.machine];
        fs.appendFileSync(path.join(ctx.app, file), "# changed by the engine test\n");
        const container = ctx.services[service].container;
        // The pull request's preview first: the image's new digest is unknown until built, and
        // what depends on it previews as replaced, which here is what `up` then does.
        await ctx.harness.preview(ctx.config());
        const previewed = ctx.harness.changes();
        assert.deepStrictEqual(ctx.harness.pending(), [], "a preview carries nothing out");
        assert.deepStrictEqual(await containerIds(ctx.docker, ctx.services), before, "a preview carries nothing out");
        const changedRun = await ctx.harness.run(ctx.config());
        assert.deepStrictEqual(previewed, ctx.harness.changes(), "the preview showed what up did");
        assert.deepStrictEqual(ctx.harness.changes(), [
            `command:local:Command ${container}-pids-limit replace`,
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

    if (ctx.stack === "local") it("a failed health wait stays failed: a new image that never turns healthy fails `up` naming the service; the same `up` again, `refresh` then `up`, and `up --refresh` all fail again, naming it; what was replaced create-first stays pending until the fixed image turns green", async function () {
        this.timeout(900000);
        // From a second checkout whose data gives the service a 10 s wait (services.yaml
        // health.waitTimeoutSeconds), so the failed waits do not take its family's 120 s each.
        const second = secondCheckout(ctx.app);
        const data = path.join(second.projectDir, "fleet", "data", "services.yaml");
        const [service, entry] = ["CodeGenerator", "main_pc_code/agents/code_generator_agent.py"];
        const text = fs.readFileSync(data, "utf8");
        const slow = text.replace(/(  CodeGenerator:\n(?:    .*\n)*?)(    entrypoint: )/, "$1    health: { kind: http, waitTimeoutSeconds: 10 }\n$2");
        assert.notStrictEqual(slow, text, "CodeGenerator's entry in services.yaml");
        fs.writeFileSync(data, slow);
        const good = fs.readFileSync(path.join(second.app, entry), "utf8");
        // It runs and never answers: a container that exited would read back changed (mustRun false) and be replaced.
        fs.writeFileSync(path.join(second.app, entry), `import time\nprint("the engine test's broken ${service}", flush=True)\ntime.sleep(100000)\n`);
        const h = ctx.harness;
        const cfg = () => stackConfig(ctx.stack, STACKS[ctx.stack].overrides, appRepoOverride(second.app));
        const container = ctx.services[service].container;
        const failed = (e: Error) => e.message.startsWith(`harness: docker:index/container:Container ${container}: container failed to be in healthy state`);
        await assert.rejects(h.run(cfg(), { projectDir: second.projectDir }), failed);
        assert.strictEqual(h.stored("docker:index/container:Container", container)!.initErrors.length, 1, "recorded with its init error, as the engine keeps it");
        // Created first and replaced before the container failed: pending deletion, not deleted.
        const pending = [`docker:index/remoteImage:RemoteImage ${container}`, "command:local:Command mainpc-preflight"].sort();
        assert.deepStrictEqual(h.pending().sort(), pending);
        await assert.rejects(h.run(cfg(), { projectDir: second.projectDir }), failed);
        const again = h.events.find((e) => e.name === container && e.type === "docker:index/container:Container")!;
        assert.strictEqual(again.action, "replace", "init errors and replaceOnChanges *: replaced and waited for again");
        assert.ok(again.why.some((w) => w.startsWith("#initerror: container failed to be in healthy state")), again.why.join("; "));
        assert.deepStrictEqual(h.pending().sort(), pending, "a failed run deletes none of them");

        // A refresh forgets the init error (the engine stores what Read returns), so the container
        // is the same; its PIDs-limit command, never created for this container, confirms health and fails.
        // (Its state was the create's partial one, the config and the id; the refresh stores it as read.)
        await h.refresh();
        assert.deepStrictEqual(h.stored("docker:index/container:Container", container)!.initErrors, []);
        const confirm = `harness: command:local:Command ${container}-pids-limit: exit status 1: running "bash scripts/container-ready.sh ${container} ${service} 256 10":\n`;
        const unhealthy = (e: Error) => {
            assert.ok(e.message.startsWith(confirm), e.message);
            assert.match(e.message, new RegExp(`\\n${service} \\(${container}\\) is not healthy after 10 s: state running, health (starting|unhealthy)`));
            assert.match(e.message, /the engine test's broken CodeGenerator/, "its last log lines");
            return true;
        };
        await assert.rejects(h.run(cfg(), { projectDir: second.projectDir }), unhealthy);
        assert.strictEqual(h.events.find((e) => e.name === container && e.type === "docker:index/container:Container")!.action, "same", "refreshed: no init error left to replace it");
        await assert.rejects(h.run(cfg(), { projectDir: second.projectDir }), unhealthy);
        await assert.rejects(h.run(cfg(), { projectDir: second.projectDir, refresh: true }), unhealthy);
        assert.notStrictEqual((await ctx.docker.getContainer(container).inspect()).State.Health?.Status, "healthy");

        fs.writeFileSync(path.join(second.app, entry), good);
        await h.run(cfg(), { projectDir: second.projectDir });
        assert.strictEqual((await ctx.docker.getContainer(container).inspect()).State.Health?.Status, "healthy");
        assert.strictEqual(h.stored("docker:index/container:Container", container)!.initErrors.length, 0);
        assert.deepStrictEqual(h.pending(), [], "the successful run deleted what was pending");
        // Back to this checkout: only the wait differs, and only that container is replaced.
        await h.run(ctx.config());
        assert.deepStrictEqual(h.changes(), [`command:local:Command ${container}-pids-limit replace`, `docker:index/container:Container ${container} replace`]);
    });
}
