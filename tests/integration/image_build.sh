#!/usr/bin/env bash
# chos-setup image build: the same tree (and a `cp -a` copy of it) gives the same bytes,
# for squashfs and EROFS; the image, mounted by a plain `mount -o ro,loop`, shows the
# tree's files with their owners, modes and times; it is root's, 0644, and a rebuild is
# a new inode at the same name. Bad input gets one line, exit 1, and leaves nothing:
# no temporary file, the old image unchanged, no loop device.
# checks: -
source "$(dirname "$0")/lib.sh"
it_main "$@"

command -v mksquashfs >/dev/null || it_fail "needs mksquashfs (tools/install-deps: squashfs-tools)"
command -v mkfs.erofs >/dev/null || it_fail "needs mkfs.erofs (tools/install-deps: erofs-utils)"
IT_STOPPED=1 # CHOS is never started here

src=$IT_BASE/trees/src
make_tree "$src" imagetest
# what an environment tree has besides root's files: another owner, a group-only file,
# a setuid bit, an old time, a symlink, an empty directory
echo 'user data' > "$src/etc/owned"; chown 1234:5678 "$src/etc/owned"
echo 'secret' > "$src/etc/shadowish"; chown 0:42 "$src/etc/shadowish"; chmod 0640 "$src/etc/shadowish"
cp "$IT_BASE/cache/busybox" "$src/usr/bin/suid"; chmod 4755 "$src/usr/bin/suid"
touch -d '2001-02-03 04:05:06 UTC' "$src/etc/os-release"
ln -s ../etc/os-release "$src/usr/os-release"
mkdir -p "$src/var/empty"
copy=$IT_BASE/trees/copy
cp -a "$src" "$copy"

out=$IT_BASE/images
mkdir -p "$out"; chmod 0755 "$out"
build() { "$CHOS_SETUP" image build "$@" 2>&1; }

listing() { # DIR: every entry's path, type, owner, mode, mtime, link target
    (cd "$1" && find . -printf '%p %y %U:%G %m %T@ %l\n' | sed -E 's/ ([0-9]+)\.[0-9]+ / \1 /' | sort)
}
loops_of() { losetup -j "$1" 2>/dev/null; }

for format in squashfs erofs; do
    img=$out/env.$format
    msg=$(build env1 --from "$src" --format $format "$img"); rc=$?
    assert_eq "image build ($format): exit status ($msg)" 0 "$rc"
    assert_match "image build ($format): the line it says" \
        "^chos-setup: image env1: $img \\($format, [0-9]+ bytes, from $src\\)\$" "$msg"
    assert_eq "the $format image's owner and mode" "0:0 644 regular file" "$(stat -c '%u:%g %a %F' "$img")"
    inode=$(stat -c %i "$img")
    cp "$img" "$IT_BASE/first.$format"
    # the same tree again, then its copy: the same bytes, a new inode each time
    build env1 --from "$src" --format $format "$img" >/dev/null
    cmp -s "$IT_BASE/first.$format" "$img" || it_fail "two $format builds of the same tree differ"
    assert_ne "a rebuilt $format image is a new inode" "$inode" "$(stat -c %i "$img")"
    build env1 --from "$copy" --format $format "$img" >/dev/null
    cmp -s "$IT_BASE/first.$format" "$img" || it_fail "the $format image of a cp -a copy differs"
    # another name: an EROFS image's UUID is the name's
    build env2 --from "$src" --format $format "$out/other.$format" >/dev/null
    if [ $format = erofs ]; then
        cmp -s "$img" "$out/other.$format" && it_fail "two EROFS images of different names are the same bytes"
    fi
    rm -f "$out/other.$format"

    # mounted the plain way: the tree's files, owners, modes, times
    mnt=$IT_BASE/mnt-$format
    mkdir -p "$mnt"
    mount -t $format -o ro,loop "$img" "$mnt" || it_fail "mount -o ro,loop of the $format image failed"
    if ! diff <(listing "$src" | sed 's/^\. d [^ ]* [0-9]* [0-9.]* $/ROOT/') \
              <(listing "$mnt" | sed 's/^\. d [^ ]* [0-9]* [0-9.]* $/ROOT/') > "$IT_BASE/logs/diff"; then
        umount "$mnt"; it_fail "the $format image's listing differs from the tree's: $(head -n 6 "$IT_BASE/logs/diff")"
    fi
    diff -r --no-dereference "$src" "$mnt" > "$IT_BASE/logs/diff" 2>&1 ||
        { umount "$mnt"; it_fail "the $format image's contents differ: $(head -n 4 "$IT_BASE/logs/diff")"; }
    assert_eq "etc/owned in the $format image" "1234:5678 user data" \
        "$(stat -c %u:%g "$mnt/etc/owned") $(cat "$mnt/etc/owned")"
    assert_eq "etc/os-release's time in the $format image" 981173106 "$(stat -c %Y "$mnt/etc/os-release")"
    umount "$mnt"
    assert_eq "no loop device left on the $format image" "" "$(loops_of "$img")"
