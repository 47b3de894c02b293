#!/usr/bin/env bash
# One upcall per lookup: resolving a path through the link costs exactly one readlink
# upcall, a second readlink by the same process is a cache hit, and a hit reads
# nothing from /proc. Signals: chos-linkfs --debug logs one line per readlink
# upcall, "readlink by pid P (uid U): TARGET (hit|miss|uncached)"; strace of the
# daemon shows its /proc reads.
# checks: P7
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b

# Replace the detached daemon by one in the foreground with --debug, same mount point.
kill -TERM "$DAEMON"
wait_for 10 eval '! it_pid_alive '"$DAEMON" || it_fail "chos-linkfs ignored SIGTERM"
wait_for 5 eval "! grep -q ' $TREE/.chos/fs .* - fuse' /proc/self/mountinfo" ||
    it_fail "chos-linkfs left its mount behind after SIGTERM"
dlog=$IT_BASE/logs/debug.log
"$CHOS_LINKFS" --foreground --debug --config "$CFG" 2> "$dlog" &
IT_PIDS+=($!)
DAEMON=$!
wait_for 10 "$TOOL" readlink "$LINK" || it_fail "chos-linkfs --foreground --debug does not answer: $(cat "$dlog")"

upcalls_of() { grep -c "readlink by pid $1 " "$dlog"; }

# 1. One process reads the link 5 times: 5 upcalls, the first a miss, then hits.
out=$(in_env a sh -c 'echo $$; exec "$0" readlink "$1" 5' "$TOOL" "$LINK")
pid=$(echo "$out" | head -n 1)
assert_eq "answers to 5 readlinks in a" "$(printf '../os/a\n%.0s' 1 2 3 4 5)" "$(echo "$out" | tail -n +2)"
assert_eq "readlink upcalls for 5 readlinks" 5 "$(upcalls_of "$pid")"
assert_eq "how the daemon answered them" "miss hit hit hit hit" \
    "$(grep "readlink by pid $pid " "$dlog" | sed 's/.*(\(.*\))$/\1/' | tr '\n' ' ' | sed 's/ $//')"

# 2. One upcall per path resolution: 100 stat() of TREE/usr/bin/env (through
# TREE/usr -> .chos/fs/link/usr) by one process: exactly 100 upcalls.
out=$(in_env b sh -c 'echo $$; exec "$0" stat "$1" 100' "$TOOL" "$TREE/usr/bin/env")
pid=$(echo "$out" | head -n 1)
assert_eq "100 stat() through the link" "OK 100" "$(echo "$out" | tail -n 1)"
assert_eq "readlink upcalls for 100 stat() of TREE/usr/bin/env" 100 "$(upcalls_of "$pid")"
# inside the chroot: + 1 for chroot's exec of /bin/chos-it-tool (/bin is a link too)
out=$(in_env b sh -c 'echo $$; exec chroot "$0" /bin/chos-it-tool stat /usr/bin/env 100' "$TREE")
pid=$(echo "$out" | head -n 1)
assert_eq "100 stat() of /usr/bin/env inside the chroot" "OK 100" "$(echo "$out" | tail -n 1)"
assert_eq "readlink upcalls for exec /bin/chos-it-tool + 100 stat() inside the chroot" 101 "$(upcalls_of "$pid")"

# 3. The flush lookup is never cached: each reaches the daemon and answers ENOENT.
out=$(in_env a sh -c 'echo $$; "$0" access "$1"; "$0" access "$1"; exec "$0" access "$1"' "$TOOL" "$FLUSH")
pid=$(echo "$out" | head -n 1)
assert_eq "three flush lookups" "$(printf 'ERR ENOENT\nERR ENOENT\nERR ENOENT')" "$(echo "$out" | tail -n +2)"
# (each lookup comes from a different process: the shell forks them)
assert_eq "flush lookups that reached the daemon" 3 "$(grep -c '^chos-linkfs: flush by pid' "$dlog")"

# 4. A cache hit reads no /proc: strace the daemon while one process makes 1 miss
# and 49 hits; the daemon may open /proc once, for that miss.
if command -v strace >/dev/null; then
    slog=$IT_BASE/logs/strace.log
    strace -f -qq -e trace=openat,open,read,pidfd_open -p "$DAEMON" -o "$slog" 2>/dev/null &
    spid=$!
    IT_PIDS+=($spid)
    sleep 1 # attached
    out=$(in_env a sh -c 'echo $$; exec "$0" readlink "$1" 50' "$TOOL" "$LINK")
    pid=$(echo "$out" | head -n 1)
    "$TOOL" readlink "$LINK" >/dev/null
    sleep 0.3
    kill -INT $spid; wait $spid 2>/dev/null
    assert_eq "daemon opens of /proc/$pid/... for 1 miss + 49 hits" 1 "$(grep -c "open.*\"/proc/$pid/" "$slog")"
    assert_eq "daemon pidfd_open($pid) for 1 miss + 49 hits" 1 "$(grep -c "pidfd_open($pid," "$slog")"
    assert_eq "upcalls for those 50 readlinks" 50 "$(upcalls_of "$pid")"
else
    it_fail "strace is needed for the cache-hit check (apt-get install strace)"
fi

kill -TERM "$DAEMON"; wait "$DAEMON" 2>/dev/null
assert_eq "exit status of chos-linkfs --foreground after SIGTERM" 0 "$?"
IT_STOPPED=0
it_done
