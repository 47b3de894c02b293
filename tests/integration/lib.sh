# tests/integration/lib.sh -- the harness of every root suite (docs/testing.md).
#
# Source it first thing from a test script, then call `it_main "$@"`:
#
#   source "$(dirname "$0")/lib.sh"
#   it_main "$@"
#   make_tree "$IT_BASE/trees/a" a; ...; it_config a:"$IT_BASE/trees/a" ...; it_start
#   assert_eq "what a user sees" expected "$(actual)"
#   it_done
#
# How a test runs:
#  * outer half (the process meson started): without root, skip (77): that is the
#    only skip; as root a missing dependency fails the test (it_need), so CI never
#    goes green on a test that did not run. Then make the test base
#    /tmp/chos-it.<pid>.XXXXXX and a unique registry name;
#    re-run the same script inside `unshare --mount --propagation private --pid --fork
#    --mount-proc` (plus IT_UNSHARE_EXTRA, e.g. "--net --uts" for the Slurm cluster:
#    its own loopback-only network and hostname); when it is over, sweep what could
#    have outlived it (the named cgroup hierarchy, the base directory) and fail the
#    test if anything was left.
#  * inner half: pid 1 of its own pid namespace, so every process it started --
#    the daemon included -- dies with it, whatever happens; its own mount namespace,
#    so every mount dies with it. The base is a tmpfs (without nosuid: the setuid
#    control of the setuid test needs it), so no file of the test, setuid or not,
#    ever reaches the machine's disks.
#  * users and configuration: it_private_etc gives the namespace its own /etc (a copy
#    on the test's tmpfs), it_user adds a user that exists only there; nothing of
#    either ever reaches the machine's /etc.
#  * an EXIT trap cleans up even after a failure halfway: test processes killed,
#    the test's own cleanup commands (IT_CLEANUP), `chos-setup stop --force`, then belt
#    and braces (daemon killed, mounts under the base unmounted, cgroups of the
#    registry removed, hierarchy unmounted until the kernel really destroyed it).
#  * it_done (the success path) stops CHOS the normal way and asserts that stop left
#    nothing behind: no mount under the base, no daemon, no hierarchy.
#  * the last line of the output is "PASS <test>" or "FAIL <test>: <what>".
#
# Environment (meson sets it; defaults suit a manual run from the source tree):
#   CHOS_SOURCE_DIR, CHOS_BUILD_DIR, CHOS_SETUP, CHOS_LINKFS, CHOS_IT_TOOL,
#   CHOS_IT_ATTACK, CHOS_IT_SUID, CHOS_GUARD
#   CHOS_IT_KEEP=1   on failure, print the daemon log and mountinfo before cleaning up
#   CHOS_IT_BACKEND  the link backend the test's chos.yaml names (`backend:`): fuse
#                    (the default) or namespace; meson defines each backend-neutral
#                    test once per backend (tests/integration/meson.build)

set -u
set -o pipefail

IT_NAME=$(basename "$0" .sh)
IT_SELF=$(readlink -f "$0")
IT_LIB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
: "${CHOS_SOURCE_DIR:=$(cd "$IT_LIB_DIR/../.." && pwd)}"
: "${CHOS_BUILD_DIR:=$CHOS_SOURCE_DIR/build}"
: "${CHOS_SETUP:=$CHOS_BUILD_DIR/src/setup/chos-setup}"
: "${CHOS_LINKFS:=$CHOS_BUILD_DIR/src/fuse-linkfs/chos-linkfs}"
: "${CHOS_IT_TOOL:=$CHOS_BUILD_DIR/tests/integration/chos-it-tool}"
: "${CHOS_IT_ATTACK:=$CHOS_BUILD_DIR/tests/integration/chos-it-attack}"
: "${CHOS_IT_SUID:=$CHOS_BUILD_DIR/tests/integration/chos-it-suid}"
: "${CHOS_GUARD:=$CHOS_BUILD_DIR/src/guard/chos-guard}"
export CHOS_SOURCE_DIR CHOS_BUILD_DIR CHOS_SETUP CHOS_LINKFS CHOS_IT_TOOL CHOS_IT_ATTACK CHOS_IT_SUID CHOS_GUARD

: "${CHOS_IT_BACKEND:=fuse}"
export CHOS_IT_BACKEND
# The daemon of the backend under test: it serves the link (fuse) or holds the
# environments' namespaces (namespace).
if [ "$CHOS_IT_BACKEND" = namespace ]; then
    IT_DAEMON_COMM=chos-nsd IT_DAEMON_PID_FILE=nsd.pid
else
    IT_DAEMON_COMM=chos-linkfs IT_DAEMON_PID_FILE=linkfs.pid
fi

# The user the unprivileged halves of the tests run as.
IT_NOBODY=65534
# setpriv prefix: run as nobody with no supplementary groups
IT_AS_NOBODY=(setpriv --reuid=$IT_NOBODY --regid=$IT_NOBODY --clear-groups)

# ----------------------------------------------------------------------- output

it_say() { printf '# %s\n' "$*"; }

it_skip() {
    echo "SKIP $IT_NAME: $*"
    exit 77
}

# it_need WHY: a dependency of the test is missing. Without root the test could not
# run anyway: skip. As root (CI) it is a failure: a suite that cannot run must not
# pass (docs/testing.md "Skips").
it_need() {
    if [ "$(id -u)" = 0 ]; then
        IT_FAIL_MSG="FAIL $IT_NAME: $* (tools/install-deps)"
        # the outer half has no EXIT trap yet: say it and go
        [ -z "${CHOS_IT_INNER:-}" ] && { echo "$IT_FAIL_MSG"; exit 1; }
        exit 1
    fi
    it_skip "$*"
}

