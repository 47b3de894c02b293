#!/usr/bin/env bash
# Per process: two processes of the same user, registered in a and in b at the same
# time, see different /etc/os-release through the tree; an unregistered process sees
# the host's (docs/properties.md, "The link").
# checks: P1
source "$(dirname "$0")/lib.sh"
it_main "$@"

make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" host:-
it_start
as_nobody_in_tree=(chroot --userspec=$IT_NOBODY:$IT_NOBODY --groups=$IT_NOBODY "$TREE")

# Two long-running processes of the same user (nobody), chrooted to the tree, one
# registered in a and one in b, both alive at the same time.
probe_bg a "$IT_BASE/logs/a.probe" 50
pa=$IT_LAST_PID
probe_bg b "$IT_BASE/logs/b.probe" 50
pb=$IT_LAST_PID
wait_probe_advance "$IT_BASE/logs/a.probe" 0 10 10 || it_fail "the probe in a printed nothing: $(tail -n 3 "$IT_BASE/logs/a.probe")"
wait_probe_advance "$IT_BASE/logs/b.probe" 0 10 10 || it_fail "the probe in b printed nothing: $(tail -n 3 "$IT_BASE/logs/b.probe")"
it_pid_alive "$pa" && it_pid_alive "$pb" || it_fail "a probe died: $(tail -n 3 "$IT_BASE"/logs/*.probe)"
assert_eq "uid of the probe in a" "$IT_NOBODY" "$(awk '/^Uid:/ { print $3 }' /proc/$pa/status)"
assert_eq "uid of the probe in b" "$IT_NOBODY" "$(awk '/^Uid:/ { print $3 }' /proc/$pb/status)"
assert_eq "what the process in a saw (link, os-release NAME), every time" "../os/a NAME=a" \
    "$(awk '{ print $2, $3 }' "$IT_BASE/logs/a.probe" | sort -u)"
assert_eq "what the process in b saw (link, os-release NAME), every time" "../os/b NAME=b" \
    "$(awk '{ print $2, $3 }' "$IT_BASE/logs/b.probe" | sort -u)"

# `chroot /chos cat /etc/os-release` by registered processes, as root and as nobody.
assert_eq "chroot TREE cat /etc/os-release, registered in a" "NAME=a" \
    "$(in_env a chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"
assert_eq "chroot TREE cat /etc/os-release, registered in b" "NAME=b" \
    "$(in_env b chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"
assert_eq "same, as nobody, in a" "NAME=a" \
    "$(in_env a "${as_nobody_in_tree[@]}" /bin/cat /etc/os-release | grep '^NAME=')"
assert_eq "same, as nobody, in b" "NAME=b" \
    "$(in_env b "${as_nobody_in_tree[@]}" /bin/cat /etc/os-release | grep '^NAME=')"

# Outside the chroot: the link itself.
assert_eq "readlink of the link, registered in a" "../os/a" "$(in_env a "$TOOL" readlink "$LINK")"
assert_eq "readlink of the link, registered in b" "../os/b" "$(in_env b "$TOOL" readlink "$LINK")"
assert_eq "readlink of the link, unregistered (the test itself)" "../../local" "$("$TOOL" readlink "$LINK")"
assert_eq "readlink of the link, unregistered (root cgroup)" "../../local" "$(in_env - "$TOOL" readlink "$LINK")"
assert_eq "readlink of the link, as nobody, unregistered" "../../local" \
    "$(in_env - "${IT_AS_NOBODY[@]}" "$TOOL" readlink "$LINK")"
assert_eq "readlink of the link, registered in the host environment" "../os/host" \
    "$(in_env host "$TOOL" readlink "$LINK")"

# What the targets lead to: the tree's /etc/os-release from outside the chroot.
host_id=$(. /etc/os-release && echo "$ID")
assert_eq "ID in TREE/etc/os-release, unregistered (the host's)" "ID=$host_id" \
    "$(grep '^ID=' "$TREE/etc/os-release")"
assert_eq "ID in TREE/etc/os-release, in the host environment" "ID=$host_id" \
    "$(in_env host grep '^ID=' "$TREE/etc/os-release")"
assert_eq "ID in TREE/etc/os-release, in a" "ID=a" "$(in_env a grep '^ID=' "$TREE/etc/os-release")"
assert_eq "ID in TREE/etc/os-release, in b" "ID=b" "$(in_env b grep '^ID=' "$TREE/etc/os-release")"

# Still both alive and still right after all that traffic.
it_pid_alive "$pa" && it_pid_alive "$pb" || it_fail "a probe died"
assert_eq "the probe in a, to the end" "../os/a NAME=a" "$(awk '{ print $2, $3 }' "$IT_BASE/logs/a.probe" | sort -u)"
assert_eq "the probe in b, to the end" "../os/b NAME=b" "$(awk '{ print $2, $3 }' "$IT_BASE/logs/b.probe" | sort -u)"
it_done
