#!/usr/bin/env bash
# Late mounts (docs/threat-model.md, class Q): a file system the host mounts AFTER
# `chos-setup start` under a directory the tree binds (an automounted project space, a
# USB stick, a tree image) arrives in /chos by propagation with its own flags. Here a
# tmpfs holding a setuid-root copy of the euid probe and a device node (/dev/null's
# numbers) is mounted on the host twice: under the source of a `bind:` entry (so it
# also shows under /chos/local) and under environment a's own `opt`. Inside chos-run,
# run as nobody through the real setuid launcher, the binary keeps euid 65534 and the
# device does not open: chos-guard made the copies nosuid,nodev (docs/architecture.md
# "The mount guard"), as the process inside sees in its own /proc/self/mountinfo. The
# mounts still appear inside (their files are read), and a mount made after the first
# ones still does. Run once per link backend (CHOS_IT_BACKEND): with `namespace` each
# environment has a mount namespace of its own, a slave of the host's, which gets its
# own copy of every late mount -- the guard watches each (through chos-nsd). After a
# reload (the namespace backend makes new namespaces: the guard is restarted, lets the
# old ones go and watches the new) the earlier mounts are still guarded inside and a
# mount made after it is too. chos-setup status shows the guard; chos-setup stop leaves
# no chos-guard process and no pid file.
# checks: Q
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_launchers
make_tree "$IT_BASE/trees/a" a
mkdir -m 0755 "$IT_BASE/trees/a/opt"
# The host's side of propagation: shared mounts, as /home and /srv are on a systemd
# host. The test's namespace starts all private, so it makes its own shared ones.
proj=$IT_BASE/proj
mkdir -p "$proj"
mount -t tmpfs -o mode=0755,size=16m it-proj "$proj" && mount --make-shared "$proj" ||
    it_fail "cannot make the shared project mount"
mount --bind "$IT_BASE/trees/a" "$IT_BASE/trees/a" && mount --make-shared "$IT_BASE/trees/a" ||
    it_fail "cannot make environment a's tree a shared mount"
IT_OWN_MOUNTS+=("$proj" "$IT_BASE/trees/a")

IT_CFG_BIND="/dev
/proc
{ source: $proj, target: /proj }"
IT_CFG_OS_DIRS="[bin, etc, lib, sbin, usr, opt]" it_config a:"$IT_BASE/trees/a"
it_bind_config
it_start

run_as_nobody() { "${IT_AS_NOBODY[@]}" "$BIN/chos-run" -o a -- "$@" 2>&1; }

# A tmpfs with the probes, mounted on the host at DIR (what an automounter does).
late_mount() { # DIR NAME
    local dir=$1
    mkdir -p "$dir" && mount -t tmpfs -o mode=0755,size=8m "it-$2" "$dir" || it_fail "cannot mount $dir"
    cp "$CHOS_IT_SUID" "$dir/suid" && chown 0:0 "$dir/suid" && chmod 4755 "$dir/suid" || it_fail "setuid probe in $dir"
    mknod -m 0666 "$dir/nulldev" c 1 3 || it_fail "mknod in $dir"
    echo "late $2" > "$dir/marker"
    IT_CLEANUP+=("umount -l '$dir'")
}

# The mount at exactly PATH in this namespace has nosuid and nodev.
guarded() { # PATH
    it_mounts_under "$1" | awk -v p="$1" '$1 == p { o = "," $2 ","; ok = (o ~ /,nosuid,/ && o ~ /,nodev,/) }
        END { exit !ok }'
}

# What a process inside environment a sees of its mounts (paths relative to its root).
inside_mountinfo() { run_as_nobody cat /proc/self/mountinfo; }
# The options of the mount at PATH, as a process inside environment a sees it (PATH
# resolved there first: with fuse /opt is a symlink through the link, with namespace
# a bind).
inside_opts() {
    local real
    real=$(run_as_nobody readlink -f "$1")
    inside_mountinfo | awk -v p="$real" '$5 == p { o = $6 } END { print o }'
}
guarded_inside() { # PATH
    local o
    o=",$(inside_opts "$1"),"
    [[ $o == *,nosuid,* && $o == *,nodev,* ]]
}

