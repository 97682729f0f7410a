# The guest of run_in_vm.sh: a bookworm root with Debian's stock kernel,
# made into an ext4 image without mounting anything, cached by its inputs.
# Sourced by run_in_vm.sh; this file's text is part of the cache key, so any
# change here builds a new image.
# shellcheck shell=bash

# What the guest holds: the kernel (linux-image-amd64, 6.1, flowtables as
# modules) and udev for the initrd (it loads virtio_blk), the tools kernel
# tests and the benches use (netbase: without /etc/protocols nft lists "6" for tcp), a compiler for bench/loadgen.c, and the shared
# libraries nftpolicy links against (check with `ldd build/daemon/nftpolicy`).
vm_packages=(
    linux-image-amd64 udev kmod
    nftables netbase iproute2 conntrack procps psmisc util-linux python3 iperf3 netcat-openbsd
    gcc libc6-dev
    libnftnl11 libmnl0 libsystemd0 libxxhash0 libnetfilter-conntrack3 libfmt9 libstdc++6
)

# PID 1 of the guest, kept in the image: it mounts the run directory the host
# shares (tag nftpolicy-run) and hands over to the guest_init.sh found there,
# so the per-run logic changes without a new image. If anything fails, it
# powers off; qemu runs with -no-reboot, so a panic ends the guest too.
vm_bootstrap_init() {
    cat <<'INIT'
#!/bin/sh
mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/nftpolicy-vm
modprobe 9pnet_virtio && modprobe 9p &&
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 nftpolicy-run /run/nftpolicy-vm &&
    exec /bin/bash /run/nftpolicy-vm/guest_init.sh
echo "nftpolicy-vm: cannot mount the run directory (9p tag nftpolicy-run)" >/dev/console
echo o >/proc/sysrq-trigger
sleep 60
INIT
}

vm_image_key() {  # vm_image_key MIRROR SECURITY -> prints the key
    { echo "${vm_packages[*]} $1 $2"; cat "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16
}

# Builds DIR/{root.img,vmlinuz,initrd.img} from a bookworm tree. mmdebstrap
# runs the kernel's postinst, which makes the initrd (MODULES=most + udev).
vm_build_image() {  # vm_build_image DIR MIRROR SECURITY LOG
    local dir=$1 tree=$1/tree size_mb
    local include
    include=$(IFS=,; echo "${vm_packages[*]}")
    rm -rf "$tree"
    mmdebstrap --mode=root --variant=minbase --include="$include" \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        bookworm "$tree" "deb $2 bookworm main" "deb $2 bookworm-updates main" \
        "deb $3 bookworm-security main" >"$4" 2>&1 || return 1
    vm_bootstrap_init >"$tree/sbin/nftpolicy-vm-init"
    chmod 755 "$tree/sbin/nftpolicy-vm-init"
    echo nftpolicy-vm >"$tree/etc/hostname"
    rm -rf "$tree"/var/cache/apt/archives/*.deb "$tree"/var/lib/apt/lists/*
    local version
    version=$(find "$tree/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -1)
    cp "$tree/boot/vmlinuz-$version" "$dir/vmlinuz"
    cp "$tree/boot/initrd.img-$version" "$dir/initrd.img"
    echo "$version" >"$dir/kernel-version"
    # the tree's size plus a third and 512 MiB: room for what a test writes
    size_mb=$(du -sm "$tree" | awk '{ print int($1 * 4 / 3) + 512 }')
    mke2fs -q -F -t ext4 -L nftpolicy-vm -d "$tree" "$dir/root.img" "${size_mb}M" >>"$4" 2>&1 || return 1
    rm -rf "$tree"
}
