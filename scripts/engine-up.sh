# Sourced by .ci/run: a running Docker engine and the engine tests' base image. Installs
# docker.io and debootstrap from Debian when they are missing and starts dockerd when no
# engine answers.
set -euo pipefail
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ]; then
    echo "engine-up: apt-get install ${need[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
if ! docker info >/dev/null 2>&1; then
    echo "engine-up: starting dockerd" >&2
    nohup dockerd >/tmp/fleet-dockerd.log 2>&1 &
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || { echo "engine-up: dockerd did not start; see /tmp/fleet-dockerd.log" >&2; tail -20 /tmp/fleet-dockerd.log >&2; exit 1; }
fi
bash "$(dirname "${BASH_SOURCE[0]}")/make-base-images.sh" >&2
