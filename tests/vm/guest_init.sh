#!/bin/bash
# Runs inside the guest as PID 1 (exec'd by the image's nftpolicy-vm-init,
# from the run directory the host shares at /run/nftpolicy-vm). Mounts the
# host's shared directories at their host paths, runs the command the host
# wrote, with its output on the second serial port, writes the exit status
# to the run directory and powers the guest off.
run=/run/nftpolicy-vm

mount_basics() {
    mkdir -p /dev/pts /dev/shm
    mountpoint -q /dev/pts || mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
    mountpoint -q /dev/shm || mount -t tmpfs tmpfs /dev/shm
    mountpoint -q /tmp || mount -t tmpfs -o mode=1777 tmpfs /tmp
    mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
    hostname nftpolicy-vm
    ip link set lo up
}

mount_shares() {  # lines of $run/mounts: TAG PATH ro|rw
    local tag path mode
    while read -r tag path mode; do
        mkdir -p "$path"
        mount -t 9p -o "trans=virtio,version=9p2000.L,msize=262144,$mode" "$tag" "$path" ||
            echo "nftpolicy-vm: cannot mount $path (9p tag $tag)"
    done <"$run/mounts"
}

power_off() {
    sync
    echo o >/proc/sysrq-trigger
    sleep 60
}

mount_basics >/dev/console 2>&1
mount_shares >/dev/console 2>&1
out=/dev/ttyS1
stty -F "$out" raw -echo 2>/dev/console
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
    /bin/bash "$run/command" </dev/null >"$out" 2>&1
echo "$?" >"$run/status"
power_off
