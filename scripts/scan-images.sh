#!/usr/bin/env bash
# scan-images.sh REFS ALLOWLIST SBOM_DIR
# Scans every image of REFS (tag@digest, one a line) with Trivy and fails on any HIGH or
# CRITICAL finding that the allow-list does not list for that image's digest (002 R4: an
# allowance is bound to one digest, so it lapses when the image is rebuilt); writes an SPDX SBOM
# per image with syft (docker-build cannot attest SBOMs itself).
set -euo pipefail
refs="$1"; allowlist="$2"; out="$3"
mkdir -p "$out"
status=0
while read -r ref; do
    [ -n "$ref" ] || continue
    digest="${ref##*@}"
    ignore="$(mktemp)"
    # allowlist: { "sha256:<digest>": [ "CVE-...", ... ] }
    python3 -c 'import json,sys,yaml; d=yaml.safe_load(open(sys.argv[1])) or {}; print("\n".join(d.get(sys.argv[2], [])))' "$allowlist" "$digest" > "$ignore"
    name="$(basename "${ref%%[:@]*}")"
    syft "$ref" -o spdx-json > "$out/${name}.spdx.json"
    if ! trivy image --quiet --severity HIGH,CRITICAL --exit-code 1 --ignorefile "$ignore" "$ref"; then
        echo "scan: $ref has HIGH/CRITICAL findings not allowed for $digest" >&2
        status=1
    fi
done < "$refs"
exit "$status"
