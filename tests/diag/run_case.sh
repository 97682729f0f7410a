#!/bin/bash
# One case of the diagnostics corpus: a malformed policy must be rejected as
# an invalid policy (exit 3), print nothing on stdout, and report, as the first
# line of stderr, exactly the location and message in expected.err, followed by
# the quoted source line.
#
# Usage: run_case.sh NFTPOLICY_BIN CASE_DIR
#   CASE_DIR/policy.toml   the site file (other files beside it as needed)
#   CASE_DIR/expected.err  the exact first line(s) of stderr
#   CASE_DIR/args          optional: extra CLI arguments, one per line
#   CASE_DIR/setup         optional: a bash script run first, in a scratch copy
#                          of the case, to make what git cannot hold (FIFOs,
#                          symlink loops, unreadable directories) or should
#                          not (generated 10 MB inputs); it may write policy.toml
#   CASE_DIR/unprivileged  optional, empty: run `check` as an unprivileged user
#                          (nobody, when run as root), whom permissions stop
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

# A case with a setup script runs in a scratch copy made by it.
scratch=
cleanup() {
    if [[ -n $scratch ]]; then chmod -R u+rwx "$scratch" && rm -rf "$scratch"; fi
    rm -f "${out:-}" "${err:-}"
}
trap cleanup EXIT
if [[ -f $case_dir/setup ]]; then
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/nftpolicy-diag.XXXXXX")
    chmod 755 "$scratch"  # the unprivileged user must reach it
    cp -a "$case_dir/." "$scratch/"
    (cd "$scratch" && bash ./setup) || fail "setup failed"
    case_dir=$scratch
fi
runner=()
if [[ -f $case_dir/unprivileged && $(id -u) -eq 0 ]]; then
    command -v setpriv >/dev/null || { echo "SKIP $name: needs setpriv to drop root" >&2; exit 77; }
    runner=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fi
[[ -f $case_dir/policy.toml ]] || fail "no policy.toml in $case_dir"
[[ -f $case_dir/expected.err ]] || fail "no expected.err in $case_dir"

extra=()
if [[ -f $case_dir/args ]]; then
    mapfile -t extra < "$case_dir/args"
fi

out=$(mktemp)
err=$(mktemp)

# Only the case's own files and the arguments it names may matter: the
# profile search path of the environment is cleared.
# `check` must write nothing: the case directory is compared before and after.
# (An unreadable directory made by setup is listed as far as it can be.)
listing() { (cd "$case_dir" && { find . -printf '%p %s %T@\n' 2>/dev/null || true; } | sort); }
before=$(listing)
rc=0
(cd "$case_dir" && env -u NFTPOLICY_PATH "${runner[@]}" "$bin" check policy.toml "${extra[@]}") >"$out" 2>"$err" || rc=$?
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

# expected.err holds the first line, or the whole rendering (location,
# quoted line, caret, notes): then as many lines of stderr must match.
lines=$(grep -c '' "$case_dir/expected.err")
expected=$(head -n "$lines" "$case_dir/expected.err")
actual=$(head -n "$lines" "$err")
if [[ "$actual" != "$expected" ]]; then
    echo "the first $lines line(s) of stderr differ:" >&2
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

echo "ok $name: $(head -n 1 "$err")"
