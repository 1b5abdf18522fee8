/**
 * Reproducibility records (002 P1.8): what to hash-lock per service, and build-lock.json, the
 * digests a deploy built and ran, read from `pulumi stack export`.
 */
import { familyPython, familyRepository, requirementsPath } from "../model/images";
import { FleetData } from "../model/schema";

export interface LockTarget {
    service: string;
    /** Python minor version of the service's family: the lock is resolved for it. */
    python: string;
    /** The service's unpinned inputs, `requirements/<container>.in`. */
    input: string;
    /** The hash-locked output the image installs. */
    output: string;
    /** Image repository of the service's family (cu121 track): the lock is resolved inside it. */
    family: string;
}

/** The unpinned input a lock is resolved from: `requirements/<container>.in` for `.txt`. */
export function requirementsInput(output: string): string {
    return output.endsWith(".txt") ? output.replace(/\.txt$/, ".in") : `${output}.in`;
}

export function lockTargets(d: FleetData): LockTarget[] {
    return Object.entries(d.services).map(([name, svc]) => {
        const output = requirementsPath(name, svc);
        return {
            service: name,
            python: familyPython(d, svc.family),
            input: requirementsInput(output),
            output,
            family: familyRepository(svc.family, "cu121"),
        };
    }).filter((t) => d.services[t.service].allowUnhashed === undefined);
}

export interface BuildLock {
    stack: string;
    /** Images the deploy built: repository -> tag@digest. */
    built: Record<string, string>;
    /** Upstream (base) images the roots were built FROM. */
    upstream: Record<string, string>;
    /** Images the host pulled and runs, by container: repo digest. */
    running: Record<string, string>;
    /**
     * The commit each built image was built from (its org.opencontainers.image.revision label):
     * what a rollback to this lock (fleet:pinAll) labels its containers with, as the deploy did.
     */
    revisions: Record<string, string>;
}

interface ExportedResource {
    type: string;
    urn: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** build-lock.json from `pulumi stack export` of one stack. */
export function buildLock(exported: unknown): BuildLock {
    const doc = exported as { deployment?: { manifest?: unknown; resources?: ExportedResource[] } };
    const resources = doc.deployment?.resources;
    if (!Array.isArray(resources)) throw new Error("not a `pulumi stack export` document: deployment.resources is missing");
    const name = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
    const stack = resources[0]?.urn.split("::")[0].replace(/^urn:pulumi:/, "") ?? "";
    const lock: BuildLock = { stack, built: {}, upstream: {}, running: {}, revisions: {} };
    for (const r of resources) {
        if (r.type === "docker-build:index:Image") {
            const ref = String(r.outputs?.ref ?? "");
            if (ref) lock.built[name(r.urn)] = ref;
            const up = (r.inputs?.buildArgs as Record<string, string> | undefined)?.UPSTREAM_IMAGE;
            if (up) lock.upstream[name(r.urn)] = up;
            const revision = (r.inputs?.labels as Record<string, string> | undefined)?.["org.opencontainers.image.revision"];
            if (ref && revision) lock.revisions[name(r.urn)] = revision;
        }
        if (r.type === "docker:index/remoteImage:RemoteImage") {
            lock.running[name(r.urn)] = String(r.outputs?.repoDigest || r.outputs?.imageId || "");
        }
    }
    for (const k of ["built", "upstream", "running", "revisions"] as const) lock[k] = Object.fromEntries(Object.entries(lock[k]).sort(([a], [b]) => (a < b ? -1 : 1)));
    return lock;
}
