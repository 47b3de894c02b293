#!/usr/bin/env bash
# Item 4 of issue 14 through a real sshd: an interactive login (ssh -tt, a login
# shell in the environment pam_chos chose) runs the tree's /etc/profile, which resets
# PATH as Debian's does and then reads /etc/profile.d/*.sh; chos and chos-run are
# still on PATH there (chos-setup's profile.d overlay), and switching works.
# checks: -
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$(dirname "$IT_SELF")/pam_lib.sh"

pam_launchers
pam_namespace
pam_add_user chospamp
pam_trees
# The tree's /etc/profile as Debian's: PATH reset, then profile.d.
t=$IT_BASE/trees/bullseye
mkdir -p "$t/etc/profile.d"
printf '%s\n' 'PATH="/usr/local/bin:/usr/bin:/bin"' 'export PATH' \
    'for i in /etc/profile.d/*.sh; do if test -r "$i"; then . "$i"; fi; done' > "$t/etc/profile"
pam_chos_config
it_start
pam_service
pam_sshd_start

A=chospamp
rm -f "/home/$A/.chos"
out=$(printf '%s\n' 'echo "P=$PATH"' 'chos --current' 'chos-run -o trixie -- cat /etc/debian_version' 'exit' |
      pam_ssh -tt $A 2>&1 | tr -d '\r'); rc=$?
it_say "transcript: $(tr '\n' ' ' <<< "$out")"
assert_eq "ssh -tt login: exit" 0 "$rc"
assert_eq "ssh -tt login: the tree's profile set PATH, the launchers' directory is on it" \
    "P=/usr/local/bin:/usr/bin:/bin:/.chos/bin" "$(grep '^P=/' <<< "$out")"
assert_eq "ssh -tt login: chos --current" "bullseye" "$(grep -x bullseye <<< "$out")"
assert_eq "ssh -tt login: chos-run to trixie" "$PAM_TRIXIE_VERSION" "$(grep -xF "$PAM_TRIXIE_VERSION" <<< "$out")"
assert_no_match "ssh -tt login: no 'not found'" "not found" "$out"
it_done
