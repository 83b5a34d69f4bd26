#!/bin/sh
# Collects every shard's results from the pods' logs, and the server's side
# from the qbench observe sidecar of every target pod, and merges them:
#   deploy/kubernetes/collect.sh [JOB] [OUT.json] [TARGET_LABEL]
# Refuses to merge unless every shard 0..N-1 reported exactly once: a
# merge of fewer shards would look like a complete run at a lower rate.
# Only the pods' stdout is read (the results); their stderr is shown apart.
# Every target pod (label app.kubernetes.io/name=TARGET_LABEL, default
# qbench-target) must have written its observer document (its window ends
# START_AT + OBSERVE_MS, waited for up to QBENCH_OBSERVER_WAIT_S, default
# 300 s); QBENCH_NO_OBSERVER=1 merges the shards alone, without the
# server's side.
set -eu
job=${1:-qbench-shards}
out=${2:-results/$job.json}
target=${3:-qbench-target}
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
observers=""
if [ "${QBENCH_NO_OBSERVER:-0}" != 1 ]; then
    pods=$(kubectl get pods -l "app.kubernetes.io/name=$target" \
        --field-selector=status.phase=Running -o name)
    if [ -z "$pods" ]; then
        echo "collect.sh: no running pod labelled app.kubernetes.io/name=$target to collect" \
             "the server's side from (QBENCH_NO_OBSERVER=1 merges the shards alone)" >&2
        exit 2
    fi
    k=0
    for pod in $pods; do
        # written whole or not at all (qbench renames it into place)
        tries=0
        until kubectl exec "$pod" -c qbench-observe -- \
                cat /var/run/qbench/observer.json > "$dir/observer-$k.json" 2>/dev/null; do
            tries=$((tries + 1))
            if [ $((tries * 5)) -gt "${QBENCH_OBSERVER_WAIT_S:-300}" ]; then
                echo "collect.sh: $pod wrote no observer document; its log says:" >&2
                kubectl exec "$pod" -c qbench-observe -- cat /var/run/qbench/observe.log >&2 ||
                    true
                exit 2
            fi
            sleep 5
        done
        observers="$observers $dir/observer-$k.json"
        k=$((k + 1))
    done
fi
# shellcheck disable=SC2086 # one word per observer file, made here
qbench merge "$dir"/shard-*.json $observers -o "$out"
