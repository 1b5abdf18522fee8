/**
 * Parsing at the edge: YAML text and raw config values become typed data or a list of
 * `FleetIssue`s naming file, path and fix. zod's own wording is replaced by messages an
 * operator can act on.
 */
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { dotted, FleetIssue } from "./issues";
import { closest } from "./closest";
import { explainYamlError } from "./yamlError";

/** `v` as a mapping (a plain object), or undefined for anything else: a list, null, a scalar. */
export function mapOf(v: unknown): Record<string, unknown> | undefined {
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
}

type ParseResult<T> = { ok: true; value: T } | { ok: false; issues: FleetIssue[] };

function show(v: unknown): string {
    if (typeof v === "string") return `'${v}'`;
    if (v === undefined) return "nothing";
    return JSON.stringify(v);
}

function kindOf(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "a list";
    if (typeof v === "object") return "a mapping";
    return `${typeof v} ${show(v)}`;
}

/** One zod issue as message and fix. Exported for the table tests. */
export function describeZodIssue(issue: z.core.$ZodIssue): { message: string; fix: string } {
    const input = (issue as { input?: unknown }).input;
    switch (issue.code) {
        case "invalid_type":
            if (input === undefined) return { message: `is missing (${issue.expected} expected)`, fix: "add it" };
            // zod 4 reports a fractional number given to .int() as an invalid "int".
            if (issue.expected === "int" && typeof input === "number") return { message: `${show(input)} is not a whole number`, fix: "use a whole number" };
            return { message: `expected ${issue.expected}, got ${kindOf(input)}`, fix: `write ${issue.expected === "object" ? "a mapping" : `a ${issue.expected}`} here` };
        case "unrecognized_keys":
            return { message: `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}`, fix: "remove it or correct its spelling" };
        case "invalid_value":
            return { message: `${show(input)} is not one of ${issue.values.map((v) => show(v)).join(", ")}`, fix: "use one of the listed values" };
        case "too_small":
            if (issue.origin === "array") return { message: `needs at least ${issue.minimum} entr${Number(issue.minimum) === 1 ? "y" : "ies"}`, fix: "add the missing entries" };
            if (issue.origin === "string") return { message: "must not be empty", fix: "write a value" };
            return { message: `${show(input)} is below the minimum ${issue.minimum}`, fix: `use a value of at least ${issue.minimum}` };
        case "too_big":
            return { message: `${show(input)} is above the maximum ${issue.maximum}`, fix: `use a value of at most ${issue.maximum}` };
        case "invalid_format":
            return { message: `${show(input)} ${issue.message}`, fix: "correct the value's format" };
        case "invalid_key":
            return { message: `key ${show(input)} is not a valid name: ${issue.issues.map((i) => i.message).join("; ")}`, fix: "rename the key" };
        default:
            return { message: `${show(input)}: ${issue.message}`, fix: "correct the value" };
    }
}

type Def = { type: string; innerType?: unknown; out?: unknown; shape?: Record<string, unknown>; valueType?: unknown; element?: unknown };
const defOf = (t: unknown): Def | undefined => (t as { def?: Def } | undefined)?.def;
const WRAPPERS = ["default", "optional", "nullable", "prefault", "readonly", "pipe"];

/** The definition inside defaults, optionals, nullables and pipes (a pipe's output). */
export function innerDef(schema: unknown): Def | undefined {
    let t = defOf(schema);
    while (t && WRAPPERS.includes(t.type)) t = defOf(t.type === "pipe" ? t.out : t.innerType);
    return t;
}

/** The keys of the object `schema` holds at `path` (through wrappers, records and lists). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    let t = innerDef(schema);
    for (const p of path) t = innerDef(t?.type === "object" ? t.shape?.[String(p)] : t?.type === "record" ? t.valueType : t?.type === "array" ? t.element : undefined);
    return t?.type === "object" ? Object.keys(t.shape ?? {}) : [];
}

/** A key the schema does not know, with the closest key it does know. */
export function unknownKeyFix(key: string, known: readonly string[]): string {
    const near = closest(key, known);
    return near ? `rename it to ${near}, or remove it` : `remove it, or use one of ${known.join(", ")}`;
}

/**
 * Validates `raw` against `schema`; every problem with its path below `at` (e.g. the entry's
 * name: `NLUAgent.ports.health`), `textPrefix` put before it (`fleet:` for stack keys).
 */
