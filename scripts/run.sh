#!/bin/sh
# Sets up (Debian packages), builds, and runs one experiment:
#   ./scripts/run.sh configs/slow-accept.json [qbench options...]
# (as root, or as a user with sudo: only the package setup needs it)
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: $0 CONFIG.json [qbench options]" >&2; exit 2; }
./scripts/setup.sh
./scripts/build.sh --qbench-only >/dev/null
config=$1
shift
exec ./build/qbench --config "$config" "$@"
