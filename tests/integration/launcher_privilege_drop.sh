#!/usr/bin/env bash
# The privilege drop of the setuid launcher (docs/threat-model.md, class A: bubblewrap
# CVE-2020-5291, Apptainer CVE-2023-38496), for callers an honest test would not
# think of: supplementary groups (kept exactly, never re-read from the group
# database), a real gid that differs from the effective one, inheritable, ambient
# and bounding capabilities. The child ends with all ids the caller's real ones, no
# capability, the caller's bounding and inheritable sets, and no way back to root.
# Then the launcher's check of its own drop: callers set up by root so that the drop
# silently does not happen (setresuid faked by seccomp, capabilities kept across the
# uid change) -- each is refused with its own line, nothing runs, nothing is left.
# checks: A
source "$(dirname "$0")/lib.sh"
it_main "$@"
source "$IT_LIB_DIR/launcher_lib.sh"

it_user chosit
U=$IT_USER_UID
# Groups of the user's: two it is in when it runs with them, one it is a member of in
# the group database but dropped before calling the launcher.
G1=$((U + 1000)) G2=$((U + 1001)) G3=$((U + 1002))
{ echo "chosg1:x:$G1:chosit"; echo "chosg2:x:$G2:chosit"; echo "chosg3:x:$G3:chosit"; } >> /etc/group
IT_DEFAULT=a it_start_launchers a -- a:"$IT_BASE/trees/a" h:-
lt_mounts_baseline

status_of() { grep -E "^($2):" <<< "$1" | tr '\t' ' '; }

# ---------------------------------------------------------------- ids and groups

# The caller runs with G1 and G2 (not G3, which the database would add): the child
# has exactly G1 G2, in the host environment and inside a.
AS_GROUPS=(setpriv --reuid="$U" --regid="$U" --groups="$G1,$G2")
control=$("${AS_GROUPS[@]}" cat /proc/self/status)
assert_eq "control: the caller's groups" "Groups: $G1 $G2" "$(status_of "$control" Groups | sed 's/ *$//')"
for env in a h; do
    out=$("${AS_GROUPS[@]}" "$BIN/chos-run" -o $env -- cat /proc/self/status 2>&1); rc=$?
    assert_eq "supplementary groups, -o $env: exit ($out)" 0 "$rc"
    assert_eq "supplementary groups, -o $env: Uid" "Uid: $U $U $U $U" "$(status_of "$out" Uid)"
    assert_eq "supplementary groups, -o $env: Gid" "Gid: $U $U $U $U" "$(status_of "$out" Gid)"
    assert_eq "supplementary groups, -o $env: exactly the caller's" "Groups: $G1 $G2" \
        "$(status_of "$out" Groups | sed 's/ *$//')"
done

# A real gid that is not the effective one (what a setgid program of the user's
# would give): all three gids become the real one -- the one the launcher resolved.
out=$(setpriv --reuid="$U" --rgid="$U" --egid="$G1" --groups="$G1" "$BIN/chos-run" -o a -- cat /proc/self/status 2>&1); rc=$?
assert_eq "egid != rgid: exit ($out)" 0 "$rc"
assert_eq "egid != rgid: Gid" "Gid: $U $U $U $U" "$(status_of "$out" Gid)"
assert_eq "egid != rgid: Uid" "Uid: $U $U $U $U" "$(status_of "$out" Uid)"
assert_eq "egid != rgid: groups" "Groups: $G1" "$(status_of "$out" Groups | sed 's/ *$//')"

# No way back: setuid(0), setgid(0), setgroups() all refused in the child.
assert_eq "the child asking for root back" "setuid EPERM setgid EPERM setgroups EPERM" \
    "$("${AS_GROUPS[@]}" "$BIN/chos-run" -o a -- /bin/chos-it-tool try-root 2>&1)"
lt_assert_clean "ids and groups"

# ---------------------------------------------------------------- capabilities

