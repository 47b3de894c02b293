#!/usr/bin/env bash
# The package suite inside a fresh Debian 12 root (tests/package/package.sh runs it with
# tools/freshroot): the .deb files in /debs installed from the archive, used as a site
# would, upgraded while CHOS runs, then purged, leaving nothing behind. One "ok: ..."
# line per check; the first failed check ends the run with "FAIL: ...".
# Environment: CHOS_PKG_REG (a registry name unique to this run), /debs (a directory of
# the machine: the .deb files, then "ready"), /out (a directory of the machine: the
# module DKMS built is copied there for the kmod suite).
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive
reg=${CHOS_PKG_REG:?}
USER_NAME=chospkguser

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; exit 1; }
# check WHAT CMD...: CMD succeeds (its output is shown on failure)
check() {
    local what=$1 out; shift
    out=$("$@" 2>&1) || { printf '%s\n' "$out" | tail -n 30; fail "$what"; }
    ok "$what"
}
eq() { [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"; ok "$1"; }
has() { [[ $3 == *"$2"* ]] || { printf '%s\n' "$3" | tail -n 20; fail "$1: no '$2' in the output above"; }; ok "$1"; }
# On any failure: stop CHOS by force, so no registration outlives the root.
trap 'command -v chos-setup >/dev/null && chos-setup stop --force >/dev/null 2>&1' EXIT

# What a node has before CHOS: the archive, man-db, a kernel's headers, busybox-static
# (the small environment), an unprivileged user.
check "apt-get update" apt-get update -qq
check "the node's own packages (man-db, linux-headers-amd64, busybox-static)" \
    apt-get install -y -qq man-db linux-headers-amd64 busybox-static
useradd -m -s /bin/sh "$USER_NAME" || fail "useradd"

# The packages are built while the lines above run (tests/package/package.sh): /debs
# is the machine's directory they are copied to, "ready" written last.
for _ in $(seq 1 6000); do [ -e /debs/ready ] && break; sleep 0.5; done
[ -e /debs/ready ] || fail "no packages in /debs after 50 minutes"

# Everything that is on the system: files (path, mode, owner), statoverrides, mounts,
# processes, this run's registrations. Left out: apt's and dpkg's own records, logs and
# caches (any install changes them), and mounts under /dev and /sys, which are the
# machine's (bound in: other work on the machine mounts there at any time). Also left
# out, as DKMS's and not CHOS's: the module indexes depmod writes for a kernel whenever a
# module is added or removed (a node with the kernel's image has them before), and the
# signing key DKMS makes at its first build and keeps while dkms is installed.
listing() {
    find / -xdev \( -path /var/lib/apt -o -path /var/cache/apt -o -path /var/lib/dpkg \
                    -o -path /var/log -o -path /var/cache/debconf -o -path /var/cache/man \
                    -o -path /var/cache/ldconfig -o -path /proc -o -path /sys -o -path /dev \
                    -o -path /out -o -path /debs \
                    -o -path '/usr/lib/modules/*/modules.*' -o -path '/var/lib/dkms/mok.*' \) -prune \
         -o -printf 'file %p %m %u %g\n' | sort
    dpkg-statoverride --list | sed 's/^/statoverride /' | sort
    awk '$5 !~ "^/(dev|sys)(/|$)" || $0 ~ /chos|fuse/ { print "mount", $5, $9 }' /proc/self/mountinfo | sort
    for p in /proc/[0-9]*; do cat "$p/comm" 2>/dev/null; done |
        grep -v -x -e bash -e find -e sort -e awk -e grep -e sed -e cat -e dpkg-statoverri | sed 's/^/process /' | sort
    grep -h "name=$reg" /proc/[0-9]*/cgroup 2>/dev/null | sed 's/^/cgroup /' | sort -u
}

# ---- install: the dependencies come from the archive. They are installed first, and
# the listing taken then: the packages' own install and purge are what is compared
# (apt-get autoremove would keep some of them anyway: recommended by the node's own).
debs=(/debs/chos_*.deb /debs/libpam-chos_*.deb /debs/slurm-spank-chos_*.deb /debs/chos-dkms_*.deb)
ours="chos libpam-chos slurm-spank-chos chos-dkms"
plan=$(apt-get install -s "${debs[@]}" 2>&1) || { echo "$plan" | tail -n 20; fail "apt-get cannot resolve ${debs[*]##*/}"; }
deps=$(awk '/^Inst / { print $2 }' <<< "$plan" | grep -v -x -F -e chos -e libpam-chos -e slurm-spank-chos -e chos-dkms)
[ -n "$deps" ] || fail "apt-get install -s: no dependency to install (the plan: $plan)"
ok "apt-get resolves the packages' dependencies from the archive ($(echo $deps | wc -w) packages)"
# shellcheck disable=SC2086
check "the dependencies" apt-get install -y -q $deps
listing > /out/before.txt
out=$(apt-get install -y -q "${debs[@]}" 2>&1) || { echo "$out" | tail -n 30; fail "apt-get install ${debs[*]##*/}"; }
has "apt-get install ${debs[*]##*/}: only these four" "4 newly installed" "$out"

# ---- what the packages put where
eq "chos-run is setuid root" "4755 root root" "$(stat -c '%a %U %G' /usr/bin/chos-run)"
eq "chos is setuid root" "4755 root root" "$(stat -c '%a %U %G' /usr/bin/chos)"
has "man chos-run shows the page" "chos-run - " "$(LC_ALL=C MANWIDTH=80 man -P cat chos-run 2>&1)"
has "man pam_chos names PAM's module directory" "/lib/x86_64-linux-gnu/security" "$(LC_ALL=C MANWIDTH=200 man -P cat pam_chos 2>&1)"
pamdir=$(dirname "$(dpkg -L libpam-modules | grep '/pam_unix\.so$' | head -n 1)")
[ -f "$pamdir/pam_chos.so" ] || fail "pam_chos.so is not beside pam_unix.so ($pamdir)"
ok "pam_chos.so is where PAM loads modules ($pamdir)"
spank=$(sed -n 's/^# required \(\/[^ ]*\)$/\1/p' /etc/slurm/plugstack.conf.d/chos.conf)
eq "the plugstack snippet names the installed plugin" /usr/lib/x86_64-linux-gnu/slurm-wlm/spank_chos.so "$spank"
[ -f "$spank" ] || fail "$spank: no such file"
[ -d /usr/lib/x86_64-linux-gnu/slurm-wlm ] && dpkg -S /usr/lib/x86_64-linux-gnu/slurm-wlm | grep -q slurm-wlm-basic-plugins ||
    fail "the plugin's directory is not Slurm's (slurm-wlm-basic-plugins)"
ok "spank_chos.so is in Slurm's plugin directory"
# Every path the installed man pages name under an installed directory exists.
missing=$(for page in chos chos-run chos-setup chos-linkfs chos-guard chos.yaml pam_chos spank_chos chos.ko; do
              LC_ALL=C MANWIDTH=400 man -P cat "$page" 2>/dev/null
          done | grep -oE '/(usr|lib)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' | sort -u |
          grep -v -e '^/usr/src/linux-headers-VERSION' -e '^/usr/bin/getent$' | while read -r p; do
              [ -e "$p" ] || echo "$p"
          done)
[ -z "$missing" ] || fail "the man pages name paths the packages did not install: $missing"
ok "every /usr or /lib path in the man pages exists"
eq "/etc/chos.yaml is a conffile of chos" /etc/chos.yaml "$(dpkg-query -W -f='${Conffiles}\n' chos | awk '$1 == "/etc/chos.yaml" { print $1 }')"

# ---- DKMS built the module for the installed headers
kver=$(basename "$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -n 1)")
kver=${kver#linux-headers-}
version=$(dpkg-query -W -f='${Version}' chos-dkms)
has "dkms status" "chos/$version, $kver, x86_64: installed" "$(dkms status chos 2>&1)"
ko=$(find "/lib/modules/$kver" -name 'chos.ko*' | head -n 1)
[ -n "$ko" ] || fail "no chos.ko under /lib/modules/$kver"
eq "the module's vermagic is the headers' kernel" "$kver" "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)"
eq "the module's version" "$version" "$(modinfo -F version "$ko")"
case $ko in
    *.ko) cp "$ko" /out/chos.ko ;;
    *.ko.xz) xz -dc "$ko" > /out/chos.ko ;;
    *.ko.zst) zstd -qdc "$ko" > /out/chos.ko ;;
    *) fail "unknown module compression: $ko" ;;
