#!/bin/bash
# Golden case: `nftpolicy compile` of CASE/policy.toml (with the arguments in
# CASE/args, one per line) must print exactly CASE/expected.nft.
# Usage: run_case.sh NFTPOLICY CASE_DIR [--update]
set -euo pipefail
bin=$1 dir=$2
cd "$dir"
args=()
[ -f args ] && mapfile -t args < args
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
NFTPOLICY_PATH= "$bin" compile policy.toml "${args[@]}" >"$actual"
if [ "${3:-}" = --update ]; then
    cp "$actual" expected.nft
    echo "updated $dir/expected.nft"
    exit 0
fi
if ! diff -u expected.nft "$actual"; then
    echo "FAIL: $dir: compile output differs from expected.nft (run with --update to accept)" >&2
    exit 1
fi
echo "ok: $dir"
