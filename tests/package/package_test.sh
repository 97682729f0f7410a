#!/bin/bash
# The Debian package end to end, as root, in a throw-away Debian root:
#   1. cpack builds the .deb; lintian reports no errors (warnings are printed).
#   2. A minimal bookworm root (mmdebstrap minbase + systemd, built once and
#      cached; each run works on an overlay so the cache stays pristine) gets
#      `apt-get install ./nftpolicy_*.deb`: apt must pull every library the
#      binaries need, and nothing is enabled while no site policy exists.
#   3. In that root: `nftpolicy --version`, `nftpolicy check` on every shipped
#      example with no -I (the profiles come from /usr/share/nftpolicy).
#   4. With a site policy written, the root is booted with systemd-nspawn
#      inside a network namespace this test creates (its rules never reach the
#      host); reinstalling the package enables and starts the boot unit, whose
#      table `nft` then reads in that namespace; an upgrade keeps it loaded.
#   5. `apt-get purge` leaves no file of the package, no state, no unit enabled.
#   6. The Ansible role (ansible-core is in the root) installs the .deb again,
#      renders the site policy, enables nftpolicyd; its handler reloads the
#      daemon through systemd; a second run changes nothing; a reload that
#      nftpolicyd refuses (the lockout guard) fails the play.
# Why mmdebstrap and not the host's root: only a minimal root shows that the
# package's Depends are complete (the host has every library already), and
# only a root of its own boots without the host's enabled units.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR "BOOT_UNITS"
# Environment: NFTPOLICY_PACKAGE_ROOT_CACHE (default ~/.cache/nftpolicy/package-root:
#              the machine's cache, kept across checkouts and build directories;
#              rebuilt when its package list or mirrors change),
#              NFTPOLICY_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (mmdebstrap, chroot, mounts, systemd-nspawn, network namespaces)" >&2
    exit 77
fi
# Every mount below lives in a private mount namespace and goes with it.
[ -n "${NFTPOLICY_PACKAGE_TEST_NS:-}" ] ||
    exec env NFTPOLICY_PACKAGE_TEST_NS=1 unshare -m --propagation private "$0" "$@"
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=tests/package/package_lib.sh
. "$here/package_lib.sh"

build=$(readlink -f "$1") src=$(readlink -f "$2") boot_units=$3
cache=${NFTPOLICY_PACKAGE_ROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nftpolicy/package-root}
mirror=${NFTPOLICY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
for tool in cpack lintian mmdebstrap dpkg-shlibdeps systemd-nspawn nsenter nft ip; do
    command -v "$tool" >/dev/null || die "missing $tool: run contrib/scripts/deps.sh"
done
mkdir -p "$build/tmp"
work=$(mktemp -d "$build/tmp/package-test.XXXXXX")
root=$work/root ns=nftp-pkg-$$ machine=nftp-pkg-$$
trap cleanup EXIT
root_tables_before=$(nft list tables)

step "build the package with cpack"
deb=$(build_deb "$build" "$work/cpack")
pass "built $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
listing=$(dpkg-deb -c "$deb")
for f in usr/share/man/man8/nftpolicy.8.gz usr/share/man/man5/nftpolicy.toml.5.gz \
         usr/share/bash-completion/completions/nftpolicy; do
    grep -q " \./$f\$" <<<"$listing" || fail "the package lacks /$f"
done
pass "the package ships the man pages and the bash completion"

step "lintian"
run_lintian "$deb"

step "minimal bookworm root (cache: $cache)"
base=$(ensure_base_root "$cache" "$mirror")
mount_overlay "$base" "$work" "$root"

step "apt-get install ./$(basename "$deb") in the root"
install_in_root "$deb"
in_root dpkg-query -W -f='${Status}\n' nftpolicy | grep -qx 'install ok installed' ||
    fail "nftpolicy is not installed"
missing=$(in_root sh -c 'ldd /usr/sbin/nftpolicy* | grep "not found"' || true)
[ -z "$missing" ] && pass "every library of the binaries came with the package's Depends" ||
    fail "libraries missing in a minimal root: $missing"
for u in $boot_units; do
    assert_unit_not_enabled_on_disk "$u" "without a site policy"
done

step "the installed nftpolicy"
version=$(in_root /usr/sbin/nftpolicy --version)
expected=$(dpkg-deb -f "$deb" Version)
[[ "$expected" == "$version"* || "$version" == *"${expected%-*}"* ]] &&
    pass "nftpolicy --version: $version" || fail "nftpolicy --version says '$version', package is $expected"
check_examples "$src"

step "site policy, then boot the root with systemd (network namespace $ns)"
write_site_policy
ip netns add "$ns"
ip -n "$ns" link set lo up
boot_root
container systemctl is-system-running --wait >/dev/null || true

step "reinstall with a site policy: the boot unit is enabled and started"
container apt-get install -y -qq --reinstall "/srv/$(basename "$deb")" >"$work/reinstall.log" 2>&1 ||
    { cat "$work/reinstall.log"; fail "reinstall failed"; }
sed -n 's/^nftpolicy: /    postinst: /p' "$work/reinstall.log"
for u in $boot_units; do
    assert_unit_running "$u"
done
assert_table_loaded "after the start"

step "upgrade (reinstall again): the running unit restarts with the new binary, the table stays"
started_before=$(unit_prop "${boot_units%% *}" ActiveEnterTimestampMonotonic)
container apt-get install -y -qq --reinstall "/srv/$(basename "$deb")" >"$work/upgrade.log" 2>&1 ||
    { cat "$work/upgrade.log"; fail "upgrade failed"; }
assert_unit_running "${boot_units%% *}"
[ "$(unit_prop "${boot_units%% *}" ActiveEnterTimestampMonotonic)" != "$started_before" ] &&
    pass "the unit was restarted by the upgrade" || fail "the upgrade did not restart the running unit"
assert_table_loaded "after the upgrade"

step "apt-get purge"
container test -d /var/lib/nftpolicy && pass "the unit's apply wrote its state in /var/lib/nftpolicy" ||
    fail "no /var/lib/nftpolicy before the purge: the purge check would prove nothing"
container dpkg-query -L nftpolicy >"$work/files"
container apt-get purge -y -qq nftpolicy >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "purge failed"; }
assert_purged "$work/files" "$boot_units"
assert_table_loaded "after the purge (removal never opens the machine by surprise)"

