#!/usr/bin/env bash
# Run by each container's `<container>-start` command (components/serviceContainer.ts,
# components/dockerApiProxy.ts) once the provider has created the container: it takes over from
# the container it replaces, or leaves the service to it.
#
#   1. `docker update --pids-limit`, before the container's first process (the provider has no
#      input for it, CIS Docker 5.29).
#   2. Its predecessors: the other running containers labelled with the same fleet.service and
#      fleet.machine (in a replacement, the old container; the engine keeps it, pending
#      deletion, until the whole `up` succeeded: pulumi/pulumi pkg/resource/deploy/step.go
#      CreateStep.Apply marks it, step_generator.go GenerateDeletes deletes it at the end).
#      `overlap` (CPU services): the container starts beside them. `stop-first` (a GPU service,
#      whose card holds one copy of its model; the Docker API proxy): they are drained from the
#      front and stopped first.
#   3. The container is waited for until healthy, up to its wait; when it replaced a predecessor
#      it must then stay running and healthy, without a restart, for <stable-seconds>. Between two
#      looks at its state the script waits on the engine's events for it, not a fixed poll.
#   4. The host front admits it: from its start on (`fleet-front-ctl stage`), in each of the
#      service's listen sections a free slot takes the container's name (`<container>.<network>`,
#      which Docker's DNS answers) drained, so HAProxy resolves and checks it but sends it
#      nothing; once it is healthy the slots are set ready and must be up on every port. HAProxy
#      2.6 marks a server up as soon as it has an address, before a check: so the container is
#      only made ready once it is healthy. In `overlap` this comes after the stability window of
#      step 3 (the predecessors serve meanwhile); in `stop-first` before it, since nothing else
#      serves: the new container serves through its window.
#   5. The predecessors still running get no new connection (`drain`), up to <drain-seconds> to
#      finish the open ones, and are stopped (SIGTERM, then SIGKILL after their stop timeout).
#   6. Otherwise the container is stopped and its predecessors keep serving (those stopped for it
#      are started again and waited for), and the run fails, naming the service, its state, its
#      last health-check output and log lines.
#
# Why a command and not the provider's `wait`: a refresh forgets a create's init errors
# (pulumi/pulumi step.go `RefreshStep.Apply`; the bridge returns them from Create and Update
# only, pulumi-terraform-bridge pkg/tfbridge/provider.go `initializationError`), and the next
# `up` turned green over an unhealthy container (pulumi/pulumi#17949). A command that never
# succeeded keeps no state (pulumi-go-provider: a failed Create keeps nothing), so every later
# `up`, refreshed or not, runs it again and it fails again, until the container is healthy.
#
# Usage: scripts/container-start.sh <container> <service> <machine> <pids-limit> <wait-seconds> <stable-seconds>
#            [<overlap|stop-first> <front> <network> <listen>,... <admit-seconds> <drain-seconds>]
# Without the front's arguments (the Docker API proxy): stop-first, no front.
# Environment: DOCKER_HOST (the host's engine); FLEET_START_TRACE, a file each step's time is
# appended to (`<epoch seconds> <service> <step>`, where a start spends its time). Exit status 0
# once healthy (and stable) and serving; 1 with the reason.
set -euo pipefail
usage="usage: scripts/container-start.sh <container> <service> <machine> <pids-limit> <wait-seconds> <stable-seconds> [<overlap|stop-first> <front> <network> <listen>,... <admit-seconds> <drain-seconds>]"
container="${1:?$usage}"
service="${2:?$usage}"
machine="${3:?$usage}"
pids="${4:?$usage}"
wait_seconds="${5:?$usage}"
stable_seconds="${6:?$usage}"
takeover="${7:-stop-first}"
front="${8:-}"
if [ -n "$front" ]; then
    network="${9:?$usage}"
    listens="${10:?$usage}"
    admit_seconds="${11:?$usage}"
    drain_seconds="${12:?$usage}"
fi
case "$takeover" in overlap | stop-first) ;; *) echo "$usage" >&2; exit 2 ;; esac

trace() {
    [ -z "${FLEET_START_TRACE:-}" ] || echo "${EPOCHREALTIME/,/.} $service $1" >>"$FLEET_START_TRACE"
}
trace begin

if ! out="$(docker update --pids-limit "$pids" "$container" 2>&1)"; then
    echo "$service ($container): its PIDs limit could not be set: $out" >&2
    echo "Fix: run pulumi up again; a container removed by hand is created again by pulumi up --refresh." >&2
    exit 1
fi

# state, mark, next_event, wait_healthy, watch, unwatch, wait_started.
# shellcheck source=scripts/lib/container-wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/container-wait.sh"

