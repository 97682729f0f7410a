#!/bin/bash
# Packet test of the seen sets, through the CLI: a host and an agent in two
# scratch network namespaces joined by a veth pair. The agent connects to the
# legacy port; the host's seen set must record the agent's address (and not
# an address outside the flow's source group), a re-apply of a changed
# policy must keep the element and the flow's counter, and flipping the gate
# must remove the set with the legacy rules.
# Usage: seen_packets.sh NFTPOLICY
# Exit 77 (skip) without root. The namespaces: tests/support/netns.sh.
set -euo pipefail
bin=$1
source "$(dirname "$0")/../support/netns.sh"
netns_enter "$0" "$@"

work=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$work"' EXIT
in_agent() { in_ns agent "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# host 10.20.0.11 <-> agent 10.10.0.5 (in the agents group) and 10.30.0.7 (not).
netns_spawn agent
netns_veth agent veth-host veth-agent
ip addr add 10.20.0.11/16 dev veth-host
ip link set veth-host up
ip route add 10.10.0.0/16 dev veth-host
in_agent ip addr add 10.10.0.5/16 dev veth-agent
in_agent ip addr add 10.30.0.7/16 dev veth-agent
in_agent ip link set veth-agent up
in_agent ip route add 10.20.0.0/16 dev veth-agent

policy() {  # $1: extra flows
    cat <<EOF
[groups]
agents = ["10.10.0.0/16"]
handler = ["10.20.0.11"]
admins = ["10.40.0.0/24"]
[services]
msrpc = { tcp = [17000] }
https = { tcp = [443] }
ssh = { tcp = [22] }
[migrations.m]
gates = ["agents-migrated"]
phase = "coexist"
seen_timeout = "1d"
[[flows]]
id = "old"
from = "agents"
to = "handler"
services = ["msrpc"]
retired_by = "m.agents-migrated"
[[flows]]
id = "new"
from = "agents"
to = "handler"
services = ["https"]
introduced_by = "m"
$1
[hosts.h]
roles = ["handler"]
EOF
}
policy "" >"$work/site.toml"
policy $'[[flows]]\nid = "admin"\nfrom = "admins"\nto = "handler"\nservices = ["ssh"]' >"$work/changed.toml"
apply() { NFTPOLICY_PATH= "$bin" apply "$@" --lock "$work/lock" --state-dir "$work/state"; }
set_name=seen_m.agents-migrated_v4
seen() { nft list set inet nftpolicy "$set_name"; }
# (Tests on captured text: `nft ... | grep -q` can fail on SIGPIPE under pipefail.)
recorded() { [[ "$(seen)" == *"$1 expires"* ]]; }
packets() { nft list counter inet nftpolicy flow_old | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
# Connects from SOURCE to the host's legacy port; nothing listens there, so
# an accepted SYN is answered with a reset and a dropped one times out.
connect_from() {
    in_agent timeout 30 python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(2)
s.bind((sys.argv[1], 0))
print(s.connect_ex(("10.20.0.11", 17000)))' "$1"
}

apply "$work/site.toml" >/dev/null
[[ "$(seen)" == *"timeout 1d"* ]] || fail "no seen set after apply: $(nft list table inet nftpolicy)"
[ "$(connect_from 10.10.0.5)" = 111 ] || fail "the agent's connection was not accepted (expected a reset)"
[ "$(connect_from 10.30.0.7)" != 111 ] || fail "a source outside the group got through"
recorded 10.10.0.5 || fail "the agent is not recorded: $(seen)"
if [[ "$(seen)" == *10.30.0.7* ]]; then fail "a source outside the group was recorded: $(seen)"; fi
count=$(packets)
[ "$count" -ge 1 ] || fail "counter flow_old did not count the agent"

again=$(apply "$work/site.toml")
[[ "$again" == *"nothing to do"* ]] || fail "re-apply with a recorded source changed something: $again"
changed=$(apply "$work/changed.toml")
[[ "$changed" == *"chain in_tcp_22"* ]] || fail "the changed policy did not add the admin flow: $changed"
recorded 10.10.0.5 || fail "the recorded source did not survive the re-apply: $(seen)"
[ "$(packets)" = "$count" ] || fail "counter flow_old changed across the re-apply: $count -> $(packets)"

apply "$work/changed.toml" --gates m.agents-migrated >/dev/null
if [[ "$(nft list table inet nftpolicy)" =~ seen_|flow_old ]]; then
    fail "flipping the gate left the seen set or the legacy flow: $(nft list table inet nftpolicy)"
fi
[ "$(connect_from 10.10.0.5)" != 111 ] || fail "the legacy port is still open after the gate flipped"
echo "ok: seen sets record real connections and survive re-applies"
