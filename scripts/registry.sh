#!/usr/bin/env bash
# registry.sh up|down
# The real registry of the push-shaped engine stack (test/engine/push-overrides.yaml): Debian's
# docker-registry (distribution 2.8, installed by scripts/engine-up.sh) on 127.0.0.1:5000 (this
# port is reserved for it; $FLEET_REGISTRY_ADDR moves it, for the script's own test), with a
# config file this script writes under $FLEET_REGISTRY_DIR.
# `up` starts it unless one already answers there and keeps its pid in $FLEET_REGISTRY_PID_FILE;
# a registry this script started with another config is restarted. `down` stops that process
# and no other.
#
# Storage is distribution 2.8's filesystem driver, which writes a tag's link file in place
# (PutContent opens it with Writer(append=false), which truncates, then writes; distribution 3
# writes a temporary file and renames it: registry/storage/driver/filesystem/driver.go). The
# daemon's pusher PUTs an image index and its manifests to one tag over parallel connections and
# HEADs the tag first, so a HEAD now and then reads an empty link and gets a 500 ("invalid
# checksum digest format"). The engine harness retries a build that failed on exactly that
# (test/engine/harness.ts, registryTagRace). The inmemory driver has no such race, but it grows
# a blob by copying it on every write: the suite's pushes took it minutes of CPU.
set -euo pipefail
addr="${FLEET_REGISTRY_ADDR:-127.0.0.1:5000}"
dir="${FLEET_REGISTRY_DIR:-/var/tmp/fleet-registry}"
pid_file="${FLEET_REGISTRY_PID_FILE:-/run/fleet-registry.pid}"
config="version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $addr"

answers() { python3 -c "import urllib.request; urllib.request.urlopen('http://$addr/v2/', timeout=2)" 2>/dev/null; }

# The pid of the docker-registry this script started, if it still runs.
ours() {
    [ -f "$pid_file" ] || return 1
    local pid
    pid="$(cat "$pid_file")"
    kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = docker-registry ] && echo "$pid"
}

stop() {
    local pid
    if pid="$(ours)"; then
        kill "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    fi
    rm -f "$pid_file"
}

case "${1:-}" in
up)
    if answers; then
        if ours >/dev/null && [ "$(cat "$dir/config.yml" 2>/dev/null)" != "$config" ]; then
            echo "registry: restarting the docker-registry on $addr with the current config" >&2
            stop
        else
            exit 0
        fi
    fi
    mkdir -p "$dir/data"
    printf '%s\n' "$config" > "$dir/config.yml"
    echo "registry: starting docker-registry on $addr (storage: $dir/data)" >&2
    nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    echo $! > "$pid_file"
    for _ in $(seq 1 30); do
        answers && exit 0
        sleep 1
    done
    echo "registry: docker-registry did not answer on $addr; see $dir/registry.log" >&2
    exit 1
    ;;
down)
    stop
    ;;
*)
    echo "usage: registry.sh up|down" >&2
    exit 2
    ;;
esac
