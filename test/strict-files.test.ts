/**
 * Every YAML and JSON file the repository ships is loaded strictly, as its strictest consumer
 * reads it: YAML as gopkg.in/yaml.v3 does for the Pulumi CLI (any syntax error, duplicate keys
 * refused: fleet/pulumi/config.ts strictYaml), JSON as JSON with no duplicate key (npm,
 * tsc and mocha take the last of two silently; the reader of the file sees the first).
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { formatIssue } from "../fleet/model/issues";
import { strictYaml } from "../fleet/pulumi/config";

const ROOT = path.join(__dirname, "..");

/** Problems of one file's text; none when it loads strictly. */
export function strictProblems(file: string, text: string): string[] {
    if (file.endsWith(".json")) {
        try {
            JSON.parse(text);
        } catch (e) {
            return [`${file}: not valid JSON: ${(e as Error).message}`];
        }
    }
    // JSON is YAML 1.2, so the same reader finds a duplicate key in either, with its line.
    const y = strictYaml(text, file);
    return y.ok ? [] : y.issues.map(formatIssue);
}

describe("every YAML and JSON file the repository ships loads strictly", () => {
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
        .split("\0").filter((f) => /\.(ya?ml|json)$/.test(f) && fs.existsSync(path.join(ROOT, f))).sort();

    it("finds the stack files, workflows, data, policy, lock files and configs", () => {
        for (const f of ["Pulumi.yaml", "Pulumi.local.yaml", "Pulumi.mainpc.yaml", "Pulumi.pc2.yaml", ".github/workflows/pull-request.yml", "fleet/data/services.yaml",
            "policy/PulumiPolicy.yaml", "policy/package.json", "package.json", "package-lock.json", "tsconfig.json", ".mocharc.json", "test/engine/local-overrides.yaml"]) {
            assert.ok(files.includes(f), f);
        }
    });

    it("every one of them", () => {
        assert.deepStrictEqual(files.flatMap((f) => strictProblems(f, fs.readFileSync(path.join(ROOT, f), "utf8"))), []);
    });

    const table: { what: string; file: string; text: string; expected: string[] }[] = [
        { what: "a duplicate JSON key, which JSON.parse takes silently", file: "x.json", text: "{\n  \"a\": 1,\n  \"a\": 2\n}\n", expected: ["x.json: line 3: mapping key \"a\" already defined at line 2 (the Pulumi CLI's YAML parser refuses duplicate keys). Fix: keep one of the two entries"] },
        { what: "a trailing comma in JSON", file: "x.json", text: "{\"a\": 1,}", expected: ["x.json: not valid JSON: Expected double-quoted property name in JSON at position 8 (line 1 column 9)"] },
        { what: "a duplicate YAML key in a list item", file: "w.yml", text: "steps:\n  - run: a\n    run: b\n", expected: ["w.yml: line 3: mapping key \"run\" already defined at line 2 (the Pulumi CLI's YAML parser refuses duplicate keys). Fix: keep one of the two entries"] },
    ];
    for (const row of table) {
        it(`refuses ${row.what}`, () => assert.deepStrictEqual(strictProblems(row.file, row.text), row.expected));
    }
});
