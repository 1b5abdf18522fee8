/**
 * scripts/engine-up.sh and engine-down.sh with stand-ins for dpkg-query, apt-get, debootstrap,
 * docker, dockerd and the base-image script: the real engine and the machine's apt and Docker
 * configuration are never touched. The stand-in dockerd runs as a process named dockerd (its
 * file name), answers through the stand-in docker with the docker.io version installed when it
 * started, and stops on SIGTERM. Like dockerd (moby v26.1.5 daemon/nvidia_linux.go), it looks
 * nvidia-container-runtime-hook up on its PATH when it starts; the stand-in docker then serves a
 * GPU request by running that hook as runc would (`prestart`, the OCI state on standard input,
 * NVIDIA_VISIBLE_DEVICES in the bundle's config.json), and without it answers Docker's error.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { systemWithout } from "./standins";

const ROOT = path.resolve(__dirname, "..", "..");
const UP = path.join(ROOT, "scripts", "engine-up.sh");
const DOWN = path.join(ROOT, "scripts", "engine-down.sh");
const DOCKER = "26.1.5+dfsg1-9+deb13u1+b1";
const WANTED = [`docker.io=${DOCKER}`, `docker-cli=${DOCKER}`, "docker-buildx=0.13.1+ds1-3", "docker-compose=2.26.1-4"];

interface Machine { dir: string; fake: string; etc: string; pidFile: string; env: NodeJS.ProcessEnv }

/**
 * `docker run --rm --gpus '"device=<ids>"' ...` on the stand-in engine: Docker's error without the
 * device driver (docker/cli v26.1.5 run.go `reportError`, exit 125), else the hook as runc runs it.
 */
const GPU_RUN = (fake: string) => [
    'ids=""; prev=""; for a in "$@"; do [ "$prev" = --gpus ] && ids="${a//\\"/}"; prev="$a"; done; ids="${ids#device=}"',
    `if [ ! -s "${fake}/hook" ]; then echo "gpu container: no device driver" >> "${fake}/log"; echo 'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].' >&2; exit 125; fi`,
    `b="$(mktemp -d)"; printf '{"process": {"env": ["PATH=/usr/bin", "NVIDIA_VISIBLE_DEVICES=%s"]}}' "$ids" > "$b/config.json"`,
    `printf '{"ociVersion": "1.0.2", "id": "probe", "status": "creating", "pid": 4242, "bundle": "%s"}' "$b" | "$(cat "${fake}/hook")" prestart`,
    `echo "gpu container: started ($*)" >> "${fake}/log"`,
].join("; ");

function script(file: string, text: string): void {
    fs.writeFileSync(file, `#!/bin/bash\n${text}\n`, { mode: 0o755 });
}

/**
 * A machine with `installed` packages (name -> version) and, optionally, an engine already
 * answering; `without` are commands it lacks (PATH links the machine's own but those).
 */
function machine(installed: Record<string, string>, running?: string, without: string[] = []): Machine {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-engine-up-"));
    const [fake, bin, etc] = ["fake", "bin", "etc"].map((d) => path.join(dir, d));
    for (const d of [path.join(fake, "installed"), bin, path.join(etc, "apt", "sources.list.d"), path.join(etc, "apt", "preferences.d")]) fs.mkdirSync(d, { recursive: true });
    for (const [name, version] of Object.entries(installed)) fs.writeFileSync(path.join(fake, "installed", name), version);
    if (running) fs.writeFileSync(path.join(fake, "running"), running);
    script(path.join(bin, "dpkg-query"), `f="${fake}/installed/\${!#}"; [ -f "$f" ] && cat "$f"`);
    script(path.join(bin, "apt-get"), [
        `echo "apt-get $*" >> "${fake}/log"`,
        'for a in "$@"; do case "$a" in *=*) echo -n "${a#*=}" > "' + fake + '/installed/${a%%=*}" ;; esac; done',
    ].join("\n"));
    if (!without.includes("debootstrap")) script(path.join(bin, "debootstrap"), "exit 0");
    script(path.join(bin, "docker"), [
        `[ -f "${fake}/running" ] || { echo "Cannot connect to the Docker daemon" >&2; exit 1; }`,
        `case "$1" in version) cut -d+ -f1 "${fake}/running" ;; info) echo ok ;; run) ${GPU_RUN(fake)} ;; esac`,
    ].join("\n"));
    script(path.join(bin, "dockerd"), [
        `echo "dockerd started" >> "${fake}/log"`,
        `command -v nvidia-container-runtime-hook > "${fake}/hook" || : > "${fake}/hook"`,
        `trap 'rm -f "${fake}/running"; echo "dockerd stopped" >> "${fake}/log"; exit 0' TERM`,
        `cat "${fake}/installed/docker.io" > "${fake}/running"`,
        "while true; do sleep 0.1; done",
    ].join("\n"));
    script(path.join(bin, "make-base-images.sh"), `echo "base images" >> "${fake}/log"`);
    const pidFile = path.join(dir, "dockerd.pid");
    const env = {
        PATH: `${bin}:${without.length ? systemWithout(without) : "/usr/bin:/bin"}`, FLEET_DOCKER: path.join(bin, "docker"), FLEET_DOCKERD: path.join(bin, "dockerd"), FLEET_ETC: etc,
        FLEET_BASE_IMAGES: path.join(bin, "make-base-images.sh"), FLEET_DOCKERD_PID_FILE: pidFile, FLEET_DOCKERD_LOG: path.join(dir, "dockerd.log"),
    };
    return { dir, fake, etc, pidFile, env };
}

