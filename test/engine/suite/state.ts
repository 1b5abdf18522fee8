/**
 * The same deploy again changes nothing, as the providers see it (issue 16): every later run
 * diffs against the state the harness keeps as each provider keeps it (read back from the engine),
 * from this checkout or another, and after a rebuild from nothing; hand-made drift is found by
 * refresh and repaired alone.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";
import { containerName } from "../../../fleet/model/names";
import { appRepoOverride, stackConfig } from "../../mocks";
import { Inputs } from "../fail";
import { containerIds, registryDigest, secondCheckout, StackContext, STACKS } from "./context";

const CONTAINER = "docker:index/container:Container";
const IMAGE = "docker-build:index:Image";
const NETWORK = "docker:index/network:Network";
const VOLUME = "docker:index/volume:Volume";
const COMMAND = "command:local:Command";
const REMOTE = "docker:index/remoteImage:RemoteImage";

/** Every resource type the program registers, all of which the second run must find the same. */
const TYPES = [CONTAINER, IMAGE, NETWORK, VOLUME, REMOTE, COMMAND];

export function stateChecks(ctx: StackContext): void {
    it("a second run with nothing changed: every resource the same as its provider keeps it; nothing built, pushed or pulled", async () => {
        const h = ctx.harness;
        await h.run(ctx.config());
        assert.deepStrictEqual(h.changes(), []);
        assert.deepStrictEqual([h.pushed, h.pulled, Object.keys(h.buildSeconds)], [[], [], []]);
        assert.deepStrictEqual(TYPES.filter((t) => !h.events.some((e) => e.type === t && e.action === "same")), [], "each type was diffed");
    });

    it("the same from a second checkout at another path, made under umask 077, with its own copy of the application", async () => {
        const second = secondCheckout(ctx.app);
        const h = ctx.harness;
        await h.run(stackConfig(ctx.stack, STACKS[ctx.stack].overrides, appRepoOverride(second.app)), { projectDir: second.projectDir });
        assert.deepStrictEqual(h.changes(), []);
        assert.deepStrictEqual([h.pushed, h.pulled, Object.keys(h.buildSeconds)], [[], [], []]);
    });

    it("hand-made drift: refresh shows each change as its provider reads it, and the next run repairs exactly those resources; a container stopped by hand is left stopped", async () => {
        const { docker, harness: h, machine } = ctx;
        const app = Object.entries(ctx.services).filter(([n, s]) => !s.gpu && n !== "SelfHealingSupervisor").map(([n]) => n).sort();
        const core = new Set(["ServiceRegistry", "SystemDigitalTwin", "UnifiedSystemAgent"]);
        const picked = app.filter((n) => !core.has(n)).slice(0, 5);
        // Resource names (the state's), and the containers' own names (the provider's auto-names).
        const [removed, , changed, unmounted, retagged] = picked.map(containerName);
        const [removedC, stoppedC, changedC, unmountedC] = picked.map((n) => ctx.services[n].container);
        const proxyNet = `fleet-${machine}-docker-api`;
        const images = h.outputsOf(IMAGE);
        const retaggedTag = images[retagged].tags[0] as string;
        const retaggedDigest = images[retagged].digest as string;
        const before = await containerIds(docker, ctx.services);

        execFileSync("docker", ["rm", "-f", removedC]);
        execFileSync("docker", ["stop", "-t", "5", stoppedC]);
        execFileSync("docker", ["update", "--cpus", "2", changedC]);
        execFileSync("docker", ["rm", "-f", unmountedC]);
        execFileSync("docker", ["volume", "rm", `fleet-${unmounted}-logs`]);
        for (const c of ["docker-api-proxy", ctx.services.SelfHealingSupervisor.container]) execFileSync("docker", ["network", "disconnect", "-f", proxyNet, c]);
        execFileSync("docker", ["network", "rm", proxyNet]);
        // Another image under the tag of `retagged`'s image: what a hand-made `docker tag` does.
        execFileSync("docker", ["tag", images[removed].tags[0], retaggedTag]);

        const refreshed = await h.refresh();
        const shown = refreshed.filter((e) => e.action !== "same").map((e) => `${e.type} ${e.name} ${e.action}: ${e.why.join("; ")}`).sort();
        const gone = "gone: its provider's Read no longer finds it";
        // The stopped container is not among them: with must_run false the provider's Read
        // leaves its ports and running state alone (resourceDockerContainerRead).
        assert.deepStrictEqual(shown, [
            `${CONTAINER} ${changed} update: cpus: "1.0" -> "2.0"`,
            `${CONTAINER} ${removed} delete: ${gone}`,
            `${CONTAINER} ${unmounted} delete: ${gone}`,
            `${NETWORK} ${machine}-docker-api-proxy-net delete: ${gone}`,
            `${VOLUME} ${unmounted}-logs delete: ${gone}`,
            // The daemon finds `repo:tag@digest` only through an image of that repository at that
            // digest (moby daemon/containerd/image.go resolveImage); the moved tag left none.
            `${REMOTE} ${retagged} delete: ${gone}`,
        ].sort());

        // Where the stack pushes, the next run pulls the image back by digest. Where it loads (no
        // registry), it can only be built again: `pulumi up --replace <the image's URN>`, which
        // gives the same digest, so the container stays.
        const loads = h.outputsOf(IMAGE)[retagged].load === true;
        await h.run(ctx.config(), { replace: (type, name) => loads && type === IMAGE && name === retagged });
        const start = (c: string) => `${COMMAND} ${c}-start replace`;
        const proxy = "docker-api-proxy";
        const supervisor = containerName("SelfHealingSupervisor");
        assert.deepStrictEqual(h.changes(), [
            `${CONTAINER} ${changed} replace`, `${CONTAINER} ${machine}-${proxy} replace`, `${CONTAINER} ${removed} create`,
            `${CONTAINER} ${supervisor} replace`, `${CONTAINER} ${unmounted} create`,
            `${NETWORK} ${machine}-docker-api-proxy-net create`, `${VOLUME} ${unmounted}-logs create`,
            start(changed), `${COMMAND} ${machine}-${proxy}-start replace`, start(removed), start(supervisor), start(unmounted),
            `${REMOTE} ${retagged} create`, ...(loads ? [`${IMAGE} ${retagged} replace`] : []),
        ].sort());
        assert.deepStrictEqual(h.pulled, loads ? [] : [`${retaggedTag.slice(0, retaggedTag.lastIndexOf(":"))}@${retaggedDigest}`]);
        const after = await containerIds(docker, ctx.services);
        const repaired = new Set([removed, changed, unmounted, supervisor]);
        const stoppedService = picked[1];
        for (const [n, s] of Object.entries(ctx.services)) {
            const info = await docker.getContainer(s.container).inspect();
            if (n === stoppedService) {
                // The drift check names it (scripts/drift-check.sh, `docker ps --all`); the operator starts it.
                assert.deepStrictEqual([info.Id, info.State.Running], [before[n], false], `${n} was left stopped`);
                continue;
            }
            assert.strictEqual(info.State.Health?.Status, "healthy", n);
            if (!repaired.has(containerName(n))) assert.strictEqual(after[n], before[n], `${n} kept its container`);
            else assert.notStrictEqual(after[n], before[n], `${n} has a new container`);
        }
        assert.strictEqual((await docker.getContainer(ctx.services[picked[2]].container).inspect()).HostConfig.NanoCpus, 1e9, "its own limit again");
        assert.strictEqual((await docker.getContainer(ctx.services[picked[4]].container).inspect()).Image, retaggedDigest, "the retagged service still runs the image it was built as");
        if (loads) assert.strictEqual((await docker.getImage(retaggedTag).inspect()).Id, retaggedDigest, "built again, its tag names its image again");
        else assert.strictEqual(await registryDigest(retaggedTag), retaggedDigest, "the registry's tag never moved");
        const ps = execFileSync("docker", ["ps", "--all", "--filter", `label=fleet.machine=${machine}`, "--format", "{{.Names}}\t{{.Status}}"], { encoding: "utf8" });
        assert.match(ps, new RegExp(`^${stoppedC}\tExited \\(\\d+\\) `, "m"), "what the drift check reads");
        execFileSync("docker", ["start", stoppedC]);
        await h.run(ctx.config());
        assert.deepStrictEqual(h.changes(), [], "started by hand again: nothing to do");
    });
}

