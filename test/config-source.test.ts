/**
 * Tests get stack config only through the CLI's rules (fleet/pulumi/load.ts via
 * test/mocks.ts `stackConfig`), from the real stack files plus committed override files. This
 * scans every test and benchmark source for the ways config used to be built by hand.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");

/** Where each rule may be broken, and why. */
const ALLOWED: Record<string, readonly string[]> = {
    // The one place the merged config reaches the Pulumi runtime, and the one run-time override
    // (the path of a temporary copy of the fixture application, which no committed file can hold).
    "setAllConfig": ["test/mocks.ts"],
    "fleet-key-literal": ["test/mocks.ts"],
    // The unit table of the program's own validation feeds parseStackConfig broken input on
    // purpose; stackFor parses a loaded stack.
    "parseStackConfig": ["test/helpers.ts", "test/fleet/stack.test.ts"],
    "BASE_STACK": ["test/helpers.ts", "test/fleet/stack.test.ts"],
    // check-stack's tests (and its table) and the stand-in CLI's tests break a copy of a stack file, and the ops
    // CLI's tests write settings into one (test/fleet/ops/project.ts), as `pulumi config set` does; the comparison
    // of Pulumi.yaml with stack.ts reads Pulumi.yaml's comments (the CLI ignores them).
    "stack-file-read": ["test/cli.test.ts", "test/fleet/ops/project.ts", "test/scripts/local-up.test.ts", "test/pulumi/config.test.ts", "test/pulumi/checkStack.test.ts"],
};

const RULES: { rule: keyof typeof ALLOWED; re: RegExp; why: string }[] = [
    { rule: "setAllConfig", re: /\bsetAllConfig\s*\(|\bsetConfig\s*\(/, why: "sets the program's config without the CLI's rules" },
    { rule: "fleet-key-literal", re: /["'`]fleet:[A-Za-z]\w*["'`]\s*:/, why: "writes a fleet: config entry by hand (use an override file in test/fixtures/stacks)" },
    { rule: "parseStackConfig", re: /\bparseStackConfig\s*\(/, why: "validates a hand-made config (use stackConfig() or stackFor())" },
    { rule: "BASE_STACK", re: /\bBASE_STACK\b/, why: "starts from a hand-made config" },
    { rule: "stack-file-read", re: /readFileSync\([^)]*(Pulumi\.|overrides|stack\.yaml|fixtures["', /]+stacks)/, why: "reads a stack or override file around the loader" },
];

/** Every rule a source breaks outside its allowed files. */
export function violations(file: string, text: string): string[] {
    const out: string[] = [];
    for (const [i, line] of text.split("\n").entries()) {
        for (const r of RULES) {
            if (r.re.test(line) && !ALLOWED[r.rule].includes(file)) out.push(`${file}:${i + 1}: ${r.why}`);
        }
    }
    return out;
}

function sources(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = `${dir}/${e.name}`;
        if (e.isDirectory()) return rel === "test/fixtures" ? [] : sources(rel);
        return e.name.endsWith(".ts") && rel !== "test/config-source.test.ts" ? [rel] : [];
    });
}

describe("tests get stack config only through the loader", () => {
    it("no test or benchmark source builds stack config by hand", () => {
        const files = [...sources("test"), ...sources("bench")];
        assert.ok(files.includes("test/engine/engine.test.ts") && files.includes("bench/bench.ts") && files.length > 20, files.join(", "));
        assert.deepStrictEqual(files.flatMap((f) => violations(f, fs.readFileSync(path.join(ROOT, f), "utf8"))), []);
    });

    const table: { what: string; file: string; text: string; expected: string[] }[] = [
        { what: "a hand-written fleet: map", file: "test/x.test.ts", text: "runProgram(cfg({ \"fleet:machine\": \"mainpc\" }))", expected: ["test/x.test.ts:1: writes a fleet: config entry by hand (use an override file in test/fixtures/stacks)"] },
        { what: "config set around the loader", file: "test/engine/x.ts", text: "x;\npulumi.runtime.setAllConfig({})", expected: ["test/engine/x.ts:2: sets the program's config without the CLI's rules"] },
        { what: "a stack file read by hand", file: "bench/b.ts", text: "parse(fs.readFileSync(path.join(ROOT, \"test\", \"engine\", \"stack.yaml\"), \"utf8\"))", expected: ["bench/b.ts:1: reads a stack or override file around the loader"] },
        { what: "the validator fed by hand outside its unit table", file: "test/components/y.test.ts", text: "parseStackConfig({ ...BASE_STACK }, f, s)", expected: ["test/components/y.test.ts:1: validates a hand-made config (use stackConfig() or stackFor())", "test/components/y.test.ts:1: starts from a hand-made config"] },
        { what: "reading a merged value and resource type tokens", file: "test/z.test.ts", text: "const p = m.config[\"fleet:peerStack\"]; byType(rs, \"fleet:host:FleetHost\")", expected: [] },
    ];
    for (const row of table) {
        it(`finds ${row.what}`, () => assert.deepStrictEqual(violations(row.file, row.text), row.expected));
    }
});
