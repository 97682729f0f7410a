#!/bin/bash
# The real nft must accept what we emit: `nft -c -f` of the compile output,
# inside a network namespace of its own (never the machine's). Needs root for
# `unshare -n`; exits 77 (skipped) otherwise.
# Usage: nft_check.sh NFTPOLICY POLICY_FILE [--args-file FILE] [compile args...]
set -euo pipefail
bin=$1 policy=$2
shift 2
if [ "${1:-}" = --args-file ]; then   # a golden case's args file (may be absent)
    file=$2; shift 2; extra=()
    [ -f "$file" ] && mapfile -t extra <"$file"
    set -- "${extra[@]}" "$@"
fi
# Relative paths in the arguments (-I profiles) are relative to the policy.
cd "$(dirname "$policy")"
policy=$(basename "$policy")
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root for unshare -n" >&2; exit 77; fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
NFTPOLICY_PATH= "$bin" compile "$policy" "$@" >"$out"
# A flowtable ([baseline] flowtable) needs a kernel with flowtables, and its
# devices must exist: they are made as dummies in the scratch namespace.
if grep -q '^	flowtable ' "$out"; then
    support=$(dirname "$0")/../support/netns.sh
    if ! refusal=$(unshare -n bash -c "source '$support'; kernel_has_flowtables"); then
        echo "skip: the compile output of $policy $* has a flowtable and this kernel refuses flowtables: $refusal" >&2
        exit 77
    fi
    if ! unshare -n bash -c "source '$support'; flowtable_dummies '$out' && nft -c -f '$out'"; then
        echo "FAIL: nft -c rejected the compile output of $policy $*" >&2
        cat -n "$out" >&2
        exit 1
    fi
    echo "ok: nft -c accepts $policy $* (flowtable devices made as dummies)"
    exit 0
fi
# -c: the kernel checks the whole transaction and commits nothing.
if ! unshare -n nft -c -f "$out"; then
    echo "FAIL: nft -c rejected the compile output of $policy $*" >&2
    cat -n "$out" >&2
    exit 1
fi
echo "ok: nft -c accepts $policy $*"
