#!/usr/bin/env bash
# Interactive `chos` in a real terminal: a pty (python3's pty module, a new session
# with the pty as its controlling terminal) runs the setuid `chos` as an unprivileged
# user whose login shell is /bin/sh. The prompt appears; a typed command answers from
# the environment; Ctrl-C interrupts a running command (before it could end by
# itself) but not the shell; `exit N` returns N to the shell that ran chos, which is
# still in its own environment, unregistered.
# checks: P9 O
source "$(dirname "$0")/lib.sh"
it_main "$@"
source "$IT_LIB_DIR/launcher_lib.sh"
command -v python3 >/dev/null || it_fail "needs python3 (the pty driver)"

it_user chosit
IT_DEFAULT=a it_start_launchers a b -- a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" h:-
lt_mounts_baseline

# The driver: spawns ARGV on a pty, plays the script (expect PATTERN / send TEXT /
# sleep S), every expect bounded; prints "OK <exit status>" or "FAIL <what>" and the
# whole transcript (escaped) on stderr.
cat > "$IT_BASE/cache/pty_driver.py" <<'EOF'
import os, pty, re, select, signal, sys, time

def main():
    script, argv = sys.argv[1], sys.argv[2:]
    pid, fd = pty.fork()
    if pid == 0:
        # A terminal login's defaults: the harness runs as a background job of a
        # non-interactive shell, so SIGINT and SIGQUIT arrive here ignored.
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGPIPE, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, signal.SIG_DFL)
        os.execvp(argv[0], argv)
    buf = b""
    def read_until(pattern, timeout):
        nonlocal buf
        rx = re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(buf)
            if m:
                buf = buf[m.end():]
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], left)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return bool(rx.search(buf))
                if not data:
                    return bool(rx.search(buf))
                transcript.append(data)
                buf += data
                # line editing asks where the cursor is: answer like a terminal
                if b"\x1b[6n" in data:
                    os.write(fd, b"\x1b[1;10R")
    transcript = []
    status = "OK"
    for line in open(script):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        if op == "expect":
            timeout, _, pattern = arg.partition(" ")
            if not read_until(pattern, float(timeout)):
                status = "FAIL no %r within %ss" % (pattern, timeout)
                break
        elif op == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode())
        elif op == "sleep":
            time.sleep(float(arg))
    if status != "OK":
        os.kill(pid, signal.SIGKILL)
    # the exit status, bounded
    deadline = time.monotonic() + 10
    while True:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
                if data:
                    transcript.append(data)
            except OSError:
                pass
        w, st = os.waitpid(pid, os.WNOHANG)
        if w == pid:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            w, st = os.waitpid(pid, 0)
            status = "FAIL still running after the script"
            break
    sys.stderr.write(repr(b"".join(transcript)) + "\n")
    if status == "OK":
        print("OK %d" % (os.waitstatus_to_exitcode(st)))
    else:
        print(status)

main()
EOF

# The session: PS1 comes from the caller's environment (passed on: no keep rule).
# The pty runs a shell of the caller's that runs chos, then reports where it is.
cat > "$IT_BASE/cache/session" <<'EOF'
expect 10 chos-it\$ 
send cat /etc/os-release\r
expect 10 NAME=a\r\n
expect 10 chos-it\$ 
send echo "in $CHOS as $(id -u)"\r
expect 10 in a as [0-9]+\r\n
expect 10 chos-it\$ 
# Ctrl-C interrupts the running command, not the shell: a 3-second sleep, interrupted
# after half a second, gives the prompt back well before it could have ended.
send sleep 3; echo "sleep ended $?"\r
sleep 0.5
send \x03
expect 1.5 chos-it\$ 
send echo "still here $((6 * 7))"\r
expect 5 still here 42\r\n
expect 5 chos-it\$ 
send exit 7\r
expect 5 back rc=7 
EOF
# the caller: a shell of the user's, in the host environment; after chos it says
# what chos returned, its own registration and the os-release it sees
caller='"$0"; rc=$?; echo "back rc=$rc reg=$(grep -o "name=$1:.*" /proc/$$/cgroup | cut -d: -f2) $(grep ^ID= /etc/os-release)"; exit $rc'
out=$(cd /home/chosit && "${IT_AS_USER[@]}" PS1='chos-it$ ' TERM=dumb python3 "$IT_BASE/cache/pty_driver.py" \
    "$IT_BASE/cache/session" /bin/sh -c "$caller" "$BIN/chos" "$IT_REG" 2>"$IT_BASE/logs/pty.log"); rc=$?
it_say "transcript: $(cat "$IT_BASE/logs/pty.log")"
assert_eq "the pty driver" 0 "$rc"
assert_eq "interactive chos: the session, then 'exit 7' returns 7 to the caller" "OK 7" "$out"
transcript=$(cat "$IT_BASE/logs/pty.log")
# The interrupted line did not go on to its echo: Ctrl-C ended the whole line (the
# shell behaves as in any terminal), and the sleep did not run to its end.
assert_no_match "Ctrl-C: the rest of the line ran" "sleep ended [0-9]" "$transcript"
# After exit: the caller's shell is still in its own environment -- unregistered
# ("/"), the host's os-release -- the launcher registered only itself.
host_id=$(. /etc/os-release && echo "$ID")
assert_match "the caller after exit" "back rc=7 reg=/ ID=$host_id\\\\r\\\\n" "$transcript"
lt_assert_clean "after the interactive session"

# The same through CHOS=b: the shell is in b.
cat > "$IT_BASE/cache/session-b" <<'EOF'
expect 10 chos-it\$ 
send grep ^NAME= /etc/os-release; chos --current\r
expect 10 NAME=b\r\nb\r\n
expect 5 chos-it\$ 
send exit\r
EOF
out=$(cd /home/chosit && "${IT_AS_USER[@]}" PS1='chos-it$ ' TERM=dumb CHOS=b python3 "$IT_BASE/cache/pty_driver.py" \
    "$IT_BASE/cache/session-b" "$BIN/chos" 2>"$IT_BASE/logs/pty-b.log"); rc=$?
it_say "transcript (CHOS=b): $(cat "$IT_BASE/logs/pty-b.log")"
assert_eq "interactive CHOS=b chos: exit status 0" "OK 0" "$out"

it_done
