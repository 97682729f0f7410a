#!/bin/bash
# Evidence and refusal, through the CLI and real traffic: connections from
# agents (IPv4 and IPv6) to the legacy port appear in `migration status`
# with a plausible last-seen time, newest first, while an outsider never
# appears; `migration complete` is refused (exit 7, addresses listed,
# kernel and state unchanged) while they are recent, goes through with
# --force (saying what it overrode) or once the window (the migration's
# quiet_for, or --quiet-for) has passed, removes
# exactly the legacy flow and its seen sets, and `reopen` brings them back.
# Usage: migration_evidence.sh NFTPOLICY
bin=$1
source "$(dirname "$0")/migration_lib.sh"
mig_enter "$0" "$@"
mig_setup

# The same site with a 2m and an 8s window (quiet_for is not in the ruleset).
# Windows are wide enough for a loaded 2-core CI machine: a step of this
# test can take seconds there.
write_policy "$work/site.toml" 'seen_timeout = "5m"' 'quiet_for = "2m"'
write_policy "$work/short.toml" 'seen_timeout = "5m"' 'quiet_for = "8s"'
gate=m.agents-migrated

# --- the phase lives in the state: apply --phase records it, a plain apply
# keeps it over the policy file's, set-phase changes it and applies ---
nftp apply "$work/site.toml" --phase legacy >/dev/null
grep -qx "phase m legacy [0-9]*" "$work/state/migrations" || fail "apply --phase did not record: $(cat "$work/state/migrations")"
nftp apply "$work/site.toml" >/dev/null
[[ "$(nft list table inet nftpolicy)" != *in_tcp_443* ]] || fail "a plain apply did not keep the recorded phase legacy"
nftp diff "$work/site.toml" >/dev/null || fail "diff does not read the recorded phase"
[[ "$(nftp migration status "$work/site.toml")" == *"phase legacy (state)"* ]] || fail "status does not say the phase comes from the state"
nftp migration set-phase m coexist "$work/site.toml" >/dev/null
grep -qx "phase m coexist [0-9]*" "$work/state/migrations" || fail "set-phase did not record: $(cat "$work/state/migrations")"
[[ "$(nft list table inet nftpolicy)" == *in_tcp_443* ]] || fail "set-phase coexist did not apply the new flow"

[ "$(connect_from 10.30.0.7 10.20.0.11 17000)" != 111 ] || fail "outsider (v4) got through"
[ "$(connect_from fd00:30::7 fd00:20::11 17000)" != 111 ] || fail "outsider (v6) got through"
[ "$(connect_from 10.10.0.5 10.20.0.11 443)" = 111 ] || fail "agent not let through to the new port"
[ "$(connect_from 10.10.0.5 10.20.0.11 17000)" = 111 ] || fail "agent (v4) not let through to the legacy port"
sleep 1.2
[ "$(connect_from fd00:10::5 fd00:20::11 17000)" = 111 ] || fail "agent (v6) not let through to the legacy port"

# --- status: JSON ---
nftp migration status "$work/site.toml" --json >"$work/status.json"
python3 - "$work/status.json" <<'PY' || fail "migration status --json: $(cat "$work/status.json")"
import json, sys, time
doc = json.load(open(sys.argv[1]))
assert doc["version"] == 1 and doc["table"] == "nftpolicy" and doc["table_present"], doc
now = time.time()
assert abs(doc["now"] - now) < 10, doc["now"]
(m,) = doc["migrations"]
assert m["name"] == "m" and m["phase"] == "coexist" and m["phase_from"] == "state", m
assert m["quiet_for"] == 120 and m["seen_timeout"] == 300, m
(g,) = m["gates"]
assert g["gate"] == "m.agents-migrated" and not g["flipped"], g
assert g["verdict"] == "recent-users" and g["safe_to_flip"] is False, g
assert g["evidence_complete"] is True and g["full_sets"] == [], g
assert sorted(g["seen_sets"]) == ["seen_m.agents-migrated_v4", "seen_m.agents-migrated_v6"], g
(flow,) = g["flows"]
assert flow["id"] == "old" and flow["present"] and flow["packets"] >= 2 and flow["bytes"] > 0, flow
users = g["users"]
addrs = [u["address"] for u in users]
assert addrs == ["fd00:10::5", "10.10.0.5"], addrs          # newest first
for u in users:
    assert u["idle_seconds"] <= 90 and abs(u["last_seen"] - (doc["now"] - u["idle_seconds"])) <= 1, u
    assert u["recent"] is True, u
assert users[1]["idle_seconds"] >= users[0]["idle_seconds"], users
assert users[0]["family"] == "ipv6" and users[1]["family"] == "ipv4", users
assert g["recent"] == 2, g
PY

