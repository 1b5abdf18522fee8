#!/usr/bin/env bash
# scan-images.sh REFS ALLOWLIST OUT_DIR
# Scans every image of REFS (tag@digest, one a line) with Trivy and fails on any HIGH or
# CRITICAL finding that the allow-list does not list for that image's digest (002 R4: an
# allowance is bound to one digest, so it lapses when the image is rebuilt); writes an SPDX SBOM
# per image with syft (docker-build cannot attest SBOMs itself).
#
# Trivy only reports (`--format json`, its exit status 0 unless it cannot scan); the decision is
# `scripts/fleet cve-gate` (fleet/security/cveGate.ts), which the tests run on recorded reports.
# Every image is scanned and judged before the script fails, so one run names every finding.
# OUT_DIR gets, per image, <name>.trivy.json and <name>.spdx.json.
set -euo pipefail
refs="$1"; allowlist="$2"; out="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$out"
status=0
while read -r ref; do
    [ -n "$ref" ] || continue
    name="$(basename "${ref%%[:@]*}")"
    syft "$ref" -o spdx-json > "$out/${name}.spdx.json"
    if ! trivy image --quiet --format json --severity HIGH,CRITICAL --output "$out/${name}.trivy.json" "$ref"; then
        echo "scan: trivy could not scan $ref" >&2
        status=1
        continue
    fi
    "$here/fleet" cve-gate "$out/${name}.trivy.json" --image "$ref" --allowlist "$allowlist" || status=1
done < "$refs"
exit "$status"
