#!/usr/bin/env bash
# The configuration file as the installed setuid launcher meets it (docs/threat-model.md,
# class J): /etc/chos.yaml owned by a user, writable by group or others, in a
# directory writable by group, a symlink (to a perfectly good file), a FIFO, a file
# over 1 MiB. Each is refused before anything is registered -- 125, one line naming
# the file and the reason, no hang -- even with a valid snapshot of the very same
# text beside it; back to root's, 0644, the same launch works again.
# checks: J
source "$(dirname "$0")/lib.sh"
it_main "$@"
source "$IT_LIB_DIR/launcher_lib.sh"

it_user chosit
IT_DEFAULT=a it_start_launchers a -- a:"$IT_BASE/trees/a" h:-
lt_mounts_baseline
[ -f "$CONFIG_PATH.snapshot" ] || it_fail "no snapshot after chos-setup start (the cases must prove it is not used)"
AS=("${IT_AS_USER[@]}")
dir=${CONFIG_PATH%/*}

launch() { timeout 10 "${AS[@]}" "$BIN/chos-run" -o a -- cat /etc/os-release 2>&1; }
works() { # WHAT
    local out rc
    out=$(launch); rc=$?
    assert_eq "$1: exit ($out)" 0 "$rc"
    assert_eq "$1: the environment's file" "NAME=a" "$(grep '^NAME=' <<< "$out")"
}
# refused WHAT REASON: 125 and exactly "chos: invalid configuration: PATH: REASON".
refused() {
    local out rc
    out=$(launch); rc=$?
    assert_eq "$1: exit status ($out)" 125 "$rc"
    assert_eq "$1: the message" "chos: invalid configuration: $2" "$out"
    lt_assert_clean "$1"
}
works "root's 0644 configuration (the control)"

# Owned by a user.
chown "$IT_NOBODY" "$CFG"
refused "owned by nobody" "$CONFIG_PATH: is owned by uid $IT_NOBODY, not root"
chown 0 "$CFG"
# Writable by group, by others.
chmod 0664 "$CFG"
refused "mode 0664" "$CONFIG_PATH: is writable by group or others"
chmod 0646 "$CFG"
refused "mode 0646" "$CONFIG_PATH: is writable by group or others"
chmod 0644 "$CFG"
# A directory on the way writable by group (the namespace's own /etc).
chmod g+w "$dir"
refused "$dir writable by group" "$CONFIG_PATH: directory '$dir' is writable by group or others"
chmod g-w "$dir"
works "back to root's 0644 in a root-only directory"

# Not a regular file: the bind over the path goes, something else takes its place.
it_unbind_config
lt_mounts_baseline   # (the bind's copy under TREE/local went with it)
replace_config() { rm -f "$CONFIG_PATH"; "$@"; }
replace_config ln -s "$CFG" "$CONFIG_PATH"
refused "a symlink to the good file" "$CONFIG_PATH: is a symbolic link (refused: it must be a regular file)"
replace_config mkfifo -m 0644 "$CONFIG_PATH"
refused "a FIFO (no hang)" "$CONFIG_PATH: is a FIFO, not a regular file"
replace_config sh -c "{ cat '$CFG'; head -c $((2 * 1024 * 1024)) /dev/zero | tr '\\0' '#'; } > '$CONFIG_PATH'"
chmod 0644 "$CONFIG_PATH"
refused "over 1 MiB" "$CONFIG_PATH: is larger than 1048576 bytes"
replace_config install -m 0644 -o 0 -g 0 /dev/null "$CONFIG_PATH"
it_bind_config
works "the test's configuration bound again"
it_done
