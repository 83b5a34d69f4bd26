#!/bin/sh
# Sets up (Debian packages), builds with -Werror, and runs the whole test
# suite with ctest: cmocka unit tests and the integration tests that drive
# the real binary in private network namespaces.
#   ./scripts/test.sh              the normal build (as root, or a user with sudo)
#   ./scripts/test.sh --sanitize   the same suite under ASan+UBSan
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
dir=$(./scripts/build.sh "$@" | tail -n 1)
if [ "${1:-}" = "--sanitize" ]; then
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
cd "$dir"
echo "test: the whole suite takes about 4 minutes here (2 cores), most of it in the"
echo "      integration tests that wait out real kernel timeouts in private namespaces"
ctest --output-on-failure -j 2