# Fail the test: the message is printed again as the very last line, after cleanup.
it_fail() {
    IT_FAIL_MSG="FAIL $IT_NAME: $*"
    # in a subshell the EXIT trap of the test does not see the message: say it now
    [ "$BASHPID" != "$$" ] && echo "$IT_FAIL_MSG"
    exit 1
}

assert_eq() { # WHAT EXPECTED ACTUAL
    [ "$2" == "$3" ] || it_fail "$1: expected '$2', got '$3'"
}

assert_ne() { # WHAT UNEXPECTED ACTUAL
    [ "$2" != "$3" ] || it_fail "$1: expected anything but '$2'"
}

assert_match() { # WHAT EXTENDED-REGEX ACTUAL
    [[ "$3" =~ $2 ]] || it_fail "$1: expected a match of /$2/, got '$3'"
}

assert_no_match() { # WHAT EXTENDED-REGEX ACTUAL
    [[ ! "$3" =~ $2 ]] || it_fail "$1: expected no match of /$2/, got '$3'"
}

assert_le() { # WHAT LIMIT ACTUAL (integers)
    [ "$3" -le "$2" ] 2>/dev/null || it_fail "$1: expected at most $2, got '$3'"
}

assert_ge() { # WHAT LIMIT ACTUAL (integers)
    [ "$3" -ge "$2" ] 2>/dev/null || it_fail "$1: expected at least $2, got '$3'"
}

# wait_for SECONDS CMD...: poll every 50 ms until CMD succeeds; 1 on timeout.
wait_for() {
    local deadline=$((SECONDS + $1)) ; shift
    local tries=0
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ $SECONDS -ge $deadline ] && [ $tries -gt 2 ] && return 1
        tries=$((tries + 1))
        sleep 0.05
    done
}

# ---------------------------------------------------------------- outer half

it_main() {
    if [ -n "${CHOS_IT_INNER:-}" ]; then
        it_inner
        return
    fi
    it_outer "$@"
}

it_outer() {
    [ "$(id -u)" = 0 ] || it_skip "needs root (real FUSE mounts, cgroups, chroot)"
    [ -c /dev/fuse ] || it_need "needs /dev/fuse"
    local p
    for p in unshare setpriv chroot mount umount busybox timeout file; do
        command -v "$p" >/dev/null || it_need "needs '$p'"
    done
    # Missing build products are a failure, not a skip: CI must not go green.
    for p in "$CHOS_SETUP" "$CHOS_LINKFS" "$CHOS_IT_TOOL" "$CHOS_IT_ATTACK" "$CHOS_IT_SUID"; do
        [ -x "$p" ] || { echo "FAIL $IT_NAME: not built: $p"; exit 1; }
    done
    file -L "$(command -v busybox)" 2>/dev/null | grep -q 'statically linked' ||
        it_need "needs a static busybox (apt-get install busybox-static)"

    it_sweep_stale

    IT_BASE=$(mktemp -d "/tmp/chos-it.$$.XXXXXX") || { echo "FAIL $IT_NAME: mktemp"; exit 1; }
    chmod 0755 "$IT_BASE"
    # Unique per test run: parallel tests never share registrations (docs/testing.md).
    IT_REG="chosit$$x$RANDOM"
    export IT_BASE IT_REG

    local child inner rc
    # shellcheck disable=SC2086 # IT_UNSHARE_EXTRA: words, on purpose
    unshare --mount --propagation private --pid --fork --mount-proc ${IT_UNSHARE_EXTRA:-} \
        env CHOS_IT_INNER=1 bash "$IT_SELF" "$@" &
    child=$!
    # On TERM/INT (meson's timeout), let the inner half clean up: signal it, not unshare.
    trap 'kill -TERM $(pgrep -P $child) 2>/dev/null' TERM INT HUP
    rc=0
    while :; do
        wait $child; rc=$?
        kill -0 $child 2>/dev/null || break
    done
    trap - TERM INT HUP
    if ! it_sweep_base "$IT_BASE" "$IT_REG"; then
        echo "FAIL $IT_NAME: leftovers found after the test (see above)"
        [ $rc = 0 ] && rc=1
    fi
    exit $rc
}

# Destroy the named hierarchy NAME if the kernel still has it. A v1 hierarchy with
# no mount is destroyed only when it has no child cgroups -- and a child that was
# rmdir'ed a moment ago still counts while the kernel finishes removing it, so
# unmounting right after rmdir can leave the hierarchy alive. Mount, rmdir,
# unmount, look again, until it is gone. Runs in its own mount namespace.
it_kill_hierarchy() { # NAME SCRATCH_DIR
    local name=$1 dir=$2 i
    for i in $(seq 1 20); do
        grep -q "^[0-9]*:name=$name:" /proc/self/cgroup || return 0
        mkdir -p "$dir"
        unshare --mount --propagation private sh -c '
            mount -t cgroup -o none,name="$1" cgroup "$2" || exit 1
            find "$2" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
            sleep 0.3
            umount "$2"' sh "$name" "$dir" 2>/dev/null
        sleep 0.2
    done
    grep -q "^[0-9]*:name=$name:" /proc/self/cgroup && return 1
    return 0
}

