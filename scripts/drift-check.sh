#!/usr/bin/env bash
# The drift check of one stack (.github/workflows/drift.yml): `pulumi preview --refresh
# --expect-no-changes` reads every resource back from the host, then compares it with what this
# commit deploys. A change it proposes is drift (the host was changed outside Pulumi) or a change
# nobody deployed yet; the README (Drift) says which to do. Exit status: the preview's.
#
# What drifted goes to the job summary ($GITHUB_STEP_SUMMARY, when set): one line per resource the
# preview would change, read from its `--diff` display, whose step headers are `<Type>: (<op>)`
# followed by `[urn=...]` (pulumi/pulumi pkg/backend/display/object_diff.go printStepHeader; the
# ops of pkg/resource/deploy/step.go). A replacement's create-replacement and delete-replaced
# steps are left out: its `replace` step names it.
#
# The preview cannot see health: the provider's Read does not read it, and a refresh drops the init
# errors of a failed health wait (pulumi/pulumi#17949). Nor can it see a stopped container: the
# program sets `mustRun: false` (components/serviceContainer.ts), so the provider's Read leaves
# its running state alone. So the check also lists the host's fleet containers (label
# fleet.machine) that are not running healthy, stopped ones included, from the daemon's own status
# line (`Up 2 minutes (unhealthy)`, `Up 3 seconds (health: starting)`, `Restarting (3) 1 second
# ago`, `Exited (137) 2 hours ago`, `Created`: moby container/state.go `State.String`), and fails
# when there is one. It runs on the host's runner, so `docker` is the host's engine (or DOCKER_HOST's).
#
# Usage: scripts/drift-check.sh <stack>   (with the Pulumi CLI logged in, from the project directory)
set -euo pipefail
stack="${1:?usage: scripts/drift-check.sh <stack>}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
status=0
pulumi preview --refresh --expect-no-changes --diff --color never --non-interactive --stack "ai-system/$stack" >"$out" 2>&1 || status=$?
cat "$out"

# `- <service> (<container>): <status>` per fleet container that is not running healthy.
health_status=0
if listed="$(docker ps --all --filter label=fleet.machine --format '{{.Label "fleet.service"}}\t{{.Names}}\t{{.Status}}' 2>&1)"; then
    unhealthy="$(awk -F '\t' '$3 !~ /\(healthy\)$/ { print "- " ($1 == "" ? $2 : $1 " (" $2 ")") ": " $3 }' <<<"$listed")"
else
    unhealthy="- the host's containers could not be listed: $listed"
fi
if [ -n "$unhealthy" ]; then
    health_status=1
    echo "Fleet containers not running healthy (docker ps --all):"
    echo "$unhealthy"
fi

# `- <op> <name> (<type>)` per resource the preview would change.
changes() {
    awk '
        /: \((create|update|delete|replace|import|import-replacement)(\[retain\])?\)/ {
            op = $0; sub(/.*: \(/, "", op); sub(/\).*/, "", op); want = 1; next
        }
        want && /\[urn=/ {
            urn = $0; sub(/.*\[urn=/, "", urn); sub(/\].*/, "", urn)
            n = split(urn, part, "::"); type = part[n - 1]; sub(/.*\$/, "", type)
            print "- " op " " part[n] " (" type ")"; want = 0
        }' "$out"
}

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    found="$(changes)"
    {
        if [ -n "$unhealthy" ]; then
            echo "### $stack: containers not healthy"
            echo "They are not running healthy, and the preview cannot see it. README, Drift, says what to do."
            echo
            echo "$unhealthy"
            echo
        fi
        if [ "$status" -eq 0 ]; then
            echo "### $stack: no drift"
        elif [ -n "$found" ]; then
            echo "### $stack: drift"
            echo "The host differs from what this commit deploys; README, Drift, says what to do. What would change:"
            echo
            echo "$found"
        else
            echo "### $stack: the preview failed before it could compare (its output below)"
        fi
        echo
        echo "<details><summary>pulumi preview --refresh --expect-no-changes --stack ai-system/$stack</summary>"
        echo
        echo '```'
        cat "$out"
        echo '```'
        echo "</details>"
    } >>"$GITHUB_STEP_SUMMARY"
fi
[ "$status" -ne 0 ] || status=$health_status
exit "$status"
