/** Pulumi.<stack>.yaml and override files of the same shape (sources: ./config.ts). */
import { isMap } from "yaml";
import { FleetIssue } from "../model/issues";
import { Parsed, StackFile, StackValue } from "./types";
import { entries, strictYaml } from "./yaml";

/** key.go `ParseKey`: `<namespace>:<name>`, or the legacy `<pkg>:config:<name>`. */
export function parseConfigKey(key: string): { namespace: string; name: string } | undefined {
    const parts = key.split(":");
    if (parts.length === 2 && parts[0] && parts[1]) return { namespace: parts[0], name: parts[1] };
    if (parts.length === 3 && parts[1] === "config" && parts[0] && parts[2]) return { namespace: parts[0], name: parts[2] };
    return undefined;
}

/** Reads the `config:` of a stack file; other top-level keys are the CLI's (secretsprovider, ...). */
export function parseStackFile(text: string, file: string): Parsed<StackFile> {
    const y = strictYaml(text, file);
    if (!y.ok) return y;
    const top = y.value.doc.contents;
    const issues: FleetIssue[] = [];
    const config = new Map<string, StackValue>();
    if (top !== null && !isMap(top)) return { ok: false, issues: [{ file, path: "", message: "a stack file is a mapping with a `config:` key", fix: "write config: followed by the keys, e.g. fleet:machine: mainpc" }] };
    const cfg = entries(y.value, top).find((e) => e.key === "config");
    if (cfg && cfg.value !== null && !isMap(cfg.node)) issues.push({ file, path: `line ${cfg.line}: config`, message: "config must be a mapping of <namespace>:<name> keys", fix: "write one key a line, e.g. fleet:machine: mainpc" });
    for (const e of cfg && isMap(cfg.node) ? entries(y.value, cfg.node) : []) {
        const key = parseConfigKey(e.key);
        if (!key) {
            issues.push({ file, path: `line ${e.line}: ${e.key}`, message: `could not parse ${e.key} as a configuration key (configuration keys should be of the form \`<namespace>:<name>\`)`, fix: `write it with its namespace, e.g. fleet:${e.key.split(":").pop()}` });
            continue;
        }
        config.set(`${key.namespace}:${key.name}`, stackValue(e.value, file, e.line));
    }
    return issues.length ? { ok: false, issues } : { ok: true, value: { file, config } };
}

/** config.Value's unmarshalling: a scalar is text, `{secure: ...}` a secret, anything else an object. */
function stackValue(v: unknown, file: string, line: number): StackValue {
    if (v === null || typeof v !== "object") return { text: v === null ? "" : String(v), secure: false, object: false, file, line };
    const keys = Object.keys(v);
    if (!Array.isArray(v) && keys.length === 1 && keys[0] === "secure" && typeof (v as { secure: unknown }).secure === "string") {
        return { text: (v as { secure: string }).secure, secure: true, object: false, file, line };
    }
    return { text: JSON.stringify(v), secure: false, object: true, file, line };
}
