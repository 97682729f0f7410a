#!/bin/bash
# run_in_vm.sh: runs a command inside a throw-away KVM guest that boots
# Debian 12's stock kernel (linux-image-amd64, 6.1: it has the flowtables
# this machine's kernel may lack), with the checkout visible at the same path,
# and returns the command's output and exit status.
#
#   tests/vm/run_in_vm.sh [options] [--] COMMAND [ARG...]
#     --share DIR      also show DIR (read-only) at the same path in the guest;
#                      the checkout this script is in is always shared
#     --share-rw DIR   the same, writable (e.g. a build directory's tmp/)
#     --timeout S      power the guest off after S seconds (default 900)
#     --cpus N         vCPUs (default 2); --mem MIB memory (default 2048)
#     --accel A        kvm: hardware KVM only, exit 77 (skip) without it;
#                      tcg: qemu's emulator (slow: ~30 s to boot, figures
#                      are an emulated CPU's); auto (default): kvm when the
#                      machine has hardware KVM, else tcg, said in one line
#     --image-only     build (or find) the cached image and exit
#
# Hardware KVM means kvm_intel or kvm_amd: a /dev/kvm from kvm_pvm (nested
# "pagetable-based" KVM, e.g. in a Firecracker VM) boots only PVM guest
# kernels, and a stock kernel hangs there before its first console line.
#
# The command runs as root in the guest's only network namespace (the guest
# has no network device: -nic none), in the current directory when that is
# shared, else in /. Its stdout and stderr come back merged, live.
# Exit status: the command's; 77 when the guest cannot run here (--accel kvm
# without hardware KVM, or no root to build the image), said in one line;
# 124 when the guest timed out; 125 when the harness or the guest failed.
#
# The image (mmdebstrap bookworm, tests/vm/vm_image.sh) is cached under
# $NFTPOLICY_VM_CACHE (default /var/cache/nftpolicy-vm), keyed on its package
# list, mirrors and vm_image.sh's text: the first run builds it (about 3.5
# minutes, at most 30), later runs boot it in seconds with KVM, in about 45 s
# with TCG. The guest's disk is a snapshot: the image stays pristine.
# Mirrors: NFTPOLICY_DEBIAN_MIRROR, NFTPOLICY_DEBIAN_SECURITY_MIRROR (as
# tests/package).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
# shellcheck source=tests/vm/vm_image.sh
. "$here/vm_image.sh"

say() { echo "run_in_vm: $*" >&2; }
skip() { echo "SKIP: $*" >&2; exit 77; }
die() { say "$*"; exit 125; }

timeout_s=900 cpus=2 mem=2048 image_only=0 accel=${NFTPOLICY_VM_ACCEL:-auto}
shares=("$checkout ro")
while [ $# -gt 0 ]; do
    case $1 in
        --share) shares+=("$(realpath -e "$2") ro"); shift 2 ;;
        --share-rw) shares+=("$(realpath -e "$2") rw"); shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --cpus) cpus=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --accel) accel=$2; shift 2 ;;
        --image-only) image_only=1; shift ;;
        -h | --help) sed -n '2,/^set -euo/{/^#/p}' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1" ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || [ "$image_only" = 1 ] || die "no command (usage: run_in_vm.sh [options] [--] COMMAND [ARG...])"

cache=${NFTPOLICY_VM_CACHE:-/var/cache/nftpolicy-vm}
mirror=${NFTPOLICY_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${NFTPOLICY_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
key=$(vm_image_key "$mirror" "$security")
image=$cache/img-$key

# ---------------------------------------------------------------- checks

kvm_problem() {  # prints why hardware KVM cannot boot the guest here, or nothing
    if ! [ -e /dev/kvm ]; then
        echo "no /dev/kvm on this machine"
    elif ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
        echo "/dev/kvm is not usable by $(id -un)"
    elif [ -d /sys/module/kvm_pvm ] && ! [ -d /sys/module/kvm_intel ] && ! [ -d /sys/module/kvm_amd ]; then
        echo "/dev/kvm is kvm_pvm, which boots only PVM guest kernels"
    fi
}

choose_accel() {  # sets accel_args
    local problem
    problem=$(kvm_problem)
    case $accel in
        kvm) [ -z "$problem" ] || skip "$problem: the KVM guest cannot run here (--accel kvm)" ;;
        auto) [ -z "$problem" ] && accel=kvm ||
            { accel=tcg; say "$problem: emulating the guest with TCG (slow)"; } ;;
        tcg) ;;
        *) die "--accel must be kvm, tcg or auto" ;;
    esac
    if [ "$accel" = kvm ]; then
        accel_args=(-enable-kvm -cpu host)
    else
        accel_args=(-accel "tcg,thread=multi" -cpu max)
    fi
}

# On a fresh Debian 12 machine as root: apt-get what the harness runs.
ensure_tools() {
    local missing=()
    command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
    command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
    command -v mke2fs >/dev/null || missing+=(e2fsprogs)
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || skip "missing ${missing[*]} and not root to install them (contrib/scripts/deps.sh)"
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } ||
        die "apt-get install ${missing[*]} failed"
}

