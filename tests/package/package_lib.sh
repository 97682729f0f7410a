# Steps and assertions of package_test.sh (sourced). They use its globals:
# build, work, root (the overlay root), ns (network namespace), machine.
# shellcheck shell=bash disable=SC2154

passes=0
started=$EPOCHREALTIME
elapsed() { awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }
step() { echo "== $1 (at $(elapsed))"; }
pass() { echo "PASS $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; exit 1; }
die() { echo "ERROR $*" >&2; exit 1; }
finish() { echo "$passes passed in $(elapsed)"; }

# Runs a command in the root through chroot, with a clean environment.
in_root() {
    chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

# Runs a command inside the booted container (all of its namespaces).
container() {
    nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive "$@"
}

build_deb() {  # build_deb BUILD_DIR OUT_DIR -> prints the .deb's path
    cpack --config "$1/CPackConfig.cmake" -B "$2" >"$2.log" 2>&1 || { cat "$2.log" >&2; die "cpack failed"; }
    local deb listing
    deb=$(find "$2" -maxdepth 1 -name 'nftpolicy_*.deb')
    [ -n "$deb" ] || die "cpack wrote no nftpolicy_*.deb"
    listing=$(dpkg-deb -c "$deb")
    grep -q ' \./usr/sbin/nftpolicy$' <<<"$listing" ||
        die "the package has no /usr/sbin/nftpolicy: configure the build with -DCMAKE_INSTALL_PREFIX=/usr" \
            "-DNFTPOLICY_PROFILE_DIR=/usr/share/nftpolicy/policies (the default before was /usr/local)"
    echo "$deb"
}

run_lintian() {
    local out rc=0
    out=$(lintian --fail-on error "$1" 2>&1) || rc=$?
    [ -z "$out" ] || sed 's/^/    /' <<<"$out"
    [ "$rc" = 0 ] && ! grep -q '^E:' <<<"$out" ||
        fail "lintian reports errors (exit $rc)"
    pass "lintian: no errors, $(grep -c '^W:' <<<"$out" || true) warnings"
}

# A minbase bookworm with systemd, built once per cache directory: apt must
# still fetch every library nftpolicy needs, since minbase has none of them.
ensure_base_root() {  # ensure_base_root CACHE MIRROR -> prints the tree's path
    local cache=$1 mirror=$2 base=$1/bookworm key since
    local security=${NFTPOLICY_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
    key="bookworm minbase systemd-sysv,dbus,ansible-core,python3-apt $mirror $security"
    mkdir -p "$cache"
    exec 9>"$cache/.lock"
    flock 9
    if [ "$(cat "$base.key" 2>/dev/null)" != "$key" ]; then
        since=$(date +%s)
        rm -rf "$base" "$base.new" "$base.key"
        mmdebstrap --mode=root --variant=minbase --include=systemd-sysv,dbus,ansible-core,python3-apt \
            --aptopt='APT::Install-Recommends "false"' bookworm "$base.new" \
            "deb $mirror bookworm main" "deb $mirror bookworm-updates main" \
            "deb $security bookworm-security main" >"$cache/mmdebstrap.log" 2>&1 ||
            { tail -20 "$cache/mmdebstrap.log" >&2; die "mmdebstrap failed"; }
        mv "$base.new" "$base"
        echo "$key" >"$base.key"
        echo "built the base root in $(($(date +%s) - since)) s: $(du -sh "$base" | cut -f1)" >&2
    fi
    flock -u 9
    echo "$base"
}

mount_overlay() {  # mount_overlay LOWER WORK MERGED
    mkdir -p "$2/upper" "$2/overlay-work" "$3"
    mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/overlay-work" "$3"
    mount -t proc proc "$3/proc"
    mount -t devpts -o newinstance,ptmxmode=0666 devpts "$3/dev/pts"
    cp -L /etc/resolv.conf "$3/etc/resolv.conf"
}

# Downloads with the network, then installs from apt's cache in a scratch
# network namespace: nothing the package runs at install time can reach the
# host's firewall.
install_in_root() {
    local name before
    name=$(basename "$1")
    cp "$1" "$root/srv/$name"
    before=$(in_root dpkg-query -W -f='${Package}\n' | sort)
    in_root apt-get update -qq >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get update"; }
    in_root apt-get install -y -qq --download-only "/srv/$name" >>"$work/apt.log" 2>&1 ||
        { cat "$work/apt.log"; fail "apt-get install --download-only ./$name"; }
    unshare -n chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq "/srv/$name" >"$work/install.log" 2>&1 ||
        { cat "$work/install.log"; fail "apt-get install ./$name"; }
    sed -n 's/^nftpolicy: /    postinst: /p' "$work/install.log"
    pass "apt-get install ./$name pulled: $(comm -13 <(echo "$before") <(in_root dpkg-query -W -f='${Package}\n' | sort) |
        grep -vx nftpolicy | tr '\n' ' ')"
}

assert_unit_not_enabled_on_disk() {  # UNIT WHY
    local links
    links=$(find "$root/etc/systemd/system" -name "$1" 2>/dev/null)
    [ -z "$links" ] && pass "$1 not enabled $2" || fail "$1 enabled $2: $links"
}

check_examples() {  # check_examples SOURCE_DIR
    local f n=0 expected
    for f in "$root"/usr/share/doc/nftpolicy/examples/*.toml; do
        in_root /usr/sbin/nftpolicy check "${f#"$root"}" >/dev/null || fail "nftpolicy check ${f#"$root"}"
        n=$((n + 1))
    done
    expected=$(find "$1/policies/examples" -name '*.toml' | wc -l)
    [ "$n" = "$expected" ] && pass "nftpolicy check, no -I: all $n shipped examples" ||
        fail "checked $n examples, the source has $expected"
    in_root dpkg-query -W -f='${Conffiles}\n' nftpolicy | grep -q '^ /etc/nftpolicy/README ' &&
        pass "/etc/nftpolicy/README is a conffile" || fail "/etc/nftpolicy/README is not a conffile"
}

# The admin's part: the syslog-relay example and its inventory become this
# machine's site policy (one host, so no --host; the profile by name).
write_site_policy() {
    cp "$root/usr/share/doc/nftpolicy/examples/inventory.toml" "$root/etc/nftpolicy/inventory.toml"
    cp "$root/usr/share/doc/nftpolicy/examples/syslog-relay.toml" "$root/etc/nftpolicy/site.toml"
    in_root /usr/sbin/nftpolicy check /etc/nftpolicy/site.toml >/dev/null || fail "the site policy does not check"
}

cgroup_dirs() {  # pure cgroup2, or hybrid (unified + name=systemd)
    if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then echo "/sys/fs/cgroup/$machine"; return; fi
    for d in /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do [ -d "$d" ] && echo "$d/$machine"; done
}

# Boots the root with systemd as PID 1 in the namespace $ns. nspawn runs in
# cgroups of its own so that shutdown_root can remove what it leaves there; a
# machine-id makes it no first boot (which would enable every unit).
boot_root() {
    umount "$root/proc" "$root/dev/pts"
    systemd-id128 new >"$root/etc/machine-id"
    cgroups=$(cgroup_dirs | tr '\n' ' ')
    # shellcheck disable=SC2086
    mkdir -p $cgroups
    CGS=$cgroups sh -c 'for c in $CGS; do echo $$ >"$c/cgroup.procs"; done; exec "$@"' sh \
        systemd-nspawn -D "$root" --register=no --keep-unit --quiet --boot --machine="$machine" \
        --network-namespace-path="/run/netns/$ns" --capability=CAP_NET_ADMIN \
        </dev/null >"$work/console.log" 2>&1 &
    nspawn_pid=$!
    wait_for_leader
    wait_until_booted
}

wait_for_leader() {
    leader=
    for _ in $(seq 400); do
        leader=$(ps -o pid=,comm= --ppid "$nspawn_pid" | awk '$2 == "systemd" { print $1; exit }' || true)
        [ -n "$leader" ] && return 0
        sleep 0.05
    done
    cat "$work/console.log"
    fail "systemd-nspawn started no systemd"
}

wait_until_booted() {
    local state=
    for _ in $(seq 600); do  # 30 s: a loaded CI machine boots slowly
        state=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null || true)
        case $state in running | degraded) break ;; esac
        sleep 0.05
    done
    case $state in
        running | degraded) pass "booted systemd in the root: $state" ;;
        *) cat "$work/console.log"; fail "the root did not boot: '$state'" ;;
    esac
}

unit_prop() { container systemctl show -p "$2" --value "$1"; }

assert_unit_running() {  # UNIT
    local state
    state="$(container systemctl is-enabled "$1" || true) $(unit_prop "$1" ActiveState)/$(unit_prop "$1" SubState) $(unit_prop "$1" Result)"
    case $state in
        "enabled active/exited success" | "enabled active/running success") pass "$1: $state" ;;
        *) container journalctl -u "$1" --no-pager | tail -20; fail "$1: $state" ;;
    esac
}

assert_table_loaded() {  # WHEN
    local rules
    rules=$(ip netns exec "$ns" nft list table inet nftpolicy 2>&1) || fail "no table inet nftpolicy $1: $rules"
    pass "table inet nftpolicy loaded in $ns $1 ($(grep -c . <<<"$rules") lines, read with nft)"
}

# After a purge: no file of the package is left but directories other
# packages own too, /etc/nftpolicy keeps only the admin's policy, no state,
# no enable link or deb-systemd-helper record, the units are stopped.
assert_purged() {  # FILE_LIST UNITS
    local p left=""
    while read -r p; do
        [ -e "$root$p" ] || [ -L "$root$p" ] || continue
        if [ -d "$root$p" ] && ! [ -L "$root$p" ] && container dpkg-query -S "$p" >/dev/null 2>&1; then continue; fi
        [ "$p" = /etc/nftpolicy ] && continue
        left="$left $p"
    done <"$1"
    [ -z "$left" ] && pass "purge: no file of the package is left" || fail "purge left:$left"
    left=$(cd "$root/etc/nftpolicy" && echo *)
    [ "$left" = "inventory.toml site.toml" ] && pass "purge: /etc/nftpolicy keeps only the admin's $left" ||
        fail "purge: /etc/nftpolicy holds: $left"
    for p in /var/lib/nftpolicy /run/nftpolicy; do
        container test ! -e "$p" || fail "purge left $p"
    done
    left=$(find "$root/etc/systemd/system" "$root/var/lib/systemd/deb-systemd-helper-enabled" -name '*nftpolicy*' 2>/dev/null)
    [ -z "$left" ] && pass "purge: no state, no enable link, no deb-systemd-helper record" || fail "purge left: $left"
    for p in $2; do
        [ "$(unit_prop "$p" ActiveState)" = inactive ] || fail "$p still $(unit_prop "$p" ActiveState) after purge"
    done
    container dpkg-query -W -f='${Status}\n' nftpolicy 2>/dev/null | grep -q 'installed\|config-files' &&
        fail "dpkg still knows nftpolicy: $(container dpkg-query -W -f='${Status}' nftpolicy)"
    pass "purge: units stopped, dpkg has forgotten nftpolicy"
}

# The Ansible role inside the booted root (ansible-core is in the base root):
# one fleet host, this machine, whose package comes from the .deb in /srv and
# whose changes reach the kernel through `systemctl reload nftpolicyd`. Its
# admins are those of the shipped example the machine ran before (the
# lockout guard refuses a policy that drops one), unless ADMINS_JSON says.
write_role_inventory() {  # write_role_inventory DEB AGENT_ADDRESS [ADMINS_JSON]
    local host
    host=$(container hostname)
    mkdir -p "$root/srv/ansible"
    cp -r "$src/contrib/ansible/roles" "$src/contrib/ansible/site.yml" "$root/srv/ansible/"
    python3 - "$host" "/srv/$(basename "$1")" "$2" "${3:-[\"10.30.0.0/24\", \"10.30.1.5\"]}" >"$root/srv/ansible/inventory.yml" <<'PY'
import json, sys
host, deb, agent, admins = sys.argv[1:]
print(json.dumps({"all": {
    "vars": {"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3",
             "nftpolicy_deb": deb, "nftpolicy_reload_via": "systemd",
             "nftpolicy_inventory_groups": {"agents": "agents", "relay": "relays"},
             "nftpolicy_groups": {"admins": {"addresses": json.loads(admins)}},
             "nftpolicy_services": {"syslog_tls": {"tcp": [6514]}},
             "nftpolicy_management": {"from": "admins"},
             "nftpolicy_flows": [{"id": "logs", "from": "agents", "to": "relay", "services": ["syslog_tls"]}]},
    "children": {"agents": {"hosts": {"agent1": {"nftpolicy_addresses": [agent]}}},
                 "relays": {"hosts": {host: {"nftpolicy_addresses": ["10.20.0.11"]}}},
                 "nftpolicy_fleet": {"hosts": {host: {}}}}}}, indent=1))
PY
}

role_play() {  # role_play NAME -> exit code of site.yml; output in $work/NAME.log
    local rc=0
    container env HOME=/tmp/ansible ANSIBLE_LOCAL_TEMP=/tmp/ansible/tmp ANSIBLE_NOCOLOR=1 \
        ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_ROLES_PATH=/srv/ansible/roles \
        ansible-playbook -i /srv/ansible/inventory.yml /srv/ansible/site.yml >"$work/$1.log" 2>&1 || rc=$?
    return $rc
}

play_changed() {  # play_changed LOG -> the changed= count of the PLAY RECAP
    sed -n 's/^.* : ok=.*changed=\([0-9]*\).*/\1/p' "$1" | tail -1
}

shutdown_root() {
    container systemctl poweroff --no-block >/dev/null 2>&1 || kill -TERM "$nspawn_pid"
    for _ in $(seq 400); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$nspawn_pid" 2>/dev/null; then
        kill -KILL "$nspawn_pid"
        fail "the container did not power off within 20 s"
    fi
    nspawn_pid=
    pass "powered off"
}

cleanup() {
    if [ -n "${nspawn_pid:-}" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        kill -KILL "$nspawn_pid"
        sleep 0.2
    fi
    for c in ${cgroups:-}; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done
    ip netns list | grep -q "^$ns\b" && ip netns del "$ns"
    umount -R "$root" 2>/dev/null || true
    rm -rf "$work"
}
