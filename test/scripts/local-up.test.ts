/**
 * scripts/local-up, the README's main job, up to the Pulumi CLI: a stand-in `pulumi`
 * (test/fixtures/standin/pulumi.ts) records what the script hands the CLI and applies the CLI's
 * rules before a program runs; a stand-in `docker` answers or refuses `docker info`; stand-ins
 * for apt-get, id and scripts/engine-up.sh (FLEET_ENGINE_UP) record what the set-up would do,
 * and the real ones never run. The machine's own commands are linked in without the ones a
 * test says are missing.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { OS_RELEASE, systemWithout } from "./standins";

const ROOT = path.join(__dirname, "..", "..");
const STATE = path.join(ROOT, ".pulumi-state");

interface Call { argv: string[]; cwd: string; env: Record<string, string | null> }

interface Machine {
    /** The engine: answers, installed but not answering, or no docker command. */
    docker: "answers" | "refuses" | "missing";
    os?: keyof typeof OS_RELEASE;
    /** Run as root (the default) or as uid 1000. */
    root?: boolean;
    /** Commands of this machine the test removes (npm, curl). */
    without?: string[];
    /** What the stand-in engine-up.sh does: start an engine, or fail as an apt-get failure would. */
    engineUp?: "starts" | "fails";
    /** The Pulumi CLI (a stand-in) is installed; the default. */
    pulumi?: boolean;
}

const sh = (file: string, text: string) => fs.writeFileSync(file, `#!/bin/sh\n${text}\n`, { mode: 0o755 });

/** Runs scripts/local-up on `m`; `steps` are the set-up's stand-ins' records (apt-get, engine-up). */
function localUp(m: Machine, args: string[] = []): { code: number; out: string; err: string; calls: Call[]; steps: string[] } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-local-up-"));
    const [log, steps, running] = ["calls.jsonl", "steps", "running"].map((f) => path.join(bin, f));
    fs.writeFileSync(log, "");
    fs.writeFileSync(steps, "");
    if (m.pulumi !== false) sh(path.join(bin, "pulumi"), `exec "${ROOT}/node_modules/.bin/ts-node" --transpile-only "${ROOT}/test/fixtures/standin/pulumi.ts" "$@"`);
    // The engine answers once `running` exists; installing the engine installs this docker.
    sh(path.join(bin, "docker.standin"), [
        `[ -f "${running}" ] && [ "$1" = info ] && exit 0`,
        "echo 'Client:'", "echo 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2", "exit 1",
    ].join("\n"));
    if (m.docker !== "missing") fs.copyFileSync(path.join(bin, "docker.standin"), path.join(bin, "docker"));
    if (m.docker === "answers") fs.writeFileSync(running, "");
    // Installing npm links the machine's own.
    sh(path.join(bin, "apt-get"), `echo "apt-get $*" >> "${steps}"\nfor a in "$@"; do [ "$a" = npm ] && ln -s /usr/bin/npm "${bin}/npm"; done\nexit 0`);
    if (m.root === false) sh(path.join(bin, "id"), "echo 1000");
    const engineUp = path.join(bin, "engine-up.sh");
    sh(engineUp, [`echo "engine-up FLEET_ENGINE_ONLY=$FLEET_ENGINE_ONLY" >> "${steps}"`, ...(m.engineUp === "fails"
        ? ["echo 'E: Unable to locate package docker.io' >&2", "exit 1"]
        : [`[ -x "${bin}/docker" ] || cp "${bin}/docker.standin" "${bin}/docker"`, `touch "${running}"`])].join("\n"));
    const osRelease = path.join(bin, "os-release");
    fs.writeFileSync(osRelease, OS_RELEASE[m.os ?? "debian12"]);
    const system = systemWithout(["docker", ...(m.without ?? [])]);
    const r = spawnSync("/bin/bash", [path.join(ROOT, "scripts", "local-up"), ...args], {
        encoding: "utf8", cwd: os.tmpdir(),
        env: { PATH: `${bin}:${path.join(ROOT, ".tools", "node", "node_modules", ".bin")}:${system}`, HOME: bin, FLEET_STANDIN_LOG: log, FLEET_ENGINE_UP: engineUp, FLEET_OS_RELEASE: osRelease },
    });
    const calls = fs.readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Call);
    return { code: r.status ?? -1, out: r.stdout.trim(), err: r.stderr.trim(), calls, steps: fs.readFileSync(steps, "utf8").split("\n").filter(Boolean) };
}

const said = (err: string) => err.split("\n").filter((l) => l.startsWith("local-up:"));

