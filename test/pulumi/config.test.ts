/**
 * The Pulumi CLI's rules for Pulumi.yaml and stack files (fleet/pulumi/config.ts), one row
 * per rule with the CLI's exact message (pulumi/pulumi sdk/go/common/workspace config.go and
 * project.go), and the shipped project and stacks through them.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { formatIssue } from "../../fleet/model/issues";
import { fullTypeName, mergeStack, MergedStack, parseProject, parseStackFile, PulumiProject, StackFile } from "../../fleet/pulumi/config";
import { loadProject, stackNames } from "../../fleet/pulumi/load";
import { SECRET_KEYS, stackConfigSchema } from "../../fleet/model/stack";
import { PROJECT_DIR, stackConfig } from "../mocks";

function project(text: string): PulumiProject {
    const p = parseProject(text, "Pulumi.yaml");
    if (!p.ok) throw new Error(p.issues.map(formatIssue).join("\n"));
    return p.value;
}
function stackFile(text: string, file = "Pulumi.dev.yaml"): StackFile {
    const s = parseStackFile(text, file);
    if (!s.ok) throw new Error(s.issues.map(formatIssue).join("\n"));
    return s.value;
}
function projectErrors(text: string): string[] {
    const p = parseProject(text, "Pulumi.yaml");
    assert.ok(!p.ok, "expected the project to be refused");
    return p.issues.map(formatIssue);
}
/** The CLI's messages for a merge, in the order it meets them (it prints the first). */
function mergeErrors(proj: string, stack: string, decrypt?: (c: string) => string): string[] {
    const m = mergeStack(project(proj), "dev", [stackFile(stack)], decrypt);
    assert.ok(!m.ok, "expected the merge to fail");
    return m.issues.map((i) => i.message);
}
function merged(proj: string, stack: string, decrypt?: (c: string) => string): MergedStack {
    const m = mergeStack(project(proj), "dev", [stackFile(stack)], decrypt);
    if (!m.ok) throw new Error(m.issues.map(formatIssue).join("\n"));
    return m.value;
}

const HEAD = "name: demo\nruntime: nodejs\n";

describe("Pulumi CLI rules: YAML as yaml.v3 reads it", () => {
    it("refuses a plain scalar holding ': ' (the line 75 bug), naming file, line and fix", () => {
        assert.deepStrictEqual(projectErrors(`${HEAD}config:\n  a:\n    type: string\n    description: an address (default: none)\n`), [
            "Pulumi.yaml: line 6, column 18: not valid YAML: Nested mappings are not allowed in compact mappings: a plain value holds ': ' (yaml.v3: \"line 6: mapping values are not allowed in this context\"). Fix: quote the value: a plain scalar cannot contain ': ' (write description: \"...\")",
        ]);
    });

    it("names the line indented wrong and what is wrong there, where yaml.v3 does (not the line before, as 'quote the value')", () => {
        const pc2 = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.pc2.yaml"), "utf8");
        assert.match(pc2, /^  fleet:registry: ghcr\.io\n  fleet:org: ai-system$/m);
        const errors = (text: string) => {
            const s = parseStackFile(text, "Pulumi.pc2.yaml");
            return s.ok ? [] : s.issues.map(formatIssue);
        };
        assert.deepStrictEqual(errors(pc2.replace("  fleet:org:", "    fleet:org:")), [
            "Pulumi.pc2.yaml: line 6, column 5: not valid YAML: `fleet:org` is indented 4 spaces, deeper than line 5 (2 spaces), so it is read as more of line 5's value, and a plain value cannot hold ': ' (yaml.v3: \"line 6: mapping values are not allowed in this context\"). Fix: indent line 6 by 2 spaces, as line 5, if `fleet:org` is a key of the same mapping; if it belongs to line 5's value, quote that value",
        ]);
        assert.deepStrictEqual(errors(pc2.replace("  fleet:org:", " fleet:org:")), ["Pulumi.pc2.yaml: line 6, column 1: not valid YAML: All mapping items must start at the same column. Fix: indent line 6 as the other keys of its mapping"]);
        assert.deepStrictEqual(errors(pc2.replace("  fleet:org:", "\tfleet:org:")), ["Pulumi.pc2.yaml: line 6, column 1: not valid YAML: Tabs are not allowed as indentation. Fix: indent with spaces: YAML does not allow tabs there"]);
    });

    it("refuses every duplicate key with both lines, as yaml.v3 does", () => {
        assert.deepStrictEqual(projectErrors(`${HEAD}config:\n  a:\n    type: string\n  a:\n    type: integer\nname: again\n`), [
            "Pulumi.yaml: line 6: mapping key \"a\" already defined at line 4 (the Pulumi CLI's YAML parser refuses duplicate keys). Fix: keep one of the two entries",
            "Pulumi.yaml: line 8: mapping key \"name\" already defined at line 1 (the Pulumi CLI's YAML parser refuses duplicate keys). Fix: keep one of the two entries",
        ]);
        const s = parseStackFile("config:\n  fleet:gpu: false\n  fleet:gpu: true\n", "Pulumi.dev.yaml");
        assert.deepStrictEqual(s.ok ? [] : s.issues.map(formatIssue), ["Pulumi.dev.yaml: line 3: mapping key \"fleet:gpu\" already defined at line 2 (the Pulumi CLI's YAML parser refuses duplicate keys). Fix: keep one of the two entries"]);
    });

    it("reads 'yes' as text, not a boolean (YAML 1.2, as yaml.v3 into an interface)", () => {
        assert.deepStrictEqual(mergeErrors(`${HEAD}config:\n  gpu:\n    type: boolean\n`, "config:\n  demo:gpu: yes\n"), ["Stack 'dev' with configuration key 'gpu' must be of type 'boolean'"]);
    });
});

