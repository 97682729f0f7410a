#!/bin/bash
# run.sh: the side-by-side benchmark of issue 3. For each size it generates
# an SES-like policy (bench/gen_policy.sh), compiles it once to nft text
# (not timed), then alternates, in a FRESH network namespace per
# measurement:
#   nft   = nft -f of the text `nftpolicy compile` emits
#   apply = nftpolicy apply of the same policy (compile + netlink commit)
# and reports the median wall, user+sys CPU and peak RSS of each and the
# ratios apply/nft. Alternating the two inside one repetition keeps them
# under the same machine load, which on a shared 2-core box matters more
# than anything else. Then: the cost of `nftpolicy compile` alone, the
# realistic site (bench/site), and on the largest size the one-address
# change (apply, edit one line of agents.txt, apply again in the same netns).
#
# Nothing here touches the root network namespace: every command that
# commits rules runs under `unshare -n`, which gives it an empty netns that
# dies with the process.
#
# usage: bench/run.sh [--sizes "1000 10000 100000 1000000"] [--reps N]
#                     [--big-reps N] [--build DIR] [--keep]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
sizes="1000 10000 100000 1000000"
reps=5          # repetitions below 1M
big_reps=3      # repetitions at >= 1M (one nft -f there is ~5 s of CPU)
build="$root/build-bench"
keep=0
change_budget=120   # seconds after which the change test stops repeating
host=handler1
phase=coexist

die() { echo "run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case $1 in
        --sizes) sizes=$2; shift 2 ;;
        --reps) reps=$2; shift 2 ;;
        --big-reps) big_reps=$2; shift 2 ;;
        --build) build=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) die "unknown argument $1" ;;
    esac
done
for v in $reps $big_reps; do
    case $v in ''|*[!0-9]*|0) die "repetitions must be a positive integer" ;; esac
done
[ "$(id -u)" -eq 0 ] || die "needs root (unshare -n, netlink commits)"

# ---------------------------------------------------------------- tooling

ensure_tools() {
    rusage="$work/rusage"
    cc -O2 -Wall -o "$rusage" "$here/rusage.c" || die "cannot compile bench/rusage.c"
    command -v nft >/dev/null || die "nft not found"
    command -v unshare >/dev/null || die "unshare not found"
    nftpolicy="$build/daemon/nftpolicy"
    if [ ! -x "$nftpolicy" ]; then
        echo "building $nftpolicy (Release)" >&2
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
        ninja -C "$build" -j2 nftpolicy >/dev/null
    fi
}

# apply exists once `nftpolicy --help` lists it (`apply --help` would print
# the top-level help and succeed even without the subcommand).
have_apply() { "$nftpolicy" --help 2>/dev/null | grep -Eq '^[[:space:]]+apply[[:space:]]'; }

# ---------------------------------------------------------------- measuring

# measure OUT CMD...: run CMD in a fresh netns under bench/rusage.c (GNU
# time's "%e %U %S %M" at microsecond resolution); append "wall user sys
# maxrss_kb" to OUT. A failing command aborts the run: a figure for a load
# that did not happen would be a lie.
measure() {
    local out=$1; shift
    local err; err=$(mktemp)
    if ! unshare -n "$rusage" "$out" "$@" 2>"$err"; then
        echo "FAILED: $*" >&2; cat "$err" >&2; rm -f "$err"; exit 1
    fi
    rm -f "$err"
}

