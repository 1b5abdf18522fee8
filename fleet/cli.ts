/**
 * `scripts/fleet <command>` (or `npm run fleet -- <command>`): the operator's view of the fleet
 * model, without Pulumi. `scripts/fleet help` lists the commands (fleet/ops/help.ts); what each
 * does is in fleet/ops/commands.ts. This file only dispatches.
 *
 * Exit codes: 0 fine, 1 the data or config has problems, 2 the command line is wrong.
 */
import * as path from "path";
import { FleetError } from "./model/issues";
import { DEFAULT_FLEET_DIR } from "./model/load";
import { parseArgs, UsageError } from "./ops/args";
import { CliIO, DIAGRAM_FILE, REPOSITORY_DIR, RUN } from "./ops/commands";
import { closestCommand, commandHelp, findCommand, usage } from "./ops/help";

export type { CliIO };
export { DIAGRAM_FILE };
export const PROJECT_DIR = REPOSITORY_DIR;

const HELP = new Set(["help", "--help", "-h"]);

function dispatch(argv: readonly string[], io: CliIO, projectDir: string): number | Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined) throw new UsageError("no command given");
    if (HELP.has(name)) {
        if (rest.length === 0) usage().forEach((l) => io.out(l));
        else {
            const c = findCommand(rest[0]);
            if (!c) throw unknown(rest[0]);
            commandHelp(c).forEach((l) => io.out(l));
        }
        return 0;
    }
    const c = findCommand(name);
    if (!c) throw unknown(name);
    const args = parseArgs(c, rest);
    if (args.flags.has("help")) {
        commandHelp(c).forEach((l) => io.out(l));
        return 0;
    }
    const fleetDir = args.options.fleet ? path.resolve(args.options.fleet) : DEFAULT_FLEET_DIR;
    return RUN[c.name](args, { io, projectDir, fleetDir }, c);
}

function unknown(name: string): UsageError {
    const near = closestCommand(name);
    return new UsageError(`unknown command '${name}'${near ? `; did you mean '${near}'?` : ""}`);
}

/** The exit code of a command that threw: 1 for the data's problems, 2 for the command line's. */
function failed(e: unknown, io: CliIO): number {
    if (e instanceof FleetError) {
        io.err(e.message);
        return 1;
    }
    if (e instanceof UsageError) {
        io.err([`fleet: ${e.message}`, "", ...(e.command ? commandHelp(e.command) : usage())].join("\n"));
        return 2;
    }
    throw e;
}

/** Runs one command that does its work at once (all but `sbom`); returns the exit code. */
export function runCli(argv: readonly string[], io: CliIO, projectDir = PROJECT_DIR): number {
    try {
        const code = dispatch(argv, io, projectDir);
        if (typeof code !== "number") throw new Error(`fleet ${argv[0]} waits on the docker CLI: run it with runCliAsync`);
        return code;
    } catch (e) {
        return failed(e, io);
    }
}

/** Runs any command, waiting for it; returns the exit code. */
export async function runCliAsync(argv: readonly string[], io: CliIO, projectDir = PROJECT_DIR): Promise<number> {
    try {
        return await dispatch(argv, io, projectDir);
    } catch (e) {
        return failed(e, io);
    }
}

if (require.main === module) {
    void runCliAsync(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) }).then((code) => {
        process.exitCode = code;
    });
}
