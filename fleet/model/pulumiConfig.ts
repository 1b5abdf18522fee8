/**
 * What the Pulumi CLI does with `Pulumi.yaml` and `Pulumi.<stack>.yaml` before the program runs,
 * reproduced so tests, `scripts/fleet check-stack` and the stand-in CLI of the script tests
 * see the config exactly as `pulumi up` would hand it to `index.ts`, or fail as it would.
 *
 * Followed from pulumi/pulumi's Go source (sdk v3; the project pins @pulumi/pulumi 3.270.0, and
 * these files read as stored for that line of releases):
 * - sdk/go/common/workspace/config.go @ 0a7aa0e2: `mergeConfig` (defaults applied, missing keys),
 *   `formatMissingKeys` / `missingStackConfigurationKeysError` (the text and the sort),
 *   `validateStackConfigValues` / `validateStackConfigValue` (secrets, then types);
 * - sdk/go/common/workspace/project.go @ 0351806b: `ValidateProject` (name), `Project.Validate`
 *   (default vs value, array items, namespaced keys), `ValidateConfigValue`, `InferFullTypeName`;
 * - sdk/go/common/workspace/project.json @ 0498be11: the declaration shape (type, items,
 *   description, secret, default) and `runtime`;
 * - sdk/go/common/resource/config/key.go: `ParseKey` (`<namespace>:<name>`);
 * - the files are read with gopkg.in/yaml.v3, which refuses duplicate mapping keys.
 *
 * Everything here is pure: text in, data or `FleetIssue`s out. Where the CLI stops at its first
 * error, the functions report every problem and say which one the CLI would print first.
 */
import { Document, isMap, isPair, isScalar, isSeq, LineCounter, Node, parseDocument, Scalar, YAMLMap } from "yaml";
import { FleetIssue } from "./issues";

export const PULUMI_SOURCE = "pulumi/pulumi sdk/go/common/workspace (config.go 0a7aa0e2, project.go 0351806b, project.json 0498be11)";

export type ConfigTypeName = "string" | "integer" | "boolean" | "array";
export interface ItemsType { type: string; items?: ItemsType }

/** One entry of `config:` in Pulumi.yaml, after the CLI's shorthand rewrite. */
export interface ConfigDeclaration {
    type?: ConfigTypeName;
    items?: ItemsType;
    default?: unknown;
    value?: unknown;
    secret: boolean;
    description?: string;
    line: number;
}

export interface PulumiProject {
    file: string;
    name: string;
    runtime: string;
    config: Record<string, ConfigDeclaration>;
}

/** A stack config value as the CLI holds it (`config.Value`): text, secure or an object (JSON). */
export interface StackValue {
    /** Plain text, JSON text of an object, or the ciphertext of a secure value. */
    text: string;
    secure: boolean;
    object: boolean;
    /** Where it was set (a stack file, an override file, or Pulumi.yaml's default). */
    file: string;
    line: number;
}

export interface StackFile {
    file: string;
    /** Namespaced keys, e.g. `fleet:machine`. */
    config: Map<string, StackValue>;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: FleetIssue[] };

// ---------------------------------------------------------------------------------------------
// YAML as gopkg.in/yaml.v3 reads it

interface YamlText { doc: Document; lines: LineCounter }

/**
 * Parses YAML the way the CLI's parser refuses it: any syntax error (for instance a plain
 * scalar holding `: `, yaml.v3's "mapping values are not allowed in this context") and every
 * duplicate mapping key (yaml.v3: `mapping key "x" already defined at line N`).
 */
export function strictYaml(text: string, file: string): Parsed<YamlText> {
    const lines = new LineCounter();
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter: lines, version: "1.2" });
    const issues: FleetIssue[] = [];
    const syntax = doc.errors[0];
    if (syntax) {
        const pos = lines.linePos(syntax.pos[0]);
        const colon = /Nested mappings are not allowed in compact mappings|Implicit map keys need to be/.test(syntax.message);
        issues.push({
            file, path: `line ${pos.line}, column ${pos.col}`,
            message: `not valid YAML: ${syntax.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}${colon ? " (yaml.v3: mapping values are not allowed in this context)" : ""}`,
            fix: colon ? "quote the value: a plain scalar cannot contain ': ' (write description: \"...\")" : "correct the YAML at that position",
        });
        return { ok: false, issues };
    }
    const visit = (node: unknown): void => {
        if (isMap(node)) {
            const seen = new Map<string, number>();
            for (const pair of node.items) {
                const key = isScalar(pair.key) ? String(pair.key.value) : JSON.stringify(String(pair.key));
                const line = lineOf(lines, pair.key as Node);
                const first = seen.get(key);
                if (first !== undefined) {
                    issues.push({ file, path: `line ${line}`, message: `mapping key "${key}" already defined at line ${first} (the Pulumi CLI's YAML parser refuses duplicate keys)`, fix: "keep one of the two entries" });
                } else seen.set(key, line);
                visit(pair.value);
            }
        } else if (isSeq(node)) node.items.forEach(visit);
    };
    visit(doc.contents);
    return issues.length ? { ok: false, issues } : { ok: true, value: { doc, lines } };
}

function lineOf(lines: LineCounter, node: Node | null | undefined): number {
    const at = node?.range?.[0];
    return at === undefined ? 0 : lines.linePos(at).line;
}

/** The top-level mapping's entries with their lines. */
function entries(y: YamlText, node: unknown): { key: string; value: unknown; node: unknown; line: number }[] {
    if (!isMap(node)) return [];
    return (node as YAMLMap).items.filter(isPair).map((p) => ({
        key: isScalar(p.key) ? String((p.key as Scalar).value) : String(p.key),
        value: p.value && typeof (p.value as Node).toJSON === "function" ? (p.value as Node).toJSON() : (p.value as Scalar | null)?.value ?? null,
        node: p.value,
        line: lineOf(y.lines, p.key as Node),
    }));
}

