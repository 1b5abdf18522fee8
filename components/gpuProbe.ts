/**
 * The GPU probe of a host (fleet/imageplan/gpuProbe.ts says what it runs, scripts/gpu-probe.sh
 * how): one container with the host's GPU device request, started and removed after the
 * preflight and before any GPU container. Only the containers with a GPU device request depend on
 * it, so a host whose Docker engine lacks the NVIDIA device driver still gets its CPU services,
 * and the GPU ones fail with the fix instead of one Docker error per container.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

/** Relative to the project directory, as the preflight's (components/preflight.ts says why). */
export const GPU_PROBE_SCRIPT = "scripts/gpu-probe.sh";

export interface GpuProbeArgs {
    machine: string;
    dockerHost: string;
    /** Host GPU indexes the GPU containers request. */
    deviceIds: string[];
    /** The image the probe container runs (any image of the stack: it runs /bin/true). */
    image: pulumi.Input<string>;
    /** Run the probe again whenever one of these changes (the host's image tags, as the preflight). */
    triggers: string[];
    /** The preflight, and the resource that provides `image`. */
    dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class GpuProbe extends pulumi.ComponentResource {
    /** What the probe found, e.g. `gpu-probe pc2: a container with --gpus "device=0" started: ok`. */
    public readonly report: pulumi.Output<string>;

    constructor(name: string, args: GpuProbeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:host:GpuProbe", name, {}, opts);
        const probe = new command.local.Command(name, {
            create: `bash ${GPU_PROBE_SCRIPT}`,
            environment: {
                DOCKER_HOST: args.dockerHost,
                FLEET_MACHINE: args.machine,
                FLEET_GPU_IDS: args.deviceIds.join(","),
                FLEET_PROBE_IMAGE: args.image,
            },
            triggers: args.triggers,
        }, { parent: this, dependsOn: args.dependsOn });
        this.report = probe.stdout;
        this.registerOutputs({ report: this.report });
    }
}
