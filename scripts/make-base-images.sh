#!/usr/bin/env bash
# Makes the base image the engine test stacks build root families FROM (no image can be pulled
# here), from Debian bookworm minbase, imported into the local Docker engine. An image that
# already exists is left as it is.
# - fleet-test/bookworm-python:slim: Python 3.11 with venv only, like python:3.11-slim-bookworm,
#   with the same apt sources (bookworm, -updates, -security): the families' own apt layers
#   (tini, ca-certificates, tzdata at the pins of fleet/data/families.yaml) install on it in
#   the build, so a wrong pin fails the build.
set -euo pipefail
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

make_image() {
    local image="$1" include="$2" root
    if docker image inspect "$image" >/dev/null 2>&1; then
        echo "make-base-images: $image exists"
        return 0
    fi
    command -v debootstrap >/dev/null || { echo "make-base-images: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
    root="$(mktemp -d /var/tmp/fleet-bookworm.XXXXXX)"
    # shellcheck disable=SC2064 # the path is fixed now, on purpose
    trap "rm -rf '$root'" EXIT
    echo "make-base-images: debootstrap bookworm ($include) into $root"
    debootstrap --variant=minbase --include="$include" bookworm "$root" "$MIRROR" >/dev/null
    # The pins of families.yaml come from bookworm's point releases and security updates, as
    # in the official Debian images' deb822 sources.
    rm -f "$root/etc/apt/sources.list"
    cat > "$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    # The apt lists and caches are not part of what the images need.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
    tar -C "$root" -c . | docker import - "$image" >/dev/null
    rm -rf "$root"
    trap - EXIT
    echo "make-base-images: $image made"
}

make_image "${FLEET_TEST_SLIM_IMAGE:-fleet-test/bookworm-python:slim}" python3,python3-venv
