#!/usr/bin/env bash
# prune-registry-cache.sh ORG PACKAGE DAYS
# Deletes the versions of the registry cache package older than DAYS (002 R3). Uses the GitHub
# CLI with GH_TOKEN (packages: write).
set -euo pipefail
org="$1"; package="$2"; days="$3"
cutoff="$(date -u -d "-${days} days" +%Y-%m-%dT%H:%M:%SZ)"
gh api --paginate "/orgs/${org}/packages/container/${package}/versions" \
    --jq ".[] | select(.updated_at < \"${cutoff}\") | .id" |
while read -r id; do
    gh api -X DELETE "/orgs/${org}/packages/container/${package}/versions/${id}"
    echo "pruned ${package} version ${id}"
done
