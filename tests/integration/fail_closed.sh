#!/usr/bin/env bash
# Fail closed: an unknown caller never gets another process's target.
#  - pid 0: a caller outside the daemon's pid namespace (a chos-linkfs run, as in a
#    container, in its own pid namespace with its own /proc) -> EACCES; callers
#    inside that namespace still get their own answers;
#  - a process that exited mid-request, and pid reuse (forced with ns_last_pid in our
#    private pid namespace): the new owner of a number -- of a process, of a thread,
#    of the very thread whose request was in flight -- never gets the old owner's
#    cached target;
#  - exec keeps the pid: moved by root from a to b, the process does the flush
#    lookup (ENOENT) and then reads ../os/b;
#  - an unregistered process is never cached: moved into a without a flush, it
#    reads ../os/a at once.
# checks: P8 K
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b

# 1. pid 0. The FUSE connection translates a caller's pid into the pid namespace of
# whoever mounted it; callers outside that namespace come as pid 0. The second
# daemon mounts on a shared mount point from a new pid+mount namespace, so the mount
# propagates back to us.
fs2=$IT_BASE/fs2
mkdir -p "$fs2"
mount --bind "$fs2" "$fs2" && mount --make-shared "$fs2" || it_fail "cannot prepare the shared mount point $fs2"
IT_OWN_MOUNTS+=("$fs2")
IT_CFG_FILE=$IT_BASE/chos2.yaml IT_CFG_RUN_DIR=$IT_BASE/run2 it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
unshare --pid --fork --mount --propagation unchanged --mount-proc \
    "$CHOS_LINKFS" --foreground --debug --config "$IT_BASE/chos2.yaml" "$fs2" 2> "$IT_BASE/logs/pidns.log" &
ns_unshare=$!
IT_PIDS+=($ns_unshare)
wait_for 10 eval "grep -q ' $fs2 .* - fuse' /proc/self/mountinfo" ||
    it_fail "chos-linkfs in its own pid namespace did not mount $fs2: $(cat "$IT_BASE/logs/pidns.log")"
ns_daemon=$(pgrep -P $ns_unshare)
[ -n "$ns_daemon" ] || it_fail "cannot find chos-linkfs in its pid namespace"
assert_eq "readlink from outside the daemon's pid namespace (pid 0), unregistered" "ERR EACCES" \
    "$("$TOOL" readlink "$fs2/link")"
assert_eq "readlink from outside the daemon's pid namespace (pid 0), registered in a" "ERR EACCES" \
    "$(in_env a "$TOOL" readlink "$fs2/link")"
assert_eq "stat through that link from outside (pid 0)" "ERR EACCES" \
    "$(in_env b "$TOOL" stat "$fs2/link/" 1)"
# inside the daemon's pid namespace (nsenter forks into it) callers are known
assert_eq "readlink from inside the daemon's pid namespace, registered in a" "../os/a" \
    "$(in_env a nsenter --target "$ns_daemon" --pid "$TOOL" readlink "$fs2/link")"
assert_eq "readlink from inside the daemon's pid namespace, registered in b" "../os/b" \
    "$(in_env b nsenter --target "$ns_daemon" --pid "$TOOL" readlink "$fs2/link")"
assert_eq "readlink from inside the daemon's pid namespace, unregistered" "../../local" \
    "$(in_env - nsenter --target "$ns_daemon" --pid "$TOOL" readlink "$fs2/link")"
kill -TERM "$ns_daemon"
wait_for 10 eval "! grep -q ' $fs2 .* - fuse' /proc/self/mountinfo" || umount -l "$fs2" 2>/dev/null
umount "$fs2" 2>/dev/null

# 2. pid reuse: a registered process (in a) reads the link (cached) and exits; a new
# process gets the same pid and must get its own answer.
# reuse_case WHAT ENV N MODE [NEW-OWNER-ENV]: the tool's pid-reuse run, asserted: some
# numbers were really reused and not one answer was another process's.
reuse_case() {
    local what=$1 env=$2 n=$3 mode=$4 out
    shift 4
    out=$("$TOOL" reuse "$REGMNT" "$LINK" "$env" "$n" "$mode" "$@")
    it_say "$out"
    assert_match "$what" "^reuse $mode iterations $n reused [1-9][0-9]* not_reused [0-9]+ wrong 0 errors 0\$" "$out"
}
reuse_case "pid reuse by an unregistered process" a 200 plain
reuse_case "pid reuse by a process registered in b" a 100 plain b
# a thread (not the leader) of a process in a reads the link and exits; a new
# process gets the thread's number while the old process lives on
reuse_case "tid reuse by an unregistered process" a 100 thread
# 3. a process that exits while its readlink is in flight; its number reused at once
reuse_case "pid reuse after an exit mid-request" a 200 midreq
reuse_case "pid reuse after an exit mid-request, new owner in a" b 100 midreq a
it_pid_alive "$DAEMON" || it_fail "chos-linkfs died"

# 4. exec keeps the pid; the flush lookup makes the daemon forget the cached answer.
coproc CTL { in_env a "$TOOL" ctl "$LINK" "$FLUSH" 2>&1; }
ctl_pid=$CTL_PID # bash unsets CTL_PID once it has reaped the coprocess
ctl() { echo "$1" >&"${CTL[1]}"; local l; read -r -t 10 l <&"${CTL[0]}" || l="(no answer)"; echo "$l"; }
ctl_exec() { echo e >&"${CTL[1]}"; } # no answer: the new image waits for the next command
pid=$(ctl p)
[[ "$pid" =~ ^[0-9]+$ ]] || it_fail "the ctl process did not say its pid: $pid"
IT_PIDS+=($pid)
assert_eq "ctl process registered in a" "../os/a" "$(ctl r)"
register "$pid" b
t=$(ctl r)
[ "$t" = ../os/a ] || [ "$t" = ../os/b ] || it_fail "moved from a to b, before any flush, the process got '$t'"
assert_eq "the flush lookup" "ERR ENOENT" "$(ctl f)"
assert_eq "after the flush, moved to b" "../os/b" "$(ctl r)"
ctl_exec
assert_eq "pid after exec" "$pid" "$(ctl p)"
assert_eq "after exec, still in b" "../os/b" "$(ctl r)"
register "$pid" a
ctl_exec
assert_eq "after exec and moving back to a, the flush lookup" "ERR ENOENT" "$(ctl f)"
assert_eq "after exec + flush, moved back to a" "../os/a" "$(ctl r)"
register "$pid" -
assert_eq "the flush lookup after unregistering" "ERR ENOENT" "$(ctl f)"
assert_eq "after the flush, unregistered" "../../local" "$(ctl r)"
echo q >&"${CTL[1]}"
wait "$ctl_pid" 2>/dev/null

# 5. Unregistered callers are never cached, so a process that registers from the
# host (the launcher, PAM, SPANK) needs no flush: read unregistered three times,
# moved into a by root with no flush lookup, the next readlink answers a.
coproc CTL { in_env - "$TOOL" ctl "$LINK" "$FLUSH" 2>&1; }
ctl_pid=$CTL_PID
pid=$(ctl p)
[[ "$pid" =~ ^[0-9]+$ ]] || it_fail "the ctl process did not say its pid: $pid"
IT_PIDS+=($pid)
for i in 1 2 3; do
    assert_eq "unregistered ctl process, readlink $i" "../../local" "$(ctl r)"
done
register "$pid" a
assert_eq "moved from the host into a, no flush: the next readlink" "../os/a" "$(ctl r)"
echo q >&"${CTL[1]}"
wait "$ctl_pid" 2>/dev/null
it_done