# After the test's namespaces died: nothing of it may remain on the machine.
it_sweep_base() { # BASE REGNAME
    local base=$1 reg=$2 ok=0 i
    # The kernel tears the mount namespace down asynchronously; give it a moment.
    local name
    for i in $(seq 1 40); do
        [ -z "$(it_reg_names "$reg")" ] && break
        sleep 0.05
    done
    for name in $(it_reg_names "$reg"); do
        echo "LEFTOVER: the named cgroup hierarchy name=$name outlived the test"
        ok=1
        it_kill_hierarchy "$name" "$base.sweep" || echo "LEFTOVER: could not destroy name=$name"
        rmdir "$base.sweep" 2>/dev/null
    done
    if [ -d "$base" ]; then
        if [ -n "$(ls -A "$base" 2>/dev/null)" ]; then
            echo "LEFTOVER: files in $base (written outside the test's tmpfs?)"
            find "$base" -perm -4000 -exec echo "LEFTOVER setuid: {}" \; 2>/dev/null
            ok=1
            rm -rf --one-file-system "$base"
        fi
        rmdir "$base" 2>/dev/null
    fi
    if grep -q " $base" /proc/self/mountinfo; then
        echo "LEFTOVER: mounts under $base in the machine's mount namespace"
        ok=1
    fi
    return $ok
}

