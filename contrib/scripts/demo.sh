#!/bin/bash
# The main job on the shipped example: build, validate the gateway example,
# compile it for phase coexist and prove that the kernel accepts it, inside a
# scratch network namespace (never this machine's own ruleset).
# Usage (as root on Debian 12): contrib/scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
contrib/scripts/deps.sh
cmake -S . -B build -G Ninja >/dev/null
ninja -C build nftpolicy >/dev/null
np=build/daemon/nftpolicy
example=policies/examples/gateway.toml
export NFTPOLICY_PATH=$PWD/policies

echo "== nftpolicy check $example"
$np check $example
echo "== nftpolicy compile $example --phase coexist"
out=$(mktemp); trap 'rm -f "$out"' EXIT
$np compile $example --phase coexist | tee "$out"
echo "== nft -c -f (inside unshare -n: a scratch network namespace)"
unshare -n nft -c -f "$out" && echo "kernel accepts the coexist ruleset"
echo "== what --phase final removes (the legacy flows) and adds"
diff <($np compile $example --phase coexist) <($np compile $example --phase final) || true
