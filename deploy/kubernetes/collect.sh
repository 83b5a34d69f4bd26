#!/bin/sh
# Collects every shard's results from the pods' logs and merges them:
#   deploy/kubernetes/collect.sh [JOB] [OUT.json]
# Refuses to merge unless every shard 0..N-1 reported exactly once: a
# merge of fewer shards would look like a complete run at a lower rate.
# Only the pods' stdout is read (the results); their stderr is shown apart.
set -eu
job=${1:-qbench-shards}
out=${2:-results/$job.json}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
kubectl wait --for=condition=complete "job/$job" --timeout=3600s
n=$(kubectl get "job/$job" -o jsonpath='{.spec.completions}')
case $n in
    ''|*[!0-9]*) echo "collect.sh: job/$job has no completion count" >&2; exit 2 ;;
esac
for pod in $(kubectl get pods -l "job-name=$job" --field-selector=status.phase=Succeeded \
        -o name); do
    i=$(kubectl get "$pod" -o jsonpath='{.metadata.labels.batch\.kubernetes\.io/job-completion-index}')
    case $i in
        ''|*[!0-9]*) echo "collect.sh: $pod has no completion index" >&2; exit 2 ;;
    esac
    if [ -e "$dir/shard-$i.json" ]; then
        echo "collect.sh: shard $i reported twice (pods retried?); not merging" >&2
        exit 2
    fi
    # the pod's log is qbench's stdout alone: job.yaml sends its stderr to
    # the termination message, which is shown here, never merged
    kubectl logs "$pod" --container=qbench > "$dir/shard-$i.json"
    said=$(kubectl get "$pod" -o \
        jsonpath='{.status.containerStatuses[?(@.name=="qbench")].state.terminated.message}')
    [ -z "$said" ] || printf 'collect.sh: shard %s said: %s\n' "$i" "$said" >&2
done
missing=""
i=0
while [ "$i" -lt "$n" ]; do
    [ -e "$dir/shard-$i.json" ] || missing="$missing $i"
    i=$((i + 1))
done
if [ -n "$missing" ]; then
    echo "collect.sh: job/$job has $n shards; no results from shard(s)$missing; not merging" >&2
    exit 2
fi
qbench merge "$dir"/shard-*.json -o "$out"
