#!/bin/bash
# Safe changes on a remote box (docs/confirm.md), without nftpolicyd, with
# the real kernel and the real `nft` as the reader, in scratch network
# namespaces (migration_lib.sh: a host and a peer joined by veth):
#   - apply --confirm without a confirm: the last confirmed ruleset is back
#     within the deadline + 2 s (the detached waiter), counters kept; a late
#     confirm fails and changes nothing;
#   - the CLI's whole process group killed right after the commit: the
#     rollback still comes;
#   - confirm in time: the ruleset stays past the deadline;
#   - rollback on demand; a second apply --confirm refused, --force replaces
#     it and the rollback still restores the original;
#   - bad input: --confirm 0, 3601, 2h, -5, words; confirm and the migration
#     commands with nothing pending or while one is pending;
#   - the lockout guard: a policy dropping the management group, one
#     narrowing it below the SSH client ($SSH_CONNECTION), one dropping
#     the only flow that lets the SSH client in, and a set-phase that retires
#     it: refused, kernel unchanged;
#   - an SSH-like session: a peer in the management group connects to tcp/22,
#     `apply --confirm 5 --force` of a policy without management, the peer
#     cannot connect, and can again after the rollback.
# Usage: confirm.sh NFTPOLICY. Exit 77 (skip) without root.
bin=$(realpath "$1")
export PATH=/usr/bin:/usr/sbin:$PATH  # Debian's python3: a pyenv shim takes seconds to start on a loaded machine
source "$(dirname "$0")/migration_lib.sh"
mig_enter "$0" "$@"
mig_setup
waiters=()
trap 'for p in "${waiters[@]}"; do kill "$p" 2>/dev/null || true; done; netns_cleanup; jobs -p | xargs -r kill 2>/dev/null || true; rm -rf "$work"' EXIT
nftp() { NFTPOLICY_PATH= "$bin" "$@" --lock "$work/lock" --state-dir "$work/state" --runtime-dir "$work/run"; }

