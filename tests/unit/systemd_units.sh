#!/usr/bin/env bash
# The systemd units as `meson install` installs them (issue 14, item 8): one unit,
# chos-setup.service, whose start runs chos-linkfs; no second unit runs the daemon
# (it would find the one chos-setup started and fail, and with Restart= loop); the
# unit passes `systemd-analyze verify` with the installed programs it names.
# usage: systemd_units.sh BUILD_ROOT
# checks: -
set -uo pipefail
build=$1
dest=$(mktemp -d /tmp/chos-units.XXXXXX) || exit 1
trap 'rm -rf "$dest"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$(meson install -C "$build" --destdir "$dest" --no-rebuild 2>&1) ||
    { printf '%s\n' "$out" | tail -n 20 >&2; fail "meson install --destdir failed"; }
units=$(cd "$dest" && find . -name '*.service' -o -name '*.timer' -o -name '*.socket' | sed 's|^\.||' | sort)
[ "$(basename -a $units 2>/dev/null)" = chos-setup.service ] ||
    fail "the units installed are not exactly chos-setup.service: $(echo $units)"
unit=$dest$units
grep -q '^ExecStart=.*/chos-setup start$' "$unit" || fail "$units does not run chos-setup start"
grep -q '^KillMode=process$' "$unit" || fail "$units: chos-linkfs, in its cgroup, must survive a refused stop"
# Every ExecStart/ExecReload/ExecStop names an installed program.
while read -r prog; do
    [ -x "$dest$prog" ] || fail "$units runs $prog, which meson install does not make"
done < <(sed -n 's/^Exec[A-Za-z]*=\([^ ]*\).*/\1/p' "$unit")
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (package systemd)"
# verify checks the Exec paths exist: in the DESTDIR, so they are given as found there.
sed "s|=/|=$dest/|; s|^ConditionPathExists=$dest/|ConditionPathExists=/|" "$unit" > "$dest/chos-setup.service"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$dest/chos-setup.service" 2>&1) ||
    fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify says: $out"
echo "systemd_units: $units verified"
