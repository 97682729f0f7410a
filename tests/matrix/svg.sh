#!/bin/bash
# `matrix --format svg` runs Graphviz's dot: with dot installed the output is
# an SVG document naming the example's roles; without dot in PATH it is a
# clear message and exit 4, nothing on stdout.
# Usage: svg.sh NFTPOLICY SOURCE_DIR
set -euo pipefail
bin=$(realpath "$1") root=$2
cd "$root"
args=(policies/examples/gateway.toml -I policies --phase coexist)
fail() { echo "FAIL: $*" >&2; exit 1; }

rc=0
out=$(PATH=/nonexistent NFTPOLICY_PATH= "$bin" matrix "${args[@]}" --format svg 2>/tmp/matrix-svg-err.$$) || rc=$?
err=$(cat /tmp/matrix-svg-err.$$); rm -f /tmp/matrix-svg-err.$$
[ "$rc" = 4 ] || fail "without dot: exit $rc, expected 4"
[ -z "$out" ] || fail "without dot: something on stdout"
[[ $err == *"needs Graphviz's \`dot\`"*"apt install graphviz"* ]] || fail "without dot: unclear message: $err"

if ! command -v dot >/dev/null; then
    echo "skip: the svg rendering needs Graphviz's dot (apt install graphviz)" >&2
    exit 77
fi
svg=$(NFTPOLICY_PATH= "$bin" matrix "${args[@]}" --format svg)
[[ $svg == *"<svg"*"</svg>"* ]] || fail "not an SVG document"
for name in agents agent_handler "backend &amp; agent_handler" update_server; do
    [[ $svg == *">$name<"* ]] || fail "the SVG does not name $name"
done
echo "ok: svg rendered with $(command -v dot); a clear message without it"