// ---------------------------------------------------------------------------------------------
// Pulumi.yaml

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

function levenshtein(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    return d[a.length][b.length];
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

// ---------------------------------------------------------------------------------------------
// Pulumi.<stack>.yaml (and override files of the same shape)

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

// ---------------------------------------------------------------------------------------------
// The merge

/** config.go `formatMissingKeys`: one key quoted; more sorted (Go's byte order), `'a', 'b' and 'c'`. */
export function formatMissingKeys(keys: readonly string[]): string {
    if (keys.length === 1) return `'${keys[0]}'`;
    const sorted = [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return sorted.map((k, i) => (i === sorted.length - 1 ? `and '${k}'` : i === sorted.length - 2 ? `'${k}' ` : `'${k}', `)).join("");
}

/** config.go `missingStackConfigurationKeysError`. */
export function missingKeysMessage(keys: readonly string[], stack: string): string {
    return `Stack '${stack}' is missing configuration ${keys.length > 1 ? "values" : "value"} ${formatMissingKeys(keys)}`;
}

export interface MergedStack {
    stack: string;
    /** What the CLI hands the program: `fleet:key` -> text (objects as JSON, secrets decrypted). */
    config: Record<string, string>;
    /** Keys whose value is a secret (the program sees them as secret outputs). */
    secretKeys: string[];
    /** Every merged value with where it came from. */
    values: Map<string, StackValue>;
    /** Secure keys left out of `config` because no secrets provider was given (plan, check-stack). */
    encrypted: string[];
}

/** Decrypts a secure value; the CLI's secrets provider (a passphrase, a cloud KMS, Pulumi Cloud). */
export type Decrypt = (ciphertext: string, key: string) => string;

/**
 * `mergeConfig` with validation, as `pulumi up` runs it: stack files first (later files win,
 * like `pulumi config set` on top of the committed file), then Pulumi.yaml's defaults and
 * values for keys the stack lacks; a project-namespace key with neither is missing; then each
 * explicitly typed key is checked, secret first, type second. The CLI prints `issues[0]`.
 */
export function mergeStack(project: PulumiProject, stack: string, files: readonly StackFile[], decrypt?: Decrypt): Parsed<MergedStack> {
    const values = new Map<string, StackValue>();
    for (const f of files) for (const [k, v] of f.config) values.set(k, v);
    const stackFile = files[0]?.file ?? `Pulumi.${stack}.yaml`;
    const keys = Object.keys(project.config).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const missing: string[] = [];
    const full = (k: string) => (k.includes(":") ? k : `${project.name}:${k}`);
    for (const k of keys) {
        const d = project.config[k];
        const key = full(k);
        if (values.has(key)) continue;
        const fallback = d.default !== undefined ? d.default : d.value;
        if (fallback === undefined) {
            if (key.startsWith(`${project.name}:`)) missing.push(k);
            continue;
        }
        // createConfigValue: string, int and bool become text; anything else JSON.
        const primitive = typeof fallback === "string" || typeof fallback === "boolean" || (typeof fallback === "number" && Number.isInteger(fallback));
        values.set(key, { text: primitive ? String(fallback) : JSON.stringify(fallback), secure: false, object: !primitive, file: project.file, line: d.line });
    }
    // The CLI stops here when keys are missing; the checks below still run so that
    // check-stack reports every problem at once, the CLI's own first.
    const issues: FleetIssue[] = missing.length ? [{
        file: stackFile, path: missing.map(full).join(", "), message: missingKeysMessage(missing, stack),
        fix: missing.map((k) => setCommand(stack, full(k), project.config[k])).join("; "),
    }] : [];
    for (const k of keys) {
        const d = project.config[k];
        const key = full(k);
        const v = values.get(key);
        if (!d.type || !v) continue;
        if (d.secret && !v.secure) {
            issues.push({ file: v.file, path: `line ${v.line}: ${key}`, message: `Stack '${stack}' with configuration key '${k}' must be encrypted as it's secret`, fix: setCommand(stack, key, d) });
            continue;
        }
        if (v.secure && !decrypt) continue; // the CLI checks a secret's type once it has decrypted it
        const text = v.secure ? decrypt!(v.text, key) : v.text;
        let content: unknown = text;
        if (v.object) content = JSON.parse(text);
        if (!validConfigValue(d.type, d.items, content)) {
            issues.push({ file: v.file, path: `line ${v.line}: ${key}`, message: `Stack '${stack}' with configuration key '${k}' must be of type '${fullTypeName(d.type, d.items)}'`, fix: setCommand(stack, key, d) });
        }
    }
    if (issues.length) return { ok: false, issues };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const encrypted: string[] = [];
    for (const [k, v] of [...values].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (!v.secure) config[k] = v.text;
        else if (!decrypt) encrypted.push(k);
        else {
            config[k] = decrypt(v.text, k);
            secretKeys.push(k);
        }
    }
    return { ok: true, value: { stack, config, secretKeys, values, encrypted } };
}

/** The `pulumi config set` command that sets a key right. */
export function setCommand(stack: string, key: string, d?: Pick<ConfigDeclaration, "type" | "items" | "secret">): string {
    if (d?.type === "array") return `pulumi config set --path '${key}[0]' <${d.items?.type ?? "value"}> --stack ${stack}`;
    const placeholder = d?.type === "integer" ? "<integer>" : d?.type === "boolean" ? "<true|false>" : "<value>";
    return `pulumi config set ${d?.secret ? "--secret " : ""}${key} ${placeholder} --stack ${stack}`;
}

// ---------------------------------------------------------------------------------------------
// PulumiPolicy.yaml

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
