#!/usr/bin/env bash
# Sourced by .ci/run (or run alone): a supported Docker engine (>= 25) answering on
# /var/run/docker.sock, its buildx and compose plugins, the engine tests' base images and their
# package index on 127.0.0.1:3141 (scripts/package-index.sh).
#
# Debian 12's docker.io is 20.10 (end of life in 2023). Debian 13 (trixie) ships docker.io
# 26.1.5 with docker-cli, docker-buildx 0.13.1 and docker-compose 2.26.1 built against
# libc6 >= 2.34, so they install on this Debian 12 next to its own containerd and runc. trixie is
# added at priority 100 (never chosen by itself) and only the packages below are taken from it,
# at exact versions: an upgrade of the engine is a reviewed change of this file.
#
# The daemon runs with the containerd image store: BuildKit's registry cache export
# (`--cache-to type=registry`) is refused by the classic store with the docker driver.
#
# It also installs what the engine suite's other services need (scripts/registry.sh,
# scripts/package-index.sh): Debian's docker-registry, apache2-utils (htpasswd, for the engine
# test's second registry, the one with authentication) and python3.
#
# The script starts dockerd only when no engine answers and keeps that dockerd's pid in
# $FLEET_DOCKERD_PID_FILE; scripts/engine-down.sh stops that one and never another.
# An engine older than the minimum is upgraded (packages). A running old daemon this script
# started (its pid file names a live dockerd) is restarted on the new packages; one it did not
# start is left alone, and the script fails with the command that restarts it.
#
# FLEET_ENGINE_ONLY=1 (scripts/local-up) sets up the engine alone: the packages, the daemon's
# configuration and dockerd, without what only the engine tests need (debootstrap, python3,
# docker-registry, apache2-utils and the base image they build FROM).
#
# FLEET_NVIDIA_STANDIN=1 (.ci/run; never on a real host) gives the engine tests Docker's NVIDIA
# device path without a GPU: the stand-ins of scripts/nvidia-standin/ (nvidia-container-runtime-hook,
# which records each call in calls.jsonl and injects nothing, and nvidia-smi) are copied into
# $FLEET_NVIDIA_STANDIN_DIR/bin, and the dockerd this script starts gets that directory first on
# its PATH, the only place it is put: dockerd registers its nvidia device driver at start when the
# hook is on its PATH (moby v26.1.5 daemon/nvidia_linux.go `init`). After the base image is made,
# one container with a GPU request checks that the stand-in hook served it; the dockerd this
# script started without the directory first on its PATH is restarted with it, one it did not
# start is left alone (and, without any device driver, the script says how to restart it).
#
# Tests (test/scripts/engine-up.test.ts) run it with stand-ins: FLEET_DOCKER, FLEET_DOCKERD,
# FLEET_ETC (where apt's and Docker's configuration are written) and FLEET_BASE_IMAGES point
# at them, and dpkg-query, apt-get and debootstrap come first on PATH.
set -euo pipefail
FLEET_DOCKER_VERSION="26.1.5+dfsg1-9+deb13u1+b1"
FLEET_BUILDX_VERSION="0.13.1+ds1-3"
FLEET_COMPOSE_VERSION="2.26.1-4"
FLEET_MIN_ENGINE=25
FLEET_DOCKERD_PID_FILE="${FLEET_DOCKERD_PID_FILE:-/run/fleet-dockerd.pid}"
FLEET_DOCKERD_LOG="${FLEET_DOCKERD_LOG:-/var/log/fleet-dockerd.log}"
# The machine image may carry a newer client in /usr/local/bin; the engine's own client is used.
FLEET_DOCKER="${FLEET_DOCKER:-/usr/bin/docker}"
FLEET_DOCKERD="${FLEET_DOCKERD:-/usr/sbin/dockerd}"
FLEET_ETC="${FLEET_ETC:-/etc}"
FLEET_BASE_IMAGES="${FLEET_BASE_IMAGES:-$(dirname "${BASH_SOURCE[0]}")/make-base-images.sh}"
FLEET_ENGINE_ONLY="${FLEET_ENGINE_ONLY:-0}"
FLEET_NVIDIA_STANDIN="${FLEET_NVIDIA_STANDIN:-0}"
FLEET_NVIDIA_STANDIN_DIR="${FLEET_NVIDIA_STANDIN_DIR:-/var/lib/fleet-nvidia-standin}"
# The image scripts/make-base-images.sh makes; the GPU check runs /bin/true in it.
FLEET_NVIDIA_PROBE_IMAGE="${FLEET_NVIDIA_PROBE_IMAGE:-fleet-test/bookworm-python:slim}"

