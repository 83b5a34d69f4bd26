#!/bin/sh
# Configures and builds qbench into build/ (or build-asan/ with --sanitize).
# Warnings are errors here, as in CI.
set -eu
cd "$(dirname "$0")/.."
dir=build
flags="-DQBENCH_WERROR=ON"
if [ "${1:-}" = "--sanitize" ]; then
    dir=build-asan
    flags="$flags -DQBENCH_SANITIZE=ON"
fi
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "$dir"
