#!/usr/bin/env bash
# Attacks on the setuid-root launcher run as an unprivileged user (docs/threat-model.md):
# argv and environment (B), the ptrace window (A), code from the tree (D), ~/.chos
# read as root (I), resource limits (N), signals aimed inside the privileged window
# (O). launcher_basic.sh and launcher_privilege_drop.sh cover the rest of A, E, G.
# What a user sees is asserted: the exact error line, the exit status, and what is
# left on the system (registrations in the registry's cgroup.procs, mounts, marker
# files written by code that must never run as root, processes, the daemon's fds).
# checks: A B D I N O
source "$(dirname "$0")/lib.sh"
it_main "$@"
source "$IT_LIB_DIR/launcher_lib.sh"
command -v cc >/dev/null || it_fail "needs a C compiler (cc) for the marker library"
command -v prlimit >/dev/null || it_fail "needs prlimit (util-linux)"

it_launchers
it_user chosit
make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
make_tree "$IT_BASE/trees/evil" evil

# Markers: any code the attacks get loaded writes <how>.<euid>.<pid> here.
# On the shared /home: the same path on the host and inside every tree.
MARK=/home/mark
mkdir -m 1777 "$MARK"
EVIL=$IT_BASE/cache/evil.so
lt_evil_lib "$EVIL" "$MARK"

# Class D: an environment tree that ships code for whoever reads its /etc as root:
# an nsswitch.conf naming libnss_evil (in every multiarch directory), an
# ld.so.preload, and a loader and libc so that a dynamic program can run there.
E=$IT_BASE/trees/evil
mkdir -p "$E/lib/x86_64-linux-gnu" "$E/usr/lib/x86_64-linux-gnu" "$E/lib64"
for d in lib lib/x86_64-linux-gnu usr/lib usr/lib/x86_64-linux-gnu; do
    cp "$EVIL" "$E/$d/libnss_evil.so.2"
done
cp "$EVIL" "$E/lib/evil-preload.so"
cp /lib/x86_64-linux-gnu/libc.so.6 "$E/lib/x86_64-linux-gnu/"
cp /lib64/ld-linux-x86-64.so.2 "$E/lib64/"
printf '%s\n' 'passwd: evil' 'group: evil' 'shadow: evil' 'initgroups: evil' 'hosts: evil' \
    > "$E/etc/nsswitch.conf"
echo /lib/evil-preload.so > "$E/etc/ld.so.preload"
# The control: a dynamic program of the tree that looks the user up.
printf '#include <pwd.h>\n#include <stdio.h>\n#include <unistd.h>\nint main(void){struct passwd*p=getpwuid(getuid());printf("getpwuid %%s\\n",p?p->pw_name:"-");return 0;}\n' \
    > "$IT_BASE/cache/getpw.c"
cc -o "$E/bin/getpw" "$IT_BASE/cache/getpw.c" || it_fail "cannot build the getpw control"
chown -R 0:0 "$E"

IT_DEFAULT=a IT_CFG_OS_DIRS="[bin, etc, lib, lib64, sbin, usr]" \
    it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" evil:"$E" h:-
it_bind_config
it_start
lt_mounts_baseline

AS=("${IT_AS_USER[@]}")
chos_run() { "${AS[@]}" "$BIN/chos-run" "$@"; }
no_root_markers() { # WHAT
    local m
    m=$(lt_root_markers "$MARK" | tr '\n' ' ')
    [ -z "$m" ] || it_fail "$1: code ran as root (markers: $m)"
}
NAMES_HINT="names are letters, digits, '.', '_', '-' (see chos.yaml(5))"

# ============================================================== class B: argv
it_say "--- class B: argv"

# argc 0 (pkexec CVE-2021-4034: argv[1] would be envp[0]). Linux >= 5.18 hands the
# program argv {""} instead; either way a clean refusal, and the environment
# strings are never read as options or a command.
out=$("${AS[@]}" "$ATTACK" exec0 "$BIN/chos-run" "-o" "b" "PATH=/bin" 2>&1); rc=$?
assert_eq "argc 0: exit status ($out)" 125 "$rc"
assert_match "argc 0: the message" \
    "^chos: (refusing to run: argc is 0|no command given \\(see 'chos-run --help'\\))$" "$out"
