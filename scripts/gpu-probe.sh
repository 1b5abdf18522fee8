#!/usr/bin/env bash
# GPU probe, run by the GpuProbe component (components/gpuProbe.ts) after the host preflight and
# before any container with a GPU device request: one container makes the request the GPU
# containers make and exits at once. Docker serves a GPU request only with its NVIDIA device
# driver, which dockerd registers at start when nvidia-container-runtime-hook is on its PATH
# (moby v26.1.5 daemon/nvidia_linux.go `init`); without it the start fails with
# `could not select device driver "" with capabilities: [[gpu]]` (daemon/devices.go
# `handleDevice`). A failure says what is wrong and what to do; CPU containers do not wait for it.
#
# Environment: DOCKER_HOST, FLEET_MACHINE, FLEET_GPU_IDS (host GPU indexes, comma-separated, from
# fleet/data/hosts.yaml GPU_VISIBLE_DEVICES), FLEET_PROBE_IMAGE (an image of the stack; it needs
# /bin/true only).
set -euo pipefail

fail() {
    echo "gpu-probe ${FLEET_MACHINE}: $*" >&2
    exit 1
}

# The CLI reads --gpus as one CSV record, so a list of devices is quoted inside the value
# (docker/cli v26.1.5 opts/gpus.go `GpuOpts.Set`): "device=0,1", capabilities [[gpu]].
request="\"device=${FLEET_GPU_IDS}\""
if out=$(docker run --rm --gpus "$request" --entrypoint /bin/true "$FLEET_PROBE_IMAGE" 2>&1); then
    echo "gpu-probe ${FLEET_MACHINE}: a container with --gpus ${request} started: ok"
    exit 0
fi
out=$(printf '%s' "$out" | tr '\n' ' ' | sed 's/ *$//')
case "$out" in
    *'could not select device driver'*)
        fail "the Docker engine at ${DOCKER_HOST} has no NVIDIA device driver, so no GPU container can start (${out}). Fix: install nvidia-container-toolkit on ${FLEET_MACHINE}, run 'nvidia-ctk runtime configure --runtime=docker' and restart Docker (dockerd registers the driver at start, when nvidia-container-runtime-hook is on its PATH); until then 'pulumi config set fleet:gpu false' leaves the GPU services out." ;;
    *'unknown device'*)
        fail "the NVIDIA runtime on ${FLEET_MACHINE} does not know GPU ${FLEET_GPU_IDS} (${out}). Fix: set ${FLEET_MACHINE}.profile.GPU_VISIBLE_DEVICES in fleet/data/hosts.yaml to GPUs the host has (nvidia-smi --query-gpu=index,name --format=csv on ${FLEET_MACHINE})." ;;
    *)
        fail "a container with --gpus ${request} did not start on ${FLEET_MACHINE} (${out}). Fix: correct what Docker reports (the NVIDIA driver and nvidia-container-toolkit on ${FLEET_MACHINE}, or the image), then deploy again; the probe is: docker run --rm --gpus '${request}' --entrypoint /bin/true ${FLEET_PROBE_IMAGE}" ;;
esac
