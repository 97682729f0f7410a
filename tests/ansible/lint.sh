#!/bin/bash
# ansible-lint (Debian's, offline, default profile) finds nothing in the role
# and the playbooks. Its caches go to a scratch HOME.
# Usage: lint.sh CONTRIB_ANSIBLE_DIR
set -euo pipefail
command -v ansible-lint >/dev/null || { echo "FAIL: no ansible-lint: run contrib/scripts/deps.sh" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cd "$1"
touch "$home/ansible.cfg"
HOME=$home ANSIBLE_LOCAL_TEMP=$home/tmp ANSIBLE_CONFIG=$home/ansible.cfg ansible-lint --offline --nocolor \
    site.yml migration-phase.yml migration-flip.yml roles/nftpolicy
