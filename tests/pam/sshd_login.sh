#!/usr/bin/env bash
# Logins land in the user's environment (pam_chos(8)): a real sshd on
# 127.0.0.1 with pam_chos in its PAM session stack, real /chos from chos-setup,
# test users with keys. ~/.chos chooses; no ~/.chos gives the default; an invalid
# one follows fail_to_default both ways; a pty login gets a home, names and a prompt;
# a restricted environment lets its user in, and no one else, not even by path.
# checks: P9 G I S
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$(dirname "$IT_SELF")/pam_lib.sh"
[ -x "$CHOS_PAMTESTER" ] || it_need "needs pamtester (apt-get install pamtester)"

pam_namespace
pam_add_user chospama
pam_add_user chospamb
pam_trees
# gated: trixie's tree again, for chospama alone (its gate: docs/threat-model.md, class S)
IT_CFG_EXTRA="  gated:
    path: $IT_BASE/trees/trixie
    users: [chospama]" pam_chos_config
it_start
pam_service
pam_sshd_start
it_say "sshd on 127.0.0.1:$PAM_PORT"

A=chospama
B=chospamb
HOST_VERSION=$(cat /etc/debian_version)

# ~/.chos says trixie: the command runs in trixie.
pam_user_file $A trixie
out=$(pam_ssh $A cat /etc/debian_version 2>&1); rc=$?
assert_eq "ssh $A cat /etc/debian_version: exit ($out)" 0 "$rc"
assert_eq "~/.chos trixie: /etc/debian_version" "$PAM_TRIXIE_VERSION" "$out"
assert_eq "~/.chos trixie: \$CHOS" "trixie" "$(pam_ssh $A 'echo $CHOS' 2>&1)"
assert_match "~/.chos trixie: PATH reaches the launcher" ":/\\.chos/bin$" "$(pam_ssh $A 'echo $PATH' 2>&1)"
assert_eq "~/.chos trixie: the session's registration" "name=$IT_REG:/trixie" \
    "$(pam_ssh $A cat /proc/self/cgroup 2>&1 | grep -o "name=$IT_REG:.*")"
assert_eq "~/.chos trixie: the session runs as the user" "$A" "$(pam_ssh $A whoami 2>&1)"

# Changing ~/.chos changes the next login.
pam_user_file $A bullseye
assert_eq "~/.chos changed to bullseye" "$PAM_BULLSEYE_VERSION" "$(pam_ssh $A cat /etc/debian_version 2>&1)"
pam_user_file $A h
assert_eq "~/.chos changed to the host environment h" "$HOST_VERSION" "$(pam_ssh $A cat /etc/debian_version 2>&1)"
assert_eq "host environment: \$CHOS" "h" "$(pam_ssh $A 'echo $CHOS' 2>&1)"

# A restricted environment: its user logs in through its gate; another user is refused
# by pam_chos (and falls back to the default) and by the kernel (the gate).
pam_user_file $A gated
assert_eq "~/.chos gated, its user: the environment's files" "$PAM_TRIXIE_VERSION" \
    "$(pam_ssh $A cat /etc/debian_version 2>&1)"
assert_eq "~/.chos gated, its user: \$CHOS" "gated" "$(pam_ssh $A 'echo $CHOS' 2>&1)"
pam_user_file $B gated
assert_eq "~/.chos gated, another user: the default instead" "$PAM_BULLSEYE_VERSION" \
    "$(pam_ssh $B cat /etc/debian_version 2>&1 | tail -n 1)"
out=$(pam_ssh $B cat /.chos/os/gated/etc/debian_version 2>&1); rc=$?
assert_ne "another user, through the gate by path: refused ($out)" 0 "$rc"
# (fuse, kmod: the gate refuses; namespace: the other environment is not in this one's view)
if [ "$CHOS_IT_BACKEND" = namespace ]; then
    assert_match "another user, by path: not in the default environment's namespace" "No such file or directory" "$out"
else
    assert_match "another user, through the gate by path: the kernel says" "Permission denied" "$out"
fi
rm -f "/home/$B/.chos"

# No ~/.chos: the default (bullseye), for another user.
rm -f "/home/$B/.chos"
assert_eq "no ~/.chos: the default" "$PAM_BULLSEYE_VERSION" "$(pam_ssh $B cat /etc/debian_version 2>&1)"
assert_eq "no ~/.chos: \$CHOS" "bullseye" "$(pam_ssh $B 'echo $CHOS' 2>&1)"

