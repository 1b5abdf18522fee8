#!/usr/bin/env bash
# lock-requirements.sh APP_REPO
# (Re)generates every service's hash-locked requirements in the application repository:
# requirements/<container>.in (the service's direct dependencies) is compiled with
# pip-compile --generate-hashes into requirements/<container>.txt, which the image installs with
# pip --require-hashes. Each lock is resolved with the Python of the service's family (3.10 for
# legacy-py310-cpu). pip-tools is installed into a venv per Python version; needs a package index.
set -euo pipefail
app="$(cd "$1" && pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${FLEET_LOCK_TOOLS:-$root/.tools/piptools}"
"$root/scripts/fleet" lock-targets | while read -r service python input output; do
    if [ ! -f "$app/$input" ]; then
        echo "lock: $service: $input is missing; skipped (its lock is kept as it is)" >&2
        continue
    fi
    venv="$tools/py$python"
    if [ ! -x "$venv/bin/pip-compile" ]; then
        "python$python" -m venv "$venv"
        "$venv/bin/pip" install --quiet pip-tools
    fi
    (cd "$app" && "$venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras --output-file "$output" "$input")
    echo "lock: $service: $output (python $python)"
done
