#!/usr/bin/env bash
# The kmod suite (chos.ko(4), docs/testing.md): build chos.ko against Debian's
# linux-headers-amd64, boot Debian's matching kernel in qemu (TCG) with a small initramfs (busybox-static, the
# module, chos-setup and the launchers, two tiny busybox trees, static probes) and
# run tests/kmod/guest.sh there. Asserts on its PASS/FAIL lines and summary.
#
# usage: run.sh [--bench] [--module CHOS.KO]
#   --bench   also runs W2 and W7 in the guest
#   --module  boot with this chos.ko (the package suite's, built by DKMS from chos-dkms)
#             instead of building one: the kernel is the one of its vermagic
# env:   CHOS_SOURCE_DIR, CHOS_BUILD_DIR (meson sets them), CHOS_KMOD_CACHE
#        (default /var/cache/chos-test/kmod: the kernel image, kept between runs)
# checks: P1 P2 P3 P8 M
set -euo pipefail
src=${CHOS_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CHOS_BUILD_DIR:-$src/build}
cache=${CHOS_KMOD_CACHE:-/var/cache/chos-test/kmod}
bench=0
module=
while [[ $# -gt 0 ]]; do
    case $1 in
        --bench) bench=1; shift ;;
        --module) [[ $# -ge 2 ]] || { echo "kmod: --module needs a file" >&2; exit 2; }; module=$2; shift 2 ;;
        *) echo "kmod: unknown argument '$1' (usage: run.sh [--bench] [--module CHOS.KO])" >&2; exit 2 ;;
    esac
done

skip() { echo "kmod: skipped: $*" >&2; exit 77; }
die() { echo "kmod: $*" >&2; exit 1; }

# Only a run without root skips; as root a missing dependency fails the suite
# (docs/testing.md "Skips").
[[ $(id -u) == 0 ]] || skip "needs root (apt-get download, setuid files in the initramfs)"
for tool in qemu-system-x86_64 cpio busybox gcc make perl; do
    command -v "$tool" >/dev/null || die "'$tool' missing (tools/install-deps)"
done
if [[ -n $module ]]; then
    [[ -s $module ]] || die "--module $module: no such file"
    kver=$(modinfo -F vermagic "$module" | cut -d' ' -f1)
    [[ -n $kver ]] || die "--module $module: no vermagic (not a kernel module?)"
else
    headers=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
    [[ -n $headers ]] || die "no linux-headers-amd64 (tools/install-deps)"
    kver=${headers#/usr/src/linux-headers-}
fi

# ---- the kernel image: Debian's, matching the headers, cached (never installed)
mkdir -p "$cache"
vmlinuz=$cache/vmlinuz-$kver
if [[ ! -s $vmlinuz ]]; then
    (
        cd "$cache"
        apt-get download "linux-image-$kver" >/dev/null
        deb=$(ls linux-image-"$kver"_*.deb | tail -n 1)
        rm -rf extract && dpkg-deb -x "$deb" extract
        cp "extract/boot/vmlinuz-$kver" "$vmlinuz.tmp" && mv "$vmlinuz.tmp" "$vmlinuz"
        rm -rf extract "$deb"
    ) || die "cannot fetch linux-image-$kver"
fi

work=$(mktemp -d /tmp/chos-kmod.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT

# ---- the module: given (--module), or built in a copy of kmod/ (warnings are errors:
# Kbuild -Werror) and checked with checkpatch
mkdir "$work/kmod"
if [[ -n $module ]]; then
    cp "$module" "$work/kmod/chos.ko"
    echo "kmod: using $module ($kver)"
else
    cp "$src"/kmod/{Kbuild,Makefile,*.c,*.h} "$work/kmod/"
    if ! nice make -s -C "$headers" M="$work/kmod" modules > "$work/kbuild.log" 2>&1; then
        cat "$work/kbuild.log" >&2
        die "the module does not build"
    fi
    if grep -i 'warning' "$work/kbuild.log" | grep -v 'Skipping BTF'; then
        die "the module builds with warnings"
    fi
    echo "kmod: built chos.ko for $kver"

    # ---- checkpatch --strict (from Debian's linux-source, cached: the headers lack it)
    checkpatch=$cache/checkpatch/checkpatch.pl
    if [[ ! -s $checkpatch ]]; then
        (
            srcver=$(dpkg-query -W -f='${Version}' linux-headers-amd64 | sed 's/^\([0-9]*\.[0-9]*\).*/\1/')
            tmp=$(mktemp -d "$cache/src.XXXXXX")
            trap 'rm -rf "$tmp"' EXIT
            cd "$tmp"
            apt-get download "linux-source-$srcver" >/dev/null
            dpkg-deb --fsys-tarfile linux-source-*.deb | tar -x --wildcards './usr/src/linux-source-*.tar.xz'
            tar -xJf usr/src/linux-source-*.tar.xz --wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
                '*/scripts/const_structs.checkpatch'
            mkdir -p "$cache/checkpatch"
            cp linux-source-*/scripts/{spelling.txt,const_structs.checkpatch} "$cache/checkpatch/"
            cp linux-source-*/scripts/checkpatch.pl "$checkpatch"
        ) || die "cannot fetch checkpatch.pl (linux-source)"
    fi
    if ! (cd "$src/kmod" && perl "$checkpatch" --strict --no-tree --quiet --file \
            chos.h chos_main.c chos_fs.c chos_task.c chos_valid.c chos_tree.c Kbuild Makefile); then
        die "checkpatch.pl --strict reports the lines above"
    fi
    echo "kmod: checkpatch.pl --strict clean"
fi

# ---- the initramfs
root=$work/root
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,probe,srv,usr/local/bin,usr/local/sbin,home/user}
cp /bin/busybox "$root/bin/busybox"
cp "$work/kmod/chos.ko" "$root/chos.ko"
cp "$src/tests/kmod/guest.sh" "$root/init"
chmod 0755 "$root/init"
gcc -O2 -static -pthread -o "$root/probe/chos-kmod-probe" "$src/tests/kmod/chos_kmod_probe.c"
gcc -O2 -static -o "$work/stat_loop" "$src/bench/stat_loop.c"

copy_with_libs() { # BINARY DEST
    install -m "$3" "$1" "$root$2"
    ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done || true # a static binary has none
}
copy_with_libs "$build/src/setup/chos-setup" /usr/local/sbin/chos-setup 0755
copy_with_libs "$build/src/guard/chos-guard" /usr/local/sbin/chos-guard 0755
copy_with_libs "$build/src/launcher/chos" /usr/local/bin/chos 4755
copy_with_libs "$build/src/launcher/chos-run" /usr/local/bin/chos-run 4755
# A static launcher's NSS lookups load these (same glibc as the host's).
for lib in /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2; do
    [[ -e $lib ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done

for env in a b; do
    t=$root/srv/$env
    mkdir -p "$t"/{bin,sbin,etc,usr/bin,proc,dev,tmp,sys}
    cp /bin/busybox "$t/bin/busybox"
    for applet in sh cat readlink ls env true sleep; do ln -s busybox "$t/bin/$applet"; done
    # A regular file, as on a real tree: W2 stats it without a further symlink.
    ln "$t/bin/busybox" "$t/usr/bin/env"
    cp "$work/stat_loop" "$t/bin/stat_loop"
    printf 'ID=%s\nNAME="tree %s"\n' "$env" "$env" > "$t/etc/os-release"
done
printf 'ID=guest\nNAME="kmod test guest"\n' > "$root/etc/os-release"
# The version the module must report: the project's (meson.build), as the build knows it.
python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$build/meson-info/intro-projectinfo.json" > "$root/etc/chos-version" || die "no project version in $build"
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\n' > "$root/etc/nsswitch.conf"
cat > "$root/etc/chos.yaml" <<'EOF'
default: host
backend: kmod
tree: /chos
run_dir: /run/chos
local: true
registry:
  type: auto
  name: chos
  mount: /run/chos-registry
environments:
  host:
    path: /
    description: "the guest"
  a:
    path: /srv/a
    description: "tree a"
  b:
    path: /srv/b
    description: "tree b"
os_dirs: [bin, etc, sbin, usr]
bind:
  - /proc
  - /dev
  - /tmp
  - /sys
  - /home
EOF
chmod 0644 "$root/etc/chos.yaml"
( cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1 ) > "$work/initrd.gz"
echo "kmod: initramfs $(du -h "$work/initrd.gz" | cut -f1)"

# ---- boot
append="console=ttyS0 panic=-1 quiet loglevel=3"
((bench)) && append+=" chos.bench=1"
log=$work/console.log
set +e
timeout 1200 nice qemu-system-x86_64 -accel tcg -m 512M -smp 1 -nographic -no-reboot \
    -kernel "$vmlinuz" -initrd "$work/initrd.gz" -append "$append" < /dev/null > "$log" 2>&1
qemu_rc=$?
set -e
# Read from a file, never from `tr | grep -q`: with pipefail, grep -q leaving early
# fails the pipeline (SIGPIPE in tr) once the log outgrows the pipe (--bench).
console=$work/console.txt
tr -d '\r' < "$log" > "$console"
grep -E '^(GUEST|PASS|FAIL|BENCH|SUMMARY)' "$console" || true

# ---- verdict
fails=$(grep -c '^FAIL ' "$console" || true)
summary=$(grep '^SUMMARY ' "$console" || true)
if [[ -z $summary ]]; then
    echo "kmod: the guest gave no summary (qemu exit $qemu_rc); console tail:" >&2
    tail -n 40 "$console" >&2
    exit 1
fi
required=("module loads" "P1 two processes, two environments at once" "P2 every case"
    "P3 non-root setlink gets EPERM" "P8 pid reuse: no stale link" "M rmmod refused while mounted"
    "launcher chos-run -o a" "rmmod once unmounted (a linked task is alive)" "no WARN/Oops after unload")
for name in "${required[@]}"; do
    grep -qxF "PASS $name" "$console" || { echo "kmod: missing: PASS $name" >&2; fails=$((fails + 1)); }
done
if ((fails > 0)) || [[ $summary != *" failed=0" ]]; then
    echo "kmod: FAIL ($summary)" >&2
    exit 1
fi
echo "kmod: PASS ($summary)"
