#!/usr/bin/env bash
# chos-setup reload adding and removing environments under running processes: a
# process in a keeps working, untouched, while c is added and b removed; c is usable
# at once; a new registration into the removed b fails. A process still inside b
# when b is removed never sees another environment's tree, and the reload says that
# b is kept while it is busy; b's cgroup goes with the next reload once it is empty
# (docs/properties.md: reloading never disturbs processes in environments that stay).
# checks: P6
source "$(dirname "$0")/lib.sh"
it_main "$@"

for e in a b c; do make_tree "$IT_BASE/trees/$e" $e; done
it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
it_start

probe_bg a "$IT_BASE/logs/a.probe" 20
pa=$IT_LAST_PID
wait_probe_advance "$IT_BASE/logs/a.probe" 0 5 10 || it_fail "the probe in a printed nothing"
assert_eq "c before the reload" "ENOENT" "$( [ -e "$REGMNT/c" ] && echo exists || echo ENOENT)"

# 1. reload: c added, b removed (nobody inside b)
it_config a:"$IT_BASE/trees/a" c:"$IT_BASE/trees/c"
reload_ok "b removed, c added"
it_pid_alive "$pa" || it_fail "the process in a died"
assert_eq "readlink in the new environment c" "../os/c" "$(in_env c "$TOOL" readlink "$LINK")"
assert_eq "chroot TREE cat /etc/os-release in c" "NAME=c" \
    "$(in_env c chroot "$TREE" /bin/cat /etc/os-release | grep '^NAME=')"
out=$(sh -c 'echo $$ > "$0/cgroup.procs" 2>&1 && echo registered' "$REGMNT/b" 2>&1)
assert_no_match "registering into the removed environment b" 'registered' "$out"
[ -e "$TREE/.chos/os/b" ] && it_fail "TREE/.chos/os/b still exists after b was removed"
assert_eq "the daemon after the reload" "$DAEMON" "$(it_daemon_pid)"

# 2. b comes back, a process enters it, b is removed again while it runs
it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" c:"$IT_BASE/trees/c"
out=$(chos_setup reload 2>&1) || it_fail "chos-setup reload (b added back): $out"
probe_bg b "$IT_BASE/logs/b.probe" 20
pb=$IT_LAST_PID
wait_probe_advance "$IT_BASE/logs/b.probe" 0 5 10 || it_fail "the probe in b printed nothing"
assert_eq "the process in b" "../os/b NAME=b" "$(awk '{ print $2, $3 }' "$IT_BASE/logs/b.probe" | sort -u)"
it_config a:"$IT_BASE/trees/a" c:"$IT_BASE/trees/c"
from=$(probe_seq "$IT_BASE/logs/a.probe"); from_b=$(probe_seq "$IT_BASE/logs/b.probe")
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "reload removing b while a process is inside: exit status and what it says" \
    "0 chos-setup: environment 'b' removed from the config; kept while 1 process is registered there (reload again later)" \
    "$rc $out"
wait_probe_advance "$IT_BASE/logs/a.probe" "$from" 10 10 || it_fail "the probe in a stalled"
assert_eq "what the process in a saw while b was removed under a running process" "../os/a NAME=a" \
    "$(probe_lines_since "$IT_BASE/logs/a.probe" "$from" | awk '{ print $2, $3 }' | sort -u)"
sleep 0.5
bad=$(awk '!(($2 == "../os/b" || $2 ~ /^ERR:/) && ($3 == "NAME=b" || $3 ~ /^ERR:/))' "$IT_BASE/logs/b.probe" | head -n 3)
[ -z "$bad" ] || it_fail "the process left inside the removed b saw another environment: $bad"
# kept while it is busy: the process inside b goes on seeing b, no error at all
assert_eq "the process left inside b after the removal" "../os/b NAME=b" \
    "$(probe_lines_since "$IT_BASE/logs/b.probe" "$from_b" | awk '{ print $2, $3 }' | sort -u)"
# b's cgroup goes once it is empty and the configuration is reloaded again
kill -KILL "$pb"; wait "$pb" 2>/dev/null
out=$(chos_setup reload 2>&1) || it_fail "chos-setup reload after b emptied: $out"
[ -e "$REGMNT/b" ] && it_fail "the cgroup of the removed b outlived the reload after it emptied"
out=$(sh -c 'echo $$ > "$0/cgroup.procs" 2>&1 && echo registered' "$REGMNT/b" 2>&1)
assert_no_match "registering into the removed environment b (second time)" 'registered' "$out"
assert_eq "the process in a, all along" "../os/a NAME=a" "$(awk '{ print $2, $3 }' "$IT_BASE/logs/a.probe" | sort -u)"
it_pid_alive "$pa" || it_fail "the process in a died"
it_done
