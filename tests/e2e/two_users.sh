#!/usr/bin/env bash
# Two users in two environments at the same time: chos-alice works in
# bullseye while chos-bob works in trixie, both running commands in a loop; every line
# each of them sees is its own environment's, while the other one is running.
# checks: P1
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$CHOS_SOURCE_DIR/tests/e2e/e2e.sh"

e2e_start_all

# each line: user, Debian version, the gcc of the environment, the libc the loader found
loop='n=0; while [ ! -e /home/stop ]; do n=$((n+1));
  echo "$n $(id -un) $(cat /etc/debian_version) gcc-$(gcc -dumpversion) $(ldd --version | head -n 1 | grep -o "[0-9.]*$")";
done'
as_user chos-alice chos-run -o bullseye -- sh -c "$loop" > "$IT_BASE/logs/alice" 2>&1 &
IT_PIDS+=($!); alice=$!
as_user chos-bob chos-run -o trixie -- sh -c "$loop" > "$IT_BASE/logs/bob" 2>&1 &
IT_PIDS+=($!); bob=$!

# Both have run at least 20 iterations, and both are still running.
wait_for 60 sh -c '[ "$(wc -l < "$1")" -ge 20 ] && [ "$(wc -l < "$2")" -ge 20 ]' sh \
    "$IT_BASE/logs/alice" "$IT_BASE/logs/bob" ||
    it_fail "the two loops did not both advance: alice: $(tail -n 2 "$IT_BASE/logs/alice"), bob: $(tail -n 2 "$IT_BASE/logs/bob")"
it_pid_alive $alice || it_fail "alice's loop ended early: $(tail -n 3 "$IT_BASE/logs/alice")"
it_pid_alive $bob || it_fail "bob's loop ended early: $(tail -n 3 "$IT_BASE/logs/bob")"
# Their registrations at this moment, as the registry records them.
alice_reg=$(registration_of "$(pgrep -u 64101 -x sh | head -n 1)")
bob_reg=$(registration_of "$(pgrep -u 64102 -x sh | head -n 1)")
assert_eq "alice's loop is registered in bullseye" /bullseye "$alice_reg"
assert_eq "bob's loop is registered in trixie" /trixie "$bob_reg"
touch /home/stop
wait $alice; assert_eq "alice's loop: exit status" 0 "$?"
wait $bob; assert_eq "bob's loop: exit status" 0 "$?"

a_lines=$(wc -l < "$IT_BASE/logs/alice"); b_lines=$(wc -l < "$IT_BASE/logs/bob")
a_bad=$(grep -Evc '^[0-9]+ chos-alice 11\.[0-9]+ gcc-10 2\.31$' "$IT_BASE/logs/alice")
b_bad=$(grep -Evc '^[0-9]+ chos-bob 13\.[0-9]+ gcc-14 2\.41$' "$IT_BASE/logs/bob")
assert_eq "lines alice saw that are not bullseye's ($(grep -Ev '^[0-9]+ chos-alice 11' "$IT_BASE/logs/alice" | head -n 2))" 0 "$a_bad"
assert_eq "lines bob saw that are not trixie's ($(grep -Ev '^[0-9]+ chos-bob 13' "$IT_BASE/logs/bob" | head -n 2))" 0 "$b_bad"
it_say "alice (bullseye): $a_lines lines, e.g. '$(tail -n 1 "$IT_BASE/logs/alice")'"
it_say "bob (trixie):     $b_lines lines, e.g. '$(tail -n 1 "$IT_BASE/logs/bob")'"

it_done
