#!/usr/bin/env bash
# What `chos-setup check` and `start` tell an admin about the trees (issue 14, items 6
# and 9): a shared file missing from a tree (trees from tools/mktree have no
# /etc/hosts) is a warning of check and of start without -v; a path that is no
# userland (no /bin/sh, no /etc/os-release) is an error of check; a tree owned by a
# user names the user. Every problem at once; a tree's at its 'path:' line.
# checks: -
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_user chosit
make_tree "$IT_BASE/trees/a" a
mkdir -p "$IT_BASE/trees/empty/srv"
make_tree "$IT_BASE/trees/mine" mine
chown chosit: "$IT_BASE/trees/mine"
IT_CFG_SHARED="[/etc/passwd, /etc/group, /etc/hosts]" \
    it_config a:"$IT_BASE/trees/a" empty:"$IT_BASE/trees/empty" mine:"$IT_BASE/trees/mine"
line_of() { grep -n "^  $1:\$" "$CFG" | cut -d: -f1; }
# Problems of a tree point at its 'path:' value (the line after the name, column 11).
path_of() { echo "$(( $(line_of "$1") + 1 )):11"; }
uid=$(id -u chosit)

out=$("$CHOS_SETUP" check --config "$CFG" 2>&1); rc=$?
assert_eq "check: exit ($out)" 1 "$rc"
assert_eq "check: every problem, at its environment" \
"$CFG:$(line_of a):3: environment 'a': shared file '/etc/hosts' does not exist in the tree: not bound (warning)
$CFG:$(line_of empty):3: environment 'empty': shared file '/etc/passwd' does not exist in the tree: not bound (warning)
$CFG:$(line_of empty):3: environment 'empty': shared file '/etc/group' does not exist in the tree: not bound (warning)
$CFG:$(line_of empty):3: environment 'empty': shared file '/etc/hosts' does not exist in the tree: not bound (warning)
$CFG:$(line_of mine):3: environment 'mine': shared file '/etc/hosts' does not exist in the tree: not bound (warning)
$CFG:$(path_of empty): environment 'empty': path '$IT_BASE/trees/empty' is not a userland: no /bin/sh and /etc/os-release in it (users would get \"cannot run\")
$CFG:$(path_of mine): environment 'mine': tree '$IT_BASE/trees/mine' is owned by user 'chosit' (uid $uid), not root" \
    "$out"

# The good tree alone: check passes with the warning; start says it without -v.
IT_CFG_SHARED="[/etc/passwd, /etc/group, /etc/hosts]" it_config a:"$IT_BASE/trees/a"
out=$("$CHOS_SETUP" check --config "$CFG" 2>&1); rc=$?
assert_eq "check, tree a alone: exit ($out)" 0 "$rc"
assert_match "check, tree a alone: the warning" \
    "^$CFG:$(line_of a):3: environment 'a': shared file '/etc/hosts' does not exist in the tree: not bound \(warning\)$" \
    "$(grep warning <<< "$out")"
out=$(chos_setup start 2>&1 >/dev/null); rc=$?
IT_STOPPED=0
assert_eq "start, tree a: exit ($out)" 0 "$rc"
assert_eq "start without -v: check's warning on stderr, once" \
    "chos-setup: warning: $CFG:$(line_of a):3: environment 'a': shared file '/etc/hosts' does not exist in the tree: not bound" "$out"
it_done
