#!/bin/bash
# Runs a test command that needs root (unshare -n, nft); exits 77, which ctest
# reports as skipped, when not root, so a kernel test is never passed unrun.
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (network namespaces): $*" >&2
    exit 77
fi
exec "$@"
