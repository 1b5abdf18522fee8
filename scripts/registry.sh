#!/usr/bin/env bash
# registry.sh up|down
# The real registry of the push-shaped engine stack (test/engine/push-overrides.yaml): Debian's
# docker-registry (distribution 2.8, installed by scripts/engine-up.sh) on 127.0.0.1:5000 (this
# port is reserved for it), with a config file this script writes and its storage under
# $FLEET_REGISTRY_DIR. `up` starts it unless one already answers there and keeps its pid in
# $FLEET_REGISTRY_PID_FILE; `down` stops that process and no other.
set -euo pipefail
addr=127.0.0.1:5000
dir="${FLEET_REGISTRY_DIR:-/var/tmp/fleet-registry}"
pid_file="${FLEET_REGISTRY_PID_FILE:-/run/fleet-registry.pid}"

answers() { python3 -c "import urllib.request; urllib.request.urlopen('http://$addr/v2/', timeout=2)" 2>/dev/null; }

case "${1:-}" in
up)
    answers && exit 0
    mkdir -p "$dir/data"
    cat > "$dir/config.yml" <<CONFIG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $addr
CONFIG
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
    if [ -f "$pid_file" ]; then
        pid="$(cat "$pid_file")"
        if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm")" = docker-registry ]; then kill "$pid"; fi
        rm -f "$pid_file"
    fi
    ;;
*)
    echo "usage: registry.sh up|down" >&2
    exit 2
    ;;
esac