describe("Pulumi CLI rules: the project file", () => {
    const table: { what: string; text: string; expected: string[] }[] = [
        { what: "no name", text: "runtime: nodejs\n", expected: ["Pulumi.yaml: name: project is missing a 'name' attribute. Fix: add name: <project>"] },
        { what: "a misspelt name", text: "nme: demo\nruntime: nodejs\n", expected: ["Pulumi.yaml: name: project is missing a 'name' attribute; found 'nme' instead. Fix: add name: <project>"] },
        { what: "an empty name", text: "name: ''\nruntime: nodejs\n", expected: ["Pulumi.yaml: line 1: name: project is missing a non-empty string 'name' attribute. Fix: write the project's name as a string"] },
        { what: "no runtime", text: "name: demo\n", expected: ["Pulumi.yaml: runtime: #: missing properties: 'runtime'. Fix: add runtime: nodejs"] },
        { what: "a runtime with an unknown key", text: "name: demo\nruntime:\n  name: nodejs\n  option: {}\n", expected: ["Pulumi.yaml: line 2: runtime.option: #/runtime: additionalProperties 'option' not allowed. Fix: keep name and options only"] },
        { what: "an unknown type", text: `${HEAD}config:\n  a:\n    type: number\n`, expected: ["Pulumi.yaml: line 4: config.a.type: #/config/a/type: value must be one of \"string\", \"integer\", \"boolean\", \"array\". Fix: use one of those types"] },
        { what: "a misspelt attribute", text: `${HEAD}config:\n  a:\n    type: string\n    defualt: x\n`, expected: ["Pulumi.yaml: line 4: config.a.defualt: #/config/a: additionalProperties 'defualt' not allowed; did you mean 'default'?. Fix: rename it to default"] },
        { what: "a declaration without a type", text: `${HEAD}config:\n  a:\n    description: x\n`, expected: ["Pulumi.yaml: line 4: config.a: #/config/a: missing properties: 'type'. Fix: add type: string, integer, boolean or array"] },
        { what: "default and value together", text: `${HEAD}config:\n  a:\n    type: string\n    default: x\n    value: y\n`, expected: ["Pulumi.yaml: line 4: config.a: project config 'a' cannot have both a 'default' and 'value' attribute. Fix: keep one of them"] },
        { what: "an array without items", text: `${HEAD}config:\n  a:\n    type: array\n`, expected: ["Pulumi.yaml: line 4: config.a: The configuration key 'a' declares an array but does not specify the underlying type via the 'items' attribute. Fix: add items: {type: string}"] },
        { what: "a default of the wrong type", text: `${HEAD}config:\n  a:\n    type: integer\n    default: ten\n`, expected: ["Pulumi.yaml: line 4: config.a.default: The default value specified for configuration key 'a' is not of the expected type 'integer'. Fix: write a default of type integer"] },
        { what: "an array default of the wrong items", text: `${HEAD}config:\n  a:\n    type: array\n    items:\n      type: string\n    default: [1]\n`, expected: ["Pulumi.yaml: line 4: config.a.default: The default value specified for configuration key 'a' is not of the expected type 'array<string>'. Fix: write a default of type array<string>"] },
        { what: "another namespace with a type", text: `${HEAD}config:\n  aws:region:\n    type: string\n    value: x\n`, expected: ["Pulumi.yaml: line 4: config.aws:region: Configuration key 'aws:region' is not namespaced by the project and should not define a type. Fix: remove the type"] },
        { what: "another namespace with a default", text: `${HEAD}config:\n  aws:region:\n    default: x\n`, expected: ["Pulumi.yaml: line 4: config.aws:region: Configuration key 'aws:region' is not namespaced by the project and should not define a default value. Did you mean to use the 'value' attribute instead of 'default'?. Fix: write value: instead of default:"] },
        { what: "another namespace without a value", text: `${HEAD}config:\n  aws:region:\n    description: x\n`, expected: ["Pulumi.yaml: line 4: config.aws:region: Configuration key 'aws:region' is namespaced and must provide an attribute 'value'. Fix: add value: <value>"] },
    ];
    for (const row of table) {
        it(`refuses ${row.what}`, () => assert.deepStrictEqual(projectErrors(row.text), row.expected));
    }

    it("reads the shorthand as the CLI rewrites it: a default for project keys, a value for others", () => {
        const p = project(`${HEAD}config:\n  size: small\n  aws:region: eu-west-1\n`);
        assert.deepStrictEqual(p.config, { size: { default: "small", secret: false, line: 4 }, "aws:region": { value: "eu-west-1", secret: false, line: 5 } });
    });
});