esac
touch /out/module-ready   # (package.sh boots the kmod guest with it now)

# ---- a small environment, as an admin would add it
tree=/srv/chos/tiny
mkdir -p "$tree"/{bin,etc,proc,dev,tmp,sys,run,home,usr/bin}
cp /bin/busybox "$tree/bin/busybox"
for applet in sh cat id ls; do ln -s busybox "$tree/bin/$applet"; done
printf 'ID=tiny\nNAME="tiny busybox tree"\n' > "$tree/etc/os-release"
cfg=/etc/chos.yaml
grep -q '^    description: "Debian 12 (the host)"$' $cfg || fail "the installed /etc/chos.yaml has no host environment"
sed -i '/^    description: "Debian 12 (the host)"$/a\  tiny:\n    path: /srv/chos/tiny\n    description: "busybox"' $cfg
# a registry of this run's own (the kernel's named hierarchies are global) on the root's tmpfs
sed -i "s|^  name: chos$|  name: $reg|; s|^  mount: /sys/fs/cgroup/chos$|  mount: /run/chos-registry|" $cfg
grep -q "name: $reg" $cfg && grep -q 'mount: /run/chos-registry' $cfg || fail "cannot set the registry in $cfg"
check "chos-setup check" chos-setup check
check "chos-setup start" chos-setup start
has "chos-setup status" "healthy" "$(chos-setup status 2>&1)"
out=$(runuser -u $USER_NAME -- chos-run -o tiny -- cat /etc/os-release 2>&1) || fail "chos-run -o tiny as $USER_NAME: $out"
has "$USER_NAME: chos-run -o tiny -- cat /etc/os-release" 'NAME="tiny busybox tree"' "$out"
has "$USER_NAME: chos --list" "tiny" "$(runuser -u $USER_NAME -- chos --list 2>&1)"
eq "$USER_NAME runs as itself inside" "$(id -u $USER_NAME)" "$(runuser -u $USER_NAME -- chos-run -o tiny -- id -u 2>&1)"

