/**
 * A YAML syntax error as an operator can act on it: the line that is wrong and what is wrong
 * there, for the data files and the Pulumi files alike. The `yaml` library places some errors
 * where the parser noticed them, not where the text is wrong; gopkg.in/yaml.v3, the Pulumi
 * CLI's parser, names the wrong line (its `parser.fail` in decode.go prints the scanner's mark,
 * the line of the offending `:`), and the message follows it.
 */
import { LineCounter, YAMLError } from "yaml";

export interface YamlErrorText {
    line: number;
    col: number;
    message: string;
    fix: string;
    /** yaml.v3's own words for the same input, where they differ from the `yaml` library's. */
    cli?: string;
}

function indentOf(text: string, line: number): number {
    return /^ */.exec(text.split("\n")[line - 1] ?? "")![0].length;
}

/** The nearest line before `line` that holds more than blanks or a comment. */
function previousContentLine(text: string, line: number): number | undefined {
    const all = text.split("\n");
    for (let n = line - 1; n >= 1; n--) {
        const t = all[n - 1].trim();
        if (t !== "" && !t.startsWith("#")) return n;
    }
    return undefined;
}

function spaces(n: number): string {
    return `${n} space${n === 1 ? "" : "s"}`;
}

/**
 * Explains the first syntax error of a parse.
 *
 * A key indented deeper than the line before it continues that line's value (YAML's plain
 * scalars run over lines), and the `: ` after it is then inside a value: the `yaml` library
 * reports "Nested mappings are not allowed in compact mappings" at the start of the value, a
 * line early, and a MULTILINE_IMPLICIT_KEY error whose range ends at the key. yaml.v3 reports
 * "mapping values are not allowed in this context" at the key's own line (scannerc.go
 * `yaml_parser_fetch_value`: a `:` where no simple key is allowed), which is the line to fix.
 */
export function explainYamlError(errors: readonly YAMLError[], text: string, lines: LineCounter): YamlErrorText {
    const [first, second] = errors;
    const at = lines.linePos(first.pos[0]);
    const head = first.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    if (first.code === "BLOCK_AS_IMPLICIT_KEY" && second?.code === "MULTILINE_IMPLICIT_KEY" && second.pos[0] === first.pos[0]) {
        const line = lines.linePos(second.pos[1]).line;
        const [deep, shallow] = [indentOf(text, line), indentOf(text, at.line)];
        const key = text.slice(second.pos[0], second.pos[1]).split("\n").pop()!.trim();
        const before = previousContentLine(text, at.line);
        if (before !== undefined && indentOf(text, before) === deep && shallow < deep) {
            // The shallow line is the one out of place: its neighbours share an indentation, so it
            // was moved out (to column 0, say), ending the mapping above it. Indenting the next
            // line to match it would move every later key out of that mapping too.
            const moved = /^(.*?):(?:\s|$)/.exec((text.split("\n")[at.line - 1] ?? "").trim())?.[1] ?? "";
            return {
                line: at.line, col: shallow + 1,
                message: `line ${at.line} (\`${moved}\`) is indented ${spaces(shallow)}, less than lines ${before} and ${line} around it (${spaces(deep)}), so it ends the mapping above it and line ${line}'s \`${key}\` is read as more of its value`,
                fix: `indent line ${at.line} by ${spaces(deep)}, as lines ${before} and ${line}`,
                cli: `line ${line}: mapping values are not allowed in this context`,
            };
        }
        return {
            line, col: deep + 1,
            message: `\`${key}\` is indented ${spaces(deep)}, deeper than line ${at.line} (${spaces(shallow)}), so it is read as more of line ${at.line}'s value, and a plain value cannot hold ': '`,
            fix: `indent line ${line} by ${spaces(shallow)}, as line ${at.line}, if \`${key}\` is a key of the same mapping; if it belongs to line ${at.line}'s value, quote that value`,
            cli: `line ${line}: mapping values are not allowed in this context`,
        };
    }
    if (first.code === "BLOCK_AS_IMPLICIT_KEY") {
        return { line: at.line, col: at.col, message: `${head}: a plain value holds ': '`, fix: "quote the value: a plain scalar cannot contain ': ' (write description: \"...\")", cli: `line ${at.line}: mapping values are not allowed in this context` };
    }
    if (first.code === "BAD_INDENT") return { line: at.line, col: at.col, message: head, fix: `indent line ${at.line} as the other keys of its mapping` };
    if (first.code === "TAB_AS_INDENT") return { line: at.line, col: at.col, message: head, fix: "indent with spaces: YAML does not allow tabs there" };
    return { line: at.line, col: at.col, message: head, fix: "correct the YAML at that position" };
}