# ---------------------------------------------------------------- image

# Another checkout's image is removed once nobody boots it (shared lock).
prune_other_images() {
    local d
    for d in "$cache"/img-*; do
        [ -d "$d" ] && [ "$d" != "$image" ] || continue
        ( flock -xn 7 && rm -rf "$d" "$d.lock" ) 7>"$d.lock" || true
    done
}

ensure_image() {
    [ -s "$image/root.img" ] && return 0
    [ "$(id -u)" = 0 ] || skip "no cached guest image ($image) and not root to build it"
    mkdir -p "$cache"
    exec 9>"$cache/build.lock"
    flock 9
    if ! [ -s "$image/root.img" ]; then
        local since=$SECONDS
        say "building the guest image $key (mmdebstrap bookworm; log: $cache/img-$key.log)"
        rm -rf "$image.new"
        mkdir -p "$image.new"
        # bounded: a stalled mirror must not hang CI
        timeout -k 10 1800 bash -c '. "$1" && vm_build_image "$2" "$3" "$4" "$5"' _ \
            "$here/vm_image.sh" "$image.new" "$mirror" "$security" "$cache/img-$key.log" ||
            { tail -20 "$cache/img-$key.log" >&2; rm -rf "$image.new"; die "building the guest image failed"; }
        mv "$image.new" "$image"
        touch "$image.lock"
        say "built the guest image in $((SECONDS - since)) s: $(du -sh --apparent-size "$image/root.img" | cut -f1)," \
            "kernel $(cat "$image/kernel-version")"
        prune_other_images
    fi
    flock -u 9
    exec 9>&-
}

# ---------------------------------------------------------------- run

write_run_dir() {  # write_run_dir DIR COMMAND...
    local dir=$1 cwd=/ n=0 s path mode
    shift
    mkdir -p "$dir"
    cp "$here/guest_init.sh" "$dir/guest_init.sh"
    : >"$dir/mounts"
    while read -r path mode; do
        echo "share$n $path $mode" >>"$dir/mounts"
        n=$((n + 1))
    done < <(printf '%s\n' "${shares[@]}" | sort -u)
    for s in "${shares[@]}"; do
        case $PWD/ in "${s% *}"/*) cwd=$PWD ;; esac
    done
    { printf 'cd %q || exit 125\n' "$cwd"; printf 'exec'; printf ' %q' "$@"; echo; } >"$dir/command"
}

qemu_args() {  # qemu_args WORK: prints one argument per line
    local work=$1 tag path mode
    printf '%s\n' "${accel_args[@]}" -smp "$cpus" -m "$mem" -nodefaults -no-user-config \
        -display none -vga none -no-reboot -nic none \
        -kernel "$image/vmlinuz" -initrd "$image/initrd.img" \
        -append "console=ttyS0 root=/dev/vda rw init=/sbin/nftpolicy-vm-init panic=-1 quiet loglevel=4" \
        -drive "file=$image/root.img,format=raw,if=virtio,snapshot=on" \
        -virtfs "local,path=$work/run,mount_tag=nftpolicy-run,security_model=none" \
        -chardev "file,id=console,path=$work/console.log" -serial chardev:console \
        -chardev "file,id=out,path=$work/output" -serial chardev:out
    while read -r tag path mode; do
        printf '%s\n' -virtfs "local,path=$path,mount_tag=$tag,security_model=none$([ "$mode" = ro ] && echo ,readonly=on)"
    done <"$work/run/mounts"
}

boot() {  # boot WORK -> the guest command's status
    local work=$1 rc=0 qpid since=$SECONDS
    local -a args
    mapfile -t args < <(qemu_args "$work")
    : >"$work/output"
    timeout -k 10 "$timeout_s" qemu-system-x86_64 "${args[@]}" </dev/null >"$work/qemu.log" 2>&1 &
    qpid=$!
    tail -n +1 -f --pid="$qpid" "$work/output" &
    wait "$qpid" || rc=$?
    wait
    if [ -s "$work/run/status" ]; then
        say "guest ($accel) ran the command in $((SECONDS - since)) s: exit $(cat "$work/run/status")"
        return "$(cat "$work/run/status")"
    fi
    tail -30 "$work/console.log" >&2 || true
    cat "$work/qemu.log" >&2
    [ "$rc" = 124 ] && { say "the guest timed out after $timeout_s s"; return 124; }
    die "the guest gave no exit status (qemu exit $rc; console above)"
}

choose_accel
ensure_tools
ensure_image
[ "$image_only" = 1 ] && { say "image $image"; exit 0; }
exec 8<"$image.lock"
flock -s 8
work=$(mktemp -d /tmp/nftpolicy-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
write_run_dir "$work/run" "$@"
rc=0
boot "$work" || rc=$?
exit "$rc"
