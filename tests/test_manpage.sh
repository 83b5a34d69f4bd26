#!/bin/sh
# cmake --install puts a manual page that man renders, with the config
# reference and every command in it, and that groff reads without a warning.
#   test_manpage.sh BUILD_DIR
set -eu
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
page=$prefix/share/man/man1/qbench.1
[ -s "$page" ] || { echo "FAIL: no $page"; exit 1; }
warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
[ -z "$warnings" ] || { echo "FAIL: groff warns: $warnings"; exit 1; }
text=$(MANWIDTH=80 man -l "$page" 2>/dev/null | col -b)
for want in "QBENCH(1)" "SYNOPSIS" "CONFIG KEYS" "server.backlog" "sysctl.<name>" \
            "net.ipv4.tcp_synack_retries" "SWEEP, EXPECT, REPEAT" "METRICS" "established_ratio" \
            "EXIT STATUS" "--no-sweep" "--min-samples N" "--x KEY" "--duration-ms MS"; do
    printf '%s\n' "$text" | grep -qF -- "$want" || { echo "FAIL: the page lacks '$want'"; exit 1; }
done
# a line of the rendered page wider than the terminal it was made for is
# roff that was not reflowed
width=$(printf '%s\n' "$text" | awk '{ if (length > m) m = length } END { print m }')
[ "$width" -le 80 ] || { echo "FAIL: a line of $width columns"; exit 1; }
echo "manpage: ok ($(printf '%s\n' "$text" | wc -l) lines)"
