/**
 * The stand-in for @pulumi/docker-build's exec mode (test/engine/providers/buildx.ts, image.ts),
 * argument by argument against the provider's source, and its state rules: what a changed input
 * or build context does (pulumi-docker-build v0.0.22 provider/internal/image.go, context.go).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EngineHarness } from "../engine/harness";
import { buildErrors, buildxInvocation, cacheHits, dockerConfig, registryTagRace, withoutTag } from "../engine/providers/buildx";
import { diffImage, goFileMode, hashBuildContext, imageState, isExported } from "../engine/providers/image";
import { Registered } from "../mocks";

function registered(type: string, inputs: Record<string, unknown>): Registered {
    return { type, name: "x", inputs, opts: { parent: "", dependencies: [], retainOnDelete: false, deleteBeforeReplace: false, replaceOnChanges: [] } };
}

function tree(files: Record<string, string>, modes: Record<string, number> = {}): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-ctx-"));
    for (const [f, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), text);
        fs.chmodSync(path.join(dir, f), modes[f] ?? 0o644);
    }
    return dir;
}

describe("docker-build's stand-in (no engine needed)", () => {
    it("counts build steps and RUN steps of buildx's plain progress, and which were CACHED", () => {
        const log = [
            "#1 [internal] load build definition from Dockerfile",
            "#5 importing cache manifest from 127.0.0.1:5000/fleet-engine/cache:nlu-agent",
            "#6 [builder 1/4] FROM 127.0.0.1:5000/fleet-engine/base-cpu-pydeps:t@sha256:abc",
            "#6 CACHED",
            "#7 [builder 2/4] COPY requirements/nlu-agent.txt /wheelhouse/requirements.txt",
            "#7 CACHED",
            "#8 [builder 3/4] RUN --mount=type=cache,target=/root/.cache/pip pip wheel",
            "#8 CACHED",
            "#9 [runtime 2/3] RUN --mount=type=bind,from=builder pip install",
            "#9 0.512 Processing /wheelhouse/x.whl",
            "#10 exporting to image",
        ].join("\n");
        assert.deepStrictEqual(cacheHits(log), { steps: 4, cached: 3, runs: 2, cachedRuns: 1 });
    });

    it("fails by name on a resource type or an input it does not translate", async () => {
        const h = new EngineHarness();
        await assert.rejects(h.applyOne(registered("docker:index/container:Container", { name: "x", privileged: true })), /harness: docker:index\/container:Container x: input 'privileged' is not translated/);
        await assert.rejects(h.applyOne(registered("docker:index/service:Service", { name: "x" })), /harness: docker:index\/service:Service x: this resource type is not translated/);
        await assert.rejects(h.applyOne(registered("docker-build:index:Image", { push: true, tags: ["a:b"], context: { location: "." }, dockerfile: { inline: "" }, ssh: [{ id: "default" }] })), /harness: docker-build:index:Image x: input 'ssh' is not translated/);
    });

    // The provider's exec mode (pulumi-docker-build, provider of @pulumi/docker-build 0.0.22:
    // cli.go execBuild, image.go normalize, export.go, cache.go), argument by argument.
    it("builds a pushed image with the arguments the provider's exec mode passes to docker buildx", () => {
        const inv = buildxInvocation(registered("docker-build:index:Image", {
            context: { location: "/app" }, dockerfile: { location: "/b/nlu-agent.Dockerfile" }, buildArgs: { Z: "1", BASE_IMAGE: "127.0.0.1:5000/f/base:t@sha256:ab" },
            tags: ["127.0.0.1:5000/f/nlu-agent:t"], labels: { "org.opencontainers.image.version": "t", "org.opencontainers.image.title": "nlu-agent" }, platforms: ["linux/amd64"],
            push: true, load: false, buildOnPreview: false, exec: true, builder: { name: "default" },
            cacheFrom: [{ registry: { ref: "127.0.0.1:5000/f/cache:nlu-agent" } }],
            cacheTo: [{ registry: { ref: "127.0.0.1:5000/f/cache:nlu-agent", mode: "max", ignoreError: true, imageManifest: true, ociMediaTypes: true } }],
        }), "/tmp/m.json");
        assert.deepStrictEqual(inv, {
            args: [
                "buildx", "build", "--progress", "plain", "--metadata-file", "/tmp/m.json", "--builder", "default",
                "--build-arg", "BASE_IMAGE=127.0.0.1:5000/f/base:t@sha256:ab", "--build-arg", "Z=1",
                "--builder", "default",
                "--cache-from", "type=registry,ref=127.0.0.1:5000/f/cache:nlu-agent",
                "--cache-to", "type=registry,ref=127.0.0.1:5000/f/cache:nlu-agent,mode=max,ignore-error=true,oci-mediatypes=true,image-manifest=true",
                "--output", "type=image,push=true",
                "--label", "org.opencontainers.image.title=nlu-agent", "--label", "org.opencontainers.image.version=t",
                "--network", "default", "--platform", "linux/amd64", "--tag", "127.0.0.1:5000/f/nlu-agent:t",
                "-f", "/b/nlu-agent.Dockerfile", "/app",
            ],
            stdin: undefined,
        });
    });

    it("loads an image with an inline Dockerfile on stdin, and fills the provider's cache defaults", () => {
        const inv = buildxInvocation(registered("docker-build:index:Image", {
            context: { location: "/assets" }, dockerfile: { inline: "FROM scratch\n" }, tags: ["localhost/f/base:t"], push: false, load: true, exec: true, builder: { name: "mainpc" },
            cacheTo: [{ registry: { ref: "r/c:x" } }],
        }), "/m");
        assert.deepStrictEqual(inv, {
            args: ["buildx", "build", "--progress", "plain", "--metadata-file", "/m", "--builder", "mainpc", "--builder", "mainpc",
                "--cache-to", "type=registry,ref=r/c:x,mode=min,ignore-error=false,oci-mediatypes=true,image-manifest=false",
                "--output", "type=docker", "--network", "default", "--tag", "localhost/f/base:t", "-f", "-", "/assets"],
            stdin: "FROM scratch\n",
        });
    });

    it("refuses what the provider would build differently: no builder named, embedded mode, a cache it does not map", () => {
        const base = { context: { location: "/a" }, dockerfile: { inline: "" }, tags: ["r/x:t"], push: true };
        assert.throws(() => buildxInvocation(registered("docker-build:index:Image", { ...base, exec: true }), "/m"),
            /^Error: harness: docker-build:index:Image x: no builder named: the provider would pick a builder other than the docker-driver default or create a docker-container one \(host\.go builderFor\), which cannot see the daemon's images \(moby\/buildkit#2343\); set builder\.name$/);
        assert.throws(() => buildxInvocation(registered("docker-build:index:Image", { ...base, builder: { name: "default" } }), "/m"),
            /^Error: harness: docker-build:index:Image x: only exec mode is translated: without it the provider builds with its embedded buildx client, which refuses the docker driver$/);
        assert.throws(() => buildxInvocation(registered("docker-build:index:Image", { ...base, exec: true, builder: { name: "default" }, cacheFrom: [{ gha: { scope: "s" } }] }), "/m"),
            /^Error: harness: docker-build:index:Image x: cacheFrom 'gha' is not translated$/);
        assert.throws(() => buildxInvocation(registered("docker-build:index:Image", { ...base, exec: true, builder: { name: "default" }, cacheTo: [{ registry: { ref: "r/c", compression: "zstd" } }] }), "/m"),
            /^Error: harness: docker-build:index:Image x: cacheTo\.registry\.compression is not translated$/);
    });

    it("hands registry credentials to buildx in a temporary Docker config, keyed by registry host (cli.go wrap)", () => {
        assert.deepStrictEqual(dockerConfig([{ address: "https://127.0.0.1:5001/v2/", username: "bot", password: "pw" }], { auths: { "ghcr.io": { auth: "eA==" } } }), {
            auths: { "ghcr.io": { auth: "eA==" }, "127.0.0.1:5001": { auth: Buffer.from("bot:pw").toString("base64") } },
        });
    });

    it("a failed build's error keeps buildx's ERROR lines, then the failed step's own (pip naming the package the index lacks)", () => {
        // buildx 0.13.1's plain progress of a RUN whose pin the index lacks (abridged).
        const out = [
            "#5 [2/2] RUN /opt/venv/bin/pip install --dry-run --quiet --report /tmp/r.json uvicorn==0.0.999 fastapi==0.110.0",
            "#5 8.434 ERROR: Could not find a version that satisfies the requirement uvicorn==0.0.999 (from versions: none)",
            "#5 8.434 ERROR: No matching distribution found for uvicorn==0.0.999",
            '#5 ERROR: process "/bin/sh -c /opt/venv/bin/pip install --dry-run --quiet --report /tmp/r.json uvicorn==0.0.999 fastapi==0.110.0" did not complete successfully: exit code: 1',
            "------",
            " > [2/2] RUN /opt/venv/bin/pip install ...:",
            "8.434 ERROR: No matching distribution found for uvicorn==0.0.999",
            "------",
            'ERROR: failed to solve: process "/bin/sh -c /opt/venv/bin/pip install --dry-run --quiet --report /tmp/r.json uvicorn==0.0.999 fastapi==0.110.0" did not complete successfully: exit code: 1',
            "",
        ].join("\n");
        assert.strictEqual(buildErrors(out), [
            'ERROR: failed to solve: process "/bin/sh -c /opt/venv/bin/pip install --dry-run --quiet --report /tmp/r.json uvicorn==0.0.999 fastapi==0.110.0" did not complete successfully: exit code: 1',
            "ERROR: Could not find a version that satisfies the requirement uvicorn==0.0.999 (from versions: none)",
            "ERROR: No matching distribution found for uvicorn==0.0.999",
        ].join("; "));
        assert.strictEqual(buildErrors("#1 building\nsomething odd\nexit\n"), "#1 building; something odd; exit");
    });

    it("builds again only when the suite's registry answered 500 to a manifest request (its tag race), not on any other failure", () => {
        const tagRace = "ERROR: unexpected status from HEAD request to http://127.0.0.1:5000/v2/fleet-engine/docker-api-proxy/manifests/20261125-b6ab303-0e91899: 500 Internal Server Error";
        const rows: [string, boolean][] = [
            [tagRace, true], // the CI failure this retry is for
            [tagRace.replace("HEAD request", "PUT request"), true],
            [tagRace.replace("127.0.0.1:5000", "ghcr.io"), false],
            [tagRace.replace("/manifests/", "/blobs/"), false],
            [tagRace.replace("500 Internal Server Error", "401 Unauthorized"), false],
            ['ERROR: failed to push 127.0.0.1:5000/fleet-engine/x:t: failed to do request: Head "http://127.0.0.1:5000/v2/fleet-engine/x/blobs/sha256:ab": dial tcp 127.0.0.1:5000: connect: connection refused', false],
            ["ERROR: process \"/bin/sh -c pip install\" did not complete successfully: exit code: 1", false],
        ];
        assert.deepStrictEqual(rows.map(([text]) => registryTagRace(`#12 pushing layers\n${text}\n`)), rows.map(([, retry]) => retry));
    });

    it("pulls a tag@digest reference by its digest", () => {
        assert.deepStrictEqual(["127.0.0.1:5000/f/a:t@sha256:ab", "localhost/f/a:t", "r/f/a@sha256:cd"].map(withoutTag), ["127.0.0.1:5000/f/a@sha256:ab", "localhost/f/a:t", "r/f/a@sha256:cd"]);
    });

    it("writes file modes as Go's fs.FileMode.String()", () => {
        assert.deepStrictEqual([0o100644, 0o100755, 0o100600, 0o120777].map(goFileMode), ["-rw-r--r--", "-rwxr-xr-x", "-rw-------", "Lrwxrwxrwx"]);
    });

    it("hashes the build context as hashBuildContext does: the Dockerfile, then each file's bytes, path and mode; the ignore file applies; times do not count", () => {
        const files = { "requirements/a.txt": "a", "main_pc_code/agents/a.py": "print(1)", "common/x.py": "x", "common/__pycache__/x.pyc": "c", "models/w.bin": "w", "a.Dockerfile": "FROM x\n", "a.Dockerfile.dockerignore": "**\n!requirements/a.txt\n!main_pc_code/agents/a.py\n!common\nmodels\n**/__pycache__\n" };
        const a = tree(files);
        const b = tree(files);
        const hash = (d: string) => hashBuildContext(d, path.join(d, "a.Dockerfile"));
        fs.utimesSync(path.join(b, "common/x.py"), 1, 1);
        assert.strictEqual(hash(a), hash(b), "modification times are not hashed");
        fs.writeFileSync(path.join(b, "models/w.bin"), "other");
        fs.writeFileSync(path.join(b, "common/__pycache__/x.pyc"), "other");
        assert.strictEqual(hash(a), hash(b), "ignored files are not hashed");
        fs.chmodSync(path.join(b, "common/x.py"), 0o600);
        assert.notStrictEqual(hash(a), hash(b), "a file's mode is hashed (another umask, another hash)");
        fs.chmodSync(path.join(b, "common/x.py"), 0o644);
        fs.writeFileSync(path.join(b, "a.Dockerfile"), "FROM y\n");
        assert.notStrictEqual(hash(a), hash(b), "the Dockerfile is hashed");
    });

    it("symbolic links as hashFile opens them: the target's bytes with the link's mode; a link to a directory skipped; a dangling one fails the hash", () => {
        const a = tree({ "a.Dockerfile": "FROM x\n", "lib/real.py": "v1", "lib/sub/y.py": "y" });
        const hash = (d: string) => hashBuildContext(d, path.join(d, "a.Dockerfile"));
        fs.symlinkSync("lib/real.py", path.join(a, "link.py"));
        const before = hash(a);
        fs.writeFileSync(path.join(a, "lib/real.py"), "v2");
        assert.notStrictEqual(hash(a), before, "the target's bytes are hashed under the link's path too");
        const withDir = hash(a);
        fs.symlinkSync("lib/sub", path.join(a, "dirlink"));
        assert.strictEqual(hash(a), withDir, "a link to a directory adds nothing");
        fs.symlinkSync("nowhere.py", path.join(a, "dangling.py"));
        assert.throws(() => hash(a), /^Error: unable to hash build context: could not open "dangling\.py": ENOENT/);
    });

    it("Diff: every difference is an update, never a replacement; the context and Dockerfile locations compare as strings; a pushed image is checked in its registry on Read", () => {
        const ctx = tree({ "x.py": "x" });
        const inputs = { context: { location: ctx }, dockerfile: { inline: "FROM a\n" }, tags: ["r/x:t"], push: true, buildArgs: { A: "1" } };
        const state = imageState(inputs, { digest: "sha256:d", ref: "r/x:t@sha256:d" });
        assert.deepStrictEqual(diffImage(state, inputs), []);
        assert.deepStrictEqual(diffImage(state, { ...inputs, buildArgs: { A: "2" } }), ["buildArgs"]);
        const moved = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-ctx-"));
        fs.cpSync(ctx, moved, { recursive: true });
        assert.deepStrictEqual(diffImage(state, { ...inputs, context: { location: moved } }), ["context.location"], "the same files elsewhere: only the location differs");
        fs.writeFileSync(path.join(ctx, "x.py"), "y");
        assert.deepStrictEqual(diffImage(state, inputs), ["contextHash"]);
        assert.deepStrictEqual([isExported(inputs), isExported({ ...inputs, push: false, load: true }), isExported({ exports: [{ raw: "type=image,push=true" }] })], [true, false, true]);
    });
});
