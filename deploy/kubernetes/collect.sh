#!/bin/sh
# Collects every shard's results from the pods' logs and merges them:
#   deploy/kubernetes/collect.sh [JOB] [OUT.json]
set -eu
job=${1:-qbench-shards}
out=${2:-results/$job.json}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
kubectl wait --for=condition=complete "job/$job" --timeout=3600s
for pod in $(kubectl get pods -l "job-name=$job" -o name); do
    i=$(kubectl get "$pod" -o jsonpath='{.metadata.labels.batch\.kubernetes\.io/job-completion-index}')
    kubectl logs "$pod" > "$dir/shard-$i.json"
done
qbench merge "$dir"/shard-*.json -o "$out"
