#!/usr/bin/env bash
# Stops the dockerd that scripts/engine-up.sh started, and only that one (its pid file).
# The registry and the package index have their own scripts (registry.sh, package-index.sh down).
set -euo pipefail
pid_file="${FLEET_DOCKERD_PID_FILE:-/run/fleet-dockerd.pid}"
[ -f "$pid_file" ] || { echo "engine-down: engine-up started no dockerd here" >&2; exit 0; }
pid="$(cat "$pid_file")"
if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm")" = dockerd ]; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
fi
rm -f "$pid_file"
