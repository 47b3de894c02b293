#!/usr/bin/env bash
# The properties through the real setuid launcher, for the link backend under test
# (CHOS_IT_BACKEND: meson runs this once per backend): two processes of one user in two
# environments at once (P1); children stay (P2); the registry still records the
# environment; a user cannot reach what makes an environment -- the namespace
# holder's descriptors, its record, their own user+mount namespace (P3, class T);
# launches leave no mount, namespace, cgroup or daemon fd behind (P5); with the
# backend's daemon gone a launch is refused with one clear line and registers nothing,
# and chos-setup start brings it back (P8, P6); a reload adding and removing environments
# under running processes (P6). IT_LAUNCHES (default 10000): the launches of P5.
# checks: P1 P2 P3 P5 P6 P8 T
source "$(dirname "$0")/lib.sh"
it_main "$@"

# The source of the tree's /home is a shared mount, as an automounted /home is: a mount
# made under it later must appear inside every environment.
mkdir -p "$IT_BASE/home/late"
mount --bind "$IT_BASE/home" "$IT_BASE/home" && mount --make-shared "$IT_BASE/home" ||
    it_fail "cannot make $IT_BASE/home a shared mount"
IT_OWN_MOUNTS+=("$IT_BASE/home")
IT_DEFAULT=a it_start_launchers a b -- a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" h:-
it_say "backend: $CHOS_IT_BACKEND, daemon $IT_DAEMON_COMM pid $DAEMON"

# --- P1: one user, two environments, at the same time; the host sees the host.
loop='i=0; while [ $i -lt 200 ]; do grep ^NAME= /etc/os-release; i=$((i+1)); done'
chos_run -o a -- sh -c "$loop" > "$L/p1.a" 2>&1 &
pa=$!
chos_run -o b -- sh -c "$loop" > "$L/p1.b" 2>&1 &
pb=$!
wait $pa; wait $pb
assert_eq "P1: a's 200 reads" "200 NAME=a" "$(sort "$L/p1.a" | uniq -c | awk '{ print $1, $2 }' | tr '\n' ' ' | sed 's/ $//')"
assert_eq "P1: b's 200 reads" "200 NAME=b" "$(sort "$L/p1.b" | uniq -c | awk '{ print $1, $2 }' | tr '\n' ' ' | sed 's/ $//')"
assert_eq "P1: the host's view of the link" "../../local" "$(readlink "$LINK")"
assert_eq "P1: inside a, the link" "../os/a" "$(chos_run -o a -- readlink /.chos/fs/link 2>&1)"
assert_eq "P1: inside a, /usr/bin/env is a's" "$(stat -c %i "$IT_BASE/trees/a/usr/bin/env")" \
    "$(chos_run -o a -- stat -c %i /usr/bin/env 2>&1)"

# --- P2 and the registry: children, new sessions, double forks stay; --current says so.
out=$(chos_run -o a -- sh -c 'sh -c "grep ^NAME= /etc/os-release"; (sh -c "grep ^NAME= /etc/os-release" &); sleep 0.2' 2>&1)
assert_eq "P2: a child and a double-forked grandchild" "NAME=a NAME=a" "$(echo $out)"
assert_eq "the registry records a" "/a" \
    "$(chos_run -o a -- sh -c "grep -o 'name=$IT_REG:.*' /proc/self/cgroup | cut -d: -f2" 2>&1)"
assert_eq "chos --current inside b" "b" "$(chos_run -o b -- chos --current 2>&1)"

# --- P3 / class T: what makes an environment is out of a user's reach.
if [ "$CHOS_IT_BACKEND" = namespace ]; then
    out=$(chos_setup status 2>&1)
    assert_match "status names a's namespace" "namespace: +a: mnt:\[[0-9]+\]" "$out"
    assert_match "status names b's namespace" "namespace: +b: mnt:\[[0-9]+\]" "$out"
    assert_eq "the record is root's, 0600" "0:0 600" "$(stat -c '%u:%g %a' "$RUN/namespaces")"
    as_nobody cat "$RUN/namespaces" >/dev/null 2>&1 && it_fail "a user read the namespace record"
    fdn=$(awk '$1 == "env" && $2 == "a" { print $3 }' "$RUN/namespaces")
    assert_match "the record names a's fd" "^[0-9]+$" "$fdn"
    as_nobody ls "/proc/$DAEMON/fd/" >/dev/null 2>&1 && it_fail "a user listed chos-nsd's descriptors"
    out=$(as_nobody nsenter --mount="/proc/$DAEMON/fd/$fdn" true 2>&1) &&
        it_fail "a user entered a's namespace through chos-nsd: $out"
    out=$(as_nobody unshare -Ur nsenter --mount="/proc/$DAEMON/fd/$fdn" true 2>&1) &&
        it_fail "a user (root of their own user namespace) entered a's namespace: $out"
    # A user's own user+mount namespace never counts: with the tree over-mounted there
    # the launcher has no privilege over the host (the kernel ignores setuid in it; it
    # is only its namespace's root) and refuses with one line.
    out=$(as_nobody unshare -Urm sh -c "mount -t tmpfs evil '$TREE' && exec '$BIN/chos-run' -o a -- cat /etc/os-release" 2>&1); rc=$?
    assert_eq "launch from a user's own user+mount namespace: exit ($out)" 125 "$rc"
    assert_match "launch from a user's own user+mount namespace: a refusal" "^chos: " "$out"
    assert_eq "launch from a user's own user+mount namespace: one line" 1 "$(wc -l <<< "$out")"
    # Root in the host can, as designed (the launcher does the same after its checks).
    assert_eq "root enters a's namespace through chos-nsd" "NAME=a" \
        "$(nsenter --mount="/proc/$DAEMON/fd/$fdn" chroot "$TREE" grep ^NAME= /etc/os-release 2>&1)"
