#!/bin/bash
# Packet test of the seen sets, through the CLI: a host and an agent in two
# scratch network namespaces joined by a veth pair. The agent connects to the
# legacy port; the host's seen set must record the agent's address (and not
# an address outside the flow's source group), a re-apply of a changed
# policy must keep the element and the flow's counter, and flipping the gate
# must remove the set with the legacy rules.
# Usage: seen_packets.sh NFTPOLICY
# Exit 77 (skip) without root. The namespaces and the site: migration_lib.sh.
bin=$1
source "$(dirname "$0")/migration_lib.sh"
mig_enter "$0" "$@"
mig_setup

# migration_lib's site with a day-long seen timeout; the changed policy adds
# an admin flow (a group, a service and a flow the site does not have).
write_policy "$work/site.toml" 'seen_timeout = "1d"'
cat "$work/site.toml" - >"$work/changed.toml" <<'EOF'
[groups.admins]
addresses = ["10.40.0.0/24"]
[services.ssh]
tcp = [22]
[[flows]]
id = "admin"
from = "admins"
to = "handler"
services = ["ssh"]
EOF
apply() { nftp apply "$@"; }
set_name=seen_m.agents-migrated_v4
seen() { nft list set inet nftpolicy "$set_name"; }
# (Tests on captured text: `nft ... | grep -q` can fail on SIGPIPE under pipefail.)
recorded() { [[ "$(seen)" == *"$1 expires"* ]]; }
packets() { nft list counter inet nftpolicy flow_old | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
# Connects from SOURCE to the host's legacy port; nothing listens there, so
# an accepted SYN is answered with a reset and a dropped one times out.
legacy_from() { connect_from "$1" 10.20.0.11 17000; }

apply "$work/site.toml" >/dev/null
[[ "$(seen)" == *"timeout 1d"* ]] || fail "no seen set after apply: $(nft list table inet nftpolicy)"
[ "$(legacy_from 10.10.0.5)" = 111 ] || fail "the agent's connection was not accepted (expected a reset)"
[ "$(legacy_from 10.30.0.7)" != 111 ] || fail "a source outside the group got through"
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
[ "$(legacy_from 10.10.0.5)" != 111 ] || fail "the legacy port is still open after the gate flipped"
echo "ok: seen sets record real connections and survive re-applies"
