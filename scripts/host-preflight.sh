#!/usr/bin/env bash
# Host preflight, run by the HostPreflight component before any container of a host.
# Checks the Docker engine version; what the image builds need (components/image.ts says why):
# the buildx plugin, the named builder with the docker driver, and the containerd image store
# (the only store the program is tested on: issue 27); and, on GPU hosts, the driver version the CUDA
# track needs (002 R1, P2.10) and every GPU the containers request. Whether Docker can serve a
# GPU request (its NVIDIA device driver) is not in `docker info`: scripts/gpu-probe.sh tries one.
# Each failure says what is wrong and what to do; nothing is changed on the host.
#
# Environment: DOCKER_HOST, FLEET_MACHINE, FLEET_MIN_DOCKER (e.g. 25.0), FLEET_GPU (true|false),
# FLEET_MIN_DRIVER (e.g. 535), FLEET_CUDA_TRACK (e.g. cu121), FLEET_GPU_IDS (the host GPU indexes
# the containers request, comma-separated, from fleet/data/hosts.yaml GPU_VISIBLE_DEVICES),
# FLEET_BUILDER (e.g. default), FLEET_LOG_DRIVER and
# FLEET_LOG_OPTS (the containers' log driver and the option names they set, comma-separated),
# FLEET_DAEMON_JSON (the daemon's configuration file on the host, default /etc/docker/daemon.json).
set -euo pipefail

fail() {
    echo "preflight ${FLEET_MACHINE}: $*" >&2
    exit 1
}

# version_ge A B: A >= B, comparing dotted numbers.
version_ge() {
    [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# Runs a command on the host itself: over ssh for ssh:// hosts, here otherwise.
on_host() {
    case "$DOCKER_HOST" in
        ssh://*) ssh -o BatchMode=yes "${DOCKER_HOST#ssh://}" "$@" ;;
        *) "$@" ;;
    esac
}

server=$(docker version --format '{{.Server.Version}}' 2>&1) ||
    fail "cannot reach the Docker engine at ${DOCKER_HOST}: ${server}. Fix: start dockerd on ${FLEET_MACHINE} and check this machine's access (ssh key, docker group)."
version_ge "${server%%+*}" "$FLEET_MIN_DOCKER" ||
    fail "Docker engine ${server} is older than ${FLEET_MIN_DOCKER}: health checks need a start interval (Docker >= 25); an older engine ignores it and runs the first check only after the 30s interval, so every service waits half a minute to be healthy. Fix: upgrade Docker on ${FLEET_MACHINE} to ${FLEET_MIN_DOCKER} or newer (Debian 12: docker.io 26.1.5 from trixie through an apt pin, as scripts/engine-up.sh does)."

summary="docker ${server}"

buildx=$(docker buildx version 2>&1) ||
    fail "the docker buildx plugin is missing on this machine (${buildx}). Fix: install it (Debian: apt-get install docker-buildx; Docker's packages: docker-buildx-plugin); @pulumi/docker-build runs it in exec mode."
summary="${summary}, buildx $(printf '%s\n' "$buildx" | awk '{print $2; exit}')"
builder=$(docker buildx inspect "$FLEET_BUILDER" 2>&1) ||
    fail "buildx builder '${FLEET_BUILDER}' not found at ${DOCKER_HOST}: ${builder}. Fix: set fleet:buildxBuilder to a builder with the docker driver on ${FLEET_MACHINE}'s daemon ('default' is the one of the current Docker endpoint; 'docker context create ${FLEET_MACHINE} --docker host=${DOCKER_HOST}' gives one named ${FLEET_MACHINE})."
driver=$(printf '%s\n' "$builder" | awk '$1 == "Driver:" {print $2; exit}')
[ "$driver" = docker ] ||
    fail "buildx builder '${FLEET_BUILDER}' uses the ${driver:-unknown} driver, whose BuildKit cannot see the images in ${FLEET_MACHINE}'s daemon (moby/buildkit#2343). Fix: set fleet:buildxBuilder to a builder with the docker driver (default)."
summary="${summary}, builder ${FLEET_BUILDER} (docker driver)"
# Every stack, loading or pushing: the engine suite runs on the containerd store, and what the
# daemon resolves and reports comes from another implementation on the classic one (moby has two
# image services, daemon/images and daemon/containerd), so a classic-store host would run states
# no test ever saw.
store=$(docker info --format '{{json .DriverStatus}}' 2>&1) ||
    fail "docker info failed: ${store}. Fix: check the Docker engine on ${FLEET_MACHINE}."
case "$store" in
    *io.containerd.snapshotter.v1*) ;;
    *) fail "the Docker engine on ${FLEET_MACHINE} does not use the containerd image store (driver status: ${store}); the program is built and tested on that store only: the docker driver exports the registry cache only with it, and the classic store resolves the image references the Docker provider reads back otherwise. Fix: add {\"features\": {\"containerd-snapshotter\": true}} to /etc/docker/daemon.json on ${FLEET_MACHINE} and restart Docker (images of the old store are not migrated: the next deploy pulls or rebuilds them)." ;;
