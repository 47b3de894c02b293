#!/usr/bin/env bash
# The packaging's facts come from one place each:
#  * the version: meson.build's project version is the one of debian/changelog, of the
#    module (kmod/chos.h, which /proc/chos/version reports) and of kmod/dkms.conf;
#  * the build packages: debian/control's Build-Depends are tools/install-deps's
#    (profile debian-build), plus debhelper's own.
# usage: packaging.sh SOURCE_ROOT MESON_PROJECT_VERSION
# checks: -
set -uo pipefail
root=$1 version=$2
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

changelog=$(sed -n '1s/^chos (\([^)]*\)).*/\1/p' "$root/debian/changelog")
[[ $changelog == "$version" ]] ||
  fail "debian/changelog's first entry is '$changelog', meson.build's version is '$version' (add a changelog entry)"
kmod=$(sed -n 's/^#define CHOS_VERSION "\(.*\)"$/\1/p' "$root/kmod/chos.h")
[[ $kmod == "$version" ]] || fail "kmod/chos.h says CHOS_VERSION '$kmod', meson.build '$version'"
dkms=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$root/kmod/dkms.conf")
[[ $dkms == "$version" ]] || fail "kmod/dkms.conf says PACKAGE_VERSION '$dkms', meson.build '$version'"

# Build-Depends: one package per line from the field (continuation lines included),
# without version constraints, debhelper's own left out.
control=$(awk '/^Build-Depends:/ { on = 1; sub(/^Build-Depends:/, "") }
               on && /^[A-Za-z-]+:/ && !/^Build-Depends:/ { exit }
               on { print }' "$root/debian/control" |
          tr ',' '\n' | sed 's/(.*)//; s/^[[:space:]]*//; s/[[:space:]]*$//' |
          grep -v -e '^$' -e '^debhelper-compat$' -e '^dh-sequence-' | sort -u)
listed=$(bash "$root/tools/install-deps" --list debian-build)
if [[ -z $control ]]; then
  fail "no Build-Depends found in debian/control"
elif [[ $control != "$listed" ]]; then
  fail "debian/control's Build-Depends and tools/install-deps (debian-build) differ:"
  diff <(echo "$control") <(echo "$listed") | sed 's/^</  only in debian\/control:/; s/^>/  only in tools\/install-deps:/' | grep only >&2
fi
((failed == 0)) && echo "packaging OK: version $version everywhere; Build-Depends = tools/install-deps ($(echo $listed | wc -w) packages)"
exit "$failed"
