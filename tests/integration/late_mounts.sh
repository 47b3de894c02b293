#!/usr/bin/env bash
# Late mounts (docs/threat-model.md, class Q): a file system the host mounts AFTER
# `chos-setup start` under a directory the tree binds (an automounted project space, a
# USB stick, a tree image) arrives in /chos by propagation with its own flags. Here a
# tmpfs holding a setuid-root copy of the euid probe and a device node (/dev/null's
# numbers) is mounted on the host twice: under the source of a `bind:` entry (so it
# also shows under /chos/local) and under environment a's own `opt`. Inside chos-run,
# run as nobody through the real setuid launcher, the binary keeps euid 65534 and the
# device does not open: chos-guard made the copies nosuid,nodev (docs/architecture.md
# "The mount guard"). The mounts still appear inside (their files are read), and a
# mount made after the first ones still does. chos-setup status shows the guard;
# chos-setup stop leaves no chos-guard process and no pid file.
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
check_late "under environment a's opt" "$IT_BASE/trees/a/opt/o1" /opt/o1 "$TREE/.chos/os/a/opt/o1"

# 3. one more, later still: the guard keeps watching, the mounts keep arriving
late_mount "$proj/p2" p2
check_late "a second mount under the bind source" "$proj/p2" /proj/p2 "$TREE/proj/p2"

# Every mount under the tree, however it arrived: nosuid,nodev (nodev off only under
# the /dev bind, the launchers' binds untouched).
bad=$(it_mounts_under "$TREE" | awk -v t="$TREE" '
    {
        m = $1; o = "," $2 ","
        if (index(m, t "/.chos/bin/") == 1) next
        devok = (m == t "/dev" || index(m, t "/dev/") == 1)
        if (o !~ /,nosuid,/) print m " (" $2 "): no nosuid"
        else if (!devok && o !~ /,nodev,/) print m " (" $2 "): no nodev"
    }')
[ -z "$bad" ] || it_fail "mounts under the tree without nosuid/nodev: $(echo "$bad" | head -n 8 | tr '\n' ';')"
# the launchers stay setuid: chos-run above worked as nobody; and they are not nosuid
assert_no_match "the launcher's bind keeps setuid" 'nosuid' \
    "$(it_mounts_under "$TREE/.chos/bin/chos-run" | awk '{ print $2 }')"

# chos-setup status names the guard and its pid (the pid file's).
out=$(chos_setup status 2>&1)
gpid=$(cat "$RUN/guard.pid" 2>/dev/null)
assert_match "a guard pid file after start" '^[0-9]+$' "$gpid"
assert_match "chos-setup status shows the guard" "guard: +chos-guard pid $gpid running, watching $TREE" "$out"

# chos-setup stop: no chos-guard left, no pid file.
for d in "$IT_BASE"/trees/a/opt/o1 "$proj"/p1 "$proj"/p2; do umount -l "$d"; done
IT_CLEANUP=()
out=$(chos_setup stop 2>&1); rc=$?
assert_eq "chos-setup stop: exit status ($out)" 0 "$rc"
IT_STOPPED=1
wait_for 5 sh -c '! pgrep -x chos-guard' || it_fail "chos-setup stop left chos-guard running: $(pgrep -a -x chos-guard)"
assert_eq "the guard's pid file after stop" "absent" "$([ -e "$RUN/guard.pid" ] && echo present || echo absent)"
it_done
