#!/usr/bin/env bash
# scan-images.sh REFS ALLOWLIST OUT_DIR
# Scans every image of REFS (tag@digest, one a line) with Trivy and fails on any HIGH or
# CRITICAL finding that the allow-list does not list for that image's digest (002 R4: an
# allowance is bound to one digest, so it lapses when the image is rebuilt); then makes each
# image's CycloneDX SBOM and checks that it lists exactly the image's Debian packages and Python
# distributions (`scripts/fleet sbom`, fleet/security/sbom.ts: the generator and check the CI
# engine suite runs on every image it builds).
#
# Trivy only reports (`--format json`, its exit status 0 unless it cannot scan); the decision is
# `scripts/fleet cve-gate` (fleet/security/cveGate.ts), which the tests run on recorded reports.
# Every image is scanned, judged and listed before the script fails, so one run names every
# problem. OUT_DIR gets, per image, <name>.trivy.json and <name>.cdx.json, <name> being the last
# part of the image's repository.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mkdir -p "$3"
# Absolute: scripts/fleet runs from the repository's root.
refs="$(realpath "$1")"; allowlist="$(realpath "$2")"; out="$(realpath "$3")"
status=0
while read -r ref; do
    [ -n "$ref" ] || continue
    # The repository's last part: the tag comes after it, and a registry's port before it.
    name="${ref%%@*}"; name="${name##*/}"; name="${name%%:*}"
    if ! trivy image --quiet --format json --severity HIGH,CRITICAL --output "$out/${name}.trivy.json" "$ref"; then
        echo "scan: trivy could not scan $ref" >&2
        status=1
        continue
    fi
    "$here/fleet" cve-gate "$out/${name}.trivy.json" --image "$ref" --allowlist "$allowlist" || status=1
done < "$refs"
"$here/fleet" sbom "$refs" --out "$out" || status=1
exit "$status"