# Holds for $2 seconds while $1 stays running and healthy with $3 restarts; sets `info`.
stays_healthy() {
    local deadline=$((SECONDS + $2)) status health restarts
    mark
    while :; do
        next_event "$1" $((deadline - SECONDS))
        mark
        info="$(state "$1")"
        read -r status health _ restarts <<<"$(head -n 1 <<<"$info")"
        if [ "$status" != running ] || [ "$health" != healthy ] || [ "$restarts" != "$3" ]; then return 1; fi
        [ "$SECONDS" -lt "$deadline" ] || return 0
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

# fleet-front-ctl in the host front. The front's own command starts it beside the services'
# starts (scripts/host-front.sh), so a container can be healthy before the front runs: waits up
# to the admission time for it; a stage, which begins at the container's start, as long as the
# container's own wait as well.
front_ctl() {
    local deadline=$((SECONDS + admit_seconds)) out interactive=()
    # A staged admission reads its go-ahead from stdin.
    if [ "$1" = stage ]; then
        interactive=(-i)
        deadline=$((deadline + wait_seconds))
    fi
    while :; do
        if out="$(docker exec "${interactive[@]}" "$front" fleet-front-ctl "$@" 2>&1)"; then
            echo "$out"
            return 0
        fi
        case "$out" in
            *"is not running"* | *"No such container"*) [ "$SECONDS" -lt "$deadline" ] || { echo "$out"; return 1; } ;;
            *) echo "$out"; return 1 ;;
        esac
        sleep 0.2
    done
}

# The admission, staged while the container starts (`fleet-front-ctl stage`, one `docker exec` held
# open): its slots in the front take its name drained, so HAProxy has resolved and checked it by the
# time it is healthy, and the go-ahead makes it serve at once. Admitted only once healthy, each
# container waited for HAProxy's next resolution and its first check: 0.5 to 2 s of every start
# (docs/performance.md). Its answer and status go to files: the stage runs beside this script.
stage_fd=
stage() {
    [ -n "$front" ] || return 0
    stage_out="$(mktemp)"
    trap 'rm -f "$stage_out" "$stage_out.status"' EXIT
    # Its own output goes nowhere else: the command's stdout is not held open by it.
    exec {stage_fd}> >(
        if front_ctl stage "$container.$network" "$admit_seconds" "$listens" >"$stage_out" 2>&1; then
            echo 0 >"$stage_out.status"
        else
            echo 1 >"$stage_out.status"
        fi >/dev/null 2>&1
    )
}

