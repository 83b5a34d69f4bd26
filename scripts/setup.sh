#!/bin/sh
# Installs the Debian packages qbench needs to build, test and plot.
# Idempotent; run as root (or through sudo) on a fresh Debian machine.
set -eu
PKGS="build-essential cmake pkg-config libev-dev libjansson-dev libcmocka-dev gnuplot-nox iproute2 clang libclang-rt-dev valgrind"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "setup: all packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
