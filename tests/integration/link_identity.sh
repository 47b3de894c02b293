#!/usr/bin/env bash
# Link identity: readlink from non-leader threads, from a new pid namespace (and a
# user namespace), from processes exiting mid-request, after exec of a setuid binary
# and after exec from a non-leader thread: always the caller's own target (or a
# fail-closed error), never another process's, and no fd kept for a caller that is gone.
# checks: K P8
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b

# 1. threads: 16 non-leader threads + the leader, in a and b at the same time, and
# an unregistered one, 500 readlinks each.
for e in a b -; do
    in_env $e "$TOOL" threads "$LINK" 16 500 > "$IT_BASE/logs/threads.$e" &
done
wait
for e in a b -; do
    f=$IT_BASE/logs/threads.$e
    assert_eq "threads ($e): non-leader threads that answered" 16 "$(grep -c ' leader 0 result ' "$f")"
    assert_eq "threads ($e): every answer of every thread" "result $(target_of $e) mismatches 0" \
        "$(awk '{ print $7, $8, $9, $10 }' "$f" | sort -u)"
done

# 2. a new pid namespace below the daemon's (its callers have pids the daemon sees),
# with and without its own /proc and mount namespace; a user namespace; nested.
assert_eq "readlink in a new pid namespace, in a" "../os/a" \
    "$(in_env a unshare --pid --fork "$TOOL" readlink "$LINK")"
assert_eq "readlink in a new pid + mount namespace with its own /proc, in b" "../os/b" \
    "$(in_env b unshare --pid --fork --mount-proc "$TOOL" readlink "$LINK")"
assert_eq "readlink in two nested pid namespaces, in a" "../os/a" \
    "$(in_env a unshare --pid --fork unshare --pid --fork "$TOOL" readlink "$LINK")"
assert_eq "chroot TREE cat /etc/os-release in a new pid namespace, in b" "NAME=b" \
    "$(in_env b unshare --pid --fork chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"
assert_eq "readlink as nobody in a new user namespace (mapped to root), in a" "../os/a" \
    "$(in_env a "${IT_AS_NOBODY[@]}" unshare --user --map-root-user "$TOOL" readlink "$LINK")"
assert_eq "readlink as nobody in new user + pid namespaces, in b" "../os/b" \
    "$(in_env b "${IT_AS_NOBODY[@]}" unshare --user --map-root-user --pid --fork "$TOOL" readlink "$LINK")"
assert_eq "readlink from a new cgroup namespace, in a" "../os/a" \
    "$(in_env a unshare --cgroup "$TOOL" readlink "$LINK")"

# 3. processes exiting while their readlinks are in flight (3 threads each, cut by
# exit_group at a random moment): the daemon survives, holds no fds for them, and
# answers everybody else right; with pid reuse at once, nobody inherits an answer.
f0=$(daemon_fds "$DAEMON")
out=$(in_env a "$TOOL" midexit "$LINK" 300)
assert_eq "300 processes exiting mid-request" "midexit 300" "$out"
it_pid_alive "$DAEMON" || it_fail "chos-linkfs died from callers exiting mid-request"
"$TOOL" readlink "$LINK" >/dev/null
assert_le "daemon fds after 300 mid-request exits (before: $f0)" $((f0 + 2)) "$(daemon_fds "$DAEMON")"
assert_eq "a process in b right after" "../os/b" "$(in_env b "$TOOL" readlink "$LINK")"
out=$("$TOOL" reuse "$REGMNT" "$LINK" a 150 midreq)
assert_match "pid reuse right after an exit mid-request" '^reuse midreq iterations 150 reused [1-9][0-9]* not_reused [0-9]+ wrong 0 errors 0$' "$out"
out=$("$TOOL" reuse "$REGMNT" "$LINK" b 100 thread a)
assert_match "tid reuse (old thread in b, new process in a)" '^reuse thread iterations 100 reused [1-9][0-9]* not_reused [0-9]+ wrong 0 errors 0$' "$out"

# 4. after exec of a setuid binary (the process turns non-dumpable, its /proc entries
# root-owned): same pid, same registration, same answer.
suid=$IT_BASE/suid
cp "$CHOS_IT_SUID" "$suid" && chown 0:0 "$suid" && chmod 4755 "$suid"
assert_eq "nobody exec'ing a setuid-root binary, in a" "euid 0 ruid $IT_NOBODY target ../os/a" \
    "$(in_env a "${IT_AS_NOBODY[@]}" "$suid" "$LINK")"
assert_eq "nobody exec'ing a setuid-root binary, in b" "euid 0 ruid $IT_NOBODY target ../os/b" \
    "$(in_env b "${IT_AS_NOBODY[@]}" "$suid" "$LINK")"
assert_eq "nobody exec'ing a setuid-root binary, unregistered" "euid 0 ruid $IT_NOBODY target ../../local" \
    "$(in_env - "${IT_AS_NOBODY[@]}" "$suid" "$LINK")"
# the same pid read the link as nobody before the exec (cached), then as setuid root
out=$(in_env a "${IT_AS_NOBODY[@]}" "$TOOL" readlink-exec "$LINK" "$suid" "$LINK")
assert_eq "one pid: readlink as nobody (cached), exec of a setuid binary, readlink as euid 0, in a" \
    "$(printf 'before ../os/a\neuid 0 ruid %s target ../os/a' $IT_NOBODY)" "$out"
rm -f "$suid"

# 5. a non-leader thread reads the link (cached under its thread id, with a thread
# pidfd), then execs: the kernel gives it the leader's pid and releases the old leader
# under the thread's number. The thread's entry must go: no fd kept for a thread that
# no longer exists (issue 12 reported one left over; on Linux 6.18 the thread pidfd is
# woken and the entry goes, so this guards against its coming back).
"$TOOL" readlink "$LINK" >/dev/null
f0=$(daemon_fds "$DAEMON")
out=$(in_env a "$TOOL" thread-exec "$LINK" "$TOOL" readlink "$LINK")
assert_match "a thread reads the link, then execs; the new image reads it too" \
    "^thread [0-9]+ of [0-9]+ target \.\./os/a"$'\n'"\.\./os/a\$" "$out"
for i in 1 2 3 4; do "$TOOL" readlink "$LINK" >/dev/null; done
assert_eq "daemon fds after a thread's exec (the thread's entry evicted)" "$f0" "$(daemon_fds "$DAEMON")"
it_done
