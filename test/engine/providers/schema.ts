/**
 * The part of terraform-plugin-sdk v2's plan that decides a bridged resource's diff, for the
 * attributes a program sets: an attribute absent from the config takes its schema Default (or
 * its type's zero value, which SDKv2 does not tell apart from null); an Optional+Computed one
 * absent from the config never differs; a DiffSuppressFunc can hide a difference; a difference
 * on a ForceNew attribute replaces the resource, any other updates it in place. TypeSet values
 * compare without order, TypeList values in order. pulumi-terraform-bridge hands that plan to
 * the engine as the provider's Diff (ReplaceKeys from the ForceNew differences).
 */
import { crc32 } from "zlib";

export interface Attr {
    /** The property as Pulumi names it (camelCase of the Terraform attribute). */
    key: string;
    forceNew: boolean;
    /** Optional+Computed: no diff while the config leaves it out. */
    computed?: boolean;
    /** What an absent config value means: the schema's Default, else the type's zero value. */
    zero: unknown;
    /** TypeSet: order does not matter. */
    set?: boolean;
    /** Puts a config or state value in one comparable form (defaults inside objects, types). */
    normalize?: (v: unknown) => unknown;
    /** DiffSuppressFunc: true hides the difference. */
    suppress?: (state: unknown, config: unknown) => boolean;
}

export interface SchemaDiff {
    /** Attributes that differ, in schema order. */
    changed: string[];
    /** Those of them that force a replacement. */
    replaces: string[];
}

function canonical(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    if (v && typeof v === "object") {
        return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
    }
    return JSON.stringify(v ?? null);
}

function comparable(a: Attr, v: unknown): string {
    const n = a.normalize ? a.normalize(v) : v;
    if (a.set && Array.isArray(n)) return canonical([...n].map(canonical).sort());
    return canonical(n);
}

/** Whether the planned value of `a` differs from its state. */
export function attrDiffers(a: Attr, state: unknown, config: unknown): boolean {
    if (config === undefined && a.computed) return false;
    const planned = config === undefined ? a.zero : config;
    const stored = state === undefined ? a.zero : state;
    if (comparable(a, stored) === comparable(a, planned)) return false;
    return !(a.suppress && a.suppress(stored, planned));
}

export function diffSchema(attrs: readonly Attr[], state: Record<string, unknown>, config: Record<string, unknown>): SchemaDiff {
    const changed = attrs.filter((a) => attrDiffers(a, state[a.key], config[a.key]));
    return { changed: changed.map((a) => a.key), replaces: changed.filter((a) => a.forceNew).map((a) => a.key) };
}

/** The config with every attribute it leaves out at its schema default, as SDKv2's Get sees it. */
export function withDefaults(attrs: readonly Attr[], config: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = { ...config };
    for (const a of attrs) if (out[a.key] === undefined && !a.computed && a.zero !== undefined) out[a.key] = a.zero;
    return out;
}

/** Go zero values of an object element's fields (SDKv2 nested blocks). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function fill(v: unknown, zeros: Record<string, unknown>): Record<string, any> {
    const o = (v ?? {}) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(zeros).map(([k, z]) => [k, o[k] === undefined || o[k] === null ? z : o[k]]));
}

export const sortedStrings = (v: unknown): string[] => [...((v as string[] | null | undefined) ?? [])].map(String).sort();

// ----------------------------------------------------------------------------- set order
// The order a provider hands a TypeSet to the Engine API is the set's, not the config's:
// `v.(*schema.Set).List()` sorts the elements by hash code. Where the order means something to
// the engine (dns is resolv.conf's nameserver order, networks are connected one after another),
// the harness sends them in that order too.

/**
 * hashcode.String (terraform-plugin-sdk v2.40.1 internal/helper/hashcode/hashcode.go): the CRC-32
 * (IEEE) of the string's bytes, made non-negative (a crc32 in a 64-bit int always is).
 */
export const hashString = (s: string): number => crc32(s);

/**
 * Set.List (helper/schema/set.go `listCode`): the elements ordered by their hash codes as decimal
 * strings (`sort.Strings`, so "218290772" before "2407011541"); an element whose code is already
 * there is not added again (Set.add keeps the first).
 */
export function setList<T>(items: readonly T[], hash: (v: T) => number): T[] {
    const byCode = new Map<string, T>();
    for (const v of items) {
        const code = String(hash(v));
        if (!byCode.has(code)) byCode.set(code, v);
    }
    return [...byCode.keys()].sort().map((k) => byCode.get(k)!);
}

/** schema.HashString: a string set with `Set: schema.HashString` (the provider's string sets). */
export const stringSetList = (v: unknown): string[] => setList(((v as string[] | null | undefined) ?? []).map(String), hashString);

/**
 * SerializeValueForHash (helper/schema/serialize.go) for the element kinds the providers' set
 * elements hold: a string "v;", an int "n;", a string set "{a;b;};" in its own List order, a
 * string map "[k:v;...];" by sorted key. HashResource hashes the concatenation, per sorted
 * attribute name, of "name:" and its value's serialization (SerializeResourceForHash).
 */
export const hashForm = {
    string: (v: unknown) => `${v ?? ""};`,
    int: (v: unknown) => `${Number(v ?? 0)};`,
    set: (v: unknown, elemHash: (s: string) => number) => `{${setList(((v as string[] | null | undefined) ?? []).map(String), elemHash).map((s) => `${s};`).join("")}};`,
    map: (v: unknown) => {
        const m = (v ?? {}) as Record<string, unknown>;
        return `[${Object.keys(m).sort().map((k) => `${k}:${m[k]};`).join("")}];`;
    },
};

/** HashSchema of a TypeString element (a string set with no Set function): "v;" hashed. */
export const hashStringSchema = (s: string): number => hashString(hashForm.string(s));
