#!/usr/bin/env bash
# Host preflight, run by the HostPreflight component before any container of a host.
# Checks the Docker engine version and, on GPU hosts, the NVIDIA container runtime and the
# driver version the CUDA track needs (002 R1, P2.10). Each failure says what is wrong and
# what to do; nothing is changed on the host.
#
# Environment: DOCKER_HOST, FLEET_MACHINE, FLEET_MIN_DOCKER (e.g. 25.0), FLEET_GPU (true|false),
# FLEET_MIN_DRIVER (e.g. 535), FLEET_CUDA_TRACK (e.g. cu121).
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
if [ "$FLEET_GPU" = "true" ]; then
    runtimes=$(docker info --format '{{json .Runtimes}}' 2>&1) ||
        fail "docker info failed: ${runtimes}. Fix: check the Docker engine on ${FLEET_MACHINE}."
    case "$runtimes" in
        *'"nvidia"'*) ;;
        *) fail "the NVIDIA container runtime is not registered with Docker (runtimes: ${runtimes}). Fix: install nvidia-container-toolkit on ${FLEET_MACHINE}, run 'nvidia-ctk runtime configure --runtime=docker' and restart Docker." ;;
    esac
    driver=$(on_host nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>&1 | head -n1) ||
        fail "nvidia-smi failed on ${FLEET_MACHINE}: ${driver}. Fix: install the NVIDIA driver (>= ${FLEET_MIN_DRIVER})."
    case "$driver" in
        [0-9]*) ;;
        *) fail "nvidia-smi gave no driver version on ${FLEET_MACHINE} (${driver}). Fix: install the NVIDIA driver (>= ${FLEET_MIN_DRIVER})." ;;
    esac
    [ "${driver%%.*}" -ge "$FLEET_MIN_DRIVER" ] ||
        fail "NVIDIA driver ${driver} is older than ${FLEET_MIN_DRIVER}, which ${FLEET_CUDA_TRACK} images need (002 R1). Fix: upgrade the driver on ${FLEET_MACHINE}, or set fleet:cudaTrack to an older track."
    summary="${summary}, NVIDIA runtime, driver ${driver}"
fi
echo "preflight ${FLEET_MACHINE}: ${summary}: ok"
