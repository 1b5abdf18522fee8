#!/usr/bin/env bash
# Stops what scripts/engine-up.sh started, and only that (its pid files): the package index, the
# registry, then dockerd.
set -euo pipefail

# stop_started NAME PID_FILE COMM: stops the process of PID_FILE if it is still COMM.
stop_started() {
    local name="$1" pid_file="$2" comm="$3" pid
    [ -f "$pid_file" ] || { echo "engine-down: engine-up started no $name here" >&2; return 0; }
    pid="$(cat "$pid_file")"
    if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm")" = "$comm" ]; then
        kill "$pid"
        for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    rm -f "$pid_file"
}

# The engine tests' package index (its own pid file).
bash "$(dirname "${BASH_SOURCE[0]}")/package-index.sh" down
stop_started docker-registry "${FLEET_REGISTRY_PID_FILE:-/run/fleet-registry.pid}" docker-registry
stop_started dockerd "${FLEET_DOCKERD_PID_FILE:-/run/fleet-dockerd.pid}" dockerd
