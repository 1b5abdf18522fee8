import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PREFLIGHT_SCRIPT } from "../../components/preflight";
import { LOG_DEFAULTS, LOG_OPTS, MIN_DOCKER_VERSION } from "../../fleet/model/defaults";
import { PROJECT_DIR } from "../mocks";

interface Fake {
    server?: string; serverFails?: string; driver?: string; smiFails?: string;
    /** What `nvidia-smi --query-gpu=index --format=csv,noheader` prints, one GPU a line. @default "0" */
    gpuIndexes?: string;
    /** nvidia-smi is the engine tests' stand-in (scripts/nvidia-standin/nvidia-smi). */
    standInSmi?: boolean;
    /** `docker buildx` fails as when the plugin is missing. */
    noBuildx?: boolean;
    /** Driver of the builder `default`; no builder of any other name exists. @default "docker" */
    builderDriver?: string;
    /** `docker info` DriverStatus JSON. @default the containerd image store's */
    driverStatus?: string;
    /** `docker info` SwapLimit. @default "true" */
    swapLimit?: string;
    /** The host's /etc/docker/daemon.json; absent when undefined. */
    daemonJson?: string;
}

const BUILDX_VERSION = "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3";
const CONTAINERD_STORE = '[["driver-type","io.containerd.snapshotter.v1"]]';

/**
 * Runs the preflight with stand-ins for docker and nvidia-smi on PATH. The docker stand-in answers
 * the way Docker 26 / buildx 0.13 do (`buildx inspect` prints `Driver: <driver>`; an unknown
 * builder is `ERROR: no builder "x" found`, exit 1; a missing plugin is `docker: 'buildx' is not a docker command.`).
 */
function preflight(fake: Fake, gpu: boolean, env: Record<string, string> = {}): { code: number; out: string; err: string; daemonJson: string } {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-preflight-"));
    const docker = [
        "#!/bin/sh",
        'case "$1" in',
        fake.serverFails ? `  version) echo "${fake.serverFails}" >&2; exit 1 ;;` : `  version) echo "${fake.server}" ;;`,
        `  info) case "$3" in *DriverStatus*) echo '${fake.driverStatus ?? CONTAINERD_STORE}' ;; *SwapLimit*) echo '${fake.swapLimit ?? "true"}' ;; esac ;;`,
        fake.noBuildx
            ? `  buildx) echo "docker: 'buildx' is not a docker command." >&2; exit 1 ;;`
            : `  buildx) case "$2" in version) echo '${BUILDX_VERSION}' ;; inspect) [ "$3" = default ] || { echo "ERROR: no builder \\"$3\\" found" >&2; exit 1; }; printf 'Name:          default\nDriver:        ${fake.builderDriver ?? "docker"}\n' ;; esac ;;`,
        "esac",
    ].join("\n");
    // nvidia-smi answers the two queries the preflight makes, as the real one prints them.
    const smi = fake.smiFails ? `#!/bin/sh\necho "${fake.smiFails}" >&2\nexit 9\n` : [
        "#!/bin/sh",
        'case "$*" in',
        `  "--query-gpu=driver_version --format=csv,noheader") echo "${fake.driver}" ;;`,
        `  "--query-gpu=index --format=csv,noheader") printf '${(fake.gpuIndexes ?? "0").replace(/\n/g, "\\n")}\\n' ;;`,
        '  *) echo "unexpected $*" >&2; exit 2 ;;',
        "esac",
    ].join("\n");
    fs.writeFileSync(path.join(bin, "docker"), docker, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "nvidia-smi"), fake.standInSmi ? fs.readFileSync(path.join(PROJECT_DIR, "scripts", "nvidia-standin", "nvidia-smi")) : smi, { mode: 0o755 });
    const daemonJson = path.join(bin, "daemon.json");
    if (fake.daemonJson !== undefined) fs.writeFileSync(daemonJson, fake.daemonJson);
    // The environment components/preflight.ts gives it, with the program's log options.
    const r = spawnSync("bash", [path.join(PROJECT_DIR, PREFLIGHT_SCRIPT)], {
        encoding: "utf8",
        env: {
            PATH: `${bin}:${path.dirname(process.execPath)}:/usr/bin:/bin`, DOCKER_HOST: "unix:///var/run/docker.sock", FLEET_MACHINE: "pc2", FLEET_MIN_DOCKER: MIN_DOCKER_VERSION, FLEET_GPU: String(gpu), FLEET_MIN_DRIVER: "535", FLEET_GPU_IDS: gpu ? "0" : "", FLEET_CUDA_TRACK: "cu121", FLEET_BUILDER: "default",
            FLEET_LOG_DRIVER: LOG_DEFAULTS.driver, FLEET_LOG_OPTS: Object.keys(LOG_OPTS).join(","), FLEET_DAEMON_JSON: daemonJson, ...env,
        },
    });
    return { code: r.status ?? -1, out: r.stdout.trim(), err: r.stderr.trim(), daemonJson };
}

