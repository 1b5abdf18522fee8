/** The merge `pulumi up` runs before the program: defaults, missing keys, secrets, types (sources: ./config.ts). */
import { FleetIssue } from "../model/issues";
import { setCommand } from "./commands";
import { fullTypeName, validConfigValue } from "./project";
import { PulumiProject, StackFile, StackValue, Parsed } from "./types";

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
 * The stack files' values (later files win, like `pulumi config set` on top of the committed
 * file), then Pulumi.yaml's defaults and values for keys the stack lacks (`createConfigValue`:
 * string, int and bool become text, anything else JSON); a project-namespace key with neither
 * is missing. What the program would see, whatever else is wrong.
 */
export function withDefaults(project: PulumiProject, files: readonly StackFile[]): { values: Map<string, StackValue>; missing: string[] } {
    const values = new Map<string, StackValue>();
    for (const f of files) for (const [k, v] of f.config) values.set(k, v);
    const missing: string[] = [];
    for (const k of Object.keys(project.config).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
        const d = project.config[k];
        const key = k.includes(":") ? k : `${project.name}:${k}`;
        if (values.has(key)) continue;
        const fallback = d.default !== undefined ? d.default : d.value;
        if (fallback === undefined) {
            if (key.startsWith(`${project.name}:`)) missing.push(k);
            continue;
        }
        const primitive = typeof fallback === "string" || typeof fallback === "boolean" || (typeof fallback === "number" && Number.isInteger(fallback));
        values.set(key, { text: primitive ? String(fallback) : JSON.stringify(fallback), secure: false, object: !primitive, file: project.file, line: d.line });
    }
    return { values, missing };
}

/**
 * `mergeConfig` with validation, as `pulumi up` runs it: stack files first (later files win,
 * like `pulumi config set` on top of the committed file), then Pulumi.yaml's defaults and
 * values for keys the stack lacks; a project-namespace key with neither is missing; then each
 * explicitly typed key is checked, secret first, type second. The CLI prints `issues[0]`.
 */
export function mergeStack(project: PulumiProject, stack: string, files: readonly StackFile[], decrypt?: Decrypt): Parsed<MergedStack> {
    const { values, missing } = withDefaults(project, files);
    const stackFile = files[0]?.file ?? `Pulumi.${stack}.yaml`;
    const keys = Object.keys(project.config).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const full = (k: string) => (k.includes(":") ? k : `${project.name}:${k}`);
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
            const message = `Stack '${stack}' with configuration key '${k}' must be of type '${fullTypeName(d.type, d.items)}'`;
            // A list with one wrong entry: that entry named (the program's checks of the others
            // still run), and its own fix; the CLI names the key only.
            const bad = Array.isArray(content) && d.items ? content.findIndex((x) => !validConfigValue(d.items!.type, d.items!.items, x)) : -1;
            issues.push(bad < 0
                ? { file: v.file, path: `line ${v.line}: ${key}`, message, fix: setCommand(stack, key, d) }
                : { file: v.file, path: `line ${v.line}: ${key}[${bad}]`, message: `${message}: ${key}[${bad}] is ${JSON.stringify((content as unknown[])[bad])}`, fix: setCommand(stack, key, d, bad) });
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
