import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildErrors, buildxInvocation, cacheHits, containerBody, contextFiles, dockerConfig, durationNs, EngineHarness, nanoCpus, registryTagRace, withoutTag } from "./engine/harness";
import { Registered } from "./mocks";

function registered(type: string, inputs: Record<string, unknown>): Registered {
    return { type, name: "x", inputs, opts: { parent: "", dependencies: [], retainOnDelete: false, deleteBeforeReplace: false, replaceOnChanges: [] } };
}

describe("engine harness translation (no engine needed)", () => {
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

    it("reads Go durations", () => {
        assert.deepStrictEqual(["30s", "5m0s", "1h2m3s", "0s"].map(durationNs), [30e9, 300e9, 3723e9, 0]);
        assert.throws(() => durationNs("5 minutes"), /cannot read duration '5 minutes'/);
    });

    it("reads cpus as `docker run --cpus` does, into NanoCpus", () => {
        const r = registered("docker:index/container:Container", {});
        assert.deepStrictEqual(["1", "0.5", "2.25", "0.000000001"].map((c) => nanoCpus(r, c)), [1e9, 5e8, 2.25e9, 1]);
        for (const bad of ["1.5e2", "-1", "one", "0.0000000001"]) assert.throws(() => nanoCpus(r, bad), new RegExp(`cannot read cpus '${bad.replace(/\./g, "\\.")}'`));
    });

    it("translates a container field by field, megabytes to bytes", () => {
        const body = containerBody(registered("docker:index/container:Container", {
            name: "nlu-agent", image: "sha256:abc", user: "10001:10001", readOnly: true, tmpfs: { "/tmp": "rw,noexec" },
            mounts: [{ type: "volume", source: "fleet-nlu-agent-data", target: "/app/data" }], capabilities: { drops: ["ALL"] },
            securityOpts: ["no-new-privileges:true"], init: false, restart: "unless-stopped", logDriver: "json-file", logOpts: { "max-size": "10m" },
            memory: 768, memorySwap: 768, shmSize: 64, cpus: "1.5", cpuShares: 512, ports: [{ internal: 5709, external: 5709, ip: "127.0.0.1", protocol: "tcp" }],
            networksAdvanced: [{ name: "fleet-mainpc", aliases: ["nlu-agent"] }], envs: ["A=1"], labels: [{ label: "fleet.service", value: "NLUAgent" }],
            healthcheck: { tests: ["CMD", "/usr/local/bin/fleet-health"], interval: "30s", timeout: "10s", startPeriod: "30s", startInterval: "1s", retries: 3 },
        }));
        assert.deepStrictEqual(body, {
            name: "nlu-agent", Image: "sha256:abc", User: "10001:10001", Env: ["A=1"], Labels: { "fleet.service": "NLUAgent" },
            ExposedPorts: { "5709/tcp": {} },
            Healthcheck: { Test: ["CMD", "/usr/local/bin/fleet-health"], Interval: 30e9, Timeout: 10e9, StartPeriod: 30e9, StartInterval: 1e9, Retries: 3 },
            HostConfig: {
                ReadonlyRootfs: true, Tmpfs: { "/tmp": "rw,noexec" }, Mounts: [{ Type: "volume", Source: "fleet-nlu-agent-data", Target: "/app/data", ReadOnly: false }],
                CapDrop: ["ALL"], CapAdd: undefined, SecurityOpt: ["no-new-privileges:true"], Init: false, RestartPolicy: { Name: "unless-stopped" },
                LogConfig: { Type: "json-file", Config: { "max-size": "10m" } }, Memory: 768 * 1024 * 1024, MemorySwap: 768 * 1024 * 1024, ShmSize: 64 * 1024 * 1024,
                NanoCpus: 1.5e9, CpuShares: 512,
                PortBindings: { "5709/tcp": [{ HostIp: "127.0.0.1", HostPort: "5709" }] }, NetworkMode: "fleet-mainpc",
            },
            NetworkingConfig: { EndpointsConfig: { "fleet-mainpc": { Aliases: ["nlu-agent"] } } },
        });
    });

    it("refuses a GPU device request, naming the resource and the stack setting", () => {
        assert.throws(() => containerBody(registered("docker:index/container:Container", { name: "stt", deviceRequests: [{ driver: "nvidia" }] })),
            /^Error: harness: docker:index\/container:Container x: GPU device requests need the NVIDIA runtime, which this engine lacks; the engine test stack sets fleet:gpu false$/);
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

    it("sends only what the ignore file lets through, as BuildKit would", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-ctx-"));
        for (const f of ["requirements/a.txt", "main_pc_code/agents/a.py", "main_pc_code/agents/b.py", "common/x.py", "common/__pycache__/x.pyc", "models/w.bin"]) {
            fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
            fs.writeFileSync(path.join(dir, f), "x");
        }
        fs.writeFileSync(path.join(dir, "a.Dockerfile.dockerignore"), "**\n!requirements/a.txt\n!main_pc_code/agents/a.py\n!common\nmodels\n**/__pycache__\n");
        assert.deepStrictEqual(contextFiles(dir, path.join(dir, "a.Dockerfile.dockerignore")), ["common/x.py", "main_pc_code/agents/a.py", "requirements/a.txt"]);
    });
});
