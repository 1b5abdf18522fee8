#!/usr/bin/env bash
# Reads `pulumi stack export` on stdin; prints the ref (tag@digest) of every image the stack
# built, one a line, for the scan job.
set -euo pipefail
jq -r '.deployment.resources[] | select(.type == "docker-build:index:Image") | .outputs.ref | select(. != null and . != "")' | sort -u
