#!/usr/bin/env bash
# Logins land in the user's environment (pam_chos(8)): a real sshd on
# 127.0.0.1 with pam_chos in its PAM session stack, real /chos from chos-setup,
# test users with keys. ~/.chos chooses; no ~/.chos gives the default; an invalid
# one follows fail_to_default both ways (told once: on stderr for a command, by sshd for
# a pty login); a pty login gets a home, names and a prompt; an environment's own
# /etc/ssh/sshrc is kept;
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
# ownrc: a tree with an /etc/ssh/sshrc of its own, which CHOS keeps
make_tree "$IT_BASE/trees/ownrc" ownrc
mkdir -m 0755 "$IT_BASE/trees/ownrc/etc/ssh"
echo 'echo "ownrc: its own sshrc" >&2' > "$IT_BASE/trees/ownrc/etc/ssh/sshrc"
# A shared file inside etc/ssh, which the sshrc's overlay covers: still the host's file.
echo "node7 ssh-ed25519 AAAA-the-site-s-known-hosts" > /etc/ssh/ssh_known_hosts   # the test's own /etc
for t in bullseye trixie; do : > "$IT_BASE/trees/$t/etc/ssh/ssh_known_hosts"; done
IT_CFG_SHARED="[/etc/passwd, /etc/group, /etc/ssh/ssh_known_hosts]"
# gated: trixie's tree again, for chospama alone (its gate: docs/threat-model.md, class S)
IT_CFG_EXTRA="  gated:
    path: $IT_BASE/trees/trixie
    users: [chospama]
  ownrc:
    path: $IT_BASE/trees/ownrc" pam_chos_config
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
out=$(pam_ssh $B cat /etc/debian_version 2>"$IT_BASE/stderr")
assert_eq "~/.chos gated, another user: the default instead" "$PAM_BULLSEYE_VERSION" "$out"
assert_eq "~/.chos gated, another user: told on stderr" \
    "chos: environment not allowed: 'gated' (from ~/.chos): not open to this user (see 'chos --list'): using the default environment 'bullseye'" \
    "$(cat "$IT_BASE/stderr")"
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
# A command (no terminal: sshd shows no PAM message) is told on stderr, once, by the
# sshrc chos-setup laid over the environment's /etc/ssh; its stdout is the command's.
pam_service fail_to_default=yes
pam_user_file $A nosuchenv
note="chos: unknown environment: 'nosuchenv' (from ~/.chos) (see 'chos --list'): using the default environment 'bullseye'"
out=$(pam_ssh $A cat /etc/debian_version 2>"$IT_BASE/stderr"); rc=$?
assert_eq "fail_to_default=yes: exit" 0 "$rc"
assert_eq "fail_to_default=yes: the default" "$PAM_BULLSEYE_VERSION" "$out"
assert_eq "fail_to_default=yes: ssh host command: told on stderr, once" "$note" "$(cat "$IT_BASE/stderr")"
assert_eq "fail_to_default=yes: \$CHOS_NOTE in the session" "$note" "$(pam_ssh $A 'echo "$CHOS_NOTE"' 2>/dev/null)"
out=$(printf 'echo CHOS=$CHOS\nexit\n' | pam_ssh -tt $A 2>&1 | tr -d '\r')
assert_match "fail_to_default=yes: the user is told (pty)" \
    "chos: unknown environment: 'nosuchenv' \\(from ~/.chos\\) \\(see 'chos --list'\\): using the default environment 'bullseye'" "$out"
assert_eq "fail_to_default=yes: told once (pty: by sshd, not by the sshrc)" 1 \
    "$(grep -c "using the default environment 'bullseye'" <<< "$out")"
# ~/.hushlogin: sshd keeps PAM's messages to itself, the sshrc says it instead.
touch "/home/$A/.hushlogin"; chown $A: "/home/$A/.hushlogin"
out=$(printf 'echo CHOS=$CHOS\nexit\n' | pam_ssh -tt $A 2>&1 | tr -d '\r')
assert_eq "fail_to_default=yes, ~/.hushlogin: told once (pty: by the sshrc)" 1 \
    "$(grep -c -F "$note" <<< "$out")"
