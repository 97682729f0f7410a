# Shared set-up of the migration tests (sourced, not run): a host and an
# agent in two scratch network namespaces joined by a veth pair, IPv4 and
# IPv6 (tests/support/netns.sh: the host side is the caller's fresh
# `unshare -n`, the agent side a child's namespace).
#
#   host 10.20.0.11 / fd00:20::11
#   agent 10.10.0.5 / fd00:10::5 (in group agents), 10.30.0.7 / fd00:30::7 (outsider)
#
# Callers: `mig_enter "$0" "$@"` first (re-execs in a new namespace), then
# mig_setup. Provides: $work, in_agent, fail, nftp (the CLI with this run's
# lock and state directory), write_policy, table_fingerprint.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../support/netns.sh"

mig_enter() { netns_enter "$@"; }

fail() { echo "FAIL: $*" >&2; exit 1; }

mig_setup() {
    work=$(mktemp -d)
    trap 'netns_cleanup; jobs -p | xargs -r kill 2>/dev/null || true; rm -rf "$work"' EXIT
    netns_spawn agent
    netns_veth agent veth-host veth-agent
    ip addr add 10.20.0.11/16 dev veth-host
    ip addr add fd00:20::11/32 dev veth-host nodad
    ip link set veth-host up
    ip route add 10.10.0.0/15 dev veth-host
    ip route add 10.30.0.0/16 dev veth-host
    ip route add fd00:10::/32 dev veth-host
    ip route add fd00:30::/32 dev veth-host
    in_agent ip addr add 10.10.0.5/16 dev veth-agent
    in_agent ip addr add 10.30.0.7/16 dev veth-agent
    in_agent ip addr add fd00:10::5/32 dev veth-agent nodad
    in_agent ip addr add fd00:30::7/32 dev veth-agent nodad
    in_agent ip link set veth-agent up
    in_agent ip route add 10.20.0.0/16 dev veth-agent
    in_agent ip route add fd00:20::/32 dev veth-agent
}

in_agent() { in_ns agent "$@"; }

# nftpolicy with this run's lock and state directory.
nftp() { NFTPOLICY_PATH= "$bin" "$@" --lock "$work/lock" --state-dir "$work/state"; }

# write_policy FILE [MIGRATION-KEYS...]: legacy tcp/17000 retired by gate
# m.agents-migrated, new tcp/443 introduced by m, both agents -> handler.
write_policy() {
    local file=$1
    shift
    {
        cat <<'EOF2'
[groups]
agents = ["10.10.0.0/16", "fd00:10::/32"]
handler = ["10.20.0.11", "fd00:20::11"]
[services]
msrpc = { tcp = [17000] }
https = { tcp = [443] }
[migrations.m]
gates = ["agents-migrated"]
phase = "coexist"
EOF2
        printf '%s\n' "$@"
        cat <<'EOF2'
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
[hosts.h]
roles = ["handler"]
EOF2
    } >"$file"
}

# Our table as the real nft lists it, without the seen sets' elements (whose
# timers run): equal fingerprints mean nothing was changed.
table_fingerprint() {
    nft -j list table inet nftpolicy 2>/dev/null | python3 -c '
import json, sys
doc = json.load(sys.stdin)
for item in doc["nftables"]:
    item.get("set", {}).pop("elem", None)
print(json.dumps(doc, sort_keys=True))' || echo "absent"
}

# connect_from SOURCE DEST PORT: prints the connect_ex() result (0 when a
# server accepted, 111 when the host reset it, 11/110 when dropped).
connect_from() {
    in_agent timeout 30 python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.settimeout(1)
s.bind((sys.argv[1], 0))
print(s.connect_ex((sys.argv[2], int(sys.argv[3]))))' "$@"
}
