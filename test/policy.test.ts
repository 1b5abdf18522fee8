import * as assert from "assert";
import { ResourceValidationArgs } from "@pulumi/policy";
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { formatIssue } from "../fleet/model/issues";
import { parsePolicyProject } from "../fleet/pulumi/config";
import { fleetPolicies } from "../policy/policies";
import { byType, nameOf, PEER_OUTPUTS, Registered, runbookStack, runProgram, stackConfig } from "./mocks";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Violations of one policy (or all) for one resource. */
function violations(type: string, props: Props, policy?: string, name = "x"): string[] {
    const out: string[] = [];
    for (const p of fleetPolicies.filter((x) => !policy || x.name === policy)) {
        const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource!];
        for (const v of validations) void v({ type, props, name, urn: `urn:${name}`, opts: {} } as unknown as ResourceValidationArgs, (m) => out.push(`${p.name}: ${m}`));
    }
    return out;
}

describe("policy pack", () => {
    const real: Record<string, Registered[]> = {};
    before(async () => {
        for (const stack of ["mainpc", "pc2", "local"]) {
            const run = await runProgram(stack === "local" ? stackConfig("local") : runbookStack(stack));
            real[stack] = run.resources;
            // pc2 reads MainPC's endpoints from the mainpc stack (Pulumi.pc2.yaml's peerStack).
            if (stack === "mainpc") PEER_OUTPUTS[stackConfig("pc2").config["fleet:peerStack"]] = { endpoints: run.outputs.endpoints };
        }
    });

    it("every rule is mandatory", () => {
        assert.deepStrictEqual(fleetPolicies.map((p) => [p.name, p.enforcementLevel]), [
            ["non-root-user", "mandatory"], ["healthcheck-present", "mandatory"], ["read-only-rootfs", "mandatory"], ["capabilities-dropped", "mandatory"],
            ["no-new-privileges", "mandatory"], ["gpu-requests-on-gpu-services", "mandatory"], ["docker-socket-only-for-the-supervisor", "mandatory"], ["host-network-only-for-the-front", "mandatory"], ["images-by-digest-never-latest", "mandatory"],
        ]);
    });

    it("the program's own resources pass every rule on every stack", () => {
        for (const [stack, rs] of Object.entries(real)) {
            const found = rs.flatMap((r) => violations(r.type, r.inputs, undefined, r.name));
            assert.deepStrictEqual(found, [], stack);
        }
    });

    const C = "docker:index/container:Container";
    const ok = (): Props => structuredClone(byType(real.mainpc, C).find((c) => nameOf(c) === "model-ops-coordinator")!.inputs);
    const cpu = (): Props => structuredClone(byType(real.pc2, C).find((c) => nameOf(c) === "cache-manager")!.inputs);
    const front = (): Props => structuredClone(byType(real.pc2, C).find((c) => nameOf(c) === "fleet-pc2-front")!.inputs);
    const table: { rule: string; props: () => Props; type?: string; expected: string[] }[] = [
        { rule: "non-root-user", props: () => ({ ...cpu(), user: "0:0" }), expected: ["non-root-user: CacheManager runs as '0:0'; set user 10001:10001"] },
        { rule: "non-root-user", props: () => ({ ...front(), user: "0:0" }), expected: ["non-root-user: pc2's host front runs as '0:0'; set user 10001:10001"] },
        { rule: "read-only-rootfs", props: () => ({ ...front(), readOnly: false }), expected: ["read-only-rootfs: pc2's host front has a writable root filesystem and no declared exception"] },
        { rule: "host-network-only-for-the-front", props: () => ({ ...cpu(), networkMode: "host" }), expected: ["host-network-only-for-the-front: CacheManager shares the host's network namespace; only the host front may"] },
        { rule: "host-network-only-for-the-front", props: () => ({ ...front(), labels: [{ label: "fleet.machine", value: "pc2" }] }), expected: ["host-network-only-for-the-front: fleet-pc2-front shares the host's network namespace; only the host front may"] },
        { rule: "host-network-only-for-the-front", props: () => front(), expected: [] },
        { rule: "host-network-only-for-the-front", props: () => ({ ...cpu(), networkMode: "container:fleet-pc2-front", ipcMode: "host", pidMode: "host" }), expected: ["host-network-only-for-the-front: CacheManager shares the network namespace of fleet-pc2-front", "host-network-only-for-the-front: CacheManager shares the host's IPC namespace", "host-network-only-for-the-front: CacheManager shares the host's PID namespace"] },
        { rule: "non-root-user", props: () => ({ ...cpu(), user: undefined }), expected: ["non-root-user: CacheManager runs as 'the image's user'; set user 10001:10001"] },
        { rule: "healthcheck-present", props: () => ({ ...cpu(), healthcheck: undefined }), expected: ["healthcheck-present: CacheManager has no healthcheck"] },
        { rule: "read-only-rootfs", props: () => ({ ...cpu(), readOnly: false }), expected: ["read-only-rootfs: CacheManager has a writable root filesystem and no declared exception"] },
        { rule: "read-only-rootfs", props: () => ({ ...cpu(), readOnly: false, labels: [...cpu().labels, { label: "fleet.rootfs-exception", value: "vendor SDK writes its install dir" }] }), expected: [] },
        { rule: "capabilities-dropped", props: () => ({ ...cpu(), capabilities: { drops: ["NET_RAW"], adds: ["SYS_ADMIN"] } }), expected: ["capabilities-dropped: CacheManager does not drop ALL capabilities", "capabilities-dropped: CacheManager adds capabilities SYS_ADMIN"] },
        { rule: "no-new-privileges", props: () => ({ ...cpu(), securityOpts: [cpu().securityOpts[1]] }), expected: ["no-new-privileges: CacheManager lacks no-new-privileges:true"] },
        { rule: "gpu-requests-on-gpu-services", props: () => ({ ...cpu(), deviceRequests: [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }] }), expected: ["gpu-requests-on-gpu-services: CacheManager requests a GPU but its family 'base-cpu-pydeps' has no CUDA stack"] },
        { rule: "gpu-requests-on-gpu-services", props: () => ({ ...ok(), labels: ok().labels.map((l: Props) => (l.label === "fleet.machine" ? { ...l, value: "laptop" } : l)) }), expected: ["gpu-requests-on-gpu-services: ModelOpsCoordinator requests a GPU on laptop, which has none"] },
        { rule: "docker-socket-only-for-the-supervisor", props: () => ({ ...cpu(), mounts: [{ type: "bind", source: "/var/run/docker.sock", target: "/var/run/docker.sock", readOnly: true }] }), expected: ["docker-socket-only-for-the-supervisor: CacheManager mounts the Docker socket"] },
        { rule: "docker-socket-only-for-the-supervisor", props: () => ({ ...cpu(), envs: [...cpu().envs, "DOCKER_HOST=tcp://docker-api-proxy:2375"] }), expected: ["docker-socket-only-for-the-supervisor: CacheManager is given DOCKER_HOST; only SelfHealingSupervisor reaches the Docker API"] },
        { rule: "images-by-digest-never-latest", props: () => ({ ...cpu(), image: "ghcr.io/ai-system/cache-manager:latest" }), expected: ["images-by-digest-never-latest: CacheManager runs 'ghcr.io/ai-system/cache-manager:latest', not an image by digest"] },
        { rule: "images-by-digest-never-latest", type: "docker:index/remoteImage:RemoteImage", props: () => ({ name: "ghcr.io/ai-system/cache-manager:latest" }), expected: ["images-by-digest-never-latest: x pulls 'ghcr.io/ai-system/cache-manager:latest': name a tag or digest other than latest"] },
        { rule: "images-by-digest-never-latest", type: "docker:index/remoteImage:RemoteImage", props: () => ({ name: "ghcr.io/ai-system/cache-manager" }), expected: ["images-by-digest-never-latest: x pulls 'ghcr.io/ai-system/cache-manager': name a tag or digest other than latest"] },
        { rule: "images-by-digest-never-latest", type: "docker-build:index:Image", props: () => ({ tags: ["ghcr.io/ai-system/base-python:latest"] }), expected: ["images-by-digest-never-latest: x is tagged 'ghcr.io/ai-system/base-python:latest'"] },
    ];
    for (const row of table) {
        it(`${row.rule}: ${row.expected.length ? row.expected.join(" / ").replace(/^[^:]+: /, "") : "a declared exception passes"}`, () => {
            assert.deepStrictEqual(violations(row.type ?? C, row.props(), row.rule), row.expected);
        });
    }

    it("the Docker API proxy is the one container allowed root and the socket, and the GPU request passes on a GPU family", () => {
        const proxy = byType(real.mainpc, C).find((c) => nameOf(c) === "docker-api-proxy")!;
        assert.deepStrictEqual(violations(C, proxy.inputs), []);
        assert.deepStrictEqual(violations(C, ok(), "gpu-requests-on-gpu-services"), []);
    });
});

