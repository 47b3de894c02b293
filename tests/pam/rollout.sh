#!/usr/bin/env bash
# pam_chos(8)'s rollout, through a real sshd (issue 14, item 1):
#  * `meson install` puts pam_chos.so where PAM loads modules from: named without a
#    path, as the documentation says, the module is found and a login lands in the
#    user's environment (a build installing it under the prefix gave "Module is
#    unknown" and locked every login out, root's included);
#  * the documented session lines (read from the built pam_chos(8)) never lock root
#    out, even with the module gone (a half-finished upgrade): root logs in on the
#    host, users are refused; the bare `session required pam_chos.so` line would
#    lock root out in that case (shown); with `optional`, the trial step, users log
#    in on the host.
# checks: -
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$(dirname "$IT_SELF")/pam_lib.sh"

# Where this build installs the module: meson's own record of `meson install`.
installed=$(python3 -c 'import json, sys
for src, dst in json.load(open(sys.argv[1])).items():
    if src.endswith("/pam_chos.so"): print(dst)' "$CHOS_BUILD_DIR/meson-info/intro-installed.json") ||
    it_fail "cannot read $CHOS_BUILD_DIR/meson-info/intro-installed.json"
[ -n "$installed" ] || it_fail "pam_chos.so is not installed by this build"
SECDIR=${installed%/*}
it_say "meson install puts the module in $SECDIR"
# (PAM's own modules are there: a directory it loads from)
[ -f "$SECDIR/pam_unix.so" ] || it_fail "meson install puts pam_chos.so in $SECDIR, where this system's PAM has no modules"
# The documented lines: the .EX block after the comment naming this test.
mapfile -t ROLLOUT < <(awk '/tests\/pam\/rollout.sh/ { on = 1; next } on && /^\.EE/ { exit } on && /^session/' \
    "$CHOS_BUILD_DIR/man/pam_chos.8")
[ ${#ROLLOUT[@]} = 2 ] || it_fail "expected the two session lines in the built pam_chos(8), got: ${ROLLOUT[*]}"
case ${ROLLOUT[1]} in *" pam_chos.so") ;; *) it_fail "pam_chos(8) names the module by a path: ${ROLLOUT[1]}" ;; esac
# The README shows the same two lines.
mapfile -t README_LINES < <(sed -n 's/^ *\(session .*\)$/\1/p' "$CHOS_SOURCE_DIR/README.md")
assert_eq "the README's session lines are pam_chos(8)'s" "$(printf '%s\n' "${ROLLOUT[@]}")" "$(printf '%s\n' "${README_LINES[@]}")"

pam_namespace
pam_add_user chospamr
pam_trees
pam_chos_config
it_start

# `meson install`, in this namespace only: PAM's module directory replaced by a copy
# with the built module added.
mkdir -p "$PAM_DIR/secdir"
cp -a "$SECDIR/." "$PAM_DIR/secdir/" || it_fail "cannot copy $SECDIR"
install -m 0644 -o 0 -g 0 "$CHOS_PAM_MODULE" "$PAM_DIR/secdir/pam_chos.so" || it_fail "cannot copy the module"
mount --bind "$PAM_DIR/secdir" "$SECDIR" || it_fail "cannot bind a copy of $SECDIR"

# root may log in with a key; its home is a tmpfs of this namespace.
mount -t tmpfs -o mode=0700 pam-root /root || it_fail "cannot mount the test's /root"
mkdir -m 0700 /root/.ssh
ssh-keygen -q -t ed25519 -N '' -C root -f "$PAM_DIR/keys/root" || it_fail "ssh-keygen for root"
install -m 0600 "$PAM_DIR/keys/root.pub" /root/.ssh/authorized_keys

stack() { # the sshd service: the harness's auth/account, then the session lines given
    {
        echo "# written by tests/pam/rollout.sh"
        echo "auth     required pam_permit.so"
        echo "account  required pam_permit.so"
        echo "password required pam_deny.so"
        echo "session  required pam_permit.so"
        printf '%s\n' "$@"
    } > /etc/pam.d/sshd.tmp && mv /etc/pam.d/sshd.tmp /etc/pam.d/sshd
}
PAM_ROOT_LOGIN=prohibit-password pam_sshd_start
U=chospamr
HOST_VERSION=$(cat /etc/debian_version)

# 1. The documented lines, the module where meson installed it.
stack "${ROLLOUT[@]}"
out=$(pam_ssh $U cat /etc/debian_version 2>&1); rc=$?
assert_eq "documented lines: $U logs in ($out)" 0 "$rc"
assert_eq "documented lines: $U lands in the default environment" "$PAM_BULLSEYE_VERSION" "$out"
assert_eq "documented lines: \$CHOS of $U's session" bullseye "$(pam_ssh $U 'echo $CHOS' 2>&1)"
out=$(pam_ssh root cat /etc/debian_version 2>&1); rc=$?
assert_eq "documented lines: root logs in ($out)" 0 "$rc"
assert_eq "documented lines: root stays on the host" "$HOST_VERSION" "$out"

# 2. The module gone (a half-finished upgrade, a wrong name): root still gets in.
rm -f "$PAM_DIR/secdir/pam_chos.so"
out=$(pam_ssh root cat /etc/debian_version 2>&1); rc=$?
assert_eq "module missing, documented lines: root logs in ($out)" 0 "$rc"
assert_eq "module missing, documented lines: root on the host" "$HOST_VERSION" "$out"
out=$(pam_ssh $U cat /etc/debian_version 2>&1); rc=$?
assert_eq "module missing, documented lines: $U is refused (sshd's 'PAM session not opened')" 254 "$rc"
assert_no_match "module missing: nothing ran for $U" "$PAM_BULLSEYE_VERSION|$HOST_VERSION" "$out"
# libpam says why in syslog (the namespace's /dev/log)
assert_match "module missing: syslog names the module" "unable to dlopen\\(pam_chos.so\\)" "$(cat "$PAM_LOG")"

# 3. Without the first line, the same breakage locks root out: why it is documented.
stack "session    required     pam_chos.so"
out=$(pam_ssh root cat /etc/debian_version 2>&1); rc=$?
assert_eq "module missing, bare required line: root is locked out too ($out)" 254 "$rc"

# 4. The trial step (optional): a broken module lets users in, on the host.
stack "${ROLLOUT[0]}" "${ROLLOUT[1]/required/optional}"
out=$(pam_ssh $U cat /etc/debian_version 2>&1); rc=$?
assert_eq "module missing, optional: $U logs in ($out)" 0 "$rc"
assert_eq "module missing, optional: $U on the host" "$HOST_VERSION" "$out"

it_done
