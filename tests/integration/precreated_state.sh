#!/usr/bin/env bash
# Pre-created state (Singularity CVE-2019-11328): attacker-owned (nobody) directories
# and symlinks planted at the run directory, the tree and the registry mount point
# are refused, never adopted: `chos-setup start` exits 1 with a clear one-line error
# naming the path, and leaves nothing mounted, no daemon, no cgroup hierarchy, and
# the attacker's objects untouched.
# checks: F
source "$(dirname "$0")/lib.sh"
it_main "$@"

make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
evil=$IT_BASE/evil
mkdir -p "$evil" && chown $IT_NOBODY:$IT_NOBODY "$evil"

snapshot() { find "$1" -printf '%p %y %u %m\n' 2>/dev/null | sort; }

# plant KIND PATH: nobody's dir | nobody's symlink to nobody's dir | root dir 0777 | root dir 0775
plant() {
    rm -rf "$2"
    case $1 in
        dir)      mkdir "$2" && chown $IT_NOBODY:$IT_NOBODY "$2" ;;
        dir0700)  mkdir "$2" && chown $IT_NOBODY:$IT_NOBODY "$2" && chmod 0700 "$2" ;;
        symlink)  setpriv --reuid=$IT_NOBODY --regid=$IT_NOBODY --clear-groups ln -s "$evil" "$2.tmp" 2>/dev/null ||
                      { ln -s "$evil" "$2.tmp" && chown -h $IT_NOBODY:$IT_NOBODY "$2.tmp"; }
                  mv "$2.tmp" "$2" ;;
        rootlink) ln -s "$evil" "$2" ;;
        world)    mkdir "$2" && chmod 0777 "$2" ;;
        group)    mkdir "$2" && chmod 0775 "$2" && chgrp $IT_NOBODY "$2" ;;
    esac
}

cases=(
    "run_dir dir $RUN" "run_dir dir0700 $RUN" "run_dir symlink $RUN" "run_dir rootlink $RUN" "run_dir world $RUN" "run_dir group $RUN"
    "tree dir $TREE" "tree symlink $TREE" "tree rootlink $TREE" "tree world $TREE"
    "registry-mount dir $REGMNT" "registry-mount symlink $REGMNT" "registry-mount rootlink $REGMNT" "registry-mount world $REGMNT"
)
for c in "${cases[@]}"; do
    read -r what kind path <<< "$c"
    plant "$kind" "$path"
    before=$(snapshot "$path"; snapshot "$evil")
    err=$(chos_setup start 2>&1 >/dev/null); rc=$?
    it_say "$what planted as $kind: exit $rc: $err"
    assert_eq "chos-setup start with a $kind planted at the $what: exit status" 1 "$rc"
    assert_eq "chos-setup start with a $kind planted at the $what: lines of error" 1 "$(printf '%s\n' "$err" | wc -l)"
    assert_match "chos-setup start with a $kind planted at the $what: the error" "^chos-setup: .*'?$path'?" "$err"
    it_assert_nothing_left "a refused start ($kind at the $what)"
    assert_eq "the planted $kind at the $what and the attacker's directory, after the refused start" \
        "$before" "$(snapshot "$path"; snapshot "$evil")"
    rm -rf "$path"
done

# A planted pid file in a root-owned run_dir: a symlink to a file of nobody's.
# Refusing is fine, and so is replacing it -- writing through it is not.
mkdir -p -m 0755 "$RUN"
echo 1 > "$evil/victim.pid" && chown $IT_NOBODY "$evil/victim.pid"
ln -s "$evil/victim.pid" "$RUN/linkfs.pid"
err=$(chos_setup start 2>&1 >/dev/null); rc=$?
it_say "a planted pid-file symlink: exit $rc: $err"
assert_eq "the attacker's file the planted pid-file symlink pointed to" 1 "$(cat "$evil/victim.pid")"
if [ $rc = 0 ]; then
    [ -L "$RUN/linkfs.pid" ] && it_fail "chos-setup start adopted a planted pid-file symlink"
else
    assert_eq "lines of error for a planted pid-file symlink" 1 "$(printf '%s\n' "$err" | wc -l)"
    it_assert_nothing_left "a start refused for a planted pid-file symlink"
    rm -f "$RUN/linkfs.pid"
fi
[ $rc = 0 ] || it_start

# and after all that, CHOS works
assert_eq "a process in a after the refused starts" "NAME=a" \
    "$(in_env a chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"
it_done
