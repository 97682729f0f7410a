#!/bin/bash
# Controls for the diagnostics corpus, so that it cannot pass by a `check`
# that rejects everything:
#
#   run_valid.sh NFTPOLICY_BIN DIR valid
#       `check policy.toml` of the valid policy in DIR exits 0, says it is
#       valid on stdout and prints nothing on stderr.
#   run_valid.sh NFTPOLICY_BIN DIR no-extension
#       the same policy copied to a temporary file without a `.toml`
#       extension, in another directory (what Ansible's `validate: nftpolicy
#       check %s` does), with DIR on the include path for its profile, is
#       valid too; and the same file made invalid exits 3.
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 NFTPOLICY_BIN DIR valid|no-extension" >&2
    exit 2
fi
bin=$(realpath "$1")
dir=$(realpath "$2")
mode=$3

fail() {
    echo "FAIL $mode: $*" >&2
    exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Runs check with the given arguments from directory $1; sets rc, out, err.
run_check() {
    local cwd=$1
    shift
    rc=0
    (cd "$cwd" && env -u NFTPOLICY_PATH "$bin" check "$@") >"$tmp/out" 2>"$tmp/err" || rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

expect_valid() {
    local label=$1
    if [[ $rc -ne 0 ]]; then
        printf '%s\n' "$err" >&2
        fail "$label: exit code $rc, expected 0"
    fi
    [[ -z $err ]] || fail "$label: stderr is not empty: $err"
    [[ $out == *": valid ("* ]] || fail "$label: stdout does not say valid: $out"
}

case $mode in
    valid)
        run_check "$dir" policy.toml
        expect_valid "policy.toml"
        ;;
    no-extension)
        # Ansible writes the candidate next to nothing it includes: profiles
        # come from the include path.
        cp "$dir/policy.toml" "$tmp/tmpa1b2c3"
        run_check "$tmp" -I "$dir" "$tmp/tmpa1b2c3"
        expect_valid "temp file without extension"
        # The same file with a broken port must still be rejected.
        sed 's/443/65536/' "$dir/policy.toml" >"$tmp/tmpd4e5f6"
        grep -q 65536 "$tmp/tmpd4e5f6" || fail "the valid policy has no port 443 to break"
        run_check "$tmp" -I "$dir" "$tmp/tmpd4e5f6"
        [[ $rc -eq 3 ]] || fail "broken temp file: exit code $rc, expected 3"
        [[ $err == *"port 65536 is out of range"* ]] || fail "broken temp file: unexpected stderr: $err"
        ;;
    *)
        fail "unknown mode '$mode'"
        ;;
esac
echo "ok $mode"
