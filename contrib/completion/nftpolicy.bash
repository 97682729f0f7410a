# bash completion for nftpolicy(8)                              -*- shell-script -*-
# Commands and options come from the program's own --help, so they never go
# stale; hosts, migrations and gates from the policy on the command line (or
# /etc/nftpolicy/site.toml), through `nftpolicy check --list KIND POLICY`.

# `nftpolicy CMD... --help`, run once per binary (path and mtime) and
# command path in a shell session: a TAB walks the words before the cursor
# and needs the help of each command on the way. These functions leave their
# result in _nftpolicy_out rather than print it: a command substitution is a
# subshell, and the cache would be lost with it.
declare -gA _nftpolicy_help_cache=()
_nftpolicy_help() {
    local prog=$1 path key; shift
    path=$(command -v "$prog")
    key="$path $(stat -L -c %Y "$path" 2>/dev/null) $*"
    if [ -z "${_nftpolicy_help_cache[$key]+set}" ]; then
        _nftpolicy_help_cache[$key]=$("$prog" "$@" --help 2>/dev/null)
    fi
    _nftpolicy_out=${_nftpolicy_help_cache[$key]}
}

# Options of `nftpolicy CMD...`: lines "name" or "name=" (takes a value).
_nftpolicy_options() {
    _nftpolicy_help "$@"
    _nftpolicy_out=$(awk '
        /^[A-Z][A-Za-z ]*:$/ { section = $0; next }
        section == "Options:" && /^  -/ {
            split($1, names, ",")
            value = ($2 ~ /^[A-Z][A-Z0-9_]*([:=]|$)/) ? "=" : ""
            for (i in names) print names[i] value
        }' <<<"$_nftpolicy_out")
}

# Subcommands of `nftpolicy CMD...`, one a line.
_nftpolicy_subcommands() {
    _nftpolicy_help "$@"
    _nftpolicy_out=$(awk '
        /^[A-Z][A-Za-z ]*:$/ { section = $0; next }
        section == "Subcommands:" && /^  [a-z]/ { print $1 }' <<<"$_nftpolicy_out")
}

# Names the policy declares: _nftpolicy_list KIND
_nftpolicy_list() {
    local args=(check --list "$1")
    [ ${#_nftpolicy_includes[@]} -gt 0 ] && args+=("${_nftpolicy_includes[@]}")
    "$_nftpolicy_prog" "${args[@]}" "$_nftpolicy_policy" 2>/dev/null
}

_nftpolicy() {
    local cur prev words cword
    if declare -F _init_completion >/dev/null; then
        _init_completion -n = || return
    else
        cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
    fi
    local _nftpolicy_prog=${words[0]} _nftpolicy_policy=/etc/nftpolicy/site.toml
    local -a _nftpolicy_includes=() cmd=() positionals=()
    # Walk the words: the command path, then options and their values, then
    # positionals. The policy is the positional that is a file, wherever it
    # stands (`migration complete GATE site.toml` completes GATE from it).
    local i w valopts="" expect_value="" _nftpolicy_out=""
    for ((i = 1; i < ${#words[@]}; i++)); do
        [ "$i" = "$cword" ] && continue
        w=${words[i]}
        if [ -n "$expect_value" ]; then
            case $expect_value in -I | --include-path) _nftpolicy_includes+=(-I "$w") ;; esac
            expect_value=""
            continue
        fi
        case $w in
            --*=*) continue ;;
            -*)
                [[ " $valopts " == *" $w= "* ]] && expect_value=$w
                continue
                ;;
        esac
        if [ ${#positionals[@]} -eq 0 ] && [ "$i" -lt "$cword" ] &&
            _nftpolicy_subcommands "$_nftpolicy_prog" "${cmd[@]}" && grep -qx -- "$w" <<<"$_nftpolicy_out"; then
            cmd+=("$w")
            _nftpolicy_options "$_nftpolicy_prog" "${cmd[@]}"
            valopts=$(tr '\n' ' ' <<<"$_nftpolicy_out")
            continue
        fi
        [ "$i" -lt "$cword" ] && positionals+=("$w")
        [ -f "$w" ] && _nftpolicy_policy=$w
    done
    local opts
    _nftpolicy_options "$_nftpolicy_prog" "${cmd[@]}"
    opts=$_nftpolicy_out

    # The value of an option.
    if [[ " $(echo $opts) " == *" $prev= "* ]]; then
        case $prev in
            --host) mapfile -t COMPREPLY < <(compgen -W "$(_nftpolicy_list hosts)" -- "$cur") ;;
            --gates) mapfile -t COMPREPLY < <(compgen -W "$(_nftpolicy_list gates)" -- "$cur") ;;
            --phase)
                local m p list="legacy coexist final"
                for m in $(_nftpolicy_list migrations); do
                    for p in legacy coexist final; do list+=" $m=$p"; done
                done
                mapfile -t COMPREPLY < <(compgen -W "$list" -- "$cur")
                ;;
            --list) mapfile -t COMPREPLY < <(compgen -W "hosts migrations gates groups services flows" -- "$cur") ;;
            --quiet-for) mapfile -t COMPREPLY < <(compgen -W "0s 1h 24h 2d 7d" -- "$cur") ;;
            --confirm) mapfile -t COMPREPLY < <(compgen -W "30 60 90s 2m 5m" -- "$cur") ;;
            -I | --include-path | --state-dir | --runtime-dir) mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
            --lock) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
            *) COMPREPLY=() ;;
        esac
        return 0
    fi

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(echo "$opts" | tr -d =)" -- "$cur")
        return 0
    fi

    # A command, or the positionals of one.
    local subs
    _nftpolicy_subcommands "$_nftpolicy_prog" "${cmd[@]}"
    subs=$_nftpolicy_out
    if [ -n "$subs" ] && [ ${#positionals[@]} -eq 0 ]; then
        mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
        return 0
    fi
    case "${cmd[*]}:${#positionals[@]}" in
        "migration complete:0" | "migration reopen:0")
            mapfile -t COMPREPLY < <(compgen -W "$(_nftpolicy_list gates)" -- "$cur")
            return 0
            ;;
        "migration set-phase:0")
            mapfile -t COMPREPLY < <(compgen -W "$(_nftpolicy_list migrations)" -- "$cur")
            return 0
            ;;
        "migration set-phase:1")
            mapfile -t COMPREPLY < <(compgen -W "legacy coexist final" -- "$cur")
            return 0
            ;;
        status:* | confirm:* | rollback:*) COMPREPLY=(); return 0 ;;
    esac
    # A policy file.
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}
complete -F _nftpolicy nftpolicy
