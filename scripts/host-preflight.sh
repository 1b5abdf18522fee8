#!/usr/bin/env bash
# Host preflight, run by the HostPreflight component before any container of a host.
# Checks the Docker engine version; what the image builds need (components/image.ts says why):
# the buildx plugin, the named builder with the docker driver, and where images are pushed with
# the registry cache the containerd image store; and, on GPU hosts, the NVIDIA container runtime
# and the driver version the CUDA track needs (002 R1, P2.10). Each failure says what is wrong and
# what to do; nothing is changed on the host.
#
# Environment: DOCKER_HOST, FLEET_MACHINE, FLEET_MIN_DOCKER (e.g. 25.0), FLEET_GPU (true|false),
# FLEET_MIN_DRIVER (e.g. 535), FLEET_CUDA_TRACK (e.g. cu121), FLEET_BUILDER (e.g. default),
# FLEET_IMAGE_STORE (true: the containerd image store is required).
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
if [ "$FLEET_IMAGE_STORE" = "true" ]; then
    store=$(docker info --format '{{json .DriverStatus}}' 2>&1) ||
        fail "docker info failed: ${store}. Fix: check the Docker engine on ${FLEET_MACHINE}."
    case "$store" in
        *io.containerd.snapshotter.v1*) ;;
        *) fail "the Docker engine on ${FLEET_MACHINE} does not use the containerd image store (driver status: ${store}); the docker driver refuses the registry cache export without it. Fix: add {\"features\": {\"containerd-snapshotter\": true}} to /etc/docker/daemon.json on ${FLEET_MACHINE} and restart Docker (images of the old store are not migrated: the next deploy pulls or rebuilds them)." ;;
    esac
    summary="${summary}, containerd image store"
fi
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