lt_assert_clean "argc 0"

# ============================================================== class B: $CHOS values
it_say "--- class B: CHOS values"

# Each bad value, from $CHOS and from -o: 125, one line, the value escaped and cut.
long=$(printf 'a%.0s' $(seq 1 4096))
check_bad_name() { # LABEL VALUE QUOTED
    local label=$1 value=$2 quoted=$3 out rc
    out=$(CHOS="$value" chos_run true 2>&1); rc=$?
    assert_eq "CHOS=$label: exit ($out)" 125 "$rc"
    assert_eq "CHOS=$label: message" "chos: invalid environment name: '$quoted' (from \$CHOS): $NAMES_HINT" "$out"
    out=$(chos_run -o "$value" -- true 2>&1); rc=$?
    assert_eq "-o $label: exit" 125 "$rc"
    assert_eq "-o $label: message" "chos: invalid environment name: '$quoted' (from -o): $NAMES_HINT" "$out"
}
check_bad_name newline $'a\nb' 'a\x0ab'
check_bad_name 4KiB "$long" "$(printf 'a%.0s' $(seq 1 64))..."
check_bad_name non-UTF-8 $'\xff\xfeb' '\xff\xfeb'
check_bad_name format '%s%n%x' '\x25s\x25n\x25x'
check_bad_name ANSI $'\e[2Jx' '\x1b[2Jx'

# 1 MiB of environment (the kernel caps one string at 128 KiB: 8 values of
# 127 KiB, and $CHOS itself 127 KiB): a clean refusal for $CHOS, no effect otherwise.
big=$(head -c $((127 * 1024)) /dev/zero | tr '\0' x)
out=$(CHOS="$big" chos_run true 2>&1); rc=$?
assert_eq "CHOS=127 KiB: exit" 125 "$rc"
assert_eq "CHOS=127 KiB: message" \
    "chos: invalid environment name: '$(printf 'x%.0s' $(seq 1 64))...' (from \$CHOS): $NAMES_HINT" "$out"
out=$(env B1="$big" B2="$big" B3="$big" B4="$big" B5="$big" B6="$big" B7="$big" B8="$big" \
    "${AS[@]}" "$BIN/chos-run" -o b -- sh -c 'echo ${#B1} ${#B8} $CHOS' 2>&1); rc=$?
assert_eq "1 MiB of environment: exit ($out)" 0 "$rc"
assert_eq "1 MiB of environment: the child has it all" "$((127 * 1024)) $((127 * 1024)) b" "$out"
lt_assert_clean "bad \$CHOS values"

# ============================================================== class B: loader variables
it_say "--- class B: loader variables"

