/** YAML as gopkg.in/yaml.v3 reads it for the Pulumi CLI (sources: ./config.ts). */
import { Document, isMap, isPair, isScalar, isSeq, LineCounter, Node, parseDocument, Scalar, YAMLMap } from "yaml";
import { FleetIssue } from "../model/issues";
import { explainYamlError } from "../model/yamlError";

export { levenshtein } from "../model/closest";
import { Parsed } from "./types";

export interface YamlText { doc: Document; lines: LineCounter }

/**
 * Parses YAML the way the CLI's parser refuses it: any syntax error, at the line yaml.v3 names
 * (fleet/model/yamlError.ts), and every duplicate mapping key (yaml.v3: `mapping key "x"
 * already defined at line N`).
 */
export function strictYaml(text: string, file: string): Parsed<YamlText> {
    const lines = new LineCounter();
    const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false, lineCounter: lines, version: "1.2" });
    const issues: FleetIssue[] = [];
    if (doc.errors.length) {
        const e = explainYamlError(doc.errors, text, lines);
        issues.push({ file, path: `line ${e.line}, column ${e.col}`, message: `not valid YAML: ${e.message}${e.cli ? ` (yaml.v3: "${e.cli}")` : ""}`, fix: e.fix });
        return { ok: false, issues };
    }
    const visit = (node: unknown): void => {
        if (isMap(node)) {
            const seen = new Map<string, number>();
            for (const pair of node.items) {
                const key = isScalar(pair.key) ? String(pair.key.value) : JSON.stringify(String(pair.key));
                const line = lineOf(lines, pair.key as Node);
                const first = seen.get(key);
                if (first !== undefined) {
                    issues.push({ file, path: `line ${line}`, message: `mapping key "${key}" already defined at line ${first} (the Pulumi CLI's YAML parser refuses duplicate keys)`, fix: "keep one of the two entries" });
                } else seen.set(key, line);
                visit(pair.value);
            }
        } else if (isSeq(node)) node.items.forEach(visit);
    };
    visit(doc.contents);
    return issues.length ? { ok: false, issues } : { ok: true, value: { doc, lines } };
}

export function lineOf(lines: LineCounter, node: Node | null | undefined): number {
    const at = node?.range?.[0];
    return at === undefined ? 0 : lines.linePos(at).line;
}

/** The top-level mapping's entries with their lines. */
export function entries(y: YamlText, node: unknown): { key: string; value: unknown; node: unknown; line: number }[] {
    if (!isMap(node)) return [];
    return (node as YAMLMap).items.filter(isPair).map((p) => ({
        key: isScalar(p.key) ? String((p.key as Scalar).value) : String(p.key),
        value: p.value && typeof (p.value as Node).toJSON === "function" ? (p.value as Node).toJSON() : (p.value as Scalar | null)?.value ?? null,
        node: p.value,
        line: lineOf(y.lines, p.key as Node),
    }));
}
