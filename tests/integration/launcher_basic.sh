#!/usr/bin/env bash
# The setuid launcher end to end (docs/properties.md "Entering an environment"): chos
# and chos-run are copied setuid root onto the test's tmpfs and run as nobody. The
# config path is fixed at build time (CHOS_CONFIG_PATH), so the test binds its own
# config over it inside its private mount namespace (lib.sh it_bind_config).
# checks: A B E G L
source "$(dirname "$0")/lib.sh"
it_main "$@"

IT_DEFAULT=a it_start_launchers a b -- a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" h:-
# The same binary without the setuid bit: the not-root refusal.
cp "$CHOS_LAUNCHER_DIR/chos-run" "$BIN/chos-run-plain" && chmod 0755 "$BIN/chos-run-plain"

RUN_AS=("${IT_AS_NOBODY[@]}")
chos_run() { "${RUN_AS[@]}" "$BIN/chos-run" "$@"; }
chos() { "${RUN_AS[@]}" "$BIN/chos" "$@"; }

# Not setuid: a clear refusal, 125.
out=$("${RUN_AS[@]}" "$BIN/chos-run-plain" -o a -- true 2>&1); rc=$?
assert_eq "not setuid: exit status" 125 "$rc"
assert_eq "not setuid: the message" \
    "chos: not running as root: is chos-run installed setuid root? (no_new_privs ignores the setuid bit)" "$out"

# -o a: the environment's files.
out=$(chos_run -o a -- cat /etc/os-release 2>&1); rc=$?
assert_eq "chos-run -o a: exit status ($out)" 0 "$rc"
assert_eq "chos-run -o a -- cat /etc/os-release" "NAME=a" "$(grep '^NAME=' <<< "$out")"

# $CHOS=b through chos.
out=$(CHOS=b chos cat /etc/os-release 2>&1); rc=$?
assert_eq "CHOS=b chos: exit status ($out)" 0 "$rc"
assert_eq "CHOS=b chos cat /etc/os-release" "NAME=b" "$(grep '^NAME=' <<< "$out")"

# Nothing chosen: the default (a); -o beats $CHOS.
assert_eq "the default environment" "NAME=a" "$(chos_run cat /etc/os-release 2>&1 | grep '^NAME=')"
assert_eq "-o beats \$CHOS" "NAME=b" "$(CHOS=a chos_run -o b -- cat /etc/os-release 2>&1 | grep '^NAME=')"

# The child: CHOS set, PATH reaches the launcher, registered in its environment.
assert_eq "CHOS in the child" "b" "$(chos_run -o b -- sh -c 'echo $CHOS' 2>&1)"
assert_match "PATH in the child" ":/\\.chos/bin$" "$(chos_run -o b -- sh -c 'echo $PATH' 2>&1)"
assert_eq "the child's registration" "name=$IT_REG:/b" \
    "$(chos_run -o b -- cat /proc/self/cgroup 2>&1 | grep -o "name=$IT_REG:.*")"

# Class A: all ids the caller's, no capabilities, no way back to root.
status=$(chos_run -o a -- cat /proc/self/status 2>&1)
assert_eq "Uid line" "Uid:	65534	65534	65534	65534" "$(grep '^Uid:' <<< "$status")"
assert_eq "Gid line" "Gid:	65534	65534	65534	65534" "$(grep '^Gid:' <<< "$status")"
assert_eq "Groups line" "Groups:" "$(grep '^Groups:' <<< "$status" | sed 's/[[:space:]]*$//')"
assert_eq "CapEff" "CapEff:	0000000000000000" "$(grep '^CapEff:' <<< "$status")"
assert_eq "CapPrm" "CapPrm:	0000000000000000" "$(grep '^CapPrm:' <<< "$status")"

# Class E: the child has exactly the caller's fds, nothing the launcher opened.
fds_of() { "$@" 2>&1 | tr '\n' ' ' | sed 's/ $//'; }
control=$(fds_of "${RUN_AS[@]}" busybox ls /proc/self/fd)
assert_eq "fds of the child = the caller's" "$control" "$(fds_of chos_run -o a -- ls /proc/self/fd)"
control=$(fds_of "${RUN_AS[@]}" busybox ls /proc/self/fd 7</dev/null)
assert_eq "a caller's fd 7 reaches the child" "$control" "$(fds_of chos_run -o a -- ls /proc/self/fd 7</dev/null)"

