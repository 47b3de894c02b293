#!/usr/bin/env bash
# Switching from inside an environment. The trees are nosuid, so inside one the
# launcher is reached as the host's setuid binary that chos-setup binds at
# /.chos/bin (on PATH in every child). From inside a: into b, back to the host, a
# nested chos shell; the working directory on a shared path is kept; the launcher
# bind is the one suid mount in the tree.
# checks: P9
source "$(dirname "$0")/lib.sh"
it_main "$@"

mkdir -p "$IT_BASE/home/work" && chmod 0777 "$IT_BASE/home/work"
echo "the host" > "$IT_BASE/host-marker"
chmod 0644 "$IT_BASE/host-marker"
IT_DEFAULT=a it_start_launchers a b -- a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" h:-

# The launcher bind: present, suid (the only mount in the tree without nosuid).
for p in chos chos-run; do
    opts=$(findmnt -n -o OPTIONS --target "$TREE/.chos/bin/$p" 2>/dev/null)
    assert_match "$p is bound into the tree" "^rw|^ro" "$opts"
    assert_no_match ".chos/bin/$p is not nosuid" "(^|,)nosuid(,|$)" "$opts"
done

# From a, chos-run (found on PATH) into b.
out=$(chos_run -o a -- sh -c 'command -v chos-run; chos-run -o b -- cat /etc/os-release' 2>&1); rc=$?
assert_eq "a -> b: exit status ($out)" 0 "$rc"
assert_eq "a -> b: the launcher found on PATH" "/.chos/bin/chos-run" "$(head -n 1 <<< "$out")"
assert_eq "a -> b: b's files" "NAME=b" "$(grep '^NAME=' <<< "$out")"

# The switch re-registers: the nested command is in b, CHOS says b.
assert_eq "a -> b: registration" "/b" \
    "$(chos_run -o a -- chos-run -o b -- sh -c "grep -o 'name=$IT_REG:.*' /proc/self/cgroup | cut -d: -f2" 2>&1)"
assert_eq "a -> b: CHOS" "b" "$(chos_run -o a -- chos-run -o b -- sh -c 'echo $CHOS' 2>&1)"
assert_eq "a -> b: chos --current" "b" "$(chos_run -o a -- chos-run -o b -- chos --current 2>&1)"

# Back to the host environment from inside a: the host's files, unregistered view.
out=$(chos_run -o a -- chos-run -o h -- cat "$IT_BASE/host-marker" 2>&1); rc=$?
assert_eq "a -> host: exit status ($out)" 0 "$rc"
assert_eq "a -> host: the host's file" "the host" "$out"
out=$(chos_run -o a -- cat "$IT_BASE/host-marker" 2>&1); rc=$?
assert_ne "inside a the host's file is not there" 0 "$rc"

# The original's way: CHOS=b chos CMD from inside a.
assert_eq "a -> CHOS=b chos" "NAME=b" \
    "$(chos_run -o a -- env CHOS=b chos cat /etc/os-release 2>&1 | grep '^NAME=')"

# Three hops and back: a -> b -> a, each a real switch.
assert_eq "a -> b -> a" "NAME=a" \
    "$(chos_run -o a -- chos-run -o b -- chos-run -o a -- cat /etc/os-release 2>&1 | grep '^NAME=')"

# The working directory on a shared path is kept across the switch.
assert_eq "cwd kept across a -> b" "/home/work NAME=b" \
    "$(cd "$IT_BASE/home/work" && chos_run -o a -- sh -c 'cd /home/work && chos-run -o b -- sh -c "echo \$(pwd) \$(grep ^NAME= /etc/os-release)"' 2>&1)"

# Refusals from inside keep their exact line and status.
out=$(chos_run -o a -- chos-run -o nosuch -- true 2>&1); rc=$?
assert_eq "a -> unknown: exit status" 125 "$rc"
assert_match "a -> unknown: the message" "^chos: .*nosuch" "$out"

it_done