export function validate<S extends z.ZodType>(schema: S, raw: unknown, file: string, at: readonly PropertyKey[] = [], textPrefix = ""): ParseResult<z.output<S>> {
    const r = schema.safeParse(raw, { reportInput: true });
    if (r.success) return { ok: true, value: r.data };
    const issues = r.error.issues.flatMap((issue): FleetIssue[] => {
        const path = [...at, ...issue.path];
        // One issue per unknown key, at the key itself: `NLUAgent.famly`, not `NLUAgent`.
        if (issue.code === "unrecognized_keys") {
            const known = keysAt(schema, issue.path);
            return issue.keys.map((k) => ({ file, path: textPrefix + dotted([...path, k]), message: "is not a known key", fix: unknownKeyFix(k, known) }));
        }
        return [{ file, path: textPrefix + dotted(path), ...describeZodIssue(issue), ...shapeFix(schema, issue) }];
    });
    return { ok: false, issues };
}

/** A unit a key's name carries (`memoryMb`, `waitTimeoutSeconds`), and how many of it a size like `2g` is. */
const UNITS: [RegExp, string, (n: number, u: string) => number | undefined][] = [
    [/Mb$/, "MB", (n, u) => ({ k: n / 1024, m: n, g: n * 1024, t: n * 1024 * 1024 } as Record<string, number>)[u]],
    [/Gb$/, "GB", (n, u) => ({ m: n / 1024, g: n, t: n * 1024 } as Record<string, number>)[u]],
    [/Seconds$/, "seconds", (n, u) => ({ s: n, m: n * 60, h: n * 3600 } as Record<string, number>)[u]],
];

/**
 * Fixes that name the shape the schema wants where zod says only "expected ...": a mapping's
 * keys (a Compose-style `ports: ["5625:5625"]`), and a number's unit from the key's name
 * (`memoryMb: "2g"`), with the value converted when the text is a size in another unit.
 */
function shapeFix(schema: z.ZodType, issue: z.core.$ZodIssue): { fix: string } | Record<string, never> {
    if (issue.code !== "invalid_type") return {};
    const input = (issue as { input?: unknown }).input;
    if (input === undefined) return {};
    const key = String(issue.path[issue.path.length - 1] ?? "");
    if (issue.expected === "object") {
        const keys = keysAt(schema, issue.path);
        if (keys.length) return { fix: `write a mapping of ${keys.join(", ")} here, e.g. ${key ? `${key}: ` : ""}{ ${keys.slice(0, 2).map((k) => `${k}: <value>`).join(", ")} }` };
    }
    if (issue.expected === "number" || issue.expected === "int") {
        const unit = UNITS.find(([re]) => re.test(key));
        if (!unit) return {};
        const m = typeof input === "string" ? /^\s*(\d+(?:\.\d+)?)\s*([kmgtsh])i?b?\s*$/i.exec(input) : null;
        const value = m ? unit[2](Number(m[1]), m[2].toLowerCase()) : undefined;
        return { fix: `write a number of ${unit[1]} (the unit is in the key's name)${value !== undefined && Number.isInteger(value) ? `: ${key}: ${value} for ${show(input)}` : ""}` };
    }
    return {};
}

/**
 * Parses YAML text; syntax errors and duplicate keys come back with line and column. After a
 * syntax error the parser's later errors are mostly echoes of the first, so only the first is
 * reported; every duplicate key is.
 */
export function parseYaml(text: string, file: string): ParseResult<unknown> {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
    if (doc.errors.length === 0) return { ok: true, value: doc.toJS() };
    const dups = doc.errors.filter((e) => e.code === "DUPLICATE_KEY").map((e): FleetIssue => {
        const pos = lineCounter.linePos(e.pos[0]);
        // The error points at the repeated key's first character; the key runs to its colon.
        const line = text.slice(e.pos[0]).split("\n")[0];
        const key = (/^("[^"]*"|'[^']*'|[^:]+?)\s*:/.exec(line)?.[1] ?? line).replace(/^["']|["']$/g, "");
        return { file, path: `line ${pos.line}, column ${pos.col}`, message: `the key '${key}' appears twice in the same mapping (a duplicate name)`, fix: `give every entry a unique name, or merge the two '${key}' entries` };
    });
    const syntax = doc.errors.filter((e) => e.code !== "DUPLICATE_KEY");
    const first = syntax.length ? explainYamlError(syntax, text, lineCounter) : undefined;
    return {
        ok: false,
        issues: [...(first ? [{ file, path: `line ${first.line}, column ${first.col}`, message: `YAML syntax error: ${first.message}`, fix: first.fix }] : []), ...dups],
    };
}
