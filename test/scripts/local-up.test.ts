/**
 * scripts/local-up, the README's main job, up to the Pulumi CLI: a stand-in `pulumi`
 * (test/fixtures/standin/pulumi.ts) records what the script hands the CLI and applies the CLI's
 * rules before a program runs; a stand-in `docker` answers or refuses `docker info`.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const STATE = path.join(ROOT, ".pulumi-state");

interface Call { argv: string[]; cwd: string; env: Record<string, string | null> }

function localUp(dockerAnswers: boolean, args: string[] = []): { code: number; out: string; err: string; calls: Call[] } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-local-up-"));
    const log = path.join(bin, "calls.jsonl");
    fs.writeFileSync(log, "");
    fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\nexec "${ROOT}/node_modules/.bin/ts-node" --transpile-only "${ROOT}/test/fixtures/standin/pulumi.ts" "$@"\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "docker"), dockerAnswers
        ? "#!/bin/sh\n[ \"$1\" = info ] && exit 0\nexit 2\n"
        : "#!/bin/sh\necho 'Client:' \necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n", { mode: 0o755 });
    const r = spawnSync("bash", [path.join(ROOT, "scripts", "local-up"), ...args], {
        encoding: "utf8", cwd: os.tmpdir(),
        env: { PATH: `${bin}:${path.join(ROOT, ".tools", "node", "node_modules", ".bin")}:/usr/bin:/bin`, HOME: bin, FLEET_STANDIN_LOG: log },
    });
    const calls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Call);
    return { code: r.status ?? -1, out: r.stdout.trim(), err: r.stderr.trim(), calls };
}

describe("scripts/local-up, up to the Pulumi CLI", () => {
    const hadState = fs.existsSync(STATE);
    after(() => {
        if (!hadState) fs.rmSync(STATE, { recursive: true, force: true });
    });

    it("file backend in .pulumi-state, an empty passphrase, the local stack selected, then up --stack local with the extra arguments", () => {
        const r = localUp(true, ["--yes", "--skip-preview"]);
        assert.strictEqual(r.code, 0, r.err);
        const env = { PULUMI_BACKEND_URL: `file://${ROOT}/.pulumi-state`, PULUMI_CONFIG_PASSPHRASE: "", PULUMI_ACCESS_TOKEN: null };
        assert.deepStrictEqual(r.calls, [
            { argv: ["stack", "select", "local", "--create"], cwd: ROOT, env },
            { argv: ["up", "--stack", "local", "--yes", "--skip-preview"], cwd: ROOT, env },
        ]);
        // The stand-in ran the CLI's config rules on Pulumi.yaml and Pulumi.local.yaml: they pass.
        assert.strictEqual(r.out, "stand-in: up of stack 'local' would run the program with 20 config keys");
        assert.match(r.err, /Pulumi\.local\.yaml: stack 'local' loads as `pulumi up` loads it/);
        assert.ok(fs.existsSync(path.join(STATE, ".pulumi", "stacks", "fleet", "local.json")));
    });

    it("no Docker engine: a clear message with the fix, and the CLI is never called", () => {
        const r = localUp(false);
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.err.split("\n").filter((l) => l.startsWith("local-up:")), [
            "local-up: no Docker engine answers at unix:///var/run/docker.sock: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
            "local-up: Fix: start dockerd (on Debian: bash scripts/engine-up.sh, or systemctl start docker) and run scripts/local-up again",
        ]);
        assert.deepStrictEqual(r.calls, []);
    });

    it("the stand-in applies the CLI's rules: no passphrase, no backend, an unknown stack", () => {
        const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-standin-")), "calls.jsonl");
        fs.writeFileSync(log, "");
        const standin = (args: string[], env: Record<string, string>) => spawnSync(path.join(ROOT, "node_modules", ".bin", "ts-node"), ["--transpile-only", path.join(ROOT, "test", "fixtures", "standin", "pulumi.ts"), ...args], {
            encoding: "utf8", cwd: ROOT, env: { PATH: process.env.PATH!, FLEET_STANDIN_LOG: log, ...env },
        });
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-standin-state-"));
        assert.deepStrictEqual([standin(["up", "--stack", "local"], { PULUMI_BACKEND_URL: `file://${dir}` }).stderr.trim()], ["error: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables"]);
        assert.deepStrictEqual([standin(["up", "--stack", "local"], { PULUMI_CONFIG_PASSPHRASE: "" }).stderr.trim()], ["error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions"]);
        assert.deepStrictEqual([standin(["up", "--stack", "local"], { PULUMI_BACKEND_URL: `file://${dir}`, PULUMI_CONFIG_PASSPHRASE: "" }).stderr.trim()], ["error: no stack named 'local' found"]);
    });

    it("the stand-in stops `up` where the CLI would: a stack missing a required key", () => {
        const project = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-standin-project-"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
        fs.writeFileSync(path.join(project, "Pulumi.local.yaml"), fs.readFileSync(path.join(ROOT, "Pulumi.local.yaml"), "utf8").replace("  fleet:portOffset: 0\n", ""));
        const env = { PATH: process.env.PATH!, FLEET_STANDIN_LOG: path.join(project, "calls.jsonl"), PULUMI_BACKEND_URL: `file://${project}`, PULUMI_CONFIG_PASSPHRASE: "" };
        const run = (args: string[]) => spawnSync(path.join(ROOT, "node_modules", ".bin", "ts-node"), ["--transpile-only", path.join(ROOT, "test", "fixtures", "standin", "pulumi.ts"), ...args], { encoding: "utf8", cwd: project, env });
        assert.strictEqual(run(["stack", "select", "local", "--create"]).status, 0);
        const up = run(["up", "--stack", "local"]);
        assert.deepStrictEqual([up.status, up.stderr.trim()], [255, "error: Stack 'local' is missing configuration value 'portOffset'"]);
    });
});
