/**
 * mainpc push-shaped: images pushed to a real registry with their cache, children built FROM
 * their parent's tag@digest, containers pulled by digest; rollback by pin and by build lock.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { imageTargetUrns } from "../../../fleet/imageplan/buildPlan";
import { buildLock } from "../../../fleet/imageplan/lock";
import { containerName } from "../../../fleet/model/names";
import { planHost } from "../../../fleet/model/plan";
import { parsedStack, realFleet } from "../../helpers";
import { pinAllOverride, pinsOverride, Registered } from "../../mocks";
import { EngineHarness, withoutTag } from "../harness";
import { runFleet } from "../../fleet/ops/project";
import { authRegistry, CHANGED, containerIds, noneFailed, probed, REGISTRY, registryDigest, ServiceOutput, StackContext, STACKS } from "./context";

export function pushShaped(ctx: StackContext): void {
    const repoOf = (ref: string) => withoutTag(ref).slice(0, withoutTag(ref).indexOf("@"));
    let changedDigest = "";
    /** The first run's services output (its images and digests); `ctx.services` is the latest run's. */
    const first = () => ctx.first.outputs.services as Record<string, ServiceOutput>;

    it("after the one-file change, the changed service runs its new image (the rollbacks below go back from it)", async () => {
        changedDigest = (await ctx.docker.getContainer(ctx.services[CHANGED.mainpc.service].container).inspect()).Config.Labels["fleet.image-digest"];
        assert.notStrictEqual(changedDigest, first()[CHANGED.mainpc.service].imageDigest);
    });

    it("rollback: a digest pin replaces only that container, pulled from the registry by digest, nothing built", async () => {
        const { service } = CHANGED.mainpc;
        const s = first()[service];
        const res = containerName(service);
        const original = s.imageDigest; // the first run's digest, before the source change
        assert.notStrictEqual(original, changedDigest);
        const repo = repoOf(s.image);
        // The daemon no longer holds it: the rollback must come from the registry.
        for (const name of [s.image.slice(0, s.image.indexOf("@")), `${repo}@${original}`]) await ctx.docker.getImage(name).remove().catch(() => undefined);
        assert.strictEqual(await ctx.docker.getImage(`${repo}@${original}`).inspect().then(() => true, () => false), false, "the old image is gone from the daemon");
        const before = await containerIds(ctx.docker, ctx.services);
        // A rollback takes over as any deploy does: the CPU service never stops answering.
        const p = await probed(ctx, service, () => ctx.harness.run(ctx.config(pinsOverride([`${service}=${original}`]))));
        if (p.result instanceof Error) throw p.result;
        noneFailed(p, 20, "a rollback by a digest pin");
        assert.deepStrictEqual(ctx.harness.changes(), [
            `command:local:Command ${res}-start replace`,
            "command:local:Command mainpc-gpu-probe replace", // triggered as the preflight
            "command:local:Command mainpc-preflight replace", // the pinned image is no longer among the built tags
            // Nothing builds it now: it leaves the state, and the registry keeps it (retainOnDelete).
            `docker-build:index:Image ${res} delete`,
            `docker:index/container:Container ${res} replace`,
            `docker:index/remoteImage:RemoteImage ${res} replace`,
        ]);
        assert.ok(await registryDigest(s.image.slice(0, s.image.indexOf("@"))), "the image the pin replaced is still in the registry");
        assert.deepStrictEqual([ctx.harness.pushed, Object.keys(ctx.harness.buildSeconds), ctx.harness.pulled], [[], [], [`${repo}@${original}`]]);
        const c = await ctx.docker.getContainer(ctx.services[service].container).inspect();
        assert.strictEqual(c.State.Health?.Status, "healthy");
        assert.strictEqual(c.Config.Labels["fleet.image-digest"], original);
        assert.ok((await ctx.docker.getImage(c.Image).inspect()).RepoDigests.includes(`${repo}@${original}`));
        for (const [n, x] of Object.entries(ctx.services)) {
            if (n !== service) assert.strictEqual((await ctx.docker.getContainer(x.container).inspect()).Id, before[n], `${n} kept its container`);
        }
    });

    it("a pin to a digest the registry lacks fails at the pull, naming it, and the running container keeps running", async () => {
        const { service } = CHANGED.mainpc;
        const s = first()[service];
        const res = containerName(service);
        const missing = `sha256:${"0".repeat(63)}1`;
        const running = (await ctx.docker.getContainer(ctx.services[service].container).inspect()).Id;
        await assert.rejects(ctx.harness.run(ctx.config(pinsOverride([`${service}=${missing}`]))),
            (e: Error) => e.message.startsWith(`harness: docker:index/remoteImage:RemoteImage ${res}: pull of ${repoOf(s.image)}@${missing} failed: `) && /manifest unknown|not found/.test(e.message));
        const after = await ctx.docker.getContainer(ctx.services[service].container).inspect();
        assert.deepStrictEqual([after.Id, after.State.Running, after.State.Health?.Status], [running, true, "healthy"]);
    });

    it("rollback of everything from the stack's history: `fleet rollback` reads the first deployment's checkpoint (a DIY history file, gzip) and writes the lock pinAll takes; only the container whose image changed since is replaced, its image pulled by digest, nothing built or pushed", async () => {
        const { service } = CHANGED.mainpc;
        const s = first()[service];
        const res = containerName(service);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-rollback-"));
        const history = path.join(dir, `mainpc-${Date.now()}000000.checkpoint.json.gz`);
        fs.writeFileSync(history, zlib.gzipSync(JSON.stringify(EngineHarness.checkpoint("mainpc", ctx.firstExport, ctx.first.outputs))));
        const file = path.join(dir, "build-lock-mainpc.json");
        const rolled = runFleet(["rollback", "mainpc", "--from", history, "--out", file, "--config", STACKS.mainpc.overrides, "--app-repo", ctx.app]);
        assert.deepStrictEqual([rolled.code, rolled.err], [0, []]);
        const lock = buildLock(ctx.firstExport);
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(file, "utf8")), lock, "the lock of the first deployment, as build-lock writes it from its export");
        const rows = rolled.out.filter((l) => / (same image|that deployment's image|not in that deployment|removed since): /.test(l));
        assert.strictEqual(rows.length, Object.keys(ctx.services).length, rolled.out.join("\n"));
        assert.deepStrictEqual(rows.filter((l) => !/ same image: /.test(l)).map((l) => l.trim().split(" ")[0]), [service], "only the changed service runs another image than this commit builds");
        // Back to the changed source (the pins above were for one run each), then drop
        // the first run's image of that service from the daemon: it must come back
        // from the registry.
        await ctx.harness.run(ctx.config());
        const original = lock.running[res];
        const repo = repoOf(s.image);
        for (const name of [s.image.slice(0, s.image.indexOf("@")), original]) await ctx.docker.getImage(name).remove().catch(() => undefined);
        assert.strictEqual(await ctx.docker.getImage(original).inspect().then(() => true, () => false), false, "the first run's image is gone from the daemon");
        const before = await containerIds(ctx.docker, ctx.services);
        const images = Object.keys(ctx.harness.outputsOf("docker-build:index:Image"));
        const p = await probed(ctx, service, () => ctx.harness.run(ctx.config(pinAllOverride(file))));
        if (p.result instanceof Error) throw p.result;
        noneFailed(p, 20, "a rollback of everything by pinAll");
        // Only the proxy's chain is still built (base-python and the proxy); every other image leaves the state, kept in the registry.
        const unbuilt = images.filter((n) => n !== "base-python" && n !== "mainpc-docker-api-proxy").map((n) => `docker-build:index:Image ${n} delete`);
        assert.deepStrictEqual(ctx.harness.changes(), [
            `command:local:Command ${res}-start replace`,
            "command:local:Command mainpc-gpu-probe replace", // triggered as the preflight
            "command:local:Command mainpc-preflight replace", // no service image is among the built tags any more
            ...unbuilt,
            `docker:index/container:Container ${res} replace`,
            `docker:index/remoteImage:RemoteImage ${res} replace`,
        ].sort());
        assert.deepStrictEqual([ctx.harness.pushed, Object.keys(ctx.harness.buildSeconds), ctx.harness.pulled], [[], [], [original]]);
        assert.strictEqual(original.slice(0, original.indexOf("@")), repo);
        for (const [name, x] of Object.entries(ctx.services)) {
            const c = await ctx.docker.getContainer(x.container).inspect();
            const ref = lock.running[containerName(name)];
            assert.strictEqual(c.State.Health?.Status, "healthy", name);
            assert.strictEqual(c.Config.Labels["fleet.image-digest"], ref.slice(ref.indexOf("@") + 1), `${name} runs the digest it ran in the first deploy`);
            assert.strictEqual(c.Config.Labels["fleet.git-sha"], lock.revisions[containerName(name)], `${name} is labelled with the revision its image was built from`);
            if (name === service) assert.notStrictEqual(c.Id, before[name], `${name} was replaced`);
            else assert.strictEqual(c.Id, before[name], `${name} kept its container`);
        }
    });

    it("lifting pinAll builds every image again at the digest it had and puts the changed service back on its new image, nothing else replaced", async () => {
        const { service } = CHANGED.mainpc;
        const res = containerName(service);
        const before = await containerIds(ctx.docker, ctx.services);
        await ctx.harness.run(ctx.config());
        const created = ctx.harness.changes().filter((c) => c.startsWith("docker-build:index:Image "));
        assert.ok(created.length > 20 && created.every((c) => c.endsWith(" create")), created.join("\n"));
        assert.deepStrictEqual(ctx.harness.changes().filter((c) => !c.startsWith("docker-build:index:Image ")), [
            `command:local:Command ${res}-start replace`,
            "command:local:Command mainpc-gpu-probe replace", // triggered as the preflight
            "command:local:Command mainpc-preflight replace",
            `docker:index/container:Container ${res} replace`,
            `docker:index/remoteImage:RemoteImage ${res} replace`,
        ]);
        assert.strictEqual((await ctx.docker.getContainer(ctx.services[service].container).inspect()).Config.Labels["fleet.image-digest"], changedDigest);
        const after = await containerIds(ctx.docker, ctx.services);
        for (const n of Object.keys(ctx.services)) if (n !== service) assert.strictEqual(after[n], before[n], `${n} kept its container`);
    });

    it("build-lock.json of the first run matches the registry's manifests", async () => {
        const lock = buildLock(ctx.firstExport);
        assert.strictEqual(lock.stack, "mainpc");
        const images = ctx.first.resources.filter((r: Registered) => r.type === "docker-build:index:Image");
        assert.deepStrictEqual(Object.keys(lock.built).sort(), images.map((r) => r.name).sort());
        for (const [name, ref] of Object.entries(lock.built)) {
            const tag = ref.slice(0, ref.indexOf("@"));
            assert.strictEqual(`${tag}@${await registryDigest(tag)}`, ref, `${name}: the registry serves ${tag} at the locked digest`);
        }
        assert.deepStrictEqual(Object.keys(lock.running).sort(), [...Object.keys(ctx.services).map(containerName), "mainpc-docker-api-proxy"].sort());
        for (const [name, repoDigest] of Object.entries(lock.running)) {
            assert.strictEqual(await registryDigest(repoDigest), repoDigest.slice(repoDigest.indexOf("@") + 1), `${name} runs an image the registry serves`);
        }
        for (const [, up] of Object.entries(lock.upstream)) assert.strictEqual(up, "fleet-test/bookworm-python:slim");
    });

    it("children build FROM their parent's tag@digest in the registry; every image and its cache are in the registry", async () => {
        const images = ctx.first.resources.filter((r: Registered) => r.type === "docker-build:index:Image");
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
        const cfg = parsedStack(ctx.config(), fleet);
        const targets = imageTargetUrns(fleet, planHost(fleet, cfg), "mainpc", cfg.cudaTrack);
        const registered = new Set(ctx.firstUrns.values());
        for (const t of targets) assert.ok(registered.has(t), `target ${t} is registered`);
        // The image resources, their provider and the components they sit in (test/workflows.test.ts does the same for the shipped stacks).
        const wanted = [...ctx.firstUrns].filter(([k]) => /^(docker-build:index:Image|pulumi:providers:docker-build|fleet:images:[A-Za-z]+|fleet:host:FleetHost|fleet:host:DockerApiProxy)::/.test(k)).map(([, u]) => u).sort();
        assert.deepStrictEqual([...targets].sort(), wanted);
    });

    it("an unreachable registry fails the build naming the registry and the image", async () => {
        const img = ctx.first.resources.find((r: Registered) => r.type === "docker-build:index:Image" && r.name === "base-python")!;
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
            const img = ctx.first.resources.find((r: Registered) => r.type === "docker-build:index:Image" && r.name === "base-python")!;
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
