#!/bin/bash
# The bash completion offers every command and option qbench has, and for
# --set the real config keys (no literal sysctl.<name>=, no metric names).
#   test_completion.sh QBENCH_BINARY COMPLETION_SCRIPT
set -u
bin=$1
. "$2"
fail=0
words() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _qbench
          printf '%s\n' "${COMPREPLY[@]}"; }
has() { # has WORD -- completion words...
    local want=$1; shift
    words "$@" | grep -qxF -- "$want" || { echo "FAIL: '$*' does not offer $want"; fail=1; }
}
hasnt() {
    local bad=$1; shift
    ! words "$@" | grep -qF -- "$bad" || { echo "FAIL: '$*' offers $bad"; fail=1; }
}
for cmd in run validate compare plot export merge help; do has "$cmd" "$bin" ''; done
for opt in --config --set --output --quiet --connections --repeat --shard --start-at; do
    has "$opt" "$bin" run --
done
for opt in --gate --format --alpha --allow-different --min-samples; do has "$opt" "$bin" compare --; done
# every long option a command's --help names is offered for it
for cmd in compare plot export merge observe; do
    "$bin" "$cmd" --help >/dev/null 2>&1 || continue
    for opt in $("$bin" "$cmd" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
        case $opt in --shard|--config) continue ;; esac  # named in prose, not options
        has "$opt" "$bin" "$cmd" --
    done
done
has --x "$bin" plot -
has -o "$bin" merge -
has config "$bin" help ''
has man "$bin" help ''
# every option run's help names
for opt in $("$bin" run --help | sed -n '/^run\/validate options:/,/^$/p' |
             grep -o -- '--[a-z][a-z-]*' | sort -u); do
    has "$opt" "$bin" run --
done
has server.backlog= "$bin" run --set ''
has client.rate= "$bin" run --set ''
has sysctl.net.ipv4.tcp_synack_retries= "$bin" run --set ''
hasnt '<' "$bin" run --set ''
hasnt established_ratio "$bin" run --set ''
has tcp_synack_retries "$bin" plot --x tcp_syna
# every command its usage names is offered
for cmd in $("$bin" --help | sed -n 's/^\(usage:\)\{0,1\} *qbench \[\{0,1\}\([a-z-]*\).*/\2/p'); do
    has "$cmd" "$bin" ''
done
[ $fail = 0 ] && echo "completion: ok"
exit $fail
