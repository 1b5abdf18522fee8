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
# Storage is `inmemory`, not `filesystem`. Distribution 2.8's filesystem driver writes a tag's
# link file in place (PutContent opens it with Writer(append=false), which truncates, then
# writes), so a HEAD of a tag that is being PUT can read an empty link and answer 500 "invalid
# checksum digest format". The daemon's pusher PUTs an image index and its manifests to the
# same tag over parallel connections and HEADs the tag first, so a push hits that window now
# and then (a CI run failed on it). Distribution 3 writes a temporary file and renames it
# (registry/storage/driver/filesystem/driver.go, PutContent); Debian 12 and 13 ship 2.8. The
# inmemory driver holds a lock across each write and read. The production registry (ghcr.io)
# is not this program. test/engine/registry.test.ts races PUTs and HEADs of one tag.
set -euo pipefail
addr="${FLEET_REGISTRY_ADDR:-127.0.0.1:5000}"
dir="${FLEET_REGISTRY_DIR:-/var/tmp/fleet-registry}"
pid_file="${FLEET_REGISTRY_PID_FILE:-/run/fleet-registry.pid}"
config="version: 0.1
log:
  level: warn
storage:
  inmemory: {}
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
    mkdir -p "$dir"
    printf '%s\n' "$config" > "$dir/config.yml"
    echo "registry: starting docker-registry on $addr (storage: in memory)" >&2
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
