#!/usr/bin/env bash
# chos-setup reload of what is not an environment (chos-setup(8) "reload"): a bind
# entry added and removed, os_dirs links added and removed, a shared file added,
# `local` turned off and on -- each applied to the running tree, seen at once by a
# new process in the environment, while a process that runs there all along never
# notices. A reload that fails halfway (a bind source that does not exist, an
# environment tree owned by a user) exits 1 with one line and takes back what it had
# already added: the tree is as before, no cgroup for an environment it added.
# checks: P6 H
source "$(dirname "$0")/lib.sh"
it_main "$@"

for e in a b c; do make_tree "$IT_BASE/trees/$e" $e; done
mkdir -p "$IT_BASE/trees/a/opt" && echo "a's opt" > "$IT_BASE/trees/a/opt/marker"
echo "the tree's hosts" > "$IT_BASE/trees/a/etc/hosts"
make_tree "$IT_BASE/trees/d" d
chown "$IT_NOBODY" "$IT_BASE/trees/d"       # refused by any start or reload
mkdir -p "$IT_BASE/data" && echo "shared data" > "$IT_BASE/data/file"
BASE_BIND=$'/dev\n/proc\n{ source: '"$IT_BASE/home"', target: /home }'
config() { IT_CFG_BIND=${BIND:-$BASE_BIND} it_config "$@"; }
config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
it_start

probe_bg a "$IT_BASE/logs/a.probe" 20
pa=$IT_LAST_PID
wait_probe_advance "$IT_BASE/logs/a.probe" 0 5 10 || it_fail "the probe in a printed nothing"
in_a() { in_env a chroot "$TREE" "$@" 2>&1; }

mount_opts() { awk -v m="$1" '$5 == m { print $6 }' /proc/self/mountinfo; }

# 1. A bind entry added: mounted (nosuid, nodev), seen in a; removed: gone.
BIND=$BASE_BIND$'\n{ source: '"$IT_BASE/data"', target: /data }' config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
reload_ok "a bind added"
assert_match "TREE/data after the reload: a mount, nosuid and nodev" "nosuid.*nodev|nodev.*nosuid" "$(mount_opts "$TREE/data")"
assert_eq "/data in a after the reload" "shared data" "$(in_a /bin/cat /data/file)"
config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
reload_ok "the bind removed"
assert_eq "TREE/data after the bind left the config" "" "$(mount_opts "$TREE/data")"
[ -e "$TREE/data" ] && it_fail "the mount point TREE/data is left after the bind left the config"
assert_match "/data in a after the bind left the config" "No such file or directory" "$(in_a /bin/cat /data/file)"

# 2. os_dirs: opt added, sbin taken out.
IT_CFG_OS_DIRS="[bin, etc, lib, usr, opt]" config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
reload_ok "os_dirs changed"
assert_eq "TREE/opt after opt joined os_dirs" ".chos/fs/link/opt" "$(readlink "$TREE/opt")"
assert_eq "/opt in a" "a's opt" "$(in_a /bin/cat /opt/marker)"
[ -e "$TREE/sbin" ] || [ -L "$TREE/sbin" ] && it_fail "TREE/sbin is left after sbin left os_dirs"

# 3. A shared file added: bound into the running environment.
assert_eq "/etc/hosts in a before" "the tree's hosts" "$(in_a /bin/cat /etc/hosts)"
IT_CFG_OS_DIRS="[bin, etc, lib, usr, opt]" IT_CFG_SHARED="[/etc/passwd, /etc/group, /etc/hosts]" \
    config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
reload_ok "/etc/hosts added to shared_files"
assert_eq "/etc/hosts in a after it joined shared_files" "$(md5sum < /etc/hosts)" "$(in_env a chroot "$TREE" /bin/cat /etc/hosts | md5sum)"

# 4. local: false takes the host's root out of the tree, true brings it back.
echo "the host" > "$IT_BASE/host-marker"
assert_eq "the host's file through /local in a" "the host" "$(in_a /bin/cat "/local$IT_BASE/host-marker")"
IT_CFG_LOCAL=false IT_CFG_OS_DIRS="[bin, etc, lib, usr, opt]" IT_CFG_SHARED="[/etc/passwd, /etc/group, /etc/hosts]" \
    config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
reload_ok "local: false"
assert_eq "TREE/local after local: false" "" "$(mount_opts "$TREE/local")"
assert_match "the host's file through /local in a, local: false" "No such file or directory" \
    "$(in_a /bin/cat "/local$IT_BASE/host-marker")"
IT_CFG_OS_DIRS="[bin, etc, lib, usr, opt]" IT_CFG_SHARED="[/etc/passwd, /etc/group, /etc/hosts]" \
    config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
reload_ok "local: true again"
assert_match "TREE/local after local: true, nosuid and nodev" "nosuid.*nodev|nodev.*nosuid" "$(mount_opts "$TREE/local")"
assert_eq "the host's file through /local in a, local: true again" "the host" "$(in_a /bin/cat "/local$IT_BASE/host-marker")"

# 5. A reload that fails halfway takes back what it added.
FINAL=(a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b")
final_config() {
    IT_CFG_OS_DIRS="[bin, etc, lib, usr, opt]" IT_CFG_SHARED="[/etc/passwd, /etc/group, /etc/hosts]" config "$@"
}
before=$(it_mounts_under "$IT_BASE" | sort)
# 5a. a new bind, then one whose source does not exist
BIND=$BASE_BIND$'\n{ source: '"$IT_BASE/data"$', target: /data }\n{ source: /nonexistent-chos-it, target: /missing }' \
    final_config "${FINAL[@]}"
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "reload with a missing bind source: exit status" 1 "$rc"
# (refused by the checks of `chos-setup check`, which reload runs first: nothing mounted)
assert_eq "reload with a missing bind source: the error" \
    "chos-setup: refusing to reload: $CFG: bind source '/nonexistent-chos-it': No such file or directory" \
    "$(grep -v '^chos-setup: warning' <<< "$out")"
assert_eq "the mounts after the failed reload (the new bind taken back)" "$before" "$(it_mounts_under "$IT_BASE" | sort)"
# 5b. a new environment c, then d, whose tree a user owns
final_config "${FINAL[@]}" c:"$IT_BASE/trees/c" d:"$IT_BASE/trees/d"
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "reload with a user's tree: exit status" 1 "$rc"
assert_eq "reload with a user's tree: the error" \
    "chos-setup: refusing to reload: $CFG:$(grep -n "^    path: $IT_BASE/trees/d$" "$CFG" | cut -d: -f1):11: environment 'd': tree '$IT_BASE/trees/d' is owned by user 'nobody' (uid $IT_NOBODY), not root" \
    "$(grep -v '^chos-setup: warning' <<< "$out")"
assert_eq "the mounts after the failed reload (c taken back)" "$before" "$(it_mounts_under "$IT_BASE" | sort)"
# (the empty mount point .chos/os/c may stay: the next reload removes it)
[ -n "$(ls -A "$TREE/.chos/os/c" 2>/dev/null)" ] && it_fail "the failed reload left c's tree reachable in the tree"
[ -e "$REGMNT/c" ] && it_fail "the failed reload left a cgroup for environment c"
# and the same configuration without d works
final_config "${FINAL[@]}" c:"$IT_BASE/trees/c"
reload_ok "c alone"
assert_eq "a process in c after the good reload" "NAME=c" "$(in_env c chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"

it_pid_alive "$pa" || it_fail "the process in a died"
assert_eq "what the process in a saw, all along" "../os/a NAME=a" "$(awk '{ print $2, $3 }' "$IT_BASE/logs/a.probe" | sort -u)"
it_done
