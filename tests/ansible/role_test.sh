#!/bin/bash
# The Ansible role and the fleet migration plays, for real: ansible-playbook
# -c local drives two "hosts", h1 and h2, each a scratch network namespace
# (the nftpolicy commands run in it through nsenter) with its own
# configuration and state directories; this script's own fresh namespace is
# the agent, joined to h1 by a veth pair. Nothing touches the machine's own
# ruleset or /etc.
#   1. site.yml renders the site TOML from the inventory (inventory groups ->
#      address groups, roles, services, migration), validated by `nftpolicy
#      check`; hostile values round-trip through tomllib; the policy is
#      applied in both namespaces. A second run reports changed=0.
#   2. A template that `check` refuses fails the play; the old file and the
#      kernel stay as they were.
#   3. migration-phase.yml moves both hosts to coexist (then changed=0).
#   4. With a recent legacy user on h1 (quiet_for 15s), migration-flip.yml fails its assert
#      and no host flips; once quiet_for has passed, it flips the gate on both
#      hosts at once, and a second run changes nothing.
#   5. Safe mode (nftpolicy_confirm): a changed policy goes in with
#      `apply --confirm` and the role confirms it over a new connection (it
#      stays past the deadline); the same play with the confirm task skipped
#      (as when the policy cut the connection) leaves the change pending, and
#      the deadline restores the last confirmed ruleset.
#   6. A reload that fails fails the play: a policy that narrows the
#      management group is refused by the lockout guard, the kernel unchanged.
# Usage: role_test.sh NFTPOLICY SOURCE_DIR PYTHON
set -euo pipefail
bin=$(readlink -f "$1") src=$(readlink -f "$2") python=${3:-/usr/bin/python3}
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (network namespaces)" >&2; exit 77; fi
command -v ansible-playbook >/dev/null ||
    { echo "FAIL: no ansible-playbook: run contrib/scripts/deps.sh (ansible-core)" >&2; exit 1; }
if [ "${NFTPOLICY_IN_NETNS:-}" != 1 ]; then NFTPOLICY_IN_NETNS=1 exec unshare -n "$0" "$@"; fi

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "PASS $*"; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
unshare -n sleep 600 >/dev/null 2>&1 &
h1=$!
unshare -n sleep 600 >/dev/null 2>&1 &
h2=$!
pids=("$h1" "$h2")
for p in $h1 $h2; do
    for _ in $(seq 50); do [ "$(readlink /proc/"$p"/ns/net)" != "$(readlink /proc/self/ns/net)" ] && break; sleep 0.1; done
    nsenter -t "$p" -n ip link set lo up
done
ip link set lo up
ip link add veth-agent type veth peer name veth-h1
ip link set veth-h1 netns "$h1"
ip addr add 10.10.0.5/16 dev veth-agent && ip link set veth-agent up && ip route add 10.20.0.0/16 dev veth-agent
nsenter -t "$h1" -n sh -c 'ip addr add 10.20.0.11/16 dev veth-h1 && ip link set veth-h1 up &&
    ip route add 10.10.0.0/16 dev veth-h1'

# The inventory, written as JSON (which is YAML) so that the hostile comment
# reaches Ansible byte for byte.
hostile=$'ops "night" # shift \\ ]] [[flows]]\nsecond line'
export HOSTILE=$hostile
"$python" - "$work" "$bin" "$h1" "$h2" >"$work/inventory.yml" <<'PY'
import json, os, sys
work, binary, h1, h2 = sys.argv[1:]
def host(name, pid, address):
    return {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3",
            "nftpolicy_addresses": [address],
            "nftpolicy_command": f"nsenter -t {pid} -n {binary}",
            "nftpolicy_config_dir": f"{work}/{name}/etc", "nftpolicy_state_dir": f"{work}/{name}/state",
            "nftpolicy_lock": f"{work}/{name}/lock", "nftpolicy_extra_args": f"--host {name}"}
