import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { byType, PROJECT_DIR, Registered, runbookStack, runProgram } from "../mocks";

const IMAGE = "docker-build:index:Image";
const TAG = /^ghcr\.io\/ai-system\/([a-z0-9-]+):(\d{8}-[0-9a-f]{7}-[0-9a-f]{7}|content-[0-9a-f]{12})$/;

function byName(rs: Registered[]): Map<string, Registered> {
    return new Map(rs.map((r) => [r.name, r]));
}


/**
 * SOURCE_DATE_EPOCH of an image (fleet/render/layers.ts): the time of the commit its tag names,
 * which its `created` label carries; 0 for a content tag, which has none.
 */
function epochOf(img: Registered): string {
    const created = img.inputs.labels["org.opencontainers.image.created"] as string | undefined;
    return created ? String(Date.parse(created) / 1000) : "0";
}

describe("images under mocks", () => {
    const expected: Record<string, { families: string[]; services: number }> = {
        mainpc: { families: ["base-gpu-cu121", "base-python", "legacy-py310-cpu", "base-utils", "family-torch-cu121", "family-vision-cu121", "base-cpu-pydeps", "family-llm-cu121", "family-web"], services: 42 },
        pc2: { families: ["base-gpu-cu121", "base-python", "base-utils", "family-torch-cu121", "family-vision-cu121", "base-cpu-pydeps", "family-web"], services: 23 },
    };
    for (const stack of ["mainpc", "pc2"]) {
        describe(stack, () => {
            let images: Map<string, Registered>;
            let all: Registered[];
            before(async () => {
                const r = await runProgram(runbookStack(stack));
                all = r.resources;
                images = byName(byType(r.resources, IMAGE));
            });

            it("builds exactly one image per planned family and service", () => {
                const families = expected[stack].families;
                // + the supervisor's Docker API proxy, built FROM base-python
                assert.strictEqual(images.size, families.length + expected[stack].services + 1);
                assert.ok(images.has(`${stack}-docker-api-proxy`));
                for (const f of families) assert.ok(images.has(f), f);
                assert.strictEqual(byType(all, "fleet:images:FamilyImage").length, families.length);
                assert.strictEqual(byType(all, "fleet:images:ServiceImage").length, expected[stack].services);
                assert.strictEqual(byType(all, "fleet:images:HostImages").length, 1);
            });

            it("builds roots FROM their upstream and every child FROM its parent's ref (tag@digest)", () => {
                for (const root of ["base-python", "base-gpu-cu121"]) {
                    assert.deepStrictEqual(images.get(root)!.inputs.buildArgs, { SOURCE_DATE_EPOCH: epochOf(images.get(root)!), UPSTREAM_IMAGE: "docker.io/library/python:3.11-slim-bookworm" });
                }
                const parentOf: Record<string, string> = { "base-utils": "base-python", "base-cpu-pydeps": "base-utils", "family-web": "base-cpu-pydeps", "family-torch-cu121": "base-gpu-cu121", "family-vision-cu121": "base-gpu-cu121" };
                for (const [child, parent] of Object.entries(parentOf)) {
                    const parentTag = images.get(parent)!.inputs.tags[0];
                    assert.match(images.get(child)!.inputs.buildArgs.BASE_IMAGE, new RegExp(`^${parentTag.replace(/[.]/g, "\\.")}@sha256:[0-9a-f]{64}$`), child);
                }
                const sup = images.get("self-healing-supervisor")!;
                assert.ok(sup.inputs.buildArgs.BASE_IMAGE.startsWith(`${images.get("base-cpu-pydeps")!.inputs.tags[0]}@sha256:`));
            });

            it("tags every image <registry>/<org>/<name>:<YYYYMMDD>-<sha>-<recipe> and caches it in the registry", () => {
                for (const [name, img] of images) {
                    assert.strictEqual(img.inputs.tags.length, 1);
                    const m = TAG.exec(img.inputs.tags[0]);
                    assert.ok(m, img.inputs.tags[0]);
                    assert.strictEqual(m![1], name.endsWith("docker-api-proxy") ? "docker-api-proxy" : name);
                    assert.strictEqual(img.inputs.push, true);
                    assert.strictEqual(img.inputs.load, false);
                    assert.strictEqual(img.inputs.buildOnPreview, false);
                    // components/image.ts: exec mode with the docker-driver builder named, never the provider's pick.
                    assert.strictEqual(img.inputs.exec, true);
                    assert.deepStrictEqual(img.inputs.builder, { name: "default" });
                    assert.deepStrictEqual(img.inputs.platforms, ["linux/amd64"]);
                    const repo = m![1];
                    assert.deepStrictEqual(img.inputs.cacheFrom, [{ registry: { ref: `ghcr.io/ai-system/cache:${repo}` } }]);
                    assert.deepStrictEqual(img.inputs.cacheTo, [{ registry: { ref: `ghcr.io/ai-system/cache:${repo}`, mode: "max", ignoreError: true, imageManifest: true, ociMediaTypes: true } }]);
                    assert.strictEqual(img.inputs.labels["org.opencontainers.image.title"], repo);
                    assert.strictEqual(img.inputs.labels["org.opencontainers.image.source"], "https://github.com/ai-system/fleet");
                    assert.strictEqual(img.inputs.labels["org.opencontainers.image.version"], TAG.exec(img.inputs.tags[0])![2]);
                    assert.strictEqual(img.inputs.registries, undefined, "no credentials configured");
                }
            });

            it("builds families from the staged helper assets with an inline Dockerfile, services from their staged inputs with their own Dockerfile file, every path relative to the project", () => {
                for (const [name, img] of images) {
                    if (img.inputs.dockerfile.inline !== undefined) {
                        assert.strictEqual(img.inputs.context.location, `.fleet/build/${stack}/contexts/family`, name);
                    } else {
                        const repo = (img.inputs.tags[0] as string).split("/").pop()!.split(":")[0];
                        assert.deepStrictEqual([img.inputs.context.location, img.inputs.dockerfile.location], [`.fleet/build/${stack}/contexts/${repo}`, `.fleet/build/${stack}/${repo}.Dockerfile`], name);
                    }
                }
                // The staged family context: the helpers and their ignore file, at modes no umask changes.
                const family = path.join(PROJECT_DIR, ".fleet", "build", stack, "contexts", "family");
                assert.deepStrictEqual(fs.readdirSync(family).sort().map((f) => `${f} ${(fs.statSync(path.join(family, f)).mode & 0o777).toString(8)}`), [".dockerignore 644", "fleet-docker-api-proxy.cfg 644", "fleet-entrypoint 755", "fleet-front-ctl 755", "fleet-haproxy 755", "fleet-health 755"]);
            });

            it("keeps every image in the registry when the program stops registering it (retainOnDelete: a pin must not delete the image it replaces)", () => {
                for (const [name, img] of images) assert.strictEqual(img.opts.retainOnDelete, true, name);
            });

            it("builds every image with the host's docker-build provider", () => {
                const providers = byType(all, "pulumi:providers:docker-build");
                assert.deepStrictEqual(providers.map((p) => [p.name, p.inputs.host]), [[`${stack}-build`, `ssh://ops@${stack}`]]);
                for (const [, img] of images) assert.match(img.provider ?? "", new RegExp(`::${stack}-build::`));
            });
        });
    }

    it("the shared services get the same image inputs on both hosts (machine-neutral)", async () => {
        const a = byName(byType((await runProgram(runbookStack("mainpc"))).resources, IMAGE));
        const b = byName(byType((await runProgram(runbookStack("pc2"))).resources, IMAGE));
        for (const n of ["self-healing-supervisor", "memory-fusion-hub", "unified-observability-center", "base-python", "family-web"]) {
            assert.deepStrictEqual(a.get(n)!.inputs.tags, b.get(n)!.inputs.tags, n);
            assert.deepStrictEqual(a.get(n)!.inputs.buildArgs, b.get(n)!.inputs.buildArgs, n);
        }
    }).timeout(180_000); // two whole programs: twice the time of one

    it("the local stack loads images into the daemon, without a registry cache", async () => {
        const cfg = runbookStack("pc2", "load-and-build-on-preview");
        const imgs = byType((await runProgram(cfg)).resources, IMAGE);
        for (const img of imgs) {
            assert.strictEqual(img.inputs.push, false);
            assert.strictEqual(img.inputs.load, true);
            assert.strictEqual(img.inputs.cacheFrom, undefined);
            assert.strictEqual(img.inputs.cacheTo, undefined);
            assert.strictEqual(img.inputs.buildOnPreview, true);
        }
        // By tag, not by the provider's `ref` (tag@digest): BuildKit resolves a digested FROM in a registry.
        const child = imgs.find((i) => i.name === "base-utils")!;
        assert.strictEqual(child.inputs.buildArgs.BASE_IMAGE, imgs.find((i) => i.name === "base-python")!.inputs.tags[0]);
        assert.doesNotMatch(JSON.stringify(imgs.map((i) => i.inputs.buildArgs)), /@sha256:/);
    });

    it("fleet:buildxBuilder names the builder of every image and of the preflight", async () => {
        const r = await runProgram(runbookStack("pc2", "buildx-builder-pc2"));
        for (const img of byType(r.resources, IMAGE)) assert.deepStrictEqual([img.inputs.exec, img.inputs.builder], [true, { name: "pc2" }], img.name);
        const pre = byType(r.resources, "command:local:Command").find((c) => c.name === "pc2-preflight")!;
        assert.strictEqual(pre.inputs.environment.FLEET_BUILDER, "pc2");
    });

    it("a CUDA track other than cu121 renames the GPU families and takes its upstream and its own pins", async () => {
        const imgs = byName(byType((await runProgram(runbookStack("pc2", "cuda-cu118"))).resources, IMAGE));
        assert.ok(imgs.has("family-torch-cu118") && imgs.has("base-gpu-cu118") && !imgs.has("family-torch-cu121"));
        assert.deepStrictEqual(imgs.get("base-gpu-cu118")!.inputs.buildArgs, { SOURCE_DATE_EPOCH: epochOf(imgs.get("base-gpu-cu118")!), UPSTREAM_IMAGE: "docker.io/library/python:3.11-slim-bookworm" });
        assert.match(imgs.get("family-torch-cu118")!.inputs.dockerfile.inline, /--index-url https:\/\/download\.pytorch\.org\/whl\/cu118/);
        // The vision family installs its CUDA 11.8 build there (families.yaml pipByTrack).
        const vision = imgs.get("family-vision-cu118")!.inputs.dockerfile.inline as string;
        assert.ok(vision.includes("onnxruntime-gpu==1.18.0") && vision.includes("nvidia-cudnn-cu11==8.7.0.84"), vision);
        assert.ok(!vision.includes("onnxruntime-gpu==1.19.2") && !vision.includes("-cu12=="), vision);
    });

    it("passes registry credentials from secrets to the images and the build provider", async () => {
        const cfg = runbookStack("pc2", "registry-login");
        const r = await runProgram(cfg);
        // Both arrive as secret values: credentials never reach state in plain text.
        const SECRET_SIG = "4dabf18193072939515e22adb298388d";
        const images = byType(r.resources, IMAGE);
        const provider = byType(r.resources, "pulumi:providers:docker-build");
        for (const given of [...images.map((i) => i.inputs.registries), provider[0].inputs.registries]) {
            assert.strictEqual(given[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
            // Provider config reaches the engine JSON-encoded.
            const value = typeof given.value === "string" ? JSON.parse(given.value) : given.value;
            assert.deepStrictEqual(value, [{ address: "ghcr.io", password: "s3cret", username: "bot" }]);
        }
    });
});
