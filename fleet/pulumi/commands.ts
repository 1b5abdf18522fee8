/**
 * The `pulumi config` commands that make a fix, to paste as printed. Flags as the CLI defines
 * them (pulumi/pulumi pkg/cmd/pulumi/config/config.go @ f7520826: `--stack`/`-s` on every config
 * command; `newConfigRemoveCmd` ("rm"): `--path` removes a list item, `pulumi config rm --path
 * 'names[0]'`; `newConfigSetCmd`: `--path`, `--secret`). Keys holding `[` are quoted: the shell
 * would read them as a glob.
 */
import { ConfigEdit, FleetIssue } from "../model/issues";
import { CONFIG_NAMESPACE, SECRET_KEYS, stackKeyType } from "../model/stack";
import { ConfigDeclaration, PulumiProject } from "./types";

type KeyType = Pick<ConfigDeclaration, "type" | "items" | "secret">;

/** Single-quotes a word the shell would otherwise split or expand; a word holding a placeholder (`<tag>`) is for the operator to complete, as it is. */
function shellWord(w: string): string {
    return /^[A-Za-z0-9_.,:/@=+%-]+$/.test(w) || /<[^>]+>/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
}

/** A key with a list index or a nested part is a property path (`--path`). */
function pathArgs(key: string): string {
    return /[[.]/.test(key.slice(key.indexOf(":") + 1)) ? `--path ${shellWord(key)}` : key;
}

/** The `pulumi config set` command that sets a key right, with a placeholder of its type. */
export function setCommand(stack: string, key: string, d?: KeyType, index = 0): string {
    if (d?.type === "array") return `pulumi config set --path '${key}[${index}]' <${d.items?.type ?? "value"}> --stack ${stack}`;
    const placeholder = d?.type === "integer" ? "<integer>" : d?.type === "boolean" ? "<true|false>" : "<value>";
    return `pulumi config set ${d?.secret ? "--secret " : ""}${pathArgs(key)} ${placeholder} --stack ${stack}`;
}

/** `pulumi config rm`, with `--path` for a list item. */
export function rmCommand(stack: string, key: string): string {
    return `pulumi config rm ${pathArgs(key)} --stack ${stack}`;
}

/**
 * The commands of an edit: the removal, then the setting (to its value, else a placeholder of
 * the key's type, from `typeOf`).
 */
export function editCommands(edit: ConfigEdit, stack: string, typeOf: (key: string) => KeyType | undefined): string {
    const s = edit.stack ?? stack;
    const out: string[] = [];
    if (edit.rm) out.push(rmCommand(s, edit.rm));
    if (edit.set) {
        const item = /\[\d+\]$/.test(edit.set);
        out.push(edit.value !== undefined ? `pulumi config set ${pathArgs(edit.set)} ${shellWord(edit.value)} --stack ${s}`
            : item ? `pulumi config set ${pathArgs(edit.set)} <string> --stack ${s}` : setCommand(s, edit.set, typeOf(edit.set)));
    }
    return out.join(" && ");
}

/**
 * Issues whose fixes remove items of one list, highest index first: `pulumi config rm --path
 * 'k[0]'` renumbers the items after it, so the fixes work pasted in the order printed. Other
 * issues keep their places.
 */
export function removalsHighestFirst<T extends { edit?: ConfigEdit }>(issues: readonly T[], stack: string): T[] {
    const item = (i: T) => /^(.*)\[(\d+)\]$/.exec(i.edit?.rm ?? "");
    const list = (i: T) => `${i.edit?.stack ?? stack} ${item(i)![1]}`;
    const out = [...issues];
    const slots = new Map<string, number[]>();
    out.forEach((i, n) => { if (item(i)) slots.set(list(i), [...(slots.get(list(i)) ?? []), n]); });
    for (const positions of slots.values()) {
        const sorted = positions.map((n) => issues[n]).sort((a, b) => Number(item(b)![2]) - Number(item(a)![2]));
        positions.forEach((n, k) => { out[n] = sorted[k]; });
    }
    return out;
}

/** An issue's edit as the commands to paste, after the fix's words. */
export function withCommands(i: FleetIssue, stack: string, project: PulumiProject): FleetIssue {
    const typeOf = (key: string) => {
        const name = key.slice(CONFIG_NAMESPACE.length + 1);
        const type = stackKeyType(name);
        return project.config[name] ?? (type ? { type, ...(type === "array" ? { items: { type: "string" } } : {}), secret: (SECRET_KEYS as readonly string[]).includes(name) } : undefined);
    };
    if (!i.edit) return i;
    const { or, ...edit } = i.edit;
    const commands = edit.rm || edit.set ? `: ${editCommands(edit, stack, typeOf)}` : "";
    return { file: i.file, path: i.path, message: i.message, fix: `${i.fix}${commands}${or ? `; or ${or}` : ""}` };
}
