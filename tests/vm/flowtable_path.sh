#!/bin/bash
# flowtable_path.sh: a forwarded TCP flow takes an nftables flowtable (the
# software fast path) on this kernel. Meant for a kernel that has flowtables
# (CONFIG_NF_FLOW_TABLE): ctest runs it in the KVM guest of run_in_vm.sh
# (Debian 12's kernel); on a kernel without them it fails, saying so.
#
# Namespaces it creates and deletes: a (10.1.0.2) -- veth -- gw (eth0
# 10.1.0.1, eth1 10.2.0.1, forwarding) -- veth -- b (10.2.0.2). The gateway's
# table: forward policy drop, new tcp/5201 from eth0 to eth1 accepted, and a
# counter on established packets that the forward chain sees. a sends 20 MB
# to b over one TCP connection, twice:
#   plain  no flowtable: the forward chain sees every packet of the flow
#          (veth passes GSO packets of up to 64 KB: some hundreds for 20 MB;
#          more than 100 makes the counter a real measure), no [OFFLOAD];
#   ft     flowtable ft on eth0, eth1 (counter flag) and `flow add @ft` for
#          established tcp: conntrack lists the open flow as [OFFLOAD], the
#          forward chain sees fewer than a tenth of plain's count (the first
#          packets, before the flow is added), and conntrack's accounting,
#          which the fast path updates, counts all 20 MB a -> b.
# Usage: flowtable_path.sh (root)
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)" >&2; exit 77; }
work=$(mktemp -d /tmp/flowtable-path.XXXXXX)
a=ftp-a-$$ gw=ftp-gw-$$ b=ftp-b-$$
cleanup() { for ns in "$a" "$gw" "$b"; do ip netns del "$ns" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
passes=0 plain_chain=0
pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; exit 1; }
in_gw() { ip netns exec "$gw" "$@"; }

topology() {
    local ns l
    for ns in "$a" "$gw" "$b"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
    ip link add veth0 netns "$a" type veth peer name eth0 netns "$gw"
    ip link add veth0 netns "$b" type veth peer name eth1 netns "$gw"
    ip -n "$a" addr add 10.1.0.2/24 dev veth0
    ip -n "$b" addr add 10.2.0.2/24 dev veth0
    ip -n "$gw" addr add 10.1.0.1/24 dev eth0
    ip -n "$gw" addr add 10.2.0.1/24 dev eth1
    for l in "$a veth0" "$b veth0" "$gw eth0" "$gw eth1"; do
        read -r ns dev <<<"$l"
        ip -n "$ns" link set "$dev" up
    done
    ip -n "$a" route add default via 10.1.0.1
    ip -n "$b" route add default via 10.2.0.1
    in_gw sysctl -qw net.ipv4.ip_forward=1
}

ruleset() {  # ruleset plain|ft
    local offload=""
    [ "$1" = ft ] && offload="ct state established meta l4proto tcp flow add @ft"
    in_gw nft delete table inet fttest 2>/dev/null || true
    in_gw nft -f - <<NFT || fail "$1: kernel $(uname -r) refuses the table with a flowtable (CONFIG_NF_FLOW_TABLE?)"
table inet fttest {
    flowtable ft { hook ingress priority filter; devices = { eth0, eth1 }; counter; }
    chain forward {
        type filter hook forward priority filter; policy drop;
        $offload
        ct state established,related counter accept
        iifname "eth0" oifname "eth1" tcp dport 5201 ct state new accept
    }
}
NFT
    in_gw sysctl -qw net.netfilter.nf_conntrack_acct=1
    in_gw conntrack -F >/dev/null 2>&1 || true  # the gateway's own table: no flow of the last run
}

# b receives until EOF, says in $work/got when it has all 20 MB, prints the
# byte count; a sends 20 MB, keeps the connection open until $work/close.
receiver='
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.2.0.2", 5201)); s.listen(1); s.settimeout(90)
c, _ = s.accept(); c.settimeout(90); n = 0
while True:
    d = c.recv(1 << 16)
    if not d: break
    n += len(d)
    if n == 20 << 20: open(sys.argv[1] + "/got", "w").close()
