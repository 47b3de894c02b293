#!/usr/bin/env bash
# A reused holder pid, forced (docs/threat-model.md, class T; backend namespace): the
# launchers enter an environment's mount namespace only through chos-nsd, which
# <run_dir>/namespaces names by pid and start time, with each namespace's fd number and
# inode. Here the holder is killed with SIGKILL (its record stays behind, naming its
# pid) and that very pid is handed -- /proc/sys/kernel/ns_last_pid of the test's own pid
# namespace -- to a process of user nobody holding a user+mount namespace of its own
# (`unshare -Urm`): in it the tree's path is over-mounted with a look-alike tree
# (os-release NAME=evil), and that namespace is open at the recorded fd number. A launch
# into a is refused with the launcher's one line and exit 125, registers nothing, and
# never runs in the user's namespace (NAME=evil is never printed). The user's process
# is left alone; chos-setup start brings a holder back and a is entered again.
# checks: T
CHOS_IT_BACKEND=namespace
source "$(dirname "$0")/lib.sh"
it_main "$@"

IT_DEFAULT=a it_start_launchers a evil -- a:"$IT_BASE/trees/a"
U=$IT_BASE/user   # where the user's process says it is ready
mkdir -p "$U" && chown "$IT_NOBODY" "$U"

holder=$(awk '$1 == "holder" { print $2 }' "$RUN/namespaces")
fdn=$(awk '$1 == "env" && $2 == "a" { print $3 }' "$RUN/namespaces")
ino=$(awk '$1 == "env" && $2 == "a" { print $4 }' "$RUN/namespaces")
assert_eq "the record names chos-nsd" "$DAEMON" "$holder"
assert_match "the record has a's fd and inode" '^[0-9]+ [0-9]+$' "$fdn $ino"
assert_eq "control: a launch into a" "NAME=a" "$(chos_run -o a -- grep ^NAME= /etc/os-release 2>&1)"

# The holder dies hard: nothing removes its record.
kill -KILL "$holder"
wait_for 5 sh -c "! test -e /proc/$holder" || it_fail "chos-nsd (pid $holder) is still there after SIGKILL"
assert_eq "the record outlives a killed holder" "$holder" "$(awk '$1 == "holder" { print $2 }' "$RUN/namespaces")"

# The user's process, on the holder's pid: the next pid of this (quiet) pid namespace
# is ns_last_pid + 1, and the background job below is the next fork.
evil_ns() { # the user's process: a look-alike tree over the tree's path, its namespace at fd $fdn
    # (exec: the background job's own process becomes the user's, on the pid it forked with)
    (exec "${IT_AS_NOBODY[@]}" unshare -Urm bash -c '
        mount --rbind "$1" "$2" || exit 1
        eval "exec $3</proc/self/ns/mnt" || exit 1
        echo ready > "$4"
        exec sleep 1000' evil "$IT_BASE/trees/evil" "$TREE" "$fdn" "$U/evil.ready") &
    evil=$!
    IT_PIDS+=("$evil")
}
for attempt in 1 2 3; do
    rm -f "$U/evil.ready"
    echo $((holder - 1)) > /proc/sys/kernel/ns_last_pid || it_fail "cannot write ns_last_pid"
    evil_ns
    [ "$evil" = "$holder" ] && break
    kill -KILL "$evil"; wait "$evil" 2>/dev/null
    it_say "attempt $attempt: the user's process got pid $evil, not $holder"
done
assert_eq "the user's process runs on the recorded holder pid" "$holder" "$evil"
wait_for 10 test -s "$U/evil.ready" || it_fail "the user's namespace did not come up"
it_say "record: $(tr '\n' ' ' < "$RUN/namespaces"); fds of $holder: $(ls -l /proc/$holder/fd/ 2>&1 | tr '\n' ' ')"
# The attack as the launcher would meet it: the recorded pid alive, the recorded fd a
# mount namespace -- the user's, owned by nobody.
assert_match "the recorded fd of the reused pid is a mount namespace" '^mnt:\[[0-9]+\]$' \
    "$(readlink "/proc/$holder/fd/$fdn")"
assert_ne "... but not a's" "mnt:[$ino]" "$(readlink "/proc/$holder/fd/$fdn")"
assert_eq "the reused pid is the user's" "$IT_NOBODY" "$(awk '/^Uid:/ { print $2 }' "/proc/$holder/status")"
assert_eq "control: the user's namespace shows the look-alike at the tree's path" "NAME=evil" \
    "$(nsenter -t "$holder" -m grep ^NAME= "$TREE/etc/os-release")"

for who in nobody root; do
    if [ $who = nobody ]; then
        out=$(chos_run -o a -- grep ^NAME= /etc/os-release 2>&1); rc=$?
    else
        out=$("$BIN/chos-run" -o a -- grep ^NAME= /etc/os-release 2>&1); rc=$?
    fi
    assert_eq "launch by $who with the holder's pid reused: exit ($out)" 125 "$rc"
    assert_eq "launch by $who with the holder's pid reused: one line" \
        "chos: chos-nsd is not running (see 'chos-setup status')" "$out"
    assert_eq "launch by $who with the holder's pid reused: nothing registered in a" "" \
        "$(cat "$REGMNT/a/cgroup.procs")"
done
it_pid_alive "$evil" || it_fail "the user's process did not survive the refused launches"
assert_eq "the user's process is still in its own namespace" \
    "$(readlink "/proc/$holder/fd/$fdn")" "$(readlink "/proc/$evil/ns/mnt")"

# Repair: chos-setup start, a new holder, a entered again.
kill -KILL "$evil"; wait "$evil" 2>/dev/null
out=$(chos_setup start 2>&1) || it_fail "start after the holder was killed: $out"
DAEMON=$(it_daemon_pid) || it_fail "no chos-nsd after start"
assert_ne "a new holder" "$holder" "$DAEMON"
assert_eq "after start: a again" "NAME=a" "$(chos_run -o a -- grep ^NAME= /etc/os-release 2>&1)"
it_done
