#!/bin/bash
# The whole test suite, as CI runs it: install dependencies, build with
# -Werror, run every test; then build again with ASan+UBSan and run every test
# under the sanitizers; then build the front-end fuzz target with clang and
# fuzz it for a minute (docs/fuzzing.md). Kernel tests make their own network
# namespaces.
# Usage (as root on Debian 12): contrib/scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
contrib/scripts/deps.sh
# The tests use the distribution's tools (python3 with the modules deps.sh
# installs, nft, ip), not whatever a developer's PATH puts first (pyenv, ~/.local).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
jobs=$(nproc)
# ccache (deps.sh installs it) keeps compiled objects between runs on one
# machine; paths are taken relative to the checkout, so another clone of the
# same sources hits the same entries. NFTPOLICY_NO_CCACHE=1 builds cold.
launcher=()
if [ -z "${NFTPOLICY_NO_CCACHE:-}" ] && command -v ccache >/dev/null; then
    export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

run_suite() {  # [TARGETS="t ..."] run_suite BUILD_DIR [cmake options...]
    local dir=$1; shift
    echo "== configure $dir $* (at ${SECONDS} s)"
    cmake -S . -B "$dir" -G Ninja -DNFTPOLICY_WERROR=ON "${launcher[@]}" "$@" >/dev/null
    echo "== build $dir (at ${SECONDS} s)"
    # shellcheck disable=SC2086  # TARGETS is a list of target names
    ninja -C "$dir" -j "$jobs" ${TARGETS:-}
    echo "== test $dir (at ${SECONDS} s)"
    ctest --test-dir "$dir" --output-on-failure -j "$jobs"
}

run_suite build-ci -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DNFTPOLICY_SANITIZE=ON
# Only the fuzz target and its one test (fuzz.front_end, 60 s from the seeds).
TARGETS=nftpolicy_fuzz run_suite build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DNFTPOLICY_FUZZ=ON -DNFTPOLICY_TESTS=OFF \
    -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -g"
echo "== all suites passed in ${SECONDS} s"
