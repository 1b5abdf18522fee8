#!/usr/bin/env bash
# Sourced by .ci/run (or run alone): a supported Docker engine (>= 25) answering on
# /var/run/docker.sock, its buildx and compose plugins, and the engine tests' base image.
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
# A real registry for the push-shaped engine stack (test/engine/push-overrides.yaml): Debian's
# docker-registry (distribution 2.8) on 127.0.0.1:5000, with a config file this script writes and
# its storage under $FLEET_REGISTRY_DIR; its pid is kept in $FLEET_REGISTRY_PID_FILE so that
# engine-down stops it. apache2-utils brings htpasswd for the engine test's second registry, the
# one with authentication.
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
FLEET_REGISTRY_ADDR=127.0.0.1:5000
FLEET_REGISTRY_DIR="${FLEET_REGISTRY_DIR:-/var/tmp/fleet-registry}"
FLEET_REGISTRY_PID_FILE="${FLEET_REGISTRY_PID_FILE:-/run/fleet-registry.pid}"
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
    command -v docker-registry >/dev/null || missing+=(docker-registry)
    command -v htpasswd >/dev/null || missing+=(apache2-utils)
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

fleet_registry_up() { curl -fsS -o /dev/null "http://$FLEET_REGISTRY_ADDR/v2/" 2>/dev/null; }

# Starts the registry unless one already answers on its address (an earlier engine-up's).
fleet_registry() {
    fleet_registry_up && return 0
    mkdir -p "$FLEET_REGISTRY_DIR/data"
    cat > "$FLEET_REGISTRY_DIR/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $FLEET_REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $FLEET_REGISTRY_ADDR
CONFIG
    fleet_engine_log "starting docker-registry on $FLEET_REGISTRY_ADDR (storage: $FLEET_REGISTRY_DIR/data)"
    nohup docker-registry serve "$FLEET_REGISTRY_DIR/config.yml" >"$FLEET_REGISTRY_DIR/registry.log" 2>&1 &
    echo $! > "$FLEET_REGISTRY_PID_FILE"
    for _ in $(seq 1 30); do
        fleet_registry_up && return 0
        sleep 1
    done
    fleet_engine_log "docker-registry did not answer on $FLEET_REGISTRY_ADDR; see $FLEET_REGISTRY_DIR/registry.log"
    return 1
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
fleet_registry
bash "$(dirname "${BASH_SOURCE[0]}")/make-base-images.sh" >&2
