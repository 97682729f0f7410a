#!/bin/bash
# gateway.sh: forwarding through a gateway namespace (issue 11). Three
# namespaces the bench creates: "a" (10.1.0.2, zone lan) -- veth -- "gw"
# (eth0 10.1.0.1, eth1 10.2.0.1, forwarding on) -- veth -- "b" (10.2.0.2,
# zone dc). The gateway's ruleset is one of
#   none  no ruleset at all (plain routing)
#   ours  `nftpolicy apply` of a gateway policy with zones (lan -> dc: tcp and
#         udp 5201 allowed, everything else dropped), `[baseline] flowtable
#         = false`: the plain ruleset
#   ft    the same policy with `flowtable = true`: nftpolicy's own flowtable
#         on eth0 and eth1 (counter flag) and `ct state established meta
#         l4proto { tcp, udp } flow add @fastpath` first in the forward
#         chain, the software fast path that established forwarded flows
#         take. Only when the kernel has flowtables (CONFIG_NF_FLOW_TABLE);
#         otherwise reported as such (apply refuses `true` there).
# Each repetition measures none ours [ft ft] ours none (ABBA). Workloads,
# sender on CPU 0 and receiver on CPU 1:
#   tcp  one TCP stream a -> b, Mbit/s at the receiver
#   udp  one UDP flow of 64-byte datagrams a -> b, packets/s at the receiver;
#        b answers the first datagram once (loadgen udp-answer), as a DNS or
#        QUIC server would: conntrack sees a reply, the flow is established,
#        and a flowtable can take it (a flow that is never answered stays
#        UNREPLIED, passes the forward chain packet by packet and is never
#        offloaded)
# Reported: medians, and the median (min-max) over repetitions of each
# side's ratio to none.
#
# usage: bench/gateway.sh [--reps N] [--seconds S] [--build DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
reps=7
secs=1.5
build="$root/build-bench"
die() { echo "gateway.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --reps) reps=$2; shift 2 ;;
        --seconds) secs=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
