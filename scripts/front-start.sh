#!/usr/bin/env bash
# Run by each front's `<front>-start` command (components/serviceFront.ts) once the provider has
# created it (stopped): its PIDs limit, before its first process (CIS Docker 5.29), then its
# start. It runs as soon as the front exists, beside the start of the host's core tier, so a
# tier's containers do not wait for their fronts' starts (the engine starts one container at a
# time). It waits for nothing else: the service's start command admits the service's container
# once healthy, and waits for the front's health before it ends.
#
# A container of the service from before the fronts still publishes the host ports itself: the
# front cannot bind them yet, and is left to the service's start command, which stops that one
# first (scripts/container-start.sh `ensure_front`).
#
# Usage: scripts/front-start.sh <front> <service> <machine> <pids-limit>    Environment: DOCKER_HOST.
set -euo pipefail
usage="usage: scripts/front-start.sh <front> <service> <machine> <pids-limit>"
front="${1:?$usage}"
service="${2:?$usage}"
machine="${3:?$usage}"
pids="${4:?$usage}"

if ! running="$(docker inspect --format '{{.State.Running}}' "$front" 2>&1)"; then
    echo "$service's front $front cannot be read: $running" >&2
    echo "Fix: a front removed by hand is created again by pulumi up --refresh." >&2
    exit 1
fi
if [ "$running" = true ]; then
    echo "$service's front $front runs already"
    exit 0
fi
if [ -n "$(docker ps --filter "label=fleet.service=$service" --filter "label=fleet.machine=$machine" --format '{{.Ports}}' | tr -d '[:space:]')" ]; then
    echo "$service's front $front: left to the service's start command (a container from before the fronts holds the host ports)"
    exit 0
fi
if ! out="$(docker update --pids-limit "$pids" "$front" 2>&1 >/dev/null && docker start "$front" 2>&1 >/dev/null)"; then
    echo "$service's front $front could not be started: $out" >&2
    echo "Fix: free the host ports it publishes (docker ps --filter publish=<port>), then run pulumi up again." >&2
    exit 1
fi
echo "$service's front $front: started, PIDs limit $pids"
