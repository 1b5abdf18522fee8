#!/usr/bin/env bash
# Posts `scripts/fleet diff`'s report on a pull request (the pull-request workflow's diff job),
# editing the comment it posted before, so the pull request holds one: the newest. Its comment is
# found by its first line, a marker GitHub does not show; the preview comments pulumi/actions
# posts are left alone. GitHub keeps a comment to 65536 characters: a longer report is cut there,
# and the job summary holds it whole.
#
# Usage: GH_TOKEN=<token> GITHUB_REPOSITORY=<owner/name> scripts/pr-comment.sh <pull request> <report file>
set -euo pipefail
pr="${1:?usage: scripts/pr-comment.sh <pull request number> <report file>}"
report="${2:?usage: scripts/pr-comment.sh <pull request number> <report file>}"
repo="${GITHUB_REPOSITORY:?GITHUB_REPOSITORY must name the repository (owner/name)}"
marker="<!-- fleet diff -->"
limit=60000
body="$(mktemp)"
trap 'rm -f "$body"' EXIT

{
    echo "$marker"
    echo "**\`scripts/fleet diff\`** of this pull request against its base: per stack, the images whose tag moves and the containers replaced, with why (from the two commits; no stack state)."
    echo
    echo '```'
    head -c "$limit" "$report"
    if [ "$(wc -c <"$report")" -gt "$limit" ]; then
        printf '\n... cut at %s characters: the job summary holds the whole report\n' "$limit"
    fi
    echo '```'
} >"$body"

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    { echo '```'; cat "$report"; echo '```'; } >>"$GITHUB_STEP_SUMMARY"
fi

# The REST API's issue comments (a pull request is an issue): list, update, create.
id="$(gh api --paginate "repos/$repo/issues/$pr/comments" --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | tail -n 1)"
if [ -n "$id" ]; then
    jq -n --rawfile body "$body" '{body: $body}' | gh api --method PATCH "repos/$repo/issues/comments/$id" --input - >/dev/null
else
    jq -n --rawfile body "$body" '{body: $body}' | gh api --method POST "repos/$repo/issues/$pr/comments" --input - >/dev/null
fi