/** A module as @pulumi/pulumi resolves it (its gRPC client and protobuf messages). */
function fromPulumi(id: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
    return require(require.resolve(id, { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] })); // eslint-disable-line @typescript-eslint/no-require-imports
}

describe("policy pack: started as the Pulumi CLI starts a local TypeScript pack", () => {
    const POLICY_DIR = path.join(__dirname, "..", "policy");
    let pack: ChildProcess | undefined;
    let port = 0;
    let stderr = "";

    before(async () => {
        // pulumi/pulumi pkg/resource/plugin (NewPolicyAnalyzer): the pack runs with its own
        // directory as working directory, so the modules resolve from there; the nodejs host
        // locates `@pulumi/pulumi/cmd/run-policy-pack` from that directory and runs
        // `node <it> <engine-address> .` (the old pulumi-analyzer-policy shim did the same with
        // require.resolve). run-policy-pack registers ts-node with type checking (no tsconfig
        // in policy/, so skipProject) and requires package.json's main; the pack's PolicyPack
        // serves the analyzer and prints its port. The CLI installs dependencies only for packs
        // it downloads (into ~/.pulumi/policies); for a local pack Pulumi's docs say to install
        // them yourself, and `pulumi install` does so since pulumi/pulumi#16438. Here they are
        // the project's: policy/package.json declares none (so `pulumi install` there adds
        // nothing) and Node resolves ../node_modules, which the README's set-up installs.
        const manifest = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
        assert.deepStrictEqual([manifest.main, manifest.dependencies, manifest.devDependencies], ["index.ts", undefined, undefined]);
        const runner = execFileSync(process.execPath, ["-e", "console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))"], { cwd: POLICY_DIR, encoding: "utf8" }).trim();
        assert.strictEqual(runner, path.join(__dirname, "..", "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack", "index.js"));
        pack = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: POLICY_DIR, stdio: ["ignore", "pipe", "pipe"] });
        pack.stderr!.on("data", (d) => (stderr += d));
        port = await new Promise<number>((resolve, reject) => {
            let out = "";
            pack!.stdout!.on("data", (d) => {
                out += d;
                const m = /^(\d+)\n/.exec(out);
                if (m) resolve(Number(m[1]));
            });
            pack!.on("exit", (code) => reject(new Error(`the policy pack exited ${code} before serving: ${out}${stderr}`)));
        });
    });

    after(() => pack?.kill());

    it("PulumiPolicy.yaml is what the CLI's PolicyPackProject reads: a nodejs runtime, nothing unknown", () => {
        const r = parsePolicyProject(fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8"));
        assert.deepStrictEqual(r, { ok: true, value: { runtime: "nodejs" } });
        const broken = parsePolicyProject("description: x\nruntim: nodejs\n");
        assert.deepStrictEqual(broken.ok ? [] : broken.issues.map(formatIssue), [
            "PulumiPolicy.yaml: runtime: project is missing a 'runtime' attribute. Fix: add runtime: nodejs",
            "PulumiPolicy.yaml: line 2: runtim: is not a field of PulumiPolicy.yaml (the CLI ignores it). Fix: use one of runtime, version, main, description, author, website, license",
        ]);
    });

    it("type-checks, resolves every import and serves the analyzer, listing every policy as mandatory", async () => {
        const grpc = fromPulumi("@grpc/grpc-js");
        const { AnalyzerClient } = fromPulumi("./proto/analyzer_grpc_pb.js");
        const { Empty } = fromPulumi("google-protobuf/google/protobuf/empty_pb.js");
        const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        const info = await new Promise<any>((resolve, reject) => client.getAnalyzerInfo(new Empty(), (e: Error | null, r: unknown) => (e ? reject(e) : resolve(r)))); // eslint-disable-line @typescript-eslint/no-explicit-any
        client.close();
        assert.strictEqual(info.getName(), "fleet");
        // EnforcementLevel MANDATORY is 1 in pulumi/analyzer.proto.
        assert.deepStrictEqual(info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]), fleetPolicies.map((p) => [p.name, 1])); // eslint-disable-line @typescript-eslint/no-explicit-any
        assert.strictEqual(stderr, "");
    });

    it("analyzes a resource sent over gRPC: a broken container gets the violation, the real one none", async () => {
        const grpc = fromPulumi("@grpc/grpc-js");
        const { AnalyzerClient } = fromPulumi("./proto/analyzer_grpc_pb.js");
        const { AnalyzeRequest, AnalyzerResourceOptions } = fromPulumi("./proto/analyzer_pb.js");
        const { Struct } = fromPulumi("google-protobuf/google/protobuf/struct_pb.js");
        const real = (await runProgram(stackConfig("local"))).resources.find((r) => r.type === "docker:index/container:Container" && nameOf(r) === "executor")!;
        const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        const analyze = (props: Record<string, unknown>) => new Promise<string[]>((resolve, reject) => {
            const req = new AnalyzeRequest();
            req.setType("docker:index/container:Container");
            req.setName(real.name);
            req.setUrn(`urn:pulumi:local::fleet::docker:index/container:Container::${real.name}`);
            req.setProperties(Struct.fromJavaScript(JSON.parse(JSON.stringify(props))));
            req.setOptions(new AnalyzerResourceOptions());
            client.analyze(req, (e: Error | null, r: any) => (e ? reject(e) : resolve(r.getDiagnosticsList().map((d: any) => `${d.getPolicyname()}: ${d.getMessage()}`)))); // eslint-disable-line @typescript-eslint/no-explicit-any
        });
        assert.deepStrictEqual(await analyze(real.inputs), []);
        const broken = await analyze({ ...real.inputs, user: "0:0" });
        client.close();
        assert.strictEqual(broken.length, 1);
        assert.match(broken[0], /^non-root-user: .*Executor runs as '0:0'; set user 10001:10001/s);
    });
});
