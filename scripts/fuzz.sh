#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (+ASan/UBSan) and runs each for
# a bounded time on a copy of the seed corpus in tests/fuzz/corpus/.
#   scripts/fuzz.sh [SECONDS]     default 60 per target; fails on a crash
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang cmake -S . -B build-fuzz -DQBENCH_FUZZ=ON -DQBENCH_TESTS=OFF -DQBENCH_WERROR=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_config fuzz_results fuzz_plot
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in config results plot; do
    mkdir -p "$work/$t"
    echo "fuzz_$t: $seconds s"
    if ! ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$seconds" \
        -max_len=16384 -print_final_stats=1 -artifact_prefix="build-fuzz/crash-$t-" "$work/$t" \
        "tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1; then
        # The finding (an oracle's message, a sanitizer report) comes
        # before the stack trace; show it and the input that caused it.
        grep -v -E '^(#[0-9]+|INFO:|    #)' "$work/$t.log" | head -n 80
        for f in build-fuzz/crash-$t-*; do
            [ -f "$f" ] && { echo "== input $f (base64)"; base64 "$f" | head -n 40; }
        done
        exit 1
    fi
    tail -n 12 "$work/$t.log"
done
