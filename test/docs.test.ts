import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { DIAGRAM_FILE } from "../fleet/cli";
import { renderDiagrams } from "../fleet/render/diagram";
import { realFleet } from "./helpers";

describe("generated diagrams", () => {
    it(`${DIAGRAM_FILE} is what the data gives (npm run fleet -- diagram rewrites it)`, () => {
        const committed = fs.readFileSync(path.join(__dirname, "..", DIAGRAM_FILE), "utf8");
        assert.strictEqual(committed, renderDiagrams(realFleet()), `${DIAGRAM_FILE} is out of date: run npm run fleet -- diagram`);
    });

    it("changes when the data changes, so a stale file is caught", () => {
        const f = realFleet();
        f.services.Executor.hosts = ["pc2"];
        assert.notStrictEqual(renderDiagrams(f), renderDiagrams(realFleet()));
    });

    it("draws every family and every service on each of its hosts", () => {
        const d = realFleet();
        const text = renderDiagrams(d);
        for (const f of Object.keys(d.families)) assert.ok(text.includes(`["${f}`), f);
        for (const [name, s] of Object.entries(d.services)) {
            const mentions = text.split(/<br\/>|"/).filter((t) => t.replace(/ \((gated|off)\)$/, "") === name).length;
            assert.strictEqual(mentions, s.hosts.length, name);
        }
    });
});
