#!/usr/bin/env bash
# When the daemon cannot vouch for a caller, it refuses: EACCES, never the host's
# answer, never another environment's.
#  - malformed registrations (only root can make them, but a mistake or a stale
#    layout must not widen access): a cgroup nested inside an environment's, a
#    cgroup whose name is not an environment name -> EACCES, for readlink and for a
#    path through the link;
#  - a caller that is gone by the time its answer is ready is answered but never
#    cached (the check before caching; strace injects the daemon's view of the
#    caller, see 3.);
#  - the notices about refused callers are rate-limited per uid: a user refused 60
#    times gets 5 lines and a count of the rest, and does not silence another user.
# checks: P8 K L
source "$(dirname "$0")/lib.sh"
it_main "$@"
command -v strace >/dev/null || it_need "needs strace"

it_start_with a b

# The daemon in the foreground (its notices on stderr, without --debug: the rate
# limit is for production), on the same mount.
restart_daemon() { # [--debug]
    kill -TERM "$DAEMON"; wait_for 10 eval '! it_pid_alive '"$DAEMON" || it_fail "chos-linkfs ignored SIGTERM"
    wait_for 5 eval "! grep -q ' $TREE/.chos/fs .* - fuse' /proc/self/mountinfo" ||
        it_fail "chos-linkfs left its mount behind after SIGTERM"
    DLOG=$IT_BASE/logs/linkfs.$((++restarts)).log
    "$CHOS_LINKFS" --foreground "$@" --config "$CFG" 2> "$DLOG" &
    DAEMON=$!
    IT_PIDS+=($DAEMON)
    wait_for 10 "$TOOL" readlink "$LINK" || it_fail "chos-linkfs --foreground does not answer: $(cat "$DLOG")"
}
restarts=0
restart_daemon

# 1. Malformed registrations.
mkdir "$REGMNT/a/nested" "$REGMNT/not an env" || it_fail "cannot make the malformed cgroups"
IT_CLEANUP+=("rmdir '$REGMNT/a/nested' '$REGMNT/not an env'")
for where in a/nested "not an env"; do
    assert_eq "readlink from the cgroup '$where'" "ERR EACCES" \
        "$(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" readlink "$2"' "$REGMNT/$where" "$TOOL" "$LINK")"
    assert_eq "stat through the link from the cgroup '$where'" "ERR EACCES" \
        "$(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" stat "$2" 1' "$REGMNT/$where" "$TOOL" "$TREE/usr/bin/env")"
done
assert_match "the daemon says why" \
    "^chos-linkfs: readlink by pid ([0-9]+) \\(uid 0\\) refused: malformed registration of pid: '[0-9]+': cgroup '/a/nested'$" \
    "$(grep "a/nested" "$DLOG" | head -n 1)"
# the controls, right after: registered in a, and unregistered
assert_eq "readlink from a" "../os/a" "$(in_env a "$TOOL" readlink "$LINK")"
assert_eq "readlink unregistered" "../../local" "$(in_env - "$TOOL" readlink "$LINK")"

# 2. Notices rate-limited per uid: 5 per uid and 10 s window, the rest counted.
window_start=$SECONDS
refuse_as() { # UID N: N refused readlinks by uid UID from the nested cgroup
    sh -c 'echo $$ > "$0/cgroup.procs" && exec setpriv --reuid="$1" --regid="$1" --clear-groups "$2" readlink "$3" "$4"' \
        "$REGMNT/a/nested" "$1" "$TOOL" "$LINK" "$2" | sort | uniq -c | sed 's/^ *//'
}
mark=$(wc -l < "$DLOG")
assert_eq "60 refused readlinks by uid $IT_NOBODY" "60 ERR EACCES" "$(refuse_as $IT_NOBODY 60)"
assert_eq "3 refused readlinks by uid 4242, meanwhile" "3 ERR EACCES" "$(refuse_as 4242 3)"
notices() { tail -n +$((mark + 1)) "$DLOG" | grep -c "(uid $1) refused"; }
assert_eq "notices about uid $IT_NOBODY in the window" 5 "$(notices $IT_NOBODY)"
assert_eq "notices about uid 4242 (not silenced by the other)" 3 "$(notices 4242)"
# After the window: the next notice for uid 65534 comes with the count of the rest.
left=$((window_start + 11 - SECONDS)); [ $left -gt 0 ] && sleep $left
refuse_as $IT_NOBODY 1 >/dev/null
assert_match "the count of what was suppressed" "^chos-linkfs: 55 messages about requests of uid $IT_NOBODY suppressed$" \
    "$(tail -n +$((mark + 1)) "$DLOG" | grep 'suppressed')"
assert_eq "notices about uid $IT_NOBODY after the window" 6 "$(notices $IT_NOBODY)"

# 3. The check before caching: an answer is cached only while its caller is still
# there (else the number could be someone else's by the time of the next request).
# A real caller cannot leave while the daemon holds its request -- the kernel waits
# out even SIGKILL until the answer (a killed caller here gets "(miss)" and goes
# after) -- so the test injects the daemon's view: strace makes the daemon's poll of
# the caller's pidfd, its last look before caching, say "exited" once. That answer
# is given but not cached ("(uncached)" in the --debug line) and no pidfd is kept;
# the same caller's next readlink is a miss, the one after a hit.
restart_daemon --debug
coproc CTL { in_env a "$TOOL" ctl "$LINK" "$FLUSH" 2>&1; }
ctl_pid=$CTL_PID
ctl() { echo "$1" >&"${CTL[1]}"; local l; read -r -t 20 l <&"${CTL[0]}" || l="(no answer)"; echo "$l"; }
caller=$(ctl p)
[[ "$caller" =~ ^[0-9]+$ ]] || it_fail "the ctl process did not say its pid: $caller"
IT_PIDS+=($caller)
fds0=$(daemon_fds "$DAEMON")
strace -f -qq -p "$DAEMON" -e trace=poll -e inject=poll:retval=1 -o "$IT_BASE/logs/strace.log" &
spid=$!
IT_PIDS+=($spid)
wait_for 10 grep -q "^TracerPid:[[:space:]]*$spid$" "/proc/$DAEMON/status" || it_fail "strace did not attach to the daemon"
assert_eq "readlink while the daemon sees its caller as exited" "../os/a" "$(ctl r)"
kill -INT $spid; wait $spid 2>/dev/null
wait_for 10 grep -q "^TracerPid:[[:space:]]*0$" "/proc/$DAEMON/status" || it_fail "strace did not let go of the daemon"
assert_eq "the daemon's fds: no pidfd kept for it" "$fds0" "$(daemon_fds "$DAEMON")"
assert_eq "the same caller, twice more" "../os/a ../os/a" "$(ctl r) $(ctl r)"
assert_eq "how the daemon answered the three" "uncached miss hit" \
    "$(grep "readlink by pid $caller " "$DLOG" | sed 's/.*(\(.*\))$/\1/' | tr '\n' ' ' | sed 's/ $//')"
assert_match "strace made the daemon's poll say 'exited'" "poll\\(.*\\) = 1 \\(INJECTED\\)" "$(cat "$IT_BASE/logs/strace.log")"
echo q >&"${CTL[1]}"
wait "$ctl_pid" 2>/dev/null

kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
rmdir "$REGMNT/a/nested" "$REGMNT/not an env" || it_fail "cannot remove the malformed cgroups"
IT_CLEANUP=()
it_done