fleet_engine_log() { echo "engine-up: $*" >&2; }

fleet_installed_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }

fleet_engine_packages() {
    local want=(
        "docker.io=$FLEET_DOCKER_VERSION" "docker-cli=$FLEET_DOCKER_VERSION"
        "docker-buildx=$FLEET_BUILDX_VERSION" "docker-compose=$FLEET_COMPOSE_VERSION"
    )
    local missing=() spec
    for spec in "${want[@]}"; do
        [ "$(fleet_installed_version "${spec%%=*}")" = "${spec#*=}" ] || missing+=("$spec")
    done
    if [ "$FLEET_ENGINE_ONLY" != 1 ]; then
        command -v debootstrap >/dev/null || missing+=(debootstrap)
        # scripts/package-index.sh builds and serves the stand-in wheels with Python's stdlib.
        command -v python3 >/dev/null || missing+=(python3)
        command -v docker-registry >/dev/null || missing+=(docker-registry)
        command -v htpasswd >/dev/null || missing+=(apache2-utils)
    fi
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ ! -f "$FLEET_ETC/apt/sources.list.d/fleet-trixie.sources" ]; then
        cat > "$FLEET_ETC/apt/sources.list.d/fleet-trixie.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    fi
    # Nothing comes from trixie unless named with its version below.
    cat > "$FLEET_ETC/apt/preferences.d/fleet-trixie" <<'PREFS'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PREFS
    fleet_engine_log "apt-get install ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades "${missing[@]}" >&2
}

fleet_daemon_config() {
    local file="$FLEET_ETC/docker/daemon.json"
    mkdir -p "$FLEET_ETC/docker"
    local config='{ "features": { "containerd-snapshotter": true } }'
    if [ -f "$file" ] && ! grep -q '"containerd-snapshotter": *true' "$file"; then
        fleet_engine_log "$file exists without the containerd image store; add \"features\": {\"containerd-snapshotter\": true} to it and restart dockerd"
        return 1
    fi
    [ -f "$file" ] || echo "$config" > "$file"
}

fleet_server_major() {
    local v
    v="$("$FLEET_DOCKER" version --format '{{.Server.Version}}' 2>/dev/null)" || return 1
    echo "${v%%.*}"
}

# The pid of the dockerd this script started, when that process still runs dockerd.
fleet_own_dockerd() {
    local pid
    [ -f "$FLEET_DOCKERD_PID_FILE" ] || return 1
    pid="$(cat "$FLEET_DOCKERD_PID_FILE")"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
    echo "$pid"
}

# dockerd's PATH: the stand-in NVIDIA directory first when FLEET_NVIDIA_STANDIN=1.
fleet_dockerd_path() {
    if [ "$FLEET_NVIDIA_STANDIN" = 1 ]; then echo "$FLEET_NVIDIA_STANDIN_DIR/bin:$PATH"; else echo "$PATH"; fi
}

fleet_start_dockerd() {
    fleet_engine_log "starting dockerd (log: $FLEET_DOCKERD_LOG)"
    PATH="$(fleet_dockerd_path)" nohup "$FLEET_DOCKERD" >"$FLEET_DOCKERD_LOG" 2>&1 &
    echo $! > "$FLEET_DOCKERD_PID_FILE"
    for _ in $(seq 1 60); do
        "$FLEET_DOCKER" info >/dev/null 2>&1 && return 0
        sleep 1
    done
    fleet_engine_log "dockerd did not start; see $FLEET_DOCKERD_LOG"
    tail -20 "$FLEET_DOCKERD_LOG" >&2
    return 1
}

fleet_stop_own_dockerd() {
    local pid="$1" why="$2"
    fleet_engine_log "stopping the dockerd engine-up started (pid $pid) $why"
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    rm -f "$FLEET_DOCKERD_PID_FILE"
}

fleet_nvidia_calls() {
    if [ -f "$FLEET_NVIDIA_STANDIN_DIR/calls.jsonl" ]; then wc -l <"$FLEET_NVIDIA_STANDIN_DIR/calls.jsonl"; else echo 0; fi
}

