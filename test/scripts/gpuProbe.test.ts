/**
 * scripts/gpu-probe.sh with a stand-in docker: the command it runs, and what it says for each
 * way a GPU container fails to start. The stand-in answers as Docker 26.1.5 does: a start error
 * is one line on standard error, `docker: Error response from daemon: <error>.`, exit 125
 * (docker/cli v26.1.5 cli/command/container/run.go `reportError`, `runStartContainerErr`).
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GPU_PROBE_SCRIPT } from "../../components/gpuProbe";
import { PROJECT_DIR } from "../mocks";

const IMAGE = "ghcr.io/ai-system/base-gpu-cu121:20250810-9c99cc9-1a2b3c4@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const NO_DRIVER = 'docker: Error response from daemon: could not select device driver "" with capabilities: [[gpu]].';

/** Runs the probe with a docker that records its arguments and answers `answer` (exit 125) or starts the container. */
function probe(ids: string, answer?: string): { code: number; out: string; err: string; argv: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-gpu-probe-"));
    const log = path.join(dir, "argv");
    if (answer !== undefined) fs.writeFileSync(path.join(dir, "answer"), `${answer}\n`);
    const docker = ["#!/bin/sh", `for a in "$@"; do printf '%s\\n' "$a"; done > "${log}"`, answer === undefined ? "exit 0" : `cat "${dir}/answer" >&2\nexit 125`].join("\n");
    fs.writeFileSync(path.join(dir, "docker"), docker, { mode: 0o755 });
    const r = spawnSync("bash", [path.join(PROJECT_DIR, GPU_PROBE_SCRIPT)], {
        encoding: "utf8",
        env: { PATH: `${dir}:/usr/bin:/bin`, DOCKER_HOST: "ssh://ops@pc2", FLEET_MACHINE: "pc2", FLEET_GPU_IDS: ids, FLEET_PROBE_IMAGE: IMAGE },
    });
    return { code: r.status ?? -1, out: r.stdout.trim(), err: r.stderr.trim(), argv: fs.readFileSync(log, "utf8").trim().split("\n") };
}

describe("GPU probe script (stand-in docker)", () => {
    it("runs one container with the host's GPU request and /bin/true, removed when it exits", () => {
        const r = probe("0");
        assert.deepStrictEqual([r.code, r.err], [0, ""]);
        assert.deepStrictEqual(r.argv, ["run", "--rm", "--gpus", '"device=0"', "--entrypoint", "/bin/true", IMAGE]);
        assert.strictEqual(r.out, 'gpu-probe pc2: a container with --gpus "device=0" started: ok');
    });

    it("asks for several GPUs as one quoted CSV field (the CLI would read device=0,1 as two fields)", () => {
        const r = probe("0,1");
        assert.strictEqual(r.code, 0);
        assert.strictEqual(r.argv[3], '"device=0,1"');
    });

    const failures: { what: string; ids: string; answer: string; err: string }[] = [
        {
            what: "an engine without the NVIDIA device driver (no nvidia-container-runtime-hook on dockerd's PATH)", ids: "0", answer: NO_DRIVER,
            err: `gpu-probe pc2: the Docker engine at ssh://ops@pc2 has no NVIDIA device driver, so no GPU container can start (${NO_DRIVER}). Fix: install nvidia-container-toolkit on pc2, run 'nvidia-ctk runtime configure --runtime=docker' and restart Docker (dockerd registers the driver at start, when nvidia-container-runtime-hook is on its PATH); until then 'pulumi config set fleet:gpu false' leaves the GPU services out.`,
        },
        {
            what: "a device the NVIDIA runtime does not know", ids: "1",
            answer: "docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as 'legacy' nvidia-container-cli: device error: 1: unknown device: unknown.",
            err: "gpu-probe pc2: the NVIDIA runtime on pc2 does not know GPU 1 (docker: Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: error running hook #0: error running hook: exit status 1, stdout: , stderr: Auto-detected mode as 'legacy' nvidia-container-cli: device error: 1: unknown device: unknown.). Fix: set pc2.profile.GPU_VISIBLE_DEVICES in fleet/data/hosts.yaml to GPUs the host has (nvidia-smi --query-gpu=index,name --format=csv on pc2).",
        },
        {
            what: "any other start failure, with the probe to run by hand", ids: "0", answer: "docker: Error response from daemon: No such image: x.",
            err: `gpu-probe pc2: a container with --gpus "device=0" did not start on pc2 (docker: Error response from daemon: No such image: x.). Fix: correct what Docker reports (the NVIDIA driver and nvidia-container-toolkit on pc2, or the image), then deploy again; the probe is: docker run --rm --gpus '"device=0"' --entrypoint /bin/true ${IMAGE}`,
        },
    ];
    for (const f of failures) {
        it(`fails on ${f.what}, saying what to do`, () => {
            const r = probe(f.ids, f.answer);
            assert.deepStrictEqual([r.code, r.out, r.err], [1, "", f.err]);
        });
    }
});
