/**
 * Names derived from service names. They become Docker container, image, volume and Pulumi
 * resource names, so they are part of the contract with deployed state: changing this function
 * renames resources (which needs `aliases`).
 */

/** `ServiceRegistry` -> `service-registry`, `NLUAgent` -> `nlu-agent`, `RealTimeAudioPipelinePC2` -> `real-time-audio-pipeline-pc2`. */
export function containerName(service: string): string {
    return service
        .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
        .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
        .toLowerCase();
}

/** Code-point order: the same on every machine, whatever its locale. */
export function byName(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}
