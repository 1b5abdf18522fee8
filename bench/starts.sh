#!/usr/bin/env bash
# What a container start costs the engine, by what the container is attached to: the question
# behind host convergence (docs/performance.md). Per round and shape, N containers are created
# from one image (a sleeping process: no application start in the figure), then all started at
# once; the figure is the wall time from the first `docker start` to the last one returning.
# Shapes, alternated round by round in rotated order:
#   net1        one bridge network, nothing published (a service's container)
#   net1-ports  one network and 3 published ports on 127.0.0.1 (a compose service, a front's ports)
#   net2-ports  two networks and 3 published ports (a service's front: host network and backends)
#   connect     net1, then `docker network connect` to a second network (a service's admission)
#   net1-dns    net1 with `--dns` the network's gateway (a service behind a host front: its names
#               resolved by a resolver on the gateway, docs/performance.md)
#   host        the host's network namespace (a host front; one a host)
#
# Usage: bench/starts.sh <image> [count] [rounds]    Run on an idle machine; prints a table.
set -euo pipefail
image="${1:?usage: bench/starts.sh <image> [count] [rounds]}"
count="${2:-24}"
rounds="${3:-3}"
shapes=(net1 net1-ports net2-ports connect net1-dns host)
prefix="fleet-bench-starts"

cleanup() {
    docker ps -aq --filter "label=$prefix" | xargs -r docker rm -f >/dev/null
    docker network rm "$prefix-a" "$prefix-b" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
docker network create "$prefix-a" >/dev/null
docker network create "$prefix-b" >/dev/null
gateway="$(docker network inspect --format '{{(index .IPAM.Config 0).Gateway}}' "$prefix-a")"

now() { date +%s.%N; }

# One shape, once: create `count` containers, start them all at once, print the seconds.
run_shape() {
    local shape="$1" i args started ended
    for i in $(seq 1 "$count"); do
        args=(--label "$prefix" --name "$prefix-$i" --entrypoint sleep)
        case "$shape" in
            host) args+=(--network host) ;;
            net1-dns) args+=(--network "$prefix-a" --dns "$gateway") ;;
            *) args+=(--network "$prefix-a") ;;
        esac
        case "$shape" in
            net1-ports | net2-ports)
                args+=(-p "127.0.0.1:$((20000 + i * 3)):7000" -p "127.0.0.1:$((20001 + i * 3)):7001" -p "127.0.0.1:$((20002 + i * 3)):7002")
                ;;
        esac
        docker create "${args[@]}" "$image" infinity >/dev/null
        [ "$shape" != net2-ports ] || docker network connect "$prefix-b" "$prefix-$i"
    done
    started="$(now)"
    for i in $(seq 1 "$count"); do
        if [ "$shape" = connect ]; then
            (docker start "$prefix-$i" >/dev/null && docker network connect "$prefix-b" "$prefix-$i") &
        else
            docker start "$prefix-$i" >/dev/null &
        fi
    done
    wait
    ended="$(now)"
    docker ps -aq --filter "label=$prefix" | xargs -r docker rm -f >/dev/null
    echo "$started $ended" | awk '{ printf "%.2f", $2 - $1 }'
}

declare -A seconds=()
for r in $(seq 1 "$rounds"); do
    for k in "${!shapes[@]}"; do
        shape="${shapes[$(((k + r) % ${#shapes[@]}))]}"
        s="$(run_shape "$shape")"
        seconds[$shape]="${seconds[$shape]:-} $s"
        echo "round $r: $shape $s s" >&2
    done
done

echo "$count containers started at once, $rounds rounds; seconds from the first start to the last, median (min to max), per start"
for shape in "${shapes[@]}"; do
    # shellcheck disable=SC2086 # the list of figures, split on purpose
    printf '%s\n' ${seconds[$shape]} | sort -n | awk -v shape="$shape" -v n="$count" '
        { v[NR] = $1 }
        END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%-11s %6.2f s (%.2f to %.2f)  %.3f s a container\n", shape, m, v[1], v[NR], m / n }'
done