describe("Pulumi CLI rules: stack files and the merge", () => {
    const P = `${HEAD}config:\n  b:\n    type: string\n  a:\n    type: integer\n  c:\n    type: boolean\n    default: true\n  d:\n    type: array\n    items:\n      type: string\n    default: []\n  k:\n    type: string\n    secret: true\n    default: x\n  demo:n:\n    type: string\n  other:x:\n    value: 1\n`;

    it("a key of the project's namespace with neither default nor value is missing; one key", () => {
        assert.deepStrictEqual(mergeErrors(`${HEAD}config:\n  a:\n    type: string\n`, "config: {}\n"), ["Stack 'dev' is missing configuration value 'a'"]);
    });

    it("several missing keys are sorted as Go sorts bytes (upper case first), joined with commas and 'and'", () => {
        assert.deepStrictEqual(mergeErrors(`${HEAD}config:\n  zeta:\n    type: string\n  Alpha:\n    type: string\n  beta:\n    type: string\n`, "config: {}\n"), ["Stack 'dev' is missing configuration values 'Alpha', 'beta' and 'zeta'"]);
        assert.deepStrictEqual(mergeErrors(`${HEAD}config:\n  demo:b:\n    type: string\n  demo:a:\n    type: string\n`, "config: {}\n"), ["Stack 'dev' is missing configuration values 'demo:a' and 'demo:b'"]);
    });

    it("the message names the key as Pulumi.yaml declares it: bare here, `fleet:a` only when declared so", () => {
        // config.go appends projectConfigKey, the declaration's own spelling, to the missing list.
        assert.deepStrictEqual(mergeErrors(`name: fleet\nruntime: nodejs\nconfig:\n  fleet:a:\n    type: string\n  b:\n    type: string\n`, "config: {}\n"), ["Stack 'dev' is missing configuration values 'b' and 'fleet:a'"]);
    });

    it("a secret key with a plaintext value must be encrypted, and its default is plaintext too", () => {
        assert.deepStrictEqual(mergeErrors(`${HEAD}config:\n  k:\n    type: string\n    secret: true\n`, "config:\n  demo:k: hunter2\n"), ["Stack 'dev' with configuration key 'k' must be encrypted as it's secret"]);
        assert.deepStrictEqual(mergeErrors(`${HEAD}config:\n  k:\n    type: string\n    secret: true\n    default: x\n`, "config: {}\n"), ["Stack 'dev' with configuration key 'k' must be encrypted as it's secret"]);
    });

    it("types: integer, boolean, array<string>; every wrong one in key order (the CLI prints the first)", () => {
        assert.deepStrictEqual(mergeErrors(P, "config:\n  demo:a: ten\n  demo:b: x\n  demo:c: maybe\n  demo:d: [1, 2]\n  demo:k:\n    secure: test:eA==\n  demo:n: x\n"), [
            "Stack 'dev' with configuration key 'a' must be of type 'integer'",
            "Stack 'dev' with configuration key 'c' must be of type 'boolean'",
            // The first entry of the wrong type named too (the CLI's words stop at the type).
            "Stack 'dev' with configuration key 'd' must be of type 'array<string>': demo:d[0] is 1",
        ]);
    });

    it("a YAML number is text to a string key, and a string of digits is an integer (strconv.Atoi)", () => {
        const m = merged(P, "config:\n  demo:a: '42'\n  demo:b: 7\n  demo:k:\n    secure: test:eA==\n  demo:n: x\n", (c) => Buffer.from(c.slice(5), "base64").toString());
        assert.deepStrictEqual(m.config, { "demo:a": "42", "demo:b": "7", "demo:c": "true", "demo:d": "[]", "demo:k": "x", "demo:n": "x", "other:x": "1" });
        assert.deepStrictEqual(m.secretKeys, ["demo:k"]);
    });

    it("defaults and values apply only where the stack has no value; the stack's value wins", () => {
        const m = merged(P, "config:\n  demo:a: 1\n  demo:b: x\n  demo:c: false\n  demo:d: [x]\n  demo:k:\n    secure: test:eQ==\n  demo:n: x\n  other:x: 2\n", (c) => Buffer.from(c.slice(5), "base64").toString());
        assert.deepStrictEqual(m.config, { "demo:a": "1", "demo:b": "x", "demo:c": "false", "demo:d": "[\"x\"]", "demo:k": "y", "demo:n": "x", "other:x": "2" });
    });

    it("later files win key by key, as `pulumi config set` on top of the committed file", () => {
        const m = mergeStack(project(`${HEAD}config:\n  a:\n    type: integer\n`), "dev", [stackFile("config:\n  demo:a: 1\n  demo:z: keep\n"), stackFile("config:\n  demo:a: 2\n", "override.yaml")]);
        assert.ok(m.ok);
        assert.deepStrictEqual(m.value.config, { "demo:a": "2", "demo:z": "keep" });
        assert.strictEqual(m.value.values.get("demo:a")!.file, "override.yaml");
    });

    it("a stack key without a namespace is refused with the CLI's text, the line and the fix", () => {
        const s = parseStackFile("config:\n  gpu: false\n  a:b:c: 1\n", "Pulumi.dev.yaml");
        assert.deepStrictEqual(s.ok ? [] : s.issues.map(formatIssue), [
            "Pulumi.dev.yaml: line 2: gpu: could not parse gpu as a configuration key (configuration keys should be of the form `<namespace>:<name>`). Fix: write it with its namespace, e.g. fleet:gpu",
            "Pulumi.dev.yaml: line 3: a:b:c: could not parse a:b:c as a configuration key (configuration keys should be of the form `<namespace>:<name>`). Fix: write it with its namespace, e.g. fleet:c",
        ]);
    });

    it("the type of a secret is checked once it is decrypted, never before", () => {
        const proj = `${HEAD}config:\n  a:\n    type: integer\n    secret: true\n`;
        assert.deepStrictEqual(mergeStack(project(proj), "dev", [stackFile("config:\n  demo:a:\n    secure: test:eA==\n")]).ok, true);
        assert.deepStrictEqual(mergeErrors(proj, "config:\n  demo:a:\n    secure: test:eA==\n", (c) => Buffer.from(c.slice(5), "base64").toString()), ["Stack 'dev' with configuration key 'a' must be of type 'integer'"]);
    });
});