done

# SOURCE_DATE_EPOCH: the files newer than it get its time, older ones keep theirs.
SOURCE_DATE_EPOCH=1000000000 "$CHOS_SETUP" image build env1 --from "$src" "$out/sde.squashfs" >/dev/null ||
    it_fail "image build with SOURCE_DATE_EPOCH failed"
mount -t squashfs -o ro,loop "$out/sde.squashfs" "$IT_BASE/mnt-squashfs"
times="$(stat -c %Y "$IT_BASE/mnt-squashfs/etc/os-release") $(stat -c %Y "$IT_BASE/mnt-squashfs/etc/owned")"
umount "$IT_BASE/mnt-squashfs"
assert_eq "SOURCE_DATE_EPOCH=1000000000: os-release (2001) kept, owned (now) clamped" \
    "981173106 1000000000" "$times"
rm -f "$out/sde.squashfs"

# --- refusals: one line, exit 1, nothing left beside OUT, OUT unchanged -------------
snapshot() { (cd "$out" && ls -A && sha256sum -- *) 2>&1; }
before=$(snapshot)
# refused WHAT EXPECTED-LINE COMMAND...: COMMAND exits 1 saying exactly that line;
# refused_like WHAT EXTENDED-REGEX COMMAND...: the same, what it says matching the
# regex. Either way nothing is written beside the images.
refused_by() { # ASSERT WHAT EXPECTED COMMAND...
    local check=$1 what=$2 expected=$3 msg rc; shift 3
    msg=$("$@" 2>&1); rc=$?
    assert_eq "$what: exit status" 1 "$rc"
    "$check" "$what: the line" "$expected" "$msg"
    assert_eq "$what: nothing written beside the images" "$before" "$(snapshot)"
}
refused() { refused_by assert_eq "$@"; }
refused_like() { refused_by assert_match "$@"; }
refused "--from a missing directory" \
    "chos-setup: image build: --from: '$IT_BASE/nothing': not a directory" \
    "$CHOS_SETUP" image build env1 --from "$IT_BASE/nothing" "$out/env.squashfs"
refused "--from a file" \
    "chos-setup: image build: --from: '$src/etc/owned': not a directory" \
    "$CHOS_SETUP" image build env1 --from "$src/etc/owned" "$out/env.squashfs"
refused "neither --from nor --suite" \
    "chos-setup: image build: give the tree with either --from DIR or --suite SUITE" \
    "$CHOS_SETUP" image build env1 "$out/env.squashfs"
refused "--mirror without --suite" \
    "chos-setup: image build: --mirror goes with --suite" \
    "$CHOS_SETUP" image build env1 --from "$src" --mirror http://deb.debian.org/debian "$out/env.squashfs"
for url in "ftp://deb.debian.org/debian" "http://" "http://deb.debian.org/debian extra" "-" "deb http://x/debian bookworm main"; do
    refused "--mirror '$url'" \
        "chos-setup: image build: --mirror: '$url': not an http://, https:// or file:/// URL" \
        "$CHOS_SETUP" image build env1 --suite bookworm --mirror "$url" "$out/env.squashfs"
done
refused "an unknown format" \
    "chos-setup: image build: unknown format: 'zip' (squashfs or erofs)" \
    "$CHOS_SETUP" image build env1 --from "$src" --format zip "$out/env.squashfs"
refused "a name that is a path" \
    "chos-setup: image build: invalid name: '../x' contains '/'" \
    "$CHOS_SETUP" image build ../x --from "$src" "$out/env.squashfs"
