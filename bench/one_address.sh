#!/bin/sh
# one_address.sh: a one-address change through nftpolicyd against a full
# apply, in one run and in the bench's own network namespace (unshare -n);
# see bench/one_address.py for what is measured.
# usage: sudo bench/one_address.sh [--build DIR] [--sizes "100000 1000000"] [--reps 3] [--edits 20]
exec python3 "$(dirname "$0")/one_address.py" "$@"