inventory = {"all": {
    "vars": {
        "nftpolicy_install": False, "nftpolicy_reload_via": "apply",
        "nftpolicy_inventory_groups": {"agents": "agents", "agent_handler": "handlers"},
        "nftpolicy_groups": {"admins": {"addresses": ["10.30.0.0/24"], "comment": os.environ["HOSTILE"]}},
        "nftpolicy_services": {"msrpc": {"tcp": [17000]}, "https": {"tcp": [443], "comment": "new # port"}},
        "nftpolicy_migrations": {"m": {"gates": ["agents-migrated"], "quiet_for": "15s", "seen_timeout": "1m"}},
        "nftpolicy_management": {"from": "admins"},
        "nftpolicy_flows": [
            {"id": "old", "from": "agents", "to": "agent_handler", "services": ["msrpc"],
             "retired_by": "m.agents-migrated"},
            {"id": "new", "from": "agents", "to": "agent_handler", "services": ["https"], "introduced_by": "m"}]},
    "children": {
        "agents": {"hosts": {"agent1": {"nftpolicy_addresses": ["10.10.0.5"]}}},
        "handlers": {"hosts": {"h1": host("h1", h1, "10.20.0.11"), "h2": host("h2", h2, "10.20.0.12")}},
        "nftpolicy_fleet": {"hosts": {"h1": {}, "h2": {}}}}}}
print(json.dumps(inventory, indent=1))
PY

export ANSIBLE_LOCAL_TEMP=$work/ansible-tmp ANSIBLE_REMOTE_TEMP=$work/ansible-tmp ANSIBLE_NOCOLOR=1 \
       ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_CONFIG=$work/ansible.cfg HOME=$work
touch "$work/ansible.cfg"
play() {  # play NAME PLAYBOOK [ARGS...]: runs it, output in $work/NAME.log; returns its exit code
    local name=$1 book=$2; shift 2
    local rc=0
    ansible-playbook -i "$work/inventory.yml" "$src/contrib/ansible/$book" "$@" >"$work/$name.log" 2>&1 || rc=$?
    return $rc
}
changed() {  # changed LOG HOST -> the changed= count of HOST in the PLAY RECAP
    sed -n "s/^$2 *: .*changed=\([0-9]*\).*/\1/p" "$1" | tail -1
}
in_h() { local p=$1; shift; nsenter -t "$p" -n "$@"; }
table() { in_h "$1" nft list table inet nftpolicy 2>/dev/null || echo absent; }

# --- 1. the site play, twice ---
play site1 site.yml || { cat "$work/site1.log"; fail "site.yml failed"; }
for h in h1 h2; do
    [ "$(changed "$work/site1.log" $h)" -ge 2 ] || { cat "$work/site1.log"; fail "$h: first run changed nothing"; }
done
for p in $h1 $h2; do [[ "$(table "$p")" == *flow_old* ]] || fail "the policy is not applied in namespace $p"; done
[ "$(nft list tables)" = "" ] || fail "the agent namespace got a table"
pass "site.yml rendered, validated and applied the site policy on h1 and h2"
"$python" - "$work/h1/etc/site.toml" <<'PY' || fail "the rendered TOML does not round-trip: $(cat "$work/h1/etc/site.toml")"
import os, sys, tomllib
doc = tomllib.load(open(sys.argv[1], "rb"))
assert doc["groups"]["admins"]["comment"] == os.environ["HOSTILE"], doc["groups"]["admins"]
assert doc["groups"]["agents"] == ["10.10.0.5"], doc["groups"]
assert doc["groups"]["agent_handler"] == ["10.20.0.11", "10.20.0.12"], doc["groups"]
assert doc["hosts"] == {"h1": {"roles": ["agent_handler"]}, "h2": {"roles": ["agent_handler"]}}, doc["hosts"]
assert [f["id"] for f in doc["flows"]] == ["old", "new"], doc["flows"]
assert doc["services"]["https"] == {"tcp": [443], "comment": "new # port"}, doc["services"]
PY
cmp -s "$work/h1/etc/site.toml" "$work/h2/etc/site.toml" || fail "h1 and h2 got different site files"
pass "inventory values (quotes, #, backslash, ]], newline) round-trip through tomllib; one file for the fleet"
play site2 site.yml || { cat "$work/site2.log"; fail "second site.yml run failed"; }
for h in h1 h2; do
    [ "$(changed "$work/site2.log" $h)" = 0 ] || { cat "$work/site2.log"; fail "$h: second run changed something"; }