/** Pulumi's type for a field of the stack.ts schema, and its default (undefined: none). */
function pulumiShape(field: z.ZodType): { type: string; required: boolean; default?: unknown } {
    let t = field as unknown as { def: { type: string; innerType?: unknown; out?: unknown; defaultValue?: unknown; element?: unknown; checks?: { _zod: { def: { check: string; format?: string } } }[] } };
    let dflt: unknown;
    let required = true;
    for (;;) {
        if (t.def.type === "default") [dflt, t] = [t.def.defaultValue, t.def.innerType as typeof t];
        else if (t.def.type === "optional") [required, t] = [false, t.def.innerType as typeof t];
        else if (t.def.type === "pipe") t = t.def.out as typeof t;
        else break;
    }
    const kind = t.def.type === "enum" ? "string" : t.def.type === "number" ? "integer" : t.def.type === "array" ? `array<${pulumiShape(t.def.element as z.ZodType).type}>` : t.def.type;
    return { type: kind, required: required && dflt === undefined, ...(dflt !== undefined ? { default: dflt } : {}) };
}

describe("Pulumi.yaml and stack.ts agree", () => {
    const proj = loadProject(PROJECT_DIR);
    const shape = stackConfigSchema(["mainpc", "pc2"]).shape as Record<string, z.ZodType>;

    it("every declared key is a key of the schema with the same type, and the same default or none", () => {
        for (const [key, d] of Object.entries(proj.config)) {
            assert.ok(shape[key], `Pulumi.yaml declares '${key}', which stack.ts does not know`);
            const s = pulumiShape(shape[key]);
            assert.strictEqual(fullTypeName(d.type!, d.items), s.type, `${key}: type`);
            assert.deepStrictEqual(d.default, s.default, `${key}: Pulumi.yaml's default differs from stack.ts's`);
            assert.strictEqual(d.default === undefined, s.required, `${key}: required in one and optional in the other`);
        }
    });

    it("a schema key left out of Pulumi.yaml is optional without a default, and named in its comment and the README", () => {
        const text = fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.yaml"), "utf8");
        const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
        const undeclared = [...Object.keys(shape).filter((k) => !proj.config[k]), ...SECRET_KEYS];
        assert.deepStrictEqual(undeclared.sort(), ["advertiseAddress", "gpu", "maxCpus", "peerStack", "pinAll", "registryPassword", "registryUsername", "startLanes", "upstreamImage"]);
        for (const key of undeclared) {
            if (shape[key]) assert.deepStrictEqual(pulumiShape(shape[key]), { type: { startLanes: "integer", maxCpus: "integer", gpu: "boolean" }[key] ?? "string", required: false }, key);
            assert.match(text, new RegExp(`^#.*\\b${key}\\b`, "m"), `Pulumi.yaml's comment says why ${key} is not declared`);
            assert.match(readme, new RegExp(`^\\|[^\\n]*\`${key}\`[^\\n]*not declared`, "m"), `README's stack config table lists ${key} as not declared`);
        }
    });

    it("every schema key is in the README's stack config table", () => {
        const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
        for (const key of Object.keys(shape)) assert.match(readme, new RegExp(`^\\|[^\\n]*\`${key}\``, "m"), key);
    });
});

describe("the shipped project and stacks load as `pulumi up` loads them", () => {
    it("the stacks are local, mainpc and pc2", () => assert.deepStrictEqual(stackNames(PROJECT_DIR), ["local", "mainpc", "pc2"]));

    for (const stack of ["local", "mainpc", "pc2"]) {
        it(`${stack}: merges with nothing missing, no secret in plaintext, every type right`, () => {
            const m = stackConfig(stack);
            assert.strictEqual(m.config["fleet:machine"], stack === "pc2" ? "pc2" : "mainpc");
            assert.deepStrictEqual(m.secretKeys, []);
            for (const [k, d] of Object.entries(loadProject(PROJECT_DIR).config)) assert.ok(`fleet:${k}` in m.config || d.default === undefined, k);
        });
    }

    it("mainpc and pc2 load after the runbook's secret steps, and the credentials arrive as secrets", () => {
        for (const stack of ["mainpc", "pc2"]) {
            const m = stackConfig(stack, "registry-login");
            assert.deepStrictEqual(m.secretKeys, ["fleet:registryPassword", "fleet:registryUsername"]);
            assert.deepStrictEqual([m.config["fleet:registryUsername"], m.config["fleet:registryPassword"]], ["bot", "s3cret"]);
        }
    });
});
