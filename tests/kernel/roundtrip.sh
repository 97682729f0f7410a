#!/bin/bash
# Kernel round trip through the CLI, in a network namespace of its own:
# `nftpolicy apply` of a policy, then `nft -s list table` must equal (after
# normalizing whitespace) what `nftpolicy compile` prints; `nftpolicy diff`
# must then report no difference and a second apply must change nothing.
# Usage: roundtrip.sh NFTPOLICY POLICY [compile arguments...]
# Exit 77 (skip) without root; never runs outside a fresh `unshare -n`.
set -euo pipefail
bin=$1 policy=$2
shift 2
source "$(dirname "$0")/../support/netns.sh"
netns_enter "$0" "$bin" "$policy" "$@"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
state=(--lock "$work/lock" --state-dir "$work/state")
norm() { tr -s ' \t\n' ' '; }

# --flowtables is compile's own (what to assume of the kernel for
# [baseline] flowtable = "auto"); apply asks the kernel, so the text to hold
# the kernel against is compile --flowtables probe. The flowtable's devices
# (the zone interfaces) are made as dummies so a kernel with flowtables can
# hook them.
args=()
while [ $# -gt 0 ]; do
    case $1 in
        --flowtables) shift 2 ;;
        --flowtables=*) shift ;;
        *) args+=("$1"); shift ;;
    esac
done
set -- "${args[@]}"
NFTPOLICY_PATH= "$bin" compile --no-replace "$policy" "$@" --flowtables yes >"$work/devices.nft"
flowtable_dummies "$work/devices.nft"
rc=0
NFTPOLICY_PATH= "$bin" compile --no-replace "$policy" "$@" --flowtables probe >"$work/expected.nft" 2>"$work/compile.err" || rc=$?
if [ "$rc" = 5 ] && grep -q 'flowtable = true, but the kernel refuses' "$work/compile.err"; then
    echo "skip: $policy asks for a flowtable (flowtable = true) and this kernel refuses it:" >&2
    cat "$work/compile.err" >&2
    exit 77
fi
[ "$rc" = 0 ] || { cat "$work/compile.err" >&2; echo "FAIL: compile failed ($rc)" >&2; exit 1; }
table=$(sed -n '1s/^table inet \([^ ]*\) {$/\1/p' "$work/expected.nft")
# A case with no flow and no management (the baseline alone) is applied with
# --force, as apply refuses such a ruleset without it (cli_refusals.sh).
force=()
grep -q 'counter flow_' "$work/expected.nft" || force=(--force)
NFTPOLICY_PATH= "$bin" apply "$policy" "$@" "${state[@]}" "${force[@]}" >/dev/null
nft -s list table inet "$table" >"$work/listed.nft"
if [ "$(norm <"$work/expected.nft")" != "$(norm <"$work/listed.nft")" ]; then
    diff -u "$work/expected.nft" "$work/listed.nft" || true
    echo "FAIL: $policy: the kernel lists something else than compile prints" >&2
    exit 1
fi
if ! NFTPOLICY_PATH= "$bin" diff "$policy" "$@" >"$work/diff.txt"; then
    cat "$work/diff.txt"
    echo "FAIL: $policy: diff reports differences right after apply" >&2
    exit 1
fi
again=$(NFTPOLICY_PATH= "$bin" apply "$policy" "$@" "${state[@]}" "${force[@]}")
if [[ "$again" != *"nothing to do"* ]]; then
    echo "$again"
    echo "FAIL: $policy: a second apply changed something" >&2
    exit 1
fi
echo "ok: $policy $*"
