#!/usr/bin/env bash
# What chos-setup leaves for the launchers so a launch does less work, and that it
# never changes what a launch does:
#  - the configuration snapshot (chos.yaml(5) "SNAPSHOT"): written by start and
#    reload beside the launcher's configuration, read instead of parsing the YAML;
#    an edit counts at the next launch, a snapshot that is not root's alone or not a
#    snapshot (truncated, a symlink, a FIFO, 5 MiB of zeros) is ignored without
#    hanging, a setup of another file writes none, stop removes it;
#  - the registry record (<run_dir>/registry): what `registry.type: auto` resolved
#    to, read instead of /proc/self/mountinfo; one that is not root's alone, or a
#    symlink, is ignored even when it lies, a FIFO is ignored, a wrong one that root
#    wrote fails closed, stop removes it.
# checks: J F
source "$(dirname "$0")/lib.sh"
it_main "$@"

IT_CFG_REGTYPE=auto it_start_launchers a b -- a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"

SNAP=$CONFIG_PATH.snapshot
# how_read ENV: how one launch into ENV read the configuration, and what it printed
# (within 10 s: a FIFO planted for a file must not hang a launch)
how_read() {
    local out
    out=$(timeout 10 "${IT_AS_NOBODY[@]}" "$BIN/chos-run" --debug -o "$1" -- cat /etc/os-release 2>&1)
    echo "$(grep -o 'configuration: .*' <<< "$out" | sed 's/configuration: //'); $(grep -E '^(NAME=|chos: environment)' <<< "$out")"
}

# 1. start writes it, root's alone; the launcher uses it.
assert_eq "the snapshot after chos-setup start" "root root 644 regular file" "$(stat -c '%U %G %a %F' "$SNAP")"
assert_eq "a launch into b" "from the snapshot; NAME=b" "$(how_read b)"

# 2. An edit without reload counts at the next launch (written in place, as the
# bind over $CONFIG_PATH needs): b is now root's only.
{ cat "$CFG"; echo "    users: [root]"; } > "$IT_BASE/edited.yaml"
cat "$IT_BASE/edited.yaml" > "$CONFIG_PATH"
assert_eq "a launch into b after the edit, before reload" \
    "parsed; chos: environment not allowed: 'b' (from -o): not open to this user (see 'chos --list')" "$(how_read b)"
assert_eq "a launch into a after the edit, before reload" "parsed; NAME=a" "$(how_read a)"

# 3. reload writes the snapshot of the edited file.
out=$(chos_setup reload 2>&1) || it_fail "chos-setup reload: $out"
assert_eq "a launch into b after reload" \
    "from the snapshot; chos: environment not allowed: 'b' (from -o): not open to this user (see 'chos --list')" \
    "$(how_read b)"
assert_eq "a launch into a after reload" "from the snapshot; NAME=a" "$(how_read a)"

# 4. Not root's alone, or not a snapshot: ignored, the file is parsed.
chmod 0666 "$SNAP"
assert_eq "a snapshot writable by others" "parsed; NAME=a" "$(how_read a)"
chmod 0644 "$SNAP"; chown "$IT_NOBODY" "$SNAP"
assert_eq "a snapshot owned by a user" "parsed; NAME=a" "$(how_read a)"
chown 0 "$SNAP"
assert_eq "the snapshot back to root's" "from the snapshot; NAME=a" "$(how_read a)"
head -c 100 "$SNAP" > "$IT_BASE/truncated" && cat "$IT_BASE/truncated" > "$SNAP"
assert_eq "a truncated snapshot" "parsed; NAME=a" "$(how_read a)"
rm -f "$SNAP"; ln -s "$IT_BASE/truncated" "$SNAP"
assert_eq "a symlink as the snapshot" "parsed; NAME=a" "$(how_read a)"
rm -f "$SNAP"; mkfifo -m 0644 "$SNAP"
assert_eq "a FIFO as the snapshot (no hang)" "parsed; NAME=a" "$(how_read a)"
rm -f "$SNAP"; head -c $((5 * 1024 * 1024)) /dev/zero > "$SNAP"
assert_eq "a 5 MiB snapshot" "parsed; NAME=a" "$(how_read a)"
rm -f "$SNAP"

# 5. A setup of another file (not the launcher's) writes no snapshot.
cp "$CFG" "$IT_BASE/other.yaml"
out=$("$CHOS_SETUP" --config "$IT_BASE/other.yaml" "${IT_SETUP_FLAGS[@]}" reload 2>&1) ||
    it_fail "chos-setup --config other.yaml reload: $out"
[ -e "$SNAP" ] && it_fail "chos-setup of another file wrote the launcher's snapshot"
out=$(chos_setup reload 2>&1) || it_fail "chos-setup reload: $out"
[ -f "$SNAP" ] || it_fail "chos-setup reload of the launcher's file wrote no snapshot"
ls "${CONFIG_PATH%/*}" | grep -q '\.snapshot\.' && it_fail "a temporary snapshot file was left: $(ls "${CONFIG_PATH%/*}")"

# 6. The registry record: auto resolved to the named cgroup v1 hierarchy.
REC=$RUN/registry
assert_eq "the registry record" "root 644 cgroup1" "$(stat -c '%U %a' "$REC") $(cat "$REC")"
assert_eq "a launch with the record" "from the snapshot; NAME=a" "$(how_read a)"
# A record that lies (cgroup2 somewhere it is not) decides only when it is root's
# alone: owned by a user, writable by group or others, or a symlink to root's lie,
# it is ignored and the launch looks the registry up itself -- and works.
echo "cgroup2 $IT_BASE/nowhere" > "$IT_BASE/lie"
cp "$IT_BASE/lie" "$REC"
chown "$IT_NOBODY" "$REC"
assert_eq "a lying record owned by a user is ignored (mountinfo is read)" "from the snapshot; NAME=a" "$(how_read a)"
chown 0 "$REC"; chmod 0664 "$REC"
assert_eq "a lying record writable by group is ignored" "from the snapshot; NAME=a" "$(how_read a)"
chmod 0646 "$REC"
assert_eq "a lying record writable by others is ignored" "from the snapshot; NAME=a" "$(how_read a)"
rm -f "$REC"; chmod 0644 "$IT_BASE/lie"; ln -s "$IT_BASE/lie" "$REC"
assert_eq "a symlink to a lying record of root's is ignored" "from the snapshot; NAME=a" "$(how_read a)"
# The same lie, root's alone: honoured, so the launch fails closed.
rm -f "$REC"; cp "$IT_BASE/lie" "$REC"; chmod 0644 "$REC"
out=$(chos_run -o a -- true 2>&1); rc=$?
assert_eq "a wrong record of root's: exit status" 125 "$rc"
assert_match "a wrong record of root's fails closed" "^chos: " "$out"
assert_eq "nothing registered by the refused launch" "" "$(cat "$REGMNT/a/cgroup.procs")"
rm -f "$REC"; mkfifo -m 0644 "$REC"
assert_eq "a FIFO as the record (no hang)" "from the snapshot; NAME=a" "$(how_read a)"
rm -f "$REC"; printf 'cgroup1\n' > "$REC"

# 7. stop removes both.
out=$(chos_setup stop 2>&1) || it_fail "chos-setup stop: $out"
IT_STOPPED=1
[ -e "$SNAP" ] && it_fail "chos-setup stop left the snapshot"
[ -e "$REC" ] && it_fail "chos-setup stop left the registry record"
it_done
