#!/usr/bin/env bash
# Run by each container's `<container>-start` command (components/serviceContainer.ts,
# components/dockerApiProxy.ts) once the provider has created the container: it takes over from
# the container it replaces, or gives the service back to it.
#
#   1. `docker update --pids-limit`, before the container's first process (the provider has no
#      input for it, CIS Docker 5.29).
#   2. Its predecessors: the other running containers labelled with the same fleet.service and
#      fleet.machine (in a replacement, the old container; the engine keeps it, pending
#      deletion, until the whole `up` succeeded: pulumi/pulumi pkg/resource/deploy/step.go
#      CreateStep.Apply marks it, step_generator.go GenerateDeletes deletes it at the end). They
#      are stopped with Docker's grace (SIGTERM, then SIGKILL after the container's stop
#      timeout): they hold the host ports, and a GPU service's the card's memory.
#   3. The container is started (the proxy's, started by the provider, is found running) and
#      waited for until healthy, up to its wait; when it replaced a predecessor it must then stay
#      running and healthy, without a restart, for <stable-seconds>.
#   4. Otherwise it is stopped, its predecessors are started again and waited for, and the run
#      fails, naming the service, its state, its last health-check output and log lines.
#
# Why a command and not the provider's `wait`: a refresh forgets a create's init errors
# (pulumi/pulumi step.go `RefreshStep.Apply`; the bridge returns them from Create and Update
# only, pulumi-terraform-bridge pkg/tfbridge/provider.go `initializationError`), and the next
# `up` turned green over an unhealthy container (pulumi/pulumi#17949). A command that never
# succeeded keeps no state (pulumi-go-provider: a failed Create keeps nothing), so every later
# `up`, refreshed or not, runs it again and it fails again, until the container is healthy.
#
# Usage: scripts/container-start.sh <container> <service> <machine> <pids-limit> <wait-seconds> <stable-seconds>
# Environment: DOCKER_HOST (the host's engine). Exit status 0 once healthy (and stable); 1 with the reason.
set -euo pipefail
usage="usage: scripts/container-start.sh <container> <service> <machine> <pids-limit> <wait-seconds> <stable-seconds>"
container="${1:?$usage}"
service="${2:?$usage}"
machine="${3:?$usage}"
pids="${4:?$usage}"
wait_seconds="${5:?$usage}"
stable_seconds="${6:?$usage}"

if ! out="$(docker update --pids-limit "$pids" "$container" 2>&1)"; then
    echo "$service ($container): its PIDs limit could not be set: $out" >&2
    echo "Fix: run pulumi up again; a container removed by hand is created again by pulumi up --refresh." >&2
    exit 1
fi

# One line: status, health, exit code and restarts; then the health log, one quoted line a probe.
state() {
    docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}} {{.State.ExitCode}} {{.RestartCount}}{{with .State.Health}}{{range .Log}}{{"\n"}}{{.ExitCode}} {{printf "%q" .Output}}{{end}}{{end}}' "$1"
}

# Waits until $1 is running and healthy, at most $2 seconds; sets `info` to its last state.
wait_healthy() {
    local deadline=$((SECONDS + $2)) status health
    while :; do
        info="$(state "$1")"
        read -r status health _ <<<"$(head -n 1 <<<"$info")"
        if [ "$health" = healthy ] && [ "$status" = running ]; then return 0; fi
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 1
    done
}

# Holds for $2 seconds while $1 stays running and healthy with $3 restarts; sets `info`.
stays_healthy() {
    local deadline=$((SECONDS + $2)) status health restarts
    while [ "$SECONDS" -lt "$deadline" ]; do
        sleep 1
        info="$(state "$1")"
        read -r status health _ restarts <<<"$(head -n 1 <<<"$info")"
        if [ "$status" != running ] || [ "$health" != healthy ] || [ "$restarts" != "$3" ]; then return 1; fi
    done
}

# The reason the container is not taking over, from its last state (`info`).
report() {
    local status health code restarts last probe
    read -r status health code restarts <<<"$(head -n 1 <<<"$info")"
    last="$(tail -n +2 <<<"$info" | tail -n 1)"
    if [ -n "$last" ]; then
        probe="its last health check exited ${last%% *} with ${last#* }"
    else
        probe="no health check has run yet"
    fi
    echo "$service ($container) $1: state $status, health $health, exit code $code, restarted $restarts times; $probe." >&2
    echo "Its last log lines (docker logs --tail 5 $container):" >&2
    docker logs --tail 5 "$container" 2>&1 | sed 's/^/  /' >&2 || true
}

# Stops the container and starts its predecessors again; says whether each is healthy.
give_back() {
    docker stop "$container" >/dev/null 2>&1 || true
    local p name
    for p in "${previous[@]}"; do
        name="$(docker inspect --format '{{.Name}}' "$p" 2>/dev/null || echo "$p")"
        name="${name#/}"
        if docker start "$p" >/dev/null 2>&1 && wait_healthy "$p" "$wait_seconds"; then
            echo "$service: the previous container $name runs again, healthy." >&2
        else
            echo "$service: the previous container $name did not come back healthy; the service is down." >&2
        fi
    done
}

fail() {
    report "$1"
    if [ "${#previous[@]}" -gt 0 ]; then give_back; fi
    echo "Fix: correct the service's image or pin the image it ran before (README, Rollback), then run pulumi up again." >&2
    exit 1
}

self="$(docker inspect --format '{{.Id}} {{.State.Running}}' "$container")"
read -r self_id running <<<"$self"
previous=()
if [ "$running" != true ]; then
    while read -r id; do
        [ -n "$id" ] && [ "$id" != "$self_id" ] && previous+=("$id")
    done < <(docker ps --no-trunc --quiet --filter "label=fleet.service=$service" --filter "label=fleet.machine=$machine")
    # None running: an `up` interrupted after it stopped the old container. The one that stopped
    # last served until then (earlier failed attempts were stopped before it was given back).
    if [ "${#previous[@]}" -eq 0 ]; then
        last="$(docker ps --all --no-trunc --quiet --filter "label=fleet.service=$service" --filter "label=fleet.machine=$machine" --filter status=exited |
            grep -vx "$self_id" | xargs -r docker inspect --format '{{.State.FinishedAt}} {{.Id}}' | sort | tail -n 1 | cut -d ' ' -f 2)" || true
        [ -z "$last" ] || previous+=("$last")
    fi
    for p in "${previous[@]}"; do docker stop "$p" >/dev/null; done
    if ! out="$(docker start "$container" 2>&1)"; then
        info="$(state "$container")"
        fail "could not start ($out)"
    fi
fi

if ! wait_healthy "$container" "$wait_seconds"; then
    fail "is not healthy after ${wait_seconds} s"
fi
if [ "${#previous[@]}" -gt 0 ] && [ "$stable_seconds" -gt 0 ]; then
    read -r _ _ _ restarts <<<"$(head -n 1 <<<"$info")"
    if ! stays_healthy "$container" "$stable_seconds" "$restarts"; then
        fail "turned healthy, then did not stay so for ${stable_seconds} s"
    fi
fi
if [ "${#previous[@]}" -gt 0 ]; then
    echo "$service ($container): healthy, PIDs limit $pids, took over from ${#previous[@]} previous container(s)"
else
    echo "$service ($container): healthy, PIDs limit $pids"
fi
