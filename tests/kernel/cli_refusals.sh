#!/bin/bash
# What `nftpolicy apply` refuses must leave the kernel exactly as it was, as
# read back by the real `nft`, and leave no apply record behind:
#   - a policy that compiles to no flows and no management (exit 3; --force
#     applies it, which shows that the refusal was the only thing in the way);
#   - an empty file (exit 3);
#   - an unwritable state directory: a regular file in its path, a read-only
#     mount, a directory without write permission for an unprivileged user
#     (exit 4, found before the commit);
#   - bad command-line values that need the policy (unknown --host, an
#     undeclared gate, an unknown migration) or none (--table, --host "",
#     --lock-timeout -1) (exit 2).
# Usage: cli_refusals.sh NFTPOLICY
# Exit 77 (skip) without root. Runs in a fresh `unshare -n -m` (the read-only
# mount is private to it); nothing touches the machine's own ruleset.
set -euo pipefail
bin=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
    echo "skip: needs root for unshare -n -m" >&2
    exit 77
fi
if [ "${NFTPOLICY_IN_NETNS:-}" != 1 ]; then
    NFTPOLICY_IN_NETNS=1 exec unshare -n -m --propagation private "$0" "$@"
fi
[ "$(ip -o link show | cut -d: -f2)" = " lo" ] || { echo "not in a scratch namespace" >&2; exit 1; }

work=$(mktemp -d)
trap 'umount "$work/ro" 2>/dev/null || true; rm -rf "$work"' EXIT
chmod 755 "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
lock=(--lock "$work/lock")

cat >"$work/site.toml" <<'TOML'
[groups]
admins = ["10.30.0.0/24"]
clients = ["10.10.0.0/16"]
web = ["10.20.0.10"]
reports = []
[services]
http = { tcp = [80] }
[[flows]]
id = "clients-web"
from = "clients"
to = "web"
services = ["http"]
[migrations.ses-2_7]
gates = ["agents-migrated"]
[management]
from = "admins"
[hosts.web1]
roles = ["web"]
TOML
# The same site, for a host whose only role is empty, without management.
sed -e 's/roles = \["web"\]/roles = ["reports"]/' -e '/^\[management\]/,+1d' "$work/site.toml" >"$work/flowless.toml"
: >"$work/empty.toml"

# expect CODE WHAT ARGS...: runs apply, checks the exit code and that the
# kernel's ruleset and the state directory are what they were.
expect() {
    local want=$1 what=$2; shift 2
    local before rc=0
    before=$(nft -s list ruleset)
    local state_before
    state_before=$(ls -A "$work/state" 2>/dev/null || true)
    NFTPOLICY_PATH= "$bin" apply "$@" >"$work/out" 2>"$work/err" || rc=$?
    if [ "$rc" != "$want" ]; then
        cat "$work/out" "$work/err" >&2
        fail "$what: exit $rc, expected $want"
    fi
    [ "$(nft -s list ruleset)" = "$before" ] || fail "$what: the ruleset changed"
    [ "$(ls -A "$work/state" 2>/dev/null || true)" = "$state_before" ] || fail "$what: the state directory changed"
    echo "ok: $what (exit $rc): $(head -n 1 "$work/err")"
}
state=(--state-dir "$work/state" "${lock[@]}")

# On an empty kernel, then again over a table applied before.
for round in empty-kernel over-applied-table; do
    expect 3 "$round: no flows, no management" "$work/flowless.toml" "${state[@]}"
    grep -q "refusing to apply: the ruleset for host 'web1' has no flows and no management access" "$work/err" \
        || fail "refusal message"
    expect 3 "$round: empty file" "$work/empty.toml" "${state[@]}"
    grep -q "the policy file is empty" "$work/err" || fail "empty-file message"
    expect 2 "$round: unknown --host" "$work/site.toml" --host web9 "${state[@]}"
    grep -q "unknown host 'web9'; did you mean 'web1'?" "$work/err" || fail "unknown-host message"
    expect 2 "$round: undeclared gate" "$work/site.toml" --gates ses-2_7.nosuch "${state[@]}"
    expect 2 "$round: unknown migration" "$work/site.toml" --phase nosuch=final "${state[@]}"
    expect 2 "$round: bad --table" "$work/site.toml" --table "bad name" "${state[@]}"
    expect 2 "$round: empty --host" "$work/site.toml" --host "" "${state[@]}"
    expect 2 "$round: negative --lock-timeout" "$work/site.toml" --lock-timeout -1 "${state[@]}"
    # Unwritable state directories: found before the commit.
    : >"$work/afile"
    expect 4 "$round: state dir below a regular file" "$work/site.toml" --state-dir "$work/afile/state" "${lock[@]}"
    grep -q "state directory '$work/afile/state' is not writable" "$work/err" || fail "state-dir message"
    mkdir -p "$work/ro"
    mount -t tmpfs -o ro,size=64k tmpfs "$work/ro"
    expect 4 "$round: read-only state dir" "$work/site.toml" --state-dir "$work/ro" "${lock[@]}"
    expect 4 "$round: missing state dir on a read-only mount" "$work/site.toml" --state-dir "$work/ro/a/b" "${lock[@]}"
    umount "$work/ro"
    as_nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
    if ! "${as_nobody[@]}" "$bin" --version >/dev/null 2>&1; then
        echo "note: $round: user nobody cannot run $bin here; the unprivileged case is not run"
    else
        mkdir -p "$work/rx" && chmod 555 "$work/rx"
        before=$(nft -s list ruleset)
        rc=0
        "${as_nobody[@]}" "$bin" apply "$work/site.toml" \
            --state-dir "$work/rx" --lock "$work/rx.lock" >/dev/null 2>"$work/err" || rc=$?
        [ "$rc" = 4 ] || { cat "$work/err"; fail "$round: unprivileged user, read-only state dir: exit $rc"; }
        grep -q "Permission denied" "$work/err" || fail "permission message"
        [ "$(nft -s list ruleset)" = "$before" ] || fail "unprivileged: the ruleset changed"
        echo "ok: $round: unprivileged user, state dir without write permission (exit 4)"
    fi
    # The first round ends by applying the site, so the second round runs
    # over a table that must survive every refusal.
    if [ $round = empty-kernel ]; then
        [ -z "$(nft -s list ruleset)" ] || fail "the kernel is not empty after the first round"
        NFTPOLICY_PATH= "$bin" apply "$work/site.toml" "${state[@]}" >/dev/null
        # (Not `nft ... | grep -q`: under pipefail, grep quitting early can
        # fail the pipeline with nft's SIGPIPE.)
        [[ $(nft -s list table inet nftpolicy) == *flow_clients-web* ]] || fail "the site was not applied"
        [ -s "$work/state/applied" ] || fail "no record after a successful apply"
    fi
done

# --force applies the flowless ruleset: only the baseline remains.
NFTPOLICY_PATH= "$bin" apply --force "$work/flowless.toml" "${state[@]}" >/dev/null
listed=$(nft -s list table inet nftpolicy)
[[ $listed != *clients-web* ]] || fail "--force kept the old flow"
[[ $listed == *"policy drop"* ]] || fail "--force: no baseline"
grep -q "^host web1$" "$work/state/applied" || fail "--force: no record"
echo "ok: --force applies a ruleset with no flows"

# A state directory that does not exist yet is created (control).
NFTPOLICY_PATH= "$bin" apply "$work/site.toml" --state-dir "$work/new/state" "${lock[@]}" >/dev/null
[ -s "$work/new/state/applied" ] || fail "a missing state directory was not created"
echo "ok: a missing state directory is created"
