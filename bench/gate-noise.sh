#!/bin/sh
# How noisy is the CI gate, and what does it catch, at 3, 5 and 7 repeats
# a side? For each config shape it makes pools of independent single runs
# (one fresh namespace each) of the config and of changed versions, then
# builds comparisons by drawing runs from the pools and prints, per change
# and repeat count, how many trials `qbench compare` flagged (exit 1),
# refused as not judgeable (exit 2) or passed (exit 0).
#
# Changes: identical (false alarms), a 20% and a 4x slower acceptor, a 25%
# smaller backlog and tcp_synack_retries 1 -> 0.
#
# Resampling: a trial draws k runs for the baseline and k other runs for
# the current side, without replacement within the trial (identical
# trials draw all 2k from the same pool). Every run is an independent
# repeat in a fresh namespace, so each trial is a faithful draw of two
# groups of k repeats: the rates are unbiased. Trials share runs with each
# other, though, so they are not independent: the spread of a rate over
# many trials is wider than a binomial of that many trials would say.
# The pools are kept (--pool DIR): judging again after a change to compare
# costs seconds, not runs.
#
#   bench/gate-noise.sh [--pool DIR] [--trials N] [--repeats "3 5 7"]
#                       [--shapes "gate gate-reset"] [--base N] [--changed N]
# Defaults: 20 trials; pools of 30 runs of each config and 12 of each
# change. configs/gate.json takes about 7 s a run on a 2-vCPU VM,
# configs/gate-reset.json about 5 s: some 20 minutes for both shapes.
set -eu
cd "$(dirname "$0")/.."
QBENCH=${QBENCH:-./build/qbench}
pool=
trials=20
repeats="3 5 7"
shapes="gate gate-reset"
nbase=30
nchanged=12
while [ $# -gt 0 ]; do
    case $1 in
    --pool) pool=$2; shift 2 ;;
    --trials) trials=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --shapes) shapes=$2; shift 2 ;;
    --base) nbase=$2; shift 2 ;;
    --changed) nchanged=$2; shift 2 ;;
    *) echo "usage: $0 [--pool DIR] [--trials N] [--repeats LIST] [--shapes LIST]" \
            "[--base N] [--changed N]" >&2; exit 2 ;;
    esac
done
if [ -z "$pool" ]; then
    pool=$(mktemp -d)
    trap 'rm -rf "$pool"' EXIT
fi

# The changes of each shape: name and --set arguments.
changes() {
    case $1 in
    gate) cat <<EOF
slower20 server.accept_delay_ms=60
slower4x server.accept_delay_ms=200
backlog server.backlog=6
synack sysctl.net.ipv4.tcp_synack_retries=0
EOF
        ;;
    gate-reset) cat <<EOF
slower20 server.accept_delay_ms=24
slower4x server.accept_delay_ms=80
backlog server.backlog=12
synack sysctl.net.ipv4.tcp_synack_retries=0
EOF
        ;;
    esac
}

fill() { # shape variant count [--set ...]: runs missing from the pool
    shape=$1 variant=$2 count=$3
    shift 3
    mkdir -p "$pool/$shape"
    i=1
    while [ "$i" -le "$count" ]; do
        out="$pool/$shape/$variant-$i.json"
        if [ ! -f "$out" ]; then
            # shellcheck disable=SC2068
            "$QBENCH" --config "configs/$shape.json" --repeat 1 --output "$out" --quiet \
                "$@" </dev/null >/dev/null
        fi
        i=$((i + 1))
    done
}

for shape in $shapes; do
    echo "== $shape: pools ($nbase runs, $nchanged of each change) in $pool/$shape" >&2
    fill "$shape" same "$nbase"
    changes "$shape" | while read -r name set; do
        fill "$shape" "$name" "$nchanged" --set "$set"
    done
done

# Judging: assemble each side's runs into one results document with
# repeats, as `repeat: k` would have written it, and run compare on them.
QBENCH="$QBENCH" POOL="$pool" TRIALS="$trials" REPEATS="$repeats" SHAPES="$shapes" \
    python3 - <<'EOF'
import json, os, random, subprocess, tempfile

qbench, pool = os.environ["QBENCH"], os.environ["POOL"]
trials = int(os.environ["TRIALS"])
repeats = [int(k) for k in os.environ["REPEATS"].split()]
RATIOS = ["established", "timeout", "reset", "refused", "greeting_timeout", "accepted_late",
          "never_accepted", "error"]
