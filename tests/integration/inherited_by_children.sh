#!/usr/bin/env bash
# Inherited: fork, exec, double-fork daemons, setsid and threads keep the
# environment.
# checks: P2
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b

# fork: a child forked by the registered shell (not exec'd in its place).
out=$(in_env a sh -c 'echo "shell $$"; "$0" whoami "$1"; true' "$TOOL" "$LINK")
shell_pid=$(echo "$out" | awk '/^shell/ { print $2 }')
child=$(echo "$out" | grep '^pid ')
assert_match "a forked child of a shell in a" "^pid [0-9]+ ppid $shell_pid .* target \.\./os/a$" "$child"

# exec: a chain of execs keeps the pid and the registration.
assert_eq "exec chain sh -> env -> tool, in b" "../os/b" \
    "$(in_env b sh -c 'exec env "$0" readlink "$1"' "$TOOL" "$LINK")"
assert_eq "exec chain inside the chroot (sh -> /usr/bin/env -> tool), in a" "../os/a" \
    "$(in_env a chroot "$TREE" /bin/sh -c 'exec /usr/bin/env /bin/chos-it-tool readlink /.chos/fs/link')"
assert_eq "fork inside the chroot (sh runs cat as a child), in b" "NAME=b" \
    "$(in_env b chroot "$TREE" /bin/sh -c '/bin/cat /etc/os-release; true' | grep '^NAME=')"

# double fork + setsid: the daemon's parent exits, the daemon is reparented to
# pid 1 of our pid namespace and reads the link later, from its own session.
out_file=$IT_BASE/logs/daemon.out
in_env b sh -c 'setsid sh -c "sleep 0.5; exec \"\$0\" whoami \"\$1\" > \"\$2\"" "$0" "$1" "$2" </dev/null >/dev/null 2>&1 & exit 0' \
    "$TOOL" "$LINK" "$out_file"
wait_for 10 test -s "$out_file" || it_fail "the double-forked daemon wrote nothing"
line=$(cat "$out_file")
pid=$(echo "$line" | awk '{ print $2 }')
assert_match "the double-forked setsid daemon (orphan, own session), in b" \
    "^pid $pid ppid 1 sid $pid tid $pid target \.\./os/b$" "$line"

# a whole orphaned process tree inside the chroot: the middle process exits first.
# (/home inside the tree is the bind of $IT_BASE/home)
in_env a chroot "$TREE" /bin/sh -c '(sleep 0.3; exec /bin/chos-it-tool whoami /.chos/fs/link > /home/orphan.out) & exit 0'
wait_for 10 test -s "$IT_BASE/home/orphan.out" || it_fail "the orphan inside the chroot wrote nothing"
assert_match "an orphan inside the chroot, in a" "ppid 1 .* target \.\./os/a$" "$(cat "$IT_BASE/home/orphan.out")"
rm -f "$IT_BASE/home/orphan.out"

# threads: the link read from 8 non-leader threads and the leader, concurrently,
# in a and in b at the same time.
in_env a "$TOOL" threads "$LINK" 8 300 > "$IT_BASE/logs/threads.a" &
in_env b "$TOOL" threads "$LINK" 8 300 > "$IT_BASE/logs/threads.b" &
wait
for e in a b; do
    f=$IT_BASE/logs/threads.$e
    assert_eq "threads in $e: lines" 9 "$(wc -l < "$f")"
    assert_eq "threads in $e: non-leader threads" 8 "$(grep -c ' leader 0 ' "$f")"
    assert_eq "threads in $e: every thread's answer" "result ../os/$e mismatches 0" \
        "$(awk '{ print $7, $8, $9, $10 }' "$f" | sort -u)"
done

# a fork storm from one registered process: every child inherits.
out=$(in_env b "$TOOL" forkcheck "$LINK" ../os/b 500)
assert_eq "500 forked children of a process in b" "forks 500 wrong 0 errors 0" "$out"
out=$(in_env - "$TOOL" forkcheck "$LINK" ../../local 200)
assert_eq "200 forked children of an unregistered process" "forks 200 wrong 0 errors 0" "$out"

# a new process group and session without a double fork (setsid forks when needed).
assert_match "setsid --fork, in a" "target \.\./os/a$" "$(in_env a setsid --fork --wait "$TOOL" whoami "$LINK")"
it_done
