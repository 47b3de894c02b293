#!/usr/bin/env bash
# P6 for an environment whose `path:` changes (docs/properties.md P6; chos.yaml(5)
# "backend"), backend namespace: environment a moves from tree a1 to tree a2 and
# chos-setup reload runs while a process of user nobody runs in a. That process keeps
# the view it entered -- a1's files, to the end, read again and again across the reload
# (chos.yaml(5): a process of a changed environment keeps the view it entered with) --
# while a launch after the reload gets a2, at once: the reload replaces a's tree under
# its process (the process's namespace keeps the old mounts) and says so; on the
# host, the tree's entry of a is a2's.
# checks: P6
CHOS_IT_BACKEND=namespace
source "$(dirname "$0")/lib.sh"
it_main "$@"

IT_DEFAULT=a it_start_launchers a1 a2 -- a:"$IT_BASE/trees/a1"
lines() { [ -s "$1" ] && wc -l < "$1" || echo 0; }

assert_eq "before the reload: a is a1" "NAME=a1" "$(chos_run -o a -- grep ^NAME= /etc/os-release 2>&1)"

# The running process: a read of a's os-release every 50 ms, one line each.
# (exec: the background job's own process is the launcher's, then sh's: one pid to follow)
(exec "${IT_AS_NOBODY[@]}" "$BIN/chos-run" -o a -- sh -c \
    'while :; do grep ^NAME= /etc/os-release || echo FAILED; sleep 0.05; done') > "$L/inside" 2>&1 &
inside=$!
IT_PIDS+=("$inside")
wait_for 10 sh -c "[ \$(wc -l < '$L/inside') -ge 3 ]" || it_fail "the process in a printed nothing: $(cat "$L/inside")"

IT_DEFAULT=a it_config a:"$IT_BASE/trees/a2"
out=$(chos_setup --verbose reload 2>&1); rc=$?
assert_eq "reload with a's path changed under a process: exit ($out)" 0 "$rc"
assert_match "the reload says the process keeps the old tree" \
    "environment 'a' changed its path; the old one stays in the view of the [0-9]+ process(es)? running there, new launches get the new one" \
    "$out"
n=$(lines "$L/inside")
assert_eq "after the reload: a new launch gets a2" "NAME=a2" "$(chos_run -o a -- grep ^NAME= /etc/os-release 2>&1)"
assert_eq "after the reload: chos --current in a new launch" "a" "$(chos_run -o a -- chos --current 2>&1)"
# the process in a reads on, after the reload, and still sees a1
wait_for 10 sh -c "[ \$(wc -l < '$L/inside') -ge $((n + 5)) ]" ||
    it_fail "the process in a stopped reading after the reload: $(tail -n 3 "$L/inside")"
it_pid_alive "$inside" || it_fail "the process in a died in the reload"
assert_eq "the process in a, across the reload, saw only a1" "NAME=a1" "$(sort -u "$L/inside")"
grep -qx "$inside" "$REGMNT/a/cgroup.procs" || it_fail "the process in a is no longer registered in a"
kill -TERM "$inside"; wait "$inside" 2>/dev/null
IT_PIDS=()

# The host's tree has a2 at a's place: a1 went from it with the reload.
assert_eq "the host's tree: a's entry after the reload" "NAME=a2" "$(grep ^NAME= "$TREE/.chos/os/a/etc/os-release")"
assert_eq "a new launch, later" "NAME=a2" "$(chos_run -o a -- grep ^NAME= /etc/os-release 2>&1)"
it_done
