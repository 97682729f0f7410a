#!/bin/bash
# The gateway fast path ([baseline] flowtable) on the real kernel, in scratch
# network namespaces.
#
#   flowtable.sh NFTPOLICY refusal
#       Runs on every kernel: a flowtable the kernel refuses (this kernel has
#       no flowtables, or its devices do not exist) is left out by "auto",
#       with one line saying why, the rest applied; `true` fails (exit 5)
#       under its policy line and changes nothing.
#   flowtable.sh NFTPOLICY offload
#       Needs a kernel with flowtables (CONFIG_NF_FLOW_TABLE, _INET,
#       CONFIG_NFT_FLOW_OFFLOAD), else skipped (77) with the kernel's
#       refusal: a gateway namespace between two host namespaces applies
#       its policy with a flowtable on both zone interfaces (counter flag);
#       the kernel lists what compile prints; a TCP connection the policy
#       allows is offloaded ([OFFLOAD] in conntrack) and its conntrack
#       counters keep counting; a port the policy does not open stays
#       closed; a re-apply sends nothing.
set -euo pipefail
bin=$1 mode=$2
source "$(dirname "$0")/../support/netns.sh"
netns_enter "$0" "$bin" "$mode"

work=$(mktemp -d)
trap 'netns_cleanup; jobs -p | xargs -r kill 2>/dev/null || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
nftp() { NFTPOLICY_PATH= "$bin" "$@" --lock "$work/lock" --state-dir "$work/state"; }
norm() { tr -s ' \t\n' ' '; }

# write_policy FILE IF_LAN IF_DC [BASELINE-LINES...]
write_policy() {
    local file=$1 lan=$2 dc=$3
    shift 3
    cat >"$file" <<EOF
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
lan = { interfaces = ["$lan"], networks = "lan" }
dc = { interfaces = ["$dc"], networks = "dc" }
[baseline]
log_drops = false
EOF
    printf '%s\n' "$@" >>"$file"
}

refusal() {
    # Interfaces that do not exist: refused by every kernel, with or without
    # flowtables (the reason differs; both are said).
    write_policy "$work/auto.toml" nosuch0 nosuch1
    out=$(nftp apply "$work/auto.toml")
    notes=$(grep -c '^note: flowtable fastpath left out: ' <<<"$out" || true)
    [ "$notes" = 1 ] || { echo "$out"; fail "auto: expected one line saying the flowtable was left out"; }
    echo "$out" | grep '^note:'
    nft list ruleset >"$work/after-auto.nft"
    ! grep -q 'flowtable\|flow add' "$work/after-auto.nft" || fail "auto: a refused flowtable reached the kernel"
    NFTPOLICY_PATH= "$bin" compile --no-replace "$work/auto.toml" >"$work/expected.nft" 2>/dev/null
    nft -s list table inet nftpolicy >"$work/listed.nft"
    [ "$(norm <"$work/expected.nft")" = "$(norm <"$work/listed.nft")" ] ||
        { diff -u "$work/expected.nft" "$work/listed.nft" || true; fail "auto: the kernel holds something else than the ruleset without flowtable"; }
    again=$(nftp apply "$work/auto.toml")
    [[ "$again" == *"nothing to do"* ]] || { echo "$again"; fail "auto: a re-apply changed something"; }

    write_policy "$work/true.toml" nosuch0 nosuch1 "flowtable = true"
    nft list ruleset >"$work/before.nft"
    rc=0
    nftp apply "$work/true.toml" >"$work/true.out" 2>"$work/true.err" || rc=$?
    [ "$rc" = 5 ] || { cat "$work/true.out" "$work/true.err"; fail "true: expected exit 5 (kernel refused), got $rc"; }
    grep -q "^$work/true.toml:19:13: error: flowtable = true, but the kernel refuses flowtable fastpath: .*nothing was changed" \
        "$work/true.err" || { cat "$work/true.err"; fail "true: the error does not name the policy line and the refusal"; }
    head -n 1 "$work/true.err"
    nft list ruleset >"$work/after.nft"
    cmp -s "$work/before.nft" "$work/after.nft" || { diff -u "$work/before.nft" "$work/after.nft" || true; fail "true: the ruleset changed"; }
    echo "ok: a refused flowtable: auto leaves it out and says so, true fails with nothing changed"
}

