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

NFTPOLICY_PATH= "$bin" compile --no-replace "$policy" "$@" >"$work/expected.nft"
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