# --- status: text, 80 columns, one verdict line per gate ---
text=$(nftp migration status "$work/site.toml")
echo "$text" | awk 'length > 80 { bad = 1; print "too wide: " $0 } END { exit bad }' >&2 || fail "status wider than 80 columns"
[[ "$text" == *"gate agents-migrated: NOT safe to flip: 2 addresses used it within 2m"* ]] || fail "no verdict line: $text"
[[ "$text" == *"10.10.0.5"*"last seen"* ]] || fail "agent not listed: $text"
if [[ "$text" == *10.30.0.7* || "$text" == *fd00:30::7* ]]; then fail "an outsider appears: $text"; fi

# --- complete is refused while they are recent: exit 7, nothing changed ---
before=$(table_fingerprint)
state_before=$(cat "$work/state/migrations")
set +e
refused=$(nftp migration complete "$gate" "$work/site.toml" 2>&1)
rc=$?
set -e
[ "$rc" = 7 ] || fail "complete with recent users: exit $rc, expected 7: $refused"
[[ "$refused" == *"refused"*"10.10.0.5"*"fd00:10::5"* || "$refused" == *"refused"*"fd00:10::5"*"10.10.0.5"* ]] ||
    fail "the refusal does not list the addresses: $refused"
[ "$(table_fingerprint)" = "$before" ] || fail "a refused complete changed the kernel"
[ "$(cat "$work/state/migrations")" = "$state_before" ] || fail "a refused complete changed the state: $(cat "$work/state/migrations")"

# --- dry run: what would go, nothing changed ---
dry=$(nftp migration complete "$gate" "$work/site.toml" --force --dry-run)
[[ "$dry" == *"flow_old"* && "$dry" == *"seen_m.agents-migrated_v4"* && "$dry" == *"nothing was changed"* ]] ||
    fail "dry run does not say what would be removed: $dry"
[ "$(table_fingerprint)" = "$before" ] || fail "a dry run changed the kernel"

# --- --force: goes through, says what it overrode, removes exactly the legacy flow ---
new_before=$(nft list counter inet nftpolicy flow_new | sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p')
forced=$(nftp migration complete "$gate" "$work/site.toml" --force)
[[ "$forced" == *"forced: overrode: 2 addresses used flows retired by m.agents-migrated within 2m"* ]] ||
    fail "--force does not say what it overrode: $forced"
after=$(nft list table inet nftpolicy)
if [[ "$after" =~ seen_|flow_old|17000 ]]; then fail "the legacy flow or a seen set is left: $after"; fi
[[ "$after" == *"flow_new"* && "$after" == *"in_tcp_443"* ]] || fail "the new flow went too: $after"
[ "$(nft list counter inet nftpolicy flow_new | sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p')" = "$new_before" ] ||
    fail "the new flow's counter changed"
grep -qx "gate m.agents-migrated flipped [0-9]*" "$work/state/migrations" || fail "state: $(cat "$work/state/migrations")"
[ "$(connect_from 10.10.0.5 10.20.0.11 17000)" != 111 ] || fail "legacy port still open after complete"
[[ "$(nftp migration status "$work/site.toml")" == *"gate agents-migrated: flipped (state, "* ]] || fail "status after flip"

# --- reopen: the legacy rules and empty seen sets come back ---
nftp migration reopen "$gate" "$work/site.toml" >/dev/null
reopened=$(nft list table inet nftpolicy)
[[ "$reopened" == *"flow_old"* && "$reopened" == *"seen_m.agents-migrated_v6"* ]] || fail "reopen: $reopened"
[[ "$(nft list set inet nftpolicy seen_m.agents-migrated_v4)" != *expires* ]] || fail "reopened seen set not empty"
grep -qx "gate m.agents-migrated open [0-9]*" "$work/state/migrations" || fail "state: $(cat "$work/state/migrations")"

# --- after the window (8s in short.toml), complete goes through without --force ---
[ "$(connect_from 10.10.0.5 10.20.0.11 17000)" = 111 ] || fail "legacy port closed after reopen"
set +e
nftp migration complete "$gate" "$work/short.toml" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 7 ] || fail "complete right after a new connection: exit $rc, expected 7"
set +e
nftp migration complete "$gate" "$work/short.toml" --quiet-for 0s >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 0 ] || fail "--quiet-for 0s: exit $rc, expected 0"
nftp migration reopen "$gate" "$work/short.toml" >/dev/null
[ "$(connect_from 10.10.0.5 10.20.0.11 17000)" = 111 ] || fail "legacy port closed after the second reopen"
sleep 8.5
set +e
long=$(nftp migration complete "$gate" "$work/short.toml" --quiet-for 1h 2>&1)
rc=$?
set -e
[ "$rc" = 7 ] || fail "--quiet-for 1h after 8.5s: exit $rc, expected 7: $long"
[[ "$long" == *"within 1h"* ]] || fail "--quiet-for not applied: $long"
nftp migration complete "$gate" "$work/short.toml" >/dev/null || fail "complete after the 8s window was refused"
echo "ok: evidence from real connections; refusal, --force, window and reopen"