# cap_caller WHAT SETPRIV-CAP-OPTIONS...: the same caller without and with the
# launcher. The child: no permitted, effective or ambient capability (setuid exec
# clears the ambient set, the drop the others); the caller's inheritable and
# bounding sets unchanged (the launcher cannot add to either, and must not take the
# bounding set's meaning away from the admin who narrowed it).
cap_caller() {
    local what=$1 caller child rc
    shift
    caller=$(setpriv "$@" --reuid="$U" --regid="$U" --clear-groups cat /proc/self/status)
    child=$(setpriv "$@" --reuid="$U" --regid="$U" --clear-groups "$BIN/chos-run" -o a -- cat /proc/self/status 2>&1); rc=$?
    it_say "$what: caller $(status_of "$caller" 'Cap[A-Za-z]+' | tr '\n' ' ')"
    assert_eq "$what: exit ($child)" 0 "$rc"
    assert_eq "$what: CapPrm" "CapPrm: 0000000000000000" "$(status_of "$child" CapPrm)"
    assert_eq "$what: CapEff" "CapEff: 0000000000000000" "$(status_of "$child" CapEff)"
    assert_eq "$what: CapAmb" "CapAmb: 0000000000000000" "$(status_of "$child" CapAmb)"
    assert_eq "$what: CapInh (the caller's)" "$(status_of "$caller" CapInh)" "$(status_of "$child" CapInh)"
    assert_eq "$what: CapBnd (the caller's)" "$(status_of "$caller" CapBnd)" "$(status_of "$child" CapBnd)"
}
cap_caller "no capability at all"
cap_caller "an inheritable capability" --inh-caps=+net_raw
cap_caller "an ambient capability" --inh-caps=+net_raw --ambient-caps=+net_raw
cap_caller "a narrowed bounding set" --bounding-set=-net_raw,-sys_module,-mknod
# A bounding set without what the launcher needs (CAP_SYS_ADMIN: setns) leaves it
# less than root: a clean refusal, before anything is registered.
out=$(setpriv --bounding-set=-sys_admin --reuid="$U" --regid="$U" --clear-groups "$BIN/chos-run" -o a -- true 2>&1); rc=$?
assert_eq "a bounding set without CAP_SYS_ADMIN" \
    "125 chos: cannot re-enter the host mount namespace: Operation not permitted" "$rc $out"
# the controls: those callers really had what the cases say
assert_eq "control: the ambient caller's CapAmb" "CapAmb: 0000000000002000" \
    "$(setpriv --inh-caps=+net_raw --ambient-caps=+net_raw --reuid="$U" --regid="$U" --clear-groups cat /proc/self/status | grep '^CapAmb' | tr '\t' ' ')"
lt_assert_clean "capabilities"

# ---------------------------------------------------------------- the drop's own check

# unusual CASE LINE [GID]: root sets up a caller (chos-it-attack unusual-caller) whose
# drop cannot take effect; the launch is refused with LINE, 125, the command never
# runs (it would leave a file in the user's home), nothing is registered.
unusual() {
    local kind=$1 line=$2 gid=${3:-$U} out rc
    rm -f "/home/chosit/ran"
    out=$(cd /home/chosit && "$ATTACK" unusual-caller "$kind" "$U" "$gid" "$BIN/chos-run" -o a -- \
        /bin/sh -c 'id > /home/chosit/ran' 2>&1); rc=$?
    assert_eq "$kind: exit status ($out)" 125 "$rc"
    assert_eq "$kind: the message" "$line" "$out"
    [ -e /home/chosit/ran ] && it_fail "$kind: the command ran: $(cat /home/chosit/ran)"
    lt_assert_clean "$kind"
}
unusual fake-setresuid "chos: privilege drop failed: ids differ after setresuid/setresgid"
unusual keep-caps "chos: privilege drop failed: root could be regained"
unusual keep-caps-no-setuid "chos: privilege drop failed: capabilities remain" 0
# the control: the same harness with an honest caller runs the command as the user
rm -f /home/chosit/ran
out=$(cd /home/chosit && setpriv --reuid="$U" --regid="$U" --clear-groups "$BIN/chos-run" -o a -- \
    /bin/sh -c 'id -u > /home/chosit/ran' 2>&1); rc=$?
assert_eq "control: an honest caller ($out)" "0 $U" "$rc $(cat /home/chosit/ran 2>/dev/null)"
rm -f /home/chosit/ran

it_done
