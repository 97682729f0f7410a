#!/bin/bash
# Every JSON output validates against its schema in docs/schemas/, on real
# outputs: an apply in a scratch namespace, a legacy connection from an agent
# (so that migration status lists a user), then `status --json`, `diff
# --json` with and without differences, `migration status --json`, before
# and after a flip, with a pending and a rolled-back confirmation, and `matrix --format json` for coexist with the gate
# flipped and for legacy. Each schema must also reject a document with its version
# removed, so that a schema that accepts anything fails here.
# Usage: json_schemas.sh NFTPOLICY SOURCE_DIR PYTHON
bin=$1 src=$2 python=${3:-/usr/bin/python3}
# Debian's python3 first: the lib's probes run python3 under a 5 s timeout, which a
# python3 wrapper (pyenv) on a loaded machine can exceed before connecting.
export PATH=/usr/bin:$PATH
source "$(dirname "$0")/migration_lib.sh"
mig_enter "$0" "$@"
"$python" -c 'import jsonschema' 2>/dev/null ||
    fail "no python3-jsonschema for $python: run contrib/scripts/deps.sh"
mig_setup
write_policy "$work/site.toml" 'quiet_for = "1s"'
out=$work/out
mkdir -p "$out"
gate=m.agents-migrated

nftp diff "$work/site.toml" --json >"$out/diff-before.diff.json" && fail "diff found nothing before the first apply"
nftp apply "$work/site.toml" --phase coexist >/dev/null
[ "$(connect_from 10.10.0.5 10.20.0.11 17000)" = 111 ] || fail "the agent's legacy connection was not let through"
nftp status --json >"$out/applied.status.json"
nftp diff "$work/site.toml" --json >"$out/same.diff.json" || fail "diff after apply found differences"
nftp diff "$work/site.toml" --json --phase final >"$out/final.diff.json" && fail "diff --phase final found nothing"
nftp migration status "$work/site.toml" --json >"$out/recent.migration-status.json"
sleep 1.1
nftp migration complete "$gate" "$work/site.toml" >/dev/null || fail "the flip failed"
nftp migration status "$work/site.toml" --json >"$out/flipped.migration-status.json"
nftp status --json --table nosuchtable >"$out/absent.status.json"
# A pending confirmation, then the same rolled back (docs/confirm.md).
nftp apply "$work/site.toml" --confirm 60 --runtime-dir "$work/run" >"$work/armed" ||
    fail "apply --confirm: $(cat "$work/armed")"
nftp status --json >"$out/pending.status.json"
nftp rollback --runtime-dir "$work/run" >/dev/null || fail "rollback failed"
nftp status --json >"$out/rolled-back.status.json"
kill "$(sed -n 's/.*(waiter \([0-9]*\))$/\1/p' "$work/armed")" 2>/dev/null || true
NFTPOLICY_PATH= "$bin" matrix "$work/site.toml" --format json --phase coexist --gates "$gate" >"$out/flipped.matrix.json"
NFTPOLICY_PATH= "$bin" matrix "$work/site.toml" --format json --phase legacy >"$out/legacy.matrix.json"

"$python" - "$src/docs/schemas" "$out" <<'PY'
import glob, json, os, sys
import jsonschema
schemas, out = sys.argv[1:]
checked = 0
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    kind = os.path.basename(path).split(".")[1]           # NAME.KIND.json
    schema = json.load(open(os.path.join(schemas, kind + ".schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.load(open(path))
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["version"] == 1, path
    broken = {k: v for k, v in doc.items() if k != "version"}
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken), f"{kind} schema accepts a document without version"
    print(f"PASS {os.path.basename(path)} matches docs/schemas/{kind}.schema.json")
    checked += 1
recent = json.load(open(os.path.join(out, "recent.migration-status.json")))
users = recent["migrations"][0]["gates"][0]["users"]
assert [u["address"] for u in users] == ["10.10.0.5"], users   # the schema's user items were exercised
assert json.load(open(os.path.join(out, "applied.status.json")))["last_apply"]["phases"] == ["m=coexist"]
matrix = json.load(open(os.path.join(out, "flipped.matrix.json")))
assert matrix["flipped_gates"] == ["m.agents-migrated"] and matrix["migrations"][0]["steps"], matrix
assert json.load(open(os.path.join(out, "pending.status.json")))["confirmation"]["state"] == "pending"
assert json.load(open(os.path.join(out, "rolled-back.status.json")))["confirmation"]["reason"] == "nftpolicy rollback"
assert checked == 11, checked
PY
