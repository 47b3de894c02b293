#!/usr/bin/env bash
# What the launcher does with the caller's process state (step 1 of entering,
# docs/properties.md): closed fds 0-2 are opened on /dev/null before anything else is
# opened (so no file of the launcher's becomes someone's stdout), and the child gets
# the caller's umask, ignored signals and blocked signals back -- the launcher resets
# them only for its own, privileged, part (nohup and a shell's umask keep working).
# checks: E B
source "$(dirname "$0")/lib.sh"
it_main "$@"
source "$IT_LIB_DIR/launcher_lib.sh"

it_user chosit
IT_DEFAULT=a it_start_launchers a -- a:"$IT_BASE/trees/a" h:-
lt_mounts_baseline
AS=("${IT_AS_USER[@]}")
OUT=/home/chosit/out

# ---------------------------------------------------------------- fds 0-2

# The child (chos-it-tool fds) reports what its fds 0-2 are into a file it opens
# above them: "N chr MAJOR:MINOR ACCESS", or "N closed".
# Run by a user, the setuid launcher is in secure-execution mode and the C library
# itself reopens a closed 0 on /dev/full (1:7, write-only: reads fail) and a closed 1
# or 2 on /dev/null (1:3, read-only: writes fail) before main; run by root (no secure
# mode: an admin's script), the launcher's own first step opens each closed one on
# /dev/null, read-write. Either way the child's 0-2 are devices, never a file the
# launcher opened.
fd_case() { # WHO EXPECTED-0 EXPECTED-1/2 PREFIX...
    local who=$1 want0=$2 want12=$3 env closed got f want rc probe
    shift 3
    for env in a h; do
        probe=/bin/chos-it-tool; [ $env = h ] && probe=$TOOL
        for closed in 0,1,2 1 0,2; do
            rm -f "$OUT"
            (cd /home/chosit && "$@" "$TOOL" exec-with close=$closed -- "$BIN/chos-run" -o $env -- "$probe" fds "$OUT")
            rc=$?
            assert_eq "$who, fds $closed closed, -o $env: exit" 0 "$rc"
            got=$(cat "$OUT" 2>/dev/null)
            # the fds the caller kept are its own: only the closed ones are checked
            for f in ${closed//,/ }; do
                want=$want12; [ "$f" = 0 ] && want=$want0
                assert_eq "$who, fds $closed closed, -o $env: fd $f in the child" "$f chr $want" \
                    "$(sed -n "$((f + 1))p" <<< "$got")"
            done
        done
    done
}
fd_case "a user (secure mode)" "1:7 w" "1:3 r" "${AS[@]}"
mkdir -p /home/root-out && chmod 0755 /home/root-out
OUT=/home/root-out/out fd_case "root" "1:3 rw" "1:3 rw" env HOME=/root
# With all three closed, a refusal: the exit status alone, the command never runs.
rm -f "$OUT"
(cd /home/chosit && "${AS[@]}" "$TOOL" exec-with close=0,1,2 -- "$BIN/chos-run" -o nope -- /bin/chos-it-tool fds "$OUT")
assert_eq "fds 0-2 closed, an unknown environment: exit" 125 "$?"
[ -e "$OUT" ] && it_fail "the refused command ran"
lt_assert_clean "fds 0-2"

# ---------------------------------------------------------------- umask and signals

# state_case WHAT SETTINGS...: the caller's umask and signal state, seen by a child of
# the launcher, equals what the same caller's own child sees without CHOS. (The
# signal state is read by grep itself: a shell would reset the blocked mask.)
state_of() { # PREFIX...: the umask and the SigBlk/SigIgn lines of a child started by PREFIX
    "$@" /bin/sh -c umask 2>&1
    "$@" /bin/grep -E '^Sig(Blk|Ign):' /proc/self/status 2>&1
}
state_case() {
    local what=$1 control child env
    shift
    control=$(state_of "${AS[@]}" "$TOOL" exec-with "$@" --)
    for env in a h; do
        child=$(state_of "${AS[@]}" "$TOOL" exec-with "$@" -- "$BIN/chos-run" -o $env --)
        assert_eq "$what, -o $env: umask and signal state as the caller had them" "$control" "$child"
    done
    it_say "$what: $(tr '\n\t' '  ' <<< "$control")"
}
state_case "umask 077" umask=077
state_case "umask 002" umask=002
state_case "ignored HUP, USR1, PIPE" ignore=HUP,USR1,PIPE
state_case "blocked USR2, TERM" block=USR2,TERM
state_case "all of it" umask=027 ignore=HUP,QUIT block=USR1,WINCH
# the control: those settings really change what a child sees (against this
# harness's own state, which already ignores INT and QUIT as a background job)
assert_ne "control: the settings change the child's state" \
    "$(state_of "${AS[@]}" "$TOOL" exec-with --)" \
    "$(state_of "${AS[@]}" "$TOOL" exec-with umask=027 ignore=HUP,QUIT block=USR1,WINCH --)"
# A file the child makes carries the caller's umask.
rm -f "$OUT"
"${AS[@]}" "$TOOL" exec-with umask=077 -- "$BIN/chos-run" -o a -- /bin/sh -c ": > $OUT"
assert_eq "a file made in a under umask 077" "600" "$(stat -c %a "$OUT")"
rm -f "$OUT"
lt_assert_clean "umask and signals"

it_done