# A pty login: the home directory, names from the (shared) passwd, a prompt.
pam_user_file $A trixie
out=$(printf 'pwd\nid\ncat /etc/debian_version\nexit\n' | PAM_SSH_TIMEOUT=30 pam_ssh -tt $A 2>&1 | tr -d '\r'); rc=$?
it_say "pty login transcript:"
while IFS= read -r l; do it_say "  $l"; done <<< "$out"
assert_eq "pty login: exit status" 0 "$rc"
uid=$(id -u $A)
assert_match "pty login: the home directory" "(^|[[:space:]])/home/$A($|[[:space:]])" "$out"
assert_match "pty login: id shows names" "uid=$uid\\($A\\) gid=$uid\\($A\\)" "$out"
assert_match "pty login: a prompt" "\\$ " "$out"
assert_match "pty login: in trixie" "(^|[[:space:]])$PAM_TRIXIE_VERSION($|[[:space:]])" "$out"
assert_no_match "pty login: no error from sshd" "Could not chdir|No such file|not a tty|PTY allocation" "$out"

# fail_to_default=yes: an unknown name in ~/.chos falls back to the default; the
# user is told why (pty logins show PAM messages) and syslog says so.
pam_service fail_to_default=yes
pam_user_file $A nosuchenv
out=$(pam_ssh $A cat /etc/debian_version 2>&1); rc=$?
assert_eq "fail_to_default=yes: exit" 0 "$rc"
assert_eq "fail_to_default=yes: the default" "$PAM_BULLSEYE_VERSION" "$out"
out=$(printf 'echo CHOS=$CHOS\nexit\n' | pam_ssh -tt $A 2>&1 | tr -d '\r')
assert_match "fail_to_default=yes: the user is told (pty)" \
    "chos: unknown environment: 'nosuchenv' \\(from ~/.chos\\) \\(see 'chos --list'\\): using the default environment 'bullseye'" "$out"
assert_match "fail_to_default=yes: CHOS in the pty session" "CHOS=bullseye" "$out"
assert_match "fail_to_default=yes: logged" \
    "pam_chos\\(sshd:session\\): user=$A: unknown environment: 'nosuchenv' .*: using the default environment 'bullseye'" \
    "$(cat "$PAM_LOG")"

# fail_to_default=no: the session is refused (sshd exits 254), with the reason.
pam_service fail_to_default=no
out=$(pam_ssh $A cat /etc/debian_version 2>&1); rc=$?
assert_eq "fail_to_default=no: exit (sshd's 'PAM session not opened')" 254 "$rc"
assert_match "fail_to_default=no: the reason" "chos: unknown environment: 'nosuchenv' \\(from ~/.chos\\)" "$out"
assert_no_match "fail_to_default=no: nothing ran" "$PAM_BULLSEYE_VERSION" "$out"
assert_match "fail_to_default=no: logged" "user=$A uid=$uid env=- result=refused: unknown environment: 'nosuchenv'" \
    "$(cat "$PAM_LOG")"
# ... and a valid choice still works with fail_to_default=no.
pam_user_file $A trixie
assert_eq "fail_to_default=no, valid ~/.chos" "$PAM_TRIXIE_VERSION" "$(pam_ssh $A cat /etc/debian_version 2>&1)"
# An invalid name (class G) is refused the same way.
pam_user_file $A '../../etc'
out=$(pam_ssh $A true 2>&1); rc=$?
assert_eq "fail_to_default=no, ~/.chos '../../etc': exit" 254 "$rc"
assert_match "fail_to_default=no, ~/.chos '../../etc': message" "chos: invalid environment name: '\\.\\./\\.\\./etc'" "$out"

# Module arguments: user_file= names another file; a bad value refuses the session.
pam_service fail_to_default=no user_file=.chos-test
pam_user_file $A nosuchenv
printf 'trixie\n' > "/home/$A/.chos-test"; chown $A: "/home/$A/.chos-test"
assert_eq "user_file=.chos-test" "$PAM_TRIXIE_VERSION" "$(pam_ssh $A cat /etc/debian_version 2>&1)"
pam_service user_file=../etc/shadow
out=$(pam_ssh $A true 2>&1); rc=$?
assert_eq "user_file with a '/': refused" 254 "$rc"
assert_match "user_file with a '/': logged" "module argument 'user_file=\\.\\./etc/shadow': expected a file name without '/'" \
    "$(cat "$PAM_LOG")"

# Root is never switched (root=no by default): pamtester as root succeeds and stays
# (no "entered" line in syslog).
pam_service
mark=$(stat -c %s "$PAM_LOG")
out=$("$CHOS_PAMTESTER" chos-test root open_session close_session 2>&1); rc=$?
assert_eq "root is not switched: pamtester ($out)" 0 "$rc"
assert_no_match "root is not switched: no session entered" "user=root .*result=entered" "$(tail -c +$((mark + 1)) "$PAM_LOG")"

it_say "sshd log: $(grep -c . "$PAM_SSHD_LOG") lines; syslog: $(grep -c . "$PAM_LOG") lines"
it_done