/**
 * An image rebuilt from nothing: the builder's cache pruned, every image of the stack built
 * again (`pulumi up --replace` of each): BuildKit runs every step again (or, where the stack
 * pushes, takes them from its registry cache), and each image comes out at the digest it had,
 * so no container is replaced (fleet/render/layers.ts).
 */
export function rebuildFromNothing(ctx: StackContext, extra?: (h: StackContext["harness"]) => void): void {
    it("rebuilt from nothing (empty builder cache, every image built again): the same digest for every image, no container replaced", async () => {
        const h = ctx.harness;
        const digests = () => Object.fromEntries(Object.entries(h.outputsOf(IMAGE)).map(([n, o]) => [n, o.digest]));
        const before = digests();
        const kept = keepImages(h.outputsOf(IMAGE));
        const ids = await containerIds(ctx.docker, ctx.services);
        // Its preview cannot know the digests before the builds, so it shows every container
        // replaced (its image ref unknown) where the `up` below replaces none: the preview's
        // replacements downstream of a rebuilt image are an upper bound.
        await h.preview(ctx.config(), { replace: (type) => type === IMAGE });
        const names = (type: string) => Object.keys(h.outputsOf(type));
        const probe = names(COMMAND).filter((n) => n.endsWith("-gpu-probe"));
        assert.deepStrictEqual(h.changes(), [
            ...names(IMAGE).map((n) => `${IMAGE} ${n} replace`),
            ...names(REMOTE).map((n) => `${REMOTE} ${n} replace`),
            ...names(CONTAINER).map((n) => `${CONTAINER} ${n} replace`),
            ...names(COMMAND).filter((n) => n.endsWith("-start")).map((n) => `${COMMAND} ${n} replace`),
            // HAProxy's check of the peer fronts (pc2's): the image it runs is in its triggers.
            ...(ctx.stack === "pc2" ? [`${COMMAND} ${ctx.machine}-fronts-check replace`] : []),
            // Its image's ref is in its environment, not its triggers: an update.
            ...probe.map((n) => `${COMMAND} ${n} update`),
        ].sort());
        assert.strictEqual(probe.length, ctx.stack === "local" ? 0 : 1);
        try {
            execFileSync("docker", ["builder", "prune", "-af"], { stdio: "ignore" });
            await h.run(ctx.config(), { replace: (type) => type === IMAGE });
            assert.deepStrictEqual(Object.keys(h.buildSeconds).sort(), Object.keys(before).sort(), "every image was built");
            assert.deepStrictEqual(digests(), before, whatDiffers(before, kept, h.outputsOf(IMAGE)));
        } finally {
            const names = Object.values(kept).filter((r) => r.startsWith(KEPT));
            if (names.length) execFileSync("docker", ["image", "rm", ...names], { stdio: "ignore" });
        }
        assert.deepStrictEqual(h.changes().filter((c) => !c.startsWith(`${IMAGE} `)), []);
        assert.deepStrictEqual(await containerIds(ctx.docker, ctx.services), ids);
        extra?.(h);
    });
}

