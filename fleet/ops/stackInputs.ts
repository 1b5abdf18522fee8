/**
 * The options of every command that evaluates a stack (help.ts STACK_OPTION_NAMES): override
 * files of a stack file's shape on top of every stack, or of one (`--config [STACK=]FILE`), and
 * the application repository's checkout in place of fleet:appRepo (`--app-repo DIR`). Paths are
 * absolute (the command line's start at the working directory).
 */
export interface StackInputs {
    overrides: { all: string[]; byStack: Record<string, string[]> };
    appRepo?: string;
}

/** The override files of one stack, those of every stack first. */
export function overridesOf(i: StackInputs, stack: string): string[] {
    return [...i.overrides.all, ...(i.overrides.byStack[stack] ?? [])];
}
