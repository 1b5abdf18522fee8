/**
 * A past deployment of a stack, as Pulumi itself recorded it, for `scripts/fleet rollback`.
 * Two formats, both from pulumi/pulumi sdk/go/common/apitype/core.go:
 * - `pulumi stack export [--version N]` writes an `UntypedDeployment`:
 *   `{"version": 3, "deployment": <DeploymentV3>}` (pkg/cmd/pulumi/stack/stack_export.go);
 * - a self-managed (DIY) backend keeps a copy of the checkpoint after every update,
 *   `.pulumi/history/<project>/<stack>/<stack>-<unix nanos>.checkpoint.json`, a
 *   `VersionedCheckpoint`: `{"version": 3, "checkpoint": {"stack": ..., "latest": <DeploymentV3>}}`,
 *   gzip- or zstd-compressed (`.json.gz`, `.json.zst`) when the backend compresses
 *   (pkg/backend/diy/state.go `addToHistory`, `encoding.Compress`).
 * A DeploymentV3 lists its resources (`ResourceV3`: urn, type, inputs, outputs, and `delete` for
 * an old resource pending deletion after a create-first replacement).
 */
import * as zlib from "zlib";
import { FleetError } from "../model/issues";
import { mapOf } from "../model/parse";
import { PROXY_NAME } from "./buildPlan";
import { BuildLock } from "./lock";
import { splitRef } from "./planImages";

export interface DeployedResource {
    urn: string;
    type: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    delete?: boolean;
}

export interface PastDeployment {
    /** The stack its URNs name (`urn:pulumi:<stack>::<project>::...`). */
    stack: string;
    project: string;
    format: "stack export" | "DIY checkpoint";
    /** The live resources: pending deletes (old sides of replacements) left out. */
    resources: DeployedResource[];
}

/** The deployment schema versions this reads (apitype DeploymentSchemaVersionCurrent is 3; 4 adds `features`). */
const VERSIONS = [3, 4];

const GZIP = Buffer.from([0x1f, 0x8b]);
const ZSTD = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

const HOW = "pulumi stack export --stack <stack> --version <N> --file <file> (pulumi stack history lists the versions), or a self-managed backend's .pulumi/history/fleet/<stack>/<stack>-<time>.checkpoint.json[.gz]";

function refuse(file: string, message: string, fix = `give the export of one deployment: ${HOW}`): never {
    throw new FleetError([{ file, path: "", message, fix }]);
}

function decompress(file: string, bytes: Buffer): Buffer {
    if (bytes.subarray(0, 2).equals(GZIP)) return zlib.gunzipSync(bytes);
    if (bytes.subarray(0, 4).equals(ZSTD)) {
        const zstd = (zlib as unknown as { zstdDecompressSync?: (b: Buffer) => Buffer }).zstdDecompressSync;
        if (!zstd) refuse(file, "is zstd-compressed and this Node has no zstd (Node >= 22.15 has)", `decompress it first: zstd -d ${file}`);
        return zstd(bytes);
    }
    return bytes;
}

/** Reads a deployment export or a DIY history checkpoint (possibly compressed), or names the file and the fix. */
export function readPastDeployment(file: string, bytes: Buffer): PastDeployment {
    let doc: unknown;
    try {
        doc = JSON.parse(decompress(file, bytes).toString("utf8"));
    } catch (e) {
        if (e instanceof FleetError) throw e;
        refuse(file, `is not a deployment export: not JSON (${(e as Error).message})`);
    }
    const top = mapOf(doc);
    const exported = mapOf(top?.deployment);
    const checkpoint = mapOf(top?.checkpoint);
    const format = exported ? "stack export" : checkpoint ? "DIY checkpoint" : undefined;
    if (!top || !format) refuse(file, "is not a deployment export: it has neither 'deployment' (pulumi stack export) nor 'checkpoint' (a DIY history file)");
    if (!VERSIONS.includes(Number(top.version))) refuse(file, `has deployment version ${JSON.stringify(top.version)}; this reads versions ${VERSIONS.join(" and ")}`, "export it with a Pulumi CLI of version 3.x");
    const latest = exported ?? mapOf(checkpoint!.latest);
    if (!latest) refuse(file, "is the checkpoint of a stack that was never deployed (no 'latest' deployment)");
    const all = latest.resources;
    if (!Array.isArray(all) || all.length === 0) refuse(file, "holds a deployment with no resources");
    const resources = (all as DeployedResource[]).filter((r) => r && typeof r.urn === "string" && typeof r.type === "string");
    // Every URN names the stack and the project: `urn:pulumi:<stack>::<project>::<type>::<name>`.
    const root = resources.find((r) => r.type === "pulumi:pulumi:Stack") ?? resources[0];
    if (!root) refuse(file, "holds a deployment with no resources");
    const [stack, project] = root.urn.replace(/^urn:pulumi:/, "").split("::");
    return { stack, project, format, resources: resources.filter((r) => r.delete !== true) };
}

/** What a rollback to a past deployment does to one container of the host, against this commit's data. */
export interface RollbackRow {
    /** The service, or the container's name when this commit's data no longer has it. */
    service: string;
    container: string;
    change: "same image" | "that deployment's image" | "not in that deployment" | "removed since";
    detail: string;
}

/**
 * Per container of this commit's plan, and per container of the deployment this commit no longer
 * runs: what the rollback's lock makes it run. `builds` is the reference this commit would build
 * for each service, or why that is not known here.
 */
export function rollbackRows(lock: BuildLock, containers: readonly { service: string; name: string }[], builds: Record<string, { ref: string } | { unknown: string }>): RollbackRow[] {
    const rows: RollbackRow[] = [];
    for (const c of containers) {
        const ran = lock.running[c.name];
        if (ran === undefined) {
            rows.push({ service: c.service, container: c.name, change: "not in that deployment", detail: "nothing to go back to: pin it (fleet:pins) or leave it out (fleet:disableServices) before up" });
            continue;
        }
        const then = lock.built[c.name] ? splitRef(lock.built[c.name]).tag : undefined;
        const digest = ran.slice(ran.indexOf("@") + 1);
        const build = builds[c.service];
        const now = build && "ref" in build ? splitRef(build.ref).tag : undefined;
        const revision = lock.revisions[c.name] ? "" : "; that deployment recorded no commit for it, so its container is replaced";
        if (then !== undefined && then === now) {
            rows.push({ service: c.service, container: c.name, change: "same image", detail: `${then}, as this commit builds it${revision}` });
        } else {
            const known = now !== undefined ? `this commit builds ${now}` : `what this commit builds is not known here (${build && "unknown" in build ? build.unknown : "no build"})`;
            rows.push({ service: c.service, container: c.name, change: "that deployment's image", detail: `${then ?? "untagged"}@${digest}; ${known}${revision}` });
        }
    }
    const planned = new Set(containers.map((c) => c.name));
    // The Docker API proxy (`<machine>-docker-api-proxy`) is never pinned: each deploy builds it.
    const services = Object.keys(lock.running).filter((n) => !planned.has(n) && !n.endsWith(`-${PROXY_NAME}`));
    for (const name of services.sort()) {
        rows.push({ service: name, container: name, change: "removed since", detail: "ran then; this commit's data has no such service on this host: not restored" });
    }
    return rows;
}