const KEPT = "fleet-rebuild-before/";

/**
 * A reference to each image as it was before the rebuild, for `whatDiffers`: an image loaded into
 * the daemon is tagged (the rebuild moves its own tag away); a pushed one stays in the registry
 * under its digest.
 */
function keepImages(images: Record<string, Inputs>): Record<string, string> {
    return Object.fromEntries(Object.entries(images).map(([n, o]) => {
        try {
            execFileSync("docker", ["tag", o.tags[0], `${KEPT}${n}:rebuild`], { stdio: "ignore" });
            return [n, `${KEPT}${n}:rebuild`];
        } catch {
            return [n, o.ref as string];
        }
    }));
}

/**
 * For a failed rebuild: the image of fewest layers among those whose digest moved (the root of
 * what is not reproducible: its children move with it), and what differs in it (../layer-diff.py).
 */
function whatDiffers(before: Record<string, string>, kept: Record<string, string>, images: Record<string, Inputs>): string {
    const moved = Object.keys(before).filter((n) => images[n]?.digest !== before[n]);
    if (moved.length === 0) return "";
    const layers = (ref: string) => {
        try {
            if (!ref.startsWith(KEPT)) execFileSync("docker", ["pull", "--quiet", ref], { stdio: "ignore" });
            return Number(execFileSync("docker", ["image", "inspect", "--format", "{{len .RootFS.Layers}}", ref], { encoding: "utf8" }));
        } catch {
            return Infinity;
        }
    };
    // A loaded image's own tag names the new one; a pushed one is pulled by its digest.
    const now = (n: string): string => (kept[n].startsWith(KEPT) ? images[n].tags[0] : images[n].ref);
    const root = moved.map((n) => ({ n, count: layers(kept[n]) + layers(now(n)) })).sort((a, b) => a.count - b.count)[0].n;
    try {
        const diff = execFileSync("python3", [path.join(__dirname, "..", "layer-diff.py"), kept[root], now(root)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return `${moved.join(", ")} came out at other digests; ${root} (${before[root]} then ${images[root].digest}):\n${diff}`;
    } catch (e) {
        return `${moved.join(", ")} came out at other digests; ${root}'s two images could not be compared: ${(e as Error).message}`;
    }
}