# checks one late mount seen inside environment a at INSIDE, whose copy in the tree
# (this namespace's view) is TREE_PATH
check_late() { # WHAT HOST_DIR INSIDE TREE_PATH
    local what=$1 host=$2 inside=$3 copy=$4
    # Controls, without CHOS: on the host the setuid bit and the device work.
    assert_eq "control ($what): nobody runs the setuid probe on the host" "euid 0 ruid $IT_NOBODY" \
        "$("${IT_AS_NOBODY[@]}" "$host/suid")"
    assert_eq "control ($what): the device opens on the host" "OK" "$("$TOOL" open "$host/nulldev" rw)"
    # The guard is asynchronous (a window of well under a millisecond to a few ms:
    # docs/threat-model.md, class Q): give it a moment, the assertions below decide.
    wait_for 5 guarded "$copy" || it_say "$what: $copy still lacks nosuid,nodev after 5 s"
    wait_for 5 guarded_inside "$inside" ||
        it_fail "$what: inside environment a, $inside is '$(inside_opts "$inside")', not nosuid,nodev"
    assert_eq "$what: the late mount appears inside" "late ${host##*/}" "$(run_as_nobody cat "$inside/marker")"
    assert_eq "$what: nobody runs the setuid probe inside" "euid $IT_NOBODY ruid $IT_NOBODY" \
        "$(run_as_nobody "$inside/suid")"
    assert_match "$what: the device does not open inside" '^ERR (EACCES|EPERM)$' \
        "$(run_as_nobody /bin/chos-it-tool open "$inside/nulldev" rw)"
}

# 1. under the source of a bind: entry -- inside as /proj/<d> and /local<source>/<d>
late_mount "$proj/p1" p1
check_late "under a bind source, seen at /proj" "$proj/p1" /proj/p1 "$TREE/proj/p1"
check_late "under a bind source, seen through /local" "$proj/p1" "/local$proj/p1" "$TREE/local$proj/p1"

# 2. under an environment's own directory: /opt of environment a
late_mount "$IT_BASE/trees/a/opt/o1" o1
check_late "under environment a's opt" "$IT_BASE/trees/a/opt/o1" /opt/o1 "$TREE/.chos/gate/a/tree/opt/o1"

# 3. one more, later still: the guard keeps watching, the mounts keep arriving
late_mount "$proj/p2" p2
check_late "a second mount under the bind source" "$proj/p2" /proj/p2 "$TREE/proj/p2"

# Every mount under the tree, however it arrived: nosuid,nodev (nodev off only under
# the /dev bind, the launchers' binds untouched) -- in the host's view of the tree and in
# what a process inside environment a sees (with the namespace backend, its own namespace).
unguarded() { # TREE (mountinfo lines on stdin: mount point, options)
    awk -v t="$1" '
    {
        m = $1; o = "," $2 ","
        if (index(m, t "/.chos/bin/") == 1 || (t == "" && index(m, "/.chos/bin/") == 1)) next
        devok = (m == t "/dev" || index(m, t "/dev/") == 1)
        if (o !~ /,nosuid,/) print m " (" $2 "): no nosuid"
        else if (!devok && o !~ /,nodev,/) print m " (" $2 "): no nodev"
    }'
}
check_all_guarded() { # WHEN
    local bad
    bad=$(it_mounts_under "$TREE" | unguarded "$TREE")
    [ -z "$bad" ] || it_fail "$1: mounts under the tree without nosuid/nodev: $(echo "$bad" | head -n 8 | tr '\n' ';')"
    bad=$(inside_mountinfo | awk '{ print $5, $6 }' | unguarded "")
    [ -z "$bad" ] || it_fail "$1: mounts inside environment a without nosuid/nodev: $(echo "$bad" | head -n 8 | tr '\n' ';')"
    assert_match "$1: inside sees the late mounts" "/proj/p1 " "$(inside_mountinfo | awk '{ print $5, $6 }')"
}
check_all_guarded "after start"
# the launchers stay setuid: chos-run above worked as nobody; and they are not nosuid
assert_no_match "the launcher's bind keeps setuid" 'nosuid' \
    "$(it_mounts_under "$TREE/.chos/bin/chos-run" | awk '{ print $2 }')"

