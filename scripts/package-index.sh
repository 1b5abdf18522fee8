#!/usr/bin/env bash
# package-index.sh up|down
# The engine tests' package index: stand-in wheels of every pin in fleet/data/families.yaml and
# of the fixture services' requirements (test/fixtures/package-index/distributions.json), built
# by scripts/make-stand-in-wheels.py and served as a PEP 503 simple index on
# http://127.0.0.1:3141/simple/ (this port is reserved for it). Builds reach it through the
# build's host network (fleet:buildNetwork host in test/engine/local-overrides.yaml).
# `up` keeps the server's pid in $FLEET_INDEX_PID_FILE; `down` stops that process and no other.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${FLEET_INDEX_DIR:-/var/tmp/fleet-package-index}"
pid_file="${FLEET_INDEX_PID_FILE:-/run/fleet-package-index.pid}"
address=127.0.0.1
port=3141
url="http://$address:$port/simple/"

running() { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }

case "${1:-}" in
up)
    rm -rf "$dir.new"
    python3 "$root/scripts/make-stand-in-wheels.py" "$root/test/fixtures/package-index/distributions.json" "$dir.new" >&2
    rm -rf "$dir" && mv "$dir.new" "$dir"
    if ! running; then
        nohup python3 -m http.server "$port" --bind "$address" --directory "$dir" >"$dir.log" 2>&1 &
        echo $! > "$pid_file"
    fi
    for _ in $(seq 1 30); do
        python3 -c "import urllib.request; urllib.request.urlopen('$url', timeout=2)" 2>/dev/null && { echo "package-index: $url (pid $(cat "$pid_file"))" >&2; exit 0; }
        sleep 0.5
    done
    echo "package-index: $url does not answer; see $dir.log" >&2
    exit 1
    ;;
down)
    if running; then kill "$(cat "$pid_file")"; fi
    rm -f "$pid_file"
    ;;
*)
    echo "usage: package-index.sh up|down" >&2
    exit 2
    ;;
esac
