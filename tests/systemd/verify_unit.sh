#!/bin/bash
# The shipped unit parses cleanly for systemd 252 and stays hardened:
# `systemd-analyze verify` against a staged root (it prints parse problems
# as warnings with exit 0, so any output fails), and `systemd-analyze
# security --offline` exposure at most MAX (the number it prints is parsed
# and compared, so the test says by how much it missed).
# Usage: verify_unit.sh NFTPOLICY NFTPOLICYD UNIT_FILE MAX_EXPOSURE
set -euo pipefail
cli=$1 daemon=$2 unit=$3 max=$4
command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze" >&2; exit 77; }
stage=$(mktemp -d); trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/usr/lib/systemd" "$stage/usr/sbin" "$stage/etc/systemd/system"
cp -a /usr/lib/systemd/system "$stage/usr/lib/systemd/"
install -m755 "$cli" "$stage/usr/sbin/nftpolicy"
install -m755 "$daemon" "$stage/usr/sbin/nftpolicyd"
cp "$unit" "$stage/etc/systemd/system/"
name=$(basename "$unit")
out=$(systemd-analyze verify --man=no --root="$stage" "$name" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "FAIL: systemd-analyze verify said:"; echo "$out"; exit 1; fi
echo "ok: systemd-analyze verify $name: no output"
line=$(systemd-analyze security --offline=true "$unit" | grep 'Overall exposure level')
exposure=$(sed -n 's/.*: \([0-9][0-9]*\.[0-9]\).*/\1/p' <<<"$line")
[ -n "$exposure" ] || { echo "FAIL: no exposure number in: $line"; exit 1; }
if awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e <= m) }'; then
    echo "ok: exposure $exposure <= $max ($line)"
else
    echo "FAIL: exposure $exposure > $max ($line)"
    exit 1
fi
