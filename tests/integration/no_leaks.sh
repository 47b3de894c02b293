#!/usr/bin/env bash
# No leaks: 10,000 register/exit cycles leave nothing behind -- no new cgroup, no new
# mount, no new hierarchy, the daemon's fds and memory bounded -- and every cycle got
# its own answer. 200 live cached processes hold one pidfd each in the daemon, and
# every one goes when they exit. start/stop cycles do not accumulate either.
# checks: P5
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b

measure() {
    "$TOOL" readlink "$LINK" >/dev/null # evictions happen at the next request
    cgroups=$(find "$REGMNT" -type d | wc -l)
    mounts=$(wc -l < /proc/self/mountinfo)
    hierarchies=$(it_reg_names | wc -l) # ours only: other runs come and go
    fds=$(daemon_fds "$DAEMON")
    rss=$(daemon_rss_kb "$DAEMON")
}

# warm up (allocator, cache table), then the baseline
out=$("$TOOL" cycle "$REGMNT" "$LINK" 1000 a b -)
assert_match "1,000 warm-up cycles" '^cycles 1000 wrong 0 errors 0 ' "$out"
measure
c0=$cgroups m0=$mounts h0=$hierarchies f0=$fds r0=$rss
it_say "baseline: cgroups $c0, mounts $m0, hierarchies $h0, daemon fds $f0, rss ${r0} kB"

# 10,000 cycles: fork, the child registers itself (a, b, or the root cgroup in turn),
# reads the link, checks the answer, exits.
out=$("$TOOL" cycle "$REGMNT" "$LINK" 10000 a b -)
it_say "$out"
assert_match "10,000 register/readlink/exit cycles" '^cycles 10000 wrong 0 errors 0 ' "$out"

# and the literal shell version: sh registers itself and execs the reader
bad=0
for i in $(seq 1 500); do
    t=$(sh -c 'echo $$ > "$0/cgroup.procs" && exec "$1" readlink "$2"' "$REGMNT/b" "$TOOL" "$LINK")
    [ "$t" = ../os/b ] || { bad=$((bad + 1)); it_say "cycle $i got '$t'"; }
done
assert_eq "500 shell register/exit cycles with a wrong answer" 0 "$bad"

measure
it_say "after: cgroups $cgroups, mounts $mounts, hierarchies $hierarchies, daemon fds $fds, rss ${rss} kB"
assert_eq "cgroups in the registry after the cycles" "$c0" "$cgroups"
assert_eq "mounts after the cycles" "$m0" "$mounts"
assert_eq "cgroup hierarchies after the cycles" "$h0" "$hierarchies"
it_pid_alive "$DAEMON" || it_fail "chos-linkfs died during the cycles"
assert_le "daemon fds after 10,500 cycles (baseline $f0 + 2)" $((f0 + 2)) "$fds"
assert_le "daemon RSS growth in kB over 10,500 cycles" 4096 $((rss - r0))

# 200 live registered processes that each read the link once (cached, one pidfd
# each), then all killed: the cache must empty again.
pids=()
for i in $(seq 1 200); do
    in_env_bg a /dev/null "$TOOL" probe "$LINK" /dev/null 600000 0
    pids+=($IT_LAST_PID)
done
# each reads the link first thing: one cached answer, one pidfd each, in the daemon
all_cached() { [ "$(daemon_fds "$DAEMON")" -ge $((f0 + 200)) ]; }
wait_for 20 all_cached
live_fds=$(daemon_fds "$DAEMON")
it_say "daemon fds with 200 live cached processes: $live_fds (baseline $f0)"
assert_ge "daemon fds with 200 live cached processes (a pidfd each)" $((f0 + 200)) "$live_fds"
assert_le "daemon fds with 200 live cached processes (no more than one each)" $((f0 + 202)) "$live_fds"
kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null
measure
assert_le "daemon fds after 200 live processes exited (baseline $f0 + 2)" $((f0 + 2)) "$fds"

# start/stop cycles: the same mounts and hierarchies every time, nothing accumulates
mounts_running=$mounts
for i in 1 2 3; do
    out=$(chos_setup stop 2>&1) || it_fail "chos-setup stop (cycle $i): $out"
    it_assert_nothing_left "chos-setup stop (cycle $i)"
    it_start
    measure
    assert_eq "mounts after start/stop cycle $i" "$mounts_running" "$mounts"
    assert_eq "cgroups after start/stop cycle $i" "$c0" "$cgroups"
    assert_eq "hierarchies after start/stop cycle $i" "$h0" "$hierarchies"
done
it_done
