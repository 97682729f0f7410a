#!/bin/bash
# seen_read.sh: how long reading the seen sets takes (`nftpolicy migration
# status`), side by side with `nft -j list set` of the same set. In a fresh
# network namespace: apply a one-gate policy, fill its IPv4 seen set with N
# addresses (default 65,536) with `nft add element` in one bulk command, each
# with a different remaining time, then alternate
#   nft    = nft -j list set inet nftpolicy seen_m.g_v4
#   status = nftpolicy migration status --json (policy load + compile +
#            counters + both seen sets, sorted, every address rendered)
#   text   = nftpolicy migration status (the same read; 20 addresses shown)
# REPS times and report the medians of wall time, CPU and peak RSS.
#
# usage: bench/seen_read.sh [--entries N] [--reps N] [--build DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
entries=65536
reps=5
build="$root/build-bench"
die() { echo "seen_read.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --entries) entries=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (unshare -n)"
source "$root/tests/support/netns.sh"
netns_enter "$0" --entries "$entries" --reps "$reps" --build "$build"
nftpolicy="$build/daemon/nftpolicy"
[ -x "$nftpolicy" ] || die "no $nftpolicy (cmake -B $build -DCMAKE_BUILD_TYPE=Release && ninja -C $build nftpolicy)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -o "$work/rusage" "$here/rusage.c" || die "cannot compile bench/rusage.c"

cat >"$work/site.toml" <<EOT
[groups]
agents = ["10.0.0.0/8"]
handler = ["192.0.2.1"]
[services]
old = { tcp = [17000] }
[migrations.m]
gates = ["g"]
phase = "coexist"
seen_size = $((entries * 2))
[[flows]]
id = "old"
from = "agents"
to = "handler"
services = ["old"]
retired_by = "m.g"
[hosts.h]
roles = ["handler"]
EOT
"$nftpolicy" apply "$work/site.toml" --lock "$work/lock" --state-dir "$work/state" >/dev/null
set=seen_m.g_v4
python3 - "$entries" >"$work/fill.nft" <<'PY'
import sys
n = int(sys.argv[1])
elems = ", ".join(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} expires {3600 + i}s" for i in range(n))
print("add element inet nftpolicy seen_m.g_v4 { " + elems + " }")
PY
nft -f "$work/fill.nft"
have=$(nft -j list set inet nftpolicy "$set" | python3 -c 'import json,sys; print(len([i for i in json.load(sys.stdin)["nftables"] if "set" in i][0]["set"]["elem"]))')
[ "$have" = "$entries" ] || die "the set holds $have elements, expected $entries"

: >"$work/nft.txt"
: >"$work/status.txt"
: >"$work/text.txt"
for _ in $(seq "$reps"); do
    "$work/rusage" "$work/nft.txt" nft -j list set inet nftpolicy "$set"
    "$work/rusage" "$work/status.txt" "$nftpolicy" migration status "$work/site.toml" --json --state-dir "$work/state"
    "$work/rusage" "$work/text.txt" "$nftpolicy" migration status "$work/site.toml" --state-dir "$work/state"
done
listed=$("$nftpolicy" migration status "$work/site.toml" --json --state-dir "$work/state" |
         python3 -c 'import json,sys; print(len(json.load(sys.stdin)["migrations"][0]["gates"][0]["users"]))')
[ "$listed" = "$entries" ] || die "migration status listed $listed addresses, expected $entries"

median() {  # median FILE COLUMN
    cut -d' ' -f"$2" "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
cpu() { awk '{ print $2 + $3 }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "entries $entries, $reps repetitions, medians"
printf '%-40s %8s %8s %10s\n' command "wall s" "cpu s" "rss MiB"
for t in nft status text; do
    name="nft -j list set"
    [ $t = status ] && name="nftpolicy migration status --json"
    [ $t = text ] && name="nftpolicy migration status (text)"
    printf '%-40s %8.3f %8.3f %10.1f\n' "$name" "$(median "$work/$t.txt" 1)" "$(cpu "$work/$t.txt")" \
        "$(echo "$(median "$work/$t.txt" 4) / 1024" | awk '{ print $1 / $3 }')"
done
