#!/usr/bin/env bash
# Run by each container's `<container>-pids-limit` command (components/serviceContainer.ts,
# components/dockerApiProxy.ts) after the container's create: sets its PIDs limit, then confirms
# that it is healthy, waiting for it as the provider's `wait` does (up to the same timeout).
#
# Why the confirmation: the container's own health wait fails `pulumi up` only through the
# engine's init errors, and a refresh forgets them. `pulumi refresh`, `pulumi up --refresh` and
# the drift workflow's `preview --refresh` store what the provider's Read returns
# (pulumi/pulumi pkg/resource/deploy/step.go `RefreshStep.Apply`: `s.new.InitErrors =
# initErrors`, set only from an init error of Read), and the bridged Docker provider returns init
# errors from Create and Update only (pulumi-terraform-bridge pkg/tfbridge/provider.go
# `initializationError`). After a refresh the unhealthy container is "same", and without this
# check the next `up` turned green with it (pulumi/pulumi#17949). This command is created only
# once its container was healthy: a failed run keeps its earlier state (pulumi-go-provider: a
# failed Create keeps nothing, a failed Update keeps the old inputs), so every later `up` runs it
# again and fails again, naming the service, until the container is healthy.
#
# Usage: scripts/container-ready.sh <container> <service> <pids-limit> <wait-seconds>
# Environment: DOCKER_HOST (the host's engine). Exit status 0 once healthy; 1 with the reason.
set -euo pipefail
container="${1:?usage: scripts/container-ready.sh <container> <service> <pids-limit> <wait-seconds>}"
service="${2:?service}"
pids="${3:?pids-limit}"
wait_seconds="${4:?wait-seconds}"

if ! out="$(docker update --pids-limit "$pids" "$container" 2>&1)"; then
    echo "$service ($container): its PIDs limit could not be set: $out" >&2
    echo "Fix: run pulumi up again; a container removed by hand is created again by pulumi up --refresh." >&2
    exit 1
fi

# One line: status, health, exit code and restarts; then the health log, one quoted line a probe.
state() {
    docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}} {{.State.ExitCode}} {{.RestartCount}}{{with .State.Health}}{{range .Log}}{{"\n"}}{{.ExitCode}} {{printf "%q" .Output}}{{end}}{{end}}' "$container"
}

deadline=$((SECONDS + wait_seconds))
while :; do
    info="$(state)"
    read -r status health code restarts <<<"$(head -n 1 <<<"$info")"
    if [ "$health" = healthy ] && [ "$status" = running ]; then
        echo "$service ($container): healthy, PIDs limit $pids"
        exit 0
    fi
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 1
done

last="$(tail -n +2 <<<"$info" | tail -n 1)"
if [ -n "$last" ]; then
    probe="its last health check exited ${last%% *} with ${last#* }"
else
    probe="no health check has run yet"
fi
echo "$service ($container) is not healthy after ${wait_seconds} s: state $status, health $health, exit code $code, restarted $restarts times; $probe." >&2
echo "Its last log lines (docker logs --tail 5 $container):" >&2
docker logs --tail 5 "$container" 2>&1 | sed 's/^/  /' >&2 || true
echo "Fix: correct the service's image or pin the image it ran before (README, Rollback), then run pulumi up again." >&2
exit 1
