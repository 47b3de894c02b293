#!/usr/bin/env bash
# P9 through a login: inside an ssh session that pam_chos put in bullseye, the setuid
# launcher bound at /.chos/bin (on PATH) switches to trixie, to the host and back.
# checks: P9
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$(dirname "$IT_SELF")/pam_lib.sh"

pam_launchers
pam_namespace
pam_add_user chospama
pam_trees
pam_chos_config
it_start
pam_service
pam_sshd_start

A=chospama
rm -f "/home/$A/.chos"
out=$(pam_ssh $A 'cat /etc/debian_version; chos-run -o trixie -- cat /etc/debian_version; chos-run -o h -- cat /etc/debian_version; chos-run -o trixie -- chos-run -o bullseye -- cat /etc/debian_version; chos --current' 2>&1); rc=$?
it_say "P9 transcript: $(tr '\n' ' ' <<< "$out")"
assert_eq "P9 in a login: exit" 0 "$rc"
assert_eq "P9 in a login" "$PAM_BULLSEYE_VERSION
$PAM_TRIXIE_VERSION
$(cat /etc/debian_version)
$PAM_BULLSEYE_VERSION
bullseye" "$out"
it_done
