/**
 * The GPU path without a GPU: Docker's own NVIDIA device driver, registered because the stand-in
 * `nvidia-container-runtime-hook` is on dockerd's PATH (scripts/engine-up.sh with
 * FLEET_NVIDIA_STANDIN=1, scripts/nvidia-standin). For a container with a GPU device request the
 * daemon sets NVIDIA_VISIBLE_DEVICES to the request's device ids, NVIDIA_DRIVER_CAPABILITIES to
 * its NVIDIA capabilities ("gpu" is none), and runs the hook as a prestart hook (moby v26.1.5
 * daemon/nvidia_linux.go `setNvidiaGPUs`). The stand-in records each call and injects nothing, so
 * the GPU services see no GPU and start on the CPU (fleet:gpuFallback in the overrides).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { planHost } from "../../../fleet/model/plan";
import { parsedStack, realFleet } from "../../helpers";
import { containerName } from "../../../fleet/model/names";
import { brokenCheckout, StackContext } from "./context";

/** Where engine-up puts the stand-ins; the hook logs next to its bin/ directory. */
const STANDIN_DIR = process.env.FLEET_NVIDIA_STANDIN_DIR ?? "/var/lib/fleet-nvidia-standin";

interface HookCall { id: string; args: string[]; NVIDIA_VISIBLE_DEVICES: string | null; NVIDIA_DRIVER_CAPABILITIES: string | null }

function hookCalls(): Map<string, HookCall> {
    const file = path.join(STANDIN_DIR, "calls.jsonl");
    const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
    return new Map(lines.map((l) => JSON.parse(l) as HookCall).map((c) => [c.id, c]));
}

/** The capabilities the daemon passes on as NVIDIA_DRIVER_CAPABILITIES (`allNvidiaCaps`), or null when none. */
function nvidiaCapabilities(caps: string[]): string | null {
    const nvidia = caps.filter((c) => ["compute", "compat32", "graphics", "utility", "video", "display"].includes(c));
    return nvidia.length ? nvidia.join(",") : null;
}

/** The last value of `name` in a container's environment (Config.Env), or null. */
function envValue(env: string[], name: string): string | null {
    const hit = env.filter((e) => e.startsWith(`${name}=`)).pop();
    return hit === undefined ? null : hit.slice(name.length + 1);
}

async function logsOf(ctx: StackContext, container: string): Promise<string> {
    const buf = await ctx.docker.getContainer(container).logs({ stdout: true, stderr: true, follow: false }) as unknown as Buffer;
    return buf.toString("utf8");
}

export function gpuChecks(ctx: StackContext): void {
    if (ctx.stack === "local") return;
    it("every device request the plan gives is the container's, and the daemon's NVIDIA hook ran for exactly those containers with their devices; the GPU services logged their CPU fallback", async () => {
        const fleet = realFleet();
        const plan = planHost(fleet, parsedStack(ctx.config(), fleet));
        const calls = hookCalls();
        const withRequest = plan.containers.filter((c) => c.gpu !== null);
        assert.ok(withRequest.filter((c) => c.compute === "gpu").length === { mainpc: 17, pc2: 5 }[ctx.machine], "every GPU service runs");
        for (const c of plan.containers) {
            const info = await ctx.docker.getContainer(ctx.services[c.service].container).inspect();
            const call = calls.get(info.Id);
            if (c.gpu === null) {
                assert.deepStrictEqual([info.HostConfig.DeviceRequests ?? [], call], [[], undefined], `${c.service}: no device request, no hook`);
                continue;
            }
            assert.deepStrictEqual(info.HostConfig.DeviceRequests, [{ Driver: c.gpu.driver, Count: 0, DeviceIDs: c.gpu.deviceIds, Capabilities: [c.gpu.capabilities], Options: {} }], c.service);
            assert.deepStrictEqual(
                call && { args: call.args, devices: call.NVIDIA_VISIBLE_DEVICES, capabilities: call.NVIDIA_DRIVER_CAPABILITIES },
                // The daemon sets NVIDIA_DRIVER_CAPABILITIES only for NVIDIA capabilities of the
                // request ("gpu" is none); without them the process keeps the image's own value
                // (the CUDA root's ENV, as NVIDIA's cuda images set it).
                { args: ["prestart"], devices: c.gpu.deviceIds.join(","), capabilities: nvidiaCapabilities(c.gpu.capabilities) ?? envValue(info.Config.Env, "NVIDIA_DRIVER_CAPABILITIES") },
                `${c.service}: the hook's call`,
            );
            if (c.compute === "gpu") {
                assert.strictEqual(c.env.GPU_FALLBACK, "cpu", c.service);
                assert.match(await logsOf(ctx, ctx.services[c.service].container), /no GPU visible; GPU_FALLBACK=cpu, starting on CPU/, c.service);
            }
        }
    });

    if (ctx.stack === "mainpc") it("a GPU service whose new image never turns healthy is replaced stop-first and given back: its previous container (the same id, with its device request) runs again, healthy, before `up` fails naming the service; the fix takes over", async function () {
        this.timeout(900000);
        const [service, entry] = ["STTService", "main_pc_code/services/stt_service.py"];
        const resource = containerName(service);
        const second = brokenCheckout(ctx, service, entry);
        const h = ctx.harness;
        const previous = ctx.services[service].container;
        const before = await ctx.docker.getContainer(previous).inspect();
        let failedName = "";
        await assert.rejects(h.run(second.cfg(), { projectDir: second.projectDir }), (e: Error) => {
            const m = new RegExp(`^harness: command:local:Command ${resource}-start: exit status 1: running "bash scripts/container-start\\.sh (${resource}-[0-9a-f]{7}) ${service} mainpc \\d+ 10 5 stop-first fleet-mainpc-front fleet-mainpc-net \\S+ 15 10":\\n`).exec(e.message);
            assert.ok(m, e.message);
            failedName = m[1];
            assert.match(e.message, new RegExp(`\\n${service} \\(${failedName}\\) is not healthy after 10 s: `));
            assert.match(e.message, new RegExp(`\\n${service}: the previous container ${previous} runs again, healthy\\.\\n`));
            return true;
        });
        const after = await ctx.docker.getContainer(previous).inspect();
        assert.deepStrictEqual([after.Id, after.State.Running, after.State.Health?.Status], [before.Id, true, "healthy"], "the previous container serves again");
        assert.deepStrictEqual(after.HostConfig.DeviceRequests, before.HostConfig.DeviceRequests);
        assert.strictEqual((await fetch(ctx.services[service].health)).status, 200);
        const failed = await ctx.docker.getContainer(failedName).inspect();
        assert.strictEqual(failed.State.Running, false, "the new container was stopped: one model server on the card at a time");
        // Stop-first: the previous container stopped before the new one started, and started
        // again only after the new one was stopped.
        assert.ok(Date.parse(after.State.StartedAt) > Date.parse(failed.State.FinishedAt), "given back after the new one stopped");
        assert.ok(Date.parse(failed.State.StartedAt) > Date.parse(before.State.StartedAt));
        second.fix();
        await h.run(second.cfg(), { projectDir: second.projectDir });
        assert.strictEqual((await ctx.docker.getContainer(ctx.services[service].container).inspect()).State.Health?.Status, "healthy");
        assert.deepStrictEqual(h.pending(), []);
        // Back to this checkout: only the wait differs, an argument of the start command, which
        // runs again (an update) and finds its container running and healthy.
        await h.run(ctx.config());
        assert.deepStrictEqual(h.changes(), [`command:local:Command ${resource}-start update`]);
    });
}
