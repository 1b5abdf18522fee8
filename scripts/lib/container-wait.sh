#!/usr/bin/env bash
# Waiting for a container to turn healthy, on the engine's event stream rather than by polling:
# sourced by scripts/container-start.sh (every service container's start) and
# scripts/host-front.sh (the host front's first start). Each `docker` call is a process on the
# machine that runs the deploy and a request to the engine; with every container of a host
# starting at once they were the start commands' main cost (docs/performance.md).
# Sets and reads the caller's globals `info` (a container's last state), `look`, `events_fd` and
# `events_pid`.
set -euo pipefail

# One line: status, health, exit code and restarts; then the health log, one quoted line a probe.
state() {
    docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}} {{.State.ExitCode}} {{.RestartCount}}{{with .State.Health}}{{range .Log}}{{"\n"}}{{.ExitCode}} {{printf "%q" .Output}}{{end}}{{end}}' "$1"
}

# Marks the time of a look at a container's state, one second early: `next_event` replays from
# there, so an event between the look and its subscription is not missed.
mark() {
    local now="${EPOCHREALTIME/,/.}"
    look="$((${now%.*} - 1)).${now#*.}"
}

# Blocks until container $1 has a die or health-status event since the last look (the
# engine's event stream: no polling while a container starts), for at most $2 seconds and at most
# 2 s (a clock ahead of the host's cannot hide an event for longer), then 0.25 s more.
next_event() {
    local wait=$2 pid events
    [ "$wait" -le 2 ] || wait=2
    [ "$wait" -gt 0 ] || return 0
    exec {events}< <(exec timeout "$wait" docker events --since "$look" --filter "container=$1" \
        --filter event=die --filter event=health_status --format '{{.Action}}' 2>/dev/null)
    pid=$!
    read -r -u "$events" _ || true
    kill "$pid" 2>/dev/null || true
    exec {events}<&-
    sleep 0.25
}

# Waits until $1 is running and healthy, at most $2 seconds; sets `info` to its last state.
wait_healthy() {
    local deadline=$((SECONDS + $2)) status health
    while :; do
        mark
        info="$(state "$1")"
        read -r status health _ <<<"$(head -n 1 <<<"$info")"
        if [ "$health" = healthy ] && [ "$status" = running ]; then return 0; fi
        [ "$SECONDS" -lt "$deadline" ] || return 1
        next_event "$1" $((deadline - SECONDS))
    done
}

# The engine's event stream of container $1 (its die and health-status events) from a second
# before now, open on `events_fd` until `unwatch`: a container this command starts is waited for
# on the events as they come, without a look at its state between them.
watch() {
    local now="${EPOCHREALTIME/,/.}"
    exec {events_fd}< <(exec docker events --since "$((${now%.*} - 1)).${now#*.}" --filter "container=$1" \
        --filter event=die --filter event=health_status --format '{{.Action}}' 2>/dev/null)
    events_pid=$!
}

unwatch() {
    kill "$events_pid" 2>/dev/null || true
    exec {events_fd}<&-
}

# Waits until container $1, started since `watch`, reports healthy, at most $2 seconds; sets
# `info` when it does not. A stream that ends early (the engine restarted) leaves the rest of the
# wait to the looks of wait_healthy.
wait_started() {
    local deadline=$((SECONDS + $2)) action
    while [ "$SECONDS" -lt "$deadline" ] && read -r -t $((deadline - SECONDS)) -u "$events_fd" action; do
        if [ "$action" = "health_status: healthy" ]; then
            unwatch
            return 0
        fi
    done
    unwatch
    local left=$((deadline - SECONDS))
    [ "$left" -gt 0 ] || left=0
    wait_healthy "$1" "$left"
}
