#!/bin/bash
# packet_path.sh: what the compiled ruleset costs per packet (issue 11).
# Two namespaces the bench creates, joined by a veth pair: "cli" (an agent,
# 10.64.0.10) and "srv" (the agent handler, 10.20.0.11). The server's
# ruleset is one of
#   none  no ruleset at all
#   ct    the conntrack-only ruleset: ct state established,related accept;
#         ip saddr CLIENT accept; policy drop
#   ours  `nftpolicy apply` of a host policy with 100k agents (50k single
#         addresses, 50k addresses in 196 /24 prefixes) accepting tcp and udp
#         from them: a new-port flow (443, introduced by the migration) and a
#         legacy flow (17000, retired by its gate, recording its users in a
#         seen set)
# and each repetition measures none, ours, ct, ct, ours, none (ABBA, so that
# the machine's load weighs on every side alike). Workloads, client pinned to
# CPU 0 and server to CPU 1:
#   tcp  new connections per second (connect, then reset: every connection
#        passes through the rules)
#   udp  datagrams per second, each from a new socket (a new source port, so
#        each datagram is a new conntrack entry and passes through the rules)
# on port 443 (new-port flow) and 17000 (legacy flow). Reported: per
# workload, the median over repetitions of ours/none and ct/none, their
# spread (min-max), and ours/ct (target: >= 0.95).
#
# With --before DIR, a second nftpolicy build (e.g. the previous commit's)
# compiles the same policy as a fourth side, "before", measured in the same
# ABBA order (none ours before ct ct before ours none): a change of the
# emitted ruleset is then compared under the same load.
#
# usage: bench/packet_path.sh [--reps N] [--seconds S] [--build DIR] [--before DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
reps=7
secs=1.5
build="$root/build-bench"
before=""
die() { echo "packet_path.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --reps) reps=$2; shift 2 ;;
        --seconds) secs=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --before) before=$2; shift 2 ;;
        -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
case $reps in ''|*[!0-9]*|0) die "--reps must be a positive integer" ;; esac
[ "$(id -u)" -eq 0 ] || die "needs root (ip netns)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (client and server pinned apart)"
nftpolicy="$build/daemon/nftpolicy"
[ -x "$nftpolicy" ] || die "no $nftpolicy (cmake -B $build -DCMAKE_BUILD_TYPE=Release && ninja -C $build nftpolicy)"
sides="ours ct"
if [ -n "$before" ]; then
    [ -x "$before/daemon/nftpolicy" ] || die "no $before/daemon/nftpolicy"
    sides="ours before ct"
fi

work=$(mktemp -d /tmp/nftpolicy-pp.XXXXXX)
cli=nftpp-cli-$$ srv=nftpp-srv-$$
cleanup() { ip netns del "$cli" 2>/dev/null || true; ip netns del "$srv" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -Wall -o "$work/loadgen" "$here/loadgen.c" || die "cannot compile bench/loadgen.c"
gen="$work/loadgen"
# A copy: a build directory being rebuilt during the run must not change sides.
[ -z "$before" ] || cp "$before/daemon/nftpolicy" "$work/nftpolicy.before"
client=10.64.0.10 server=10.20.0.11

# ---------------------------------------------------------------- setup

ip netns add "$cli"
ip netns add "$srv"
ip link add veth0 netns "$cli" type veth peer name veth1 netns "$srv"
ip -n "$cli" addr add "$client/32" dev veth0
ip -n "$srv" addr add "$server/32" dev veth1
ip -n "$cli" link set lo up
ip -n "$srv" link set lo up
ip -n "$cli" link set veth0 up
ip -n "$srv" link set veth1 up
ip -n "$cli" route add "$server/32" dev veth0
ip -n "$srv" route add "$client/32" dev veth1
# New UDP flows would fill the conntrack table within a few measurements at
# the default 30 s timeout for unreplied entries.
ip netns exec "$srv" sysctl -qw net.netfilter.nf_conntrack_udp_timeout=1 2>/dev/null || true

# 50k single addresses (every other one from 10.64.0.0, so none merge; the
# client is one of them) and 50k addresses in /24s (every other /24 from
# 10.128.0.0).
awk 'BEGIN {
    for (i = 0; i < 50000; i++) { v = 10 * 16777216 + 64 * 65536 + 2 * i
        printf "%d.%d.%d.%d\n", int(v / 16777216), int(v / 65536) % 256, int(v / 256) % 256, v % 256 }
    for (i = 0; i < 196; i++) { v = 10 * 16777216 + 128 * 65536 + 512 * i
        printf "%d.%d.%d.0/24\n", int(v / 16777216), int(v / 65536) % 256, int(v / 256) % 256 }
}' >"$work/agents.txt"
cat >"$work/policy.toml" <<TOML
# bench/packet_path.sh: a host accepting tcp and udp from 100k agents.
[groups]
agents = { file = "agents.txt" }
server = ["$server"]
[services]
new = { tcp = [443], udp = [443] }
old = { tcp = [17000], udp = [17000] }
[migrations.m]
gates = ["g"]
phase = "coexist"
[[flows]]
id = "new"
from = "agents"
to = "server"
services = ["new"]
introduced_by = "m"
[[flows]]
id = "old"
from = "agents"
to = "server"
services = ["old"]
retired_by = "m.g"
[hosts.srv]
addresses = ["$server"]
[baseline]
log_drops = false
TOML
cat >"$work/ct.nft" <<NFT
table inet ctonly {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ip saddr $client accept
	}
}
NFT