step "the Ansible role: installs the .deb, renders and validates the site policy, reloads nftpolicyd"
write_role_inventory "$deb" 10.10.0.5
role_play role1 || {
    cat "$work/role1.log"
    container journalctl -u nftpolicyd --no-pager -o cat | tail -40
    fail "site.yml failed"
}
[ "$(play_changed "$work/role1.log")" -ge 3 ] || { cat "$work/role1.log"; fail "the first run changed too little"; }
container dpkg-query -W -f='${Status}\n' nftpolicy | grep -qx 'install ok installed' ||
    fail "the role did not install the .deb"
assert_unit_running nftpolicyd.service
rules=$(ip netns exec "$ns" nft list table inet nftpolicy)
grep -q 10.10.0.5 <<<"$rules" && grep -q 6514 <<<"$rules" ||
    fail "the kernel does not hold the role's policy: $rules"
pass "role run 1: .deb installed, site policy rendered, nftpolicyd enabled and running with it"
role_play role2 || { cat "$work/role2.log"; fail "second site.yml run failed"; }
[ "$(play_changed "$work/role2.log")" = 0 ] || { cat "$work/role2.log"; fail "the second run changed something"; }
pass "role run 2: changed=0"
reloads=$(container journalctl -u nftpolicyd --no-pager -o cat | grep -c '^Reloaded' || true)
write_role_inventory "$deb" 10.10.0.6
role_play role3 || { cat "$work/role3.log"; fail "site.yml with a new agent address failed"; }
grep -q 'RUNNING HANDLER \[nftpolicy : Reload nftpolicyd\]' "$work/role3.log" ||
    { cat "$work/role3.log"; fail "the handler did not reload nftpolicyd"; }
[ "$(container journalctl -u nftpolicyd --no-pager -o cat | grep -c '^Reloaded')" -gt "$reloads" ] ||
    fail "systemd saw no reload of nftpolicyd"
rules=$(ip netns exec "$ns" nft list table inet nftpolicy)
grep -q 10.10.0.6 <<<"$rules" && ! grep -q 10.10.0.5 <<<"$rules" ||
    fail "after the reload the kernel does not hold the new address: $rules"
pass "role run 3: a changed inventory address reached the kernel through systemctl reload nftpolicyd"
write_role_inventory "$deb" 10.10.0.6 '["10.30.0.0/25", "10.30.1.5"]'
if role_play role4; then cat "$work/role4.log"; fail "a policy that cuts management access was deployed"; fi
grep -q 'RUNNING HANDLER \[nftpolicy : Reload nftpolicyd\]' "$work/role4.log" &&
    grep -q 'failed=1' "$work/role4.log" || { cat "$work/role4.log"; fail "the play did not fail in the reload handler"; }
[ "$(ip netns exec "$ns" nft list table inet nftpolicy)" = "$rules" ] || fail "the refused reload changed the kernel"
assert_unit_running nftpolicyd.service
container journalctl -u nftpolicyd --no-pager -o cat | grep -q "cuts management access" ||
    fail "the journal does not say why the reload was refused"
pass "role run 4: a reload the lockout guard refuses (admins narrowed) fails the play; kernel unchanged, daemon running"

step "shut down"
shutdown_root
[ "$(nft list tables)" = "$root_tables_before" ] && pass "the host's own network namespace was not touched" ||
    fail "the tables of the host's network namespace changed"
finish
