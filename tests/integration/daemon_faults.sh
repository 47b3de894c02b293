#!/usr/bin/env bash
# Daemon faults (kill -9 is in daemon_restart.sh):
#  - SIGSTOP: a new lookup blocks, so a launch-like check with a timeout fails (and the
#    blocked caller can be killed); processes inside environments never get a wrong
#    answer; after SIGCONT everything recovers;
#  - a flood of lookups from one user (8 processes as nobody) while another user's
#    readlink latency stays bounded (p99 below CHOS_IT_L_P99_MS, default 50 ms) and
#    every answer of both stays right.
# checks: L R
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b
p99_limit_ms=${CHOS_IT_L_P99_MS:-50}

for e in a b; do
    probe_bg $e "$IT_BASE/logs/$e.probe" 20
done
for e in a b; do
    wait_probe_advance "$IT_BASE/logs/$e.probe" 0 5 10 || it_fail "the probe in $e printed nothing"
done

# 1. SIGSTOP
kill -STOP "$DAEMON"
sleep 0.2
assert_eq "daemon state after SIGSTOP" T "$(awk '{ print $3 }' /proc/$DAEMON/stat)"
( timeout -s KILL 2 "$TOOL" readlink "$LINK" > "$IT_BASE/logs/stopped.out" ) 2>/dev/null; rc=$?
assert_eq "exit status of 'timeout 2 readlink' with the daemon stopped (killed by timeout)" 137 "$rc"
( timeout -s KILL 2 sh -c 'echo $$ > "$0/cgroup.procs" && exec chroot "$1" /bin/true' "$REGMNT/a" "$TREE" ) 2>/dev/null; rc=$?
assert_ne "exit status of a new chroot into environment a with the daemon stopped" 0 "$rc"
sleep 1
froma=$(probe_seq "$IT_BASE/logs/a.probe"); fromb=$(probe_seq "$IT_BASE/logs/b.probe")
kill -CONT "$DAEMON"
for e in a b; do
    from=$(probe_seq "$IT_BASE/logs/$e.probe")
    wait_probe_advance "$IT_BASE/logs/$e.probe" "$from" 10 10 || it_fail "the probe in $e did not recover after SIGCONT"
    assert_eq "what the process in $e saw, before, during and after SIGSTOP" "../os/$e NAME=$e" \
        "$(awk '{ print $2, $3 }' "$IT_BASE/logs/$e.probe" | sort -u)"
done
assert_eq "readlink after SIGCONT" "../../local" "$("$TOOL" readlink "$LINK")"
assert_eq "a new process in a after SIGCONT" "NAME=a" "$(in_env a chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"

# 2. flood: 8 processes of nobody in b read the link as fast as they can; meanwhile
# uid 4242 in a measures its own readlink latency.
flooders=()
for i in 1 2 3 4 5 6 7 8; do
    in_env_bg b "$IT_BASE/logs/flood.$i" "${IT_AS_NOBODY[@]}" "$TOOL" flood "$LINK" 8 ../os/b
    flooders+=($IT_LAST_PID)
done
sleep 1
out=$(in_env a setpriv --reuid=4242 --regid=4242 --clear-groups "$TOOL" latency "$LINK" 300 10 ../os/a)
it_say "latency of uid 4242 under the flood: $out"
wait "${flooders[@]}"
total=0
for i in 1 2 3 4 5 6 7 8; do
    f=$(cat "$IT_BASE/logs/flood.$i")
    assert_match "flooder $i (nobody, in b)" '^calls [0-9]+ wrong 0 errors 0$' "$f"
    total=$((total + $(echo "$f" | awk '{ print $2 }')))
done
it_say "the flood made $total readlinks in 8 s"
assert_ge "readlinks the flood made (it must really flood)" 8000 "$total"
assert_match "the other user's answers under the flood" ' wrong 0 errors 0$' "$out"
p99=$(echo "$out" | awk '{ print $6 }')
assert_le "p99 readlink latency (us) of another user under the flood" $((p99_limit_ms * 1000)) "$p99"
it_pid_alive "$DAEMON" || it_fail "chos-linkfs died under the flood"
for e in a b; do
    assert_eq "what the process in $e saw through it all" "../os/$e NAME=$e" \
        "$(awk '{ print $2, $3 }' "$IT_BASE/logs/$e.probe" | sort -u)"
done
it_done
