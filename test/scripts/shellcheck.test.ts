/**
 * Every shell script the repository ships: a shebang, strict mode, and a clean `shellcheck`
 * (Debian's package; .ci/run installs it). Scripts are found by their shebang, not by a list,
 * so a new script cannot slip past.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

/** Tracked files whose first line names a POSIX shell or bash, or ending in .sh. */
export function shellScripts(): string[] {
    const files = spawnSync("git", ["ls-files", "-z"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\0").filter(Boolean);
    return files.filter((f) => {
        const abs = path.join(ROOT, f);
        if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) return false;
        if (f.endsWith(".sh")) return true;
        const first = fs.readFileSync(abs, "utf8").split("\n", 1)[0];
        return /^#!.*\b(ba)?sh\b/.test(first);
    }).sort();
}

describe("shell scripts", () => {
    const scripts = shellScripts();

    it("are found (the repository ships its CI entry point and scripts/)", () => {
        assert.ok(scripts.includes(".ci/run"), scripts.join(", "));
        assert.ok(scripts.includes("scripts/engine-up.sh"), scripts.join(", "));
    });

    it("start with a bash shebang and set -euo pipefail", () => {
        const bad = scripts.filter((f) => {
            const text = fs.readFileSync(path.join(ROOT, f), "utf8");
            return !text.startsWith("#!/usr/bin/env bash\n") || !/^set -euo pipefail$/m.test(text);
        });
        assert.deepStrictEqual(bad, []);
    });

    it("pass shellcheck", () => {
        const version = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });
        assert.strictEqual(version.status, 0, "shellcheck is missing: apt-get install shellcheck (.ci/run installs it)");
        const r = spawnSync("shellcheck", ["-x", "--format", "gcc", ...scripts], { cwd: ROOT, encoding: "utf8" });
        assert.strictEqual(r.stdout + r.stderr, "");
        assert.strictEqual(r.status, 0);
    });
});