# One container with a GPU request: 0 when the stand-in hook recorded it, 1 when the engine has no
# NVIDIA device driver, 2 when another nvidia-container-runtime-hook on dockerd's PATH served it.
fleet_nvidia_check() {
    local before out
    before="$(fleet_nvidia_calls)"
    if ! out="$("$FLEET_DOCKER" run --rm --gpus '"device=0"' --entrypoint /bin/true "$FLEET_NVIDIA_PROBE_IMAGE" 2>&1)"; then
        case "$out" in
            *'could not select device driver'*) return 1 ;;
            *) fleet_engine_log "a container with a GPU request did not start: $out"; exit 1 ;;
        esac
    fi
    [ "$(fleet_nvidia_calls)" -gt "$before" ] || return 2
}

# Before dockerd starts: it looks the hook up once, at start.
fleet_nvidia_install() {
    local from
    from="$(dirname "${BASH_SOURCE[0]}")/nvidia-standin"
    mkdir -p "$FLEET_NVIDIA_STANDIN_DIR/bin"
    install -m 0755 "$from/nvidia-container-runtime-hook" "$from/nvidia-smi" "$FLEET_NVIDIA_STANDIN_DIR/bin/"
}

fleet_nvidia_standin() {
    local own status=0
    fleet_nvidia_check || status=$?
    [ "$status" -eq 0 ] && return 0
    if ! own="$(fleet_own_dockerd)"; then
        if [ "$status" -eq 2 ]; then
            # A dockerd with the real toolkit (a GPU machine) serves the tests as it is.
            fleet_engine_log "the running dockerd, which engine-up did not start, serves GPU requests with another nvidia-container-runtime-hook than the stand-in; left as it is"
            return 0
        fi
        fleet_engine_log "the running dockerd has no NVIDIA device driver and engine-up did not start it, so it is left running. Fix: restart it with $FLEET_NVIDIA_STANDIN_DIR/bin first on its PATH (dockerd registers the driver at start when nvidia-container-runtime-hook is on its PATH), or stop it and run scripts/engine-up.sh again"
        exit 1
    fi
    fleet_stop_own_dockerd "$own" "to start it with the stand-in NVIDIA hook first on its PATH"
    fleet_start_dockerd
    status=0
    fleet_nvidia_check || status=$?
    [ "$status" -eq 0 ] || {
        fleet_engine_log "dockerd with $FLEET_NVIDIA_STANDIN_DIR/bin first on its PATH still does not run the stand-in hook for a GPU request; see $FLEET_DOCKERD_LOG"
        exit 1
    }
}

if [ "$FLEET_NVIDIA_STANDIN" = 1 ] && [ "$FLEET_ENGINE_ONLY" = 1 ]; then
    fleet_engine_log "FLEET_NVIDIA_STANDIN=1 checks the GPU path in the engine tests' base image, which FLEET_ENGINE_ONLY=1 does not make; set one of them"
    exit 1
fi
fleet_engine_packages
fleet_daemon_config
if [ "$FLEET_NVIDIA_STANDIN" = 1 ]; then
    fleet_nvidia_install
fi
if ! "$FLEET_DOCKER" info >/dev/null 2>&1; then
    fleet_start_dockerd
fi
major="$(fleet_server_major)"
if [ "$major" -lt "$FLEET_MIN_ENGINE" ]; then
    if own="$(fleet_own_dockerd)"; then
        fleet_stop_own_dockerd "$own" "to run the upgraded engine"
        fleet_start_dockerd
        major="$(fleet_server_major)"
    else
        fleet_engine_log "the running engine is Docker $major, older than $FLEET_MIN_ENGINE, and engine-up did not start it, so it is left running; the packages are upgraded. Fix: restart it on the new packages (systemctl restart docker, or stop it and run scripts/engine-up.sh again)"
        exit 1
    fi
fi
if [ "$major" -lt "$FLEET_MIN_ENGINE" ]; then
    fleet_engine_log "the restarted engine is still Docker $major, older than $FLEET_MIN_ENGINE; check which dockerd $FLEET_DOCKERD is"
    exit 1
fi
if [ "$FLEET_ENGINE_ONLY" != 1 ]; then
    bash "$FLEET_BASE_IMAGES" >&2
fi
if [ "$FLEET_NVIDIA_STANDIN" = 1 ]; then
    fleet_nvidia_standin
fi