case $reps in ''|*[!0-9]*|0) die "--reps must be a positive integer" ;; esac
[ "$(id -u)" -eq 0 ] || die "needs root (ip netns)"
[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (sender and receiver pinned apart)"
nftpolicy="$build/daemon/nftpolicy"
[ -x "$nftpolicy" ] || die "no $nftpolicy (cmake -B $build -DCMAKE_BUILD_TYPE=Release && ninja -C $build nftpolicy)"

work=$(mktemp -d /tmp/nftpolicy-gw.XXXXXX)
a=nftgw-a-$$ gw=nftgw-gw-$$ b=nftgw-b-$$
cleanup() { for ns in "$a" "$gw" "$b"; do ip netns del "$ns" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cc -O2 -Wall -o "$work/loadgen" "$here/loadgen.c" || die "cannot compile bench/loadgen.c"
gen="$work/loadgen"

# ---------------------------------------------------------------- setup

for ns in "$a" "$gw" "$b"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip link add veth0 netns "$a" type veth peer name eth0 netns "$gw"
ip link add veth0 netns "$b" type veth peer name eth1 netns "$gw"
ip -n "$a" addr add 10.1.0.2/24 dev veth0
ip -n "$b" addr add 10.2.0.2/24 dev veth0
ip -n "$gw" addr add 10.1.0.1/24 dev eth0
ip -n "$gw" addr add 10.2.0.1/24 dev eth1
for l in "$a veth0" "$b veth0" "$gw eth0" "$gw eth1"; do set -- $l; ip -n "$1" link set "$2" up; done
ip -n "$a" route add default via 10.1.0.1
ip -n "$b" route add default via 10.2.0.1
ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1

cat >"$work/policy.toml" <<'TOML'
# bench/gateway.sh: a gateway between two zones.
[groups]
lan = ["10.1.0.0/24"]
dc = ["10.2.0.0/24"]
[services]
bench = { tcp = [5201], udp = [5201] }
[[flows]]
id = "lan-dc"
from = "lan"
to = "dc"
services = ["bench"]
[hosts.gw]
mode = "gateway"
addresses = ["10.1.0.1", "10.2.0.1"]
[hosts.gw.zones]
lan = { interfaces = ["eth0"], networks = "lan" }
dc = { interfaces = ["eth1"], networks = "dc" }
[baseline]
log_drops = false
TOML
sed 's/^log_drops = false$/&\nflowtable = false/' "$work/policy.toml" >"$work/ours.toml"
sed 's/^log_drops = false$/&\nflowtable = true/' "$work/policy.toml" >"$work/ft.toml"

apply_policy() {  # apply_policy FILE: nftpolicy apply on the gateway
    ip netns exec "$gw" "$nftpolicy" apply "$1" --host gw --lock "$work/lock" --state-dir "$work/state.$RANDOM"
}

ruleset() {  # ruleset none|ours|ft
    ip netns exec "$gw" nft delete table inet nftpolicy 2>/dev/null || true
    [ "$1" = none ] && return 0
    apply_policy "$work/$1.toml" >/dev/null
}

# Does this kernel have flowtables? apply of `flowtable = true` fails (exit
# 5, nothing changed) where it does not, and says why.
sides="ours"
if apply_policy "$work/ft.toml" >/dev/null 2>"$work/ft.err"; then
    sides="ours ft"
    ft_note="flowtable: supported"
else
    config=$(zcat /proc/config.gz 2>/dev/null | grep -m1 'CONFIG_NF_FLOW_TABLE[= ]' || echo "kernel config unknown")
    ft_note="flowtable: NOT measured, the kernel refuses it ($(grep -m1 'error:' "$work/ft.err"); $config)"
fi
ruleset none

later() { awk -v s="$secs" -v d="$1" 'BEGIN { print s + d }'; }
# Until b's receiver has its socket bound (at most 10 s): a fixed pause was
# too short in an emulated guest (tests/vm/run_in_vm.sh), where the sender
# then met a closed port.
bound() {  # bound tcp|udp
    local flag=-lnt
    [ "$1" = udp ] && flag=-lnu
    for _ in $(seq 200); do
        [ -n "$(ip netns exec "$b" ss -H "$flag" 'sport = :5201')" ] && return 0
        sleep 0.05
    done
    die "b's $1 receiver did not bind port 5201 within 10 s"
}
measure() {  # measure tcp|udp: one figure, at the receiver
    if [ "$1" = tcp ]; then
        ip netns exec "$b" taskset -c 1 "$gen" tcp-sink 5201 "$secs" >"$work/out" &
        local rpid=$!; bound tcp
        ip netns exec "$a" taskset -c 0 "$gen" tcp-stream 10.2.0.2 5201 "$(later 0.3)"
    else
        ip netns exec "$b" taskset -c 1 "$gen" udp-answer 5201 "$secs" >"$work/out" &
        local rpid=$!; bound udp
        ip netns exec "$a" taskset -c 0 "$gen" udp-flood 10.2.0.2 5201 "$(later 0.3)"
    fi
    wait "$rpid"
    cat "$work/out"
}

# The policy holds: a port it does not open stays closed through the gateway.
ruleset ours
ip netns exec "$b" "$gen" tcp-server 5202 1 &
if ip netns exec "$a" timeout 0.5 "$gen" tcp-client 10.2.0.2 5202 0.2 >/dev/null 2>&1; then
    die "tcp/5202 went through the gateway: the policy does not hold"
fi
wait || true

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "nan" }'; }
stats() { sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "%.3f [%.3f,%.3f]\n", m, a[1], a[NR] }'; }
started=$(date +%s)
echo "gateway bench: $(date -u '+%F %T UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
     "kernel $(uname -r); $reps ABBA repetitions of $secs s per measurement; $ft_note"
for ((r = 0; r < reps; r++)); do
    # shellcheck disable=SC2086
    for cfg in none $sides $(echo $sides | tr ' ' '\n' | tac) none; do
        ruleset "$cfg"
        for w in tcp udp; do
            v=$(measure $w)
            [ -n "$v" ] || die "no figure for $cfg $w (repetition $r)"
            echo "$r $cfg $w $v" >>"$work/raw"
        done
    done
    echo "repetition $((r + 1))/$reps done" >&2
done

sum() { awk -v r="$1" -v c="$2" -v w="$3" '$1 == r && $2 == c && $3 == w { s += $4 } END { print s }' "$work/raw"; }
med() { awk -v c="$2" -v w="$1" '$2 == c && $3 == w { print $4 }' "$work/raw" | stats | cut -d' ' -f1; }
echo
for w in tcp udp; do
    unit=$([ $w = tcp ] && echo "Mbit/s" || echo "packets/s")
    printf '%-4s none %.0f %s' "$w" "$(med $w none)" "$unit"
    for c in $sides; do printf ', %s %.0f' "$c" "$(med $w "$c")"; done
    echo
    for c in $sides; do
        for ((r = 0; r < reps; r++)); do ratio "$(sum $r "$c" $w)" "$(sum $r none $w)"; echo; done |
            stats | sed "s|^|    $c/none |"
    done
done
echo
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); took $(($(date +%s) - started)) s"
