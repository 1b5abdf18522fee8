/**
 * The engine tests' NVIDIA stand-ins (scripts/nvidia-standin), run as dockerd and the preflight
 * run them, each copied into a bin/ directory as scripts/engine-up.sh installs it: the hook with
 * the OCI state on standard input and the container's bundle, nvidia-smi with the preflight's
 * queries.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const STANDIN = path.resolve(__dirname, "..", "..", "scripts", "nvidia-standin");

/** A stand-in directory as engine-up makes it: `<dir>/bin/<name>`, calls.jsonl next to bin/. */
function installed(name: string): { dir: string; file: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-nvidia-standin-"));
    fs.mkdirSync(path.join(dir, "bin"));
    const file = path.join(dir, "bin", name);
    fs.copyFileSync(path.join(STANDIN, name), file);
    fs.chmodSync(file, 0o755);
    return { dir, file };
}

/** A container's bundle with `env` as its process environment, as runc hands it to a hook. */
function bundle(env: string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bundle-"));
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ociVersion: "1.0.2", process: { args: ["/bin/true"], env }, root: { path: "rootfs" } }));
    return dir;
}

function hook(file: string, stdin: string): { code: number; out: string; err: string } {
    const r = spawnSync(file, ["prestart"], { input: stdin, encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
    return { code: r.status ?? -1, out: r.stdout, err: r.stderr.trim() };
}

const state = (b: string) => JSON.stringify({ ociVersion: "1.0.2", id: "4f2a9c", status: "creating", pid: 31337, bundle: b, annotations: {} });
const callsOf = (dir: string) => fs.readFileSync(path.join(dir, "calls.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));

describe("stand-in nvidia-container-runtime-hook", () => {
    it("records the container and the NVIDIA variables dockerd set, one JSON line per call, and injects nothing", () => {
        const { dir, file } = installed("nvidia-container-runtime-hook");
        const b = bundle(["PATH=/usr/bin", "NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,utility", "REQUIRED_GPU=true"]);
        const before = fs.readdirSync(b);
        assert.deepStrictEqual(hook(file, state(b)), { code: 0, out: "", err: "" });
        const other = bundle(["NVIDIA_VISIBLE_DEVICES=1,0"]);
        assert.strictEqual(hook(file, state(other)).code, 0);
        assert.deepStrictEqual(callsOf(dir), [
            { id: "4f2a9c", pid: 31337, bundle: b, args: ["prestart"], NVIDIA_VISIBLE_DEVICES: "0", NVIDIA_DRIVER_CAPABILITIES: "compute,utility" },
            { id: "4f2a9c", pid: 31337, bundle: other, args: ["prestart"], NVIDIA_VISIBLE_DEVICES: "1,0", NVIDIA_DRIVER_CAPABILITIES: null },
        ]);
        assert.deepStrictEqual(fs.readdirSync(b), before, "nothing added to the bundle");
        assert.strictEqual(JSON.parse(fs.readFileSync(path.join(b, "config.json"), "utf8")).process.env.length, 4, "the config is left as it was");
    });

    it("exits 0 when its log cannot be written: its own logging never fails a container", () => {
        const { dir, file } = installed("nvidia-container-runtime-hook");
        // A directory where the log file would be: unwritable even for root.
        fs.mkdirSync(path.join(dir, "calls.jsonl"));
        const r = hook(file, state(bundle(["NVIDIA_VISIBLE_DEVICES=0"])));
        assert.strictEqual(r.code, 0);
        assert.match(r.err, /^nvidia-container-runtime-hook \(stand-in\): not recorded: \[Errno 21\] Is a directory: /);
    });

    it("exits 0 on a state it cannot read or a bundle without config.json", () => {
        const { dir, file } = installed("nvidia-container-runtime-hook");
        assert.strictEqual(hook(file, "not json").code, 0);
        assert.strictEqual(hook(file, state(fs.mkdtempSync(path.join(os.tmpdir(), "fleet-empty-bundle-")))).code, 0);
        assert.ok(!fs.existsSync(path.join(dir, "calls.jsonl")), "nothing recorded");
    });
});

describe("stand-in nvidia-smi", () => {
    const { file } = installed("nvidia-smi");
    const smi = (...args: string[]) => {
        const r = spawnSync(file, args, { encoding: "utf8" });
        return { code: r.status, out: r.stdout, err: r.stderr };
    };

    it("answers the preflight's queries as a host with one GPU and driver 550.54.14", () => {
        assert.deepStrictEqual(smi("--query-gpu=driver_version", "--format=csv,noheader"), { code: 0, out: "550.54.14\n", err: "" });
        assert.deepStrictEqual(smi("--query-gpu=index", "--format=csv,noheader"), { code: 0, out: "0\n", err: "" });
    });

    it("fails on anything else with exit 2, as nvidia-smi does for an invalid argument", () => {
        for (const args of [[], ["-L"], ["--query-gpu=name", "--format=csv,noheader"], ["--query-gpu=index"]]) {
            assert.deepStrictEqual(smi(...args), { code: 2, out: "", err: "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n" }, args.join(" "));
        }
    });
});
