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
# Usage: scripts/drift-check.sh <stack>   (with the Pulumi CLI logged in, from the project directory)
set -euo pipefail
stack="${1:?usage: scripts/drift-check.sh <stack>}"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
status=0
pulumi preview --refresh --expect-no-changes --diff --color never --non-interactive --stack "ai-system/$stack" >"$out" 2>&1 || status=$?
cat "$out"

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
exit "$status"
