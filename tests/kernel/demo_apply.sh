#!/bin/bash
# The real thing on the shipped gateway example, in a scratch network
# namespace (never this machine's own ruleset): apply phase coexist over
# netlink, show the table and `nftpolicy status`, then re-apply with
# --phase final and show what the migration removed (only the difference is
# committed; counters of the remaining flows keep their values).
# Usage (root): tests/kernel/demo_apply.sh NFTPOLICY [POLICY_ROOT]
set -euo pipefail
np=$(realpath "$1")
root=$(realpath "${2:-$(dirname "$0")/../..}")
source "$root/tests/support/netns.sh"
netns_enter "$0" "$np" "$root"
state=$(mktemp -d); trap 'rm -rf "$state"' EXIT
opts=(--lock "$state/lock" --state-dir "$state")
example=$root/policies/examples/gateway.toml
export NFTPOLICY_PATH=$root/policies

echo "== nftpolicy apply $example --phase coexist"
$np apply "$example" --phase coexist "${opts[@]}"
echo "== nft list table inet nftpolicy"
nft list table inet nftpolicy
echo "== nftpolicy status"
$np status --state-dir "$state"
echo "== nftpolicy diff --phase final (exit 1: differences)"
$np diff "$example" --phase final || true
echo "== nftpolicy apply --phase final"
$np apply "$example" --phase final "${opts[@]}"
echo "== nftpolicy status"
$np status --state-dir "$state"
echo "== nftpolicy apply --phase final again: nothing to do"
$np apply "$example" --phase final "${opts[@]}"
