#!/bin/bash
# drift.sh: drift repair latency and the cost of a re-apply after a foreign
# commit (bench/drift_bench.cpp), for generated SES-like policies of each
# size (bench/gen_policy.sh), each run in a fresh network namespace.
#
# usage: sudo bench/drift.sh [--sizes "100000 1000000"] [--reps N] [--build DIR] [--stale]
#   --stale   also time the re-apply whose known elements were not carried
#             (the kernel's set dump: minutes at 1M, so only below 1M)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
sizes="100000 1000000"
reps=100
build="$root/build-bench"
stale=0
die() { echo "drift.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case $1 in
        --sizes) sizes=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --stale) stale=1; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
case $reps in ''|*[!0-9]*|0) die "--reps must be a positive integer" ;; esac
[ "$(id -u)" -eq 0 ] || die "needs root (unshare -n, netlink commits)"
bin="$build/bench/drift_bench"
if [ ! -x "$bin" ]; then
    [ -f "$build/build.ninja" ] || cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    nice -n 10 ninja -C "$build" -j2 drift_bench >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in $sizes; do
    "$here/gen_policy.sh" "$n" "$work/p$n" >/dev/null
    flag=""
    [ "$stale" = 1 ] && [ "$n" -lt 1000000 ] && flag=--stale
    echo "== $n addresses"
    unshare -n "$bin" "$work/p$n" "$root/policies" "$reps" $flag
done
