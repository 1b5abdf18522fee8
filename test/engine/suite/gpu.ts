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
import { StackContext } from "./context";

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
}
