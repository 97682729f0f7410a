#!/bin/bash
# Runs the front-end fuzz target for SECONDS, starting from the seed corpus:
# every .toml under policies/, tests/golden/, tests/diag/ and tests/fuzz/seeds/.
# Exits non-zero on any crash, sanitizer report, leak, timeout (an input that
# takes over 10 s) or memory blow-up (over 2 GB), and prints the input that
# did it; always prints the number of executions and the coverage reached.
# Usage: run_fuzz.sh FUZZER SOURCE_DIR WORK_DIR SECONDS [libFuzzer options...]
# WORK_DIR is emptied; the corpus grown there is never put back into git.
# FUZZ_EXTRA_CORPUS=DIR adds a corpus grown by an earlier run (read, not written).
set -euo pipefail
fuzzer=$1 src=$2 work=$3 seconds=$4
shift 4

rm -rf "$work"
mkdir -p "$work/seeds" "$work/corpus" "$work/artifacts"
n=0
for dir in "$src/policies" "$src/tests/golden" "$src/tests/diag" "$src/tests/fuzz/seeds"; do
    [ -d "$dir" ] || continue
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        cp "$f" "$work/seeds/$n-$(basename "$f")"
    done < <(find "$dir" -type f -name '*.toml' -print0 | sort -z)
done
echo "run_fuzz: $n seed files, fuzzing for ${seconds}s"

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -dict="$src/tests/fuzz/toml.dict" -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" "$work/seeds" ${FUZZ_EXTRA_CORPUS:+"$FUZZ_EXTRA_CORPUS"} >"$work/log" 2>&1 || rc=$?

# libFuzzer prints a status line per new coverage; the last one and the final
# statistics are what a reader of the CI log needs.
grep -E '^#[0-9]+' "$work/log" | tail -n 1 || true
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$work/log" || true
if [ "$rc" != 0 ]; then
    echo "run_fuzz: FAILED (exit $rc); the fuzzer's report:"
    grep -vE '^#[0-9]+' "$work/log" | tail -n 80
    for a in "$work"/artifacts/*; do
        [ -f "$a" ] || continue
        echo "== $a ($(stat -c %s "$a") bytes); reproduce: $fuzzer $a"
        head -c 2048 "$a" | od -A d -c | head -n 40 || true  # head may cut od short (SIGPIPE)
    done
    exit 1
fi
echo "run_fuzz: no crash, leak or timeout"