LAT = [(h, s) for h in ("connect", "accept") for s in ("p50", "p90", "p99", "p999", "max")]


def load(path):
    with open(path) as f:
        return json.load(f)


def bucket_low(i):
    """The smallest value of bucket i (src/histjson.h)."""
    return i if i < 128 else (64 + (i - 128) % 64) << ((i - 128) // 64 + 1)


def merged_hist(hists):
    """Histograms merged bucket by bucket (indexes, as qbench's merge
    does); percentiles from the merged buckets (the low end of the bucket
    a quantile falls in, within 0.8% of qbench's)."""
    counts = {}
    for h in hists:
        for v, c in h.get("buckets", []):
            counts[v] = counts.get(v, 0) + c
    out = dict(hists[0])
    n = sum(counts.values())
    out["count"] = n
    out["buckets"] = [[v, counts[v]] for v in sorted(counts)]
    out["sum"] = sum(h.get("sum", 0) for h in hists)
    if n:
        out["mean"] = out["sum"] / n
        out["min"] = min(h["min"] for h in hists if h.get("count"))
        out["max"] = max(h["max"] for h in hists if h.get("count"))
        for name, q in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99),
                        ("p999", 0.999)):
            seen = 0
            for v in sorted(counts):
                seen += counts[v]
                if seen >= q * n:
                    out[name] = bucket_low(v)
                    break
    return out


def merged(docs):
    """One document whose run holds the docs' runs as repeats, with the
    summed outcomes and the per-metric spread compare reads."""
    runs = [d["runs"][0] for d in docs]
    doc = json.loads(json.dumps(docs[0]))
    run = doc["runs"][0]
    outcomes = {}
    for r in runs:
        for k, v in r["outcomes"].items():
            if isinstance(v, (int, float)):
                outcomes[k] = outcomes.get(k, 0) + v
    run["outcomes"] = dict(run["outcomes"], **outcomes)
    spread = {}
    for c in RATIOS:
        vals = [r["outcomes"].get(c, 0) / r["outcomes"]["attempted"] for r in runs]
        spread[c + "_ratio"] = {"values": vals}
    for h, s in LAT:
        vals = [r["latency_us"][h][s] for r in runs
                if h in r.get("latency_us", {}) and r["latency_us"][h].get("count", 0) > 0]
        if len(vals) == len(runs):
            spread["%s_%s_us" % (h, s)] = {"values": vals}
    for h in ("connect", "accept"):
        if h in run.get("latency_us", {}):
            run["latency_us"][h] = merged_hist([r["latency_us"][h] for r in runs])
    run["spread"] = spread
    run["repeats"] = [dict(r, repeat=i + 1) for i, r in enumerate(runs)]
    doc["config"]["repeat"] = len(runs)
    return doc


def judge(base, cur, tmp):
    a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
    for path, docs in ((a, base), (b, cur)):
        with open(path, "w") as f:
            json.dump(merged(docs), f)
    rc = subprocess.run([qbench, "compare", "--allow-different", a, b],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    if rc not in (0, 1, 2):
        raise SystemExit("compare exited %d" % rc)
    return rc


rng = random.Random(25)
with tempfile.TemporaryDirectory() as tmp:
    print("shape       change      repeats  flagged  cannot judge  passed  (of trials)")
    for shape in os.environ["SHAPES"].split():
        d = os.path.join(pool, shape)
        pools = {}
        for name in sorted(os.listdir(d)):
            pools.setdefault(name.rsplit("-", 1)[0], []).append(load(os.path.join(d, name)))
        for change in ["same"] + sorted(p for p in pools if p != "same"):
            for k in repeats:
                counts = [0, 0, 0]
                for _ in range(trials):
                    if change == "same":
                        draw = rng.sample(pools["same"], 2 * k)
                        base, cur = draw[:k], draw[k:]
                    else:
                        base = rng.sample(pools["same"], k)
                        cur = rng.sample(pools[change], k)
                    counts[judge(base, cur, tmp)] += 1
                print("%-11s %-11s %7d  %7d  %12d  %6d  (%d)" % (
                    shape, "identical" if change == "same" else change, k, counts[1],
                    counts[2], counts[0], trials), flush=True)
EOF
