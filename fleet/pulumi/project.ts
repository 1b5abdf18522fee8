/** Pulumi.yaml: the project, its runtime and its config declarations (sources: ./config.ts). */
import { isMap } from "yaml";
import { FleetIssue } from "../model/issues";
import { ConfigDeclaration, ConfigTypeName, ItemsType, Parsed, PulumiProject } from "./types";
import { entries, levenshtein, strictYaml } from "./yaml";

const SIMPLE_TYPES = ["string", "integer", "boolean", "array"];
const DECLARATION_KEYS = ["type", "items", "description", "secret", "default", "value"];

/** project.go `configKeyIsNamespacedByProject`. */
export function namespacedByProject(project: string, key: string): boolean {
    return !key.includes(":") || key.startsWith(`${project}:`);
}

/** project.go `InferFullTypeName`: `array<string>`. */
export function fullTypeName(type: string, items?: ItemsType): string {
    return items ? `array<${fullTypeName(items.type, items.items)}>` : type;
}

/** project.go `ValidateConfigValue`, on the value as yaml.v3 or encoding/json gives it. */
export function validConfigValue(type: string, items: ItemsType | undefined, value: unknown): boolean {
    switch (type) {
        case "string": return typeof value === "string";
        // YAML ints, whole floats, and strings strconv.Atoi accepts.
        case "integer": return (typeof value === "number" && Number.isInteger(value)) || (typeof value === "string" && /^[+-]?\d+$/.test(value) && Number.isSafeInteger(Number(value)));
        case "boolean": return typeof value === "boolean" || value === "true" || value === "false";
        case "object": return value !== null && typeof value === "object" && !Array.isArray(value);
        default: return Array.isArray(value) && items !== undefined && value.every((v) => validConfigValue(items.type, items.items, v));
    }
}


function itemsType(raw: unknown, at: string, file: string, line: number, issues: FleetIssue[]): ItemsType | undefined {
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
        issues.push({ file, path: `line ${line}: ${at}`, message: "items must be a mapping with a 'type'", fix: "write items: {type: string}" });
        return undefined;
    }
    const r = raw as Record<string, unknown>;
    if (!SIMPLE_TYPES.includes(String(r.type))) {
        issues.push({ file, path: `line ${line}: ${at}.type`, message: `${JSON.stringify(r.type ?? null)} is not one of string, integer, boolean, array`, fix: "use one of those types" });
        return undefined;
    }
    if (r.type === "array" && r.items === undefined) {
        issues.push({ file, path: `line ${line}: ${at}`, message: "an array's items need their own 'items'", fix: "add items: {type: ...}" });
        return undefined;
    }
    return { type: String(r.type), ...(r.items !== undefined ? { items: itemsType(r.items, `${at}.items`, file, line, issues) } : {}) };
}

/** Reads and checks Pulumi.yaml: the schema's shape, then `ValidateProject` and `Project.Validate`. */
export function parseProject(text: string, file = "Pulumi.yaml"): Parsed<PulumiProject> {
    const y = strictYaml(text, file);
    if (!y.ok) return y;
    const issues: FleetIssue[] = [];
    const top = y.value.doc.contents;
    if (!isMap(top)) return { ok: false, issues: [{ file, path: "", message: "expected project to be an object", fix: "write the project as a mapping with name, runtime and config" }] };
    const fields = Object.fromEntries(entries(y.value, top).map((e) => [e.key, e]));
    let name = "";
    if (!fields.name) {
        const closest = Object.keys(fields).sort().find((k) => levenshtein("name", k.toLowerCase()) <= 2);
        issues.push({ file, path: "name", message: closest ? `project is missing a 'name' attribute; found '${closest}' instead` : "project is missing a 'name' attribute", fix: "add name: <project>" });
    } else if (typeof fields.name.value !== "string" || fields.name.value === "") {
        issues.push({ file, path: `line ${fields.name.line}: name`, message: "project is missing a non-empty string 'name' attribute", fix: "write the project's name as a string" });
    } else name = fields.name.value;
    let runtime = "";
    const rt = fields.runtime;
    if (!rt) issues.push({ file, path: "runtime", message: "#: missing properties: 'runtime'", fix: "add runtime: nodejs" });
    else if (typeof rt.value === "string" && rt.value) runtime = rt.value;
    else if (rt.value && typeof rt.value === "object" && !Array.isArray(rt.value)) {
        const r = rt.value as Record<string, unknown>;
        const extra = Object.keys(r).filter((k) => k !== "name" && k !== "options");
        if (typeof r.name !== "string" || !r.name) issues.push({ file, path: `line ${rt.line}: runtime.name`, message: "#/runtime: the runtime needs a non-empty 'name'", fix: "write runtime: {name: nodejs, options: {...}}" });
        else runtime = r.name;
        for (const k of extra) issues.push({ file, path: `line ${rt.line}: runtime.${k}`, message: `#/runtime: additionalProperties '${k}' not allowed`, fix: "keep name and options only" });
        if (r.options !== undefined && (typeof r.options !== "object" || r.options === null || Array.isArray(r.options))) issues.push({ file, path: `line ${rt.line}: runtime.options`, message: "#/runtime/options: expected object", fix: "write the options as a mapping" });
    } else issues.push({ file, path: `line ${rt.line}: runtime`, message: "#/runtime: expected a non-empty string or {name, options}", fix: "write runtime: nodejs" });

    const config: Record<string, ConfigDeclaration> = {};
    const cfg = fields.config;
    if (cfg && cfg.value !== null && !isMap(cfg.node)) {
        issues.push({ file, path: `line ${cfg.line}: config`, message: "#/config: expected object, but got " + (Array.isArray(cfg.value) ? "array" : typeof cfg.value), fix: "declare each key under config: as a mapping" });
    }
    for (const e of cfg && isMap(cfg.node) ? entries(y.value, cfg.node) : []) {
        const decl = declaration(name, e.key, e.value, e.line, file, issues);
        if (decl) config[e.key] = decl;
    }
    return issues.length ? { ok: false, issues } : { ok: true, value: { file, name, runtime, config } };
}

