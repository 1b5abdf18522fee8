/**
 * A stack's `fleet:` config checked against its schema (stackSchema.ts) and the fleet data
 * (stackRules.ts), key by key: a key that fails its schema is reported and left out, and every
 * check that does not read it still runs, so one run reports every problem.
 */
import { closest } from "./closest";
import { FleetError, FleetIssue } from "./issues";
import { innerDef, validate } from "./parse";
import { Broken, NOTHING_BROKEN } from "./rules";
import { FleetData } from "./schema";
import { parsePin, pinIssues, STACK_RULES } from "./stackRules";
import { CONFIG_NAMESPACE, DIGEST, PIN, SECRET_KEYS, stackConfigSchema, StackConfig, stackKeys } from "./stackSchema";

export * from "./stackSchema";
export { advertiseAddress, parsePin } from "./stackRules";

/** What a check of the config found; `cfg` when `machine` is valid (other invalid keys then hold their default or an empty value). */
export interface StackRead {
    cfg?: StackConfig;
    issues: FleetIssue[];
    /** Keys that failed their schema. */
    invalid: ReadonlySet<string>;
}

/** Accepts what Pulumi stores (strings, JSON for structured values) and what YAML gives. */
export function fromPulumiValue(v: unknown): unknown {
    if (typeof v !== "string") return v;
    try {
        return JSON.parse(v);
    } catch {
        return v;
    }
}

const EMPTY: Record<string, unknown> = { string: "", number: 0, boolean: false, array: [] };

/** A key the program does not read, with the key meant when one is close; the fix keeps the value. */
function unknownKey(key: string, value: unknown, source: string): FleetIssue {
    const path = `${CONFIG_NAMESPACE}:${key}`;
    const near = closest(key, stackKeys());
    const scalar = typeof value === "string" && !/^[[{]/.test(value) ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : undefined;
    return near
        ? { file: source, path, message: `is not a key of the fleet: config; the closest is ${CONFIG_NAMESPACE}:${near}`, fix: `rename it to ${CONFIG_NAMESPACE}:${near}`, edit: { rm: path, set: `${CONFIG_NAMESPACE}:${near}`, ...(scalar !== undefined ? { value: scalar } : {}) } }
        : { file: source, path, message: "is not a key of the fleet: config", fix: "remove it (README, Stack config, lists the keys)", edit: { rm: path } };
}

/**
 * Checks the raw `fleet:` map (namespace stripped) against the schema and the fleet data, and
 * reports every problem at once; never throws.
 * @param source how the operator names the config, e.g. `Pulumi.mainpc.yaml`
 * @param broken data entries that failed their own schema: references to them are not reported
 */
export function readStackConfig(raw: Record<string, unknown>, fleet: FleetData, source: string, broken: Broken = NOTHING_BROKEN): StackRead {
    const plain = Object.fromEntries(Object.entries(raw).filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k)).map(([k, v]) => [k, fromPulumiValue(v)]));
    const hosts = Object.keys(fleet.hosts);
    const shape = stackConfigSchema((hosts.length ? hosts : ["-"]) as [string, ...string[]]).shape as Record<string, Parameters<typeof validate>[0]>;
    const issues: FleetIssue[] = [];
    const invalid = new Set<string>();
    const values: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(shape)) {
        // A machine the data has but could not read is reported there, not here.
        const r = key === "machine" && typeof plain.machine === "string" && broken.hosts(plain.machine) ? undefined : validate(schema, plain[key], source, [key], `${CONFIG_NAMESPACE}:`);
        if (r?.ok) {
            if (r.value !== undefined) values[key] = r.value;
            continue;
        }
        invalid.add(key);
        issues.push(...(r?.issues ?? []).map((i) => ({ ...i, edit: { set: i.path } })));
        const fallback = schema.safeParse(undefined);
        values[key] = fallback.success ? fallback.data : EMPTY[innerDef(schema)?.type ?? ""] ?? "";
    }
    issues.push(...Object.keys(plain).filter((k) => !(k in shape)).map((k) => unknownKey(k, raw[k], source)));
    if (invalid.has("machine")) return { issues, invalid };
    const cfg = { ...values, gpu: values.gpu ?? fleet.hosts[values.machine as string].gpu !== null } as StackConfig;
    const ctx = { fleet, source, broken };
    for (const rule of STACK_RULES) if (rule.needs.every((k) => !invalid.has(k))) issues.push(...rule.check(cfg, ctx));
    if (invalid.has("pins") && Array.isArray(plain.pins)) {
        // The well-formed entries of a list another entry broke are checked all the same.
        const entries = (plain.pins as unknown[]).flatMap((x, index) => (PIN.safeParse(x).success ? [{ index, pin: x as string }] : []));
        issues.push(...pinIssues(entries, cfg, ctx));
    }
    return { cfg, issues, invalid };
}

/** The checked config, or a FleetError with every problem (`index.ts`, plan). */
export function parseStackConfig(raw: Record<string, unknown>, fleet: FleetData, source: string): StackConfig {
    const r = readStackConfig(raw, fleet, source);
    if (r.issues.length > 0 || !r.cfg) throw new FleetError(r.issues);
    return r.cfg;
}

/**
 * As parseStackConfig, for the commands that answer with what they can (plan, diff,
 * image-targets): a value no checkout holds (an issue with `unknown`, e.g. the host's address)
 * takes its placeholder and is returned in `unknown`; any other problem throws them all.
 */
export function parseStackConfigWithUnknowns(raw: Record<string, unknown>, fleet: FleetData, source: string): { cfg: StackConfig; unknown: FleetIssue[] } {
    const r = readStackConfig(raw, fleet, source);
    if (!r.cfg || r.issues.some((i) => !i.unknown)) throw new FleetError(r.issues);
    const cfg = r.issues.reduce((c, i) => ({ ...c, [i.unknown!.key]: i.unknown!.placeholder }), r.cfg);
    return { cfg, unknown: r.issues };
}

/**
 * The `fleet:` keys of the config the CLI hands the program (fleet/pulumi/load.ts
 * `loadStack`), namespace stripped: what `parseStackConfig` takes.
 */
export function fleetKeys(config: Record<string, string>): Record<string, string> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.fromEntries(Object.entries(config).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
}

/**
 * What each planned service runs under fleet:pinAll, by service (fleet/model/rollback.ts reads it
 * from the build lock): the image reference and, for an image that deploy built, its revision.
 */
export type RollbackPins = Readonly<Record<string, { image: string; revision?: string }>>;

/**
 * The image a pinned service runs, or undefined when it is built: its `fleet:pins` entry, else
 * what `rollback` (the build lock `fleet:pinAll` names, fleet/model/rollback.ts) says it ran.
 */
export function pinnedImage(cfg: StackConfig, service: string, repository: string, rollback: RollbackPins = {}): string | undefined {
    const ref = cfg.pins.map(parsePin).find((p) => p.service === service)?.ref;
    if (ref === undefined) return rollback[service]?.image;
    const image = `${cfg.registry}/${cfg.org}/${repository}`;
    return DIGEST.test(ref) ? `${image}@${ref}` : `${image}:${ref}`;
}
