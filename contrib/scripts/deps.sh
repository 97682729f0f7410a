#!/bin/bash
# Installs what nftpolicy needs to build and test on Debian 12, as root.
# Does nothing when everything is already installed.
set -euo pipefail
packages=(
    build-essential cmake ninja-build pkg-config ccache
    libnftnl-dev libmnl-dev libsystemd-dev libtomlplusplus-dev
    libcli11-dev libfmt-dev nlohmann-json3-dev libexpected-dev libxxhash-dev catch2
    libnetfilter-conntrack-dev
    clang libclang-rt-14-dev
    nftables iproute2 util-linux python3 conntrack graphviz
    dpkg-dev lintian mmdebstrap systemd-container qemu-system-x86 e2fsprogs
    scdoc man-db bash-completion python3-jsonschema python3-prometheus-client ansible-core ansible-lint
)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
