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
    ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/tests/fuzz/fuzz_$t -max_total_time="$seconds" \
        -max_len=16384 -print_final_stats=1 -artifact_prefix="build-fuzz/crash-$t-" "$work/$t" \
        "tests/fuzz/corpus/$t" 2>&1 | tail -n 12
done