# ---- dpkg-statoverride changes the launchers' mode, and an upgrade keeps it
check "dpkg-statoverride --update --add root root 0755 /usr/bin/chos-run" \
    dpkg-statoverride --update --add root root 0755 /usr/bin/chos-run
chos_deb=$(ls /debs/chos_*.deb)
check "reinstall chos (an upgrade, CHOS running)" apt-get install -y -q --reinstall "$chos_deb"
eq "the statoverride holds over the upgrade" "755" "$(stat -c '%a' /usr/bin/chos-run)"
eq "chos (no statoverride) is setuid again" "4755" "$(stat -c '%a' /usr/bin/chos)"
# the postinst reloaded: the tree's launcher is the new file, not the one of the start
eq "after the upgrade the tree binds the new launcher" "$(stat -c '%i' /usr/bin/chos)" "$(stat -c '%i' /chos/.chos/bin/chos)"
out=$(runuser -u $USER_NAME -- chos -o tiny cat /etc/os-release 2>&1)
has "after the upgrade: the new chos -o tiny as $USER_NAME" 'ID=tiny' "$out"
check "dpkg-statoverride --remove /usr/bin/chos-run" dpkg-statoverride --remove /usr/bin/chos-run
check "reinstall chos (the override gone)" apt-get install -y -q --reinstall "$chos_deb"
eq "without the override chos-run is setuid again" "4755" "$(stat -c '%a' /usr/bin/chos-run)"
out=$(runuser -u $USER_NAME -- chos-run -o tiny -- cat /etc/os-release 2>&1)
has "after the upgrades: chos-run -o tiny as $USER_NAME" 'ID=tiny' "$out"

# ---- stop, purge: nothing of CHOS is left
check "chos-setup stop" chos-setup stop
rm -rf /srv/chos            # the admin's tree
# shellcheck disable=SC2086
check "apt-get purge $ours" apt-get purge -y -q $ours
listing > /out/after.txt
if ! diff -u /out/before.txt /out/after.txt > /out/diff.txt; then
    grep '^[-+][a-z]' /out/diff.txt | head -n 100
    fail "the purge left the differences above"
fi
ok "after the purge: no file, statoverride, mount, process or cgroup differs from before the install"
echo "PASS: package suite in a fresh Debian 12 root"
