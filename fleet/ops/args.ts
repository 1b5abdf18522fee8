/** The ops CLI's command line: `<command> <positional>... --option value --flag`. */
import { CommandHelp } from "./help";

/** A wrong command line: exit 2, with the usage. */
export class UsageError extends Error {
    /** @param command the command whose usage to show; the command list when absent */
    constructor(message: string, public readonly command?: CommandHelp) {
        super(message);
    }
}

export interface Args {
    positional: string[];
    /** The last value of each option. */
    options: Record<string, string>;
    /** Every value of each option, in order (`--config` may be given more than once). */
    all: Record<string, string[]>;
    flags: Set<string>;
}

/** The arguments after the command name; `--help` (or `-h`) is a flag of every command. */
export function parseArgs(c: CommandHelp, rest: readonly string[]): Args {
    const positional: string[] = [];
    const options: Record<string, string> = {};
    const all: Record<string, string[]> = {};
    const flags = new Set<string>();
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (a === "-h") {
            flags.add("help");
            continue;
        }
        if (!a.startsWith("--")) {
            positional.push(a);
            continue;
        }
        const key = a.slice(2);
        if (key === "help" || c.flags.includes(key)) {
            flags.add(key);
            continue;
        }
        if (!c.options.includes(key)) throw new UsageError(`${c.name}: unknown option --${key}`, c);
        const value = rest[++i];
        if (value === undefined || value.startsWith("--")) throw new UsageError(`${c.name}: --${key} needs a value`, c);
        options[key] = value;
        (all[key] ??= []).push(value);
    }
    return { positional, options, all, flags };
}
