#!/usr/bin/env bash
# The mount guard in another mount namespace (docs/architecture.md "The mount guard"):
# the interface a backend with one namespace per environment uses, here through
# `chos-guard --namespace NSFILE:ROOT`. A second mount namespace, held by a process of
# the test, has its own "tree" (a tmpfs) with a nosuid,nodev slave bind of a shared
# host directory; a tmpfs the host mounts there later, with a setuid-root probe and a
# device node, reaches that namespace's tree by propagation. chos-guard, running in the
# test's namespace, makes that copy nosuid,nodev from inside the other namespace
# (setns there and back), and leaves the host's own mount and the other namespace's
# mounts outside its tree as they are. SIGTERM ends it and takes its pid file.
# checks: Q
source "$(dirname "$0")/lib.sh"
it_main "$@"

make_tree "$IT_BASE/trees/a" a
it_config a:"$IT_BASE/trees/a"   # tree: not started; the guard then watches only --namespace
src=$IT_BASE/src other=$IT_BASE/other
mkdir -p "$src" "$other"
mount -t tmpfs -o mode=0755,size=8m it-src "$src" && mount --make-shared "$src" || it_fail "the shared source"
IT_OWN_MOUNTS+=("$src")

# The other namespace: created with the mounts as they are (shared stays shared), its tree
# a tmpfs with the source bound below it as CHOS binds: rslave, nosuid, nodev.
unshare --mount --propagation unchanged sh -c '
    mount -t tmpfs -o mode=0755,size=8m other-tree "$2" &&
    mkdir "$2/data" && mount --rbind "$1" "$2/data" && mount --make-rslave "$2/data" &&
    mount -o remount,bind,nosuid,nodev "$2/data" && echo ready > "$3" && exec sleep 1000' \
    sh "$src" "$other" "$IT_BASE/logs/other.ready" &
holder=$!
IT_PIDS+=($holder)
wait_for 10 test -s "$IT_BASE/logs/other.ready" || it_fail "the other namespace did not come up"
in_other() { nsenter -t "$holder" -m "$@"; }
# The options of the mount at exactly PATH, in the other namespace or in ours.
opts_in_other() { in_other awk -v p="$1" '$5 == p { o = $6 } END { print o }' /proc/self/mountinfo; }
opts_here() { awk -v p="$1" '$5 == p { o = $6 } END { print o }' /proc/self/mountinfo; }

"$CHOS_GUARD" --foreground --config "$CFG" --namespace "/proc/$holder/ns/mnt:$other" \
    > "$IT_BASE/logs/guard.log" 2>&1 &
guard=$!
IT_PIDS+=($guard)
wait_for 10 test -s "$RUN/guard.pid" || it_fail "chos-guard wrote no pid file: $(cat "$IT_BASE/logs/guard.log")"
assert_eq "the pid file names the guard" "$guard" "$(cat "$RUN/guard.pid")"

# The host mounts a file system under the shared source, after the guard started.
mkdir "$src/late"
mount -t tmpfs -o mode=0755,size=8m it-late "$src/late" || it_fail "the late mount"
IT_CLEANUP+=("umount -l '$src/late'")
cp "$CHOS_IT_SUID" "$src/late/suid" && chmod 4755 "$src/late/suid"
mknod -m 0666 "$src/late/nulldev" c 1 3
assert_eq "control: nobody runs the setuid probe on the host's mount" "euid 0 ruid $IT_NOBODY" \
    "$("${IT_AS_NOBODY[@]}" "$src/late/suid")"

copy=$other/data/late
guarded_copy() { [[ ",$(opts_in_other "$copy")," == *,nosuid,* && ",$(opts_in_other "$copy")," == *,nodev,* ]]; }
wait_for 5 guarded_copy || it_fail "the copy in the other namespace's tree is not nosuid,nodev: '$(opts_in_other "$copy")' ($(cat "$IT_BASE/logs/guard.log"))"
assert_eq "nobody runs the probe through the other namespace's tree" "euid $IT_NOBODY ruid $IT_NOBODY" \
    "$(in_other "${IT_AS_NOBODY[@]}" "$copy/suid")"
assert_match "the device does not open through the other namespace's tree" '^ERR (EACCES|EPERM)$' \
    "$(in_other "$TOOL" open "$copy/nulldev" rw)"
assert_match "the guard says what it did" "made '$copy' nosuid,nodev \\(it arrived after the start\\)" \
    "$(cat "$IT_BASE/logs/guard.log")"
# only the tree's copy changed: not the host's mount, not the other namespace's peer of it
assert_no_match "the host's own mount keeps its flags" 'nosuid' "$(opts_here "$src/late")"
assert_no_match "the other namespace's mount outside its tree keeps its flags" 'nosuid' \
    "$(opts_in_other "$src/late")"

# SIGTERM: a clean exit, no pid file.
kill -TERM "$guard"
wait "$guard"; rc=$?
assert_eq "chos-guard's exit status after SIGTERM" 0 "$rc"
assert_eq "the pid file after SIGTERM" absent "$([ -e "$RUN/guard.pid" ] && echo present || echo absent)"
IT_STOPPED=1
it_done
