/**
 * A host's SBOM index (fleet/security/sbomIndex.ts) and what `publish-sboms` reads before it
 * writes (fleet/ops/sbomPublish.ts). The write through the host's engine, and the containers'
 * start reports carrying the digest, run on the engine (test/engine/suite/sbom.ts).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { findCommand, commandHelp } from "../../fleet/ops/help";
import { readPublishedSboms } from "../../fleet/ops/sbomPublish";
import { renderSbom, sbomDigest } from "../../fleet/security/sbom";
import { emptySbomIndex, mergeSbomIndex, parseSbomIndex, renderSbomIndex, SbomIndex } from "../../fleet/security/sbomIndex";
import { runFleetAsync } from "./ops/project";

const D = (c: string) => `sha256:${c.repeat(64)}`;
const NOW = new Date("2026-12-07T10:00:00.123Z");
const GENERATOR = { name: "fleet sbom", version: "0.1.0" };

describe("a host's SBOM index: merged, aged, written", () => {
    const old: SbomIndex = {
        fleetSbomIndex: 1,
        images: {
            [D("a")]: { image: "ghcr.io/ai-system/executor", sbomDigest: D("1"), publishedAt: "2026-12-01T08:00:00Z" },
            [D("b")]: { image: "ghcr.io/ai-system/responder", sbomDigest: D("2"), publishedAt: "2026-06-09T09:59:59Z" },
            [D("c")]: { image: "ghcr.io/ai-system/nlu-agent", sbomDigest: D("3"), publishedAt: "2026-06-01T00:00:00Z" },
        },
    };
    const rows: [string, Parameters<typeof mergeSbomIndex>[1], { added: string[]; updated: string[]; dropped: string[]; images: string[] }][] = [
        ["nothing published: only what is older than 180 days goes", [], { added: [], updated: [], dropped: [D("b"), D("c")], images: [D("a")] }],
        ["a new image is added; one published again keeps its place and gets the new time", [
            { imageDigest: D("d"), image: "ghcr.io/ai-system/tts", sbomDigest: D("4") },
            { imageDigest: D("a"), image: "ghcr.io/ai-system/executor", sbomDigest: D("1") },
        ], { added: [D("d")], updated: [D("a")], dropped: [D("b"), D("c")], images: [D("a"), D("d")] }],
        ["an old entry published again is not dropped", [{ imageDigest: D("c"), image: "ghcr.io/ai-system/nlu-agent", sbomDigest: D("5") }],
            { added: [], updated: [D("c")], dropped: [D("b")], images: [D("a"), D("c")] }],
    ];
    for (const [name, published, want] of rows) {
        it(name, () => {
            const m = mergeSbomIndex(old, published, NOW);
            assert.deepStrictEqual({ added: m.added, updated: m.updated, dropped: m.dropped, images: Object.keys(m.index.images) }, want);
            for (const p of published) assert.deepStrictEqual(m.index.images[p.imageDigest], { image: p.image, sbomDigest: p.sbomDigest, publishedAt: "2026-12-07T10:00:00Z" });
        });
    }

    it("the kept days are a parameter: 0 keeps only what is published now", () => {
        const m = mergeSbomIndex(old, [{ imageDigest: D("e"), image: "x", sbomDigest: D("6") }], NOW, 0);
        assert.deepStrictEqual(Object.keys(m.index.images), [D("e")]);
    });

    it("writes the same bytes for the same index, whatever the order it was built in, and reads them back", () => {
        const a = mergeSbomIndex(emptySbomIndex(), [{ imageDigest: D("f"), image: "f", sbomDigest: D("7") }, { imageDigest: D("e"), image: "e", sbomDigest: D("6") }], NOW);
        const b = mergeSbomIndex(emptySbomIndex(), [{ imageDigest: D("e"), image: "e", sbomDigest: D("6") }, { imageDigest: D("f"), image: "f", sbomDigest: D("7") }], NOW);
        assert.strictEqual(renderSbomIndex(a.index), renderSbomIndex(b.index));
        assert.strictEqual(renderSbomIndex(a.index), [
            "{",
            ' "fleetSbomIndex": 1,',
            ' "images": {',
            `  "${D("e")}": {`,
            '   "image": "e",',
            `   "sbomDigest": "${D("6")}",`,
            '   "publishedAt": "2026-12-07T10:00:00Z"',
            "  },",
            `  "${D("f")}": {`,
            '   "image": "f",',
            `   "sbomDigest": "${D("7")}",`,
            '   "publishedAt": "2026-12-07T10:00:00Z"',
            "  }",
            " }",
            "}",
            "",
        ].join("\n"));
        assert.deepStrictEqual(parseSbomIndex(renderSbomIndex(a.index)), a.index);
    });

    const unreadable: [string, string, string][] = [
        ["cut short by an interrupted write", '{"fleetSbomIndex": 1, "ima', "not JSON (Unterminated string in JSON at position 26 (line 1 column 27))"],
        ["another format", '{"fleetSbomIndex": 2, "images": {}}', "not a fleet SBOM index of format 1"],
        ["an entry without its SBOM digest", `{"fleetSbomIndex": 1, "images": {"${D("a")}": {"image": "x", "publishedAt": "2026-12-07T10:00:00Z"}}}`, `its entry ${D("a")} is not {image, sbomDigest, publishedAt}`],
        ["a key that is not a digest", '{"fleetSbomIndex": 1, "images": {"latest": {"image": "x", "sbomDigest": "y", "publishedAt": "z"}}}', "its entry latest is not {image, sbomDigest, publishedAt}"],
    ];
    for (const [name, text, why] of unreadable) {
        it(`an index that is ${name} is unreadable, with why`, () => {
            assert.deepStrictEqual(parseSbomIndex(text), { unreadable: why });
        });
    }
});

describe("publish-sboms: the SBOMs are all read and checked before anything is written", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-publish-"));
    const sbomOf = (repository: string, digest: string, python: { name: string; version: string; location: string }[] = []) =>
        renderSbom({ repository, digest }, { deb: [], python }, GENERATOR);
    const write = (sub: string, files: Record<string, string>): string => {
        const d = path.join(dir, sub);
        fs.mkdirSync(d, { recursive: true });
        for (const [f, t] of Object.entries(files)) fs.writeFileSync(path.join(d, f), t);
        return d;
    };

    it("each SBOM's subject digest and its own digest, once per image", () => {
        const executor = sbomOf("ghcr.io/ai-system/executor", D("a"));
        const d = write("good", { "executor.cdx.json": executor, "executor-copy.cdx.json": executor, "notes.txt": "not an SBOM" });
        assert.deepStrictEqual(readPublishedSboms(d), { sboms: [{ imageDigest: D("a"), image: "ghcr.io/ai-system/executor", sbomDigest: sbomDigest(executor) }], problems: [] });
    });

    it("names every bad file at once: unreadable, of an image id, another SBOM of the same image; a missing or empty directory", () => {
        const d = write("bad", {
            "a.cdx.json": sbomOf("ghcr.io/ai-system/executor", D("a")),
            "b.cdx.json": sbomOf("ghcr.io/ai-system/executor", D("a"), [{ name: "certifi", version: "2024.2.2", location: "/opt/venv/lib/python3.11/site-packages" }]),
            "c.cdx.json": "{",
            "d.cdx.json": sbomOf("fleet-test/executor", "latest"),
        });
        const r = readPublishedSboms(d);
        assert.deepStrictEqual(r.problems.map((p) => `${p.file}: ${p.path}: ${p.message}`), [
            `${d}/b.cdx.json: : is another SBOM of ghcr.io/ai-system/executor@${D("a")}, which ${d}/a.cdx.json describes`,
            `${d}/c.cdx.json: : is not an SBOM scripts/fleet sbom wrote: Expected property name or '}' in JSON at position 1 (line 1 column 2)`,
            `${d}/d.cdx.json: metadata.component.version: is "latest", not the image's digest (sha256:<64 hex>)`,
        ]);
        assert.deepStrictEqual(readPublishedSboms(path.join(dir, "none")).problems.map((p) => p.message), ["does not exist"]);
        assert.deepStrictEqual(readPublishedSboms(write("empty", {})).problems.map((p) => [p.message, p.fix]), [["holds no <name>.cdx.json", `make them: scripts/fleet sbom <refs file> --out ${dir}/empty`]]);
    });

    it("the command: its usage without the directory; bad SBOMs refused with their files and no docker call", async () => {
        const usage = await runFleetAsync(["publish-sboms", "mainpc"]);
        assert.deepStrictEqual([usage.code, usage.out], [2, []]);
        assert.deepStrictEqual(usage.err, [["fleet: publish-sboms needs the stack and the SBOM directory, e.g. publish-sboms mainpc sboms", "", ...commandHelp(findCommand("publish-sboms")!)].join("\n")]);
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-publish-bin-"));
        const called = path.join(bin, "called");
        fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\necho "$@" >> ${called}\nexit 99\n`, { mode: 0o755 });
        const saved = process.env.PATH;
        process.env.PATH = `${bin}:${saved}`;
        try {
            const d = write("one-bad", { "c.cdx.json": "{" });
            const r = await runFleetAsync(["publish-sboms", "mainpc", d]);
            assert.deepStrictEqual(r, { code: 1, out: [], err: [`1 problem in the SBOMs:\n  - ${d}/c.cdx.json: is not an SBOM scripts/fleet sbom wrote: Expected property name or '}' in JSON at position 1 (line 1 column 2). Fix: make it again: scripts/fleet sbom <refs file> --out ${d}`] });
            assert.ok(!fs.existsSync(called), "no docker command ran");
        } finally {
            process.env.PATH = saved;
        }
    });
});
