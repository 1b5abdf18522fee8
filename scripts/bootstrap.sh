#!/usr/bin/env bash
# Sourced by .ci/run and scripts/fleet: puts a pinned Node on PATH and installs the locked
# dependencies. @pulumi/pulumi needs Node >= 22; the machine's own Node may be older, so Node
# comes from the npm registry's `node` package into .tools/ (git-ignored).
set -euo pipefail
FLEET_NODE_VERSION=24.9.0
FLEET_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fleet_node="$FLEET_ROOT/.tools/node/node_modules/.bin/node"
if [ ! -x "$fleet_node" ] || [ "$("$fleet_node" --version)" != "v$FLEET_NODE_VERSION" ]; then
    echo "bootstrap: installing Node $FLEET_NODE_VERSION into .tools/node" >&2
    npm install --prefix "$FLEET_ROOT/.tools/node" --no-audit --no-fund --loglevel=error "node@$FLEET_NODE_VERSION" >&2
fi
export PATH="$FLEET_ROOT/.tools/node/node_modules/.bin:$PATH"
# Reinstall only when the lock file changed since the last install.
stamp="$FLEET_ROOT/node_modules/.fleet-lock.sha"
want="$(sha256sum "$FLEET_ROOT/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "bootstrap: npm ci" >&2
    (cd "$FLEET_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
fi
