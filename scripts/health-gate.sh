#!/usr/bin/env bash
# Health gate, run by the HealthGate component (components/healthGate.ts) once every container it
# waits for is created: it waits until each is healthy or past its own wait, as the docker
# provider's `wait` does for one container (kreuzwerker resourceDockerContainerCreate: inspect
# once a second until `healthy` or `wait_timeout`), and as `docker compose up --wait` does for
# all. fleet/model/healthGate.ts says why the host's containers are waited for here, not each in
# its own create. A container that is missing counts as not healthy: the gate fails rather than
# passing it by.
#
# Environment: DOCKER_HOST, FLEET_MACHINE, FLEET_GATED (space-separated `container:Service:seconds`,
# fleet/model/healthGate.ts `healthGateEnv`).
set -euo pipefail

declare -A service limit failed=()
order=()
pending=()
for entry in ${FLEET_GATED}; do
    IFS=: read -r name svc seconds <<<"$entry"
    service[$name]=$svc
    limit[$name]=$seconds
    order+=("$name")
    pending+=("$name")
done

start=$SECONDS
while ((${#pending[@]} > 0)); do
    # One inspect for every pending container: "/name health state" per line. Missing ones are
    # left out of the answer (the CLI exits 1 and reports them on standard error).
    declare -A seen=()
    while read -r cname health state; do
        [[ -n "$cname" ]] && seen[${cname#/}]="$health $state"
    done < <(docker inspect --format '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}} {{.State.Status}}' "${pending[@]}" 2>/dev/null || true)
    now=$((SECONDS - start))
    left=()
    for name in "${pending[@]}"; do
        status=${seen[$name]:-}
        if [[ "$status" == healthy\ * ]]; then
            echo "health-gate ${FLEET_MACHINE}: ${service[$name]} (${name}) healthy after ${now} s"
        elif ((now < limit[$name])); then
            left+=("$name")
        else
            failed[$name]="${service[$name]} (container ${name}): not healthy after ${limit[$name]} s (${status:-no such container})"
        fi
    done
    unset seen
    pending=("${left[@]}")
    if ((${#pending[@]} > 0)); then sleep 1; fi
done

if ((${#failed[@]} > 0)); then
    {
        echo "health-gate ${FLEET_MACHINE}: not every container turned healthy:"
        for name in "${order[@]}"; do
            if [[ -v "failed[$name]" ]]; then echo "  ${failed[$name]}"; fi
        done
        echo "Fix: 'docker logs <container>' and 'docker inspect --format \"{{json .State.Health}}\" <container>' on ${FLEET_MACHINE} show why; fix the service or its data, then deploy again: the next pulumi up waits for them again."
    } >&2
    exit 1
fi
