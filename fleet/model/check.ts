/**
 * Cross-checks between the three data files: what zod cannot see in one entry alone. Each rule
 * returns every problem it finds, so an operator fixes them all in one pass; the rules live by
 * concern (checkFamilies, checkServices, checkHosts).
 */
import { familyCpus, familyCuda, familyCycles, familyParentRefs, releaseInterpreters } from "./checkFamilies";
import { gpuMemory, hostProfiles, hostUses } from "./checkHosts";
import { dockerSocket, gpuPlacement, portCollisions, serviceRefs, uniqueNames } from "./checkServices";
import { FleetIssue } from "./issues";
import { Broken, FleetFiles, NOTHING_BROKEN, Rule } from "./rules";
import { FleetData } from "./schema";

export { DOCKER_API_SERVICE } from "./checkServices";
export { cudaTracks, lineage, minDriver } from "./lineage";
export type { Broken, FleetFiles } from "./rules";

const RULES: Rule[] = [familyCpus, hostProfiles, hostUses, familyParentRefs, familyCycles, familyCuda, releaseInterpreters, serviceRefs, gpuPlacement, gpuMemory, dockerSocket, uniqueNames, portCollisions];

/**
 * Every cross-file problem of the data.
 * @param broken entries that failed their own schema check (left out of `d`): references to
 * them are not reported again
 */
export function checkFleet(d: FleetData, files: FleetFiles, broken: Broken = NOTHING_BROKEN): FleetIssue[] {
    return RULES.flatMap((r) => r(d, files, broken));
}
