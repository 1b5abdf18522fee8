#!/usr/bin/env bash
# Run by each host's `<host>-fronts-check` command (components/fleetHost.ts) before any peer front
# is created or replaced, and by scripts/host-front.sh before the host front's configuration is
# copied in: HAProxy itself checks each configuration (fleet/render/front.ts), read as JSON
# {"<name>": "<haproxy.cfg>"} on standard input, in a throw-away container of the image the
# fronts run. A configuration HAProxy refuses fails the `up` here, before a front changes.
#
# Usage: scripts/front-check.sh <haproxy-image>     Environment: DOCKER_HOST.
set -euo pipefail
image="${1:?usage: scripts/front-check.sh <haproxy-image>}"
if ! docker run --rm -i --network none --read-only --tmpfs /tmp:rw,noexec,nosuid,nodev,size=8m \
    --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges:true \
    --entrypoint /usr/local/bin/fleet-front-ctl "$image" check; then
    echo "Fix: a front's configuration comes from fleet/render/front.ts and the services' ports and health checks in fleet/data/services.yaml; no front was changed." >&2
    exit 1
fi
