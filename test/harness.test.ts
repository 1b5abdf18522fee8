import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { containerBody, contextFiles, durationNs, EngineHarness, nanoCpus } from "./engine/harness";
import { Registered } from "./mocks";

function registered(type: string, inputs: Record<string, unknown>): Registered {
    return { type, name: "x", inputs, opts: { parent: "", dependencies: [], retainOnDelete: false, deleteBeforeReplace: false, replaceOnChanges: [] } };
}

describe("engine harness translation (no engine needed)", () => {
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

    it("fails by name on an input it does not translate, and on a push", async () => {
        const h = new EngineHarness();
        const apply = (r: Registered) => (h as unknown as { apply: (r: Registered & { custom: boolean }) => Promise<unknown> }).apply({ ...r, custom: true });
        await assert.rejects(apply(registered("docker:index/container:Container", { name: "x", privileged: true })), /harness: docker:index\/container:Container x: input 'privileged' is not translated/);
        await assert.rejects(apply(registered("docker:index/service:Service", { name: "x" })), /harness: docker:index\/service:Service x: this resource type is not translated/);
        await assert.rejects(apply(registered("docker-build:index:Image", { push: true, tags: ["a:b"], context: { location: "." }, dockerfile: { inline: "" } })), /registry push is not possible here; the engine test stack sets fleet:imageOutput load/);
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