# The topology of bench/gateway.sh: a (10.1.0.2) -- eth0 gw eth1 -- b (10.2.0.2).
topology() {
    netns_spawn a
    netns_spawn b
    netns_veth a eth0 veth0
    netns_veth b eth1 veth0
    ip addr add 10.1.0.1/24 dev eth0
    ip addr add 10.2.0.1/24 dev eth1
    ip link set eth0 up
    ip link set eth1 up
    sysctl -qw net.ipv4.ip_forward=1
    sysctl -qw net.netfilter.nf_conntrack_acct=1 2>/dev/null || true
    in_ns a ip addr add 10.1.0.2/24 dev veth0
    in_ns b ip addr add 10.2.0.2/24 dev veth0
    in_ns a ip link set veth0 up
    in_ns b ip link set veth0 up
    in_ns a ip route add default via 10.1.0.1
    in_ns b ip route add default via 10.2.0.1
}

# A TCP server in b on PORT that reads until the client closes.
serve() {
    in_ns b /usr/bin/python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.2.0.2", int(sys.argv[1]))); s.listen(1); s.settimeout(10)
c, _ = s.accept()
while c.recv(65536): pass' "$1" &
    sleep 0.3
}

# A client in a sending 1 KiB every 20 ms for SECONDS to b:PORT; exit 3 when
# the connection fails.
client() {
    in_ns a /usr/bin/python3 -c '
import socket, sys, time
try:
    c = socket.create_connection(("10.2.0.2", int(sys.argv[1])), timeout=1)
except OSError:
    sys.exit(3)
end = time.time() + float(sys.argv[2])
while time.time() < end:
    c.sendall(b"x" * 1024); time.sleep(0.02)
c.close()' "$1" "$2"
}

# Packets counted by conntrack for the offloaded tcp/5201 connection, or
# nothing when it is not offloaded (not an error: the caller polls).
offloaded_packets() {
    conntrack -L -p tcp --dport 5201 2>/dev/null | grep OFFLOAD | grep -o 'packets=[0-9]*' | head -n 1 | cut -d= -f2 ||
        true
}

offload() {
    if ! refusal=$(kernel_has_flowtables); then
        echo "skip: this kernel refuses flowtables ($(uname -r)): $refusal" >&2
        exit 77
    fi
    command -v conntrack >/dev/null || { echo "skip: needs the conntrack tool" >&2; exit 77; }
    topology
    write_policy "$work/gw.toml" eth0 eth1
    out=$(nftp apply "$work/gw.toml")
    ! grep -q '^note:' <<<"$out" || { echo "$out"; fail "the flowtable was left out on a kernel that has them"; }
    nft -j list flowtables | /usr/bin/python3 -c '
import json, sys
fts = [o["flowtable"] for o in json.load(sys.stdin)["nftables"] if "flowtable" in o]
assert len(fts) == 1, fts
ft = fts[0]
assert (ft["table"], ft["name"], ft["hook"], ft["prio"]) == ("nftpolicy", "fastpath", "ingress", 0), ft
assert sorted(ft["dev"]) == ["eth0", "eth1"], ft' || fail "nft -j list flowtables: not the flowtable the policy declares"
    nft list flowtable inet nftpolicy fastpath | grep -qx $'\t\tcounter' || fail "the flowtable has no counter flag"
    NFTPOLICY_PATH= "$bin" compile --no-replace "$work/gw.toml" --flowtables probe >"$work/expected.nft"
    nft -s list table inet nftpolicy >"$work/listed.nft"
    [ "$(norm <"$work/expected.nft")" = "$(norm <"$work/listed.nft")" ] ||
        { diff -u "$work/expected.nft" "$work/listed.nft" || true; fail "the kernel lists something else than compile prints"; }

    serve 5201
    client 5201 3 &
    local cpid=$! first="" later=""
    for _ in $(seq 50); do  # an emulated guest (tests/vm) is slow
        sleep 0.1
        first=$(offloaded_packets)
        [ -n "$first" ] && break
    done
    [ -n "$first" ] || { conntrack -L 2>&1 || true; fail "the allowed TCP connection was not offloaded"; }
    sleep 1
    later=$(offloaded_packets)
    [ -n "$later" ] && [ "$later" -gt "$first" ] ||
        fail "conntrack stopped counting the offloaded connection ($first then ${later:-nothing} packets)"
    wait "$cpid" || fail "the allowed TCP connection failed"
    echo "offloaded: conntrack counted $first then $later packets"

    serve 5202
    rc=0
    client 5202 0.2 || rc=$?
    [ "$rc" = 3 ] || fail "tcp/5202 went through the gateway: the policy does not hold"

    again=$(nftp apply "$work/gw.toml")
    [[ "$again" == *"nothing to do"* ]] || { echo "$again"; fail "a re-apply changed something"; }
    echo "ok: the gateway's flowtable offloads allowed established flows, keeps counting, re-applies send nothing"
}

case $mode in
    refusal) refusal ;;
    offload) offload ;;
    *) fail "unknown mode $mode (refusal|offload)" ;;
esac
