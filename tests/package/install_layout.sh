#!/bin/bash
# `cmake --install` into a DESTDIR lays out every file the package and a hand
# install need, and the installed nftpolicy finds the shipped profiles with no
# -I: in a private user and mount namespace (no root needed, nothing on the
# host changes) a tmpfs hides the host's data directory and the DESTDIR's
# profiles are mounted where the binary was built to look for them.
# Usage: install_layout.sh BUILD_DIR SOURCE_DIR SBIN_DIR PROFILE_DIR SYSCONF_DIR DOC_DIR UNIT_DIR BINARY...
set -euo pipefail
build=$1 src=$2 sbin=$3 profiles=$4 sysconf=$5 doc=$6 units=$7
shift 7
dest=$(mktemp -d "${TMPDIR:-/tmp}/nftpolicy-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect_file() { [ -f "$dest$1" ] || fail "not installed: $1"; }

DESTDIR=$dest cmake --install "$build" >"$dest.log" 2>&1 || { cat "$dest.log"; rm -f "$dest.log"; exit 1; }
rm -f "$dest.log"

for bin in "$@"; do
    [ -n "$bin" ] || continue
    [ -x "$dest$sbin/$bin" ] || fail "not installed or not executable: $sbin/$bin"
done
for f in "$src"/systemd/*.service; do expect_file "$units/$(basename "$f")"; done
for f in "$src"/policies/*.toml; do expect_file "$profiles/$(basename "$f")"; done
for f in "$src"/policies/examples/*.toml; do
    expect_file "$doc/examples/$(basename "$f")"
    [ ! -e "$dest$profiles/$(basename "$f")" ] || fail "example installed as a profile: $(basename "$f")"
done
for f in "$src"/README.md "$src"/docs/*.md; do expect_file "$doc/$(basename "$f")"; done
for f in copyright changelog.Debian.gz; do expect_file "$doc/$f"; done
expect_file "$sysconf/README"
for f in "$src"/docs/man/*.scd; do
    page=$(basename "$f" .scd)
    [ "$page" != nftpolicyd.8 ] || [ -x "$dest$sbin/nftpolicyd" ] || continue  # shipped with the daemon
    [ -n "$(find "$dest" -path "*/share/man/man${page##*.}/$page.gz" -type f)" ] || fail "man page not installed: $page"
done
[ -n "$(find "$dest" -path '*/share/bash-completion/completions/nftpolicy' -type f)" ] ||
    fail "bash completion not installed"
[ ! -e "$dest$sysconf/site.toml" ] || fail "a site policy is installed: the firewall would start filtering"
[ "$failures" = 0 ] && echo "ok: layout of $(find "$dest" -type f | wc -l) installed files"

# The installed binary, with no -I and no NFTPOLICY_PATH, on every example.
data=$(dirname "$(dirname "$profiles")")
checked=$(env -u NFTPOLICY_PATH unshare -r -m sh -ec '
    dest=$1 profiles=$2 data=$3 sbin=$4 doc=$5
    mount -t tmpfs tmpfs "$data"
    mkdir -p "$profiles"
    mount --bind "$dest$profiles" "$profiles"
    for f in "$dest$doc"/examples/*.toml; do "$dest$sbin/nftpolicy" check "$f" >/dev/null; echo "$f"; done
' sh "$dest" "$profiles" "$data" "$sbin" "$doc" | wc -l) || fail "nftpolicy check without -I failed (output above)"
expected=$(find "$src/policies/examples" -name '*.toml' | wc -l)
[ "$checked" = "$expected" ] || fail "checked $checked of $expected examples without -I"
[ "$failures" = 0 ] && echo "ok: the installed nftpolicy checked $checked examples with the profiles from $profiles"
exit $((failures > 0))
