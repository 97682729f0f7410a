#!/bin/bash
# daemon_idle.sh: what an idle nftpolicyd costs with a large policy. In a
# fresh network namespace, nftpolicyd loads bench/gen_policy.sh's site with
# N agent addresses (default 1,000,000) with the watchdog on
# (WATCHDOG_USEC=30 s, as the unit's WatchdogSec=), then sits idle for
# SECONDS (default 60). Prints its CPU time (user + sys) and context switches
# over that window, and its resident memory (VmRSS) and peak (VmHWM).
# Expected: no CPU apart from the watchdog pings (one every 15 s).
# usage: bench/daemon_idle.sh [BUILD_DIR] [N] [SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=$(readlink -f "${1:-$root/build}")
n=${2:-1000000}
secs=${3:-60}
if [ "${NFTPOLICY_IN_NETNS:-}" != 1 ]; then
    NFTPOLICY_IN_NETNS=1 exec unshare -n "$0" "$build" "$n" "$secs"
fi
ip link set lo up
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
"$here/gen_policy.sh" "$n" "$work/site" >/dev/null
t0=$EPOCHREALTIME
NOTIFY_SOCKET=@nftpolicyd-bench-$$ WATCHDOG_USEC=30000000 NFTPOLICY_PATH='' \
    "$build/daemon/nftpolicyd" "$work/site/policy.toml" -I "$root/policies" --host handler1 \
    --state-dir "$work/state" --runtime-dir "$work/run" 2>"$work/log" &
pid=$!
until "$build/daemon/nftpolicy" reload --status --runtime-dir "$work/run" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/log"; exit 1; }
    sleep 0.2
done
ready=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
switches() { awk '/ctxt_switches/ { s += $2 } END { print s }' "/proc/$pid/status"; }
sleep 1   # let the first commit's aftermath settle
c0=$(ticks) s0=$(switches)
sleep "$secs"
c1=$(ticks) s1=$(switches)
hz=$(getconf CLK_TCK)
rss=$(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
echo "nftpolicyd idle, $n addresses: ready in $ready s; over $secs s: CPU $(awk -v t=$((c1 - c0)) -v h="$hz" \
    'BEGIN { printf "%.2f", t / h }') s, $((s1 - s0)) context switches; VmRSS $((rss / 1024)) MiB, VmHWM $((hwm / 1024)) MiB"