# Ends the staged admission: with `ready` said first it admits the container, else it frees the
# slots it took. Waits for its answer as long as the stage may still wait for the front to run,
# then for the admission, and 30 s more.
unstage() {
    [ -n "$stage_fd" ] || return 0
    exec {stage_fd}>&-
    stage_fd=
    local deadline=$((SECONDS + wait_seconds + 2 * admit_seconds + 30))
    while [ ! -s "$stage_out.status" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
}

# The go-ahead to the staged admission; 0 once the container serves on every port, else 1 with
# the front's words in `out`.
admitted() {
    # A stage that failed already has closed its end: the write's SIGPIPE ends only the subshell.
    (echo ready >&"$stage_fd") 2>/dev/null || true
    unstage
    out="$(cat "$stage_out")"
    if [ ! -s "$stage_out.status" ]; then
        out="fleet-front-ctl stage gave no answer${out:+: $out}"
        return 1
    fi
    [ "$(cat "$stage_out.status")" != 0 ] || return 0
    # A stage that ended without a word was killed (the kernel's OOM killer in the front's memory
    # cgroup did, in a benchmark run): the slots it took still hold the name, and a plain
    # admission sets them ready.
    [ -z "$out" ] || return 1
    trace restaged
    out="$(front_ctl admit "$container.$network" "$admit_seconds" "$listens")"
}

# The name the host front admits container $1 under: its own, qualified with the network's.
backend_name() {
    local name
    name="$(docker inspect --format '{{.Name}}' "$1" 2>/dev/null)" || return 1
    echo "${name#/}.$network"
}

# The front stops sending container $1 new connections and gives the open ones up to the drain.
retire() {
    [ -n "$front" ] || return 0
    local name
    name="$(backend_name "$1")" || return 0
    front_ctl retire "$name" "$drain_seconds" >/dev/null 2>&1 || true
}

# Stops the container and leaves the service to its predecessors: the running ones kept serving;
# those stopped for it are started again. Says which serves.
give_back() {
    retire "$container"
    docker stop "$container" >/dev/null 2>&1 || true
    local p name
    for p in "${serving[@]}"; do
        name="$(docker inspect --format '{{.Name}}' "$p" 2>/dev/null || echo "$p")"
        echo "$service: the previous container ${name#/} kept serving." >&2
    done
    for p in "${stopped[@]}"; do
        name="$(docker inspect --format '{{.Name}}' "$p" 2>/dev/null || echo "$p")"
        name="${name#/}"
        if docker start "$p" >/dev/null 2>&1 && wait_healthy "$p" "$wait_seconds"; then
            # Retired before it stopped: the front admits it again.
            if [ -n "$front" ] && ! front_ctl admit "$(backend_name "$p")" "$admit_seconds" "$listens" >/dev/null 2>&1; then
                echo "$service: the previous container $name runs again, healthy, but the host front $front does not admit it; the service does not answer until it does." >&2
                continue
            fi
            echo "$service: the previous container $name runs again, healthy." >&2
        else
            echo "$service: the previous container $name did not come back healthy; the service is down." >&2
        fi
    done
}

fail() {
    report "$1"
    # Its staged slots are freed before anything is given back.
    unstage
    # A first deploy has nothing to give back: the container is left as it is, for its logs.
    if [ $((${#serving[@]} + ${#stopped[@]})) -gt 0 ]; then give_back; fi
    echo "Fix: correct the service's image or pin the image it ran before (README, Rollback), then run pulumi up again." >&2
    exit 1
}

# Stops predecessor $1 for the new container, to be started again if the new one fails.
stop_for_takeover() {
    retire "$1"
    docker stop "$1" >/dev/null
    stopped+=("$1")
}

# The container, and every container of the service on the host in one listing: the running
# ones (`serving`) and the stopped ones. A container without the service's labels (a resolver, a
# peer front, the proxy) is not in it: one look tells whether it runs.
running=
serving=()
stopped=()
exited=()
while IFS=$'\t' read -r id status name; do
    [ -n "$id" ] || continue
    if [ "$name" = "$container" ]; then
        # As `.State.Running` reads them: a restarting or paused container runs.
        case "$status" in running | restarting | paused) running=true ;; *) running=false ;; esac
        continue
    fi
    case "$status" in
        running | restarting | paused) serving+=("$id") ;;
        exited) exited+=("$id") ;;
    esac
done < <(docker ps --all --no-trunc --filter "label=fleet.service=$service" --filter "label=fleet.machine=$machine" --format '{{.ID}}\t{{.State}}\t{{.Names}}')
[ -n "$running" ] || running="$(docker inspect --format '{{.State.Running}}' "$container")"
trace listed
stage
if [ "$running" != true ]; then
    # None running: an `up` interrupted after it stopped the old container. The one that stopped
    # last served until then (earlier failed attempts were stopped before it was given back).
    if [ "${#serving[@]}" -eq 0 ] && [ "${#exited[@]}" -gt 0 ]; then
        last="$(docker inspect --format '{{.State.FinishedAt}} {{.Id}}' "${exited[@]}" | sort | tail -n 1 | cut -d ' ' -f 2)"
        [ -z "$last" ] || stopped+=("$last")
    fi
    if [ "$takeover" = stop-first ]; then
        for p in "${serving[@]}"; do stop_for_takeover "$p"; done
        serving=()
    fi
    watch "$container"
    if ! out="$(docker start "$container" 2>&1)"; then
        unwatch
        info="$(state "$container")"
        fail "could not start ($out)"
    fi
    trace started
fi
predecessors=$((${#serving[@]} + ${#stopped[@]}))

# A container this command started is waited for on its events; one found running, by looks.
waited=wait_started
[ "$running" != true ] || waited=wait_healthy
if ! "$waited" "$container" "$wait_seconds"; then
    fail "is not healthy after ${wait_seconds} s"
fi
trace healthy

# Held for the stability window when it replaced a container.
stabilize() {
    [ "$predecessors" -gt 0 ] && [ "$stable_seconds" -gt 0 ] || return 0
    local restarts
    # Its restart count when it turned healthy (wait_started saw the event, not the state).
    [ -n "${info:-}" ] || info="$(state "$container")"
    read -r _ _ _ restarts <<<"$(head -n 1 <<<"$info")"
    if ! stays_healthy "$container" "$stable_seconds" "$restarts"; then
        fail "turned healthy, then did not stay so for ${stable_seconds} s"
    fi
}

# Taken up by the host front on every port of the service.
admit() {
    [ -n "$front" ] || return 0
    if ! admitted; then
        info="$(state "$container")"
        fail "is not taken up by the host front $front ($out)"
    fi
    trace admitted
}

if [ "$takeover" = stop-first ]; then
    # Its predecessors are stopped already, so the service answers nothing until this one is
    # taken up: it serves through its stability window, and a crash in it gives them back (held
    # out of the front, the window was 5 s more of the GPU service's downtime: 7.9 s gaps).
    admit
    stabilize
else
    # Its predecessors still serve: it gets traffic only once it has stayed healthy.
    stabilize
    admit
fi
for p in "${serving[@]}"; do
    retire "$p"
    docker stop "$p" >/dev/null
done
trace end
if [ "$predecessors" -gt 0 ]; then
    echo "$service ($container): healthy, PIDs limit $pids, took over from $predecessors previous container(s)"
else
    echo "$service ($container): healthy, PIDs limit $pids"
fi
