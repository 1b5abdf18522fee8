#!/usr/bin/env bash
# Stops the dockerd and the package index that scripts/engine-up.sh started, and only those
# (their pid files).
set -euo pipefail
# The engine tests' package index that engine-up started (its own pid file).
bash "$(dirname "${BASH_SOURCE[0]}")/package-index.sh" down
pid_file="${FLEET_DOCKERD_PID_FILE:-/run/fleet-dockerd.pid}"
[ -f "$pid_file" ] || { echo "engine-down: engine-up started no dockerd here" >&2; exit 0; }
pid="$(cat "$pid_file")"
if kill -0 "$pid" 2>/dev/null && [ "$(cat "/proc/$pid/comm")" = dockerd ]; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
fi
rm -f "$pid_file"