rm -f "/home/$A/.hushlogin"
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
# ... and a valid choice still works with fail_to_default=no, with nothing to say.
pam_user_file $A trixie
assert_eq "fail_to_default=no, valid ~/.chos" "$PAM_TRIXIE_VERSION" "$(pam_ssh $A cat /etc/debian_version 2>&1)"
assert_eq "nothing to say: no \$CHOS_NOTE" "unset" "$(pam_ssh $A 'echo "${CHOS_NOTE-unset}"' 2>&1)"
assert_match "the sshrc inside is CHOS's" "pam_chos\\(8\\)" "$(pam_ssh $A cat /etc/ssh/sshrc 2>&1)"
assert_eq "a shared file under the sshrc's overlay: the host's" "node7 ssh-ed25519 AAAA-the-site-s-known-hosts" \
    "$(pam_ssh $A cat /etc/ssh/ssh_known_hosts 2>&1)"
# An environment's own sshrc is kept (and run by sshd), with a warning at every reload.
pam_user_file $A ownrc
out=$(pam_ssh $A cat /etc/os-release 2>"$IT_BASE/stderr")
assert_match "ownrc: the environment" "^NAME=ownrc" "$out"
assert_eq "ownrc: sshd ran the environment's own sshrc" "ownrc: its own sshrc" "$(cat "$IT_BASE/stderr")"
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "reload with ownrc: exit ($out)" 0 "$rc"
warning="environment 'ownrc': keeps its own /etc/ssh/sshrc \\(sshd runs that one\\): ssh sessions without a terminal do not show pam_chos's messages"
assert_match "reload with ownrc: the warning" "$warning" "$out"
assert_match "check with ownrc: the warning" "$warning \\(warning\\)" "$(chos_setup check 2>&1)"
assert_eq "check: only ownrc's sshrc is reported" 1 "$(chos_setup check 2>&1 | grep -c sshrc)"

# The sshrc's X11 step (sshd hands the cookie to an sshrc instead of running xauth):
# an xauth of the test's on PATH records what it is given.
mkdir -p "$IT_BASE/xauth"
printf '#!/bin/sh\necho "$*" > %s/args; cat > %s/input\n' "$IT_BASE/xauth" "$IT_BASE/xauth" > "$IT_BASE/xauth/xauth"
chmod 0755 "$IT_BASE/xauth/xauth"
for display in localhost:10.0 node7:11.0; do
    rm -f "$IT_BASE/xauth/args" "$IT_BASE/xauth/input"
    out=$(echo "MIT-MAGIC-COOKIE-1 00ff" | env -i PATH="$IT_BASE/xauth:/usr/bin:/bin" DISPLAY=$display \
        CHOS_NOTE=note sh "$TREE/.chos/ssh/sshrc" 2>&1)
    assert_eq "sshrc, DISPLAY=$display: the note" "note" "$out"
    assert_eq "sshrc, DISPLAY=$display: xauth's arguments" "-q -" "$(cat "$IT_BASE/xauth/args" 2>&1)"
    want="add ${display/localhost:/unix:} MIT-MAGIC-COOKIE-1 00ff"
    assert_eq "sshrc, DISPLAY=$display: xauth's input" "$want" "$(cat "$IT_BASE/xauth/input" 2>&1)"
done
rm -f "$IT_BASE/xauth/args"
echo "" | env -i PATH="$IT_BASE/xauth:/usr/bin:/bin" SSH_TTY=/dev/pts/0 CHOS_NOTE=note sh "$TREE/.chos/ssh/sshrc" \
    > "$IT_BASE/stderr" 2>&1
assert_eq "sshrc with a terminal and no X11: silent" "" "$(cat "$IT_BASE/stderr")"
assert_eq "sshrc without X11: no xauth" "no" "$([ -e "$IT_BASE/xauth/args" ] && echo yes || echo no)"
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