const DAEMON_OK = "swap accounting, no daemon log options";
const BUILD_OK = `buildx 0.13.1+ds1, builder default (docker driver), containerd image store, ${DAEMON_OK}`;

describe("host preflight script", () => {
    it("production hosts need Docker 25 or newer (health start intervals)", () => assert.strictEqual(MIN_DOCKER_VERSION, "25.0"));

    const table: { what: string; fake: Fake; gpu: boolean; env?: Record<string, string>; code: number; out?: string; err?: string }[] = [
        { what: "a CPU host with a recent engine passes", fake: { server: "27.3.1" }, gpu: false, code: 0, out: `preflight pc2: docker 27.3.1, ${BUILD_OK}: ok` },
        { what: "the oldest engine with health start intervals passes", fake: { server: "25.0.0" }, gpu: false, code: 0, out: `preflight pc2: docker 25.0.0, ${BUILD_OK}: ok` },
        { what: "a Debian-patched engine version is compared by its upstream part", fake: { server: "26.1.5+dfsg1" }, gpu: false, code: 0, out: `preflight pc2: docker 26.1.5+dfsg1, ${BUILD_OK}: ok` },
        { what: "a GPU host with the driver and the GPU its containers request passes", fake: { server: "27.3.1", driver: "550.54.14" }, gpu: true, code: 0, out: `preflight pc2: docker 27.3.1, ${BUILD_OK}, NVIDIA driver 550.54.14, GPU 0: ok` },
        { what: "the engine tests' stand-in nvidia-smi passes the GPU checks of every track (cu124 needs 550)", fake: { server: "26.1.5", standInSmi: true }, gpu: true, env: { FLEET_MIN_DRIVER: "550", FLEET_CUDA_TRACK: "cu124" }, code: 0, out: `preflight pc2: docker 26.1.5, ${BUILD_OK}, NVIDIA driver 550.54.14, GPU 0: ok` },
        { what: "GPUs requested among more the host has", fake: { server: "27.3.1", driver: "550.54.14", gpuIndexes: "0\n1\n2" }, gpu: true, env: { FLEET_GPU_IDS: "2,0" }, code: 0, out: `preflight pc2: docker 27.3.1, ${BUILD_OK}, NVIDIA driver 550.54.14, GPU 2,0: ok` },
        { what: "a GPU host whose containers request no GPU checks the driver only", fake: { server: "27.3.1", driver: "550.54.14", gpuIndexes: "" }, gpu: true, env: { FLEET_GPU_IDS: "" }, code: 0, out: `preflight pc2: docker 27.3.1, ${BUILD_OK}, NVIDIA driver 550.54.14: ok` },
        {
            what: "a device id the host does not have, named with the host and hosts.yaml", fake: { server: "27.3.1", driver: "550.54.14", gpuIndexes: "0\n1" }, gpu: true, env: { FLEET_GPU_IDS: "0,3,2" }, code: 1,
            err: "preflight pc2: GPU 3,2 is not on pc2 (nvidia-smi lists GPU 0,1), but its containers request GPU 0,3,2 (fleet/data/hosts.yaml: pc2.profile.GPU_VISIBLE_DEVICES). Fix: set pc2.profile.GPU_VISIBLE_DEVICES in fleet/data/hosts.yaml to GPUs the host has (nvidia-smi --query-gpu=index,name --format=csv on pc2).",
        },
        {
            what: "a GPU requested where nvidia-smi lists none", fake: { server: "27.3.1", driver: "550.54.14", gpuIndexes: "" }, gpu: true, env: { FLEET_GPU_IDS: "1" }, code: 1,
            err: "preflight pc2: GPU 1 is not on pc2 (nvidia-smi lists GPU none), but its containers request GPU 1 (fleet/data/hosts.yaml: pc2.profile.GPU_VISIBLE_DEVICES). Fix: set pc2.profile.GPU_VISIBLE_DEVICES in fleet/data/hosts.yaml to GPUs the host has (nvidia-smi --query-gpu=index,name --format=csv on pc2).",
        },
        { what: "an unreachable engine", fake: { serverFails: "Cannot connect to the Docker daemon" }, gpu: false, code: 1, err: "preflight pc2: cannot reach the Docker engine at unix:///var/run/docker.sock: Cannot connect to the Docker daemon. Fix: start dockerd on pc2 and check this machine's access (ssh key, docker group)." },
        ...["24.0.7", "20.10.24+dfsg1", "19.03.15"].map((server) => ({
            what: `an engine without health start intervals (${server})`, fake: { server }, gpu: false, code: 1,
            err: `preflight pc2: Docker engine ${server} is older than 25.0: health checks need a start interval (Docker >= 25); an older engine ignores it and runs the first check only after the 30s interval, so every service waits half a minute to be healthy. Fix: upgrade Docker on pc2 to 25.0 or newer (Debian 12: docker.io 26.1.5 from trixie through an apt pin, as scripts/engine-up.sh does).`,
        })),
        { what: "a driver older than CUDA 12.1 needs (002 R1)", fake: { server: "27.3.1", driver: "525.147.05" }, gpu: true, code: 1, err: "preflight pc2: NVIDIA driver 525.147.05 is older than 535, which cu121 images need (002 R1). Fix: upgrade the driver on pc2, or set fleet:cudaTrack to an older track." },
        { what: "a daemon.json that sets only the log options the program sets, or none, passes", fake: { server: "26.1.5", daemonJson: '{"features": {"containerd-snapshotter": true}, "log-opts": {"max-size": "20m"}}' }, gpu: false, code: 0, out: `preflight pc2: docker 26.1.5, ${BUILD_OK}: ok` },
        { what: "daemon default log options the daemon would merge into every container's (kreuzwerker#873)", fake: { server: "26.1.5", daemonJson: '{"log-driver": "json-file", "log-opts": {"max-size": "20m", "compress": "true", "labels": "a"}}' }, gpu: false, code: 1, err: `preflight pc2: the Docker daemon of pc2 adds the default log options compress,labels (${"${daemon}"} log-opts) to every container's: the Docker provider reads the merged options back, so every deploy would replace every container (kreuzwerker/terraform-provider-docker#873). Fix: remove compress,labels from "log-opts" in ${"${daemon}"} on pc2 and restart Docker.` },
        { what: "another default driver's options are not merged, its cache options are", fake: { server: "26.1.5", daemonJson: '{"log-driver": "local", "log-opts": {"max-size": "20m", "cache-disabled": "true"}}' }, gpu: false, code: 1, err: `preflight pc2: the Docker daemon of pc2 adds the default log options cache-disabled (${"${daemon}"} log-opts) to every container's: the Docker provider reads the merged options back, so every deploy would replace every container (kreuzwerker/terraform-provider-docker#873). Fix: remove cache-disabled from "log-opts" in ${"${daemon}"} on pc2 and restart Docker.` },
        { what: "a daemon.json that is not JSON", fake: { server: "26.1.5", daemonJson: '{"log-opts": ' }, gpu: false, code: 1 },
        { what: "a kernel without swap accounting", fake: { server: "26.1.5", swapLimit: "false" }, gpu: false, code: 1, err: "preflight pc2: the kernel of pc2 has no swap accounting (docker info: SwapLimit false): the engine keeps every container's memory-swap limit as -1, which the Docker provider reads back, so every refresh shows every container changed. Fix: enable it (cgroup v1: add swapaccount=1 to the kernel command line and reboot; cgroup v2 has it)." },
        { what: "the buildx plugin missing", fake: { server: "26.1.5", noBuildx: true }, gpu: false, code: 1, err: "preflight pc2: the docker buildx plugin is missing on this machine (docker: 'buildx' is not a docker command.). Fix: install it (Debian: apt-get install docker-buildx; Docker's packages: docker-buildx-plugin); @pulumi/docker-build runs it in exec mode." },
        { what: "the named builder missing", fake: { server: "26.1.5" }, gpu: false, env: { FLEET_BUILDER: "pc2" }, code: 1, err: `preflight pc2: buildx builder 'pc2' not found at unix:///var/run/docker.sock: ERROR: no builder "pc2" found. Fix: set fleet:buildxBuilder to a builder with the docker driver on pc2's daemon ('default' is the one of the current Docker endpoint; 'docker context create pc2 --docker host=unix:///var/run/docker.sock' gives one named pc2).` },
        { what: "a builder with the docker-container driver", fake: { server: "26.1.5", builderDriver: "docker-container" }, gpu: false, code: 1, err: "preflight pc2: buildx builder 'default' uses the docker-container driver, whose BuildKit cannot see the images in pc2's daemon (moby/buildkit#2343). Fix: set fleet:buildxBuilder to a builder with the docker driver (default)." },
        { what: "a host on the classic image store, whether it loads or pushes its images: the program is tested on the containerd store only", fake: { server: "26.1.5", driverStatus: '[["Backing Filesystem","extfs"]]' }, gpu: false, code: 1, err: `preflight pc2: the Docker engine on pc2 does not use the containerd image store (driver status: [["Backing Filesystem","extfs"]]); the program is built and tested on that store only: the docker driver exports the registry cache only with it, and the classic store resolves the image references the Docker provider reads back otherwise. Fix: add {"features": {"containerd-snapshotter": true}} to /etc/docker/daemon.json on pc2 and restart Docker (images of the old store are not migrated: the next deploy pulls or rebuilds them).` },
        { what: "nvidia-smi failing", fake: { server: "27.3.1", smiFails: "NVIDIA-SMI has failed" }, gpu: true, code: 1, err: "preflight pc2: nvidia-smi failed on pc2: NVIDIA-SMI has failed. Fix: install the NVIDIA driver (>= 535)." },
    ];
    for (const row of table) {
        it(row.what, () => {
            const r = preflight(row.fake, row.gpu, row.env);
            assert.strictEqual(r.code, row.code, r.err);
            if (row.out !== undefined) assert.strictEqual(r.out, row.out);
            if (row.err !== undefined) assert.strictEqual(r.err, row.err.replaceAll("${daemon}", r.daemonJson));
        });
    }
});
