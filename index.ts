/**
 * The fleet program: reads the stack config, plans the host, and exports the plan.
 * parse -> validate -> plan happen in fleet/ (no Pulumi there); this file only wires.
 */
import * as pulumi from "@pulumi/pulumi";
import { FleetError } from "./fleet/model/issues";
import { loadFleet } from "./fleet/model/load";
import { HostPlan, planHost } from "./fleet/model/plan";
import { CONFIG_NAMESPACE, parseStackConfig } from "./fleet/model/stack";

/** The `fleet:` keys of the running stack, namespace stripped, as Pulumi stores them. */
function rawStackConfig(): Record<string, unknown> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.fromEntries(
        Object.entries(pulumi.runtime.allConfig())
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
    );
}

function buildPlan(): HostPlan {
    try {
        const fleet = loadFleet();
        const cfg = parseStackConfig(rawStackConfig(), fleet, `Pulumi.${pulumi.getStack()}.yaml`);
        return planHost(fleet, cfg);
    } catch (e) {
        // RunError prints the message alone: the operator sees the problems, not a stack trace.
        if (e instanceof FleetError) throw new pulumi.RunError(e.message);
        throw e;
    }
}

const plan = buildPlan();

export const machine = plan.machine;
export const families = plan.families;
export const services = Object.fromEntries(plan.containers.map((c) => [c.service, {
    container: c.name,
    family: c.family,
    ports: c.ports,
    gpu: c.gpu !== null,
    health: `${c.health.kind}:${c.health.port}`,
}]));
export const notDeployed = Object.fromEntries(plan.excluded.map((e) => [e.service, `${e.kind}: ${e.reason}`]));
