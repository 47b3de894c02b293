#!/usr/bin/env bash
# Environments from image files (docs/images.md): a squashfs and an EROFS image made
# here from busybox trees serve chos-run as an unprivileged user. Images a user could
# have written or swapped (user-owned, world-writable, under a user's directory, a
# symlink), a truncated one, a non-image file and one outside image_dirs are each refused
# with one line naming the environment, the file and the reason; nothing of theirs is
# mounted (mountinfo, losetup) and the other environments are served. An image replaced
# while a process runs in it: the process keeps the old content, a new launch gets the
# new one, and once the process exits the next reload removes the old mount and its loop
# device. Many launches and reloads leave no loop device or mount behind; stop leaves none.
# checks: H
source "$(dirname "$0")/lib.sh"
it_main "$@"

command -v mksquashfs >/dev/null || it_need "needs mksquashfs (apt-get install squashfs-tools)"
command -v mkfs.erofs >/dev/null || it_need "needs mkfs.erofs (apt-get install erofs-utils)"
command -v losetup >/dev/null || it_need "needs losetup"

it_launchers
it_user chosimg1
UID1=$IT_USER_UID AS=("${IT_AS_USER[@]}")
IMG=$IT_BASE/images
install -d -m 0755 "$IMG" "$IT_BASE/outside"
install -d -m 0755 -o "$UID1" "$IMG/user"

make_tree "$IT_BASE/trees/a" a
for t in sq ef bad; do make_tree "$IT_BASE/trees/$t" "$t"; done
echo "sq one" > "$IT_BASE/trees/sq/etc/version"
echo "ef one" > "$IT_BASE/trees/ef/etc/version"
mksquashfs "$IT_BASE/trees/sq" "$IMG/sq.sqfs" -noappend -quiet -all-root >/dev/null || it_fail "mksquashfs"
mkfs.erofs --quiet --all-root "$IMG/ef.erofs" "$IT_BASE/trees/ef" >/dev/null || it_fail "mkfs.erofs"
mksquashfs "$IT_BASE/trees/bad" "$IT_BASE/good.sqfs" -noappend -quiet -all-root >/dev/null || it_fail "mksquashfs"
chmod 0644 "$IMG/sq.sqfs" "$IMG/ef.erofs" "$IT_BASE/good.sqfs"

