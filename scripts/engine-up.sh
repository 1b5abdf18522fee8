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
# The script starts dockerd only when no engine answers and keeps that dockerd's pid in
# $FLEET_DOCKERD_PID_FILE; scripts/engine-down.sh stops that one and never another.
# An engine older than the minimum is upgraded (packages); a running old daemon this script did
# not start is left alone, with the command that restarts it.
set -euo pipefail
FLEET_DOCKER_VERSION="26.1.5+dfsg1-9+deb13u1+b1"
FLEET_BUILDX_VERSION="0.13.1+ds1-3"
FLEET_COMPOSE_VERSION="2.26.1-4"
FLEET_MIN_ENGINE=25
FLEET_DOCKERD_PID_FILE="${FLEET_DOCKERD_PID_FILE:-/run/fleet-dockerd.pid}"
FLEET_DOCKERD_LOG="${FLEET_DOCKERD_LOG:-/var/log/fleet-dockerd.log}"
# The machine image may carry a newer client in /usr/local/bin; the engine's own client is used.
FLEET_DOCKER=/usr/bin/docker

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
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    # scripts/package-index.sh builds and serves the stand-in wheels with Python's stdlib.
    command -v python3 >/dev/null || missing+=(python3)
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ ! -f /etc/apt/sources.list.d/fleet-trixie.sources ]; then
        cat > /etc/apt/sources.list.d/fleet-trixie.sources <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    fi
    # Nothing comes from trixie unless named with its version below.
    cat > /etc/apt/preferences.d/fleet-trixie <<'PREFS'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PREFS
    fleet_engine_log "apt-get install ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades "${missing[@]}" >&2
}

fleet_daemon_config() {
    mkdir -p /etc/docker
    local config='{ "features": { "containerd-snapshotter": true } }'
    if [ -f /etc/docker/daemon.json ] && ! grep -q '"containerd-snapshotter": *true' /etc/docker/daemon.json; then
        fleet_engine_log "/etc/docker/daemon.json exists without the containerd image store; add \"features\": {\"containerd-snapshotter\": true} to it and restart dockerd"
        return 1
    fi
    [ -f /etc/docker/daemon.json ] || echo "$config" > /etc/docker/daemon.json
}

fleet_server_major() {
    local v
    v="$("$FLEET_DOCKER" version --format '{{.Server.Version}}' 2>/dev/null)" || return 1
    echo "${v%%.*}"
}

fleet_engine_packages
fleet_daemon_config
if ! "$FLEET_DOCKER" info >/dev/null 2>&1; then
    fleet_engine_log "starting dockerd (log: $FLEET_DOCKERD_LOG)"
    nohup /usr/sbin/dockerd >"$FLEET_DOCKERD_LOG" 2>&1 &
    echo $! > "$FLEET_DOCKERD_PID_FILE"
    for _ in $(seq 1 60); do
        "$FLEET_DOCKER" info >/dev/null 2>&1 && break
        sleep 1
    done
    "$FLEET_DOCKER" info >/dev/null 2>&1 || { fleet_engine_log "dockerd did not start; see $FLEET_DOCKERD_LOG"; tail -20 "$FLEET_DOCKERD_LOG" >&2; exit 1; }
fi
major="$(fleet_server_major)"
if [ "$major" -lt "$FLEET_MIN_ENGINE" ]; then
    fleet_engine_log "the running engine is Docker $major, older than $FLEET_MIN_ENGINE; the packages are upgraded but this dockerd was not started by engine-up. Fix: restart it (systemctl restart docker, or stop it and run this script again)"
    exit 1
fi
bash "$(dirname "${BASH_SOURCE[0]}")/make-base-images.sh" >&2
bash "$(dirname "${BASH_SOURCE[0]}")/package-index.sh" up
