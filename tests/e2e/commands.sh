#!/usr/bin/env bash
# What a user sees on real trees: chos-run and chos into Debian 11 and 13 and
# the host (Debian 12), chos --list, a refused environment with its exact error line,
# and the working directory (a shared /home path) kept across every switch.
# checks: P1 P9 G
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$CHOS_SOURCE_DIR/tests/e2e/e2e.sh"

E2E_EXTRA_ENVS="  secret:
    path: $TREES/bullseye
    description: \"Debian 11, root only\"
    users: [root]"
e2e_start_all

host_version=$(cat /etc/debian_version)
assert_match "the host is Debian 12" '^12\.' "$host_version"

# chos-run -o NAME -- cat /etc/debian_version: the chosen tree's file.
out=$(as_user chos-alice chos-run -o bullseye -- cat /etc/debian_version 2>&1); rc=$?
assert_eq "chos-run -o bullseye: exit status ($out)" 0 "$rc"
assert_match "chos-run -o bullseye -- cat /etc/debian_version" '^11\.[0-9]+$' "$out"
out=$(as_user chos-alice chos-run -o trixie -- cat /etc/debian_version 2>&1); rc=$?
assert_eq "chos-run -o trixie: exit status ($out)" 0 "$rc"
assert_match "chos-run -o trixie -- cat /etc/debian_version" '^13\.[0-9]+$' "$out"
out=$(as_user chos-alice chos-run -o bookworm -- cat /etc/debian_version 2>&1); rc=$?
assert_eq "chos-run -o bookworm: exit status ($out)" 0 "$rc"
assert_eq "chos-run -o bookworm -- cat /etc/debian_version (the host)" "$host_version" "$out"

# The programs come from the tree too: the tree's own coreutils.
assert_match "cat --version in bullseye" 'coreutils\) 8\.32' \
    "$(as_user chos-alice chos-run -o bullseye -- cat --version 2>&1 | head -n 1)"
assert_match "cat --version in trixie" 'coreutils\) 9\.7' \
    "$(as_user chos-alice chos-run -o trixie -- cat --version 2>&1 | head -n 1)"

# CHOS=bullseye chos COMMAND, and chos alone: the login shell (the tree's /bin/sh, dash).
out=$(as_user chos-alice env CHOS=bullseye chos sh -c 'echo "$CHOS $(cat /etc/debian_version)"' 2>&1); rc=$?
assert_eq "CHOS=bullseye chos sh -c: exit status ($out)" 0 "$rc"
assert_match "CHOS=bullseye chos sh -c '...'" '^bullseye 11\.[0-9]+$' "$out"
out=$(echo 'cat /etc/debian_version; exit 3' | as_user chos-alice env CHOS=trixie chos 2>&1); rc=$?
assert_eq "CHOS=trixie chos reading commands from stdin: exit status" 3 "$rc"
assert_match "CHOS=trixie chos reading commands from stdin" '^13\.[0-9]+$' "$out"

# ~/.chos, and no choice at all: the default (the host).
echo trixie > /home/chos-alice/.chos
assert_match "~/.chos says trixie" '^13\.' "$(as_user chos-alice chos-run cat /etc/debian_version 2>&1)"
rm /home/chos-alice/.chos
assert_eq "nothing chosen: the default (bookworm)" "$host_version" \
    "$(as_user chos-alice chos-run cat /etc/debian_version 2>&1)"

# chos --list: what this user may use (secret is root only), the default marked.
out=$(as_user chos-alice chos --list 2>&1); rc=$?
assert_eq "chos --list: exit status ($out)" 0 "$rc"
assert_match "chos --list: bookworm, the default" '(^|'$'\n'')[ *] bookworm +test environment bookworm \(default\)' "$out"
assert_match "chos --list: bullseye" '(^|'$'\n'')[ *] bullseye +test environment bullseye' "$out"
assert_match "chos --list: trixie" '(^|'$'\n'')[ *] trixie +test environment trixie' "$out"
assert_no_match "chos --list: not secret" 'secret' "$out"
it_say "chos --list as chos-alice:"
while IFS= read -r l; do it_say "  $l"; done <<< "$out"

# A refused environment: exit 125, the exact line, nothing run.
out=$(as_user chos-alice chos-run -o secret -- touch /home/chos-alice/ran 2>&1); rc=$?
assert_eq "chos-run -o secret: exit status" 125 "$rc"
assert_eq "chos-run -o secret: the error" \
    "chos: environment not allowed: 'secret' (from -o): not open to this user (see 'chos --list')" "$out"
[ ! -e /home/chos-alice/ran ] || it_fail "the refused command ran"
out=$(as_user chos-alice chos-run -o centos7 -- true 2>&1); rc=$?
assert_eq "chos-run -o centos7: exit status" 125 "$rc"
assert_eq "chos-run -o centos7: the error" \
    "chos: unknown environment: 'centos7' (from -o) (see 'chos --list')" "$out"
# root may use it
assert_match "root in secret" '^11\.' "$("$BIN/chos-run" -o secret -- cat /etc/debian_version 2>&1)"

# The working directory: a shared /home path, kept into each environment and across a
# switch from inside one environment to another (the tree's /.chos/bin/chos-run).
install -d -o 64101 -g 64101 "/home/chos-alice/work/a dir"
cwd="/home/chos-alice/work/a dir"
assert_eq "cwd kept into bullseye" "$cwd" "$(E2E_CWD=$cwd as_user chos-alice chos-run -o bullseye -- pwd 2>&1)"
assert_eq "cwd kept into trixie" "$cwd" "$(E2E_CWD=$cwd as_user chos-alice chos-run -o trixie -- pwd 2>&1)"
out=$(E2E_CWD=$cwd as_user chos-alice chos-run -o bullseye -- sh -c \
    'echo hello > note; cat /etc/debian_version; chos-run -o trixie -- sh -c "pwd; cat /etc/debian_version; cat note"' 2>&1)
assert_match "bullseye -> trixie: the switch from inside" $'^11\\.[0-9]+\n'"$cwd"$'\n13\\.[0-9]+\nhello$' "$out"
assert_eq "the file written in bullseye is on the host's /home" hello "$(cat "$cwd/note")"

it_done
