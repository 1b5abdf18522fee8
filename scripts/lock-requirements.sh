#!/usr/bin/env bash
# lock-requirements.sh APP_REPO
# (Re)generates every service's hash-locked requirements in the application repository:
# requirements/<container>.txt holds what the service adds to its family, resolved from
# requirements/<container>.in by pip's own resolver inside the family's image, under the
# family's Python and against the packages the family already installed in its one venv
# (`pip install --dry-run --report`, pip >= 22.2: the report's `install` list is exactly what
# pip would add; https://pip.pypa.io/en/stable/reference/installation-report/). Each addition is
# pinned with the sha256 the index published (the report's download_info.archive_info.hashes).
# Debian has no pip-tools; pip itself suffices.
#
# A requirement that would replace a package the family installed is refused, naming the
# service, the package and both versions: the family's copy is shared by all its services.
#
# Environment:
#   FLEET_LOCK_IMAGES  prefix of the family images, e.g. localhost/fleet-test (the newest image
#                      of <prefix>/<family> is used; build the stack's families first)
#   FLEET_LOCK_INDEX   index to resolve from (default https://pypi.org/simple/)
#   FLEET_LOCK_ONLY    one service to lock (default: every service with a .in)
set -euo pipefail
app="$(cd "$1" && pwd)"
root="$(cd "$(dirname "$0")/.." && pwd)"
images="${FLEET_LOCK_IMAGES:?set FLEET_LOCK_IMAGES to the prefix of the family images, e.g. localhost/fleet-test}"
index="${FLEET_LOCK_INDEX:-https://pypi.org/simple/}"
docker="${FLEET_DOCKER:-/usr/bin/docker}"
status=0
while read -r service _python input output family; do
    [ -n "${FLEET_LOCK_ONLY:-}" ] && [ "$service" != "$FLEET_LOCK_ONLY" ] && continue
    [ -f "$app/$input" ] || continue
    image="$("$docker" image ls --format '{{.Repository}}:{{.Tag}}' "$images/$family" | head -1)"
    if [ -z "$image" ]; then
        echo "lock: $service: no image of family $family under $images; build the families first" >&2
        status=1
        continue
    fi
    pip=("$docker" run --rm --network host --user 0 --read-only --tmpfs /tmp -e PIP_DISABLE_PIP_VERSION_CHECK=1 -e HOME=/tmp
        -v "$app/$(dirname "$input"):/req:ro" --entrypoint /opt/venv/bin/pip "$image")
    installed="$("${pip[@]}" list --format json)"
    if ! report="$("${pip[@]}" install --dry-run --quiet --no-cache-dir --report - --index-url "$index" -r "/req/$(basename "$input")")"; then
        echo "lock: $service: pip cannot resolve $input in $image" >&2
        status=1
        continue
    fi
    if ! text="$(INSTALLED="$installed" REPORT="$report" SERVICE="$service" FAMILY="$family" INPUT="$input" python3 -c '
import json, os, re, sys
norm = lambda n: re.sub(r"[-_.]+", "-", n).lower()
have = {norm(d["name"]): d for d in json.loads(os.environ["INSTALLED"])}
svc, fam, src = os.environ["SERVICE"], os.environ["FAMILY"], os.environ["INPUT"]
out, bad = [], []
for item in sorted(json.loads(os.environ["REPORT"])["install"], key=lambda i: norm(i["metadata"]["name"])):
    name, version = item["metadata"]["name"], item["metadata"]["version"]
    if norm(name) in have:
        oname, over = have[norm(name)]["name"], have[norm(name)]["version"]
        bad.append(f"lock: {svc}: {name}=={version} would replace {oname}=={over} of family {fam}. Fix: ask for {over} in {src}, or change the family pin")
        continue
    sha = item.get("download_info", {}).get("archive_info", {}).get("hashes", {}).get("sha256")
    if not sha:
        bad.append(f"lock: {svc}: the index gives no sha256 for {name}=={version}")
        continue
    out.append(f"{name}=={version} \\\n    --hash=sha256:{sha}")
if bad:
    sys.exit("\n".join(bad))
print("\n".join(out))
')"; then
        status=1
        continue
    fi
    {
        echo "# What $service adds to its family $family: resolved by scripts/lock-requirements.sh from"
        echo "# $input with pip inside the family image. Do not edit."
        [ -n "$text" ] && echo "$text"
    } > "$app/$output"
    echo "lock: $service: $output" >&2
done < <("$root/scripts/fleet" lock-targets)
exit "$status"
