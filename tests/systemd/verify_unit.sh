#!/bin/bash
# The shipped unit parses cleanly for systemd 252 and stays hardened:
# `systemd-analyze verify` against a staged root (it prints parse problems
# as warnings with exit 0, so any output fails), and `systemd-analyze
# security --offline` under a fixed exposure threshold.
# Usage: verify_unit.sh NFTPOLICY UNIT_FILE
set -euo pipefail
bin=$1 unit=$2
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze" >&2; exit 77; }
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/usr/lib/systemd" "$stage/usr/sbin" "$stage/etc/systemd/system"
cp -a /usr/lib/systemd/system "$stage/usr/lib/systemd/"
install -m755 "$bin" "$stage/usr/sbin/nftpolicy"
cp "$unit" "$stage/etc/systemd/system/"
name=$(basename "$unit")
out=$(systemd-analyze verify --man=no --root="$stage" "$name" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "FAIL: systemd-analyze verify said:"; echo "$out"; exit 1; fi
echo "ok: systemd-analyze verify $name: no warnings"
# Exposure is in tenths: 25 = "2.5 OK" at most.
systemd-analyze security --offline=true --threshold=25 "$unit" | tail -1
