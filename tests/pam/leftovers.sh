#!/usr/bin/env bash
# Runs after the rest of the pam suite, in the machine's own namespaces: nothing of
# the suite is left -- no sshd of a test, no test user, no PAM service file of a
# test, no mount or directory of a test, no /etc/chos.yaml it created.
# checks: -
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP pam_leftovers: needs root"; exit 77; }
failed=0
left() { echo "LEFTOVER: $*"; failed=1; }

# sshd processes started with a test's config (tests/pam/pam_lib.sh: /tmp/chos-it.*).
for d in /proc/[0-9]*; do
    cmd=$(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) || continue
    case $cmd in *sshd*-f\ /tmp/chos-it.*) left "sshd of a test still running: pid ${d#/proc/}: $cmd" ;; esac
done
getent passwd | grep -q '^chospam' && left "a test user: $(getent passwd | grep '^chospam' | head -n 1)"
getent group | grep -q '^chospam' && left "a test group: $(getent group | grep '^chospam' | head -n 1)"
grep -q '^chospam' /etc/shadow 2>/dev/null && left "a test user in /etc/shadow"
grep -rlq 'tests/pam/pam_lib.sh' /etc/pam.d 2>/dev/null && left "a test PAM file: $(grep -rl 'tests/pam/pam_lib.sh' /etc/pam.d)"
grep -q ' /tmp/chos-it\.' /proc/self/mountinfo && left "mounts of a test: $(grep -o ' /tmp/chos-it\.[^ ]*' /proc/self/mountinfo | head -n 3)"
for d in /tmp/chos-it.[0-9]*.*; do
    [ -d "$d" ] || continue
    pid=${d#/tmp/chos-it.}; pid=${pid%%.*}
    kill -0 "$pid" 2>/dev/null || left "directory of a finished test: $d"
done
[ $failed = 0 ] && echo "PASS pam_leftovers"
exit $failed
