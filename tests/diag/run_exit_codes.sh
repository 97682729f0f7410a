#!/bin/bash
# Exit codes tell a missing or unreadable policy (4, system) from an invalid
# one (3), for both check and compile, so Ansible and scripts can tell them apart.
# Usage: run_exit_codes.sh NFTPOLICY
set -uo pipefail
bin=$1 fail=0
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
expect() {  # expect CODE DESCRIPTION COMMAND...
    local want=$1 what=$2; shift 2
    "$@" >/dev/null 2>"$dir/err"; local got=$?
    if [ "$got" = "$want" ]; then echo "ok: $what (exit $got)"; else
        echo "FAIL: $what: exit $got, expected $want"; cat "$dir/err"; fail=1; fi
}
printf '[groups]\na = ["10.0.0.1"]\n[hosts.h]\nroles = ["a"]\n' >"$dir/ok.toml"
printf '[groups]\na = ["10.0.0.300"]\n' >"$dir/bad.toml"
for cmd in check compile; do
    expect 0 "$cmd valid policy" "$bin" $cmd "$dir/ok.toml"
    expect 3 "$cmd invalid policy" "$bin" $cmd "$dir/bad.toml"
    expect 4 "$cmd missing file" "$bin" $cmd "$dir/nosuch.toml"
    expect 4 "$cmd directory" "$bin" $cmd "$dir"
done
expect 2 "unknown option" "$bin" check --no-such-option "$dir/ok.toml"
expect 2 "bad --phase value" "$bin" compile "$dir/ok.toml" --phase sideways
grep -q "cannot read '$dir/nosuch.toml': no such file" <("$bin" check "$dir/nosuch.toml" 2>&1) \
    || { echo "FAIL: missing-file message"; fail=1; }
exit $fail
