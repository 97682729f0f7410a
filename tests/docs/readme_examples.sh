#!/bin/bash
# The README's example site policies must pass `nftpolicy check`, as a new
# user would copy them: every ```toml block of README.md, each written to a
# site.toml of its own and checked with the shipped profiles on the search
# path. A README that stopped compiling would fail here.
# Usage: readme_examples.sh NFTPOLICY SOURCE_DIR
set -euo pipefail
bin=$(realpath "$1") src=$(realpath "$2")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# One file per block: block-1.toml, block-2.toml, ...
awk -v dir="$work" '
    /^```toml[[:space:]]*$/ { n++; file = sprintf("%s/block-%d.toml", dir, n); inside = 1; next }
    /^```/ && inside        { inside = 0; next }
    inside                  { print > file }
' "$src/README.md"
count=$(find "$work" -name 'block-*.toml' | wc -l)
[ "$count" -ge 1 ] || { echo "FAIL: no \`\`\`toml block in README.md"; exit 1; }

fail=0
for f in "$work"/block-*.toml; do
    mkdir -p "$work/check" && cp "$f" "$work/check/site.toml"
    if out=$(cd "$work/check" && NFTPOLICY_PATH="$src/policies" "$bin" check site.toml 2>&1); then
        echo "ok: README $(basename "$f" .toml) passes check"
    else
        echo "FAIL: README $(basename "$f" .toml) does not pass check:"
        echo "$out"
        sed 's/^/    | /' "$f"
        fail=1
    fi
done
exit $fail