print(n)'
sender='
import os, socket, sys, time
c = socket.create_connection(("10.2.0.2", 5201), timeout=90)
c.sendall(b"x" * (20 << 20))
deadline = time.time() + 90
while not os.path.exists(sys.argv[1] + "/close") and time.time() < deadline: time.sleep(0.05)
c.close()'

chain_established() {  # packets the forward chain counted as established
    in_gw nft list chain inet fttest forward | awk '/ct state established,related counter/ {
        for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}
flow_line() { in_gw conntrack -L -p tcp --dport 5201 2>/dev/null | grep -m1 'dport=5201' || true; }
flow_bytes() { grep -o 'bytes=[0-9]*' <<<"$1" | head -1 | cut -d= -f2; }

transfer() {  # transfer MODE: one 20 MB flow; leaves the flow's conntrack line in $work/flow
    rm -f "$work/got" "$work/close"
    ip netns exec "$b" python3 -c "$receiver" "$work" >"$work/received" &
    local rpid=$! spid
    # an emulated guest on a loaded machine starts python in seconds: wait for
    # b's socket, and give the 20 MB a minute
    for _ in $(seq 600); do
        [ -n "$(ip netns exec "$b" ss -Hlnt 'sport = :5201')" ] && break
        sleep 0.1
    done
    ip netns exec "$a" python3 -c "$sender" "$work" &
    spid=$!
    for _ in $(seq 600); do [ -e "$work/got" ] && break; sleep 0.1; done
    [ -e "$work/got" ] || fail "$1: b did not receive 20 MB within 60 s"
    flow_line >"$work/flow"
    chain_established >"$work/chain"
    touch "$work/close"
    wait "$spid" || fail "$1: the sender failed"
    wait "$rpid" || fail "$1: the receiver failed"
    [ "$(cat "$work/received")" = $((20 << 20)) ] || fail "$1: b received $(cat "$work/received") bytes, not 20 MB"
}

check_plain() {
    ruleset plain
    transfer plain
    local chain flow
    chain=$(cat "$work/chain") flow=$(cat "$work/flow")
    [ -n "$flow" ] || fail "plain: conntrack lists no tcp/5201 flow in the gateway"
    ! grep -q OFFLOAD <<<"$flow" || fail "plain: the flow is offloaded without a flowtable: $flow"
    [ "${chain:-0}" -gt 100 ] || fail "plain: the forward chain counted only ${chain:-0} established packets"
    plain_chain=$chain
    pass "plain: 20 MB forwarded, the forward chain saw $chain established packets, no [OFFLOAD]"
}

check_flowtable() {
    ruleset ft
    transfer ft
    local chain flow bytes
    chain=$(cat "$work/chain") flow=$(cat "$work/flow")
    echo "    conntrack: $flow"
    grep -q '\[OFFLOAD\]' <<<"$flow" || fail "ft: the open flow is not [OFFLOAD] in conntrack: ${flow:-no flow}"
    pass "ft: conntrack lists the open flow as [OFFLOAD]"
    [ "${chain:-0}" -lt $((plain_chain / 10)) ] ||
        fail "ft: the forward chain still saw $chain established packets (plain: $plain_chain)"
    pass "ft: the forward chain saw ${chain:-0} established packets of the 20 MB flow (plain: $plain_chain)"
    bytes=$(flow_bytes "$flow")
    [ "${bytes:-0}" -ge $((20 << 20)) ] ||
        fail "ft: conntrack counted ${bytes:-0} bytes a -> b, less than the 20 MB sent (flowtable counter)"
    pass "ft: conntrack counted all $bytes bytes a -> b, though the chain saw ${chain:-0} packets"
    in_gw nft list flowtable inet fttest ft | grep -q 'devices = { eth0, eth1 }' ||
        fail "ft: nft lists the flowtable without its devices"
}

echo "kernel $(uname -r)"
topology
check_plain
check_flowtable
echo "$passes passed"
