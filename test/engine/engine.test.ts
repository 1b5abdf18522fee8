/**
 * The real program against this machine's Docker engine, stack by stack, on state kept as the
 * providers keep it (./harness.ts): every service of each host is built with BuildKit, started,
 * checked from outside and from inside its container; then deployed again, from another
 * checkout, after hand-made drift and after a rebuild from nothing, and nothing changes that
 * should not. Needs a running engine, the base image of scripts/make-base-images.sh, the
 * registry and the package index (.ci/run starts them).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planHost } from "../../fleet/model/plan";
import { FIXTURE_APP, parsedStack, realFleet } from "../helpers";
import { engineUrns } from "../mocks";
import { cacheHits, EngineHarness } from "./harness";
import { changeChecks } from "./suite/changes";
import { gpuChecks } from "./suite/gpu";
import { engineStack, PEER_STACK, peerStandIns, ServiceOutput, StackContext, STACKS } from "./suite/context";
import { packageChecks, stopChecks } from "./suite/packages";
import { peerMoveChecks } from "./suite/peers";
import { proxyAttacks } from "./suite/proxyAttacks";
import { pushShaped } from "./suite/push";
import { runtimeChecks } from "./suite/runtime";
import { sbomChecks } from "./suite/sbom";
import { rebuildFromNothing, stateChecks } from "./suite/state";

describe("against the Docker engine", () => {
    const peers: Record<string, Record<string, unknown>> = {};
    const harness = new EngineHarness(peers);

    before(() => harness.purgeLeftovers());
    after(() => harness.cleanup());

    for (const stack of Object.keys(STACKS)) {
        const machine = STACKS[stack].machine;
        describe(stack, () => {
            // Filled by `before`; the test modules read it when their tests run.
            const ctx = { stack, machine, harness, docker: harness.docker } as StackContext;

            before(async () => {
                // A copy of the fixture application, so one service's source can change.
                ctx.app = fs.mkdtempSync(path.join(os.tmpdir(), `fleet-engine-${machine}-`));
                fs.cpSync(FIXTURE_APP, ctx.app, { recursive: true });
                ctx.config = (...more: string[]) => engineStack(stack, ctx.app, ...more);
                if (stack === "pc2") {
                    // MainPC's endpoints, as the mainpc stack exported them, served where pc2's containers reach them.
                    const mainpc = peers[PEER_STACK]?.endpoints as Record<string, string> | undefined;
                    assert.ok(mainpc, "pc2 reads the endpoints of the mainpc stack: run the mainpc suite first");
                    const plan = planHost(realFleet(), parsedStack(ctx.config()));
                    ctx.peerStandIns = await peerStandIns(mainpc, plan.peers.map((p) => p.service));
                    peers[PEER_STACK] = { endpoints: ctx.peerStandIns.endpoints };
                }
                ctx.first = await harness.run(ctx.config());
                ctx.firstTimes = harness.engineTimes;
                ctx.firstUrns = engineUrns(stack, ctx.first.resources, ctx.first.urns);
                ctx.firstExport = harness.exportDeployment(ctx.first);
                // The latest successful run's: a replaced container has a new (auto-)name.
                Object.defineProperty(ctx, "services", { get: () => harness.stackOutputs[stack].services as Record<string, ServiceOutput> });
                // pc2 reads the endpoints of the mainpc stack, ModelOpsCoordinator (a GPU service) among them.
                if (stack === "mainpc") peers[PEER_STACK] = { endpoints: ctx.first.outputs.endpoints };
            });

            after(async () => {
                await ctx.peerStandIns?.close();
                await harness.cleanup();
            });

            runtimeChecks(ctx);
            gpuChecks(ctx);
            // One host is enough: the proxy, its image and its config are the same on both.
            if (machine === "mainpc") proxyAttacks(ctx);
            stateChecks(ctx);
            changeChecks(ctx);
            packageChecks(ctx);
            sbomChecks(ctx);
            if (stack === "pc2") peerMoveChecks(ctx);
            if (stack === "mainpc") pushShaped(ctx);
            // Last but one: it empties the builder cache; the stack's own images fill it again.
            rebuildFromNothing(ctx, stack !== "mainpc" ? undefined : (h) => {
                // Where the stack pushes, the registry cache stands in for the builder's: nothing runs again.
                const log = h.buildLogs["nlu-agent"];
                assert.match(log, /importing cache manifest from 127\.0\.0\.1:5000\/fleet-engine\/cache:nlu-agent/);
                const hits = cacheHits(log);
                assert.ok(hits.runs >= 2, `the image has RUN steps (${hits.runs})`);
                assert.deepStrictEqual([hits.cachedRuns, hits.runs], [hits.runs, hits.runs], "every RUN step came from the registry cache");
            });
            stopChecks(ctx);
        });
    }
});
