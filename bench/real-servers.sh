#!/bin/sh
# Real servers nobody here wrote, at about 2x overload, with a small and a
# big listen backlog: does the bigger backlog serve more, or fewer? Each
# server runs through qbench's own server.command, in qbench's private
# namespaces (no host sysctl is read or written), and the script prints one
# table row per server, backlog and run from the results files:
#
#   gunicorn  configs/gunicorn-slow.json  1 sync worker, 50 ms a request (20/s), 40/s
#   haproxy   configs/haproxy-slow.json   maxconn 8 before a 20 ms one-at-a-time backend (50/s), 100/s
#   node      configs/node-slow.json      20 ms synchronous handler (50/s), 100/s
#   redis     configs/redis-slow.json     DEBUG SLEEP 0.02 per connection (50/s), 100/s
#
# Servers missing here are installed with apt-get (Debian packages gunicorn,
# haproxy, nodejs, redis-server) when run as root, else skipped with a
# note. They are not in scripts/setup.sh: CI needs none of them but gunicorn.
#
#   bench/real-servers.sh [--runs N] [--out DIR] [--only "node redis"]
#
# Bounded: every config is bounded in connections and time (5 s of load,
# qbench's drain at most 30 s), each qbench run is killed after 300 s, and
# the whole script does servers x runs of them (default 4 x 2: some 5-10
# minutes on a 2-vCPU VM). Results stay in DIR (default a new
# /tmp/qbench-real-servers-XXXXXX) for `qbench plot` or a second look.
set -eu
cd "$(dirname "$0")/.."
QBENCH=${QBENCH:-./build/qbench}
runs=2
out=
only="gunicorn haproxy node redis"
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--out DIR] [--only \"gunicorn haproxy node redis\"]" >&2; exit 2 ;;
    esac
done
case $runs in
'' | *[!0-9]*) echo "$0: --runs takes a number, got '$runs'" >&2; exit 2 ;;
esac
if [ "$runs" -lt 1 ] || [ "$runs" -gt 20 ]; then
    echo "$0: --runs must be 1..20" >&2
    exit 2
fi
if [ ! -x "$QBENCH" ]; then
    echo "$0: no $QBENCH: build first (./scripts/build.sh) or set QBENCH" >&2
    exit 2
fi
[ -n "$out" ] || out=$(mktemp -d /tmp/qbench-real-servers-XXXXXX)
mkdir -p "$out"

# server name -> config, the program it needs, and its Debian package
config_of() { echo "configs/$1-slow.json"; }
program_of() {
    case $1 in
    gunicorn) echo gunicorn ;; haproxy) echo haproxy ;; node) echo node ;; redis) echo redis-server ;;
    *) return 1 ;;
    esac
}
package_of() {
    case $1 in
    gunicorn) echo gunicorn ;; haproxy) echo haproxy ;; node) echo nodejs ;; redis) echo redis-server ;;
    esac
}

have() { command -v "$1" >/dev/null 2>&1; }

servers=
for s in $only; do
    prog=$(program_of "$s") || { echo "$0: unknown server '$s'" >&2; exit 2; }
    if ! have "$prog"; then
        if [ "$(id -u)" = 0 ] && have apt-get; then
            echo "real-servers: installing $(package_of "$s") for $s" >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
                "$(package_of "$s")" >&2 || true
        fi
        if ! have "$prog"; then
            echo "real-servers: skipping $s: no $prog (apt-get install $(package_of "$s"))" >&2
            continue
        fi
    fi
    # the haproxy config's backend is the Python server of python-http
    if [ "$s" = haproxy ] && ! have python3; then
        echo "real-servers: skipping haproxy: its backend needs python3" >&2
        continue
    fi
    servers="$servers $s"
done
[ -n "$servers" ] || { echo "$0: no server to run" >&2; exit 3; }

failed=0
for r in $(seq 1 "$runs"); do
    for s in $servers; do
        res="$out/$s-r$r.json"
        echo "real-servers: $s run $r/$runs -> $res" >&2
        if ! timeout 300 "$QBENCH" run --config "$(config_of "$s")" --output "$res" --quiet; then
            echo "real-servers: $s run $r failed (see above); its row is left out" >&2
            rm -f "$res"
            failed=$((failed + 1))
        fi
    done
done

python3 - "$out" $servers <<'PY'
import json, os, sys

out, servers = sys.argv[1], sys.argv[2:]
NEVER = ("listener_closed", "request_expired", "no_server_socket")
SHORT = {"listener_closed": "closed", "request_expired": "expired", "no_server_socket": "half-open"}


def secs(lat, cls):
    """p50 of a class's time to outcome, in seconds; '-' when none."""
    v = lat.get(cls) or {}
    return "%.2f" % (v["p50"] / 1e6) if v.get("count") else "-"


print("server    backlog  served        late  never (by cause)            timeout reset  "
      "acceptq synq  p50 s: served late never timeout reset")
for s in servers:
    files = sorted(f for f in os.listdir(out) if f.startswith(s + "-r") and f.endswith(".json"))
    rows = []
    for f in files:
        with open(os.path.join(out, f)) as fh:
            doc = json.load(fh)
        for run in doc["runs"]:
            rows.append((run["params"].get("server.backlog", run["config"]["server"]["backlog"]),
                         f, run))
    rows.sort(key=lambda r: (r[0], r[1]))
    for backlog, f, run in rows:
        o, lat = run["outcomes"], run["latency_us"]
        obs = run.get("accept_observed", {})
        causes = obs.get("by_cause", {})
        never = o.get("never_accepted", 0)
        by = ",".join("%s %d" % (SHORT[c], causes[c]) for c in NEVER if causes.get(c))
        served = "%d/%d %.1f%%" % (o["established"], o["attempted"],
                                   100.0 * o["established"] / o["attempted"] if o["attempted"] else 0)
        print("%-9s %7s  %-13s %4d  %-27s %7d %5d  %7s %4s  %11s %4s %5s %7s %5s%s" % (
            s, backlog, served, o.get("accepted_late", 0),
            "%d%s" % (never, " (%s)" % by if by else ""), o["timeout"], o["reset"],
            run.get("accept_queue", {}).get("max", "-"), run.get("syn_queue", {}).get("max", "-"),
            secs(lat, "established"), secs(lat, "accepted_late"), secs(lat, "never_accepted"),
            secs(lat, "timeout"), secs(lat, "reset"),
            "  greeting_timeout %d" % o["greeting_timeout"] if o.get("greeting_timeout") else ""))
PY
echo "real-servers: results in $out" >&2
[ "$failed" -eq 0 ]
