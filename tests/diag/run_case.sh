#!/bin/bash
# One case of the diagnostics corpus: a malformed policy must be rejected as
# an invalid policy (exit 3), print nothing on stdout, and report, as the first
# line of stderr, exactly the location and message in expected.err, followed by
# the quoted source line.
#
# Usage: run_case.sh NFTPOLICY_BIN CASE_DIR
#   CASE_DIR/policy.toml   the site file (other files beside it as needed)
#   CASE_DIR/expected.err  the exact first line of stderr
#   CASE_DIR/args          optional: extra CLI arguments, one per line
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 NFTPOLICY_BIN CASE_DIR" >&2
    exit 2
fi
bin=$(realpath "$1")
case_dir=$2
name=$(basename "$case_dir")

fail() {
    echo "FAIL $name: $*" >&2
    exit 1
}

[[ -x $bin ]] || fail "nftpolicy binary '$bin' is not executable"
[[ -f $case_dir/policy.toml ]] || fail "no policy.toml in $case_dir"
[[ -f $case_dir/expected.err ]] || fail "no expected.err in $case_dir"

extra=()
if [[ -f $case_dir/args ]]; then
    mapfile -t extra < "$case_dir/args"
fi

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# Only the case's own files and the arguments it names may matter: the
# profile search path of the environment is cleared.
# `check` must write nothing: the case directory is compared before and after.
listing() { (cd "$case_dir" && find . -printf '%p %s %T@\n' | sort); }
before=$(listing)
rc=0
(cd "$case_dir" && env -u NFTPOLICY_PATH "$bin" check policy.toml "${extra[@]}") >"$out" 2>"$err" || rc=$?
[[ "$(listing)" == "$before" ]] || fail "check changed files in the case directory"

show_stderr() {
    echo "---- stderr ----" >&2
    cat "$err" >&2
    echo "----------------" >&2
}

if [[ $rc -ne 3 ]]; then
    show_stderr
    fail "exit code $rc, expected 3 (invalid policy)"
fi
if [[ -s $out ]]; then
    echo "---- stdout ----" >&2
    cat "$out" >&2
    fail "stdout is not empty"
fi

expected=$(head -n 1 "$case_dir/expected.err")
actual=$(head -n 1 "$err")
if [[ "$actual" != "$expected" ]]; then
    echo "first line of stderr differs:" >&2
    diff -u --label expected.err --label actual <(printf '%s\n' "$expected") <(printf '%s\n' "$actual") >&2 || true
    show_stderr
    fail "unexpected first diagnostic"
fi

# The first diagnostic quotes its source line ("   3 | text") before
# anything else is reported.
second=$(sed -n 2p "$err")
if [[ "$second" != *" | "* ]]; then
    show_stderr
    fail "the first diagnostic does not quote its source line (no ' | ' on line 2)"
fi

echo "ok $name: $actual"
