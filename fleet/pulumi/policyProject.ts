/** PulumiPolicy.yaml as the CLI reads it (sources: ./config.ts). */
import { isMap } from "yaml";
import { FleetIssue } from "../model/issues";
import { Parsed } from "./types";
import { entries, strictYaml } from "./yaml";

const POLICY_PROJECT_KEYS = ["runtime", "version", "main", "description", "author", "website", "license"];

/**
 * PulumiPolicy.yaml as project.go's `PolicyPackProject` reads it: `runtime` is required
 * (`Validate`: "project is missing a 'runtime' attribute"); the other fields are optional
 * strings. yaml.v3 drops unknown fields silently, so an unknown key is reported here as the
 * typo it most likely is.
 */
export function parsePolicyProject(text: string, file = "PulumiPolicy.yaml"): Parsed<{ runtime: string }> {
    const y = strictYaml(text, file);
    if (!y.ok) return y;
    const top = y.value.doc.contents;
    if (!isMap(top)) return { ok: false, issues: [{ file, path: "", message: "expected a mapping with runtime", fix: "write runtime: nodejs" }] };
    const issues: FleetIssue[] = [];
    const fields = entries(y.value, top);
    const rt = fields.find((f) => f.key === "runtime");
    const runtime = typeof rt?.value === "string" ? rt.value : rt?.value && typeof rt.value === "object" ? String((rt.value as { name?: unknown }).name ?? "") : "";
    if (!runtime) issues.push({ file, path: "runtime", message: "project is missing a 'runtime' attribute", fix: "add runtime: nodejs" });
    for (const f of fields) {
        if (!POLICY_PROJECT_KEYS.includes(f.key)) issues.push({ file, path: `line ${f.line}: ${f.key}`, message: "is not a field of PulumiPolicy.yaml (the CLI ignores it)", fix: `use one of ${POLICY_PROJECT_KEYS.join(", ")}` });
        else if (f.key !== "runtime" && typeof f.value !== "string") issues.push({ file, path: `line ${f.line}: ${f.key}`, message: "must be a string", fix: "quote it" });
    }
    return issues.length ? { ok: false, issues } : { ok: true, value: { runtime } };
}
