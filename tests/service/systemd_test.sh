#!/bin/bash
# nftpolicyd under a real systemd (252, PID 1 of its own namespaces, booted
# from the host's /usr with systemd-nspawn --volatile=yes in a private
# network namespace: its rules never reach the host). The shipped unit is
# installed unchanged, hardening on; the binaries come in through an overlay
# on /usr. Asserts:
#   start -> active/running, the table in the kernel, STATUS= visible;
#   systemctl reload with a good policy -> exit 0, the new ruleset at once;
#   systemctl reload with a broken one -> exit non-zero, the old ruleset
#     kept, the error (file:line:col) in `systemctl status` and the journal;
#   the journal's structured fields (NFTPOLICY_GENERATION=, ...);
#   SIGSTOP of the daemon -> the watchdog restarts it (a drop-in sets
#     WatchdogSec=2s for this step only: the shipped 30 s would make the
#     test slow), and the restarted daemon holds the table;
#   systemctl stop -> inactive, the table still in the kernel.
# Usage: systemd_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (systemd-nspawn)" >&2; exit 77; fi
command -v systemd-nspawn >/dev/null || { echo "SKIP: no systemd-nspawn (apt-get install systemd-container)" >&2; exit 77; }
build=$(readlink -f "$1") src=$(readlink -f "$2")
here=$(dirname "$(readlink -f "$0")")
work=$(mktemp -d /tmp/nftpolicyd-systemd.XXXXXX)
name=nftpd-$$
passes=0
pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; X journalctl -u nftpolicyd --no-pager -n 30 2>/dev/null || true; exit 1; }

# ---- a throw-away systemd (after shared/recipes/sdbox.sh) -------------------
cg_dirs() {
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then echo /sys/fs/cgroup/$name; return; fi
    for d in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do [ -d "$d" ] && echo "$d/$name"; done
}
nspid='' leader='' cgs=''
boot() {
    cgs=$(cg_dirs | tr '\n' ' ')
    # shellcheck disable=SC2086
    mkdir -p $cgs
    systemd-id128 new >"$work/machine-id"
    # shellcheck disable=SC2086
    CGS="$cgs" sh -c 'for c in $CGS; do echo $$ >"$c/cgroup.procs"; done; exec "$@"' sh \
        systemd-nspawn -D / --volatile=yes --register=no --keep-unit --quiet -b --machine="$name" \
        --private-network --capability=CAP_NET_ADMIN --bind-ro="$work/machine-id:/etc/machine-id" \
        --bind-ro=/etc/services --bind-ro=/etc/protocols --bind-ro=/etc/hosts \
        --overlay="/usr:$work/usr:/usr" --bind="$work/etc:/etc/nftpolicy" \
        --bind-ro="$src/systemd/nftpolicyd.service:/etc/systemd/system/nftpolicyd.service" \
        systemd.mask=systemd-machine-id-commit.service </dev/null >"$work/console" 2>&1 &
    nspid=$!
    for _ in $(seq 200); do
        leader=$(ps -o pid=,comm= --ppid "$nspid" | awk '$2=="systemd"{print $1; exit}' || true)
        [ -n "$leader" ] && break
        sleep 0.05
    done
    [ -n "$leader" ] || { cat "$work/console"; fail "no container PID 1"; }
    local st=
    for _ in $(seq 300); do
        st=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null || true)
        case $st in running|degraded) return 0 ;; esac
        sleep 0.05
    done
    fail "the container's systemd did not come up: $st"
}
X() { nsenter -t "$leader" -a "$@"; }
down() {
    if [ -n "$leader" ]; then X systemctl poweroff --no-block >/dev/null 2>&1 || kill -TERM "$nspid" 2>/dev/null || true; fi
    for _ in $(seq 200); do kill -0 "$nspid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$nspid" 2>/dev/null || true
    for c in $cgs; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done
    rm -rf "$work"
}
trap down EXIT

prop() { X systemctl show -p "$1" --value nftpolicyd; }
table() { X nft list table inet nftpolicy 2>/dev/null || echo absent; }

mkdir -p "$work/usr/sbin"
install -m755 "$build/daemon/nftpolicyd" "$build/daemon/nftpolicy" "$work/usr/sbin/"
python3 "$here/daemon_lib.py" write "$work" 8080
boot
pass "systemd booted in a private network namespace (pid $leader)"

X systemctl start nftpolicyd || fail "systemctl start"
[ "$(prop ActiveState)/$(prop SubState)" = active/running ] && pass "start: active/running" ||
    fail "start: $(prop ActiveState)/$(prop SubState)"
