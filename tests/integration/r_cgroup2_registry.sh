#!/usr/bin/env bash
# The cgroup2 fallback registry (DESIGN.md "Registration", HACKING.md "Registry"), for
# kernels that refuse named v1 hierarchies, end to end with the setuid launcher run
# as nobody: a launch lands in a root-owned leaf "chos-<env>" beside the caller's
# cgroup; the link answers per process from it (P1), children inherit it (P2), nobody
# cannot write it (P3); a switch from inside moves to the sibling leaf (not a nested
# one); a look-alike leaf the user could make is not a registration; empty leaves are
# collected by reload and stop, and by chos-linkfs every minute in between, so nothing
# is left in the machine's cgroup2 tree.
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_launchers
make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
IT_CFG_REGTYPE=cgroup2 IT_DEFAULT=a it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" h:-
it_bind_config
it_start

as_nobody() { "${IT_AS_NOBODY[@]}" "$@"; }
chos_run() { as_nobody "$BIN/chos-run" "$@"; }
me=$(sed -n 's/^0:://p' /proc/self/cgroup)
[ -n "$me" ] || it_fail "no cgroup2 line in /proc/self/cgroup"
it_say "the test's cgroup2 path: $me"
parent=${me%/}
leaf_of() { echo "$parent/chos-$1" | sed 's|^//|/|'; }
# (Functions, so that wait_for reads cgroup.procs on every try, not once.)
leaf_busy() { [ -n "$(cat "$REGMNT$(leaf_of "$1")/cgroup.procs" 2>/dev/null)" ]; }
leaf_idle() { ! leaf_busy "$1"; }
cg2=$(findmnt -n -o TARGET -t cgroup2 "$REGMNT" 2>/dev/null || true)
[ -n "$cg2" ] || it_fail "chos-setup did not bind the cgroup2 tree at $REGMNT: $(findmnt -n "$REGMNT")"
# What the launchers read instead of mountinfo (Registry::open_recorded).
assert_eq "the registry record in run_dir" "cgroup2 $REGMNT" "$(cat "$RUN/registry")"

# A launch in a: the leaf beside the caller's cgroup, root-owned.
out=$(chos_run -o a -- cat /proc/self/cgroup 2>&1); rc=$?
assert_eq "chos-run -o a: exit ($out)" 0 "$rc"
assert_eq "registered in the leaf chos-a" "0::$(leaf_of a)" "$(grep '^0::' <<< "$out")"
assert_eq "the leaf is root-owned" "0" "$(stat -c %u "$REGMNT$(leaf_of a)")"

# P1 and P2: two processes at once, their children, each sees its own tree.
log_a=$IT_BASE/logs/a.log log_b=$IT_BASE/logs/b.log
as_nobody "$BIN/chos-run" -o a -- sh -c 'while :; do (cat /etc/os-release | grep ^NAME=); sleep 0.05; done' > "$log_a" 2>&1 &
IT_PIDS+=($!)
as_nobody "$BIN/chos-run" -o b -- sh -c 'while :; do (cat /etc/os-release | grep ^NAME=); sleep 0.05; done' > "$log_b" 2>&1 &
IT_PIDS+=($!)
sleep 1.5
assert_ge "lines from a" 5 "$(grep -c . "$log_a")"
assert_eq "a's children saw only a" "NAME=a" "$(sort -u "$log_a")"
assert_eq "b's children saw only b" "NAME=b" "$(sort -u "$log_b")"

# P3: nobody cannot move itself into a leaf, nor make one that counts.
out=$(as_nobody sh -c "echo \$\$ > '$REGMNT$(leaf_of b)/cgroup.procs'" 2>&1); rc=$?
assert_ne "nobody writing a leaf's cgroup.procs" 0 "$rc"
# A switch from inside a goes to the sibling leaf chos-b, not a leaf inside chos-a.
assert_eq "a -> b: sibling leaf" "0::$(leaf_of b)" \
    "$(chos_run -o a -- chos-run -o b -- cat /proc/self/cgroup 2>&1 | grep '^0::')"

# Empty leaves go: stop the loops, reload collects what is empty.
it_kill_test_processes
for e in a b; do
    wait_for 5 leaf_idle $e || it_fail "leaf $e still populated"
done
out=$(chos_setup reload 2>&1) || it_fail "reload: $out"
for e in a b; do
    [ -e "$REGMNT$(leaf_of $e)" ] && it_fail "reload left the empty leaf $(leaf_of $e)"
done
# A busy leaf survives a reload and goes with the last process.
as_nobody "$BIN/chos-run" -o a -- sleep 30 &
IT_PIDS+=($!)
wait_for 5 leaf_busy a || it_fail "no process in leaf a"
out=$(chos_setup reload 2>&1) || it_fail "reload with a busy leaf: $out"
[ -d "$REGMNT$(leaf_of a)" ] || it_fail "reload removed a leaf that holds a process"
it_kill_test_processes
wait_for 5 leaf_idle a || it_fail "leaf a still populated"

# Between reloads, chos-linkfs removes empty leaves every minute (leaf_collector.hpp):
# the leaf of a finished launch is gone without any admin command.
start_ts=$SECONDS
chos_run -o b -- true || it_fail "launch in b"
[ -d "$REGMNT$(leaf_of b)" ] || it_fail "no leaf b after a launch in b"
wait_for 75 test ! -e "$REGMNT$(leaf_of b)" || it_fail "chos-linkfs did not collect the empty leaf b within 75 s"
it_say "the empty leaf was collected by chos-linkfs after $((SECONDS - start_ts)) s"
it_pid_alive "$DAEMON" || it_fail "chos-linkfs died"

it_done
