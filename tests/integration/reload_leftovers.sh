#!/usr/bin/env bash
# What a reload leaves behind: a file removed from `shared_files:` is unbound from every
# environment (before: it stayed bound, the host's copy shown inside until a stop); a
# reload that fails after mounting a new environment takes the mount and its entry back
# (before: an empty `.chos/os/<env>` directory stayed, standing for an environment the
# configuration never got).
# checks: F
source "$(dirname "$0")/lib.sh"
it_main "$@"

make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
echo "tree's own" > "$IT_BASE/trees/a/etc/motd"
echo "host's" > "$IT_BASE/motd"
IT_CFG_SHARED="[/etc/passwd, /etc/group, $IT_BASE/motd]" it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
mkdir -p "$IT_BASE/trees/b$IT_BASE" && echo "b's own" > "$IT_BASE/trees/b$IT_BASE/motd"
chown -R 0:0 "$IT_BASE/trees/b"
it_start

is_mounted() { [ -n "$(it_mounts_under "$1" | awk -v p="$1" '$1 == p')" ]; }
# Where an environment's tree is mounted: in its gate (.chos/os/<env> is a symlink there).
in_tree_of() { echo "$TREE/.chos/gate/$1/tree$2"; }
motd_in_b=$(in_tree_of b "$IT_BASE/motd")
for f in "$(in_tree_of a /etc/passwd)" "$(in_tree_of b /etc/group)" "$motd_in_b"; do
    is_mounted "$f" || it_fail "after start: '$f' should be a shared-file mount"
done
assert_eq "b sees the host's shared file" "host's" "$(cat "$motd_in_b")"

# 1. Two shared files leave the configuration: reload unbinds them everywhere.
IT_CFG_SHARED="[/etc/group]" it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "reload without /etc/passwd and motd: exit ($out)" 0 "$rc"
for e in a b; do
    is_mounted "$(in_tree_of $e /etc/passwd)" && it_fail "after reload: /etc/passwd is still bound in $e"
    is_mounted "$(in_tree_of $e /etc/group)" || it_fail "after reload: /etc/group is no longer bound in $e"
done
is_mounted "$motd_in_b" && it_fail "after reload: $IT_BASE/motd is still bound in b"
assert_eq "b sees its own file again" "b's own" "$(cat "$motd_in_b")"
# And back: bound again.
IT_CFG_SHARED="[/etc/passwd, /etc/group]" it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
out=$(chos_setup reload 2>&1) || it_fail "reload with /etc/passwd again: $out"
is_mounted "$(in_tree_of a /etc/passwd)" || it_fail "after reload: /etc/passwd is not bound again in a"

# 2. A reload that fails after the new environment c is mounted (its registry cgroup
# is someone else's: the registry refuses it).
make_tree "$IT_BASE/trees/c" c
mkdir "$REGMNT/c" && chown $IT_NOBODY "$REGMNT/c"
IT_CFG_SHARED="[/etc/passwd, /etc/group]" it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" c:"$IT_BASE/trees/c"
mounts_before=$(it_mounts_under "$TREE" | sort)
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "reload with c whose cgroup is nobody's: exit ($out)" 1 "$rc"
assert_eq "failed reload: no entry for c" "" "$(ls -A "$TREE/.chos/os" "$TREE/.chos/gate" | grep -x c)"
assert_eq "failed reload: the mounts are as before" "$mounts_before" "$(it_mounts_under "$TREE" | sort)"
rmdir "$REGMNT/c"
out=$(chos_setup reload 2>&1) || it_fail "reload with c once its cgroup is gone: $out"
assert_eq "c after a good reload" "NAME=c" "$(in_env c cat "$TREE/etc/os-release" | grep '^NAME=')"

it_done
