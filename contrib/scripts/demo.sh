#!/bin/bash
# The main job on the shipped example, as root on Debian 12: build, validate
# the gateway example, then in a scratch network namespace (never this
# machine's own ruleset) apply it for phase coexist over netlink, show the
# table and `nftpolicy status`, and re-apply with --phase final to show the
# migration drop exactly the legacy rules.
# Usage: contrib/scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
contrib/scripts/deps.sh
cmake -S . -B build -G Ninja >/dev/null
ninja -C build nftpolicy >/dev/null
example=policies/examples/gateway.toml
echo "== nftpolicy check $example"
NFTPOLICY_PATH=$PWD/policies build/daemon/nftpolicy check "$example"
exec tests/kernel/demo_apply.sh build/daemon/nftpolicy "$PWD"