# median FILE COLUMN: the median of one column (CPU = user+sys when COLUMN
# is "cpu"). With an even count, the mean of the two middle values.
median() {
    awk -v col="$2" '{ v = (col == "cpu") ? $2 + $3 : $col; print v }' "$1" | sort -g |
        awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# summary FILE: "wall cpu rss_mb" medians.
summary() {
    printf '%s %s %s\n' "$(median "$1" 1)" "$(median "$1" cpu)" "$(median "$1" 4 | awk '{ printf "%.1f", $1 / 1024 }')"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

row() {  # row LABEL SIZE wall cpu rss
    printf '%-22s %9s %9.4f %9.4f %9.1f\n' "$1" "$2" "$3" "$4" "$5"
}

# ---------------------------------------------------------------- workloads

compile_cmd() {  # compile_cmd DIR: the nftpolicy compile command for DIR/policy.toml
    echo "$nftpolicy" compile "$1/policy.toml" -I "$root/policies" --host "$host" --phase "$phase"
}

# apply_cmd DIR STATE: apply DIR/policy.toml, keeping its lock and its record
# of the last apply under the bench's work dir (never the machine's
# /run/nftpolicy and /var/lib/nftpolicy). STATE is fresh per measurement, as
# the netns is: a record left by another netns must not count as the kernel's.
apply_cmd() {
    echo "$nftpolicy" apply "$1/policy.toml" -I "$root/policies" --host "$host" --phase "$phase" \
        --lock "$work/lock" --state-dir "$2"
}

# bench_size N: generate, compile, then alternate nft -f / apply.
bench_size() {
    local n=$1 dir="$work/n$n" r count=$reps
    [ "$n" -ge 1000000 ] && count=$big_reps
    "$here/gen_policy.sh" "$n" "$dir"
    $(compile_cmd "$dir") >"$dir/ruleset.nft"
    for ((r = 0; r < count; r++)); do
        measure "$dir/compile.t" $(compile_cmd "$dir")
        measure "$dir/nft.t" nft -f "$dir/ruleset.nft"
        if [ "$apply_ok" = 1 ]; then measure "$dir/apply.t" $(apply_cmd "$dir" "$dir/state.$r"); fi
    done
    read -r nw nc nr < <(summary "$dir/nft.t")
    row "nft -f" "$n" "$nw" "$nc" "$nr" >>"$work/table"
    if [ "$apply_ok" = 1 ]; then
        read -r aw ac ar < <(summary "$dir/apply.t")
        row "nftpolicy apply" "$n" "$aw" "$ac" "$ar" >>"$work/table"
        printf '%-22s %9s %9s %9s %9s\n' "  ratio apply/nft" "$n" "$(ratio "$aw" "$nw")" \
            "$(ratio "$ac" "$nc")" "$(ratio "$ar" "$nr")" >>"$work/table"
    fi
    read -r cw cc cr < <(summary "$dir/compile.t")
    row "nftpolicy compile" "$n" "$cw" "$cc" "$cr" >>"$work/table"
}

# bench_site: the realistic SES gateway site of bench/site.
bench_site() {
    local dir="$work/site" r
    mkdir -p "$dir"
    local cmd=("$nftpolicy" compile "$here/site/site.toml" -I "$root/policies" --host gw1 --phase "$phase")
    local app=("$nftpolicy" apply "$here/site/site.toml" -I "$root/policies" --host gw1 --phase "$phase"
               --lock "$work/lock")
    "${cmd[@]}" >"$dir/ruleset.nft"
    for ((r = 0; r < reps; r++)); do
        measure "$dir/nft.t" nft -f "$dir/ruleset.nft"
        if [ "$apply_ok" = 1 ]; then measure "$dir/apply.t" "${app[@]}" --state-dir "$dir/state.$r"; fi
    done
    read -r nw nc nr < <(summary "$dir/nft.t")
    row "nft -f" "site" "$nw" "$nc" "$nr" >>"$work/table"
    if [ "$apply_ok" = 1 ]; then
        read -r aw ac ar < <(summary "$dir/apply.t")
        row "nftpolicy apply" "site" "$aw" "$ac" "$ar" >>"$work/table"
        printf '%-22s %9s %9s %9s %9s\n' "  ratio apply/nft" "site" "$(ratio "$aw" "$nw")" \
            "$(ratio "$ac" "$nc")" "$(ratio "$ar" "$nr")" >>"$work/table"
    fi
}

# One netns per repetition: full apply, then the same policy again (must
# send nothing), then one agent address replaced by another that merges
# with nothing. Below 1M the kernel's set is then checked to hold the new
# address and not the old one; at 1M that check is skipped because reading
# back any element of a 1M interval set (`nft get element` fetches the set)
# costs about a minute on this kernel.
change_script='
set -e
"$NFTPOLICY" apply "$DIR/policy.toml" -I "$ROOT/policies" --host "$HOST" --phase "$PHASE" $KOPTS >/dev/null
"$RUSAGE" "$T.same" "$NFTPOLICY" apply "$DIR/policy.toml" -I "$ROOT/policies" --host "$HOST" --phase "$PHASE" $KOPTS
sed -i "2s/.*/$NEWADDR/" "$DIR/agents.txt"
"$RUSAGE" "$T.change" "$NFTPOLICY" apply "$DIR/policy.toml" -I "$ROOT/policies" --host "$HOST" --phase "$PHASE" $KOPTS
if [ "$VERIFY" = 1 ]; then
    nft get element inet nftpolicy g_agents_v4 "{ $NEWADDR }" >/dev/null
    ! nft get element inet nftpolicy g_agents_v4 "{ $OLDADDR }" >/dev/null 2>&1
fi
'

# change_rep N: one repetition of the change test at N addresses.
change_rep() {
    local n=$1 dir="$work/change" t old verify=0
    rm -rf "$dir"; "$here/gen_policy.sh" "$n" "$dir"
    old=$(sed -n 2p "$dir/agents.txt")
    [ "$n" -lt 1000000 ] && verify=1
    t=$(mktemp)
    # 10.96.0.1: outside the generated /11 and odd, so it merges with nothing.
    if ! NFTPOLICY="$nftpolicy" RUSAGE="$rusage" DIR="$dir" ROOT="$root" HOST="$host" PHASE="$phase" T="$t" \
        NEWADDR=10.96.0.1 OLDADDR="$old" VERIFY=$verify KOPTS="--lock $work/lock --state-dir $dir/state" unshare -n sh -c "$change_script"; then
        echo "FAILED: one-address change at $n" >&2; exit 1
    fi
    tail -n 1 "$t.same" >>"$work/same.t"
    tail -n 1 "$t.change" >>"$work/change.t"
    rm -f "$t" "$t.same" "$t.change"
}

# bench_change N: the change test, repeated like the full applies but
# stopping early once it has used its time budget (a slow re-apply would
# otherwise push the run far past 10 minutes).
bench_change() {
    local n=$1 r count=$big_reps started=$SECONDS
    [ "$n" -lt 1000000 ] && count=$reps
    for ((r = 0; r < count; r++)); do
        change_rep "$n"
        [ $((SECONDS - started)) -lt "$change_budget" ] || break
    done
    local full; full=$(median "$work/n$n/apply.t" 1)
    read -r sw sc sr < <(summary "$work/same.t")
    read -r cw cc cr < <(summary "$work/change.t")
    row "apply, unchanged" "$n" "$sw" "$sc" "$sr" >>"$work/table"
    row "apply, 1 address" "$n" "$cw" "$cc" "$cr" >>"$work/table"
    printf '%-22s %9s %9s %9s\n' "  change/full apply" "$n" "$(ratio "$cw" "$full")" \
        "$(ratio "$cc" "$(median "$work/n$n/apply.t" cpu)")" >>"$work/table"
    echo "(change test: $(wc -l <"$work/change.t") repetition(s))" >>"$work/table"
}

# ---------------------------------------------------------------- main

work=$(mktemp -d /tmp/nftpolicy-bench.XXXXXX)
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
ensure_tools
apply_ok=0
have_apply && apply_ok=1

start=$(date +%s)
echo "nftpolicy bench: $(date -u '+%F %T UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)," \
     "kernel $(uname -r), $(nft --version)"
[ "$apply_ok" = 1 ] || echo "note: '$nftpolicy apply' does not exist yet; measuring nft -f and compile only"
echo "medians of $reps repetitions ($big_reps at >= 1M), each in a fresh netns (unshare -n)"
echo

for n in $sizes; do
    case $n in ''|*[!0-9]*) die "bad size $n" ;; esac
    echo "size $n ..." >&2
    bench_size "$n"
done
echo "site ..." >&2
bench_site
largest=$(printf '%s\n' $sizes | sort -n | tail -n 1)
if [ "$apply_ok" = 1 ]; then
    echo "one-address change at $largest ..." >&2
    bench_change "$largest"
fi

printf '%-22s %9s %9s %9s %9s\n' "what" "addresses" "wall s" "cpu s" "rss MiB"
cat "$work/table"
echo
echo "cpu = user + sys of the process (the kernel's work on a netlink batch runs in"
echo "the sender's context, so it is included); rss = peak resident set."
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); took $(($(date +%s) - start)) s"
[ "$keep" = 1 ] && echo "raw figures kept in $work"
exit 0
