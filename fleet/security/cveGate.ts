/**
 * The CVE gate of the deploy workflow (002 R4), as a decision over a Trivy JSON report: every
 * HIGH or CRITICAL finding fails the image unless `security/trivy-allowlist.yaml` lists its ID
 * for that image's digest. An allowance is bound to one digest, so it lapses when the image is
 * rebuilt. scripts/scan-images.sh runs Trivy and then this (`scripts/fleet cve-gate`).
 *
 * The report is Trivy's `--format json` (aquasecurity/trivy pkg/types/report.go `Report`:
 * SchemaVersion, ArtifactName, Metadata.RepoDigests, Results[].Vulnerabilities[] of
 * `DetectedVulnerability`: VulnerabilityID, PkgName, InstalledVersion, FixedVersion, and the
 * embedded trivy-db `Vulnerability`'s Severity).
 */
import { parse } from "yaml";
import { splitRef } from "../imageplan/planImages";
import { mapOf } from "../model/parse";

/** The severities that fail an image. */
export const BLOCKING_SEVERITIES = ["HIGH", "CRITICAL"];

export interface Finding {
    id: string;
    severity: string;
    pkg: string;
    installed: string;
    fixed?: string;
    /** The report's target the package was found in (the OS, a Python site-packages). */
    target: string;
}

export interface GateVerdict {
    /** `repo@sha256:...` of the image judged. */
    digest: string;
    /** HIGH/CRITICAL findings the allow-list does not list for this digest: each fails the image. */
    blocking: Finding[];
    /** HIGH/CRITICAL findings the allow-list lists for this digest. */
    allowed: Finding[];
}

/** A report or an allow-list the gate cannot judge by: the file, what is wrong, and the fix. */
export class GateInputError extends Error {
    constructor(public readonly file: string, what: string, fix: string) {
        super(`${file}: ${what}. Fix: ${fix}`);
    }
}


/** The allow-list: `"sha256:<digest>": [CVE-..., ...]`, every entry checked. */
export function readAllowlist(text: string, file: string): Record<string, string[]> {
    let doc: unknown;
    try {
        doc = parse(text);
    } catch (e) {
        throw new GateInputError(file, `is not valid YAML (${(e as Error).message.split("\n")[0]})`, "write a map of image digests to lists of vulnerability IDs");
    }
    const map = doc === null || doc === undefined ? {} : mapOf(doc);
    if (!map) throw new GateInputError(file, "is not a map", `write "sha256:<digest of the image>": [CVE-2024-12345, ...]`);
    const out: Record<string, string[]> = {};
    for (const [digest, ids] of Object.entries(map)) {
        if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new GateInputError(file, `'${digest}' is not an image digest`, "key each allowance by the sha256:<64 hex> digest of the image it was judged for");
        if (!Array.isArray(ids) || !ids.every((x) => typeof x === "string" && x.length > 0)) throw new GateInputError(file, `${digest}: is not a list of vulnerability IDs`, `write ${digest}: [CVE-2024-12345, ...]`);
        out[digest] = ids as string[];
    }
    return out;
}

/**
 * Judges one image's report. `ref` is what was scanned, `<repo>:<tag>@sha256:<digest>`: the
 * report must be of that digest (its Metadata.RepoDigests), so a report of another build never
 * passes for this one.
 */
export function judge(reportText: string, reportFile: string, allowlist: Record<string, string[]>, ref: string): GateVerdict {
    const { repository, digest = "" } = splitRef(ref);
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new GateInputError(ref, "names no image digest", "scan images by tag@digest (scripts/image-refs.sh writes them so)");
    let doc: unknown;
    try {
        doc = JSON.parse(reportText);
    } catch (e) {
        throw new GateInputError(reportFile, `is not JSON (${(e as Error).message})`, "give the report of `trivy image --format json`");
    }
    const report = mapOf(doc);
    if (!report || report.SchemaVersion !== 2 || !Array.isArray(report.Results ?? [])) {
        throw new GateInputError(reportFile, "is not a Trivy JSON report (SchemaVersion 2 with Results)", "give the report of `trivy image --format json`");
    }
    const repoDigests = (mapOf(report.Metadata)?.RepoDigests ?? []) as unknown[];
    if (!repoDigests.some((d) => typeof d === "string" && d.endsWith(`@${digest}`))) {
        throw new GateInputError(reportFile, `is the report of ${String(report.ArtifactName ?? "another image")} (${repoDigests.join(", ") || "no repo digest"}), not of ${ref}`, `scan ${ref} itself`);
    }
    const allowed = new Set(allowlist[digest] ?? []);
    const verdict: GateVerdict = { digest: `${repository}@${digest}`, blocking: [], allowed: [] };
    for (const r of (report.Results ?? []) as unknown[]) {
        const result = mapOf(r) ?? {};
        for (const v of (result.Vulnerabilities ?? []) as unknown[]) {
            const vuln = mapOf(v) ?? {};
            const severity = String(vuln.Severity ?? "UNKNOWN");
            if (!BLOCKING_SEVERITIES.includes(severity)) continue;
            const f: Finding = {
                id: String(vuln.VulnerabilityID), severity, pkg: String(vuln.PkgName), installed: String(vuln.InstalledVersion ?? ""),
                ...(vuln.FixedVersion ? { fixed: String(vuln.FixedVersion) } : {}), target: String(result.Target ?? ""),
            };
            (allowed.has(f.id) ? verdict.allowed : verdict.blocking).push(f);
        }
    }
    return verdict;
}

/** One line per finding, for the workflow's log, and the image's summary line. */
export function verdictLines(v: GateVerdict, allowFile: string): { blocking: string[]; allowed: string[]; summary: string } {
    const where = (f: Finding) => `${f.id} (${f.severity}) in ${f.pkg} ${f.installed}${f.fixed ? `, fixed in ${f.fixed}` : ", no fix yet"} [${f.target}]`;
    const n = v.blocking.length;
    return {
        blocking: v.blocking.map((f) => `cve-gate: ${v.digest}: ${where(f)}: not allowed for this digest. Fix: update the package (rebuild), or allow it in ${allowFile} under "${v.digest.slice(v.digest.indexOf("@") + 1)}" with why`),
        allowed: v.allowed.map((f) => `cve-gate: ${v.digest}: ${where(f)}: allowed for this digest by ${allowFile}`),
        summary: `cve-gate: ${v.digest}: ${n ? `fails: ${n} HIGH/CRITICAL finding${n === 1 ? "" : "s"} not allowed` : "passes"}${v.allowed.length ? ` (${v.allowed.length} allowed)` : ""}`,
    };
}
