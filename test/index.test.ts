import * as assert from "assert";
import { mockAutoName, RUNBOOK_CONFIG, runbookStack, runProgram, stackConfig } from "./mocks";

// @internal in the SDK, so absent from its typings.
const { debuggablePromise } = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: (p: Promise<unknown>, ctx: unknown) => Promise<unknown> }; // eslint-disable-line @typescript-eslint/no-require-imports


describe("index.ts under mocks", () => {
    for (const stack of ["mainpc", "pc2"]) {
        it(`runs for the ${stack} stack and exports its plan`, async () => {
            const { outputs } = await runProgram(runbookStack(stack));
            assert.strictEqual(outputs.machine, stack);
            // The runbook's address: ports are bound to it and other hosts are told it.
            const address = RUNBOOK_CONFIG[stack]["fleet:advertiseAddress"];
            const services = outputs.services as Record<string, Record<string, unknown>>;
            assert.strictEqual(Object.keys(services).length, stack === "mainpc" ? 42 : 23);
            const { image, imageDigest, ...rest } = services.SelfHealingSupervisor;
            // The container's name is the provider's auto-name (the mocks draw it from the resource name).
            assert.deepStrictEqual(rest, { container: mockAutoName("self-healing-supervisor"), endpoint: `${address}:7009`, health: `http://${address}:9008/health`, family: "base-cpu-pydeps", gpu: false, pinned: false });
            assert.match(String(image), /^ghcr\.io\/ai-system\/self-healing-supervisor:(\d{8}-[0-9a-f]{7}-[0-9a-f]{7}|content-[0-9a-f]{12})@sha256:[0-9a-f]{64}$/);
            assert.match(String(imageDigest), /^sha256:[0-9a-f]{64}$/);
            const endpoints = outputs.endpoints as Record<string, string>;
            assert.strictEqual(endpoints.MemoryFusionHub, `${address}:5713`);
            assert.strictEqual(Object.keys(endpoints).length, Object.keys(services).length);
            const summary = outputs.summary as Record<string, unknown>;
            assert.deepStrictEqual({ ...summary, preflight: undefined }, {
                machine: stack, containers: stack === "mainpc" ? 42 : 23, gpuContainers: stack === "mainpc" ? 17 : 5, families: stack === "mainpc" ? 9 : 7,
                portOffset: 0, cudaTrack: "cu121", network: `fleet-${stack}-net`, front: `fleet-${stack}-front`, preflight: undefined,
            });
            // The endpoint each peer front forwards to: the mainpc stack's, checked.
            assert.deepStrictEqual(outputs.peers, stack === "pc2" ? { ModelOpsCoordinator: "192.0.2.16:7212", ServiceRegistry: "192.0.2.16:7200", SystemDigitalTwin: "192.0.2.16:7220" } : {});
            // The program left Pulumi's promise stacks unformatted (fleet/pulumi/promiseStacks.ts).
            const p = Promise.resolve() as Promise<void> & { _debugStackTrace?: string };
            void debuggablePromise(p, "after index.ts");
            assert.strictEqual(p._debugStackTrace, "");
        });
    }

    it("fails with every config problem, the file it belongs to and the pulumi config command that fixes it", async () => {
        await assert.rejects(
            runProgram(stackConfig("pc2", "machine-and-offset-broken")),
            (e: Error) => {
                assert.strictEqual(e.message.split("\n").slice(0, 3).join("\n"), [
                    "2 problems in the fleet data or stack config:",
                    "  - Pulumi.pc2.yaml: fleet:machine: 'pc9' is not one of 'mainpc', 'pc2'. Fix: use one of the listed values: pulumi config set fleet:machine <value> --stack pc2",
                    "  - Pulumi.pc2.yaml: fleet:portOffset: -1 is below the minimum 0. Fix: use a value of at least 0: pulumi config set fleet:portOffset <integer> --stack pc2",
                ].join("\n"));
                return true;
            },
        );
    });

    it("a failed resource fails the run only after the registrations already under way have finished, so none reaches the next run", async () => {
        let started = 0;
        let finished = 0;
        const failing = "docker-build:index:Image";
        await assert.rejects(
            // mainpc: it reads no other stack, so the handler need not answer a StackReference.
            runProgram(runbookStack("mainpc"), {
                handler: async (r) => {
                    if (r.type === failing) throw new Error(`build of ${r.name} failed`);
                    started++;
                    await new Promise((res) => setTimeout(res, 300));
                    finished++;
                    return { id: `${r.name}-id`, state: { ...r.inputs } };
                },
            }),
            /^Error: build of .+ failed$/,
        );
        assert.ok(started > 0, "something else was registered while the build failed");
        assert.strictEqual(finished, started);
    });
});
