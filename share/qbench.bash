# bash completion for qbench (installed by `cmake --install` to
# share/bash-completion/completions/qbench)
_qbench() {
    local cur prev cmd
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    cmd=${COMP_WORDS[1]}
    case $prev in
        --config|-c) COMPREPLY=($(compgen -f -X '!*.json' -- "$cur")); return ;;
        --output|-o|--connections) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --format|-F)
            if [ "$cmd" = export ]; then COMPREPLY=($(compgen -W "csv" -- "$cur"))
            else COMPREPLY=($(compgen -W "text json markdown junit" -- "$cur")); fi
            return ;;
        --set|-s)
            COMPREPLY=($(compgen -W "$(qbench help config 2>/dev/null | awk '/^  [a-z]/ {print $1"="}')" -- "$cur"))
            compopt -o nospace 2>/dev/null
            return ;;
    esac
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "run validate compare plot export help --config --version --help" -- "$cur"))
        return
    fi
    case $cmd in
        run|validate|--config) COMPREPLY=($(compgen -W "--config --set --output --quiet --connections --repeat --help" -- "$cur")) ;;
        compare) COMPREPLY=($(compgen -W "--format --alpha --min-effect-pp --min-effect-pct --threshold --ratio-threshold --latency-floor-us --min-samples --allow-different --help" -- "$cur") $(compgen -f -X '!*.json' -- "$cur")) ;;
        plot) COMPREPLY=($(compgen -W "-o --x --help" -- "$cur") $(compgen -f -X '!*.json' -- "$cur")) ;;
        export) COMPREPLY=($(compgen -W "--format -o --help" -- "$cur") $(compgen -f -X '!*.json' -- "$cur")) ;;
        help) COMPREPLY=($(compgen -W "config" -- "$cur")) ;;
    esac
}
complete -F _qbench qbench
