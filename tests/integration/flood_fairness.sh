#!/usr/bin/env bash
# One user cannot slow every other user down through the shared daemon
# (docs/threat-model.md, class R). chosflood floods the link's readlink from 2,048
# threads on the host (unregistered: every request one /proc read, the daemon's
# dearest answer) while chosvictim launches `chos-run -o a -- cat /etc/os-release`:
# the victim's median launch stays within 3 x its quiet median (chos-linkfs(8),
# FAIRNESS). Before the fair loop the kernel's first-come-first-served queue put each of
# the victim's requests behind the flood's: 24-29 x at 2,048 threads.
# checks: R
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_user chosflood
AS_FLOOD=("${IT_AS_USER[@]}")
it_user chosvictim
AS_VICTIM=("${IT_AS_USER[@]}")
it_start_launchers a -- a:"$IT_BASE/trees/a"

# The victim's median launch time in microseconds over 9 launches.
victim_us() {
    local i t0 t1
    for i in 1 2 3 4 5 6 7 8 9; do
        t0=$(date +%s%N)
        "${AS_VICTIM[@]}" "$BIN/chos-run" -o a -- cat /etc/os-release >/dev/null 2>&1 ||
            it_fail "the victim's launch failed"
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000))
    done | sort -n | sed -n 5p
}

victim_us >/dev/null # warm the caches
# Up to three rounds, quiet then flooded: a machine busy with other work can push one
# round over the bound; an unfair daemon misses it every round (23 x, not 3 x).
for round in 1 2 3; do
    quiet=$(victim_us)
    "${AS_FLOOD[@]}" "$TOOL" threads "$LINK" 2048 1000000000 >/dev/null 2>&1 &
    flood=$!
    IT_PIDS+=("$flood")
    sleep 3 # 2,048 threads up and flooding
    it_pid_alive "$flood" || it_fail "the flood did not start"
    flooded=$(victim_us)
    it_pid_alive "$DAEMON" || it_fail "chos-linkfs died under the flood"
    kill "$flood"; wait "$flood" 2>/dev/null
    it_say "round $round: victim's launch quiet ${quiet} us, under 2,048 flooding threads ${flooded} us"
    [ "$flooded" -le $((3 * quiet)) ] && break
done
assert_le "the victim's launch under the flood, in us (3 x quiet ${quiet} us, round $round)" $((3 * quiet)) "$flooded"
# The flooder's own requests were answered all along: it reads its own target.
assert_eq "the flooder still gets its answer" "../../local" "$("${AS_FLOOD[@]}" "$TOOL" readlink "$LINK")"

it_done