# chos-setup status names the guard and its pid (the pid file's).
out=$(chos_setup status 2>&1)
gpid=$(cat "$RUN/guard.pid" 2>/dev/null)
assert_match "a guard pid file after start" '^[0-9]+$' "$gpid"
assert_match "chos-setup status shows the guard" "guard: +chos-guard pid $gpid running, watching $TREE" "$out"

# The mount namespaces a process holds open (nsfs inodes, one a line, sorted).
held_mnt() { # PID
    for f in /proc/"$1"/fd/*; do readlink "$f"; done 2>/dev/null | sed -n 's/^mnt:\[\([0-9]*\)\]$/\1/p' | sort -u
}
# The namespace inode of environment a in chos-nsd's record (the namespace backend).
record_ns_a() { awk '$1 == "env" && $2 == "a" { print $4 }' "$RUN/namespaces"; }

# 4. reload: the late mounts stay guarded inside, and one made after the reload is too.
#    With the namespace backend the reload makes new namespaces: the guard is restarted
#    and watches environment a's new one, not the old; with fuse it is left alone.
[ "$CHOS_IT_BACKEND" = namespace ] && old_ns=$(record_ns_a)
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "chos-setup reload: exit status ($out)" 0 "$rc"
gpid2=$(cat "$RUN/guard.pid" 2>/dev/null)
assert_match "a guard pid file after reload" '^[0-9]+$' "$gpid2"
assert_eq "the guard's process after reload" chos-guard "$(cat "/proc/$gpid2/comm" 2>/dev/null)"
if [ "$CHOS_IT_BACKEND" = namespace ]; then
    new_ns=$(record_ns_a)
    assert_match "environment a's namespace in the record" '^[0-9]+$' "$new_ns"
    assert_ne "the reload made a new namespace for a" "$old_ns" "$new_ns"
    assert_ne "the reload restarted the guard" "$gpid" "$gpid2"
    wait_for 5 sh -c "! kill -0 $gpid" || it_fail "the old chos-guard (pid $gpid) still runs after the reload"
    held=$(held_mnt "$gpid2")
    grep -qx "$new_ns" <<< "$held" || it_fail "the new guard does not hold a's new namespace $new_ns (it holds: $held)"
    ! grep -qx "$old_ns" <<< "$held" || it_fail "the new guard still holds a's old namespace $old_ns"
    assert_match "chos-setup reload says it restarted the guard" 'restarted chos-guard' \
        "$(chos_setup --verbose reload 2>&1)"
    gpid2=$(cat "$RUN/guard.pid")
else
    assert_eq "the reload left the guard alone" "$gpid" "$gpid2"
fi
check_late "under the bind source, after the reload" "$proj/p1" /proj/p1 "$TREE/proj/p1"
late_mount "$proj/p3" p3
check_late "a mount made after the reload" "$proj/p3" /proj/p3 "$TREE/proj/p3"
check_late "under environment a's opt, after the reload" "$IT_BASE/trees/a/opt/o1" /opt/o1 "$TREE/.chos/gate/a/tree/opt/o1"
check_all_guarded "after the reload"

# chos-setup stop: no chos-guard left, no pid file.
for d in "$IT_BASE"/trees/a/opt/o1 "$proj"/p1 "$proj"/p2 "$proj"/p3; do umount -l "$d"; done
IT_CLEANUP=()
out=$(chos_setup stop 2>&1); rc=$?
assert_eq "chos-setup stop: exit status ($out)" 0 "$rc"
IT_STOPPED=1
wait_for 5 sh -c '! pgrep -x chos-guard' || it_fail "chos-setup stop left chos-guard running: $(pgrep -a -x chos-guard)"
assert_eq "the guard's pid file after stop" "absent" "$([ -e "$RUN/guard.pid" ] && echo present || echo absent)"
it_done
