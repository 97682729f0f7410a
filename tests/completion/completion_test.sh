#!/bin/bash
# Bash completion (contrib/completion/nftpolicy.bash): sources it, drives
# _nftpolicy with COMP_WORDS/COMP_CWORD as bash would, and compares COMPREPLY
# with what the built binary and a policy declare: commands, options, hosts,
# phases, gates and migrations (through `nftpolicy check --list`), files.
# Runs twice: in plain bash, and with the bash-completion package's helpers
# (_init_completion, _filedir) loaded (Debian's bash-completion, from deps.sh).
# Usage: completion_test.sh NFTPOLICY SOURCE_DIR
set -uo pipefail
bin=$(readlink -f "$1") src=$(readlink -f "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/profiles" "$work/state.d"
cat >"$work/profiles/vendor.toml" <<'TOML'
[migrations.m]
gates = ["g1", "g2"]
TOML
cat >"$work/site.toml" <<'TOML'
include = ["vendor"]
[groups]
a = ["10.0.0.1"]
b = ["10.0.0.2"]
[services]
web = { tcp = [443] }
[[flows]]
id = "f"
from = "a"
to = "b"
services = ["web"]
[migrations.other]
gates = ["x"]
[hosts.h1]
roles = ["b"]
[hosts.h2]
roles = ["b"]
TOML
cd "$work" || exit 1

run_case() {  # run_case "LINE" "EXPECTED WORDS": completes at the end of LINE, or at its word "@"
    local line=$1 expected=$2 got i
    # A cursor inside the line: bash-completion re-splits COMP_LINE, which a
    # harness cannot reproduce for a cursor between two spaces; plain bash only.
    [[ "$line" == *" @ "* && $mode != plain ]] && return
    read -r -a COMP_WORDS <<<"$line"
    [[ "$line" == *" " ]] && COMP_WORDS+=("")
    COMP_WORDS[0]=$bin
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    for i in "${!COMP_WORDS[@]}"; do
        [ "${COMP_WORDS[i]}" = @ ] && COMP_WORDS[i]="" COMP_CWORD=$i
    done
    # What bash would set: the line as typed (with the binary's path), the
    # cursor at the end of the word being completed.
    COMP_LINE="${COMP_WORDS[*]}"
    local upto=("${COMP_WORDS[@]:0:COMP_CWORD+1}")
    COMP_POINT=${#upto[*]}
    COMP_POINT=$(printf '%s' "${upto[*]}" | wc -c)
    COMPREPLY=()
    _nftpolicy nftpolicy "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    got=$(printf '%s\n' "${COMPREPLY[@]}" | sed 's|/$||' | sort | tr '\n' ' ' | sed 's/ $//')
    expected=$(tr ' ' '\n' <<<"$expected" | sort | tr '\n' ' ' | sed 's/ $//')
    if [ "$got" = "$expected" ]; then
        passes=$((passes + 1))
    else
        echo "FAIL [$mode] '$line': expected '$expected', got '$got'"
        failures=$((failures + 1))
    fi
}

all_cases() {
    run_case "nftpolicy " "check compile apply diff status migration reload matrix metrics confirm rollback"
    run_case "nftpolicy mi" "migration"
    run_case "nftpolicy migration " "status complete reopen set-phase"
    run_case "nftpolicy apply --h" "--help --host"
    run_case "nftpolicy status --" "--help --table --json --lock --lock-timeout --state-dir"
    run_case "nftpolicy apply -I profiles site.toml --host " "h1 h2"
    run_case "nftpolicy apply site.toml -I profiles --host h" "h1 h2"
    run_case "nftpolicy compile -I profiles site.toml --gates " "m.g1 m.g2 other.x"
    run_case "nftpolicy compile -I profiles site.toml --gates m." "m.g1 m.g2"
    run_case "nftpolicy diff -I profiles site.toml --phase " \
        "legacy coexist final m=legacy m=coexist m=final other=legacy other=coexist other=final"
    run_case "nftpolicy diff -I profiles site.toml --phase co" "coexist"
    run_case "nftpolicy migration complete @ -I profiles site.toml" "m.g1 m.g2 other.x"
    run_case "nftpolicy migration reopen -I profiles @ site.toml" "m.g1 m.g2 other.x"
    run_case "nftpolicy migration complete m.g1 si" "site.toml"
    run_case "nftpolicy migration set-phase @ site.toml -I profiles" "m other"
    run_case "nftpolicy migration status -I profiles site.toml --host " "h1 h2"
    run_case "nftpolicy migration set-phase -I profiles m @ site.toml" "legacy coexist final"
    run_case "nftpolicy check --list " "hosts migrations gates groups services flows"
    run_case "nftpolicy apply site.toml --state-dir sta" "state.d"
    run_case "nftpolicy check si" "site.toml"
    run_case "nftpolicy apply --phase " "legacy coexist final"   # no policy file: phases only
    run_case "nftpolicy apply site.toml --confirm " "30 60 90s 2m 5m"
    run_case "nftpolicy apply --con" "--confirm"
    run_case "nftpolicy rollback --" "--help --if-pending --lock --lock-timeout --state-dir --runtime-dir"
    run_case "nftpolicy confirm --" "--help --lock --lock-timeout --state-dir --runtime-dir"
    run_case "nftpolicy confirm --runtime-dir sta" "state.d"
}
passes=0 failures=0
mode=plain
# shellcheck source=contrib/completion/nftpolicy.bash
source "$src/contrib/completion/nftpolicy.bash"
all_cases
# --help is run once per command path and binary: a counting wrapper, two
# TABs on `migration complete` (the walk needs the root, migration and
# migration complete), then a newer binary (mtime) is asked again.
cat >"$work/counting" <<SH
#!/bin/sh
[ "\$1" = check ] || echo x >>"$work/calls"
exec "$bin" "\$@"
SH
chmod +x "$work/counting"
bin_real=$bin bin=$work/counting
run_case "nftpolicy migration complete @ -I profiles site.toml" "m.g1 m.g2 other.x"
run_case "nftpolicy migration complete @ -I profiles site.toml" "m.g1 m.g2 other.x"
calls=$(wc -l <"$work/calls")
[ "$calls" = 3 ] || { echo "FAIL: --help ran $calls times for two TABs, expected 3 (cached)"; failures=$((failures + 1)); }
touch -d '+1 minute' "$work/counting"
run_case "nftpolicy migration " "status complete reopen set-phase"
calls=$(wc -l <"$work/calls")
[ "$calls" = 5 ] || { echo "FAIL: a newer binary: --help ran $calls times in all, expected 5"; failures=$((failures + 1)); }
bin=$bin_real
[ -r /usr/share/bash-completion/bash_completion ] ||
    { echo "FAIL: no bash-completion: run contrib/scripts/deps.sh"; exit 1; }
mode=bash-completion
# shellcheck disable=SC1091
source /usr/share/bash-completion/bash_completion
source "$src/contrib/completion/nftpolicy.bash"
all_cases
[ "$(complete -p nftpolicy)" = "complete -F _nftpolicy nftpolicy" ] || { echo "FAIL: not registered"; failures=$((failures + 1)); }
echo "$passes passed, $failures failed"
[ "$failures" = 0 ]
