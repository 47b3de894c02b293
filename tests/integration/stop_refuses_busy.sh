#!/usr/bin/env bash
# `chos-setup stop` under registered processes (chos-setup(8) "stop"): it refuses,
# names each busy environment and its count, exits 1, and changes nothing -- the
# tree, the daemon and the registry stay, the processes inside keep resolving.
# `stop --force` takes the tree and the daemon down anyway (the processes keep their
# view of the detached tree), warns, and leaves the registry mounted while it holds
# processes; the next plain `stop` removes it once they are gone.
# checks: P6 P5
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b

probe_bg a "$IT_BASE/logs/a.probe" 20
pa=$IT_LAST_PID
probe_bg b "$IT_BASE/logs/b1.probe" 20
probe_bg b "$IT_BASE/logs/b2.probe" 20
for p in a b1 b2; do
    wait_probe_advance "$IT_BASE/logs/$p.probe" 0 3 10 || it_fail "the probe $p printed nothing"
done
mounts0=$(it_mounts_under "$IT_BASE" | sort)

# 1. A plain stop refuses, says why, changes nothing.
out=$(chos_setup stop 2>&1); rc=$?
assert_eq "stop under registered processes: exit status" 1 "$rc"
assert_eq "stop under registered processes: what it says" \
"chos-setup: environment 'a': 1 process registered
chos-setup: environment 'b': 2 processes registered
chos-setup: cannot stop: '$TREE': processes are still registered (let them exit, or use --force)" "$out"
assert_eq "the mounts after the refused stop" "$mounts0" "$(it_mounts_under "$IT_BASE" | sort)"
assert_eq "the daemon after the refused stop" "$DAEMON" "$(it_daemon_pid)"
from=$(probe_seq "$IT_BASE/logs/a.probe")
wait_probe_advance "$IT_BASE/logs/a.probe" "$from" 5 10 || it_fail "the probe in a stalled after the refused stop"
assert_eq "what the process in a saw" "../os/a NAME=a" "$(awk '{ print $2, $3 }' "$IT_BASE/logs/a.probe" | sort -u)"
assert_eq "a new process in b after the refused stop" "NAME=b" \
    "$(in_env b chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"

# 2. --force: warnings, exit 0, the tree and the daemon gone; the registry stays
# mounted (its cgroups hold processes); the processes live on.
out=$(chos_setup stop --force 2>&1); rc=$?
assert_eq "stop --force: exit status ($out)" 0 "$rc"
assert_match "stop --force: warns about a" "^chos-setup: warning: environment 'a': 1 process registered$" \
    "$(grep "'a'" <<< "$out")"
assert_match "stop --force: says the registry stays" "chos-setup: warning: .*\\(left mounted: processes are still registered\\)$" \
    "$(tail -n 1 <<< "$out")"
grep -q " $TREE " /proc/self/mountinfo && it_fail "stop --force left the tree mounted"
[ -z "$(it_linkfs_pids)" ] || it_fail "stop --force left chos-linkfs running"
mountpoint -q "$REGMNT" || it_fail "stop --force took the registry down under registered processes"
it_pid_alive "$pa" || it_fail "stop --force killed the process in a"
assert_eq "the process in a is still registered" "/a" "$(registration_of "$pa")"
IT_STOPPED=1

# 3. Once the processes are gone, a plain stop finishes the job.
it_kill_test_processes
out=$(chos_setup stop 2>&1); rc=$?
assert_eq "stop after the processes left: exit status ($out)" 0 "$rc"
assert_eq "stop after the processes left: what it says" \
    "chos-setup: '$TREE' is not set up; removed the registry left at '$REGMNT'" "$out"
it_assert_nothing_left "the second stop"
it_done
