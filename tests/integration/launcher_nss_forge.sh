#!/usr/bin/env bash
# The allow-list and the audit line cannot be forged through the user database
# (docs/threat-model.md, class P). On a cluster users and groups come from an NSS
# module (sssd, LDAP; here libnss-extrausers stands in), which the static launcher does
# not load: it asks the host's getent. An attacker runs the launcher under a tracer of
# its own (chos-it-attack forge-output) that attaches to every child of the launcher it
# may trace and rewrites what the child writes: the group `lic` answered with the
# attacker's own gid, the attacker's passwd entry answered as `alice`. Whatever the
# tracer does, a user outside `lic` never enters the `groups: [lic]` environment, a user
# who is not alice never enters the `users: [alice]` one, `chos --list` agrees, and the
# audit line names the real user. (Before the fix the lookups ran as the caller: the
# tracer attached and both environments opened, with `user=alice` in the audit line.)
# checks: P
source "$(dirname "$0")/lib.sh"
it_main "$@"
source "$IT_LIB_DIR/launcher_lib.sh"
command -v python3 >/dev/null || it_fail "needs python3 (the /dev/log listener)"
dpkg-query -W libnss-extrausers >/dev/null 2>&1 || it_fail "needs libnss-extrausers (tools/install-deps)"

it_launchers
lt_private_dev
make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/g" g
IT_CFG_EXTRA="  lic:
    path: $IT_BASE/trees/g
    groups: [lic]
  ali:
    path: $IT_BASE/trees/g
    users: [alice]" IT_DEFAULT=a it_config a:"$IT_BASE/trees/a"
it_bind_config

# The users and groups only the NSS module knows (this namespace's /etc is a copy;
# /var/lib/extrausers a tmpfs of the test's).
base=62000
while getent passwd "$base" >/dev/null || getent passwd $((base + 3)) >/dev/null ||
    getent group $((base + 2)) >/dev/null; do base=$((base + 10)); done
evil=$base evil_gid=$((base + 1)) lic=$((base + 2)) alice=$((base + 3)) member=$((base + 4))
sed -i 's/^passwd:.*/passwd: files extrausers/; s/^group:.*/group: files extrausers/' /etc/nsswitch.conf
mkdir -p /var/lib/extrausers && mount -t tmpfs -o mode=0755 chos-it-nss /var/lib/extrausers ||
    it_fail "cannot mount a tmpfs on /var/lib/extrausers"
IT_CLEANUP+=("umount /var/lib/extrausers")
cat > /var/lib/extrausers/passwd <<EOF
chosevil:x:$evil:$evil_gid:attacker:/nonexistent:/bin/sh
alice:x:$alice:$alice:alice:/nonexistent:/bin/sh
chosmember:x:$member:$member:member of lic:/nonexistent:/bin/sh
EOF
cat > /var/lib/extrausers/group <<EOF
chosevil:x:$evil_gid:
lic:x:$lic:chosmember
EOF
chmod 0644 /var/lib/extrausers/passwd /var/lib/extrausers/group
assert_eq "getent knows the attacker" "chosevil" "$(getent passwd "$evil" | cut -d: -f1)"
assert_eq "getent knows lic" "$lic" "$(getent group lic | cut -d: -f3)"

it_start

AS_EVIL=(setpriv --reuid=$evil --regid=$evil_gid --groups=$evil_gid)
# What the tracer writes instead: lic with the attacker's own gid; the attacker as alice.
FORGE=("$CHOS_IT_ATTACK" forge-output
    "lic:" "lic:x:$evil_gid:chosevil"$'\n'
    "chosevil:" "alice:x:$evil:$evil_gid:alice:/nonexistent:/bin/sh"$'\n'
    "alice:" "alice:x:$evil:$evil_gid:alice:/nonexistent:/bin/sh"$'\n'
    --)
PREFIX='^<85>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} chos: '
lines_now() { wc -l < "$LT_SYSLOG"; }

# forged WHAT EXPECTED-RC EXPECTED-OUTPUT-REGEX AUDIT-REGEX CHOS-RUN-ARGS...: five
# launches under the tracer, each with the expected status, output and audit line.
forged() {
    local what=$1 rc_want=$2 out_want=$3 audit_want=$4 try n out rc line
    shift 4
    for try in 1 2 3 4 5; do
        n=$(lines_now)
        out=$("${AS_EVIL[@]}" "${FORGE[@]}" "$BIN/chos-run" "$@" 2>&1); rc=$?
        it_say "$what, try $try: $(grep '^forge-output:' <<< "$out")"
        out=$(grep -v '^forge-output:' <<< "$out")
        assert_eq "$what, try $try: exit status ($out)" "$rc_want" "$rc"
        assert_eq "$what, try $try: output ($out)" 1 "$(grep -cE "$out_want" <<< "$out")"
        more() { [ "$(lines_now)" -gt "$n" ]; }
        wait_for 5 more
        line=$(tail -n +"$((n + 1))" "$LT_SYSLOG" | head -n 1)
        assert_match "$what, try $try: audit line" "$PREFIX$audit_want\$" "$line"
    done
}

REAL="user=chosevil uid=$evil"
forged "not in lic, -o lic" 125 "^chos: environment not allowed: 'lic' \\(from -o\\)" \
    "$REAL env=- cmd=true result=refused: environment not allowed: 'lic'.*" -o lic -- true
forged "not alice, -o ali" 125 "^chos: environment not allowed: 'ali' \\(from -o\\)" \
    "$REAL env=- cmd=true result=refused: environment not allowed: 'ali'.*" -o ali -- true
forged "an open environment: the audit line names the real user" 0 "^NAME=a$" \
    "$REAL env=a cmd=cat result=ok" -o a -- cat /etc/os-release

out=$("${AS_EVIL[@]}" "${FORGE[@]}" "$BIN/chos" --list 2>&1); rc=$?
assert_eq "chos --list under the tracer: exit ($out)" 0 "$rc"
listed() { grep -cE "^  $1( |\$)" <<< "$2"; }
assert_eq "chos --list under the tracer: lic not listed ($out)" 0 "$(listed lic "$out")"
assert_eq "chos --list under the tracer: ali not listed" 0 "$(listed ali "$out")"
assert_eq "chos --list under the tracer: a listed" 1 "$(listed a "$out")"

# The rightful users still get in: a member of lic (its groups from the kernel) and alice.
out=$(setpriv --reuid=$member --regid=$member --groups=$member,$lic "$BIN/chos-run" -o lic -- cat /etc/os-release 2>&1)
assert_eq "lic's member enters lic ($out)" "NAME=g" "$(grep '^NAME=' <<< "$out")"
out=$(setpriv --reuid=$alice --regid=$alice --clear-groups "$BIN/chos-run" -o ali -- cat /etc/os-release 2>&1)
assert_eq "alice enters ali ($out)" "NAME=g" "$(grep '^NAME=' <<< "$out")"
out=$(setpriv --reuid=$alice --regid=$alice --clear-groups "$BIN/chos" --list 2>&1)
assert_eq "alice's chos --list shows ali ($out)" 1 "$(listed ali "$out")"

it_done