done
pass "second run: changed=0 on both hosts"

# --- 2. a template check refuses ---
cp "$work/h1/etc/site.toml" "$work/site.before"
before=$(table "$h1")
if play bad site.yml -e '{"nftpolicy_flows": [{"id": "x", "from": "nosuchgroup", "to": "agent_handler", "services": ["https"]}]}'; then
    fail "a policy with an unknown group was deployed"
fi
grep -q "unknown group\|nosuchgroup" "$work/bad.log" || { cat "$work/bad.log"; fail "the failure does not say why"; }
cmp -s "$work/site.before" "$work/h1/etc/site.toml" || fail "the refused template replaced the site file"
[ "$(table "$h1")" = "$before" ] || fail "the refused template changed the kernel"
pass "validate: refused template fails the play, old file and kernel unchanged"

# --- 3. the whole fleet to coexist ---
play phase1 migration-phase.yml -e nftpolicy_migration=m -e nftpolicy_phase=coexist ||
    { cat "$work/phase1.log"; fail "migration-phase.yml failed"; }
for p in $h1 $h2; do [[ "$(table "$p")" == *flow_new* ]] || fail "namespace $p is not in phase coexist"; done
play phase2 migration-phase.yml -e nftpolicy_migration=m -e nftpolicy_phase=coexist || fail "second phase run failed"
for h in h1 h2; do [ "$(changed "$work/phase2.log" $h)" = 0 ] || fail "$h: second phase run changed something"; done
pass "migration-phase.yml moved h1 and h2 to coexist; a second run changed nothing"

