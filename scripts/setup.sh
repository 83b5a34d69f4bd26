#!/bin/sh
# Installs the Debian packages qbench needs to build, test and plot.
# Idempotent; run as root (or through sudo) on a fresh Debian machine.
set -eu
# nginx-light and gunicorn: real servers for server.command (tests, configs/);
# man-db (with groff-base): the manual page test reads the page as man does
# tcpdump: the packet referee of the tests, and a hooks.before example
# libpcap-dev: qbench's own capture per point (capture.pcap)
PKGS="build-essential cmake pkg-config libev-dev libjansson-dev libcmocka-dev gnuplot-nox iproute2 clang libclang-rt-dev valgrind nginx-light gunicorn man-db tcpdump libpcap-dev"
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
# Servers are installed, never started on the host: a policy-rc.d that
# refuses every service start, for the duration of the install only.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod 755 /usr/sbin/policy-rc.d
    guard=/usr/sbin/policy-rc.d
fi
rc=0
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing || rc=$?
[ -z "$guard" ] || $SUDO rm -f "$guard"
exit $rc
