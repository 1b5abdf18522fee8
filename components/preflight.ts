/**
 * Checks a host before any of its containers: Docker engine version, the buildx plugin, the
 * builder the images are built with and, where they push, the containerd image store
 * (components/image.ts says why), that the daemon keeps what the Docker provider reads back
 * (swap accounting; no default log options merged into the containers'), and on GPU hosts the
 * NVIDIA driver and the GPUs the containers request (scripts/host-preflight.sh). A failure stops
 * the deploy with what is wrong and what to do; containers depend on this resource. Whether
 * Docker can serve a GPU request is the GPU probe's question (components/gpuProbe.ts).
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { LOG_DEFAULTS, LOG_OPTS } from "../fleet/model/defaults";

/**
 * Relative to the project directory, the working directory the command provider runs in: an
 * absolute path would differ between checkouts and re-run the preflight from every other one.
 */
export const PREFLIGHT_SCRIPT = "scripts/host-preflight.sh";

export interface HostPreflightArgs {
    machine: string;
    dockerHost: string;
    minDockerVersion: string;
    /** Check the NVIDIA driver and the GPUs. */
    gpu: boolean;
    /** Oldest driver the CUDA track needs; required when `gpu`. */
    minDriverMajor?: number;
    /** Host GPU indexes the containers request (hosts.yaml GPU_VISIBLE_DEVICES); each must exist. */
    gpuIds: string[];
    cudaTrack: string;
    /** The buildx builder the images are built with; it must exist and use the docker driver. */
    builder: string;
    /**
     * Re-run the checks whenever one of these changes (the host's image tags): every deploy
     * that changes something runs them, a no-op preview shows no diff.
     */
    triggers: string[];
}

export class HostPreflight extends pulumi.ComponentResource {
    /** What the checks found, e.g. "preflight pc2: docker 27.3.1, ..., NVIDIA driver 550.54.14, GPU 0: ok". */
    public readonly report: pulumi.Output<string>;

    constructor(name: string, args: HostPreflightArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:host:HostPreflight", name, {}, opts);
        const check = new command.local.Command(name, {
            create: `bash ${PREFLIGHT_SCRIPT}`,
            environment: {
                DOCKER_HOST: args.dockerHost,
                FLEET_MACHINE: args.machine,
                FLEET_MIN_DOCKER: args.minDockerVersion,
                FLEET_GPU: String(args.gpu),
                FLEET_MIN_DRIVER: String(args.minDriverMajor ?? 0),
                FLEET_GPU_IDS: args.gpuIds.join(","),
                FLEET_CUDA_TRACK: args.cudaTrack,
                FLEET_BUILDER: args.builder,
                // What every container's logging is: the daemon must add nothing to it.
                FLEET_LOG_DRIVER: LOG_DEFAULTS.driver,
                FLEET_LOG_OPTS: Object.keys(LOG_OPTS).join(","),
            },
            triggers: args.triggers,
        }, { parent: this });
        this.report = check.stdout;
        this.registerOutputs({ report: this.report });
    }
}