fi

# --- P5: launches leave nothing behind.
count_namespaces() { for p in /proc/[0-9]*; do readlink "$p/ns/mnt" 2>/dev/null; done | sort -u | wc -l; }
settle() { sleep 0.3; }
settle
m0=$(wc -l < /proc/self/mountinfo); n0=$(count_namespaces); f0=$(daemon_fds "$DAEMON")
c0=$(find "$REGMNT" -mindepth 1 -type d | wc -l)
# 10,000 launches from one shell of the user (no setpriv per launch), every 1,000th a
# switch from inside b.
out=$(as_nobody sh -c 'i=0; while [ $i -lt "$1" ]; do
        "$0" -o a -- true || { echo "launch $i failed"; exit 1; }
        [ $((i % 1000)) = 0 ] && { "$0" -o b -- chos-run -o a -- true || { echo "switch $i failed"; exit 1; }; }
        i=$((i + 1))
    done' "$BIN/chos-run" "${IT_LAUNCHES:-10000}" 2>&1) || it_fail "P5: $out"
settle
assert_eq "P5: mounts of the host's namespace after 10,000 launches" "$m0" "$(wc -l < /proc/self/mountinfo)"
assert_eq "P5: mount namespaces after 10,000 launches" "$n0" "$(count_namespaces)"
assert_eq "P5: the daemon's fds after 10,000 launches" "$f0" "$(daemon_fds "$DAEMON")"
assert_eq "P5: registry cgroups after 10,000 launches" "$c0" "$(find "$REGMNT" -mindepth 1 -type d | wc -l)"

# --- a host mount made after the start appears in every environment (autofs, NFS).
mount -t tmpfs -o size=1m late "$IT_BASE/home/late" || it_fail "cannot mount the late tmpfs"
echo "arrived late" > "$IT_BASE/home/late/file"
assert_eq "a late host mount inside a" "arrived late" "$(chos_run -o a -- cat /home/late/file 2>&1)"
assert_eq "a late host mount inside b" "arrived late" "$(chos_run -o b -- cat /home/late/file 2>&1)"

# --- P8: the daemon gone: one clear line, exit 125, nothing registered, a process
# already inside keeps working; a start brings it back.
chos_run -o a -- sh -c 'sleep 1.5; grep ^NAME= /etc/os-release' > "$L/inside" 2>&1 &
inside=$!
sleep 0.3
kill -KILL "$DAEMON"
for i in $(seq 1 100); do it_pid_alive "$DAEMON" || break; sleep 0.05; done
out=$(chos_run -o b -- true 2>&1); rc=$?
assert_eq "daemon gone: exit" 125 "$rc"
assert_eq "daemon gone: message" "chos: $IT_DAEMON_COMM is not running (see 'chos-setup status')" "$out"
assert_eq "daemon gone: nothing registered in b" "" "$(cat "$REGMNT/b/cgroup.procs")"
wait $inside
if [ "$CHOS_IT_BACKEND" = namespace ]; then
    assert_eq "daemon gone: a process inside keeps its view" "NAME=a" "$(cat "$L/inside")"
    out=$(chos_setup status 2>&1); rc=$?
    assert_ne "status with the holder gone: exit" 0 "$rc"
fi
out=$(chos_setup start 2>&1) || it_fail "start after the daemon died: $out"
DAEMON=$(it_daemon_pid) || it_fail "no daemon after start"
assert_eq "after start: b again" "NAME=b" "$(chos_run -o b -- grep ^NAME= /etc/os-release 2>&1)"

# --- P6: a reload that adds c and removes b, with processes in a and b running: they
# keep their view to the end (namespace: the namespace they entered); c can be entered
# at once, b no longer; stop is refused while they run; one daemon is left.
make_tree "$IT_BASE/trees/c" c
slow='sleep 2; grep ^NAME= /etc/os-release; ls /usr/bin/env'
chos_run -o a -- sh -c "$slow" > "$L/reload.a" 2>&1 &
ra=$!
chos_run -o b -- sh -c "$slow" > "$L/reload.b" 2>&1 &
rb=$!
sleep 0.5
IT_DEFAULT=a it_config a:"$IT_BASE/trees/a" c:"$IT_BASE/trees/c" h:-
it_bind_config
out=$(chos_setup reload 2>&1) || it_fail "reload: $out"
assert_match "reload: c added" "added environment 'c'" "$out"
assert_eq "after the reload: c" "NAME=c" "$(chos_run -o c -- grep ^NAME= /etc/os-release 2>&1)"
out=$(chos_run -o b -- true 2>&1); rc=$?
assert_eq "after the reload: b refused" 125 "$rc"
out=$(chos_setup stop 2>&1); rc=$?
assert_ne "stop while processes run: refused" 0 "$rc"
wait $ra; wait $rb
assert_eq "a process of a across the reload" "NAME=a /usr/bin/env" "$(echo $(cat "$L/reload.a"))"
assert_eq "a process of the removed b across the reload" "NAME=b /usr/bin/env" "$(echo $(cat "$L/reload.b"))"
assert_eq "one daemon after the reload" 1 "$(it_linkfs_pids | wc -l)"
[ "$CHOS_IT_BACKEND" = namespace ] &&
    assert_eq "status after the reload: c's namespace" 1 "$(chos_setup status 2>&1 | grep -cE 'namespace: +c: mnt:')"

it_done
