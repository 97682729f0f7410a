#!/bin/bash
# `nftpolicy check --verbose` of DIR/policy.toml must exit 0 and print exactly
# DIR/expected.out (the valid line, then one line per optional flow left out,
# at its declaration); without --verbose only the valid line.
# Usage: run_verbose.sh NFTPOLICY DIR
set -euo pipefail
bin=$1
cd "$2"
actual=$(NFTPOLICY_PATH= "$bin" check --verbose policy.toml)
if [ "$actual" != "$(cat expected.out)" ]; then
    diff -u expected.out <(echo "$actual") || true
    echo "FAIL: check --verbose printed something else" >&2
    exit 1
fi
quiet=$(NFTPOLICY_PATH= "$bin" check policy.toml)
if [ "$quiet" != "$(head -n1 expected.out)" ]; then
    echo "FAIL: check without --verbose printed: $quiet" >&2
    exit 1
fi
echo "ok: check --verbose"
