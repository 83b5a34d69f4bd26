#!/bin/sh
# Configures and builds qbench into build/ (or build-asan/ with --sanitize).
# Warnings are errors here, as in CI.
#   ./scripts/build.sh [--sanitize] [--qbench-only]
# Prints the build directory on standard output (its last line); what it is
# doing goes to standard error, so a first build (about a minute on 2 cores)
# is not a minute of silence.
set -eu
cd "$(dirname "$0")/.."
dir=build
flags="-DQBENCH_WERROR=ON"
target=""
for arg in "$@"; do
    case $arg in
        --sanitize) dir=build-asan; flags="$flags -DQBENCH_SANITIZE=ON" ;;
        --qbench-only) target="--target qbench" ;;
        *) echo "usage: $0 [--sanitize] [--qbench-only]" >&2; exit 2 ;;
    esac
done
jobs=$(nproc)
if [ ! -f "$dir/CMakeCache.txt" ]; then
    echo "build: configuring $dir/ with cmake" >&2
fi
cmake -S . -B "$dir" $flags >/dev/null
echo "build: compiling ${target:+qbench }in $dir/ with $jobs jobs (about a minute the first time, seconds after)" >&2
# cmake's own progress lines, without the per-target "Built target" noise
# of a build that has nothing to do; the exit status survives the pipe
status=$(mktemp)
{ cmake --build "$dir" -j "$jobs" $target 2>&1; echo $? >"$status"; } |
    grep -v -e '^\[ *[0-9]*%\] Built target' -e 'Scanning dependencies' \
        -e 'Consolidate compiler generated' >&2 || true
rc=$(cat "$status")
rm -f "$status"
[ "$rc" = 0 ] || { echo "build: failed (exit $rc)" >&2; exit "$rc"; }
echo "$dir"
