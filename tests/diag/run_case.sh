#!/bin/bash
# One case of the diagnostics corpus: a malformed policy (or command line)
# must be rejected with the expected exit code (3, invalid policy, unless the
# case says otherwise), print nothing on stdout, and print on stderr exactly
# what expected.err holds: every diagnostic whole (location, message, the
# quoted source line, the caret marker, notes), not only its first line.
#
# Usage: run_case.sh NFTPOLICY_BIN CASE_DIR [SYSCONF_DIR PROFILE_DIR]
#   CASE_DIR/policy.toml   the site file (other files beside it as needed)
#   CASE_DIR/expected.err  the exact stderr (empty: none); the build's
#                          configuration and profile directories (SYSCONF_DIR,
#                          PROFILE_DIR: "searched:" notes list them) and a
#                          setup script's scratch copy are written there as
#                          @SYSCONF_DIR@, @PROFILE_DIR@ and @CASE_DIR@, so the
#                          cases hold for any install prefix
#   CASE_DIR/args          optional: extra CLI arguments, one per line
#   CASE_DIR/cmdline       optional: the whole command line, one argument per
#                          line, instead of `check policy.toml` + args
#   CASE_DIR/exit          optional: the expected exit code (default 3)
#   CASE_DIR/expected.out  optional: the exact stdout (default: empty)
#   CASE_DIR/setup         optional: a bash script run first, in a scratch copy
#                          of the case, to make what git cannot hold (FIFOs,
#                          symlink loops, unreadable directories) or should
#                          not (generated 10 MB inputs); it may write policy.toml
#   CASE_DIR/unprivileged  optional, empty: run `check` as an unprivileged user
#                          (nobody, when run as root), whom permissions stop
set -euo pipefail

if [[ $# -ne 2 && $# -ne 4 ]]; then
    echo "usage: $0 NFTPOLICY_BIN CASE_DIR [SYSCONF_DIR PROFILE_DIR]" >&2
    exit 2
fi
bin=$(realpath "$1")
case_dir=$2
source_dir=$case_dir
sysconf_dir=${3:-/etc/nftpolicy}
profile_dir=${4:-/usr/share/nftpolicy/policies}
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

command=(check policy.toml)
if [[ -f $case_dir/args ]]; then
    mapfile -t extra < "$case_dir/args"
    command+=("${extra[@]}")
fi
if [[ -f $case_dir/cmdline ]]; then
    mapfile -t command < "$case_dir/cmdline"
fi
want_rc=3
[[ -f $case_dir/exit ]] && want_rc=$(<"$case_dir/exit")

out=$(mktemp)
err=$(mktemp)

# Only the case's own files and the arguments it names may matter: the
# profile search path of the environment is cleared.
# `check` must write nothing: the case directory is compared before and after.
# (An unreadable directory made by setup is listed as far as it can be.)
listing() { (cd "$case_dir" && { find . -printf '%p %s %T@\n' 2>/dev/null || true; } | sort); }
before=$(listing)
rc=0
(cd "$case_dir" && env -u NFTPOLICY_PATH "${runner[@]}" "$bin" "${command[@]}") >"$out" 2>"$err" || rc=$?
[[ "$(listing)" == "$before" ]] || fail "${command[0]} changed files in the case directory"

show_stderr() {
    echo "---- stderr ----" >&2
    cat "$err" >&2
    echo "----------------" >&2
}

if [[ $rc -ne $want_rc ]]; then
    show_stderr
    fail "exit code $rc, expected $want_rc"
fi
expected_out=/dev/null
[[ -f $case_dir/expected.out ]] && expected_out=$case_dir/expected.out
if ! cmp -s "$expected_out" "$out"; then
    echo "---- stdout ----" >&2
    cat "$out" >&2
    fail "stdout is not what $(basename "$expected_out") says"
fi

# The whole rendering is pinned: a caret under the wrong columns, a lost
# note or an extra diagnostic fails the case.
placeheld() {
    local subst=(-e "s|$profile_dir|@PROFILE_DIR@|g" -e "s|$sysconf_dir|@SYSCONF_DIR@|g")
    [[ -z $scratch ]] || subst=(-e "s|$scratch|@CASE_DIR@|g" "${subst[@]}")
    sed "${subst[@]}" "$err"
}
if ! diff -u --label expected.err --label actual "$case_dir/expected.err" <(placeheld) >&2; then
    # DIAG_UPDATE=1 writes the rendering as the new expectation, to be read
    # line by line before it is committed (see README.md).
    [[ ${DIAG_UPDATE:-} == 1 ]] || fail "stderr differs from expected.err"
    placeheld >"$source_dir/expected.err"
fi
if [[ ! -s $err ]]; then
    echo "ok $name: nothing on stderr"
    exit 0
fi
expected=$(head -n 1 "$err")

# A diagnostic with a location (`file:line:col: ...`) quotes its source
# line ("   3 | text") before anything else is reported; a command-line
# error ("nftpolicy: error: ...") has none.
if [[ ! $expected =~ ^[^\ ]+:[0-9]+:[0-9]+:\  ]]; then
    echo "ok $name: $(head -n 1 "$err")"
    exit 0
fi
second=$(sed -n 2p "$err")
if [[ "$second" != *" | "* ]]; then
    show_stderr
    fail "the first diagnostic does not quote its source line (no ' | ' on line 2)"
fi

echo "ok $name: $(head -n 1 "$err")"