esac
summary="${summary}, containerd image store"
# What the Docker provider reads back from every container must be what the program sets
# (fleet/model/dockerForms.ts): a daemon that changes it makes every deploy replace or update
# every container.
swap=$(docker info --format '{{.SwapLimit}}' 2>&1) ||
    fail "docker info failed: ${swap}. Fix: check the Docker engine on ${FLEET_MACHINE}."
[ "$swap" = "true" ] ||
    fail "the kernel of ${FLEET_MACHINE} has no swap accounting (docker info: SwapLimit ${swap}): the engine keeps every container's memory-swap limit as -1, which the Docker provider reads back, so every refresh shows every container changed. Fix: enable it (cgroup v1: add swapaccount=1 to the kernel command line and reboot; cgroup v2 has it)."
daemon_json="${FLEET_DAEMON_JSON:-/etc/docker/daemon.json}"
daemon_config=$(on_host cat "$daemon_json" 2>/dev/null) || daemon_config='{}'
# The daemon adds its default log options to a container's own when both use its default driver,
# and its cache-* options whatever the driver (moby daemon/logs.go mergeAndVerifyLogConfig).
merged=$(printf '%s' "$daemon_config" | FLEET_LOG_DRIVER="$FLEET_LOG_DRIVER" FLEET_LOG_OPTS="$FLEET_LOG_OPTS" node -e '
let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
    let cfg;
    try { cfg = text.trim() ? JSON.parse(text) : {}; } catch (e) { console.log("!" + e.message); return; }
    const driver = cfg["log-driver"] || "json-file";
    const own = process.env.FLEET_LOG_OPTS.split(",");
    const extra = Object.keys(cfg["log-opts"] || {}).filter((k) => !own.includes(k) && (driver === process.env.FLEET_LOG_DRIVER || k.startsWith("cache-")));
    console.log(extra.join(","));
});') || fail "cannot read ${daemon_json} on ${FLEET_MACHINE} with node. Fix: check node on this machine."
case "$merged" in
    '!'*) fail "${daemon_json} on ${FLEET_MACHINE} is not JSON (${merged#!}). Fix: correct it and restart Docker." ;;
    ?*) fail "the Docker daemon of ${FLEET_MACHINE} adds the default log options ${merged} (${daemon_json} log-opts) to every container's: the Docker provider reads the merged options back, so every deploy would replace every container (kreuzwerker/terraform-provider-docker#873). Fix: remove ${merged} from \"log-opts\" in ${daemon_json} on ${FLEET_MACHINE} and restart Docker." ;;
esac
summary="${summary}, swap accounting, no daemon log options"
if [ "$FLEET_GPU" = "true" ]; then
    driver=$(on_host nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>&1 | head -n1) ||
        fail "nvidia-smi failed on ${FLEET_MACHINE}: ${driver}. Fix: install the NVIDIA driver (>= ${FLEET_MIN_DRIVER})."
    case "$driver" in
        [0-9]*) ;;
        *) fail "nvidia-smi gave no driver version on ${FLEET_MACHINE} (${driver}). Fix: install the NVIDIA driver (>= ${FLEET_MIN_DRIVER})." ;;
    esac
    [ "${driver%%.*}" -ge "$FLEET_MIN_DRIVER" ] ||
        fail "NVIDIA driver ${driver} is older than ${FLEET_MIN_DRIVER}, which ${FLEET_CUDA_TRACK} images need (002 R1). Fix: upgrade the driver on ${FLEET_MACHINE}, or set fleet:cudaTrack to an older track."
    summary="${summary}, NVIDIA driver ${driver}"
    if [ -n "$FLEET_GPU_IDS" ]; then
        present=$(on_host nvidia-smi --query-gpu=index --format=csv,noheader 2>&1) ||
            fail "nvidia-smi failed on ${FLEET_MACHINE}: ${present}. Fix: check the NVIDIA driver on ${FLEET_MACHINE}."
        present=$(printf '%s\n' "$present" | tr -d ' ' | paste -sd, -)
        missing=()
        IFS=, read -r -a wanted <<<"$FLEET_GPU_IDS"
        for id in "${wanted[@]}"; do
            case ",${present}," in
                *",${id},"*) ;;
                *) missing+=("$id") ;;
            esac
        done
        [ "${#missing[@]}" -eq 0 ] ||
            fail "GPU $(IFS=,; echo "${missing[*]}") is not on ${FLEET_MACHINE} (nvidia-smi lists GPU ${present:-none}), but its containers request GPU ${FLEET_GPU_IDS} (fleet/data/hosts.yaml: ${FLEET_MACHINE}.profile.GPU_VISIBLE_DEVICES). Fix: set ${FLEET_MACHINE}.profile.GPU_VISIBLE_DEVICES in fleet/data/hosts.yaml to GPUs the host has (nvidia-smi --query-gpu=index,name --format=csv on ${FLEET_MACHINE})."
        summary="${summary}, GPU ${FLEET_GPU_IDS}"
    fi
fi
echo "preflight ${FLEET_MACHINE}: ${summary}: ok"
