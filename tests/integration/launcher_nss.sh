#!/usr/bin/env bash
# The launcher resolves the caller through the host's NSS (docs/properties.md, step 3
# of entering). On a cluster the users mostly come from a module (sssd, ldap,
# systemd), not from /etc/passwd; a caller that "files" does not know makes the
# static launcher go on to the next module of the host's nsswitch.conf. Whatever the
# outcome, the user sees a clean result -- one line and 125, or the command's own
# status -- never a crash. (Found by launcher_attacks: with "passwd: files systemd",
# as on Debian 12, the static chos-run died of SIGSEGV inside libnss_systemd.so.2,
# exit status 139. The launcher now reads the files itself and asks the host's
# getent, as the user, for anything else: src/enter/user_db.hpp.) A user and a group
# known only to a real NSS module (libnss-extrausers, standing in for sssd/LDAP) can
# use CHOS, and the allow-list resolves that module's group.
# checks: D P
source "$(dirname "$0")/lib.sh"
it_main "$@"

IT_CFG_EXTRA="  g:
    path: $IT_BASE/trees/a
    description: \"for chosnssgrp only\"
    groups: [chosnssgrp]" IT_DEFAULT=a it_start_launchers a -- a:"$IT_BASE/trees/a" h:-

uid=61999
while getent passwd "$uid" >/dev/null; do uid=$((uid + 1)); done
it_say "nsswitch.conf passwd line: $(grep '^passwd:' /etc/nsswitch.conf)"
AS_UNKNOWN=(setpriv --reuid=$uid --regid=$uid --clear-groups)
NO_USER="chos: cannot resolve user: '$uid': no such user in the password database"

out=$("${AS_UNKNOWN[@]}" "$BIN/chos-run" -o a -- true 2>&1); rc=$?
assert_eq "unknown uid, chos-run -o a: a clean refusal ($out)" 125 "$rc"
assert_eq "unknown uid, chos-run -o a: message" "$NO_USER" "$out"
out=$(CHOS=$'a\nb' "${AS_UNKNOWN[@]}" "$BIN/chos-run" true 2>&1); rc=$?
assert_eq "unknown uid, bad \$CHOS: exit ($out)" 125 "$rc"
out=$("${AS_UNKNOWN[@]}" "$BIN/chos" --list 2>&1); rc=$?
assert_eq "unknown uid, chos --list: exit ($out)" 125 "$rc"
assert_eq "unknown uid, chos --list: message" "$NO_USER" "$out"
# Nothing half set up: the refusal comes before registration.
assert_eq "no registration left" "" "$(cat "$REGMNT"/*/cgroup.procs 2>/dev/null)"

# A user and a group only an NSS module knows (this namespace's /etc is a copy:
# lib.sh it_bind_config; /var/lib/extrausers a tmpfs of the test's).
dpkg-query -W libnss-extrausers >/dev/null 2>&1 || it_fail "needs libnss-extrausers (tools/install-deps)"
sed -i 's/^passwd:.*/passwd: files extrausers/; s/^group:.*/group: files extrausers/' /etc/nsswitch.conf
mkdir -p /var/lib/extrausers && mount -t tmpfs -o mode=0755 chos-it-nss /var/lib/extrausers ||
    it_fail "cannot mount a tmpfs on /var/lib/extrausers"
nss_uid=$uid nss_gid=$((uid + 1))
echo "chosnss:x:$nss_uid:$nss_gid:CHOS NSS test user:/home/chosnss:/bin/sh" > /var/lib/extrausers/passwd
echo "chosnssgrp:x:$nss_gid:" > /var/lib/extrausers/group
chmod 0644 /var/lib/extrausers/passwd /var/lib/extrausers/group
mkdir -p "$IT_BASE/home/chosnss" && chown "$nss_uid:$nss_gid" "$IT_BASE/home/chosnss"
mount --bind "$IT_BASE/home" /home || it_fail "cannot bind the test's /home"
assert_eq "getent knows the module's user" "chosnss" "$(getent passwd "$nss_uid" | cut -d: -f1)"
# The group is new to NSS: a reload resolves it for g's gate (chos.yaml(5), users/groups).
out=$(chos_setup reload 2>&1) || it_fail "reload once the module knows chosnssgrp: $out"
grep -q chosnss /etc/passwd && it_fail "the module's user must not be in /etc/passwd"
AS_NSS=(setpriv --reuid=$nss_uid --regid=$nss_gid --groups=$nss_gid)
out=$("${AS_NSS[@]}" "$BIN/chos-run" -o a -- cat /etc/os-release 2>&1); rc=$?
assert_eq "NSS-module user, chos-run -o a: exit ($out)" 0 "$rc"
assert_eq "NSS-module user, chos-run -o a: a's files" "NAME=a" "$(grep '^NAME=' <<< "$out")"
out=$("${AS_NSS[@]}" "$BIN/chos-run" -o g -- cat /etc/os-release 2>&1); rc=$?
assert_eq "NSS-module group allows g: exit ($out)" 0 "$rc"
out=$("${AS_NSS[@]}" "$BIN/chos" --list 2>&1); rc=$?
assert_eq "NSS-module user, chos --list: exit ($out)" 0 "$rc"
assert_match "NSS-module user, chos --list shows g" "^  g +for chosnssgrp only$" "$(grep ' g ' <<< "$out")"
# ~/.chos of that user (home from the module's passwd entry) decides.
echo g > "$IT_BASE/home/chosnss/.chos" && chown "$nss_uid:$nss_gid" "$IT_BASE/home/chosnss/.chos"
assert_eq "NSS-module user, ~/.chos from the module's home" "g" \
    "$("${AS_NSS[@]}" "$BIN/chos-run" sh -c 'echo $CHOS' 2>&1)"
# Without the group: g refused with the exact line.
out=$(setpriv --reuid=$nss_uid --regid=$nss_uid --clear-groups "$BIN/chos-run" -o g -- true 2>&1); rc=$?
assert_eq "NSS-module user without the group, -o g: exit" 125 "$rc"
assert_match "NSS-module user without the group, -o g: message" "^chos: environment not allowed: 'g'" "$out"
umount /var/lib/extrausers /home

it_done