describe("scripts/local-up, up to the Pulumi CLI", () => {
    const hadState = fs.existsSync(STATE);
    after(() => {
        if (!hadState) fs.rmSync(STATE, { recursive: true, force: true });
    });

    it("file backend in .pulumi-state, an empty passphrase, the local stack selected, then up --stack local with the extra arguments", () => {
        const r = localUp({ docker: "answers" }, ["--yes", "--skip-preview"]);
        assert.strictEqual(r.code, 0, r.err);
        const env = { PULUMI_BACKEND_URL: `file://${ROOT}/.pulumi-state`, PULUMI_CONFIG_PASSPHRASE: "", PULUMI_ACCESS_TOKEN: null, BUILDX_NO_DEFAULT_ATTESTATIONS: "1" };
        assert.deepStrictEqual(r.calls, [
            { argv: ["stack", "select", "local", "--create"], cwd: ROOT, env },
            { argv: ["up", "--stack", "local", "--yes", "--skip-preview"], cwd: ROOT, env },
        ]);
        // The stand-in ran the CLI's config rules on Pulumi.yaml and Pulumi.local.yaml: they pass.
        assert.strictEqual(r.out, "stand-in: up of stack 'local' would run the program with 21 config keys");
        assert.match(r.err, /Pulumi\.local\.yaml: stack 'local' loads as `pulumi up` loads it/);
        assert.ok(fs.existsSync(path.join(STATE, ".pulumi", "stacks", "fleet", "local.json")));
    });

    it("a fresh Debian 12 machine as root: npm from apt, the engine set up as .ci/run does (the engine alone), then up", () => {
        const r = localUp({ docker: "missing", without: ["npm"] }, ["--yes"]);
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(r.steps, ["apt-get update -qq", "apt-get install -y -qq npm ca-certificates", "engine-up FLEET_ENGINE_ONLY=1"]);
        assert.deepStrictEqual(said(r.err), [
            "local-up: installing npm with apt-get (missing here)",
            "local-up: the docker command is missing",
            "local-up: setting up the engine as .ci/run does: FLEET_ENGINE_ONLY=1 bash scripts/engine-up.sh (Docker 26 and dockerd)",
            "local-up: the engine answers; bash scripts/engine-down.sh stops the dockerd it started",
        ]);
        assert.deepStrictEqual(r.calls.map((c) => c.argv), [["stack", "select", "local", "--create"], ["up", "--stack", "local", "--yes"]]);
    });

    it("Debian as root, an engine that does not answer: engine-up.sh runs; when it fails, the fix, and the CLI is never called", () => {
        const r = localUp({ docker: "refuses", engineUp: "fails" });
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(r.steps, ["engine-up FLEET_ENGINE_ONLY=1"]);
        assert.deepStrictEqual(said(r.err), [
            "local-up: no Docker engine answers at unix:///var/run/docker.sock: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
            "local-up: setting up the engine as .ci/run does: FLEET_ENGINE_ONLY=1 bash scripts/engine-up.sh (Docker 26 and dockerd)",
            "local-up: the engine set-up failed (see above). Fix: correct what it names, or install Docker Engine 25 or newer with its buildx plugin and start it; then run scripts/local-up again",
        ]);
        assert.ok(r.err.includes("E: Unable to locate package docker.io"));
        assert.deepStrictEqual(r.calls, []);
    });

    it("Debian, not root: no engine, and the fix says to run it as root or what to install; nothing is installed or run", () => {
        const r = localUp({ docker: "refuses", root: false });
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(said(r.err), [
            "local-up: no Docker engine answers at unix:///var/run/docker.sock: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
            "local-up: Fix: run it as root (sudo scripts/local-up), which installs what is missing by itself on Debian 12 or 13, or install Docker Engine 25 or newer with its buildx plugin (https://docs.docker.com/engine/install/), start it, and run scripts/local-up again",
        ]);
        assert.deepStrictEqual([r.steps, r.calls], [[], []]);
    });

    it("not Debian, as root: exactly what to install; nothing is installed or run", () => {
        const r = localUp({ docker: "missing", os: "fedora" });
        assert.strictEqual(r.code, 1);
        assert.deepStrictEqual(said(r.err), [
            "local-up: the docker command is missing",
            "local-up: Fix: install Docker Engine 25 or newer with its buildx plugin (https://docs.docker.com/engine/install/), start it, and run scripts/local-up again (local-up installs what is missing by itself only on Debian 12 or 13 as root; this is Fedora Linux 40 (Workstation Edition))",
        ]);
        assert.deepStrictEqual([r.steps, r.calls], [[], []]);
    });

    it("an older Debian without npm, curl or the Pulumi CLI: what to install, before anything else", () => {
        const r = localUp({ docker: "missing", os: "debian11", without: ["npm", "curl"], pulumi: false });
        assert.deepStrictEqual([r.code, said(r.err)], [1, [
            "local-up: missing: npm curl. Fix: install Node.js with npm (any version) and curl, then run scripts/local-up again (local-up installs what is missing by itself only on Debian 12 or 13 as root; this is Debian GNU/Linux 11 (bullseye))",
        ]]);
        assert.deepStrictEqual(r.steps, []);
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
