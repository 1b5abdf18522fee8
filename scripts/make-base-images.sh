#!/usr/bin/env bash
# Makes the base image the engine test stack builds every root family FROM (no image can be
# pulled here): Debian bookworm minbase with Python 3.11 and venv, tini and CA certificates,
# imported into the local Docker engine. Does nothing when the image already exists.
set -euo pipefail
IMAGE="${FLEET_TEST_BASE_IMAGE:-fleet-test/bookworm-python:base}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
if docker image inspect "$IMAGE" >/dev/null 2>&1; then
    echo "make-base-images: $IMAGE exists"
    exit 0
fi
command -v debootstrap >/dev/null || { echo "make-base-images: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
root="$(mktemp -d /var/tmp/fleet-bookworm.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "make-base-images: debootstrap bookworm into $root"
debootstrap --variant=minbase --include=python3,python3-venv,tini,ca-certificates bookworm "$root" "$MIRROR" >/dev/null
# The apt lists and caches are not part of what the images need.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | docker import - "$IMAGE" >/dev/null
echo "make-base-images: $IMAGE made"
