#!/bin/bash
# `nftpolicy metrics --textfile DIR` after an apply in a scratch namespace
# with real traffic, read back with python3-prometheus-client's parser (the
# format node_exporter's textfile collector reads): per-flow packets and
# bytes match the kernel's counters (`nft`), legacy users per gate, the last
# apply's time, in-sync and policy errors; then an invalid policy is counted
# as errors while the counters are still reported, and the file is replaced
# atomically (no temporary file left, never a partial file).
# Usage: metrics.sh NFTPOLICY PYTHON
bin=$1 python=${2:-/usr/bin/python3}
# Debian's python3 first: the lib's probes run python3 under a 5 s timeout, which a
# python3 wrapper (pyenv) on a loaded machine can exceed before connecting.
export PATH=/usr/bin:$PATH
source "$(dirname "$0")/migration_lib.sh"
mig_enter "$0" "$@"
"$python" -c 'import prometheus_client' 2>/dev/null ||
    fail "no python3-prometheus-client for $python: run contrib/scripts/deps.sh"
mig_setup
write_policy "$work/site.toml"
prom=$work/textfile
nftp apply "$work/site.toml" --phase coexist >/dev/null
applied_at=$(date +%s)
for _ in 1 2 3; do
    [ "$(connect_from 10.10.0.5 10.20.0.11 17000)" = 111 ] || fail "legacy connection not let through"
done
[ "$(connect_from fd00:10::5 fd00:20::11 443)" = 111 ] || fail "new-port connection not let through"
nftp metrics "$work/site.toml" --textfile "$prom" || fail "metrics --textfile failed"
nft -j list counters table inet nftpolicy >"$work/counters.json"

check() {  # check FILE EXPECTATIONS (python, with `m`: {(name, labels...): value})
    "$python" - "$1" "$work/counters.json" "$applied_at" <<PY || fail "$1: $(cat "$1")"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
path, counters, applied_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
m, types = {}, {}
for fam in text_string_to_metric_families(open(path).read()):
    types[fam.name] = fam.type
    for s in fam.samples:
        m[(s.name, tuple(sorted(s.labels.items())))] = s.value
def get(name, **labels):
    return m[(name, tuple(sorted(labels.items())))]
kernel = {c["counter"]["name"]: c["counter"] for c in json.load(open(counters))["nftables"] if "counter" in c}
$2
PY
}

check "$prom/nftpolicy.prom" '
for flow in ("old", "new"):
    k = kernel["flow_" + flow]
    assert get("nftpolicy_flow_packets_total", host="h", table="nftpolicy", flow=flow) == k["packets"], flow
    assert get("nftpolicy_flow_bytes_total", host="h", table="nftpolicy", flow=flow) == k["bytes"], flow
assert kernel["flow_old"]["packets"] >= 3 and kernel["flow_new"]["packets"] >= 1, kernel
assert types["nftpolicy_flow_packets"] == "counter", types     # the parser drops _total from the family
g = dict(host="h", migration="m", gate="m.agents-migrated")
assert get("nftpolicy_legacy_users", **g) == 1 and get("nftpolicy_legacy_users_recent", **g) == 1, m
assert get("nftpolicy_gate_flipped", **g) == 0 and get("nftpolicy_gate_safe_to_flip", **g) == 0, m
t = dict(host="h", table="nftpolicy")
assert abs(get("nftpolicy_last_apply_timestamp_seconds", **t) - applied_at) <= 5, m
assert get("nftpolicy_table_present", **t) == 1 and get("nftpolicy_in_sync", **t) == 1, m
assert get("nftpolicy_policy_errors", **t) == 0, m
print("PASS flow counters equal the kernel counters; 1 legacy user on m.agents-migrated; last apply, in sync, 0 errors")
'

# An invalid policy: counted, and the kernel's counters still reported.
printf '[groups]\nagents = ["10.10.0.0/16"\n' >"$work/broken.toml"
nftp metrics "$work/broken.toml" --textfile "$prom" 2>/dev/null || fail "metrics failed on an invalid policy"
check "$prom/nftpolicy.prom" '
t = dict(host="h", table="nftpolicy")
assert get("nftpolicy_policy_errors", **t) >= 1, m
assert ("nftpolicy_in_sync", tuple(sorted(t.items()))) not in m, m
assert get("nftpolicy_flow_packets_total", flow="old", **t) >= 3, m
assert not any(k[0] == "nftpolicy_legacy_users" for k in m), m
print("PASS an invalid policy: policy_errors >= 1, no in_sync, flow counters still there")
'
[ "$(ls -A "$prom")" = nftpolicy.prom ] || fail "left in the textfile directory: $(ls -A "$prom")"

# Atomic replacement: a reader polling the file while metrics rewrites it
# 20 times never finds it missing or cut short (the last family, the gates,
# always ends it). The file starts as a valid policy's: the invalid policy's
# file above legitimately ends otherwise, and an ASan build is slow enough to
# let the reader see it before the first rewrite.
nftp metrics "$work/site.toml" --textfile "$prom" || fail "metrics write failed"
"$python" - "$prom/nftpolicy.prom" "$work/stop" >"$work/reader.log" 2>&1 <<'PY' &
import os, sys, time
path, stop = sys.argv[1:]
end = time.time() + 60
reads = bad = 0
while not os.path.exists(stop) and time.time() < end:
    try:
        text = open(path).read()
        lines = text.splitlines()
        ok = text.endswith("\n") and lines[-1].startswith("nftpolicy_gate_safe_to_flip{")
    except FileNotFoundError:
        ok = False
    reads += 1
    bad += not ok
print(reads, bad)
PY
reader=$!
for _ in $(seq 20); do nftp metrics "$work/site.toml" --textfile "$prom" || fail "metrics rewrite failed"; done
touch "$work/stop"
wait "$reader"
read -r reads bad <"$work/reader.log"
[ "$bad" = 0 ] && [ "$reads" -gt 0 ] || fail "the reader saw $bad missing or partial files in $reads reads"
[ "$(ls -A "$prom")" = nftpolicy.prom ] || fail "left in the textfile directory: $(ls -A "$prom")"
echo "PASS 20 rewrites while a reader read it $reads times: never missing or partial, no temporary left"
