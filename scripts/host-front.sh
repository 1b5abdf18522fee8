#!/usr/bin/env bash
# Run by each host's `<host>-front-start` command (components/hostFront.ts) with the host front's
# configuration (fleet/render/front.ts renderHostFrontConfig) on standard input, when the front's
# container is created and whenever the configuration changes:
#   1. HAProxy itself checks the configuration (scripts/front-check.sh), in a throw-away container
#      of the front's image: a configuration it refuses fails the `up` here, before anything changed.
#   2. The configuration is copied into the front's volume (`docker cp` writes to a volume of a
#      stopped or running container whose root is read-only: moby v26.1.5 daemon/archive.go
#      containerExtractToDir refuses only a write to the read-only root).
#   3. A running front reloads (fleet-front-ctl reload: the listeners pass to the new worker, no
#      connection is dropped, the admitted slots are kept). A front not running yet gets its PIDs
#      limit and is started, and is waited for until healthy (on the engine's events:
#      scripts/lib/container-wait.sh). Containers of the fleet's earlier
#      design that hold the host's ports (one front per service, label fleet.role=front) are
#      stopped first: the engine deletes them at the end of the `up`.
#
# Usage: scripts/host-front.sh <front-container> <machine> <image> <pids-limit> <wait-seconds>
# Environment: DOCKER_HOST. Exit status 0 once the front runs the configuration; 1 with the reason.
set -euo pipefail
usage="usage: scripts/host-front.sh <front-container> <machine> <image> <pids-limit> <wait-seconds>"
front="${1:?$usage}"
machine="${2:?$usage}"
image="${3:?$usage}"
pids="${4:?$usage}"
wait_seconds="${5:?$usage}"
run=/run/fleet-front
# state, watch, unwatch, wait_started (the start commands' wait on the engine's events).
# shellcheck source=scripts/lib/container-wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/container-wait.sh"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/haproxy.cfg"

config_json="$(python3 -c 'import json,sys; print(json.dumps({"the host front": open(sys.argv[1]).read()}))' "$work/haproxy.cfg")"
if ! out="$(bash scripts/front-check.sh "$image" <<<"$config_json" 2>&1)"; then
    echo "$out" >&2
    exit 1
fi

# Copies $1 (a file of $work) into the front's volume as $2.
copy_in() {
    cp "$work/$1" "$work/stage/$2"
    tar -C "$work/stage" --owner=10001 --group=10001 --mode=0600 -c "$2" | docker cp - "$front:$run/"
    rm "$work/stage/$2"
}
mkdir "$work/stage"

running="$(docker inspect --format '{{.State.Running}}' "$front")"
if [ "$running" = true ]; then
    copy_in haproxy.cfg haproxy.cfg.new
    if ! out="$(docker exec "$front" fleet-front-ctl reload "$wait_seconds" 2>&1)"; then
        echo "$machine's host front ($front): $out" >&2
        exit 1
    fi
    echo "$machine's host front ($front): $out"
    exit 0
fi

copy_in haproxy.cfg haproxy.cfg
# A first start has no server-state file yet: an empty one spares HAProxy's warning.
if ! docker cp "$front:$run/servers.state" - >/dev/null 2>&1; then
    : >"$work/servers.state"
    copy_in servers.state servers.state
fi
# The fleet's earlier fronts hold the ports this one binds.
mapfile -t earlier < <(docker ps --quiet --filter label=fleet.role=front --filter "label=fleet.machine=$machine")
if [ "${#earlier[@]}" -gt 0 ]; then
    docker stop "${earlier[@]}" >/dev/null
    echo "$machine: stopped ${#earlier[@]} front(s) of the earlier design, one per service (the engine deletes them at the end of the up)"
fi
watch "$front"
if ! out="$(docker update --pids-limit "$pids" "$front" 2>&1 && docker start "$front" 2>&1)"; then
    unwatch
    echo "$machine's host front ($front) could not start: $out" >&2
    exit 1
fi
if ! wait_started "$front" "$wait_seconds"; then
    read -r status health _ <<<"$(head -n 1 <<<"$info")"
    echo "$machine's host front ($front) is $status, health $health (waited up to ${wait_seconds} s); its last log lines:" >&2
    docker logs --tail 10 "$front" 2>&1 | sed 's/^/  /' >&2 || true
    exit 1
fi
echo "$machine's host front ($front): started, healthy, PIDs limit $pids"
