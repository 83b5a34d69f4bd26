#!/bin/sh
# How noisy is the CI gate, and what does it catch? Makes K identical runs
# of configs/gate.json (each with its repeats) and a few changed ones, then
# compares pairs with `qbench compare` and prints:
#   false alarms: identical pairs flagged as a regression
#   detection:    pairs with a real change flagged
# Changes: a 20% slower acceptor (accept_delay_ms 50 -> 60), a smaller
# backlog (8 -> 6), and tcp_synack_retries 1 -> 0.
#   bench/gate-noise.sh [K] [SLOWER]     default 7 identical, 5 slower
# About 50 s per run on a 2-core VM: the defaults take some 12 minutes.
set -eu
cd "$(dirname "$0")/.."
QBENCH=${QBENCH:-./build/qbench}
K=${1:-7}
S=${2:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
run() { # name, extra args...
    name=$1
    shift
    "$QBENCH" --config configs/gate.json --output "$dir/$name.json" --quiet "$@" >/dev/null
}
i=1
while [ "$i" -le "$K" ]; do run "same$i"; i=$((i + 1)); done
i=1
while [ "$i" -le "$S" ]; do run "slow$i" --set server.accept_delay_ms=60; i=$((i + 1)); done
run backlog --set server.backlog=6
run synack --set sysctl.net.ipv4.tcp_synack_retries=0
cmp() { # baseline current -> 1 if flagged
    rc=0
    "$QBENCH" compare --allow-different "$dir/$1.json" "$dir/$2.json" >"$dir/out" 2>&1 || rc=$?
    [ "$rc" -le 1 ] || { cat "$dir/out" >&2; exit 2; }
    echo "$rc"
}
pairs=0 alarms=0
i=1
while [ "$i" -le "$K" ]; do
    j=$((i + 1))
    while [ "$j" -le "$K" ]; do
        pairs=$((pairs + 1))
        alarms=$((alarms + $(cmp "same$i" "same$j")))
        j=$((j + 1))
    done
    i=$((i + 1))
done
echo "false alarms: $alarms of $pairs identical pairs"
det=0 tot=0
i=1
while [ "$i" -le 4 ] && [ "$i" -le "$K" ]; do
    j=1
    while [ "$j" -le "$S" ]; do
        tot=$((tot + 1))
        det=$((det + $(cmp "same$i" "slow$j")))
        j=$((j + 1))
    done
    i=$((i + 1))
done
echo "20% slower acceptor detected: $det of $tot pairs"
b=0 s=0
i=1
while [ "$i" -le "$K" ]; do
    b=$((b + $(cmp "same$i" backlog)))
    s=$((s + $(cmp "same$i" synack)))
    i=$((i + 1))
done
echo "backlog 8 -> 6 detected: $b of $K pairs"
echo "tcp_synack_retries 1 -> 0 detected: $s of $K pairs"
"$QBENCH" compare --allow-different "$dir/same1.json" "$dir/slow1.json" || true
