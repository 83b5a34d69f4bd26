#!/bin/sh
# Formats every C file git tracks with the checked-in .clang-format, or with
# --check only reports the files that differ (CI runs the check).
#   ./scripts/format.sh           rewrite in place
#   ./scripts/format.sh --check   exit 1 if any file is not formatted
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || {
    echo "format: clang-format is not installed (apt-get install clang-format)" >&2
    exit 2
}
files=$(git ls-files '*.c' '*.h')
if [ "${1:-}" = "--check" ]; then
    bad=0
    for f in $files; do
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || {
            echo "format: $f differs from .clang-format (run ./scripts/format.sh)" >&2
            bad=1
        }
    done
    [ "$bad" -eq 0 ] && echo "format: every C file matches .clang-format"
    exit "$bad"
fi
# shellcheck disable=SC2086
clang-format -i $files