function run(m: Machine, file: string): { code: number; err: string; log: string[] } {
    const r = spawnSync("bash", [file], { encoding: "utf8", env: m.env, timeout: 30000 });
    const logFile = path.join(m.fake, "log");
    return { code: r.status ?? -1, err: r.stderr.trim(), log: fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").trim().split("\n") : [] };
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const installed = (m: Machine, name: string) => fs.readFileSync(path.join(m.fake, "installed", name), "utf8");

/** Stops a stand-in dockerd a test started (by its pid file), so no process outlives the test. */
function stopStandIn(m: Machine): void {
    if (fs.existsSync(m.pidFile)) {
        const pid = Number(fs.readFileSync(m.pidFile, "utf8"));
        if (alive(pid)) process.kill(pid, "SIGTERM");
    }
}

describe("engine-up.sh and engine-down.sh (stand-ins, no real engine)", () => {
    const machines: Machine[] = [];
    const fresh = (inst: Record<string, string>, running?: string, without?: string[]) => { const m = machine(inst, running, without); machines.push(m); return m; };
    after(() => machines.forEach(stopStandIn));

    it("a fresh machine: the pinned packages from trixie at exact versions, the containerd image store, dockerd started and its pid kept", () => {
        const m = fresh({});
        const r = run(m, UP);
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(r.log, ["apt-get update -qq", `apt-get install -y -qq --allow-downgrades ${WANTED.join(" ")}`, "dockerd started", "base images"]);
        assert.strictEqual(fs.readFileSync(path.join(m.etc, "apt", "preferences.d", "fleet-trixie"), "utf8"), "Package: *\nPin: release n=trixie\nPin-Priority: 100\n");
        assert.match(fs.readFileSync(path.join(m.etc, "apt", "sources.list.d", "fleet-trixie.sources"), "utf8"), /^Suites: trixie$/m);
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(m.etc, "docker", "daemon.json"), "utf8")), { features: { "containerd-snapshotter": true } });
        const pid = Number(fs.readFileSync(m.pidFile, "utf8"));
        assert.ok(alive(pid));
        assert.strictEqual(fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim(), "dockerd");
        assert.strictEqual(installed(m, "docker.io"), DOCKER);
        // engine-down stops exactly that one.
        const down = run(m, DOWN);
        assert.strictEqual(down.code, 0, down.err);
        assert.ok(!alive(pid));
        assert.ok(!fs.existsSync(m.pidFile));
        assert.strictEqual(down.log[down.log.length - 1], "dockerd stopped");
    });

    it("FLEET_ENGINE_ONLY=1 (scripts/local-up): the engine alone, without the engine tests' tools and base image", () => {
        const tools = ["debootstrap", "python3", "docker-registry", "htpasswd"];
        const all = fresh({}, undefined, tools);
        const r = run(all, UP);
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(r.log, ["apt-get update -qq", `apt-get install -y -qq --allow-downgrades ${WANTED.join(" ")} debootstrap python3 docker-registry apache2-utils`, "dockerd started", "base images"]);
        const m = fresh({}, undefined, tools);
        m.env.FLEET_ENGINE_ONLY = "1";
        const only = run(m, UP);
        assert.strictEqual(only.code, 0, only.err);
        assert.deepStrictEqual(only.log, ["apt-get update -qq", `apt-get install -y -qq --allow-downgrades ${WANTED.join(" ")}`, "dockerd started"]);
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(m.etc, "docker", "daemon.json"), "utf8")), { features: { "containerd-snapshotter": true } });
    });

    it("everything in place and an engine answering: nothing installed, nothing started", () => {
        const m = fresh({ "docker.io": DOCKER, "docker-cli": DOCKER, "docker-buildx": "0.13.1+ds1-3", "docker-compose": "2.26.1-4" }, DOCKER);
        const r = run(m, UP);
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(r.log, ["base images"]);
        assert.ok(!fs.existsSync(m.pidFile));
    });

    it("an older engine it started: the packages are upgraded and its own dockerd is restarted on them", () => {
        const m = fresh({ "docker.io": "20.10.24+dfsg1-1+deb12u1", "docker-cli": "20.10.24+dfsg1-1+deb12u1" });
        // engine-up started the old engine earlier (its pid file).
        // Started in the background of a shell that exits, as engine-up did: init reaps it.
        const oldPid = Number(spawnSync("bash", ["-c", `nohup "${m.env.FLEET_DOCKERD}" >/dev/null 2>&1 & echo $!`], { env: m.env, encoding: "utf8" }).stdout.trim());
        fs.writeFileSync(m.pidFile, String(oldPid));
        for (let i = 0; i < 50 && !fs.existsSync(path.join(m.fake, "running")); i++) spawnSync("sleep", ["0.1"]);
        const r = run(m, UP);
        assert.strictEqual(r.code, 0, r.err);
        assert.deepStrictEqual(r.log, [
            "dockerd started", "apt-get update -qq", `apt-get install -y -qq --allow-downgrades ${WANTED.join(" ")}`,
            "dockerd stopped", "dockerd started", "base images",
        ]);
        assert.ok(!alive(oldPid), "the old dockerd it had started is stopped");
        assert.strictEqual(fs.readFileSync(path.join(m.fake, "running"), "utf8"), DOCKER);
        assert.match(r.err, /engine-up: stopping the dockerd engine-up started \(pid \d+\) to run the upgraded engine/);
    });

    it("an older engine it did not start: packages upgraded, the daemon left running, the fix named", () => {
        const m = fresh({ "docker.io": "20.10.24+dfsg1-1+deb12u1" }, "20.10.24+dfsg1-1+deb12u1");
        // A pid file left behind whose pid is now another process: never signalled.
        const other = spawn("sleep", ["30"], { stdio: "ignore" });
        fs.writeFileSync(m.pidFile, String(other.pid));
        try {
            const r = run(m, UP);
            assert.strictEqual(r.code, 1);
            assert.strictEqual(r.err.split("\n").pop(), "engine-up: the running engine is Docker 20, older than 25, and engine-up did not start it, so it is left running; the packages are upgraded. Fix: restart it on the new packages (systemctl restart docker, or stop it and run scripts/engine-up.sh again)");
            assert.deepStrictEqual(r.log, ["apt-get update -qq", `apt-get install -y -qq --allow-downgrades ${WANTED.join(" ")}`]);
            assert.ok(fs.existsSync(path.join(m.fake, "running")), "the foreign daemon still runs");
            assert.ok(alive(other.pid!), "the process behind the stale pid file is untouched");
            // engine-down does not stop it either.
            const down = run(m, DOWN);
            assert.strictEqual(down.code, 0);
            assert.ok(alive(other.pid!));
        } finally {
            other.kill();
        }
    });

    it("a daemon.json without the containerd image store is not rewritten: the script stops and says what to add", () => {
        const m = fresh({}, DOCKER);
        fs.mkdirSync(path.join(m.etc, "docker"));
        fs.writeFileSync(path.join(m.etc, "docker", "daemon.json"), '{ "log-driver": "local" }\n');
        const r = run(m, UP);
        assert.strictEqual(r.code, 1);
        assert.strictEqual(r.err.split("\n").pop(), `engine-up: ${m.etc}/docker/daemon.json exists without the containerd image store; add "features": {"containerd-snapshotter": true} to it and restart dockerd`);
        assert.strictEqual(fs.readFileSync(path.join(m.etc, "docker", "daemon.json"), "utf8"), '{ "log-driver": "local" }\n');
    });

    describe("FLEET_NVIDIA_STANDIN=1 (.ci/run): the NVIDIA device path without a GPU", () => {
        const INSTALLED = { "docker.io": DOCKER, "docker-cli": DOCKER, "docker-buildx": "0.13.1+ds1-3", "docker-compose": "2.26.1-4" };
        const GPU_RUN_ARGS = 'run --rm --gpus "device=0" --entrypoint /bin/true fleet-test/bookworm-python:slim';
        const standIn = (m: Machine) => {
            m.env.FLEET_NVIDIA_STANDIN = "1";
            m.env.FLEET_NVIDIA_STANDIN_DIR = path.join(m.dir, "nvidia");
            return path.join(m.dir, "nvidia");
        };
        const calls = (dir: string) => fs.readFileSync(path.join(dir, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
        const pathOf = (pid: number) => fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((e) => e.startsWith("PATH="))!;

        it("first start: the stand-ins in their own directory, first on the PATH of the dockerd it starts; one GPU request reaches the hook", () => {
            const m = fresh({});
            const dir = standIn(m);
            const r = run(m, UP);
            assert.strictEqual(r.code, 0, r.err);
            assert.deepStrictEqual(r.log.slice(2), ["dockerd started", "base images", `gpu container: started (${GPU_RUN_ARGS})`]);
            for (const f of ["nvidia-container-runtime-hook", "nvidia-smi"]) {
                assert.strictEqual(fs.readFileSync(path.join(dir, "bin", f), "utf8"), fs.readFileSync(path.join(ROOT, "scripts", "nvidia-standin", f), "utf8"));
                assert.strictEqual(fs.statSync(path.join(dir, "bin", f)).mode & 0o777, 0o755);
            }
            const pid = Number(fs.readFileSync(m.pidFile, "utf8"));
            assert.strictEqual(pathOf(pid), `PATH=${dir}/bin:${m.env.PATH}`);
            assert.strictEqual(fs.readFileSync(path.join(m.fake, "hook"), "utf8").trim(), path.join(dir, "bin", "nvidia-container-runtime-hook"));
            const [call] = calls(dir);
            assert.deepStrictEqual({ ...call, bundle: "<bundle>" }, { id: "probe", pid: 4242, bundle: "<bundle>", args: ["prestart"], NVIDIA_VISIBLE_DEVICES: "0", NVIDIA_DRIVER_CAPABILITIES: null });
        });

        it("its own dockerd running without them: restarted with the stand-in directory on its PATH, then the GPU request is served", () => {
            const m = fresh(INSTALLED);
            const dir = standIn(m);
            // engine-up started this dockerd earlier, before the stand-ins existed.
            const oldPid = Number(spawnSync("bash", ["-c", `nohup "${m.env.FLEET_DOCKERD}" >/dev/null 2>&1 & echo $!`], { env: m.env, encoding: "utf8" }).stdout.trim());
            fs.writeFileSync(m.pidFile, String(oldPid));
            for (let i = 0; i < 50 && !fs.existsSync(path.join(m.fake, "running")); i++) spawnSync("sleep", ["0.1"]);
            const r = run(m, UP);
            assert.strictEqual(r.code, 0, r.err);
            assert.deepStrictEqual(r.log, ["dockerd started", "base images", "gpu container: no device driver", "dockerd stopped", "dockerd started", `gpu container: started (${GPU_RUN_ARGS})`]);
            assert.match(r.err, new RegExp(`engine-up: stopping the dockerd engine-up started \\(pid ${oldPid}\\) to start it with the stand-in NVIDIA hook first on its PATH`));
            assert.ok(!alive(oldPid));
            assert.strictEqual(pathOf(Number(fs.readFileSync(m.pidFile, "utf8"))), `PATH=${dir}/bin:${m.env.PATH}`);
            assert.strictEqual(calls(dir).length, 1);
        });

        /** A dockerd started earlier with another nvidia-container-runtime-hook first on its PATH (the real toolkit's), which records nothing. */
        const otherHook = (m: Machine, own: boolean) => {
            const other = path.join(m.dir, "toolkit");
            fs.mkdirSync(other);
            script(path.join(other, "nvidia-container-runtime-hook"), "cat > /dev/null");
            const pid = Number(spawnSync("bash", ["-c", `nohup "${m.env.FLEET_DOCKERD}" >/dev/null 2>&1 & echo $!`], { env: { ...m.env, PATH: `${other}:${m.env.PATH}` }, encoding: "utf8" }).stdout.trim());
            if (own) fs.writeFileSync(m.pidFile, String(pid));
            for (let i = 0; i < 50 && !fs.existsSync(path.join(m.fake, "running")); i++) spawnSync("sleep", ["0.1"]);
            return pid;
        };

        it("its own dockerd serving GPU requests with another hook (the calls log stays empty): restarted with the stand-in first", () => {
            const m = fresh(INSTALLED);
            const dir = standIn(m);
            const oldPid = otherHook(m, true);
            const r = run(m, UP);
            assert.strictEqual(r.code, 0, r.err);
            assert.deepStrictEqual(r.log, ["dockerd started", "base images", `gpu container: started (${GPU_RUN_ARGS})`, "dockerd stopped", "dockerd started", `gpu container: started (${GPU_RUN_ARGS})`]);
            assert.ok(!alive(oldPid));
            assert.strictEqual(calls(dir).length, 1);
        });

        it("a dockerd it did not start, serving GPU requests with another hook: left as it is", () => {
            const m = fresh(INSTALLED);
            const dir = standIn(m);
            const pid = otherHook(m, false);
            try {
                const r = run(m, UP);
                assert.strictEqual(r.code, 0, r.err);
                assert.strictEqual(r.err.split("\n").pop(), "engine-up: the running dockerd, which engine-up did not start, serves GPU requests with another nvidia-container-runtime-hook than the stand-in; left as it is");
                assert.deepStrictEqual(r.log, ["dockerd started", "base images", `gpu container: started (${GPU_RUN_ARGS})`]);
                assert.ok(alive(pid));
                assert.ok(!fs.existsSync(path.join(dir, "calls.jsonl")));
            } finally {
                process.kill(pid, "SIGTERM");
            }
        });

        it("a dockerd it did not start, without the device driver: left running, the fix named", () => {
            const m = fresh(INSTALLED, DOCKER);
            const dir = standIn(m);
            const r = run(m, UP);
            assert.strictEqual(r.code, 1);
            assert.strictEqual(r.err.split("\n").pop(), `engine-up: the running dockerd has no NVIDIA device driver and engine-up did not start it, so it is left running. Fix: restart it with ${dir}/bin first on its PATH (dockerd registers the driver at start when nvidia-container-runtime-hook is on its PATH), or stop it and run scripts/engine-up.sh again`);
            assert.deepStrictEqual(r.log, ["base images", "gpu container: no device driver"]);
            assert.ok(fs.existsSync(path.join(m.fake, "running")), "the foreign daemon still runs");
            assert.ok(!fs.existsSync(m.pidFile));
        });

        it("refuses FLEET_ENGINE_ONLY=1 with it (no base image to run the check in), before changing anything", () => {
            const m = fresh({});
            standIn(m);
            m.env.FLEET_ENGINE_ONLY = "1";
            const r = run(m, UP);
            assert.deepStrictEqual([r.code, r.err, r.log], [1, "engine-up: FLEET_NVIDIA_STANDIN=1 checks the GPU path in the engine tests' base image, which FLEET_ENGINE_ONLY=1 does not make; set one of them", []]);
        });

        it("without it nothing NVIDIA is installed and dockerd's PATH is left as it is", () => {
            const m = fresh({});
            const r = run(m, UP);
            assert.strictEqual(r.code, 0, r.err);
            assert.ok(!r.log.some((l) => l.startsWith("gpu container")));
            assert.strictEqual(pathOf(Number(fs.readFileSync(m.pidFile, "utf8"))), `PATH=${m.env.PATH}`);
            assert.strictEqual(fs.readFileSync(path.join(m.fake, "hook"), "utf8"), "");
        });
    });

    it("engine-down without a pid file stops nothing", () => {
        const m = fresh({}, DOCKER);
        const r = run(m, DOWN);
        assert.deepStrictEqual([r.code, r.err], [0, "engine-down: engine-up started no dockerd here"]);
        assert.ok(fs.existsSync(path.join(m.fake, "running")));
    });
});
