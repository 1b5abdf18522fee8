/**
 * What the GPU probe of a host asks for and runs (fleet/imageplan/gpuProbe.ts), one row per way a
 * host's plan can look: GPU services, NVML only, everything pinned, no GPU request at all.
 */
import * as assert from "assert";
import { imagesToBuild } from "../../fleet/imageplan/buildPlan";
import { gpuProbePlan, GpuProbePlan, requestedGpuIds } from "../../fleet/imageplan/gpuProbe";
import { familySpec } from "../../fleet/model/images";
import { HostPlan, planHost } from "../../fleet/model/plan";
import { CudaTrack, FleetData } from "../../fleet/model/schema";
import { StackConfig } from "../../fleet/model/stack";
import { realFleet, stackFor } from "../helpers";

/** The probe of `machine`'s plan, with the families the stack would build. */
function probeOf(d: FleetData, machine: string, change: Partial<StackConfig> = {}, edit: (p: HostPlan) => HostPlan = (p) => p): GpuProbePlan | undefined {
    const plan = edit(planHost(d, stackFor(machine, change, d)));
    return gpuProbePlan(plan, imagesToBuild(d, plan).families.map((f) => familySpec(d, f, plan.cudaTrack as CudaTrack)));
}

describe("the GPU probe's plan", () => {
    const d = realFleet();
    const gpuServices = (machine: string) => Object.entries(d.services).filter(([, s]) => s.compute === "gpu" && s.hosts.includes(machine)).map(([n]) => n);

    it("a GPU host: its GPU, and the CUDA root family's image", () => {
        assert.deepStrictEqual(probeOf(d, "pc2"), { deviceIds: ["0"], image: { family: "base-gpu-cu121" } });
        assert.deepStrictEqual(probeOf(d, "mainpc"), { deviceIds: ["0"], image: { family: "base-gpu-cu121" } });
    });

    it("GPUs off (fleet:gpu false): no device request, no probe", () => {
        assert.strictEqual(probeOf(d, "mainpc", { gpu: false }), undefined);
    });

    it("only NVML's utility request left (every GPU service disabled): a root the stack builds, as no CUDA family is built", () => {
        assert.deepStrictEqual(probeOf(d, "mainpc", { disableServices: gpuServices("mainpc") }), { deviceIds: ["0"], image: { family: "base-python" } });
        assert.strictEqual(probeOf(d, "pc2", { disableServices: gpuServices("pc2") }), undefined, "pc2 has no NVML service");
    });

    it("every service pinned: the root the HAProxy image is built from (every host with a container builds it: its fronts run it), with or without the supervisor's proxy", () => {
        const pin = (p: HostPlan) => ({ ...p, containers: p.containers.map((c) => ({ ...c, pinnedImage: `ghcr.io/ai-system/${c.name}:20250101-aaaaaaa-bbbbbbb` })) });
        assert.deepStrictEqual(probeOf(d, "pc2", {}, pin), { deviceIds: ["0"], image: { family: "base-python" } });
        const noProxy = (p: HostPlan) => ({ ...pin(p), containers: pin(p).containers.map((c) => ({ ...c, dockerApi: false })) });
        assert.deepStrictEqual(probeOf(d, "pc2", {}, noProxy), { deviceIds: ["0"], image: { family: "base-python" } });
        // A plan that builds no family at all: the first GPU container's pinned image.
        assert.deepStrictEqual(gpuProbePlan(pin(planHost(d, stackFor("pc2", {}, d))), []), { deviceIds: ["0"], image: { pinned: "ghcr.io/ai-system/dream-world-agent:20250101-aaaaaaa-bbbbbbb" } });
    });

    it("asks for every GPU the containers request, once each, in hosts.yaml's order", () => {
        const two = realFleet();
        two.hosts.pc2.profile.GPU_VISIBLE_DEVICES = "1,0";
        const plan = planHost(two, stackFor("pc2", {}, two));
        assert.deepStrictEqual(requestedGpuIds(plan), ["1", "0"]);
        assert.deepStrictEqual(requestedGpuIds(planHost(d, stackFor("mainpc", { gpu: false }, d))), []);
    });
});
