#!/bin/bash
# The README's walkthrough, for real: an SES 2.6 -> 2.7.1 migration on the
# shipped gateway example, from phase legacy to final, in scratch network
# namespaces (never this machine's own ruleset): a gateway (gw1) between an
# agent (10.10.0.5) and an agent handler (10.20.0.11). Prints each command
# and its output; the README quotes this output.
# Usage (root, after building): contrib/scripts/walkthrough.sh [NFTPOLICY]
set -euo pipefail
cd "$(dirname "$0")/../.."
np=$(realpath "${1:-build/daemon/nftpolicy}")
root=$PWD
if [ "${NFTPOLICY_IN_NETNS:-}" != 1 ]; then NFTPOLICY_IN_NETNS=1 exec unshare -n "$0" "$np"; fi
state=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$state"; }
trap cleanup EXIT

# This namespace is gw1; the agent and the handler are two more.
unshare -n sleep 3600 >/dev/null 2>&1 & agent=$!
unshare -n sleep 3600 >/dev/null 2>&1 & handler=$!
pids=("$agent" "$handler")
for p in "$agent" "$handler"; do
    for _ in $(seq 50); do [ "$(readlink /proc/"$p"/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.1; done
    nsenter -t "$p" -n ip link set lo up
done
ip link set lo up
ip link add eth0 type veth peer name agent0 && ip link set agent0 netns "$agent"
ip link add eth1 type veth peer name handler0 && ip link set handler0 netns "$handler"
ip link add eth2 type veth peer name eth2p && ip link add eth3 type veth peer name eth3p  # unused zones
ip addr add 10.10.0.1/16 dev eth0 && ip addr add 10.20.0.1/24 dev eth1
for i in eth0 eth1 eth2 eth3; do ip link set "$i" up; done
sysctl -qw net.ipv4.ip_forward=1
nsenter -t "$agent" -n sh -c 'ip addr add 10.10.0.5/16 dev agent0 && ip link set agent0 up && ip route add default via 10.10.0.1'
nsenter -t "$handler" -n sh -c 'ip addr add 10.20.0.11/24 dev handler0 && ip link set handler0 up && ip route add default via 10.20.0.1'
# The handler answers on the legacy (17000) and the new (443) agent port.
nsenter -t "$handler" -n /usr/bin/python3 -c '
import selectors, socket
sel = selectors.DefaultSelector()
for port in (17000, 443):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16); sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept(); c.sendall(b"ok\n"); c.close()' &
pids+=($!)
connect() {  # connect PORT: one connection from the agent to the handler
    nsenter -t "$agent" -n timeout 3 /usr/bin/python3 -c '
import socket, sys
s = socket.create_connection(("10.20.0.11", int(sys.argv[1])), timeout=2)
print("agent -> handler:" + sys.argv[1] + ": " + s.recv(8).decode().strip())' "$1" || echo "agent -> handler:$1: no answer"
}

export NFTPOLICY_PATH=$root/policies
cp policies/examples/gateway.toml policies/examples/inventory.toml "$state/"
cd "$state"
opts=(--state-dir "$state/var" --lock "$state/lock")
show() { echo "\$ nftpolicy $*"; "$np" "$@" "${opts[@]}" || echo "(exit $?)"; echo; }
say() { echo "\$ $*"; "$@"; echo; }

echo "\$ nftpolicy check --strict gateway.toml"
"$np" check --strict gateway.toml; echo
show apply gateway.toml --phase legacy
say connect 17000
say connect 443
show migration set-phase ses-2_7 coexist gateway.toml
say connect 443
say connect 17000
show status
show migration status gateway.toml
show migration complete ses-2_7.backoffice-migrated gateway.toml
show migration complete ses-2_7.agents-migrated gateway.toml
echo "# ... the agents move to 443; here the window is shortened to 5 seconds"
sleep 6
show migration complete ses-2_7.agents-migrated gateway.toml --quiet-for 5s
say connect 17000
show migration set-phase ses-2_7 final gateway.toml
show diff gateway.toml