# The refused ones, each with the reason it must be refused for.
install -m 0644 "$IT_BASE/good.sqfs" "$IMG/userowned.sqfs" && chown "$UID1" "$IMG/userowned.sqfs"
install -m 0666 "$IT_BASE/good.sqfs" "$IMG/writable.sqfs" && chmod 0666 "$IMG/writable.sqfs"
install -m 0644 "$IT_BASE/good.sqfs" "$IMG/user/inuserdir.sqfs"
ln -s sq.sqfs "$IMG/link.sqfs"
head -c $(($(stat -c %s "$IT_BASE/good.sqfs") / 2)) "$IT_BASE/good.sqfs" > "$IMG/truncated.sqfs"
echo "not an image" > "$IMG/text.sqfs"
install -m 0644 "$IT_BASE/good.sqfs" "$IT_BASE/outside/outside.sqfs"
chmod 0644 "$IMG"/*.sqfs 2>/dev/null; chmod 0666 "$IMG/writable.sqfs"

declare -A REASON=(
    [userowned]="'$IMG/userowned.sqfs': is owned by uid $UID1, not root"
    [writable]="'$IMG/writable.sqfs': is writable by group or others"
    [inuserdir]="'$IMG/user/inuserdir.sqfs': lies in '$IMG/user', which is owned by uid $UID1, not root"
    [link]="'$IMG/link.sqfs': is a symbolic link"
    [truncated]="'$IMG/truncated.sqfs': is truncated: its superblock says [0-9]+ bytes, the file has [0-9]+"
    [text]="'$IMG/text.sqfs': is not a squashfs or EROFS image"
    [outside]="'$IT_BASE/outside/outside.sqfs': is not beneath any of image_dirs"
)
declare -A FILE=([userowned]=$IMG/userowned.sqfs [writable]=$IMG/writable.sqfs
    [inuserdir]=$IMG/user/inuserdir.sqfs [link]=$IMG/link.sqfs [truncated]=$IMG/truncated.sqfs
    [text]=$IMG/text.sqfs [outside]=$IT_BASE/outside/outside.sqfs)

write_config() { # [BAD...]: a, sq, ef, and the named refused ones
    local extra="  sq:
    image: $IMG/sq.sqfs
  ef:
    image: $IMG/ef.erofs" b
    for b in "$@"; do extra+="
  $b:
    image: ${FILE[$b]}"; done
    IT_CFG_EXTRA="$extra
image_dirs: [$IMG]" it_config a:"$IT_BASE/trees/a"
    it_bind_config
}

image_mounts() { it_mount_points | grep -c "^$RUN/images/" ; }
# Loop devices whose backing file is one of the test's (its tmpfs).
test_loops() { losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -c " $IT_BASE/" ; }
run_in() { # ENV CMD...: as the test user, through the setuid chos-run
    local env=$1; shift
    "${AS[@]}" "$BIN/chos-run" -o "$env" -- "$@" 2>&1
}

# ---- the check names every refused image, and only those
write_config "${!FILE[@]}"
out=$(chos_setup check 2>&1); rc=$?
assert_eq "check with refused images fails" 1 "$rc"
for b in "${!FILE[@]}"; do
    assert_match "check: $b" "environment '$b': refusing image: ${REASON[$b]}" "$out"
done
assert_no_match "check: the good images pass" "environment '(sq|ef)'" "$out"

# ---- start: the good ones are served, each bad one is one line, nothing of it mounted
out=$(chos_setup start 2>&1); rc=$?
IT_STOPPED=0
assert_eq "start with refused images exits 1 ($out)" 1 "$rc"
for b in "${!FILE[@]}"; do
    assert_eq "start: one line for $b" 1 "$(grep -cE "environment '$b': refusing image: ${REASON[$b]}" <<< "$out")"
    assert_eq "start: nothing mounted for $b" 0 "$(it_mount_points | grep -c "^$RUN/images/$b@")"
    out_b=$(run_in "$b" cat /etc/os-release); rc=$?
    assert_ne "chos-run -o $b fails ($out_b)" 0 "$rc"
done
assert_eq "start: two images mounted under run_dir ($out)" 2 "$(image_mounts)"
# The squashfs has a loop device; the EROFS image too here (the test's files are on a
# tmpfs, which cannot back a file-backed mount), on a disk it would not.
LOOPS=$(test_loops)
assert_match "start: a loop device per image at most" "^[12]$" "$LOOPS"
assert_eq "start: the squashfs's loop is read-only" 1 \
    "$(losetup -l -n -O RO,BACK-FILE | grep -c "^ *1 $IMG/sq.sqfs\$")"
# The mount options (field 6) of the mount under run_dir whose type (after " - ") is $1.
image_options() {
    awk -v d="$RUN/images/" -v t="$1" \
        'index($5, d) == 1 { for (i = 7; $i != "-"; i++) ; if ($(i + 1) == t) print $6 }' /proc/self/mountinfo
}
assert_match "the squashfs is mounted ro,nosuid,nodev" "^ro,nosuid,nodev" "$(image_options squashfs)"
assert_match "the EROFS image is mounted ro,nosuid,nodev" "^ro,nosuid,nodev" "$(image_options erofs)"
assert_eq "run_dir/images is root's 0700" "0:0 700" "$(stat -c '%u:%g %a' "$RUN/images")"
assert_eq "squashfs environment, as a user" "sq one" "$(run_in sq cat /etc/version)"
assert_eq "EROFS environment, as a user" "ef one" "$(run_in ef cat /etc/version)"
assert_eq "the path: environment still works" "NAME=a" "$(run_in a cat /etc/os-release | grep '^NAME=')"

# ---- status names the image each environment serves
out=$(chos_setup status 2>&1)
assert_match "status: sq's image, inode and mtime" \
    "image: +sq: $IMG/sq.sqfs \\(squashfs, inode $(stat -c %i "$IMG/sq.sqfs"), mtime " "$out"
assert_match "status: ef's image" "image: +ef: $IMG/ef.erofs \\(erofs, inode $(stat -c %i "$IMG/ef.erofs")" "$out"

# ---- replace sq's image while a process runs in it
write_config
out=$(chos_setup reload 2>&1) || it_fail "reload without the refused ones: $out"
old_name=$(cd "$RUN/images" && ls -d sq@*)
rm -f "$IT_BASE/home/chosimg1/go" "$IT_BASE/home/chosimg1/old"
"${AS[@]}" "$BIN/chos-run" -o sq -- sh -c \
    'cd /etc && echo started > /home/chosimg1/ready && while [ ! -e /home/chosimg1/go ]; do sleep 0.1; done; cat version > /home/chosimg1/old' \
    > "$IT_BASE/logs/old.log" 2>&1 &
OLD=$!
IT_PIDS+=("$OLD")
wait_for 10 test -e "$IT_BASE/home/chosimg1/ready" || it_fail "the process in sq did not start: $(cat "$IT_BASE/logs/old.log")"
echo "sq two" > "$IT_BASE/trees/sq/etc/version"
mksquashfs "$IT_BASE/trees/sq" "$IMG/sq.sqfs.new" -noappend -quiet -all-root >/dev/null || it_fail "mksquashfs"
chmod 0644 "$IMG/sq.sqfs.new" && mv "$IMG/sq.sqfs.new" "$IMG/sq.sqfs"
out=$(chos_setup reload 2>&1) || it_fail "reload after replacing sq's image: $out"
assert_match "reload says sq serves its new image" "environment 'sq' serves its new image" "$out"
assert_eq "a new launch gets the new image" "sq two" "$(run_in sq cat /etc/version)"
assert_eq "the old image stays mounted while the process uses it" 1 "$(it_mount_points | grep -c "^$RUN/images/$old_name\$")"
out=$(chos_setup status 2>&1)
assert_match "status: the old image and its process" "old image: +$old_name: [1-9][0-9]* process" "$out"
touch "$IT_BASE/home/chosimg1/go"
wait "$OLD" || it_fail "the process in the old image failed: $(cat "$IT_BASE/logs/old.log")"
assert_eq "the running process kept reading the old image" "sq one" "$(cat "$IT_BASE/home/chosimg1/old")"
out=$(chos_setup reload 2>&1) || it_fail "reload after the process exited: $out"
assert_eq "the old image's mount is gone" 0 "$(it_mount_points | grep -c "^$RUN/images/$old_name\$")"
assert_eq "and its directory" no "$(test -e "$RUN/images/$old_name" && echo yes || echo no)"
wait_for 10 test "$(test_loops)" = "$LOOPS" || it_fail "the old loop device stays: $(losetup -l -n -O NAME,BACK-FILE | grep " $IT_BASE/")"
assert_eq "two images mounted" 2 "$(image_mounts)"

# ---- many launches and reloads leave nothing behind
launches=${CHOS_IT_IMAGE_LAUNCHES:-1000}
t0=$(date +%s%N)
for ((i = 0; i < launches; i++)); do
    "${AS[@]}" "$BIN/chos-run" -o sq -- true || it_fail "launch $i failed"
done
t1=$(date +%s%N)
for ((i = 0; i < 100; i++)); do
    out=$(chos_setup reload 2>&1) || it_fail "reload $i: $out"
done
t2=$(date +%s%N)
it_say "$launches launches: $(((t1 - t0) / 1000000)) ms; 100 reloads: $(((t2 - t1) / 1000000)) ms"
assert_eq "after $launches launches and 100 reloads: two image mounts" 2 "$(image_mounts)"
assert_eq "and no more loop devices than at start" "$LOOPS" "$(test_loops)"

# ---- stop leaves no image mount and no loop device
out=$(chos_setup stop 2>&1) || it_fail "stop: $out"
IT_STOPPED=1
assert_eq "stop: no image mount" 0 "$(image_mounts)"
wait_for 10 test "$(test_loops)" = 0 || it_fail "loop devices stay after stop: $(losetup -l -n -O NAME,BACK-FILE | grep " $IT_BASE/")"
it_done
