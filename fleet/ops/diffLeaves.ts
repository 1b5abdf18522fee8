/**
 * Values compared leaf by leaf, for `scripts/fleet diff`: a container's plan, a data entry or a
 * stack's config becomes `path -> text` (`ports.service`, `env.OMP_NUM_THREADS`,
 * `limits.memoryMb`), and two of them become the paths whose text differs.
 */
import { byName } from "../model/names";

export interface FieldChange {
    path: string;
    /** The text at base and head; null where the path is absent. */
    base: string | null;
    head: string | null;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function child(at: string, key: string): string {
    if (IDENTIFIER.test(key)) return at ? `${at}.${key}` : key;
    return `${at}[${JSON.stringify(key)}]`;
}

function primitive(v: unknown): boolean {
    return v === null || typeof v !== "object";
}

/**
 * Every leaf of `v` below `at`, by path. A list of plain values is one leaf (a pin list that
 * gains an entry is one change, not one per shifted index); a list of mappings goes by index.
 * Absent and undefined values have no leaf.
 */
export function leaves(v: unknown, at = ""): Map<string, string> {
    const out = new Map<string, string>();
    const visit = (x: unknown, p: string) => {
        if (x === undefined) return;
        if (primitive(x)) out.set(p, String(x));
        else if (Array.isArray(x)) {
            if (x.every(primitive)) out.set(p, JSON.stringify(x));
            else x.forEach((e, i) => visit(e, `${p}[${i}]`));
        } else for (const k of Object.keys(x as object).sort(byName)) visit((x as Record<string, unknown>)[k], child(p, k));
    };
    visit(v, at);
    return out;
}

/** The paths whose text differs between `a` and `b` (values, or leaf maps already made), sorted. */
export function leafChanges(a: unknown, b: unknown, at = ""): FieldChange[] {
    const x = a instanceof Map ? a as Map<string, string> : leaves(a, at);
    const y = b instanceof Map ? b as Map<string, string> : leaves(b, at);
    return [...new Set([...x.keys(), ...y.keys()])].sort(byName)
        .filter((p) => x.get(p) !== y.get(p))
        .map((p) => ({ path: p, base: x.get(p) ?? null, head: y.get(p) ?? null }));
}

/** How many words of a side `tokenChanges` names before it says how many more there are. */
const SHOWN_TOKENS = 6;

/**
 * The words (whitespace-separated) of `b` that `a` lacks and the reverse, each once, in order:
 * `: -uvicorn==0.30.1 +uvicorn==0.30.0`. Empty when only the order or the spacing changed.
 */
export function tokenChanges(a: string, b: string): string {
    const words = (s: string) => s.split(/\s+/).filter((w) => w !== "");
    const count = (ws: string[]) => ws.reduce((m, w) => m.set(w, (m.get(w) ?? 0) + 1), new Map<string, number>());
    const [wa, wb] = [words(a), words(b)];
    const [ca, cb] = [count(wa), count(wb)];
    const gone = [...new Set(wa.filter((w) => (ca.get(w) ?? 0) > (cb.get(w) ?? 0)))];
    const added = [...new Set(wb.filter((w) => (cb.get(w) ?? 0) > (ca.get(w) ?? 0)))];
    const side = (sign: string, ws: string[]) => [...ws.slice(0, SHOWN_TOKENS).map((w) => `${sign}${w}`), ...(ws.length > SHOWN_TOKENS ? [`(${ws.length - SHOWN_TOKENS} more)`] : [])];
    const all = [...side("-", gone), ...side("+", added)];
    return all.length ? `: ${all.join(" ")}` : "";
}
