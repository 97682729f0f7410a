# Scratch network namespaces for the kernel tests, benchmarks and traffic
# tests (sourced, not run). Nothing is named or left behind in /run/netns:
# the caller runs in its own `unshare -n`, and each extra namespace is that of
# a child `unshare -n sleep`, gone when the child is killed (netns_cleanup:
# call it from the script's EXIT trap).
#
#   netns_enter "$0" "$@"     first line of a script: re-exec it in a fresh
#                             namespace (exit 77 without root)
#   netns_spawn NAME          a new namespace, loopback up; in_ns NAME CMD...
#   netns_veth NAME HERE THERE   a veth pair: HERE in the caller's namespace,
#                             THERE in NAME's, both down and unaddressed
#   netns_cleanup             kills the children
# The namespaces' sleepers live an hour at most, whatever happens to us.

declare -A NETNS_PID=()

netns_enter() {
    if [ "$(id -u)" != 0 ]; then
        echo "skip: needs root for unshare -n" >&2
        exit 77
    fi
    if [ "${NFTPOLICY_IN_NETNS:-}" != 1 ]; then
        NFTPOLICY_IN_NETNS=1 exec unshare -n "$@"
    fi
    # A fresh namespace has only lo: refuse to touch any other.
    [ "$(ip -o link show | cut -d: -f2)" = " lo" ] || { echo "not in a scratch namespace" >&2; exit 1; }
    ip link set lo up
}

netns_cleanup() {
    local pid
    for pid in "${NETNS_PID[@]}"; do kill "$pid" 2>/dev/null || true; done
    NETNS_PID=()
}

netns_spawn() {
    local name=$1 pid
    unshare -n sleep 3600 &
    pid=$!
    NETNS_PID[$name]=$pid
    local mine
    mine=$(readlink /proc/self/ns/net)
    for _ in $(seq 100); do
        [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$mine" ] && break
        sleep 0.05
    done
    [ "$(readlink "/proc/$pid/ns/net")" != "$mine" ] || { echo "netns_spawn: $name did not unshare" >&2; exit 1; }
    in_ns "$name" ip link set lo up
}

in_ns() {
    local name=$1
    shift
    nsenter -t "${NETNS_PID[$name]}" -n "$@"
}

netns_veth() {
    ip link add "$2" type veth peer name "$3" netns "${NETNS_PID[$1]}"
}

# Flowtables ([baseline] flowtable): the devices a compiled ruleset's
# flowtable names (`devices = { eth0, eth1 }`), one a line.
flowtable_devices() {
    sed -n 's/^[[:space:]]*devices = { \(.*\) }$/\1/p' "$1" | tr -d ' ' | tr ',' '\n'
}

# Creates each device of `file`'s flowtable (up) in the current namespace,
# so that a kernel with flowtables can hook them: a flowtable's devices must
# exist. A dummy interface, or one end of a veth pair where the kernel has no
# dummy driver. Nothing on a kernel without flowtables (nothing to hook).
# Only in a scratch namespace.
flowtable_dummies() {
    local dev n=0
    kernel_has_flowtables >/dev/null || return 0
    for dev in $(flowtable_devices "$1"); do
        ip link show "$dev" >/dev/null 2>&1 && continue
        ip link add "$dev" type dummy 2>/dev/null || ip link add "$dev" type veth peer name "ftpeer$((n++))"
        ip link set "$dev" up
    done
}

# Exit status 0 when this kernel accepts a flowtable (nft -c: nothing is
# created); otherwise prints nft's refusal.
kernel_has_flowtables() {
    nft -c -f - 2>&1 >/dev/null <<'NFT'
table inet nftpolicy_probe {
	flowtable probe { hook ingress priority filter; }
}
NFT
}
