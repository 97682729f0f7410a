#!/bin/bash
# Golden output of `nftpolicy matrix`: the command line in CASE.args (one
# argument per line, relative to the source tree) must print exactly
# CASE.expected and exit 0.
# Usage: run_case.sh NFTPOLICY SOURCE_DIR CASE [--update]
set -euo pipefail
bin=$(realpath "$1") root=$2 case=$3
mapfile -t args <"$case.args"
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
(cd "$root" && NFTPOLICY_PATH= "$bin" matrix "${args[@]}") >"$actual"
if [ "${4:-}" = --update ]; then
    cp "$actual" "$case.expected"
    echo "updated $case.expected"
    exit 0
fi
if ! diff -u "$case.expected" "$actual"; then
    echo "FAIL: $case: matrix output differs from $(basename "$case").expected (run with --update to accept)" >&2
    exit 1
fi
# Text is for an 80-column terminal.
if [[ $case == *.text ]] && awk 'length > 80 { bad = 1 } END { exit !bad }' "$actual"; then
    echo "FAIL: $case: a line is wider than 80 columns" >&2
    exit 1
fi
echo "ok: $case"