# Class G / refusals: the exact line, 125.
out=$(chos_run -o nope -- true 2>&1); rc=$?
assert_eq "unknown name: exit" 125 "$rc"
assert_eq "unknown name: message" "chos: unknown environment: 'nope' (from -o) (see 'chos --list')" "$out"
out=$(CHOS=../../etc chos_run true 2>&1); rc=$?
assert_eq "CHOS=../../etc: exit" 125 "$rc"
assert_match "CHOS=../../etc: message" "^chos: invalid environment name: '\\.\\./\\.\\./etc' \\(from \\\$CHOS\\)" "$out"
out=$(chos_run -o '%n%s' -- true 2>&1); rc=$?
assert_eq "-o %n%s: exit" 125 "$rc"
assert_match "-o %n%s: message" "^chos: invalid environment name: '\\\\x25n\\\\x25s'" "$out"

# Exit statuses: the command's own, 127 not found, 126 not executable.
chos_run -o h -- false; assert_eq "false (host environment h)" 1 "$?"
chos_run -o a -- sh -c 'exit 42'; assert_eq "exit 42" 42 "$?"
out=$(chos_run -o a -- nosuchcmd 2>&1); rc=$?
assert_eq "not found: exit" 127 "$rc"
assert_eq "not found: message" "chos: cannot run 'nosuchcmd': No such file or directory" "$out"
out=$(chos_run -o a -- /etc/os-release 2>&1); rc=$?
assert_eq "not executable: exit" 126 "$rc"
assert_eq "not executable: message" "chos: cannot run '/etc/os-release': Permission denied" "$out"
out=$(chos_run -o a 2>&1); rc=$?
assert_eq "chos-run without a command" 125 "$rc"

# The host environment: no chroot; chos --current reads the registration.
assert_eq "chos --current in h" "h" "$(chos_run -o h -- "$BIN/chos" --current 2>&1)"
assert_eq "chos --current unregistered, CHOS=b" "b" "$(CHOS=b chos --current 2>&1)"

# --list as nobody, current marked.
out=$(CHOS=b chos --list 2>&1); rc=$?
assert_eq "chos --list: exit" 0 "$rc"
assert_match "chos --list: a is the default" "^  a +test environment a \\(default\\)$" "$(grep ' a ' <<< "$out")"
assert_match "chos --list: b is current" "^\\* b +test environment b$" "$(grep ' b ' <<< "$out")"
assert_match "chos-run --version" "^chos-run [0-9.]+ \\(backend: fuse\\)$" "$(chos_run --version 2>&1)"

# hidden: true (chos.yaml(5)): left out of --list, still usable by name, and listed,
# marked current, to a process inside it.
cp "$CFG" "$IT_BASE/chos.yaml.visible"
sed '/^  b:$/a\    hidden: true' "$IT_BASE/chos.yaml.visible" > "$IT_BASE/chos.yaml.hidden"
cat "$IT_BASE/chos.yaml.hidden" > "$CFG"   # in place: $CFG is bound over the fixed path
out=$(chos --list 2>&1)
assert_match "b hidden: chos --list still shows a" "^  a +test environment a \\(default\\)$" "$(grep ' a ' <<< "$out")"
assert_eq "b hidden: chos --list leaves it out" "" "$(grep ' b ' <<< "$out")"
assert_eq "b hidden: still usable by name" "NAME=b" "$(chos_run -o b -- grep '^NAME=' /etc/os-release 2>&1)"
assert_match "b hidden: listed, current, from inside it" "^\\* b +test environment b$" \
    "$(chos_run -o b -- chos --list 2>&1 | grep ' b ')"
cat "$IT_BASE/chos.yaml.visible" > "$CFG"

# --debug: per-phase timings on stderr.
timings=$(chos_run -o a --debug -- true 2>&1)
it_say "timings (chos-run -o a --debug -- true):"
while IFS= read -r l; do it_say "  $l"; done <<< "$timings"
assert_match "--debug prints the registration phase" "phase registration: [0-9.]+ ms" "$timings"

# A stopped daemon: a clear refusal instead of a hang (class L, docs/threat-model.md).
kill -STOP "$DAEMON"
out=$(timeout 10 "${RUN_AS[@]}" "$BIN/chos-run" -o a -- true 2>&1); rc=$?
kill -CONT "$DAEMON"
assert_eq "daemon stopped: exit" 125 "$rc"
assert_eq "daemon stopped: message" "chos: chos-linkfs is not running (see 'chos-setup status')" "$out"

it_done
