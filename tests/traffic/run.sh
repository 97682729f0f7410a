#!/bin/bash
# Traffic test of one vendor profile: a gateway (this scratch namespace)
# routing between the machines of EXPECT's topology (the agent network, the
# server network, ...), each machine in a namespace of its own with its own
# link to the gateway, IPv4 and IPv6. traffic.py writes the site policy,
# applies it on the gateway in every phase and gate state, and probes.
# Usage: run.sh NFTPOLICY PROFILE_DIR EXPECT
# Exit 77 (skip) without root; nothing outside the scratch namespaces changes.
set -euo pipefail
bin=$(realpath "$1")
profiles=$(realpath "$2")
expect=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../support/netns.sh"
netns_enter "$0" "$bin" "$profiles" "$expect"
trap 'netns_cleanup' EXIT

# The gateway forwards both families; nobody waits for duplicate address detection.
sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.accept_dad=0
pids=()
while read -r name v4 v6; do
    netns_spawn "$name"
    in_ns "$name" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
    netns_veth "$name" "g-$name" eth0
    # Gateway side: the same link addresses on every link, a host route to the machine.
    ip addr add 169.254.0.1/32 dev "g-$name"
    ip addr add fe80::1/64 dev "g-$name" nodad
    ip link set "g-$name" up
    ip route add "$v4/32" dev "g-$name"
    ip -6 route add "$v6/128" dev "g-$name"
    in_ns "$name" ip addr add "$v4/32" dev eth0
    in_ns "$name" ip addr add "$v6/128" dev eth0 nodad
    in_ns "$name" ip link set eth0 up
    in_ns "$name" ip route add 169.254.0.1/32 dev eth0
    in_ns "$name" ip route add default via 169.254.0.1 dev eth0 src "$v4"
    in_ns "$name" ip -6 route add default via fe80::1 dev eth0 src "$v6"
    pids+=("$name=${NETNS_PID[$name]}")
done < <(python3 "$here/traffic.py" plan "$expect")

pid_list=$(IFS=,; echo "${pids[*]}")
python3 "$here/traffic.py" run "$expect" --nftpolicy "$bin" --profiles "$profiles" --pids "$pid_list"
