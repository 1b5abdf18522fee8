/**
 * What a command that evaluates a stack could not know from this checkout, said once at the top
 * of its answer with the option or command that supplies it (issue 27): a fresh clone holds no
 * host address (the committed stacks leave it to the operator) and no application repository
 * (a checkout beside this one).
 */
import * as fs from "fs";
import { FleetIssue } from "../model/issues";

/** A stack key left to the operator, and its placeholder in the answer. */
export function unknownKeyLine(i: FleetIssue, stack: string): string {
    return `not known here: ${i.file}: ${i.path}: ${i.message}; shown as ${i.unknown!.placeholder}. `
        + `Supply it: --config ${stack}=FILE, a file holding "config: { ${i.path}: <value> }", or pulumi config set ${i.path} <value> --stack ${stack}`;
}

/** The application repository's checkout, when it is not there: every service's image tag is unknown. */
export function appRepoUnknownLine(appRepo: string, stack: string): string | undefined {
    if (fs.existsSync(appRepo)) return undefined;
    return `not known here: the tags of stack ${stack}'s service images: the application repository is not checked out at ${appRepo} (fleet:appRepo). `
        + "Supply it: --app-repo DIR, or check it out there (scripts/fleet app-repo names the repository and commit)";
}
