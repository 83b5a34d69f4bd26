# bash completion for qbench (installed by `cmake --install` to
# share/bash-completion/completions/qbench). Config keys come from the
# qbench being completed (`qbench help config`), so they are always the
# keys it accepts: every key path, and every sysctl as sysctl.<its name>.

_qbench_keys() {
    "${COMP_WORDS[0]}" help config 2>/dev/null | awk '
        /^[A-Z]/ { section = $1 }                       # "Config", "Metrics", "Sweep" ...
        section != "Config" { next }
        /^  [a-z]/ && $1 !~ /</ { print $1 "=" }        # server.backlog=
        /^    [a-z]/ { print "sysctl." $1 "=" }         # sysctl.net.ipv4.tcp_synack_retries=
    '
}

_qbench() {
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    cmd=${COMP_WORDS[1]}
    case $cmd in --*|-*) cmd=run ;; esac
    case $prev in
        --config|-c|--config-b) COMPREPLY=($(compgen -f -X '!*.json' -- "$cur")); return ;;
        --output|-o|--connections|--output-a|--output-b|--verdict)
            COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --format|-F)
            if [ "$cmd" = export ]; then COMPREPLY=($(compgen -W "csv" -- "$cur"))
            else COMPREPLY=($(compgen -W "text json markdown junit" -- "$cur")); fi
            return ;;
        --set|-s|--set-a|--set-b)
            COMPREPLY=($(compgen -W "$(_qbench_keys) sweep={} expect={}" -- "$cur"))
            compopt -o nospace 2>/dev/null
            return ;;
        --x)
            # the names a plot shows, as any of the results files on the line have them
            COMPREPLY=($(compgen -W "$(_qbench_keys | sed 's/=$//') \
                $(_qbench_keys | sed -n 's/^sysctl\.\(.*\)=$/\1/p' | sed 's/.*\.//')" -- "$cur"))
            return ;;
        --repeat|--shard|--start-at|--threshold|--ratio-threshold|--latency-floor-us|\
        --min-samples|--alpha|--min-effect-pp|--min-effect-pct|--port|--duration-ms|\
        --interval-ms|--gate)
            return ;;  # a number or an instant: nothing to offer
    esac
    if [ "$COMP_CWORD" -eq 1 ]; then
        # the commands this qbench has, from its usage
        COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" --help 2>/dev/null |
            sed -n 's/^\(usage:\)\{0,1\} *qbench \[\{0,1\}\([a-z-]*\).*/\2/p' | sort -u) \
            --config --help" -- "$cur"))
        return
    fi
    case $cmd in
        run|validate)
            COMPREPLY=($(compgen -W "--config --set --output --quiet --connections --repeat \
                --shard --start-at --no-sweep --help" -- "$cur")) ;;
        compare)
            COMPREPLY=($(compgen -W "--gate --format --alpha --min-effect-pp --min-effect-pct \
                --threshold --ratio-threshold --latency-floor-us --min-samples \
                --allow-different --help" -- "$cur") $(compgen -f -X '!*.json' -- "$cur")) ;;
        ab)
            COMPREPLY=($(compgen -W "--config --config-b --set --set-a --set-b --repeat \
                --output-a --output-b --verdict --format --gate --alpha --min-effect-pp \
                --min-effect-pct --quiet --help" -- "$cur")) ;;
        plot) COMPREPLY=($(compgen -W "-o --output --x --help" -- "$cur") \
                $(compgen -f -X '!*.json' -- "$cur")) ;;
        export) COMPREPLY=($(compgen -W "--format -o --output --help" -- "$cur") \
                $(compgen -f -X '!*.json' -- "$cur")) ;;
        merge) COMPREPLY=($(compgen -W "-o --output --help" -- "$cur") \
                $(compgen -f -X '!*.json' -- "$cur")) ;;
        observe) COMPREPLY=($(compgen -W "--port --duration-ms --start-at --interval-ms -o \
                --output --quiet --help" -- "$cur")) ;;
        help) COMPREPLY=($(compgen -W "config man run validate compare ab plot export merge \
                observe" -- "$cur")) ;;
    esac
}
complete -F _qbench qbench
