#!/usr/bin/env bash
# The package suite (issue 13): CHOS's Debian packages, built from this tree by
# tools/package (debhelper, lintian without errors or unexplained warnings), installed
# in a fresh Debian 12 root (tools/freshroot: nothing of this machine's packages) with
# their dependencies from the archive, used, upgraded while CHOS runs and purged
# (tests/package/in_root.sh); then the kmod suite boots its qemu guest with the chos.ko
# that DKMS built there from chos-dkms (tests/kmod/run.sh --module).
#
# Environment: CHOS_SOURCE_DIR, CHOS_BUILD_DIR (meson sets them); CHOS_PACKAGE_DIR: use
# the .deb files there instead of building them (a manual rerun).
# checks: -
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${CHOS_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
export CHOS_SOURCE_DIR=$src CHOS_BUILD_DIR=${CHOS_BUILD_DIR:-$src/build}
# the registry helpers (it_reg_names, it_kill_hierarchy, it_sweep_stale)
source "$src/tests/integration/lib.sh"
IT_NAME=package

[ "$(id -u)" = 0 ] || { echo "SKIP package: needs root (tools/package, tools/freshroot)"; exit 77; }
it_sweep_stale
work=$(mktemp -d /tmp/chos-package-test.XXXXXX) || exit 1
trap 'rm -rf --one-file-system "$work"' EXIT
# Unique: the kernel's named cgroup hierarchies are global (it_sweep_stale's pattern).
reg="chosit$$x$RANDOM"
start=$SECONDS

debs=${CHOS_PACKAGE_DIR:-}
if [ -z "$debs" ]; then
    debs=$work/debs
    "$src/tools/package" "$debs" || { echo "FAIL package: tools/package failed"; exit 1; }
fi
ls "$debs"/chos_*.deb >/dev/null 2>&1 || { echo "FAIL package: no chos_*.deb in $debs"; exit 1; }
built=$SECONDS

mkdir "$work/out"
rc=0
"$src/tools/freshroot" --copy "$debs:/debs" --copy "$here/in_root.sh:/in_root.sh" --bind "$work/out:/out" \
    -- env CHOS_PKG_REG="$reg" bash /in_root.sh || rc=$?
# The root and its namespaces are gone; its registry must be too.
for i in $(seq 1 40); do [ -z "$(it_reg_names "$reg")" ] && break; sleep 0.05; done
for name in $(it_reg_names "$reg"); do
    echo "LEFTOVER: the named cgroup hierarchy name=$name outlived the fresh root"
    it_kill_hierarchy "$name" "$work/sweep"
    rc=1
done
[ $rc = 0 ] || { echo "FAIL package: in the fresh Debian 12 root (exit $rc)"; exit 1; }
in_root=$SECONDS

echo "# the kmod suite's guest with the module DKMS built in the fresh root"
bash "$src/tests/kmod/run.sh" --module "$work/out/chos.ko" || { echo "FAIL package: kmod guest with the DKMS module"; exit 1; }
echo "# times: packages $((built - start)) s, fresh root $((in_root - built)) s, kmod guest $((SECONDS - in_root)) s"
echo "PASS package"