# The control: the marker library works, as the user, in a dynamic host program.
"${AS[@]}" LD_PRELOAD="$EVIL" /bin/true
assert_ne "control: LD_PRELOAD marks as the user" "" "$(ls "$MARK" | grep "^ctor\\.$IT_USER_UID\\.")"
rm -f "$MARK"/*

# gconv: a module directory naming the library for every charset the launcher could use.
GCONV=$IT_BASE/gconv
mkdir -p "$GCONV"
cp "$EVIL" "$GCONV/EVIL.so"
printf 'alias\tUTF-8//\tEVIL//\nalias\tANSI_X3.4-1968//\tEVIL//\nmodule\tEVIL//\tINTERNAL\tEVIL\t1\nmodule\tINTERNAL\tEVIL//\tEVIL\t1\n' \
    > "$GCONV/gconv-modules"
chmod -R a+rX "$GCONV"
# PATH=.: a directory of the user's full of programs named like what a privileged
# helper could run; each marks with its euid. It is the working directory (on the
# shared /home, so it also exists inside the trees).
DOT=/home/chosit/dot
mkdir -p "$DOT"
for p in true sh bash cat id getent nscd unix_chkpwd modprobe mount umount ldconfig iconv locale; do
    printf '#!/bin/sh\n: > %s/path-%s.$(/bin/busybox id -u).$$\nexit 0\n' "$MARK" "$p" > "$DOT/$p"
    chmod 0755 "$DOT/$p"
done
chown -R "$IT_USER_UID:$IT_USER_UID" "$DOT"
BASHENV=/home/chosit/bashenv
printf ': > %s/bashenv.$(/bin/busybox id -u).$$\n' "$MARK" > "$BASHENV"
chown "$IT_USER_UID:$IT_USER_UID" "$BASHENV"
tunables="glibc.malloc.mxfast=glibc.malloc.mxfast=$(head -c 4000 /dev/zero | tr '\0' A)"

attack() { # LABEL ENV=VALUE...: the launch still works, nothing ran as root
    local label=$1 out rc env
    shift
    for env in a h; do
        out=$(cd "$DOT" && "${AS[@]}" "$@" "$BIN/chos-run" -o $env -- /bin/sh -c 'echo ran $CHOS' 2>&1); rc=$?
        assert_eq "$label (-o $env): exit status ($out)" 0 "$rc"
        assert_eq "$label (-o $env): output" "ran $env" "$out"
    done
    no_root_markers "$label"
}
attack LD_PRELOAD LD_PRELOAD="$EVIL"
attack LD_AUDIT LD_AUDIT="$EVIL"
attack GCONV_PATH GCONV_PATH="$GCONV" CHARSET=EVIL LANG=C.UTF-8 LC_ALL=C.UTF-8
attack GLIBC_TUNABLES GLIBC_TUNABLES="$tunables"
attack BASH_ENV BASH_ENV="$BASHENV" ENV="$BASHENV"
attack PATH=. PATH=.
attack everything LD_PRELOAD="$EVIL" LD_AUDIT="$EVIL" GCONV_PATH="$GCONV" CHARSET=EVIL \
    LD_LIBRARY_PATH="$GCONV" GLIBC_TUNABLES="$tunables" BASH_ENV="$BASHENV" PATH=.

# What the child sees (chos.yaml(5): without keep, every variable is passed on). The
# C library's secure-execution mode (ld.so(8)) strips the loader's variables from a
# setuid program's environment before main: they cannot reach the child.
out=$("${AS[@]}" LD_PRELOAD="$EVIL" LD_AUDIT="$EVIL" GCONV_PATH="$GCONV" BASH_ENV="$BASHENV" \
    "$BIN/chos-run" -o a -- env 2>&1)
assert_eq "the child: LD_PRELOAD, LD_AUDIT, GCONV_PATH stripped by secure mode" "" \
    "$(grep -E '^(LD_PRELOAD|LD_AUDIT|GCONV_PATH)=' <<< "$out")"
assert_eq "the child: BASH_ENV passed on" "BASH_ENV=$BASHENV" "$(grep '^BASH_ENV=' <<< "$out")"
# PATH=. reaches the child as the user asked, plus the launcher's directory; the
# launcher's own PATH search (as the user, inside the environment, cwd kept) then
# finds the user's ./id.
out=$(cd "$DOT" && "${AS[@]}" PATH=. "$BIN/chos-run" -o a -- /bin/sh -c 'echo $PATH' 2>&1)
assert_eq "PATH=. in the child" ".:/.chos/bin" "$out"
rm -f "$MARK"/*
out=$(cd "$DOT" && "${AS[@]}" PATH=. "$BIN/chos-run" -o a -- id 2>&1); rc=$?
assert_eq "PATH=. -- id: exit ($out)" 0 "$rc"
assert_eq "PATH=.: ./id ran as the user" "path-id.$IT_USER_UID" \
    "$(ls "$MARK" | sed 's/\.[0-9]*$//' | sort -u | tr '\n' ' ' | sed 's/ $//')"
no_root_markers "PATH=."
lt_assert_clean "loader variables"

# ============================================================== class A: ptrace window
it_say "--- class A: ptrace window"

# From the moment of the exec until the launcher is gone, the user tries to attach
# (PTRACE_SEIZE and PTRACE_ATTACH, alternately, in a loop): always refused until the
# launcher has exec'd the user's own command (comm "sleep"); never attached while
# the process is the launcher or has a root id or a capability.
out=$("${AS[@]}" "$ATTACK" ptrace-race 40 chos-run "$BIN/chos-run" -o a -- sleep 0.05 2>&1); rc=$?
it_say "ptrace-race: $out"
assert_eq "ptrace-race: exit" 0 "$rc"
assert_match "ptrace-race: never attached to the launcher, every launch succeeded" \
    "^refused [0-9]+ late [0-9]+ bad 0 exits 0$" "$out"
read -r _ refused _ late _ <<< "$out"
assert_ge "ptrace-race: attempts refused during setup" 40 "$refused"
assert_ge "ptrace-race: the prober can attach (to the user's command)" 20 "$late"
lt_assert_clean "ptrace window"

# ============================================================== class D: code from the tree
it_say "--- class D: code from the tree"

# The control: the tree's code does run when a process of the tree loads it -- as the user.
rm -f "$MARK"/*
out=$(chos_run -o evil -- /bin/getpw 2>&1); rc=$?
assert_eq "control: a dynamic program of the evil tree runs ($out)" 0 "$rc"
assert_eq "control: ld.so.preload and libnss_evil ran, as the user" "ctor.$IT_USER_UID nss.$IT_USER_UID" \
    "$(ls "$MARK" | sed 's/\.[0-9]*$//' | sort -u | tr '\n' ' ' | sed 's/ $//')"
rm -f "$MARK"/*
# The launcher started inside the evil environment (the host's setuid binary bound at
# /.chos/bin): its NSS and config come from the host's view only.
out=$(chos_run -o evil -- chos-run -o a -- cat /etc/os-release 2>&1); rc=$?
assert_eq "from evil into a: exit ($out)" 0 "$rc"
assert_eq "from evil into a" "NAME=a" "$(grep '^NAME=' <<< "$out")"
out=$(chos_run -o evil -- chos-run -o evil -- id -u 2>&1); rc=$?
assert_eq "from evil into evil ($out)" "0 $IT_USER_UID" "$rc $out"
out=$(chos_run -o evil -- chos --list 2>&1); rc=$?
assert_eq "chos --list from evil: exit ($out)" 0 "$rc"
assert_match "chos --list from evil: current marked" "^\\* evil " "$(grep ' evil ' <<< "$out")"
out=$(chos_run -o evil -- chos-run -o nope -- true 2>&1); rc=$?
assert_eq "refusal from evil: exit" 125 "$rc"
assert_eq "refusal from evil: message" "chos: unknown environment: 'nope' (from -o) (see 'chos --list')" "$out"
out=$(chos_run -o evil -- env CHOS=h chos /bin/true 2>&1); rc=$?
assert_eq "from evil to the host: exit ($out)" 0 "$rc"
assert_eq "class D: no tree code ran at all during the launches" "" "$(ls "$MARK")"
no_root_markers "class D"
lt_assert_clean "class D"

# ============================================================== class I: ~/.chos
it_say "--- class I: ~/.chos"

# Read with the user's rights only, bounded, never a hang, never content in output;
# when it cannot be used it is ignored with a note and the default (a) applies.
H=/home/chosit
uf_case() { # LABEL EXPECTED-NAME EXPECTED-STDERR
    local label=$1 name=$2 note=$3 t0 t1 out err rc
    t0=$(date +%s%N)
    out=$(timeout 20 "${AS[@]}" "$BIN/chos-run" -- cat /etc/os-release 2>"$IT_BASE/logs/uf.err"); rc=$?
    t1=$(date +%s%N)
    err=$(cat "$IT_BASE/logs/uf.err")
    assert_eq "~/.chos $label: exit ($err)" 0 "$rc"
    assert_le "~/.chos $label: milliseconds" 3000 $(((t1 - t0) / 1000000))
    assert_eq "~/.chos $label: environment" "NAME=$name" "$(grep '^NAME=' <<< "$out")"
    assert_eq "~/.chos $label: stderr" "$note" "$err"
    assert_no_match "~/.chos $label: no shadow content" "root:|SECRET" "$out$err"
}
clear_uf() { rm -rf "$H/.chos"; }
SECRET_FILE=$IT_BASE/secret
echo b > "$SECRET_FILE"; echo SECRET >> "$SECRET_FILE"; chmod 0644 "$SECRET_FILE"
NOTE_OPEN="chos: ~/.chos cannot be opened by the user (or is a symlink): ignored"
NOTE_REG="chos: ~/.chos is not a regular file: ignored"

clear_uf; echo b > "$H/.chos"; chown "$IT_USER_UID:$IT_USER_UID" "$H/.chos"
uf_case "a plain file saying b" b ""
clear_uf; ln -s /etc/shadow "$H/.chos"
uf_case "symlink to /etc/shadow" a "$NOTE_OPEN"
clear_uf; ln -s "$SECRET_FILE" "$H/.chos"
uf_case "symlink to a readable file saying b" a "$NOTE_OPEN"
clear_uf; mkfifo "$H/.chos"; chown "$IT_USER_UID:$IT_USER_UID" "$H/.chos"
uf_case FIFO a "$NOTE_REG"
# A FIFO with a writer that never writes: still no hang.
sleep 30 > "$H/.chos" & IT_PIDS+=($!)
uf_case "FIFO with an idle writer" a "$NOTE_REG"
kill $! 2>/dev/null; wait $! 2>/dev/null
clear_uf; printf 'b\n' > "$H/.chos"; truncate -s 1G "$H/.chos"; chown "$IT_USER_UID:$IT_USER_UID" "$H/.chos"
uf_case "1 GiB sparse file, first line b" b ""
clear_uf; mkdir "$H/.chos"; chown "$IT_USER_UID:$IT_USER_UID" "$H/.chos"
uf_case directory a "$NOTE_REG"
clear_uf; cp "$SECRET_FILE" "$H/.chos"; chmod 0600 "$H/.chos"   # root's, in the user's home
uf_case "unreadable (root's 0600, saying b)" a "$NOTE_OPEN"
clear_uf; cp "$SECRET_FILE" "$H/.chos"; chown "$IT_USER_UID:$IT_USER_UID" "$H/.chos"; chmod 0000 "$H/.chos"
uf_case "unreadable (the user's, mode 0000)" a "$NOTE_OPEN"
# 1 GiB of zeros: its first line is not a name -- the launcher refuses (it never
# falls back: chos.yaml(5) fail_to_default is for logins and jobs), one bounded line.
clear_uf; truncate -s 1G "$H/.chos"; chown "$IT_USER_UID:$IT_USER_UID" "$H/.chos"
t0=$(date +%s%N)
out=$(timeout 20 "${AS[@]}" "$BIN/chos-run" -- true 2>&1); rc=$?
t1=$(date +%s%N)
assert_eq "~/.chos 1 GiB of zeros: exit" 125 "$rc"
assert_le "~/.chos 1 GiB of zeros: milliseconds" 3000 $(((t1 - t0) / 1000000))
assert_eq "~/.chos 1 GiB of zeros: message" \
    "chos: invalid environment name: '$(printf '\\x00%.0s' $(seq 1 64))...' (from ~/.chos): $NAMES_HINT" "$out"
clear_uf
lt_assert_clean "class I"

# ============================================================== class N: resource limits
it_say "--- class N: resource limits"

# RLIMIT_NOFILE: from no free descriptor on. Either the launch works, or one line and 125.
for n in 3 4 5 6 8 16; do
    out=$("${AS[@]}" prlimit --nofile=$n "$BIN/chos-run" -o a -- cat /etc/os-release 2>&1); rc=$?
    it_say "RLIMIT_NOFILE=$n: exit $rc: $(head -n 1 <<< "$out")"
    case $rc in
        0) assert_eq "RLIMIT_NOFILE=$n: output" "NAME=a" "$(grep '^NAME=' <<< "$out")" ;;
        125) assert_match "RLIMIT_NOFILE=$n: one line" "^chos: [^"$'\n'"]*Too many open files$" "$out" ;;
        *) it_fail "RLIMIT_NOFILE=$n: exit $rc: $out" ;;
    esac
    lt_assert_clean "RLIMIT_NOFILE=$n"
done
out=$("${AS[@]}" prlimit --nofile=3 "$BIN/chos-run" -o a -- true 2>&1); rc=$?
assert_eq "RLIMIT_NOFILE=3 (no free fd): a clean refusal ($out)" 125 "$rc"

# RLIMIT_NPROC reached (1: the user's own process already counts). The ~/.chos
# reader forks; the user's command runs; a command that forks gets the error itself.
echo b > "$H/.chos"; chown "$IT_USER_UID:$IT_USER_UID" "$H/.chos"
out=$("${AS[@]}" prlimit --nproc=1 "$BIN/chos-run" -- cat /etc/os-release 2>&1); rc=$?
it_say "RLIMIT_NPROC=1: exit $rc: $(head -n 1 <<< "$out")"
case $rc in
    0) assert_eq "RLIMIT_NPROC=1: ~/.chos still read" "NAME=b" "$(grep '^NAME=' <<< "$out")" ;;
    125) assert_match "RLIMIT_NPROC=1: one line" "^chos: [^"$'\n'"]*$" "$out" ;;
    *) it_fail "RLIMIT_NPROC=1: exit $rc: $out" ;;
esac
clear_uf
lt_assert_clean "RLIMIT_NPROC"

# ============================================================== class O: signals
it_say "--- class O: signals"

# SIGINT, SIGTERM and SIGKILL aimed inside the privileged window, at every syscall
# stop of it in turn (chos-it-attack signal-window: root traces the launcher run as
# the user, one launch per stop, as long as the launcher has a root id or a
# capability), with and without the ~/.chos reader's fork. Every signalled launch
# dies of the signal; after each, no process of the user is left and nothing is
# registered; at the end no new mount, the daemon alive with its fds back.
fds_before=$(daemon_fds "$DAEMON")
for how in "-o a" "~/.chos"; do
    args=(-o a --)
    if [ "$how" = "~/.chos" ]; then
        echo b > "$H/.chos"; chown "$IT_USER_UID:$IT_USER_UID" "$H/.chos"
        args=(--)
    fi
    for sig in INT TERM KILL; do
        out=$(cd "$H" && "$ATTACK" signal-window "$(kill -l "$sig")" "$IT_USER_UID" "$IT_USER_UID" "$REGMNT" \
            "$BIN/chos-run" "${args[@]}" true 2>"$IT_BASE/logs/signal-window.err"); rc=$?
        it_say "class O, SIG$sig, $how: $out"
        assert_eq "class O, SIG$sig, $how: exit ($(head -n 3 "$IT_BASE/logs/signal-window.err"))" 0 "$rc"
        assert_match "class O, SIG$sig, $how: every stop signalled, nothing left" \
            "^window ([0-9]+) signalled \\1 survived 0 left 0 registered 0$" "$out"
        read -r _ window _ <<< "$out"
        assert_ge "class O, SIG$sig, $how: syscall stops in the privileged window" 100 "$window"
    done
    clear_uf
done
lt_assert_clean "class O"
"$TOOL" readlink "$LINK" >/dev/null # evictions happen at the next request
fds_settled() { [ "$(daemon_fds "$DAEMON")" -le "$fds_before" ]; }
wait_for 5 fds_settled
assert_le "class O: the daemon's fds" "$fds_before" "$(daemon_fds "$DAEMON")"
it_pid_alive "$DAEMON" || it_fail "class O: chos-linkfs died"
# And the launch itself still works, untraced.
assert_eq "after class O, a launch" "NAME=a" "$(chos_run -o a -- cat /etc/os-release 2>&1 | grep '^NAME=')"

# ============================================================== class N: no /proc in the tree
it_say "--- class N: no /proc in the tree"

# A tree without /proc: the launcher inside it re-roots without /proc (pidfd), so
# switching still works; the child simply has no /proc.
chos_setup stop >/dev/null 2>&1 || it_fail "chos-setup stop"
IT_CFG_BIND=$'/dev\n{ source: '"$IT_BASE/home"', target: /home }' IT_DEFAULT=a \
    it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b" h:-
it_bind_config
it_start
lt_mounts_baseline
out=$(chos_run -o a -- cat /proc/self/status 2>&1); rc=$?
assert_ne "no /proc: the child has none" 0 "$rc"
out=$(chos_run -o a -- chos-run -o b -- cat /etc/os-release 2>&1); rc=$?
assert_eq "no /proc: a -> b exit ($out)" 0 "$rc"
assert_eq "no /proc: a -> b" "NAME=b" "$(grep '^NAME=' <<< "$out")"
assert_eq "no /proc: chos --current" "a" "$(chos_run -o a -- chos --current 2>&1)"
out=$(chos_run -o a -- chos-run -o nope -- true 2>&1); rc=$?
assert_eq "no /proc: refusal" "125 chos: unknown environment: 'nope' (from -o) (see 'chos --list')" "$rc $out"
lt_assert_clean "no /proc"

it_done
