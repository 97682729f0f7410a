#!/bin/bash
# Bad input to the migration commands: an unknown gate or migration, a
# flipped gate flipped again, an open gate reopened, a bad phase or window,
# a corrupt state file and an unwritable state directory. Each must fail
# with a clear message and its documented exit code, and leave the kernel
# (as the real nft lists it) and the state file exactly as they were.
# Usage: migration_bad_input.sh NFTPOLICY
bin=$1
source "$(dirname "$0")/migration_lib.sh"
mig_enter "$0" "$@"
mig_setup

write_policy "$work/site.toml"
nftp apply "$work/site.toml" >/dev/null

state_of() { cat "$work/state/migrations" 2>/dev/null || echo "(no state file)"; }

# expect CODE MESSAGE -- COMMAND...: runs the command, checks the exit code,
# that stderr contains MESSAGE, and that kernel and state did not change.
expect() {
    local code=$1 message=$2
    shift 3
    local kernel_before state_before out rc
    kernel_before=$(table_fingerprint)
    state_before=$(state_of)
    set +e
    out=$("$@" 2>&1 >/dev/null)
    rc=$?
    set -e
    [ "$rc" = "$code" ] || fail "$*: exit $rc, expected $code: $out"
    [[ "$out" == *"$message"* ]] || fail "$*: message '$out' lacks '$message'"
    [ "$(table_fingerprint)" = "$kernel_before" ] || fail "$*: the kernel changed"
    [ "$(state_of)" = "$state_before" ] || fail "$*: the state changed: $(state_of)"
}

site=$work/site.toml
expect 2 "unknown gate 'm.agents-migratd'; did you mean 'm.agents-migrated'? (gates: m.agents-migrated)" -- \
    nftp migration complete m.agents-migratd "$site"
expect 2 "unknown gate 'agents-migrated'; expected MIGRATION.GATE" -- nftp migration complete agents-migrated "$site"
expect 2 "unknown gate 'x.y'" -- nftp migration reopen x.y "$site"
expect 2 "unknown migration 'mm'; did you mean 'm'?" -- nftp migration set-phase mm final "$site"
expect 2 "unknown phase 'finale'; expected legacy, coexist or final" -- nftp migration set-phase m finale "$site"
expect 2 "--quiet-for '1 day'" -- nftp migration complete m.agents-migrated "$site" --quiet-for "1 day"
expect 2 "gate 'm.agents-migrated' is not flipped: nothing to reopen" -- nftp migration reopen m.agents-migrated "$site"
expect 4 "cannot read '$work/nope.toml'" -- nftp migration complete m.agents-migrated "$work/nope.toml"

nftp migration complete m.agents-migrated "$site" >/dev/null
expect 2 "gate 'm.agents-migrated' is already flipped (state); \`nftpolicy migration reopen m.agents-migrated\` undoes it" -- \
    nftp migration complete m.agents-migrated "$site"

# Phase legacy: gates flip in coexist only.
nftp migration set-phase m legacy "$site" >/dev/null
nftp migration reopen m.agents-migrated "$site" >/dev/null
expect 2 "migration 'm' is in phase legacy (state); gates flip in phase coexist" -- \
    nftp migration complete m.agents-migrated "$site"
nftp migration set-phase m coexist "$site" >/dev/null

# A corrupt state file: an error naming file:line, nothing changed.
cp "$work/state/migrations" "$work/good"
printf 'nftpolicy-state 1\ngate m.agents-migrated maybe 5\n' >"$work/state/migrations"
expect 4 "$work/state/migrations:2: corrupt state file: expected 'gate MIGRATION.GATE flipped|open SECONDS'" -- \
    nftp migration complete m.agents-migrated "$site"
expect 4 "$work/state/migrations:2: corrupt state file" -- nftp migration status "$site"
expect 4 "$work/state/migrations:2: corrupt state file" -- nftp migration set-phase m final "$site"
printf 'nftpolicy-state 9\n' >"$work/state/migrations"
expect 4 "$work/state/migrations:1: corrupt state file: version 9 is not supported" -- \
    nftp migration reopen m.agents-migrated "$site"
: >"$work/state/migrations"
expect 4 "corrupt state file: no 'nftpolicy-state 1' line (empty or truncated file)" -- \
    nftp migration complete m.agents-migrated "$site"
cp "$work/good" "$work/state/migrations"

# An unwritable state directory (read-only in a mount namespace of the
# command's own: root ignores permission bits): refused before the kernel
# changes.
unwritable() {
    unshare -m bash -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' _ \
        "$work/state" env NFTPOLICY_PATH= "$bin" "$@" --lock "$work/lock" --state-dir "$work/state"
}
expect 4 "cannot write $work/state/migrations" -- unwritable migration complete m.agents-migrated "$site"
expect 4 "cannot write $work/state/migrations" -- unwritable migration set-phase m final "$site"
echo "ok: bad input leaves kernel and state unchanged"
