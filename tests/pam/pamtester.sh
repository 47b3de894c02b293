#!/usr/bin/env bash
# pamtester drives pam_chos through open_session and close_session (no sshd): the
# session opens in the chosen environment (syslog says which), closes cleanly, is
# refused with fail_to_default=no, and root is switched only with root=yes.
# checks: I
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$(dirname "$IT_SELF")/pam_lib.sh"

[ -x "$CHOS_PAMTESTER" ] || it_fail "no pamtester (apt-get install pamtester; tools/install-deps)"
pam_namespace
pam_add_user chospama
pam_trees
pam_chos_config
it_start

A=chospama
uid=$(id -u $A)
pamtester() { timeout -s KILL 30 "$CHOS_PAMTESTER" -v chos-test "$@" 2>&1; }
log_since() { tail -c +$(($1 + 1)) "$PAM_LOG"; }

pam_service debug
pam_user_file $A trixie
mark=$(stat -c %s "$PAM_LOG")
out=$(pamtester $A open_session close_session); rc=$?
it_say "pamtester: $(tr '\n' ' ' <<< "$out")"
assert_eq "pamtester open_session close_session: exit" 0 "$rc"
assert_match "pamtester: opened" "successfully opened a session" "$out"
assert_match "pamtester: closed" "session has successfully been closed" "$out"
assert_match "pamtester: syslog says trixie" "pam_chos\\(chos-test:session\\): user=$A uid=$uid env=trixie result=entered" \
    "$(log_since "$mark")"
assert_match "pamtester: debug timings" "pam_chos\\(chos-test:session\\): phase registration: [0-9.]+ ms" "$(log_since "$mark")"

# fail_to_default=no and an unknown choice: open_session fails.
pam_service fail_to_default=no
pam_user_file $A nosuchenv
mark=$(stat -c %s "$PAM_LOG")
out=$(pamtester $A open_session close_session); rc=$?
assert_ne "pamtester, refused: exit" 0 "$rc"
assert_no_match "pamtester, refused: not opened" "successfully opened a session" "$out"
assert_match "pamtester, refused: syslog" "user=$A uid=$uid env=- result=refused: unknown environment: 'nosuchenv'" \
    "$(log_since "$mark")"

# fail_to_default=yes: opened in the default.
pam_service fail_to_default=yes
mark=$(stat -c %s "$PAM_LOG")
out=$(pamtester $A open_session close_session); rc=$?
assert_eq "pamtester, fallback: exit ($out)" 0 "$rc"
assert_match "pamtester, fallback: told" "chos: unknown environment: 'nosuchenv' .*using the default environment 'bullseye'" "$out"
assert_match "pamtester, fallback: syslog" "user=$A uid=$uid env=bullseye result=entered" "$(log_since "$mark")"

# root: not switched by default (no line), switched with root=yes (the default env).
pam_service
mark=$(stat -c %s "$PAM_LOG")
out=$(pamtester root open_session close_session); rc=$?
assert_eq "pamtester root: exit ($out)" 0 "$rc"
assert_no_match "pamtester root: not switched" "result=entered" "$(log_since "$mark")"
pam_service root=yes
mark=$(stat -c %s "$PAM_LOG")
out=$(pamtester root open_session close_session); rc=$?
assert_eq "pamtester root, root=yes: exit ($out)" 0 "$rc"
assert_match "pamtester root, root=yes: switched" "user=root uid=0 env=bullseye result=entered" "$(log_since "$mark")"

# A malformed argument refuses; so does an unknown one, named (pam_chos(8) OPTIONS).
pam_service fail_to_default=maybe
out=$(pamtester $A open_session); rc=$?
assert_ne "fail_to_default=maybe: refused" 0 "$rc"
assert_match "fail_to_default=maybe: logged" "module argument 'fail_to_default=maybe': expected yes or no" "$(cat "$PAM_LOG")"
pam_service frobnicate
pam_user_file $A trixie
out=$(pamtester $A open_session close_session); rc=$?
assert_ne "unknown argument: refused ($out)" 0 "$rc"
assert_match "unknown argument: logged" "unknown module argument 'frobnicate' \\(see pam_chos\\(8\\)\\)" "$(cat "$PAM_LOG")"

it_done
