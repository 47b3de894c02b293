#!/usr/bin/env bash
# Restart-safe (kill -9 of the daemon): processes sit chrooted inside a and b while
# chos-linkfs is killed with SIGKILL. Meanwhile their lookups fail with an error
# (ENOTCONN), never another environment's tree; `chos-setup start` brings the daemon
# back and the very same processes resolve correctly again, not restarted.
# `chos-setup start` on a running system and `chos-setup reload` do not disturb them.
# checks: P6 L
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b

declare -A probe_pid
for e in a b; do
    probe_bg $e "$IT_BASE/logs/$e.probe" 50
    probe_pid[$e]=$IT_LAST_PID
done
for e in a b; do
    wait_probe_advance "$IT_BASE/logs/$e.probe" 0 5 10 || it_fail "the probe in $e printed nothing"
done

# Every line a probe printed: its own answer, or an error -- during the outage only
# ENOTCONN/ECONNABORTED (strict), around the restart also ENOENT (while the dead
# mount is being replaced) -- never another error, another environment's target or
# tree.
check_probe() { # ENV WHEN [strict]
    local e=$1 bad errs='^ERR:(ENOTCONN|ECONNABORTED|ENOENT)$'
    [ "${3:-}" = strict ] && errs='^ERR:(ENOTCONN|ECONNABORTED)$'
    bad=$(awk -v t="../os/$e" -v n="NAME=$e" -v errs="$errs" '
        !(($2 == t || $2 ~ errs) && ($3 == n || $3 ~ errs))' "$IT_BASE/logs/$e.probe" | head -n 3)
    [ -z "$bad" ] || it_fail "$2: the process in $e saw: $bad"
}
# No error at all between two sequence numbers (the daemon was up all along).
check_no_errors() { # ENV FROM WHEN
    local bad
    bad=$(probe_lines_since "$IT_BASE/logs/$1.probe" "$2" | grep -v " ../os/$1 NAME=$1\$" | head -n 3)
    [ -z "$bad" ] || it_fail "$3: the process in $1 saw: $bad"
}

# 1. `chos-setup start` on a system that is already running.
mounts0=$(wc -l < /proc/self/mountinfo)
from_a=$(probe_seq "$IT_BASE/logs/a.probe"); from_b=$(probe_seq "$IT_BASE/logs/b.probe")
out=$(chos_setup start 2>&1); rc=$?
# chos-setup(8): start is idempotent, a daemon that runs and answers is left alone
assert_eq "chos-setup start while running: exit status and output" "0 " "$rc $out"
assert_eq "mounts after a second chos-setup start" "$mounts0" "$(wc -l < /proc/self/mountinfo)"
assert_eq "daemon after a second chos-setup start" "$DAEMON" "$(it_daemon_pid)"
wait_probe_advance "$IT_BASE/logs/a.probe" "$from_a" 5 10 || it_fail "the probe in a stalled"
check_no_errors a "$from_a" "during a second chos-setup start"
check_no_errors b "$from_b" "during a second chos-setup start"

# 2. kill -9
old=$DAEMON
kill -KILL "$old"
wait_for 5 eval '! it_pid_alive '"$old" || it_fail "chos-linkfs survived SIGKILL"
for e in a b; do
    from=$(probe_seq "$IT_BASE/logs/$e.probe")
    wait_for 10 eval "probe_lines_since '$IT_BASE/logs/$e.probe' $from | grep -q ERR:" ||
        it_fail "the process in $e still resolves with chos-linkfs dead: $(tail -n 2 "$IT_BASE/logs/$e.probe")"
done
assert_match "readlink of the link with the daemon dead, unregistered" '^ERR (ENOTCONN|ECONNABORTED)$' \
    "$("$TOOL" readlink "$LINK")"
assert_match "readlink of the link with the daemon dead, in a" '^ERR (ENOTCONN|ECONNABORTED)$' \
    "$(in_env a "$TOOL" readlink "$LINK")"
assert_match "a new process entering b with the daemon dead" '^.*(not connected|aborted).*$' \
    "$(in_env b chroot "$TREE" /bin/cat /etc/os-release 2>&1)"
sleep 0.5
check_probe a "during the outage" strict; check_probe b "during the outage" strict

# 3. chos-setup start brings it back; the same processes recover.
out=$(chos_setup start 2>&1); rc=$?
assert_eq "chos-setup start after chos-linkfs was killed: exit status ($out)" 0 "$rc"
DAEMON=$(it_daemon_pid) || it_fail "no chos-linkfs after chos-setup start: $out"
assert_ne "the new chos-linkfs pid" "$old" "$DAEMON"
for e in a b; do
    from=$(probe_seq "$IT_BASE/logs/$e.probe")
    wait_for 10 eval "probe_lines_since '$IT_BASE/logs/$e.probe' $((from + 1)) | grep -q ' ../os/$e NAME=$e\$'" ||
        it_fail "the process in $e did not recover: $(tail -n 2 "$IT_BASE/logs/$e.probe")"
    it_pid_alive "${probe_pid[$e]}" || it_fail "the process in $e is gone: it had to be restarted"
done
from_a=$(probe_seq "$IT_BASE/logs/a.probe"); from_b=$(probe_seq "$IT_BASE/logs/b.probe")
wait_probe_advance "$IT_BASE/logs/a.probe" "$from_a" 10 10
wait_probe_advance "$IT_BASE/logs/b.probe" "$from_b" 10 10
check_no_errors a "$from_a" "after the restart"; check_no_errors b "$from_b" "after the restart"
check_probe a "over the whole test"; check_probe b "over the whole test"
it_say "errors the probes saw: $(awk '$2 ~ /^ERR/ { print $2 } $3 ~ /^ERR/ { print $3 }' "$IT_BASE"/logs/?.probe | sort | uniq -c | tr '\n' ' ')"
for e in a b; do
    assert_ge "lines of the process in $e that saw the outage (ENOTCONN or ECONNABORTED)" 1 \
        "$(grep -cE ' ERR:(ENOTCONN|ECONNABORTED)( |$)' "$IT_BASE/logs/$e.probe")"
done
assert_eq "mounts after the restart" "$mounts0" "$(wc -l < /proc/self/mountinfo)"
assert_eq "a new process in b after the restart" "NAME=b" \
    "$(in_env b chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"

# 4. kill -9 a second time, and the same again (a dead mount replaced twice).
kill -KILL "$DAEMON"; wait_for 5 eval '! it_pid_alive '"$DAEMON"
out=$(chos_setup start 2>&1) || it_fail "chos-setup start after the second kill: $out"
DAEMON=$(it_daemon_pid) || it_fail "no chos-linkfs after the second restart"
from_a=$(probe_seq "$IT_BASE/logs/a.probe")
wait_for 10 eval "probe_lines_since '$IT_BASE/logs/a.probe' $((from_a + 1)) | grep -q ' ../os/a NAME=a\$'" ||
    it_fail "the process in a did not recover from the second kill"
assert_eq "mounts after the second restart" "$mounts0" "$(wc -l < /proc/self/mountinfo)"

# 5. reload with an unchanged configuration: nobody notices.
from_a=$(probe_seq "$IT_BASE/logs/a.probe"); from_b=$(probe_seq "$IT_BASE/logs/b.probe")
out=$(chos_setup reload 2>&1) || it_fail "chos-setup reload: $out"
wait_probe_advance "$IT_BASE/logs/a.probe" "$from_a" 10 10
wait_probe_advance "$IT_BASE/logs/b.probe" "$from_b" 10 10
check_no_errors a "$from_a" "during chos-setup reload"; check_no_errors b "$from_b" "during chos-setup reload"
check_probe a "over the whole test"; check_probe b "over the whole test"
for e in a b; do it_pid_alive "${probe_pid[$e]}" || it_fail "the process in $e is gone"; done
it_done
