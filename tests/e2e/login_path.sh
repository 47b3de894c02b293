#!/usr/bin/env bash
# "Switch from inside" as users do it (issue 14, item 4): a login shell in Debian 11
# and 13 runs the tree's own /etc/profile, which resets PATH; chos and chos-run are
# still found there (chos-setup lays its profile.d snippet over each environment's
# /etc/profile.d, without writing the trees): `CHOS=NAME chos` with bash as the login
# shell, `bash -l` under chos-run, and a switch from such a shell to the other tree.
# checks: -
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$CHOS_SOURCE_DIR/tests/e2e/e2e.sh"

e2e_start_all
# chos-alice's login shell is bash (the test's private /etc/passwd, shared into the trees).
sed -i 's|^\(chos-alice:.*\):/bin/sh$|\1:/bin/bash|' /etc/passwd
[ "$(getent passwd chos-alice | cut -d: -f7)" = /bin/bash ] || it_fail "cannot make bash chos-alice's shell"
before=$(find "$TREES" -newer "$CFG" -print | head -n 5)

for env in bullseye trixie; do
    other=trixie; [ $env = trixie ] && other=bullseye
    # The login shell chos starts (argv[0] "-bash"), reading its commands from stdin.
    out=$(printf '%s\n' 'echo "PATH=$PATH"' 'chos --current' "CHOS=$other chos cat /etc/debian_version" |
          as_user chos-alice env CHOS=$env chos 2>&1); rc=$?
    assert_eq "CHOS=$env chos (a bash login shell): exit ($out)" 0 "$rc"
    assert_match "CHOS=$env chos: the tree's /etc/profile set PATH, the launchers' directory is on it" \
        '^PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games:/\.chos/bin$' "$(sed -n 1p <<< "$out")"
    assert_eq "CHOS=$env chos: chos --current in the login shell" "$env" "$(sed -n 2p <<< "$out")"
    want='^11\.'; [ $other = trixie ] && want='^13\.'
    assert_match "CHOS=$env chos: switching to $other from the login shell" "$want" "$(sed -n 3p <<< "$out")"
    # bash -l under chos-run.
    out=$(as_user chos-alice chos-run -o $env -- bash -lc 'chos --current; chos-run -o '$other' -- cat /etc/os-release | grep ^VERSION_CODENAME=' 2>&1); rc=$?
    assert_eq "chos-run -o $env -- bash -l: exit ($out)" 0 "$rc"
    assert_eq "chos-run -o $env -- bash -l: chos --current, then chos-run to $other" \
        "$env
VERSION_CODENAME=$other" "$out"
done
# The trees were not written.
assert_eq "nothing in the trees changed" "$before" "$(find "$TREES" -newer "$CFG" -print | head -n 5)"
assert_eq "no chos.sh in a tree's own profile.d" "" "$(ls "$TREES"/*/etc/profile.d/chos.sh 2>/dev/null)"
it_done