# site.toml: management tcp/22 from admins (the peer's 10.30.0.7 among them),
# agents -> handler https. $1: the admins group, $2: extra TOML.
site() {
    cat <<EOF
[groups]
admins = [$1]
agents = ["10.10.0.0/16", "fd00:10::/32"]
handler = ["10.20.0.11", "fd00:20::11"]
[services]
https = { tcp = [443] }
mail = { tcp = [25] }
[migrations.m]
gates = ["g"]
$2
[[flows]]
id = "https"
from = "agents"
to = "handler"
services = ["https"]
retired_by = "m.g"
[hosts.h]
roles = ["handler"]
EOF
}
mgmt='[management]
from = "admins"'
site '"10.30.0.0/16"' "$mgmt" >"$work/base.toml"
site '"10.30.0.0/16"' "$mgmt
[[flows]]
id = \"mail\"
from = \"agents\"
to = \"handler\"
services = [\"mail\"]" >"$work/more.toml"
site '"10.30.0.0/16"' "" >"$work/nomgmt.toml"
site '"10.30.1.0/24"' "$mgmt" >"$work/narrow.toml"
sed '/^\[\[flows\]\]/,$d' "$work/base.toml" >"$work/nohttps.toml"
printf '[hosts.h]\nroles = ["handler"]\n' >>"$work/nohttps.toml"

# The table as nft lists it, without counter values and the seen sets'
# elements, in an order that does not depend on the history of the table
# (objects added back come last in a listing): rules in their chain's order.
shape() {
    nft -j list table inet nftpolicy 2>/dev/null | python3 -c '
import json, sys
lines = []
for item in json.load(sys.stdin)["nftables"]:
    for kind, obj in item.items():
        if kind == "counter": obj.pop("packets", None); obj.pop("bytes", None)
        if kind == "set" and "timeout" in obj: obj.pop("elem", None)
        if "elem" in obj: obj["elem"] = sorted(obj["elem"], key=json.dumps)
        obj.pop("handle", None)
        key = (kind, obj.get("chain", "")) if kind == "rule" else (kind, json.dumps(obj, sort_keys=True))
        lines.append((key, kind + " " + json.dumps(obj, sort_keys=True)))
for _, line in sorted(lines, key=lambda l: l[0]):
    print(line)' 2>/dev/null || echo absent
}
mgmt_packets() { nft -j list counter inet nftpolicy flow_management | python3 -c '
import json, sys
print([i["counter"]["packets"] for i in json.load(sys.stdin)["nftables"] if "counter" in i][0])'; }
# expect CODE WHAT CMD...: the exit code, and the table unchanged.
expect() {
    local want=$1 what=$2 before rc=0
    shift 2
    before=$(shape)
    "$@" >"$work/out" 2>&1 || rc=$?
    [ "$rc" = "$want" ] || { cat "$work/out" >&2; fail "$what: exit $rc, expected $want"; }
    [ "$(shape)" = "$before" ] || fail "$what: the kernel changed"
}
# The waiter's pid from apply's output, to stop it when the test ends.
note_waiter() { local p; p=$(sed -n 's/.*(waiter \([0-9]*\))$/\1/p' "$1"); [ -n "$p" ] && waiters+=("$p"); return 0; }
# wait_for_shape SHAPE SECONDS: polls until the table is SHAPE; prints the seconds it took.
wait_for_shape() {
    local start=$(date +%s.%N) now
    while [ "$(shape)" != "$1" ]; do
        now=$(date +%s.%N)
        python3 -c "import sys; sys.exit(0 if $now - $start < $2 else 1)" || return 1
        sleep 0.1
    done
    python3 -c "print(round($(date +%s.%N) - $start, 2))"
}
nstat() { NFTPOLICY_PATH= "$bin" status --lock "$work/lock" --state-dir "$work/state" "$@"; }
status_field() { nstat --json | python3 -c "import json,sys; c=json.load(sys.stdin).get('confirmation'); print(c and c.get('$1'))"; }

echo "== bad input, before anything is applied"
expect 2 "--confirm 0" nftp apply "$work/base.toml" --confirm 0
grep -q -- "--confirm: '0': expected seconds (30) or a duration (90s, 2m), from 1 s to 3600 s" "$work/out" || fail "--confirm 0 message: $(cat "$work/out")"
for bad in 3601 2h -5 soon 1.5 ""; do expect 2 "--confirm '$bad'" nftp apply "$work/base.toml" --confirm "$bad"; done
expect 7 "confirm with nothing pending" nftp confirm
grep -q "no confirmation is pending; nothing was changed" "$work/out" || fail "confirm message: $(cat "$work/out")"
expect 7 "apply --confirm with nothing confirmed" nftp apply "$work/base.toml" --confirm 30
grep -q "no confirmed ruleset to roll back to" "$work/out" || fail "nothing confirmed: $(cat "$work/out")"
[ ! -e "$work/state/confirm" ] || fail "a refused apply --confirm left a record"

echo "== the confirmed ruleset"
nftp apply "$work/base.toml" >/dev/null
base=$(shape)
[ -s "$work/state/last-good" ] || fail "a plain apply did not keep the confirmed ruleset"
[ "$(connect_from 10.30.0.7 10.20.0.11 22)" = 111 ] || fail "management did not let the admin in"
packets=$(mgmt_packets)
[ "$packets" -ge 1 ] || fail "the management counter did not count"

echo "== no confirm: the confirmed ruleset is back within the deadline + 2 s"
t0=$(date +%s.%N)
nftp apply "$work/more.toml" --confirm 3 >"$work/armed" || fail "apply --confirm 3: $(cat "$work/armed")"
note_waiter "$work/armed"
grep -q 'unconfirmed: run `nftpolicy confirm` within 3 s' "$work/armed" || fail "apply output: $(cat "$work/armed")"
more=$(shape)
[ "$more" != "$base" ] || fail "apply --confirm changed nothing"
[ "$(status_field state)" = pending ] || fail "status does not show the pending confirmation"
nstat | grep -q '^confirmation: PENDING until .* s left; enforced by waiter' || fail "status text: $(nstat)"
wait_for_shape "$base" 8 >/dev/null || fail "no rollback within 8 s"
took=$(python3 -c "print(round($(date +%s.%N) - $t0, 2))")
late=$(( $(status_field rolled_back_at) - $(status_field deadline) ))
[ "$late" -le 2 ] || fail "rolled back ${late}s after the deadline"
python3 -c "import sys; sys.exit(0 if $took <= 5.5 else 1)" || fail "rollback seen after ${took}s, more than 3 + 2 s"
echo "rolled back ${late}s after the deadline; seen ${took}s after apply --confirm 3 started"
[ "$(mgmt_packets)" -ge "$packets" ] || fail "the rollback reset the management counter"
[ "$(status_field state)" = rolled-back ] || fail "status does not show the rollback"
[ "$(status_field reason)" = "deadline passed" ] || fail "rollback reason: $(status_field reason)"
expect 7 "confirm after the deadline" nftp confirm
grep -q "was rolled back at .* (deadline passed); nothing to confirm, nothing was changed" "$work/out" ||
    fail "late confirm message: $(cat "$work/out")"

echo "== the CLI and its process group killed right after the commit"
setsid bash -c "NFTPOLICY_PATH= '$bin' apply '$work/more.toml' --confirm 3 --lock '$work/lock' --state-dir '$work/state' \
    --runtime-dir '$work/run' >'$work/armed' 2>&1; sleep 600" &
for _ in $(seq 100); do [ "$(shape)" = "$more" ] && break; sleep 0.05; done
[ "$(shape)" = "$more" ] || fail "the background apply --confirm did not commit"
killed=$!
kill -9 -- "-$killed" 2>/dev/null || true
wait "$killed" 2>/dev/null || true
note_waiter "$work/armed"
wait_for_shape "$base" 6 >/dev/null || fail "no rollback after the CLI was killed"

echo "== confirm in time keeps the ruleset past the deadline"
nftp apply "$work/more.toml" --confirm 2 >"$work/armed"
note_waiter "$work/armed"
nftp confirm >"$work/out" || fail "confirm: $(cat "$work/out")"
grep -q "^confirmed: ruleset [0-9a-f]\{16\} is now the last confirmed ruleset" "$work/out" || fail "confirm output: $(cat "$work/out")"
[ -z "$(status_field state)" ] || [ "$(status_field state)" = None ] || fail "a confirmation is still shown"
sleep 3
[ "$(shape)" = "$more" ] || fail "a confirmed ruleset was rolled back"
expect 7 "confirm twice" nftp confirm

echo "== rollback on demand, and a second apply --confirm"
nftp apply "$work/base.toml" --confirm 30 >"$work/armed"
note_waiter "$work/armed"
expect 7 "a second apply --confirm" nftp apply "$work/more.toml" --confirm 30
grep -q "a confirmation is already pending" "$work/out" || fail "second --confirm message: $(cat "$work/out")"
sleep 0.2
! pgrep -f -- "apply $work/more.toml --confirm 30" >/dev/null || fail "a refused apply --confirm left its waiter running"
expect 7 "a plain apply while pending" nftp apply "$work/more.toml"
expect 7 "set-phase while pending" env NFTPOLICY_PATH= "$bin" migration set-phase m final "$work/base.toml" \
    --lock "$work/lock" --state-dir "$work/state"
grep -q "a confirmation is pending (deadline" "$work/out" || fail "set-phase while pending: $(cat "$work/out")"
nftp apply "$work/nohttps.toml" --confirm 30 --force >"$work/armed" || fail "--force did not replace: $(cat "$work/armed")"
note_waiter "$work/armed"
nftp rollback >"$work/out" || fail "rollback: $(cat "$work/out")"
grep -q "^rolled back to the last confirmed ruleset" "$work/out" || fail "rollback output: $(cat "$work/out")"
[ "$(shape)" = "$more" ] || { cat "$work/out"; cat "$work/state/confirm"; diff <(echo "$more") <(shape); fail "rollback did not restore the ruleset confirmed before both applies"; }
[ "$(status_field reason)" = "nftpolicy rollback" ] || fail "rollback reason: $(status_field reason)"
nftp rollback --if-pending >"$work/out" || fail "rollback --if-pending with nothing due"
[ "$(shape)" = "$more" ] || fail "rollback --if-pending changed the kernel"

echo "== the lockout guard"
nftp apply "$work/base.toml" >/dev/null
expect 7 "a policy without management" nftp apply "$work/nomgmt.toml"
grep -q "refusing to commit a ruleset that cuts management access:" "$work/out" || fail "guard: $(cat "$work/out")"
grep -q "^  tcp/22 from 10.30.0.0/16$" "$work/out" || fail "guard does not name the cut: $(cat "$work/out")"
expect 7 "narrowed below the SSH client" env SSH_CONNECTION="10.30.0.7 50000 10.20.0.11 22" \
    "$bin" apply "$work/narrow.toml" --lock "$work/lock" --state-dir "$work/state" --runtime-dir "$work/run"
grep -q "^  tcp/22 from 10.30.0.0/24, 10.30.2.0-10.30.255.255$" "$work/out" && grep -q "^  tcp/22 from 10.30.0.7 (this SSH session" "$work/out" || fail "narrowing: $(cat "$work/out")"
expect 7 "the SSH client's only flow dropped" env SSH_CONNECTION="10.10.0.5 50000 10.20.0.11 443" \
    "$bin" apply "$work/nohttps.toml" --lock "$work/lock" --state-dir "$work/state" --runtime-dir "$work/run"
grep -q "tcp/443 from 10.10.0.5 (this SSH session's client" "$work/out" || fail "ssh client: $(cat "$work/out")"
expect 7 "set-phase final cutting the SSH client's flow" env SSH_CONNECTION="10.10.0.5 50000 10.20.0.11 443" \
    NFTPOLICY_PATH= "$bin" migration set-phase m final "$work/base.toml" --lock "$work/lock" --state-dir "$work/state"
grep -q "tcp/443 from 10.10.0.5 (this SSH session's client" "$work/out" || fail "set-phase guard: $(cat "$work/out")"
[ ! -e "$work/state/migrations" ] || ! grep -q final "$work/state/migrations" || fail "a refused set-phase recorded its phase"
[ "$(shape)" = "$base" ] || fail "the kernel changed after refusals"
nftp apply "$work/narrow.toml" --force >/dev/null || fail "--force did not pass the guard"
nftp apply "$work/base.toml" >/dev/null

echo "== an SSH-like session is cut, and comes back after the rollback"
python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.20.0.11", 22)); s.listen(64)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' &
for _ in $(seq 50); do [ "$(connect_from 10.30.0.7 10.20.0.11 22)" = 0 ] && break; sleep 0.1; done
[ "$(connect_from 10.30.0.7 10.20.0.11 22)" = 0 ] || fail "the admin cannot reach the ssh server"
nftp apply "$work/nomgmt.toml" --confirm 5 --force >"$work/armed" || fail "apply --confirm 5 --force: $(cat "$work/armed")"
note_waiter "$work/armed"
[ "$(connect_from 10.30.0.7 10.20.0.11 22)" != 0 ] || fail "the policy without management still let the admin in"
wait_for_shape "$base" 7.5 >/dev/null || fail "no rollback within 5 + 2 s"
[ "$(connect_from 10.30.0.7 10.20.0.11 22)" = 0 ] || fail "the admin cannot connect again after the rollback"
echo "== a damaged confirmation record is an error, not a guess"
printf 'nftpolicy-confirm 1\nstate pending\ndeadline soon\n' >"$work/state/confirm"
expect 4 "status with a damaged record" nstat
grep -q "confirm:3: deadline: 'soon' is not a time in unix seconds" "$work/out" || fail "damaged record: $(cat "$work/out")"
expect 4 "confirm with a damaged record" nftp confirm
expect 4 "apply --confirm with a damaged record" nftp apply "$work/more.toml" --confirm 30
nft add counter inet nftpolicy hand_made  # the table edited by hand, the record damaged
nftp rollback >"$work/out" || fail "rollback over a damaged record: $(cat "$work/out")"
[ "$(shape)" = "$base" ] || fail "rollback over a damaged record did not restore the confirmed ruleset"
echo "PASS confirm.sh"
