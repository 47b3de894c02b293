#!/usr/bin/env bash
# The cgroup2 fallback registry (docs/properties.md "Registration"), for kernels that
# refuse named v1 hierarchies, end to end with the setuid launcher run as nobody: a
# launch lands in a root-owned leaf "chos-<env>" beside the caller's cgroup; the link
# answers per process from it (P1), children inherit it (P2), nobody cannot write it
# (P3); a switch from inside moves to the sibling leaf (not a nested one); a
# look-alike "chos-<env>" leaf a user makes in a subtree delegated to it is never a
# registration (K2): neither the link nor the launcher accepts it; empty leaves are
# collected by reload and stop, and by chos-linkfs every minute in between, so nothing
# is left in the machine's cgroup2 tree.
# checks: P1 P2 P3 K2
source "$(dirname "$0")/lib.sh"
it_main "$@"

# The leaves sit beside the caller's cgroup: run in a cgroup2 directory of this test's
# own, so two runs at once (or a machine whose shells sit in the root cgroup) never
# share a "chos-<env>" leaf.
cg2root=$(findmnt -n -o TARGET -t cgroup2 | head -n 1)
[ -n "$cg2root" ] || it_fail "no cgroup2 mount"
mycg="$cg2root$(sed -n 's/^0:://p' /proc/self/cgroup | sed 's|/$||')/it-$$-$RANDOM"  # (not "chos-...": that is a leaf)
mkdir "$mycg" || it_fail "cannot make the test's cgroup2 directory $mycg"
echo $$ > "$mycg/cgroup.procs" || it_fail "cannot move the test into $mycg"
# (every process moves out first: the test's shell and the daemon chos-setup starts
# below, which collects the leaves beside its own cgroup; an exiting process keeps
# the directory busy for a moment)
IT_CLEANUP+=("for p in \$(find '$mycg' -name cgroup.procs -exec cat {} +); do echo \$p > '${mycg%/*}/cgroup.procs'; done; for _try in \$(seq 50); do find '$mycg' -depth -type d -exec rmdir {} + 2>/dev/null; [ -d '$mycg' ] || break; sleep 0.1; done")

IT_CFG_REGTYPE=cgroup2 IT_DEFAULT=a it_start_launchers a b -- a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" h:-

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

# K2: a subtree delegated to a user (as systemd delegates a session: the directory
# and its cgroup.procs, cgroup.threads and cgroup.subtree_control are the user's).
# There the user can make a "chos-a" leaf of its own and move into it -- which must
# never count as a registration: the link refuses it (EACCES, never ../os/a), chos
# does not call it the current environment, and the launcher never adopts such a leaf
# to register a caller in.
D=$parent/chosit-deleg-$IT_REG
mkdir "$REGMNT$D" || it_fail "cannot make the delegated cgroup $D"
IT_CLEANUP+=("rmdir '$REGMNT$D'/chos-* '$REGMNT$D'")
chown "$IT_NOBODY:$IT_NOBODY" "$REGMNT$D" "$REGMNT$D"/cgroup.{procs,threads,subtree_control} ||
    it_fail "cannot delegate $D to nobody"
# in_delegated CMD...: CMD as nobody, started by root inside the delegated cgroup
in_delegated() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$REGMNT$D" "${IT_AS_NOBODY[@]}" "$@"; }
out=$(in_delegated sh -c 'mkdir "$0/chos-a" && echo $$ > "$0/chos-a/cgroup.procs" && grep "^0::" /proc/self/cgroup &&
    "$1" readlink "$2" && exec "$3" --current' "$REGMNT$D" "$TOOL" "$LINK" "$BIN/chos" 2>&1)
assert_eq "the user's own leaf: the user is in it" "0::$D/chos-a" "$(sed -n 1p <<< "$out")"
assert_eq "the user's own leaf: what the link answers" "ERR EACCES" "$(sed -n 2p <<< "$out")"
assert_eq "the user's own leaf: chos --current" "" "$(sed -n 3p <<< "$out")"
assert_eq "the look-alike leaf is the user's" "$IT_NOBODY" "$(stat -c %u "$REGMNT$D/chos-a")"
# The launcher, asked for a from the delegated cgroup, would use "$D/chos-a": it
# finds the user's leaf there and refuses it.
out=$(in_delegated "$BIN/chos-run" -o a -- cat /proc/self/cgroup 2>&1); rc=$?
assert_eq "a launch beside the user's look-alike leaf: exit status" 125 "$rc"
assert_eq "a launch beside the user's look-alike leaf: the message" \
    "chos: refusing registry object: '$REGMNT$D/chos-a': is owned by uid $IT_NOBODY, not root" "$out"
assert_eq "nothing left in the user's leaf" "" "$(cat "$REGMNT$D/chos-a/cgroup.procs")"
# reload collects empty leaves, but only root's: the user's empty look-alike is not
# a leaf of the registry's, and stays (reload, stop and the daemon share that walk).
out=$(chos_setup reload 2>&1) || it_fail "reload beside the user's look-alike leaf: $out"
assert_eq "reload leaves the user's empty look-alike leaf alone" "$IT_NOBODY" \
    "$(stat -c %u "$REGMNT$D/chos-a" 2>&1)"
# The control: without the look-alike, the same launch makes a root-owned leaf there.
rmdir "$REGMNT$D/chos-a" || it_fail "cannot remove the look-alike leaf"
out=$(in_delegated "$BIN/chos-run" -o a -- grep '^0::' /proc/self/cgroup 2>&1); rc=$?
assert_eq "control: a launch from the delegated cgroup ($out)" "0 0::$D/chos-a" "$rc $out"
assert_eq "control: that leaf is root's" "0" "$(stat -c %u "$REGMNT$D/chos-a")"
rmdir "$REGMNT$D/chos-a" "$REGMNT$D" || it_fail "cannot remove the delegated cgroup"
unset "IT_CLEANUP[-1]"   # (the delegated cgroup is gone; the test's own directory stays listed)

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
