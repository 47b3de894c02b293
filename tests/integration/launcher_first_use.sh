#!/usr/bin/env bash
# What a user meets first (issue 14, items 3, 10, 11): `chos --version` and
# `chos-run --version` print the version without any configuration (exit 0, the
# backend "unknown" and why on stderr); `chos --current` on the host names the host's
# environment; `chos --list` marks the environment ~/.chos (or $CHOS) chose; a
# launcher run inside a chroot of its own (not CHOS's) that finds no configuration
# says where it looked: the root of the mount namespace, not the chroot.
# checks: -
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_launchers
it_user chosit
AS=("${IT_AS_USER[@]}")

# No configuration at all (the namespace's own copy of its directory, emptied).
it_private_config_dir
rm -f "$CONFIG_PATH" "$CONFIG_PATH.snapshot"
for p in chos chos-run; do
    out=$("${AS[@]}" "$BIN/$p" --version 2>"$IT_BASE/err"); rc=$?
    assert_eq "$p --version without a configuration: exit" 0 "$rc"
    assert_match "$p --version: the version line" "^$p [0-9][0-9.]* \(backend: unknown\)$" "$out"
    assert_eq "$p --version: why the backend is unknown" \
        "$p: the backend is unknown: invalid configuration: $CONFIG_PATH: cannot open: No such file or directory" \
        "$(cat "$IT_BASE/err")"
    out=$("${AS[@]}" "$BIN/$p" --help 2>&1); rc=$?
    assert_eq "$p --help without a configuration: exit ($out)" 0 "$rc"
    assert_match "$p --help: usage" "^usage: $p " "$out"
done
# Anything else still needs it: one line, 125, nothing about a chroot.
out=$("${AS[@]}" "$BIN/chos" --list 2>&1); rc=$?
assert_eq "chos --list without a configuration: exit" 125 "$rc"
assert_eq "chos --list without a configuration: the line" \
    "chos: invalid configuration: $CONFIG_PATH: cannot open: No such file or directory" "$out"

# A chroot of root's own with the launcher and a configuration in it: the launcher
# reads the namespace's root, and says so.
croot=$IT_BASE/chroot
make_tree "$croot" chroot
mkdir -p "$croot/$(dirname "$CONFIG_PATH")" "$croot/usr/local/bin"
cp -a "$BIN/chos" "$croot/usr/local/bin/chos"
IT_CFG_FILE=$croot$CONFIG_PATH it_config h:-
out=$(chroot "$croot" /usr/local/bin/chos --list 2>&1); rc=$?
assert_eq "chos --list in a chroot: exit" 125 "$rc"
assert_eq "chos --list in a chroot: where it looked" \
    "chos: invalid configuration: $CONFIG_PATH: cannot open: No such file or directory (read in the host view: the root of this mount namespace, not the caller's chroot; CHOS is set up per mount namespace)" \
    "$out"

# Set up: the backend, the host's name for --current, ~/.chos's mark in --list.
make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
IT_DEFAULT=a it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" h:-
it_bind_config
it_start
out=$("${AS[@]}" "$BIN/chos" --version 2>&1); rc=$?
assert_eq "chos --version, configured: exit" 0 "$rc"
assert_match "chos --version, configured: the backend" "^chos [0-9][0-9.]* \(backend: fuse\)$" "$out"
out=$("${AS[@]}" "$BIN/chos" --current 2>&1); rc=$?
assert_eq "chos --current on the host: exit ($out)" 0 "$rc"
assert_eq "chos --current on the host: the host environment" "h" "$out"
assert_eq "chos --current in b" "b" "$("${AS[@]}" "$BIN/chos-run" -o b -- /.chos/bin/chos --current 2>&1)"
home=$(getent passwd chosit | cut -d: -f6)
echo b > "$home/.chos" && chown chosit: "$home/.chos"
out=$("${AS[@]}" "$BIN/chos" --list 2>&1); rc=$?
assert_eq "chos --list: exit ($out)" 0 "$rc"
assert_eq "chos --list marks ~/.chos's choice" \
    "  a                test environment a (default)
  b                test environment b (chosen by ~/.chos)
* h                test environment h" "$out"
out=$(CHOS=a "${AS[@]}" "$BIN/chos" --list 2>&1)
assert_eq "chos --list with \$CHOS=a (current: no second mark)" \
    "* a                test environment a (default)
  b                test environment b
  h                test environment h" "$out"
# Inside b (without the $CHOS the launcher set there), ~/.chos choosing a: a is marked.
echo a > "$home/.chos"
out=$("${AS[@]}" "$BIN/chos-run" -o b -- env -u CHOS /.chos/bin/chos --list 2>&1)
assert_eq "chos --list in b, ~/.chos says a" \
    "  a                test environment a (default) (chosen by ~/.chos)
* b                test environment b
  h                test environment h" "$out"

# Without a host environment, --current on the host says so.
IT_DEFAULT=a it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
it_bind_config
chos_setup reload >/dev/null 2>&1 || it_fail "reload without the host environment"
out=$("${AS[@]}" "$BIN/chos" --current 2>&1); rc=$?
assert_eq "chos --current, no host environment: exit" 125 "$rc"
assert_eq "chos --current, no host environment: the line" \
    "chos: not in an environment (and no environment of $CONFIG_PATH is the host's)" "$out"
it_done
