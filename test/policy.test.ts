import * as assert from "assert";
import { ResourceValidationArgs } from "@pulumi/policy";
import { fleetPolicies } from "../policy/policies";
import { byType, Registered, runProgram, stackConfig } from "./mocks";

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
            real[stack] = (await runProgram(stack === "local" ? stackConfig("local") : stackConfig(stack, "fixture-app"))).resources;
        }
    });

    it("every rule is mandatory", () => {
        assert.deepStrictEqual(fleetPolicies.map((p) => [p.name, p.enforcementLevel]), [
            ["non-root-user", "mandatory"], ["healthcheck-present", "mandatory"], ["read-only-rootfs", "mandatory"], ["capabilities-dropped", "mandatory"],
            ["no-new-privileges", "mandatory"], ["gpu-requests-on-gpu-services", "mandatory"], ["docker-socket-only-for-the-supervisor", "mandatory"], ["images-by-digest-never-latest", "mandatory"],
        ]);
    });

    it("the program's own resources pass every rule on every stack", () => {
        for (const [stack, rs] of Object.entries(real)) {
            const found = rs.flatMap((r) => violations(r.type, r.inputs, undefined, r.name));
            assert.deepStrictEqual(found, [], stack);
        }
    });

    const C = "docker:index/container:Container";
    const ok = (): Props => structuredClone(byType(real.mainpc, C).find((c) => c.inputs.name === "model-ops-coordinator")!.inputs);
    const cpu = (): Props => structuredClone(byType(real.pc2, C).find((c) => c.inputs.name === "cache-manager")!.inputs);
    const table: { rule: string; props: () => Props; type?: string; expected: string[] }[] = [
        { rule: "non-root-user", props: () => ({ ...cpu(), user: "0:0" }), expected: ["non-root-user: CacheManager runs as '0:0'; set user 10001:10001"] },
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
        const proxy = byType(real.mainpc, C).find((c) => c.inputs.name === "docker-api-proxy")!;
        assert.deepStrictEqual(violations(C, proxy.inputs), []);
        assert.deepStrictEqual(violations(C, ok(), "gpu-requests-on-gpu-services"), []);
    });
});
