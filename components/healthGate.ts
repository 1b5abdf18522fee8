/**
 * The health gate of a host (fleet/model/healthGate.ts says which containers and why,
 * scripts/health-gate.sh how): one command, after every container it waits for is created, that
 * ends when each is healthy and fails naming each service that is not. It runs again whenever
 * one of them is replaced (its id is a trigger) or what it waits for changes (its environment).
 * A failed gate is never recorded as passed: its create returns no resource (pulumi-go-provider
 * v1.3.0 infer/resource.go `Create`, a plain error), so the state keeps the gate before it (whose
 * triggers still differ) or none, and the next `up` waits again.
 */
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { GatedContainer, healthGateEnv } from "../fleet/model/healthGate";

/** Relative to the project directory, as the preflight's (components/preflight.ts says why). */
export const HEALTH_GATE_SCRIPT = "scripts/health-gate.sh";

export interface HealthGateArgs {
    machine: string;
    dockerHost: string;
    /** What it waits for, in plan order (HostPlan.healthGate). */
    gated: GatedContainer[];
    /** The containers of `gated`, in the same order. */
    containers: docker.Container[];
}

export class HealthGate extends pulumi.ComponentResource {
    /** One line per container, `health-gate <machine>: <Service> (<container>) healthy after <n> s`. */
    public readonly report: pulumi.Output<string>;

    constructor(name: string, args: HealthGateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("fleet:host:HealthGate", name, {}, opts);
        const gate = new command.local.Command(name, {
            create: `bash ${HEALTH_GATE_SCRIPT}`,
            environment: {
                DOCKER_HOST: args.dockerHost,
                FLEET_MACHINE: args.machine,
                FLEET_GATED: healthGateEnv(args.gated),
            },
            triggers: args.containers.map((c) => c.id),
        }, { parent: this, dependsOn: args.containers });
        this.report = gate.stdout;
        this.registerOutputs({ report: this.report });
    }
}