# --- 4. flip the gate fleet-wide, only without recent legacy users ---
rc=$(timeout 5 "$python" -c '
import socket; s = socket.socket(); s.settimeout(1); print(s.connect_ex(("10.20.0.11", 17000)))')
[ "$rc" = 111 ] || fail "the agent's legacy connection to h1 was not let through (connect: $rc)"
connected=$EPOCHREALTIME
if play flip1 migration-flip.yml -e nftpolicy_gate=m.agents-migrated; then cat "$work/flip1.log"; fail "the gate flipped with a recent user"; fi
grep -q "h1: recent-users (10.10.0.5)" "$work/flip1.log" || { cat "$work/flip1.log"; fail "the assert does not name h1's user"; }
for p in $h1 $h2; do [[ "$(table "$p")" == *flow_old* ]] || fail "namespace $p flipped although the play refused"; done
pass "migration-flip.yml refused: h1 has a recent legacy user (10.10.0.5); no host flipped"
# quiet_for is 15s: long enough for the refused play to run under load.
sleep "$(awk -v c="$connected" -v n="$EPOCHREALTIME" 'BEGIN { w = c + 15.5 - n; print (w > 0 ? w : 0) }')"
play flip2 migration-flip.yml -e nftpolicy_gate=m.agents-migrated || { cat "$work/flip2.log"; fail "flip failed"; }
for p in $h1 $h2; do
    t=$(table "$p")
    [[ "$t" != *flow_old* && "$t" == *flow_new* ]] || fail "namespace $p: the gate did not flip: $t"
done
for h in h1 h2; do [ "$(changed "$work/flip2.log" $h)" = 1 ] || fail "$h: the flip did not report changed=1"; done
play flip3 migration-flip.yml -e nftpolicy_gate=m.agents-migrated || fail "second flip run failed"
for h in h1 h2; do [ "$(changed "$work/flip3.log" $h)" = 0 ] || fail "$h: second flip run changed something"; done
play site3 site.yml || fail "site.yml after the flip failed"
for h in h1 h2; do [ "$(changed "$work/site3.log" $h)" = 0 ] || fail "$h: site.yml after the flip changed something"; done
pass "quiet_for passed: the gate flipped on h1 and h2 at once; flip and site plays then report changed=0"

# --- 5. safe mode: apply --confirm, confirmed over a new connection; or not confirmed ---
# Deadlines long enough for a loaded machine's play to reach its confirm task
# (a plain play here: about 6 s from the apply to the confirm).
confirm_deadline=30 unconfirmed_deadline=15
services() {  # services PORT... -> -e JSON for the https service on those ports
    local ports
    ports=$(IFS=,; echo "$*")
    echo "{\"nftpolicy_services\": {\"msrpc\": {\"tcp\": [17000]}, \"https\": {\"tcp\": [$ports]}}}"
}
started=$SECONDS
play safe1 site.yml -e nftpolicy_confirm=${confirm_deadline}s -e "$(services 443 8443)" ||
    { cat "$work/safe1.log"; fail "safe mode: site.yml failed"; }
grep -q 'TASK \[nftpolicy : Confirm the applied policy\]' "$work/safe1.log" ||
    { cat "$work/safe1.log"; fail "safe mode: no confirm task ran"; }
for p in $h1 $h2; do [[ "$(table "$p")" == *8443* ]] || fail "safe mode: namespace $p does not hold tcp/8443"; done
declare -A confirmed=([$h1]="$(table "$h1")" [$h2]="$(table "$h2")")
wait=$((started + confirm_deadline + 2 - SECONDS))
[ "$wait" -gt 0 ] && sleep "$wait"
for p in $h1 $h2; do
    [ "$(table "$p")" = "${confirmed[$p]}" ] || fail "safe mode: the confirmed policy did not stay past the deadline"
done
in_h "$h1" "$bin" status --state-dir "$work/h1/state" --lock "$work/h1/lock" | grep -q "confirmation: PENDING" &&
    fail "safe mode: a confirmation is still pending after the confirm task"
pass "safe mode: apply --confirm ${confirm_deadline}s, confirmed over a new connection; the policy stays past the deadline"
play safe2 site.yml -e nftpolicy_confirm=${unconfirmed_deadline}s -e "$(services 443 9443)" --skip-tags nftpolicy_confirm ||
    { cat "$work/safe2.log"; fail "safe mode without the confirm: site.yml failed"; }
[[ "$(table "$h1")" == *9443* ]] || fail "safe mode: the unconfirmed policy was not applied"
in_h "$h1" "$bin" status --state-dir "$work/h1/state" --lock "$work/h1/lock" | grep -q "confirmation: PENDING" ||
    fail "safe mode: status shows no pending confirmation"
# Back within the deadline (counted from each host's apply) + 2 s.
deadline=$(in_h "$h2" "$bin" status --json --state-dir "$work/h2/state" --lock "$work/h2/lock" |
    "$python" -c 'import json, sys; print(json.load(sys.stdin)["confirmation"]["deadline"])')
end=$((deadline + 2))
for p in $h1 $h2; do
    while [ "$(table "$p")" != "${confirmed[$p]}" ] && [ "$(date +%s)" -le $end ]; do sleep 0.2; done
    [ "$(table "$p")" = "${confirmed[$p]}" ] || fail "namespace $p: no rollback to the confirmed policy: $(table "$p")"
done
pass "safe mode, confirm never ran: the deadline restored the last confirmed ruleset on h1 and h2"

# --- 6. a reload that fails fails the play ---
before=$(table "$h1")
if play narrow site.yml -e "$(services 443 8443)" \
    -e '{"nftpolicy_groups": {"admins": {"addresses": ["10.30.0.0/25"]}}}'; then
    cat "$work/narrow.log"; fail "a policy that cuts management access was deployed"
fi
grep -q "cuts management access" "$work/narrow.log" && grep -q "10.30.0.128" "$work/narrow.log" ||
    { cat "$work/narrow.log"; fail "the failed play does not say what would be cut"; }
[ "$(table "$h1")" = "$before" ] || fail "the refused policy changed the kernel"
pass "a reload the lockout guard refuses (admins narrowed to 10.30.0.0/25) fails the play; kernel unchanged"
