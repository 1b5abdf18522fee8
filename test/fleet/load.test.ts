import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { loadFleet } from "../../fleet/model/load";
import { fleetErrors, realFleetTexts, writeFleetDir } from "../helpers";

/** The real data with one file's text replaced; messages name files relative to the temp dir. */
function broken(file: string, edit: (text: string) => string): string[] {
    const texts = realFleetTexts();
    texts[file] = edit(texts[file]);
    const dir = writeFleetDir(texts);
    return fleetErrors(() => loadFleet(dir)).map((m) => m.split(dir + path.sep).join(""));
}

describe("loading the fleet data", () => {
    it("loads the repository's data: 69 services, 9 families, 2 hosts", () => {
        const d = loadFleet();
        assert.strictEqual(Object.keys(d.services).length, 69);
        assert.strictEqual(Object.keys(d.families).length, 9);
        assert.deepStrictEqual(Object.keys(d.hosts), ["mainpc", "pc2"]);
    });

    const table: { what: string; file: string; edit: (t: string) => string; expected: string[] }[] = [
        {
            what: "a YAML syntax error, with its line",
            file: "hosts.yaml",
            edit: (t) => t.replace("  pc2:\n", "  pc2:\n   bad: [unclosed\n"),
            expected: ["hosts.yaml: line 38, column 10: YAML syntax error: Implicit keys of flow sequence pairs need to be on a single line. Fix: correct the YAML at that position"],
        },
        {
            what: "a key indented deeper than the one before, at its own line (not the line before, as 'quote the value')",
            file: "hosts.yaml",
            edit: (t) => t.replace("    cpus: 8\n", "      cpus: 8\n"),
            expected: ["hosts.yaml: line 39, column 7: YAML syntax error: `cpus` is indented 6 spaces, deeper than line 38 (4 spaces), so it is read as more of line 38's value, and a plain value cannot hold ': '. Fix: indent line 39 by 4 spaces, as line 38, if `cpus` is a key of the same mapping; if it belongs to line 38's value, quote that value"],
        },
        {
            what: "a duplicate service name",
            file: "services.yaml",
            edit: (t) => t.replace("  NLUAgent:\n", "  NLUAgent:\n    hosts: [mainpc]\n  NLUAgent:\n"),
            expected: ["services.yaml: line 184, column 3: the key 'NLUAgent' appears twice in the same mapping (a duplicate name). Fix: give every entry a unique name, or merge the two 'NLUAgent' entries"],
        },
        {
            what: "Compose-style ports: the shape the data wants",
            file: "services.yaml",
            edit: (t) => t.replace("{ service: 5709, health: 6709 }", '["5709:5709", "6709:6709"]'),
            expected: ["services.yaml: NLUAgent.ports: expected object, got a list. Fix: write a mapping of service, health, metrics here, e.g. ports: { service: <value>, health: <value> }"],
        },
        {
            what: "a memory limit written as Docker writes it: the unit is in the key's name, and the number it means",
            file: "families.yaml",
            edit: (t) => t.replace(/memoryMb: \d+/, 'memoryMb: "2g"'),
            expected: [`families.yaml: base-cpu-pydeps.runtime.memoryMb: expected number, got string '2g'. Fix: write a number of MB (the unit is in the key's name): memoryMb: 2048 for '2g'`],
        },
        {
            what: "a missing entrypoint",
            file: "services.yaml",
            edit: (t) => t.replace("    entrypoint: main_pc_code/agents/nlu_agent.py\n", ""),
            expected: ["services.yaml: NLUAgent.entrypoint: is missing (string expected). Fix: add it"],
        },
        {
            what: "a port out of range, and a privileged port",
            file: "services.yaml",
            edit: (t) => t.replace("{ service: 5709, health: 6709 }", "{ service: 70000, health: 80 }"),
            expected: [
                "services.yaml: NLUAgent.ports.service: 70000 is above the maximum 65535. Fix: use a value of at most 65535",
                "services.yaml: NLUAgent.ports.health: 80 is below the minimum 1024. Fix: use a value of at least 1024",
            ],
        },
        {
            what: "a misspelt key",
            file: "services.yaml",
            edit: (t) => t.replace("    family: legacy-py310-cpu\n    ports: { service: 5709", "    famly: legacy-py310-cpu\n    ports: { service: 5709"),
            expected: [
                "services.yaml: NLUAgent.family: is missing (string expected). Fix: add it",
                "services.yaml: NLUAgent.famly: is not a known key. Fix: rename it to family, or remove it",
            ],
        },
        {
            what: "an unpinned pip package and an unknown compute kind",
            file: "families.yaml",
            edit: (t) => t.replace('"gunicorn==22.0.0"', '"gunicorn>=22"'),
            expected: ["families.yaml: family-web.pip[2]: 'gunicorn>=22' must be pinned as name==version. Fix: correct the value's format"],
        },
        {
            what: "a wrong enum value",
            file: "services.yaml",
            edit: (t) => t.replace("    compute: gpu\n    traits: [llm]\n    family: family-llm-cu121\n    # 004 lists", "    compute: tpu\n    traits: [llm]\n    family: family-llm-cu121\n    # 004 lists"),
            expected: ["services.yaml: ModelOpsCoordinator.compute: 'tpu' is not one of 'cpu', 'gpu'. Fix: use one of the listed values"],
        },
    ];
    for (const row of table) {
        it(`reports ${row.what}`, () => {
            assert.deepStrictEqual(broken(row.file, row.edit), row.expected);
        });
    }

    /** The real data with edits to several files; messages name files relative to the temp dir. */
    function brokenFiles(edits: Record<string, (t: string) => string>): string[] {
        const texts = realFleetTexts();
        for (const [f, edit] of Object.entries(edits)) texts[f] = edit(texts[f]);
        const dir = writeFleetDir(texts);
        return fleetErrors(() => loadFleet(dir)).map((m) => m.split(dir + path.sep).join(""));
    }

    it("reports four mistakes in four places in one run: a schema error, a bad reference, a port collision, a bad `uses`", () => {
        assert.deepStrictEqual(brokenFiles({
            "services.yaml": (t) => t
                .replace("{ service: 5709, health: 6709 }", "{ service: 5709, health: 80 }")
                .replace("    family: base-cpu-pydeps\n    ports: { service: 5606", "    family: family-nope\n    ports: { service: 5606")
                .replace("{ service: 5713, health: 6713, metrics: [8080] }", "{ service: 5713, health: 6713, metrics: [7100] }"),
            "hosts.yaml": (t) => t.replace("mainpc: [ServiceRegistry, SystemDigitalTwin,", "mainpc: [ServiceRegistri, SystemDigitalTwin,"),
        }), [
            "services.yaml: NLUAgent.ports.health: 80 is below the minimum 1024. Fix: use a value of at least 1024",
            "hosts.yaml: pc2.uses.mainpc[0]: 'ServiceRegistri' is not a service of services.yaml; the closest on mainpc is ServiceRegistry. Fix: write ServiceRegistry",
            "services.yaml: Executor.family: 'family-nope' is not a family in families.yaml. Fix: use one of base-python, base-utils, base-cpu-pydeps, family-web, base-gpu-cu121, family-torch-cu121, family-llm-cu121, family-vision-cu121, legacy-py310-cpu",
            "services.yaml: TieredResponder.ports.service: 7100 is published on pc2 by both MemoryFusionHub.ports.metrics[0] and TieredResponder.ports.service. Fix: give one of them a free port; the next free port above it on pc2 is 7103",
        ]);
    });

    it("an entry that fails its schema is not echoed as a broken reference by the entries that name it", () => {
        // family-web (4 services use it) and ServiceRegistry (pc2 uses it) fail their schema.
        assert.deepStrictEqual(brokenFiles({
            "families.yaml": (t) => t.replace('"gunicorn==22.0.0"', '"gunicorn>=22"'),
            "services.yaml": (t) => t.replace("{ service: 7200, health: 8200 }", "{ service: 7200 }"),
        }), [
            "families.yaml: family-web.pip[2]: 'gunicorn>=22' must be pinned as name==version. Fix: correct the value's format",
            "services.yaml: ServiceRegistry.ports.health: is missing (number expected). Fix: add it",
        ]);
    });

    it("reports a missing file with the fix, together with the other files' problems", () => {
        const texts = realFleetTexts();
        delete texts["hosts.yaml"];
        texts["services.yaml"] = texts["services.yaml"].replace("{ service: 5709, health: 6709 }", "{ service: 5709, health: 99999 }");
        const dir = writeFleetDir(texts);
        const rel = (f: string) => path.relative(process.cwd(), path.join(dir, f));
        const shown = (f: string) => (rel(f).startsWith("..") ? path.join(dir, f) : rel(f));
        assert.deepStrictEqual(fleetErrors(() => loadFleet(dir)), [
            `${shown("hosts.yaml")}: file not found. Fix: create it, or point --fleet at a directory holding hosts.yaml, families.yaml and services.yaml`,
            `${shown("services.yaml")}: NLUAgent.ports.health: 99999 is above the maximum 65535. Fix: use a value of at most 65535`,
        ]);
        assert.ok(!fs.existsSync(path.join(dir, "hosts.yaml")));
    });
});