function declaration(project: string, key: string, raw: unknown, line: number, file: string, issues: FleetIssue[]): ConfigDeclaration | undefined {
    const at = `line ${line}: config.${key}`;
    const projectKey = namespacedByProject(project, key);
    // RewriteShorthandConfigValues: a bare value is a default (project keys) or a value (others).
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        if (raw === null || !["string", "number", "boolean"].includes(typeof raw)) {
            issues.push({ file, path: at, message: `#/config/${key}: expected a string, integer, boolean or a declaration`, fix: "write a declaration: {type: ..., description: ..., default: ...}" });
            return undefined;
        }
        return projectKey ? { default: raw, secret: false, line } : { value: raw, secret: false, line };
    }
    const r = raw as Record<string, unknown>;
    const before = issues.length;
    for (const k of Object.keys(r).filter((k) => !DECLARATION_KEYS.includes(k))) {
        const closest = DECLARATION_KEYS.find((d) => levenshtein(d, k.toLowerCase()) <= 2);
        issues.push({ file, path: `${at}.${k}`, message: `#/config/${key}: additionalProperties '${k}' not allowed${closest ? `; did you mean '${closest}'?` : ""}`, fix: closest ? `rename it to ${closest}` : `remove it; a declaration has ${DECLARATION_KEYS.join(", ")}` });
    }
    if (r.type !== undefined && !SIMPLE_TYPES.includes(String(r.type))) issues.push({ file, path: `${at}.type`, message: `#/config/${key}/type: value must be one of "string", "integer", "boolean", "array"`, fix: "use one of those types" });
    if (r.description !== undefined && typeof r.description !== "string") issues.push({ file, path: `${at}.description`, message: `#/config/${key}/description: expected string`, fix: "quote the description" });
    if (r.secret !== undefined && typeof r.secret !== "boolean") issues.push({ file, path: `${at}.secret`, message: `#/config/${key}/secret: expected boolean`, fix: "write secret: true or false" });
    // yaml.v3 leaves `default: null` as nil: the CLI then sees no default at all.
    const hasDefault = r.default !== undefined && r.default !== null;
    const hasValue = r.value !== undefined && r.value !== null;
    if (hasDefault && hasValue) issues.push({ file, path: at, message: `project config '${key}' cannot have both a 'default' and 'value' attribute`, fix: "keep one of them" });
    const items = r.items === undefined ? undefined : itemsType(r.items, `config.${key}.items`, file, line, issues);
    if (projectKey) {
        if (r.type === undefined && !hasValue) issues.push({ file, path: at, message: `#/config/${key}: missing properties: 'type'`, fix: "add type: string, integer, boolean or array" });
        if (r.type === "array" && r.items === undefined) issues.push({ file, path: at, message: `The configuration key '${key}' declares an array but does not specify the underlying type via the 'items' attribute`, fix: "add items: {type: string}" });
        else if (typeof r.type === "string" && SIMPLE_TYPES.includes(r.type) && hasDefault && !validConfigValue(r.type, items, r.default)) {
            issues.push({ file, path: `${at}.default`, message: `The default value specified for configuration key '${key}' is not of the expected type '${fullTypeName(r.type, items)}'`, fix: `write a default of type ${fullTypeName(r.type, items)}` });
        }
    } else {
        if (r.type !== undefined) issues.push({ file, path: at, message: `Configuration key '${key}' is not namespaced by the project and should not define a type`, fix: "remove the type" });
        if (hasDefault) issues.push({ file, path: at, message: `Configuration key '${key}' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?`, fix: "write value: instead of default:" });
        else if (!hasValue) issues.push({ file, path: at, message: `Configuration key '${key}' is namespaced and must provide an attribute 'value'`, fix: "add value: <value>" });
    }
    if (issues.length > before) return undefined;
    return {
        ...(r.type !== undefined ? { type: r.type as ConfigTypeName } : {}),
        ...(items ? { items } : {}),
        ...(hasDefault ? { default: r.default } : {}),
        ...(hasValue ? { value: r.value } : {}),
        secret: r.secret === true,
        ...(typeof r.description === "string" ? { description: r.description } : {}),
        line,
    };
}