t=$(table)
grep -q 'tcp \. 443' <<<"$t" && pass "the ruleset is in the kernel (nft list table)" || fail "no table: $t"
st=$(prop StatusText)
[[ $st == "gen 1 policy; phase m=coexist"* ]] && pass "STATUS: $st" || fail "STATUS: $st"

python3 "$here/daemon_lib.py" write "$work" 8081
X systemctl reload nftpolicyd && pass "systemctl reload, good policy: exit 0" || fail "reload exit $?"
grep -q 'tcp \. 8081' <<<"$(table)" && pass "... the new ruleset is in the kernel when reload returns" ||
    fail "tcp/8081 missing after reload"

before=$(table)
python3 "$here/daemon_lib.py" break "$work"
if X systemctl reload nftpolicyd 2>"$work/reload.err"; then fail "reload of a broken policy exited 0"; fi
pass "systemctl reload, broken policy: exit non-zero"
[ "$(table)" = "$before" ] && pass "... the old ruleset is kept" || fail "the table changed"
[ "$(prop ActiveState)" = active ] && pass "... the daemon keeps running" || fail "state $(prop ActiveState)"
status=$(X systemctl status nftpolicyd --no-pager -l 2>&1 || true)
grep -Eq 'Status: ".*error: /etc/nftpolicy/site\.toml:[0-9]+:[0-9]+: ' <<<"$status" &&
    pass "systemctl status shows the error with file:line:col" || { echo "$status"; fail "no error in status"; }
journal=$(X journalctl -u nftpolicyd --no-pager -o cat)
grep -Eq 'site\.toml:[0-9]+:[0-9]+: error' <<<"$journal" &&
    pass "the journal has the located diagnostic" || fail "no diagnostic in the journal"
n=$(X journalctl -u nftpolicyd --no-pager -o cat NFTPOLICY_GENERATION=2 NFTPOLICY_PHASE=m=coexist | wc -l)
[ "$n" -ge 1 ] && pass "journal fields NFTPOLICY_GENERATION=2 NFTPOLICY_PHASE=m=coexist: $n entries" ||
    fail "no entry with the structured fields"
export_log=$(X journalctl -u nftpolicyd --no-pager -o export)
grep -q '^NFTPOLICY_POLICY_HASH=[0-9a-f]\{16\}$' <<<"$export_log" && grep -q '^NFTPOLICY_FLOW=4$' <<<"$export_log" &&
    pass "journal fields NFTPOLICY_POLICY_HASH= and NFTPOLICY_FLOW=" || fail "no hash/flow fields"

python3 "$here/daemon_lib.py" write "$work" 8081
X systemctl reload nftpolicyd && pass "fixed policy: reload exit 0" || fail "reload after the fix"

# Watchdog: a drop-in for this step only.
X mkdir -p /etc/systemd/system/nftpolicyd.service.d
X sh -c 'printf "[Service]\nWatchdogSec=2s\n" >/etc/systemd/system/nftpolicyd.service.d/test-watchdog.conf'
X systemctl daemon-reload
X systemctl restart nftpolicyd
pid0=$(prop MainPID)
restarts0=$(prop NRestarts)
X kill -STOP "$pid0"
T=$EPOCHREALTIME
for _ in $(seq 200); do
    p=$(prop MainPID)
    [ "$p" != "$pid0" ] && [ "$p" != 0 ] && [ "$(prop ActiveState)" = active ] && break
    sleep 0.05
done
[ "$(prop MainPID)" != "$pid0" ] && [ "$(prop NRestarts)" -gt "$restarts0" ] &&
    pass "SIGSTOP: the watchdog restarted the daemon ($(awk -v a="$T" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s, NRestarts=$(prop NRestarts))" ||
    fail "no watchdog restart: MainPID $(prop MainPID) NRestarts $(prop NRestarts)"
grep -q "Watchdog timeout" <<<"$(X journalctl -u nftpolicyd --no-pager -o cat)" && pass "journal: Watchdog timeout" ||
    fail "no watchdog message"
grep -q 'tcp \. 8081' <<<"$(table)" && pass "the restarted daemon holds the ruleset" || fail "table after restart"

t=$(table)
X systemctl stop nftpolicyd
[ "$(prop ActiveState)" = inactive ] && pass "systemctl stop: inactive" || fail "stop: $(prop ActiveState)"
[ "$(table)" = "$t" ] && pass "the ruleset stays in the kernel after stop" || fail "the table changed at stop"
echo "$passes passed"
