#!/usr/bin/env bash
# host_commands (chos.yaml(5)): a host program on PATH inside every environment
# (/.chos/bin/<name>, a link to chos-run), run by the setuid launcher from the host's
# view with the caller's arguments, working directory, environment, exit status and
# registration -- so a job step it starts stays in the caller's environment. As nobody,
# against the real setuid install; the refusals an attacker meets; reload adding and
# removing a command. (Slurm's own commands on a three-node cluster:
# tests/cluster/host_commands.sh.)
# checks: P9 A
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_launchers
# A host program in a host directory (an absolute host_commands entry) that says where
# it runs: the host's os-release (the trees' say NAME=a/b), its directory, $CHOS, a
# variable of the caller, its arguments, its ids, capabilities and registration.
mkdir -p "$IT_BASE/hostbin" "$IT_BASE/work"
cat > "$IT_BASE/hostbin/hostprobe" <<EOF
#!/bin/sh
echo "os \$(grep '^ID=' /etc/os-release)"
echo "pwd \$(pwd -P)"
echo "CHOS=\$CHOS FOO=\$FOO PATH=...:\${PATH##*:}"
for a in "\$@"; do echo "arg [\$a]"; done
echo "uid \$(id -u) \$(grep '^CapEff:' /proc/self/status | tr -d '\t')"
echo "reg \$(grep -o 'name=$IT_REG:.*' /proc/self/cgroup)"
exit \${PROBE_EXIT:-0}
EOF
chmod 0755 "$IT_BASE/hostbin/hostprobe" "$IT_BASE/hostbin" "$IT_BASE/work"
chmod 0777 "$IT_BASE/work"
host_id=$(grep '^ID=' /etc/os-release)

make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
# The test's chos.yaml with HOST_COMMANDS (a YAML flow list); $IT_BASE/work is bound at
# its own path.
config_with() { # HOST_COMMANDS
    IT_CFG_BIND="/dev
/proc
{ source: $IT_BASE/home, target: /home }
$IT_BASE/work" IT_CFG_EXTRA="host_commands: $1" it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
}
config_with "[$IT_BASE/hostbin/hostprobe, dpkg, /nonexistent/gone]"
it_bind_config
it_start

run() { "${IT_AS_NOBODY[@]}" env HOME=/nonexistent "$@"; }

# The tree: one link per host command, beside the launchers' binds.
assert_eq "the tree's /.chos/bin" "chos chos-run dpkg gone hostprobe" "$(ls "$TREE/.chos/bin" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "hostprobe's link" "chos-run" "$(readlink "$TREE/.chos/bin/hostprobe")"

# From inside a, in a directory bound at its own path: the host's program, there.
out=$(cd / && run "$BIN/chos-run" -o a -- sh -c "cd $IT_BASE/work && FOO=bar exec hostprobe x 'y z'" 2>&1); rc=$?
assert_eq "hostprobe from inside a: exit status ($out)" 0 "$rc"
assert_eq "hostprobe from inside a" \
"os $host_id
pwd $IT_BASE/work
CHOS=a FOO=bar PATH=...:/.chos/bin
arg [x]
arg [y z]
uid $IT_NOBODY CapEff:0000000000000000
reg name=$IT_REG:/a" "$out"

# A directory of the tree only (/home is bound from elsewhere): <tree>/home on the host.
out=$(cd / && run "$BIN/chos-run" -o b -- sh -c 'cd /home && exec hostprobe' 2>&1)
assert_eq "hostprobe from /home in b: its directory" "pwd $TREE/home" "$(grep '^pwd' <<< "$out")"
assert_eq "hostprobe from /home in b: still registered in b" "reg name=$IT_REG:/b" "$(grep '^reg' <<< "$out")"

# The program's exit status is the caller's.
out=$(run "$BIN/chos-run" -o a -- env PROBE_EXIT=3 hostprobe 2>&1); rc=$?
assert_eq "hostprobe's exit status" 3 "$rc"

# A name, found on the host's system PATH (the busybox trees have no dpkg).
assert_eq "dpkg from inside a" "$(dpkg --print-architecture)" \
    "$(run "$BIN/chos-run" -o a -- dpkg --print-architecture 2>&1)"

# From the host (not chrooted): the same program, in the caller's directory.
out=$(cd "$IT_BASE/work" && run "$TREE/.chos/bin/hostprobe" 2>&1); rc=$?
assert_eq "hostprobe from the host: exit status ($out)" 0 "$rc"
assert_eq "hostprobe from the host: its directory" "pwd $IT_BASE/work" "$(grep '^pwd' <<< "$out")"

# Refusals. A name not listed: the launcher never runs anything else as a host command.
out=$(run bash -c 'exec -a sh "$0" -c id' "$BIN/chos-run" 2>&1); rc=$?
assert_eq "run as 'sh': exit status" 125 "$rc"
assert_eq "run as 'sh': the message" \
    "chos: 'sh' is not a host command: not in host_commands of $CONFIG_PATH; run chos or chos-run by their names" "$out"
out=$(run bash -c 'exec -a ../../bin/sh "$0" -c id' "$BIN/chos-run" 2>&1); rc=$?
assert_eq "run as '../../bin/sh': exit status" 125 "$rc"
# A listed program that is not there: 127, like a shell.
out=$(run "$BIN/chos-run" -o a -- gone 2>&1); rc=$?
assert_eq "gone: exit status ($out)" 127 "$rc"
assert_eq "gone: the message" "chos: cannot run '/nonexistent/gone': No such file or directory" "$out"

# Reload: a command that left the list loses its link; one added gets one.
config_with "[dpkg, $IT_BASE/hostbin/hostprobe2]"
out=$(chos_setup reload 2>&1) || it_fail "reload: $out"
assert_eq "the tree's /.chos/bin after reload" "chos chos-run dpkg hostprobe2" "$(ls "$TREE/.chos/bin" | tr '\n' ' ' | sed 's/ $//')"
out=$(run "$BIN/chos-run" -o a -- hostprobe 2>&1); rc=$?
assert_eq "hostprobe after reload: exit status" 127 "$rc"

# Bad entries: chos-setup check names them.
for bad in chos "../x" "/a/../b" "a b"; do
    IT_CFG_FILE=$IT_BASE/bad.yaml IT_CFG_EXTRA="host_commands: ['$bad']" it_config a:"$IT_BASE/trees/a"
    out=$("$CHOS_SETUP" --config "$IT_BASE/bad.yaml" check 2>&1); rc=$?
    assert_ne "check refuses host_commands: ['$bad']" 0 "$rc"
    assert_match "check names host_commands: ['$bad'] ($out)" "host_commands entry" "$out"
done

it_done
