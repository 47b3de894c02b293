#!/usr/bin/env bash
# A long-running process keeps working while `chos-setup reload` adds an environment
#: chos-alice's loop in bullseye, started in a shared /home directory, goes on
# seeing bullseye and its working directory through the reload; trixie, unknown before,
# is usable right after it.
# checks: P6
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$CHOS_SOURCE_DIR/tests/e2e/e2e.sh"

e2e_setup bullseye trixie
IT_DEFAULT=bookworm e2e_config bookworm:- bullseye:"$TREES/bullseye"
e2e_start

out=$(as_user chos-bob chos-run -o trixie -- true 2>&1); rc=$?
assert_eq "trixie before the reload: exit status" 125 "$rc"
assert_eq "trixie before the reload: the error" \
    "chos: unknown environment: 'trixie' (from -o) (see 'chos --list')" "$out"

work="/home/chos-alice/long job"
install -d -o 64101 -g 64101 "$work"
loop='n=0; while [ ! -e /home/stop ]; do n=$((n+1));
  echo "$n $(cat /etc/debian_version) $(pwd) gcc-$(gcc -dumpversion)"; sleep 0.02;
done'
E2E_CWD=$work as_user chos-alice chos-run -o bullseye -- sh -c "$loop" > "$IT_BASE/logs/alice" 2>&1 &
IT_PIDS+=($!); alice=$!
wait_for 30 sh -c '[ "$(wc -l < "$1")" -ge 10 ]' sh "$IT_BASE/logs/alice" ||
    it_fail "the loop did not start: $(tail -n 3 "$IT_BASE/logs/alice")"

IT_DEFAULT=bookworm e2e_config bookworm:- bullseye:"$TREES/bullseye" trixie:"$TREES/trixie"
before=$(wc -l < "$IT_BASE/logs/alice")
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "chos-setup reload: exit status ($out)" 0 "$rc"

out=$(as_user chos-bob chos-run -o trixie -- cat /etc/debian_version 2>&1); rc=$?
assert_eq "trixie after the reload: exit status ($out)" 0 "$rc"
assert_match "trixie after the reload" '^13\.[0-9]+$' "$out"
assert_match "chos --list after the reload" 'trixie' "$(as_user chos-bob chos --list 2>&1)"

# The loop goes on: at least 20 more lines after the reload, still alive.
wait_for 60 sh -c '[ "$(wc -l < "$1")" -ge $(($2 + 20)) ]' sh "$IT_BASE/logs/alice" "$before" ||
    it_fail "the loop stopped advancing after the reload: $(tail -n 3 "$IT_BASE/logs/alice")"
it_pid_alive $alice || it_fail "the loop died: $(tail -n 3 "$IT_BASE/logs/alice")"
touch /home/stop
wait $alice; assert_eq "the loop: exit status" 0 "$?"

lines=$(wc -l < "$IT_BASE/logs/alice")
bad=$(grep -Evc "^[0-9]+ 11\\.[0-9]+ $work gcc-10\$" "$IT_BASE/logs/alice")
assert_eq "lines of the loop that are not bullseye's in '$work' ($(grep -Ev "^[0-9]+ 11\\.[0-9]+ $work gcc-10\$" "$IT_BASE/logs/alice" | head -n 2))" 0 "$bad"
it_say "the loop: $lines lines, $((lines - before)) of them after the reload began; last: '$(tail -n 1 "$IT_BASE/logs/alice")'"

it_done