refused "OUT a directory" \
    "chos-setup: image build: '$out': exists and is not a regular file" \
    "$CHOS_SETUP" image build env1 --from "$src" "$out"
refused "OUT inside the tree" \
    "chos-setup: image build: '$src/env.squashfs' is inside the tree '$src' (the image would hold itself)" \
    "$CHOS_SETUP" image build env1 --from "$src" "$src/env.squashfs"
mount -t tmpfs chos-it-inside "$src/home" || it_fail "cannot mount a tmpfs in the tree"
refused "a mount inside the tree" \
    "chos-setup: image build: '$src/home' is a mount point inside the tree: unmount it first (the image would hold what is mounted there)" \
    "$CHOS_SETUP" image build env1 --from "$src" "$out/env.squashfs"
umount "$src/home"
refused "a bad SOURCE_DATE_EPOCH" \
    "chos-setup: image build: SOURCE_DATE_EPOCH: 'yesterday': not a number of seconds" \
    env SOURCE_DATE_EPOCH=yesterday "$CHOS_SETUP" image build env1 --from "$src" "$out/env.squashfs"
refused "not root" \
    "chos-setup: image build: must be run as root" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$CHOS_SETUP" image build env1 --from "$src" "$out/env.squashfs"
# OUT's directory: someone else's, writable by others, or under a user's directory
install -d -o 65534 -g 65534 "$IT_BASE/user"
refused "OUT in a user's directory" \
    "chos-setup: image build: output directory: '$IT_BASE/user': is owned by uid 65534, not root" \
    "$CHOS_SETUP" image build env1 --from "$src" "$IT_BASE/user/env.squashfs"
install -d -m 0777 "$IT_BASE/open"
refused "OUT in a world-writable directory" \
    "chos-setup: image build: output directory: '$IT_BASE/open': is writable by group or others" \
    "$CHOS_SETUP" image build env1 --from "$src" "$IT_BASE/open/env.squashfs"
mkdir -p "$IT_BASE/user/sub"
refused_like "OUT below a user's directory" \
    "^chos-setup: image build: output directory: '$IT_BASE/user/sub': .*uid 65534" \
    "$CHOS_SETUP" image build env1 --from "$src" "$IT_BASE/user/sub/env.squashfs"
assert_eq "nothing written in the user's directories" "sub" "$(ls -A "$IT_BASE/user"; ls -A "$IT_BASE/user/sub")"
# a missing tool: its package named (the tool hidden in this namespace only)
for t in mksquashfs:squashfs-tools:squashfs mkfs.erofs:erofs-utils:erofs; do
    IFS=: read -r tool package format <<< "$t"
    : > "$IT_BASE/not-a-tool"; chmod 0644 "$IT_BASE/not-a-tool"
    mount --bind "$IT_BASE/not-a-tool" "/usr/bin/$tool" || it_fail "cannot hide /usr/bin/$tool"
    refused "$tool missing" \
        "chos-setup: image build: $tool not found: install $package" \
        "$CHOS_SETUP" image build env1 --from "$src" --format "$format" "$out/env.$format"
    umount "/usr/bin/$tool"
done
# the tool fails (OUT's file system is full): its temporary file goes, the old OUT stays
full=$IT_BASE/full
mkdir -p "$full"
mount -t tmpfs -o size=256k,mode=0755 chos-it-full "$full" || it_fail "cannot mount the small tmpfs"
IT_OWN_MOUNTS+=("$full")
mkdir -p "$IT_BASE/trees/tiny/etc"; echo tiny > "$IT_BASE/trees/tiny/etc/tiny"
build tiny --from "$IT_BASE/trees/tiny" "$full/env.squashfs" >/dev/null || it_fail "the tiny image did not build"
tiny_sum=$(sha256sum < "$full/env.squashfs")
refused_like "a build that fills the disk" \
    '(^|'$'\n'')chos-setup: image build: mksquashfs failed: exit status [0-9]+$' \
    "$CHOS_SETUP" image build env1 --from "$src" "$full/env.squashfs"
assert_eq "a failed build leaves only the old image" "env.squashfs" "$(ls -A "$full")"
assert_eq "the old image is unchanged" "$tiny_sum" "$(sha256sum < "$full/env.squashfs")"
umount "$full"

assert_eq "no loop device left on any image" "" "$(losetup -a 2>/dev/null | grep -F "$IT_BASE" || true)"
it_done