# A test killed with SIGKILL cannot clean up; the next run does. Only our own
# names: hierarchies "chosit<pid>x<n>" and dirs /tmp/chos-it.<pid>.* whose pid is dead.
it_sweep_stale() {
    local line name pid d
    while read -r line; do
        name=${line#*:name=}; name=${name%%:*}
        pid=${name#chosit}; pid=${pid%%x*}
        [[ "$pid" =~ ^[0-9]+$ ]] || continue
        kill -0 "$pid" 2>/dev/null && continue
        echo "# sweeping the stale hierarchy name=$name of a killed test run"
        it_kill_hierarchy "$name" "/tmp/chos-it-sweep.$$"
        rmdir "/tmp/chos-it-sweep.$$" 2>/dev/null
    done < <(grep -E ':name=chosit[0-9]+x[0-9]+(n[0-9]+)?:' /proc/self/cgroup)
    for d in /tmp/chos-it.[0-9]*.*; do
        [ -d "$d" ] || continue
        pid=${d#/tmp/chos-it.}; pid=${pid%%.*}
        kill -0 "$pid" 2>/dev/null && continue
        grep -q " $d" /proc/self/mountinfo && continue
        rm -rf --one-file-system "$d"
    done
}

# ---------------------------------------------------------------- inner half

it_inner() {
    [ $$ = 1 ] || { echo "FAIL $IT_NAME: the inner half must be pid 1 of its pid namespace"; exit 1; }
    IT_FAIL_MSG=""
    IT_PIDS=()
    IT_STOPPED=0
    trap it_on_exit EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
    mount -t tmpfs -o mode=0755,size=1g chos-it "$IT_BASE" || it_fail "cannot mount the test's tmpfs"
    TREE=$IT_BASE/chos
    RUN=$IT_BASE/run
    REGMNT=$IT_BASE/cgroup
    CFG=$IT_BASE/chos.yaml
    LINK=$TREE/.chos/fs/link
    FLUSH=$TREE/.chos/fs/flush
    mkdir -p "$IT_BASE/cache" "$IT_BASE/home" "$IT_BASE/trees" "$IT_BASE/logs"
    cp /bin/busybox "$IT_BASE/cache/busybox"
    cp "$CHOS_IT_TOOL" "$IT_BASE/cache/chos-it-tool"
    TOOL=$IT_BASE/cache/chos-it-tool
    # (copies on the test's tmpfs: whatever the build directory's modes, the test's
    # users can run them)
    cp "$CHOS_IT_ATTACK" "$IT_BASE/cache/chos-it-attack"
    ATTACK=$IT_BASE/cache/chos-it-attack
    # What the machine looked like before CHOS touched it (class C, H checks).
    it_mount_points > "$IT_BASE/logs/mounts.before"
    it_setup_flags_detect
}

# Mount points of this namespace, one per line (octal escapes of mountinfo decoded).
it_mount_points() {
    awk '{ print $5 }' /proc/self/mountinfo | while IFS= read -r m; do printf '%b\n' "$m"; done
}

# The mounts below DIR, as "mountpoint per-mount-options fstype source".
it_mounts_under() { # DIR
    awk -v d="$1" '{
        for (i = 7; $i != "-"; i++) ;
        if ($5 == d || index($5, d "/") == 1) print $5, $6, $(i+1), $(i+2)
    }' /proc/self/mountinfo
}

it_pid_alive() { # PID: alive and not a zombie
    local state
    [ -r "/proc/$1/stat" ] || return 1
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# Every live (not zombie) process of our pid namespace except ourselves (pid 1),
# the current subshell, and (optionally) processes whose comm is EXCEPT.
it_ns_pids() { # [EXCEPT-COMM...]
    local d p comm st x skip
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        [ "$p" = 1 ] && continue
        [ "$p" = "$BASHPID" ] && continue
        { read -r st < "$d/stat"; } 2>/dev/null || continue
        st=${st##*) }; st=${st%% *}
        [ "$st" = Z ] && continue
        { read -r comm < "$d/comm"; } 2>/dev/null || continue
        skip=0
        for x in "$@"; do [ "$comm" = "$x" ] && skip=1; done
        [ $skip = 1 ] && continue
        echo "$p"
    done
}

# The live daemon processes (chos-linkfs, or chos-nsd for the namespace backend) of
# our pid namespace.
it_linkfs_pids() {
    local d comm st
    for d in /proc/[0-9]*; do
        { read -r st < "$d/stat"; } 2>/dev/null || continue
        st=${st##*) }; st=${st%% *}
        [ "$st" = Z ] && continue
        { read -r comm < "$d/comm"; } 2>/dev/null || continue
        [ "$comm" = "$IT_DAEMON_COMM" ] && echo "${d#/proc/}"
    done
}

it_daemon_pid() {
    local p
    p=$(cat "$RUN/$IT_DAEMON_PID_FILE" 2>/dev/null) || return 1
    [ -n "$p" ] && it_pid_alive "$p" && echo "$p"
}

# Kill every process the test started (the daemon is left to `chos-setup stop`).
it_kill_test_processes() {
    local p pids
    for p in $(it_linkfs_pids); do kill -CONT "$p" 2>/dev/null; done
    for p in "${IT_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
    for p in "${IT_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for p in $(it_ns_pids "$IT_DAEMON_COMM" chos-guard); do kill -KILL "$p" 2>/dev/null; done
    local i
    for i in $(seq 1 100); do
        pids=$(it_ns_pids "$IT_DAEMON_COMM" chos-guard)
        [ -z "$pids" ] && break
        sleep 0.05
    done
    IT_PIDS=()
}

# Belt and braces: whatever is left of this test goes, errors ignored.
it_cleanup() {
    local p m i c
    it_kill_test_processes
    # The test's own (what it made outside CHOS: cgroup2 directories, ...), last first.
    for ((i = ${#IT_CLEANUP[@]} - 1; i >= 0; i--)); do
        eval "${IT_CLEANUP[$i]}" >>"$IT_BASE/logs/cleanup.log" 2>&1
    done
    IT_CLEANUP=()
    local cfg
    for cfg in "$CFG" "${IT_EXTRA_CFGS[@]}"; do
        if [ -f "$cfg" ] && [ -x "$CHOS_SETUP" ]; then
            timeout -s KILL 60 "$CHOS_SETUP" --config "$cfg" "${IT_SETUP_FLAGS[@]}" stop --force \
                >>"$IT_BASE/logs/cleanup.log" 2>&1
        fi
    done
    for p in $(it_ns_pids); do kill -KILL "$p" 2>/dev/null; done
    for i in $(seq 1 100); do
        [ -z "$(it_ns_pids)" ] && break
        sleep 0.05
    done
    # Cgroups of the registry, deepest first, while it is still mounted.
    it_remove_cgroups
    # Everything mounted below the base; lazily, deepest first, until none is left.
    for i in 1 2 3 4 5; do
        local mps
        mps=$(it_mount_points | awk -v d="$IT_BASE/" 'index($0, d) == 1 { print length($0), $0 }' |
              sort -rn | cut -d' ' -f2-)
        [ -z "$mps" ] && break
        while IFS= read -r m; do umount -l "$m" 2>/dev/null; done <<< "$mps"
    done
    local name
    for name in $(it_reg_names); do
        it_kill_hierarchy "$name" "$IT_BASE/sweep" >/dev/null 2>&1
    done
}

it_remove_cgroups() {
    local m
    while IFS= read -r m; do
        find "$m" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
    done < <(awk -v n="name=$IT_REG" '$0 ~ / - cgroup / && index($0, n) { print $5 }' /proc/self/mountinfo)
}

it_on_exit() {
    local rc=$?
    trap - EXIT
    if [ $rc != 0 ] && [ -n "${CHOS_IT_KEEP:-}" ]; then
        echo "--- daemon log"; cat "$IT_BASE"/logs/*.log 2>/dev/null | tail -50
        echo "--- mounts under $IT_BASE"; it_mounts_under "$IT_BASE"
    fi
    it_cleanup
    [ -n "$IT_FAIL_MSG" ] && echo "$IT_FAIL_MSG"
    [ $rc = 0 ] && [ -z "$IT_FAIL_MSG" ] && rc=1
    exit $rc
}

# The success path: stop CHOS the normal way, assert stop left nothing behind.
it_done() {
    local out rc left i
    it_kill_test_processes
    local cfg
    for cfg in "${IT_EXTRA_CFGS[@]}"; do
        out=$("$CHOS_SETUP" --config "$cfg" "${IT_SETUP_FLAGS[@]}" stop 2>&1); rc=$?
        [ $rc = 0 ] || it_fail "chos-setup --config $cfg stop exited $rc: $out"
    done
    if [ "$IT_STOPPED" = 0 ]; then
        out=$("$CHOS_SETUP" --config "$CFG" "${IT_SETUP_FLAGS[@]}" stop 2>&1); rc=$?
        [ $rc = 0 ] || it_fail "chos-setup stop exited $rc: $out"
    fi
    it_assert_nothing_left "chos-setup stop"
    it_cleanup
    trap - EXIT
    [ -z "${IT_QUIET_DONE:-}" ] && echo "PASS $IT_NAME"
    exit 0
}

# After a stop (or a refused start): no mount under the base except the base's own
# and what the test mounted itself (IT_OWN_MOUNTS), no daemon, no hierarchy.
it_assert_nothing_left() { # WHO
    local who=$1 left i p
    left=$(it_mounts_under "$IT_BASE" | awk -v b="$IT_BASE" '$1 != b' | it_filter_own_mounts)
    [ -z "$left" ] || it_fail "$who left mounts behind: $(echo "$left" | cut -d' ' -f1 | tr '\n' ' ')"
    for i in $(seq 1 60); do
        [ -z "$(it_linkfs_pids)" ] && break
        sleep 0.05
    done
    p=$(it_linkfs_pids | head -n 1)
    [ -z "$p" ] || it_fail "$who left $IT_DAEMON_COMM (pid $p) running"
    p=$(it_ns_pids | while read -r q; do [ "$(cat "/proc/$q/comm" 2>/dev/null)" = chos-guard ] && echo "$q"; done | head -n 1)
    [ -z "$p" ] || it_fail "$who left chos-guard (pid $p) running"
    [ ! -e "$RUN/guard.pid" ] || it_fail "$who left the guard's pid file $RUN/guard.pid"
    for i in $(seq 1 60); do
        [ -z "$(it_reg_names)" ] && break
        sleep 0.05
    done
    [ -z "$(it_reg_names)" ] ||
        it_fail "$who left the named cgroup hierarchy name=$(it_reg_names | head -n 1) alive (unmounted but not destroyed: a child cgroup still existed or was still being removed when it unmounted)"
    return 0
}

IT_OWN_MOUNTS=()
IT_EXTRA_CFGS=()
IT_CLEANUP=()   # shell commands the EXIT trap runs (last first), e.g. "rmdir DIR"
it_filter_own_mounts() {
    local m pattern=""
    for m in "${IT_OWN_MOUNTS[@]}"; do pattern+="${pattern:+|}^$m( |/)"; done
    if [ -n "$pattern" ]; then grep -Ev "$pattern"; else cat; fi
}

# The named hierarchies of this test still known to the kernel: $IT_REG and the
# extra ones "<IT_REG>n<digits>" (benchmarks run several CHOS instances at once).
it_reg_names() { # [REG]
    local reg=${1:-$IT_REG}
    grep -oE "^[0-9]+:name=${reg}(n[0-9]+)?:" /proc/self/cgroup | sed 's/^[0-9]*:name=//; s/:$//'
}

# ----------------------------------------------------------------- chos pieces

IT_SETUP_FLAGS=()
# chos-setup must be told where the chos-linkfs and chos-guard under test are (the
# installed ones may not exist): --linkfs PATH and --guard PATH when it has those options.
it_setup_flags_detect() {
    local help
    IT_SETUP_FLAGS=()
    help=$("$CHOS_SETUP" --help 2>&1)
    if grep -q -- '--linkfs' <<< "$help"; then
        IT_SETUP_FLAGS=(--linkfs "$CHOS_LINKFS")
    fi
    if grep -q -- '--guard' <<< "$help"; then
        IT_SETUP_FLAGS+=(--guard "$CHOS_GUARD")
    fi
}

chos_setup() { # COMMAND [ARGS...]: chos-setup with the test's config
    "$CHOS_SETUP" --config "$CFG" "${IT_SETUP_FLAGS[@]}" "$@"
}

# Start CHOS and wait until the link answers.
it_start() {
    local out rc
    out=$(chos_setup start 2>&1); rc=$?
    [ $rc = 0 ] || it_fail "chos-setup start exited $rc: $out"
    IT_STOPPED=0
    wait_for 10 test -L "$LINK" || it_fail "no link at $LINK after chos-setup start: $out"
    wait_for 10 "$TOOL" readlink "$LINK" ||
        it_fail "the link does not answer after chos-setup start: $("$TOOL" readlink "$LINK")"
    DAEMON=$(it_daemon_pid) || it_fail "no live $IT_DAEMON_COMM pid in $RUN/$IT_DAEMON_PID_FILE after start"
}

# ------------------------------------------------------------ a private /dev

# it_private_dev LOG: this namespace gets its own /dev (a tmpfs with the usual nodes, a
# new devpts instance for ptys) and /dev/log a listener of the test's that appends
# every syslog line to LOG -- the machine's /dev and syslog are never touched.
it_private_dev() { # LOG
    local log=$1 d=$IT_BASE/dev
    mkdir -p "$d" && mount -t tmpfs -o mode=0755,size=16m it-dev "$d" || it_fail "cannot mount the test's /dev"
    mknod -m 0666 "$d/null" c 1 3 && mknod -m 0666 "$d/zero" c 1 5 && mknod -m 0666 "$d/full" c 1 7 &&
        mknod -m 0666 "$d/random" c 1 8 && mknod -m 0666 "$d/urandom" c 1 9 &&
        mknod -m 0666 "$d/tty" c 5 0 && mknod -m 0600 "$d/fuse" c 10 229 || it_fail "mknod in the test's /dev"
    mkdir -m 0755 "$d/pts" && mkdir -m 1777 "$d/shm"
    ln -s pts/ptmx "$d/ptmx"; ln -s /proc/self/fd "$d/fd"
    ln -s /proc/self/fd/0 "$d/stdin"; ln -s /proc/self/fd/1 "$d/stdout"; ln -s /proc/self/fd/2 "$d/stderr"
    mount --move "$d" /dev || it_fail "cannot move the test's /dev over /dev"
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts ||
        it_fail "cannot mount a devpts instance"
    : > "$log"
    python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\n") + b"\n")
' "$log" > "$IT_BASE/logs/syslog-listener.log" 2>&1 &
    IT_PIDS+=($!)
    wait_for 10 test -S /dev/log || it_fail "the syslog listener did not start"
}

# ------------------------------------------------------------ the launcher

# it_launchers: setuid-root copies of the chos and chos-run under test in $BIN (the
# test's tmpfs allows setuid), bound into the tree by chos-setup --launchers (P9).
# Call before it_start; then it_bind_config after each it_config.
it_launchers() {
    local p
    : "${CHOS_LAUNCHER_DIR:=$CHOS_BUILD_DIR/src/launcher}"
    it_config_path
    BIN=$IT_BASE/bin
    mkdir -p "$BIN"
    for p in chos chos-run; do
        [ -x "$CHOS_LAUNCHER_DIR/$p" ] || it_fail "not built: $CHOS_LAUNCHER_DIR/$p"
        cp "$CHOS_LAUNCHER_DIR/$p" "$BIN/$p" && chown 0:0 "$BIN/$p" && chmod 4755 "$BIN/$p" ||
            it_fail "cannot install $p setuid into $BIN"
    done
    IT_SETUP_FLAGS+=(--launchers "$BIN")
}

# as_nobody CMD...: CMD as nobody, no supplementary group (IT_AS_NOBODY).
# chos_run ARGS...: it_launchers' setuid chos-run, run by nobody. (A test that runs the
# launcher as someone else defines its own chos_run after sourcing this file.)
as_nobody() { "${IT_AS_NOBODY[@]}" "$@"; }
chos_run() { as_nobody "$BIN/chos-run" "$@"; }

# it_start_launchers TREE... -- ENV:PATH...: the usual opening of a launcher test. It
# makes the setuid launchers (it_launchers), a busybox tree per TREE at
# $IT_BASE/trees/TREE (make_tree, os-release NAME=TREE), the config of the
# environments ENV:PATH... (it_config: its knobs, IT_DEFAULT ..., apply) bound where
# the launcher reads it (it_bind_config), and starts CHOS (it_start). L is the test's
# log directory. Then chos_run launches as nobody.
it_start_launchers() {
    it_launchers
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        make_tree "$IT_BASE/trees/$1" "$1"
        shift
    done
    [ "${1:-}" = -- ] || it_fail "it_start_launchers: no '--' before the environments"
    shift
    it_config "$@"
    it_bind_config
    it_start
    L=$IT_BASE/logs
}

# it_bind_config: the launcher reads the fixed CHOS_CONFIG_PATH; inside this mount
# namespace it is the test's $CFG, bound over it. The directory holding it is first
# replaced, in this namespace only, by a copy where the file exists (/etc: the
# private /etc of it_private_etc): nothing is created on the machine (a file created
# and removed there would also unmount the binds of every other test on it: unlink
# detaches mounts in all namespaces).
it_bind_config() {
    it_private_config_dir
    [ -e "$CONFIG_PATH" ] || install -m 0644 -o 0 -g 0 /dev/null "$CONFIG_PATH"
    it_unbind_config
    mount --bind "$CFG" "$CONFIG_PATH" || it_fail "cannot bind the test config over $CONFIG_PATH"
}

# it_private_config_dir: the directory of CONFIG_PATH becomes this namespace's own
# copy (for /etc: it_private_etc), so the test can write the launcher's configuration
# there. Idempotent.
it_private_config_dir() {
    local dir=${CONFIG_PATH%/*} copy=$IT_BASE/config-dir
    if [ "$dir" = /etc ]; then
        it_private_etc
    elif [ ! -d "$copy" ]; then
        mkdir -p "$copy"
        cp -a "$dir/." "$copy/" 2>/dev/null || it_fail "cannot copy $dir"
        mount --bind "$copy" "$dir" || it_fail "cannot bind a copy of $dir"
    fi
}

# The launcher's configuration path, compiled in (-Dconfig_path).
it_config_path() {
    CONFIG_PATH=$(sed -n 's/^#define CHOS_CONFIG_PATH "\(.*\)"$/\1/p' "$CHOS_BUILD_DIR/chos_build_config.hpp")
    [ -n "$CONFIG_PATH" ] || it_fail "no CHOS_CONFIG_PATH in $CHOS_BUILD_DIR/chos_build_config.hpp"
}

# ------------------------------------------------------- users and /etc of the test

# it_private_etc: from now on this namespace's /etc is a copy on the test's tmpfs,
# so users, groups, shadow, PAM files, nsswitch.conf and the launcher's configuration
# change without the machine's /etc ever seeing it. Idempotent. Call before make_tree
# (the trees copy /etc/passwd) and before it_start (shared_files binds /etc/passwd).
it_private_etc() {
    [ "${IT_PRIVATE_ETC:-0}" = 1 ] && return 0
    local copy=$IT_BASE/etc
    mkdir -p "$copy"
    cp -a /etc/. "$copy/" 2>/dev/null || it_fail "cannot copy /etc"
    mount --bind "$copy" /etc || it_fail "cannot bind the test's copy of /etc"
    IT_PRIVATE_ETC=1
}

# it_private_home: /home of this namespace is $IT_BASE/home (empty at first). Idempotent.
it_private_home() {
    [ "${IT_PRIVATE_HOME:-0}" = 1 ] && return 0
    mount --bind "$IT_BASE/home" /home || it_fail "cannot bind the test's /home"
    IT_PRIVATE_HOME=1
}

# it_user NAME [UID [HOME]]: a user (and its own group, same id) that exists only in
# this namespace's /etc (passwd, group, shadow), shell /bin/sh, home HOME (default
# /home/NAME on the private /home), owned by it. UID: the first free id from 61500.
# Sets IT_USER_UID and IT_AS_USER (a setpriv prefix: the user's ids, no supplementary
# group, HOME/USER/LOGNAME set). Call before make_tree and it_start.
it_user() { # NAME [UID [HOME]]
    local name=$1 id=${2:-} home=${3:-/home/$1}
    it_private_etc
    [ "${home#/home/}" != "$home" ] && it_private_home
    if [ -z "$id" ]; then
        id=61500
        while getent passwd "$id" >/dev/null || getent group "$id" >/dev/null; do id=$((id + 1)); done
    fi
    grep -q "^$name:" /etc/passwd && it_fail "user $name exists already"
    echo "$name:x:$id:$id:CHOS test user:$home:/bin/sh" >> /etc/passwd
    echo "$name:x:$id:" >> /etc/group
    echo "$name:*:19000:0:99999:7:::" >> /etc/shadow
    install -d -m 0755 -o "$id" -g "$id" "$home" || it_fail "cannot make the home of $name"
    IT_USER_UID=$id
    IT_AS_USER=(setpriv --reuid="$id" --regid="$id" --clear-groups env HOME="$home" USER="$name" LOGNAME="$name")
}

# Earlier binds of the config file go (also the copy under TREE/local, the rbind of /).
it_unbind_config() {
    [ -n "${CONFIG_PATH:-}" ] || return 0
    local m
    while IFS= read -r m; do umount -l "$m" 2>/dev/null; done < <(
        it_mount_points | awk -v p="$CONFIG_PATH" 'substr($0, length($0) - length(p) + 1) == p' | sort -r)
    return 0
}

# make_tree DIR NAME: a tiny environment tree from busybox-static (root-owned 0755):
# bin/{busybox, applet links, chos-it-tool}, usr/bin/env (a hard link, a regular file),
# etc/os-release saying NAME=<name> ID=<name>, the host's passwd and group.
make_tree() { # DIR NAME
    local dir=$1 name=$2 a
    mkdir -p "$dir"/{bin,etc,lib,sbin,usr/bin,tmp,proc,dev,home}
    ln "$IT_BASE/cache/busybox" "$dir/bin/busybox"
    for a in sh cat ls readlink echo sleep id stat true env test head grep mkdir rm chmod; do
        ln -s busybox "$dir/bin/$a"
    done
    ln "$IT_BASE/cache/busybox" "$dir/usr/bin/env"
    ln "$IT_BASE/cache/chos-it-tool" "$dir/bin/chos-it-tool"
    printf 'NAME=%s\nID=%s\nPRETTY_NAME="CHOS test tree %s"\n' "$name" "$name" "$name" > "$dir/etc/os-release"
    cp /etc/passwd /etc/group "$dir/etc/"
    chown -R 0:0 "$dir"
    chmod 0755 "$dir" "$dir"/{bin,etc,lib,sbin,usr,usr/bin,proc,dev,home}
    chmod 1777 "$dir/tmp"
}

# it_start_with NAME...: the common opening of a test -- one busybox tree per NAME
# under $IT_BASE/trees (os-release NAME=<name>), a config listing them, CHOS started.
it_start_with() {
    local name specs=()
    for name in "$@"; do
        make_tree "$IT_BASE/trees/$name" "$name"
        specs+=("$name:$IT_BASE/trees/$name")
    done
    it_config "${specs[@]}"
    it_start
}

# it_config ENV:PATH...: write $CFG for these environments ("-" as PATH: the host, "/").
# Knobs (set before calling): IT_DEFAULT, IT_CFG_BIND (YAML list items, one per
# line), IT_CFG_SHARED (YAML flow list), IT_CFG_EXTRA (raw YAML appended),
# IT_CFG_FILE (write there instead of $CFG), IT_CFG_RUN_DIR, IT_CFG_TREE, IT_CFG_REGMNT,
# IT_CFG_REG (registry name), IT_CFG_REGTYPE (cgroup1|cgroup2|auto), IT_CFG_LOCAL (true|false),
# IT_CFG_OS_DIRS (YAML flow list).
it_config() {
    local file=${IT_CFG_FILE:-$CFG} spec name path first=""
    {
        echo "# written by tests/integration/lib.sh for $IT_NAME"
        for spec in "$@"; do first=${spec%%:*}; break; done
        echo "default: ${IT_DEFAULT:-$first}"
        [ "$CHOS_IT_BACKEND" != fuse ] && echo "backend: $CHOS_IT_BACKEND"
        echo "tree: ${IT_CFG_TREE:-$TREE}"
        echo "run_dir: ${IT_CFG_RUN_DIR:-$RUN}"
        echo "local: ${IT_CFG_LOCAL:-true}"
        echo "registry:"
        echo "  type: ${IT_CFG_REGTYPE:-cgroup1}"
        echo "  name: ${IT_CFG_REG:-$IT_REG}"
        echo "  mount: ${IT_CFG_REGMNT:-$REGMNT}"
        echo "os_dirs: ${IT_CFG_OS_DIRS:-[bin, etc, lib, sbin, usr]}"
        echo "bind:"
        if [ -n "${IT_CFG_BIND+x}" ]; then
            [ -n "$IT_CFG_BIND" ] && printf '%s\n' "$IT_CFG_BIND" | sed 's/^/  - /'
        else
            echo "  - /dev"
            echo "  - /proc"
            echo "  - { source: $IT_BASE/home, target: /home }"
        fi
        echo "shared_files: ${IT_CFG_SHARED:-[/etc/passwd, /etc/group]}"
        [ -n "${IT_CFG_IMAGE_DIRS:-}" ] && echo "image_dirs: $IT_CFG_IMAGE_DIRS"
        echo "environments:"
        for spec in "$@"; do
            name=${spec%%:*}; path=${spec#*:}
            [ "$path" = - ] && path=/
            echo "  $name:"
            # "image=FILE": an environment from an image file (image_dirs: IT_CFG_IMAGE_DIRS)
            if [[ $path == image=* ]]; then echo "    image: ${path#image=}"; else echo "    path: $path"; fi
            echo "    description: \"test environment $name\""
        done
        [ -n "${IT_CFG_EXTRA:-}" ] && printf '%s\n' "$IT_CFG_EXTRA"
    } > "$file.tmp"
    chmod 0644 "$file.tmp"
    mv "$file.tmp" "$file"
}

# ------------------------------------------------------------------ processes

# in_env ENV CMD...: run CMD registered in ENV ("-": explicitly unregistered, the
# root cgroup). The registration is written by the very process that then execs
# CMD, so CMD's pid is the registered one.
in_env() {
    local env=$1 dir=$REGMNT; shift
    [ "$env" != - ] && dir=$REGMNT/$env
    sh -c 'echo $$ > "$0/cgroup.procs" || exit 125; exec "$@"' "$dir" "$@"
}

# in_env_bg ENV LOG CMD...: the same, in the background; its pid is tracked.
in_env_bg() {
    local env=$1 log=$2 dir=$REGMNT; shift 2
    [ "$env" != - ] && dir=$REGMNT/$env
    # sh itself is the background job ($!), registers itself and execs CMD: $! is CMD's pid
    sh -c 'echo $$ > "$0/cgroup.procs" || exit 125; exec "$@"' "$dir" "$@" > "$log" 2>&1 &
    IT_PIDS+=($!)
    IT_LAST_PID=$!
}

# probe_bg ENV LOG PERIOD-MS: in the background (in_env_bg: registered in ENV, pid in
# IT_LAST_PID), a process of nobody's chrooted into the tree that every PERIOD-MS
# reads the link and /etc/os-release and prints one numbered line of what it saw into
# LOG (chos-it-tool probe), until it is killed. probe_seq, wait_probe_advance and
# probe_lines_since read LOG.
probe_bg() { # ENV LOG PERIOD-MS
    in_env_bg "$1" "$2" chroot --userspec="$IT_NOBODY:$IT_NOBODY" --groups="$IT_NOBODY" "$TREE" \
        /bin/chos-it-tool probe /.chos/fs/link /etc/os-release "$3" 0
}

# reload_ok WHAT: chos-setup reload exits 0 while the probe in a (probe_bg a
# $IT_BASE/logs/a.probe ...) goes on undisturbed: 10 more lines within 10 s, each since
# the reload began naming a's link target and a's tree.
reload_ok() { # WHAT
    local log=$IT_BASE/logs/a.probe from out rc
    from=$(probe_seq "$log")
    out=$(chos_setup reload 2>&1); rc=$?
    assert_eq "reload ($1): exit status ($out)" 0 "$rc"
    wait_probe_advance "$log" "$from" 10 10 || it_fail "the probe in a stalled after the reload ($1)"
    assert_eq "what the process in a saw during and after the reload ($1)" "../os/a NAME=a" \
        "$(probe_lines_since "$log" "$from" | awk '{ print $2, $3 }' | sort -u)"
}

# register PID ENV: as root, write PID into ENV's cgroup.procs ("-": unregister).
register() {
    local dir=$REGMNT
    [ "$2" != - ] && dir=$REGMNT/$2
    echo "$1" > "$dir/cgroup.procs"
}

# The registration of PID as the registry records it ("/" unregistered, "/a" ...).
registration_of() {
    sed -n "s/^[0-9]*:name=$IT_REG:\(.*\)$/\1/p" "/proc/$1/cgroup" 2>/dev/null
}

# target_of ENV: what the link must answer to a process registered in ENV.
target_of() {
    if [ "$1" = - ]; then echo "../../local"; else echo "../os/$1"; fi
}

# The daemon's open fds and resident memory (kB).
daemon_fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
daemon_rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# Last probe line of a probe log, and whether a process's probe log contains only
# lines ACCEPTED by the regex (from line FROM on).
last_probe_line() { tail -n 1 "$1" 2>/dev/null; }

probe_lines_since() { # LOG FROM-SEQ
    awk -v s="$2" '$1 ~ /^[0-9]+$/ && $1 >= s' "$1"
}

probe_seq() { # LOG: the sequence number of the last line (or -1)
    local l
    l=$(tail -n 1 "$1" 2>/dev/null | awk '{ print $1 }')
    [[ "$l" =~ ^[0-9]+$ ]] && echo "$l" || echo -1
}

# wait until probe LOG has printed at least N more lines than it had at seq S
wait_probe_advance() { # LOG FROM-SEQ N TIMEOUT
    local log=$1 from=$2 n=$3 deadline=$((SECONDS + $4))
    while [ "$(probe_seq "$log")" -lt $((from + n)) ]; do
        [ $SECONDS -gt $deadline ] && return 1
        sleep 0.05
    done
}
