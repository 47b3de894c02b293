#!/usr/bin/env bash
# The package suite (issue 13): CHOS's Debian packages, built from this tree by
# tools/package (debhelper, lintian without errors or unexplained warnings), installed
# in a fresh Debian 12 root (tools/freshroot: nothing of this machine's packages) with
# their dependencies from the archive, used, upgraded while CHOS runs and purged
# (tests/package/in_root.sh); the kmod suite boots its qemu guest with the chos.ko
# that DKMS built there from chos-dkms (tests/kmod/run.sh --module). The root is set
# up while the packages build, and the guest boots while the root's checks go on.
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
root_pid='' kmod_pid=''
# On a failure: freshroot, killed, kills its root; a kmod guest is left to end (its
# qemu has a timeout), then the work directory goes.
trap '[ -z "$root_pid" ] || kill $root_pid 2>/dev/null; wait; rm -rf --one-file-system "$work"' EXIT
# Unique: the kernel's named cgroup hierarchies are global (it_sweep_stale's pattern).
reg="chosit$$x$RANDOM"
start=$SECONDS

# The fresh root starts at once: its apt-get update and the node's own packages come
# while the packages build; in_root.sh waits for /debs/ready, written after the .deb
# files (by tools/package before its lintian, which runs beside the root's checks).
# The root's lines are the test's output as they come.
mkdir "$work/debs" "$work/out"
"$src/tools/freshroot" --bind "$work/debs:/debs" --copy "$here/in_root.sh:/in_root.sh" --bind "$work/out:/out" \
    -- env CHOS_PKG_REG="$reg" bash /in_root.sh &
root_pid=$!

if [ -n "${CHOS_PACKAGE_DIR:-}" ]; then
    cp "$CHOS_PACKAGE_DIR"/*.deb "$work/debs/" 2>/dev/null
    ls "$work/debs"/chos_*.deb >/dev/null 2>&1 || { echo "FAIL package: no chos_*.deb in $CHOS_PACKAGE_DIR"; exit 1; }
    touch "$work/debs/ready"
else
    "$src/tools/package" --ready "$work/debs/ready" "$work/debs" || { echo "FAIL package: tools/package failed"; exit 1; }
fi
built=$SECONDS

# The kmod suite's guest boots as soon as DKMS has built the module in the root
# (in_root.sh writes /out/chos.ko, then /out/module-ready), beside the root's remaining
# checks; its lines come after the root's.
until [ -e "$work/out/module-ready" ] || ! kill -0 $root_pid 2>/dev/null; do sleep 0.5; done
if [ -e "$work/out/module-ready" ]; then
    bash "$src/tests/kmod/run.sh" --module "$work/out/chos.ko" > "$work/kmod.log" 2>&1 &
    kmod_pid=$!
fi

rc=0
wait $root_pid || rc=$?
root_pid=''
# The root and its namespaces are gone; its registry must be too.
for i in $(seq 1 40); do [ -z "$(it_reg_names "$reg")" ] && break; sleep 0.05; done
for name in $(it_reg_names "$reg"); do
    echo "LEFTOVER: the named cgroup hierarchy name=$name outlived the fresh root"
    it_kill_hierarchy "$name" "$work/sweep"
    rc=1
done
[ $rc = 0 ] || { echo "FAIL package: in the fresh Debian 12 root (exit $rc)"; exit 1; }
[ -n "$kmod_pid" ] || { echo "FAIL package: the fresh root passed without /out/module-ready"; exit 1; }
in_root=$SECONDS

echo "# the kmod suite's guest with the module DKMS built in the fresh root"
krc=0
wait $kmod_pid || krc=$?
cat "$work/kmod.log"
[ $krc = 0 ] || { echo "FAIL package: kmod guest with the DKMS module"; exit 1; }
echo "# times: packages $((built - start)) s (the root's setup beside), fresh root $((in_root - built)) s more," \
     "kmod guest $((SECONDS - in_root)) s more"
echo "PASS package"
