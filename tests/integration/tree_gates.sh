#!/usr/bin/env bash
# The kernel enforces the allow-list (docs/threat-model.md, class S). The tree of r
# (`users: [chosgate1]`) sits under a 0700 directory on the host, so on the host only
# root reaches it; inside /chos its only way is through r's gate (.chos/gate/r, an ACL
# for chosgate1). An outsider (chosgate2) cannot list, read, run or chroot into it by
# any path under /chos: not from the host, not from inside another environment, not
# with `unshare -r` (before: .chos/os/r was a plain bind anyone could traverse, and
# `unshare -r chroot /chos/.chos/os/r /bin/sh` gave a shell in it). chosgate1 runs in it
# through chos-run; a reload with another allow-list moves the gate with it; an open
# environment stays open to all.
# checks: S
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_launchers
it_user chosgate1
U1=$IT_USER_UID AS1=("${IT_AS_USER[@]}")
it_user chosgate2
U2=$IT_USER_UID AS2=("${IT_AS_USER[@]}")
make_tree "$IT_BASE/trees/a" a
mkdir -m 0700 "$IT_BASE/private"
make_tree "$IT_BASE/private/r" r
echo "secret of r" > "$IT_BASE/private/r/etc/secret" && chmod 0644 "$IT_BASE/private/r/etc/secret"
restricted() { # USERS-LIST: the config with r open to those users
    IT_CFG_EXTRA="  r:
    path: $IT_BASE/private/r
    users: [$1]" it_config a:"$IT_BASE/trees/a"
    it_bind_config
}
restricted chosgate1
it_start

R=$TREE/.chos/os/r G=$TREE/.chos/gate/r
# denied WHAT CMD...: the command fails (as the outsider) and prints nothing of r's.
denied() {
    local what=$1 out rc
    shift
    out=$("$@" 2>&1); rc=$?
    assert_ne "outsider, $what: must fail ($out)" 0 "$rc"
    assert_no_match "outsider, $what: nothing of r" "secret of r|NAME=r" "$out"
}
denied "ls .chos/os/r/" "${AS2[@]}" ls "$R/"
denied "ls .chos/gate/r" "${AS2[@]}" ls "$G"
denied "cat .chos/os/r/etc/secret" "${AS2[@]}" cat "$R/etc/secret"
denied "cat .chos/os/r/etc/os-release" "${AS2[@]}" cat "$R/etc/os-release"
denied "cat .chos/gate/r/tree/etc/secret" "${AS2[@]}" cat "$G/tree/etc/secret"
denied "run r's busybox" "${AS2[@]}" "$R/bin/busybox" cat /proc/self/cmdline
denied "cat through /chos/local" "${AS2[@]}" cat "$TREE/local$IT_BASE/private/r/etc/secret"
denied "unshare -r chroot .chos/os/r" "${AS2[@]}" unshare -r chroot "$R" /bin/cat /etc/secret
denied "unshare -r chroot .chos/gate/r/tree" "${AS2[@]}" unshare -r chroot "$G/tree" /bin/cat /etc/secret
denied "unshare -r, then ls the gate" "${AS2[@]}" unshare -r ls "$G"
denied "from inside a, cat /.chos/os/r/etc/secret" "${AS2[@]}" "$BIN/chos-run" -o a -- cat /.chos/os/r/etc/secret
denied "from inside a, /.chos/os/r/bin/cat" "${AS2[@]}" "$BIN/chos-run" -o a -- /.chos/os/r/bin/cat /etc/os-release
denied "chos-run -o r" "${AS2[@]}" "$BIN/chos-run" -o r -- cat /etc/secret
out=$("${AS2[@]}" "$BIN/chos-run" -o r -- true 2>&1)
assert_match "outsider, chos-run -o r: the launcher's refusal" "^chos: environment not allowed: 'r'" "$out"

# The gate as the kernel sees it.
assert_eq "r's gate: root's, 0700 plus an ACL (its mask shows as the group's bits)" "0:0 710" "$(stat -c '%u:%g %a' "$G")"
# system.posix_acl_access: a header, then (tag, perm, id) entries; ACL_USER is tag 2.
acl_users() { python3 -c '
import os, struct, sys
a = os.getxattr(sys.argv[1], "system.posix_acl_access")
print(" ".join("%d:%d" % (i, p) for t, p, i in struct.iter_unpack("<HHI", a[4:]) if t == 2))' "$1"; }
assert_eq "r's gate: only chosgate1 may search it (x)" "$U1:1" "$(acl_users "$G")"
assert_eq "a's gate: open" "0:0 755" "$(stat -c '%u:%g %a' "$TREE/.chos/gate/a")"

# The allowed user: through chos-run, and by path.
out=$("${AS1[@]}" "$BIN/chos-run" -o r -- cat /etc/os-release /etc/secret 2>&1)
assert_eq "chosgate1, chos-run -o r ($out)" "NAME=r|secret of r" "$(grep -E '^NAME=|secret' <<< "$out" | paste -sd'|')"
assert_eq "chosgate1 reads r by path" "secret of r" "$("${AS1[@]}" cat "$R/etc/secret" 2>&1)"
# Everyone: the open environment a.
assert_eq "chosgate2, chos-run -o a" "NAME=a" "$("${AS2[@]}" "$BIN/chos-run" -o a -- cat /etc/os-release | grep '^NAME=')"
assert_eq "chosgate2 lists a by path" "yes" "$("${AS2[@]}" test -r "$TREE/.chos/os/a/etc/os-release" && echo yes)"

# A reload with the other user: the gate follows the allow-list.
restricted chosgate2
out=$(chos_setup reload 2>&1) || it_fail "reload with users: [chosgate2]: $out"
assert_eq "after reload, chosgate2 reads r by path" "secret of r" "$("${AS2[@]}" cat "$R/etc/secret" 2>&1)"
AS1_OUT=$("${AS1[@]}" cat "$R/etc/secret" 2>&1) && it_fail "after reload, chosgate1 still reads r: $AS1_OUT"
out=$("${AS2[@]}" "$BIN/chos-run" -o r -- cat /etc/os-release 2>&1)
assert_eq "after reload, chosgate2 runs in r ($out)" "NAME=r" "$(grep '^NAME=' <<< "$out")"

# chos-setup check: the host path under a 0700 directory is not reachable by others (no
# warning); once it is, check says so.
out=$(chos_setup check 2>&1)
assert_no_match "check: r's path is private: no warning" "reachable by every user" "$out"
chmod 0755 "$IT_BASE/private"
out=$(chos_setup check 2>&1)
assert_match "check: r's path reachable by everyone: a warning" \
    "environment 'r': tree '$IT_BASE/private/r' is reachable by every user on the host .*\\(warning\\)" "$out"
chmod 0700 "$IT_BASE/private"

it_done