apply_with() {  # apply_with NFTPOLICY
    ip netns exec "$srv" "$1" apply "$work/policy.toml" --host srv --lock "$work/lock" \
        --state-dir "$work/state.$RANDOM" >/dev/null
}

ruleset() {  # ruleset none|ct|ours|before
    ip netns exec "$srv" nft delete table inet nftpolicy 2>/dev/null || true
    ip netns exec "$srv" nft delete table inet ctonly 2>/dev/null || true
    case $1 in
        ct) ip netns exec "$srv" nft -f "$work/ct.nft" ;;
        ours) apply_with "$nftpolicy" ;;
        before) apply_with "$work/nftpolicy.before" ;;
    esac
}

# measure PROTO PORT: one figure from the server's or the client's side.
measure() {
    local proto=$1 port=$2 out
    if [ "$proto" = tcp ]; then
        # The server's bound is generous (a loaded machine can start the
        # client late); it is stopped as soon as the client is done.
        ip netns exec "$srv" taskset -c 1 "$gen" tcp-server "$port" "$(awk -v s="$secs" 'BEGIN { print s + 20 }')" &
        local spid=$!
        sleep 0.2
        out=$(ip netns exec "$cli" taskset -c 0 "$gen" tcp-client "$server" "$port" "$secs") || true
        kill "$spid" 2>/dev/null || true
        wait "$spid" || true
    else
        ip netns exec "$srv" taskset -c 1 "$gen" udp-server "$port" "$secs" >"$work/udp.out" &
        local spid=$!
        sleep 0.2
        ip netns exec "$cli" taskset -c 0 "$gen" udp-client "$server" "$port" "$(awk -v s="$secs" 'BEGIN { print s + 0.5 }')"
        wait "$spid"
        out=$(cat "$work/udp.out")
    fi
    echo "$out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
stats() {  # stats FILE: "median min max"
    sort -g "$1" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.3f %.3f %.3f\n", m, a[1], a[NR] }'
}

workloads="tcp:443 tcp:17000 udp:443 udp:17000"
started=$(date +%s)
echo "packet path bench: $(date -u '+%F %T UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
     "kernel $(uname -r); $reps ABBA repetitions of $secs s per measurement"
for ((r = 0; r < reps; r++)); do
    # shellcheck disable=SC2086
    for cfg in none $sides $(echo $sides | tr ' ' '\n' | tac) none; do
        ruleset "$cfg"
        for w in $workloads; do
            v=$(measure "${w%:*}" "${w#*:}")
            [ -n "$v" ] || die "no figure for $cfg $w (repetition $r)"
            echo "$r $cfg $w $v" >>"$work/raw"
        done
    done
    echo "repetition $((r + 1))/$reps done" >&2
done
# The seen set must have recorded the client: the legacy flow did its work.
ruleset ours
ip netns exec "$cli" "$gen" tcp-client "$server" 17000 0.1 >/dev/null 2>&1 &
ip netns exec "$srv" "$gen" tcp-server 17000 0.5 || true
wait || true
seen=$(ip netns exec "$srv" nft list set inet nftpolicy seen_m.g_v4 | grep -c "$client" || true)

med() {  # med WORKLOAD SIDE: median figure per second
    awk -v w="$1" -v c="$2" '$3 == w && $2 == c { print $4 }' "$work/raw" | sort -g |
        awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
sum() {  # sum REP SIDE WORKLOAD: the two measurements of one repetition
    awk -v r="$1" -v c="$2" -v w="$3" '$1 == r && $2 == c && $3 == w { s += $4 } END { print s }' "$work/raw"
}
# ratios WORKLOAD A B: "median [min,max]" over repetitions of A/B
ratios() {
    local r
    : >"$work/ratios"
    for ((r = 0; r < reps; r++)); do
        ratio "$(sum $r "$2" "$1")" "$(sum $r "$3" "$1")" >>"$work/ratios"; echo >>"$work/ratios"
    done
    stats "$work/ratios" | awk '{ printf "%s [%s,%s]", $1, $2, $3 }'
}
echo
for w in $workloads; do
    printf '%-10s none %.0f/s' "$w" "$(med "$w" none)"
    for c in $sides; do printf ', %s %.0f/s' "$c" "$(med "$w" "$c")"; done
    echo
    for c in $sides; do printf '    %-6s/none %s\n' "$c" "$(ratios "$w" "$c" none)"; done
    printf '    ours/ct   %s   (target >= 0.95)\n' "$(ratios "$w" ours ct)"
    [ -n "$before" ] && printf '    before/ct %s\n' "$(ratios "$w" before ct)"
done
echo
echo "seen set holds the client after a legacy connection: $([ "$seen" -ge 1 ] && echo yes || echo NO)"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); took $(($(date +%s) - started)) s"
