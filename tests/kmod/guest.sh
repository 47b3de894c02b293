#!/bin/busybox sh
# The kmod suite inside the qemu guest: /init of the initramfs that run.sh builds.
# One "PASS name" or "FAIL name: what was seen" line per check, then
# "SUMMARY passed=N failed=M", then power off. Kernel command line
# "chos.bench=1" also runs W2 and W7 (docs/benchmarks.md) and prints "BENCH" lines.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/local/bin:/usr/local/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o mode=1777 tmp /tmp
mkdir -p /run && mount -t tmpfs -o mode=0755 run /run
echo 1 > /proc/sys/kernel/printk 2>/dev/null

P=/probe/chos-kmod-probe
T=/chos/.chos/os
USER_ID=1000
passed=0
failed=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
# check NAME CMD...: the command succeeds (its output is the failure detail).
check() {
    name=$1; shift
    if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(echo "$out" | tr '\n' ' ' | cut -c1-400)"; fi
}
# check_out NAME EXPECTED CMD...: the command succeeds and prints EXPECTED somewhere.
check_out() {
    name=$1; want=$2; shift 2
    out=$("$@" 2>&1); rc=$?
    case $out in
        *"$want"*) [ $rc = 0 ] && { pass "$name"; return; } ;;
    esac
    fail "$name" "rc=$rc, output: $(echo "$out" | tr '\n' ' ' | cut -c1-400)"
}
# check_fails NAME CODE TEXT CMD...: the command exits CODE and says TEXT.
check_fails() {
    name=$1; code=$2; want=$3; shift 3
    out=$("$@" 2>&1); rc=$?
    case $out in
        *"$want"*) [ $rc = "$code" ] && { pass "$name"; return; } ;;
    esac
    fail "$name" "rc=$rc (expected $code), output: $(echo "$out" | tr '\n' ' ' | cut -c1-400)"
}
tasks() { cat /proc/chos/tasks; }
no_oops() {
    if dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection'; then return 1; fi
    return 0
}

echo "GUEST kernel $(uname -r)"

# ---- load, set up
check "module loads" insmod /chos.ko
check "proc mount point /proc/chos exists" test -d /proc/chos
check "chos-setup start (backend kmod)" chos-setup start
VERSION=$(cat /etc/chos-version)  # meson.build's, written by run.sh
check_out "version" "$VERSION" cat /proc/chos/version
check_out "valid lists the unregistered answer first" "/chos/local" head -n 1 /proc/chos/valid
check_out "the tree's .chos/fs is the module's filesystem" "$VERSION" cat /chos/.chos/fs/version
check "OS links have chos-linkfs's shape" test "$(readlink /chos/usr)" = .chos/fs/link/usr
check "the module knows the tree" test "$(cat /proc/chos/tree)" = /chos
check_out "chos-setup status: no daemon, healthy" "kernel module" chos-setup status
base=$(tasks)
check "no task has a link yet" test "$base" = 0

# ---- P1 per-process
check_out "P1 unregistered reads the host" "ID=guest" cat /chos/etc/os-release
check_out "P1 a's link shows a's tree" "ID=a" $P setlink $T/a /bin/cat /chos/etc/os-release
check_out "P1 b's link shows b's tree (in the chroot)" "ID=b" $P setlink $T/b /bin/chroot /chos /bin/cat /etc/os-release
check_out "P1 two processes, two environments at once" "ok two links" $P p1 $T/a $T/b 2000

# ---- the answer depends on the reader's view: the host's (long target) or the
# tree's, chrooted into it (short target, no walk back through "chos -> /").
# Exact link text, and both resolve to the same tree.
in_tree() { /bin/chroot /chos /bin/sh -c "$1"; }
check_out "view: host reader, a's link is the long target, a's tree" "ID=a" \
    $P setlink $T/a /bin/sh -c "$P readlink-is $T/a && cat /chos/etc/os-release"
check_out "view: chrooted reader, a's link is /.chos/os/a, a's tree" "ID=a" \
    $P setlink $T/a /bin/chroot /chos /bin/sh -c 'test "$(readlink /proc/chos/link)" = /.chos/os/a && cat /etc/os-release'
check_out "view: unregistered host reader gets /chos/local, the guest" "ID=guest" \
    /bin/sh -c "$P readlink-is /chos/local && cat /chos/etc/os-release"
check_out "view: unregistered chrooted reader gets /local, the guest" "ID=guest" \
    in_tree 'test "$(readlink /proc/chos/link)" = /local && cat /etc/os-release'
check_out "view: a child chrooted by a host reader answers in its own view" "ID=b" \
    $P setlink $T/b /bin/sh -c "$P readlink-is $T/b && /bin/chroot /chos /bin/sh -c 'test \"\$(readlink /proc/chos/link)\" = /.chos/os/b && cat /etc/os-release'"
printf '\n' > /proc/chos/tree
check_out "view: tree forgotten, a chrooted reader gets the long target, still a's tree" "ID=a" \
    $P setlink $T/a /bin/chroot /chos /bin/sh -c "test \"\$(readlink /proc/chos/link)\" = $T/a && cat /etc/os-release"
echo /chos > /proc/chos/tree
check "view: tree recorded again" test "$(cat /proc/chos/tree)" = /chos
check "view: non-root cannot write the tree" $P runas $USER_ID /bin/sh -c '! echo /tmp 2>/dev/null > /proc/chos/tree'
check "view: relative, \"/\", missing, non-directory or non-root-of-a-filesystem tree refused" /bin/sh -c \
    '! printf chos > /proc/chos/tree && ! printf / > /proc/chos/tree && ! printf /nope > /proc/chos/tree && ! printf /init > /proc/chos/tree && ! printf /chos/.chos > /proc/chos/tree'
check "view: the tree is unchanged by refused writes" test "$(cat /proc/chos/tree)" = /chos

# ---- P2 inherited (fork, exec, thread, setsid, double fork to init)
check_out "P2 fork exec thread setsid orphan" "ok orphan reparented to init" $P setlink $T/a $P inherit $T/a
out=$($P setlink $T/a $P inherit $T/a 2>&1)
case $out in *WRONG*) fail "P2 every case" "$(echo "$out" | tr '\n' ' ')" ;; *) pass "P2 every case" ;; esac
check_out "P2 setuid drop keeps the link" "ok" $P setlink $T/b $P runas $USER_ID /bin/sh -c "$P readlink-is $T/b && echo ok"

# ---- P3 unforgeable
check "P3 non-root setlink gets EPERM" $P runas $USER_ID $P expect-setlink EPERM $T/a
check "P3 setlink fd opened by root, written after the drop: EPERM" $P fdpass $USER_ID $T/a
check "P3 non-root cannot write valid" $P runas $USER_ID $P expect-valid EACCES /tmp/x
check_out "P3 non-root cannot mount the chos filesystem" "ok" \
    $P runas $USER_ID /bin/sh -c "mkdir -p /tmp/m && ! mount -t chos chos /tmp/m 2>/dev/null && echo ok"
if $P runas $USER_ID /bin/unshare -Ur /bin/true 2>/dev/null; then
    check "P3 root of a user namespace gets EPERM" $P runas $USER_ID /bin/unshare -Ur $P expect-setlink EPERM $T/a
else
    check_out "P3 root of a user namespace gets EPERM (user namespaces disabled)" "" true
fi

# ---- P8 fail closed
check_out "P8 pid namespace: own link" "ok pid 1" $P setlink $T/b $P pidns $T/b
check_out "P8 pid reuse: no stale link" "ok reused" $P reuse $T/a /chos/local

# ---- class M (docs/threat-model.md)
check "M relative target: EINVAL" $P expect-setlink EINVAL @relative
check "M oversized target: ENAMETOOLONG" $P expect-setlink ENAMETOOLONG @big
check "M embedded NUL: EINVAL" $P expect-setlink EINVAL @nul
check "M empty write: EINVAL" $P expect-setlink EINVAL @empty
check "M target not in valid: ENOENT" $P expect-setlink ENOENT $T/nope
check "M prefix of a valid target: ENOENT" $P expect-setlink ENOENT $T/a/
before=$(cat /proc/chos/valid)
check "M valid unterminated: EINVAL" $P expect-valid EINVAL @unterminated
check "M valid relative: EINVAL" $P expect-valid EINVAL @relative
check "M valid oversized: E2BIG" $P expect-valid E2BIG @big
check "M valid unchanged by refused writes" test "$before" = "$(cat /proc/chos/valid)"
check_fails "M rmmod refused while mounted" 1 "" rmmod chos
check "M module still loaded" test -e /proc/chos/version

# ---- the launcher end to end, as an unprivileged user
run_user() { $P runas $USER_ID "$@"; }
check_out "launcher --version says kmod" "backend: kmod" run_user /usr/local/bin/chos-run --version
check_out "launcher chos-run -o a" "ID=a" run_user /usr/local/bin/chos-run -o a -- /bin/cat /etc/os-release
check_out "launcher CHOS=b chos CMD" "ID=b" env CHOS=b $P runas $USER_ID /usr/local/bin/chos /bin/cat /etc/os-release
check_out "launcher host environment" "ID=guest" run_user /usr/local/bin/chos-run -o host -- /bin/cat /etc/os-release
check "launcher child's link is a's (in the tree: /.chos/os/a)" \
    run_user /usr/local/bin/chos-run -o a -- /bin/sh -c 'test "$(readlink /proc/chos/link)" = /.chos/os/a'
check_out "launcher P9 a -> b from inside" "ID=b" \
    run_user /usr/local/bin/chos-run -o a -- /chos/.chos/bin/chos-run -o b -- /bin/cat /etc/os-release
check_out "launcher P9 a -> host from inside" "ID=guest" \
    run_user /usr/local/bin/chos-run -o a -- /chos/.chos/bin/chos-run -o host -- /bin/cat /etc/os-release
printf '/chos/local\n%s/host\n%s/a\n' $T $T > /proc/chos/valid
check_fails "launcher refused setlink is an error (exit 125)" 125 "refused" \
    run_user /usr/local/bin/chos-run -o b -- /bin/cat /etc/os-release
check "chos-setup reload restores valid" chos-setup reload
check_out "launcher works again after reload" "ID=b" run_user /usr/local/bin/chos-run -o b -- /bin/cat /etc/os-release

# ---- no leaks, no oops
sleep 1
check "P5 no task keeps a link after its exit" test "$(tasks)" = "$base"
check "no WARN/Oops in the kernel log" no_oops

# ---- benchmarks (W2, W7), only when asked
if grep -q 'chos.bench=1' /proc/cmdline; then
    median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
    # Controls (diagnostic): the kmod tree's path shapes built of plain static
    # symlinks, no module: the same components, symlinks and mount crossings
    # (a tmpfs standing in for the /proc bind, another for /proc/chos, a bind of
    # the environment), so kmod minus control is the module's own cost.
    #   old: usr -> .chos/fs/link/usr, .chos/fs/link -> /proc/chos/link,
    #        /proc/chos/link -> /<tree>/.chos/os/a, <tree> -> /   (13 components, 4 symlinks)
    #   new: usr -> .chos/fs/link/usr, .chos/fs (a mount) /link -> /.chos/os/a
    #        (10 components, 2 symlinks, 2 mount crossings)
    #   direct: usr -> /.chos/os/a/usr: the OS directory itself the only link, the
    #        shortest a per-process link of this tree could be (7 components, 1
    #        symlink, 1 mount crossing)
    control() { # DIR SHAPE
        mkdir -p "$1" && mount -t tmpfs ctl "$1"
        mkdir -p "$1/.chos/fs" "$1/.chos/os/a" "$1/proc"
        mount --bind /srv/a "$1/.chos/os/a"
        if [ "$2" = direct ]; then
            for d in bin etc sbin usr; do ln -s "/.chos/os/a/$d" "$1/$d"; done
            return
        fi
        for d in bin etc sbin usr; do ln -s ".chos/fs/link/$d" "$1/$d"; done
        if [ "$2" = old ]; then
            mount -t tmpfs ctlproc "$1/proc" && mkdir "$1/proc/chos" && mount -t tmpfs ctlchos "$1/proc/chos"
            ln -s /proc/chos/link "$1/.chos/fs/link"
            ln -s / "$1/$(basename "$1")"
            ln -s "$1/.chos/os/a" "$1/proc/chos/link"
        else
            mount -t tmpfs ctlfs "$1/.chos/fs"
            ln -s /.chos/os/a "$1/.chos/fs/link"
        fi
    }
    control /ctlo old
    control /ctln new
    control /ctld direct
    # And the module's link reached directly, through the tree's .chos/fs mount or
    # through procfs (/proc/chos/link): the same module, procfs' crossing apart.
    : > /tmp/w2n; : > /tmp/w2k; : > /tmp/w2o; : > /tmp/w2c; : > /tmp/w2d; : > /tmp/w2f; : > /tmp/w2p
    for i in 1 2 3 4 5 6 7 8 9 10 11; do
        chroot /srv/a /bin/stat_loop /usr/bin/env 100000 >> /tmp/w2n
        $P setlink $T/a /bin/chroot /chos /bin/stat_loop /usr/bin/env 100000 >> /tmp/w2k
        chroot /ctln /bin/stat_loop /usr/bin/env 100000 >> /tmp/w2c
        chroot /ctlo /bin/stat_loop /usr/bin/env 100000 >> /tmp/w2o
        chroot /ctld /bin/stat_loop /usr/bin/env 100000 >> /tmp/w2d
        $P setlink $T/a /bin/chroot /chos /bin/stat_loop /.chos/fs/link/usr/bin/env 100000 >> /tmp/w2f
        $P setlink $T/a /bin/chroot /chos /bin/stat_loop /proc/chos/link/usr/bin/env 100000 >> /tmp/w2p
    done
    n=$(median < /tmp/w2n); k=$(median < /tmp/w2k); c=$(median < /tmp/w2c); o=$(median < /tmp/w2o); d=$(median < /tmp/w2d)
    f=$(median < /tmp/w2f); p=$(median < /tmp/w2p)
    echo "BENCH W2 native_ns=$n kmod_ns=$k ratio=$(ratio "$k" "$n") runs=11 stats=100000"
    echo "BENCH W2 control static symlinks, kmod's shape: ns=$c ratio=$(ratio "$c" "$n") (kmod/control=$(ratio "$k" "$c"))"
    echo "BENCH W2 control static symlinks, previous shape: ns=$o ratio=$(ratio "$o" "$n")"
    echo "BENCH W2 control static symlinks, direct shape (usr -> /.chos/os/a/usr): ns=$d ratio=$(ratio "$d" "$n")"
    echo "BENCH W2 diag kmod /.chos/fs/link/usr/bin/env: ns=$f; /proc/chos/link/usr/bin/env: ns=$p"
    echo "BENCH W2 raw native=$(tr '\n' ' ' < /tmp/w2n)"
    echo "BENCH W2 raw kmod=$(tr '\n' ' ' < /tmp/w2k)"
    echo "BENCH W2 raw control=$(tr '\n' ' ' < /tmp/w2c)"
    echo "BENCH W2 raw control_old=$(tr '\n' ' ' < /tmp/w2o)"
    echo "BENCH W2 raw control_direct=$(tr '\n' ' ' < /tmp/w2d)"
    echo "BENCH W2 raw diag_fs=$(tr '\n' ' ' < /tmp/w2f)"
    echo "BENCH W2 raw diag_proc=$(tr '\n' ' ' < /tmp/w2p)"
    mkdir -p /tmp/storm
    for i in 1 2 3; do
        echo "BENCH W7 native $($P storm native 4000 4 /tmp/storm)"
        echo "BENCH W7 kmod $($P storm kmod 4000 4 $T/a $T/b $T/host /chos/local)"
    done
fi

# ---- unload: safe once unmounted, even with a linked task alive
$P setlink $T/a /bin/sleep 600 &
sleeper=$!
sleep 1
check "chos-setup stop --force" chos-setup stop --force
check "stop lets go of the tree" test -z "$(cat /proc/chos/tree)"
umount /proc/chos
check "rmmod once unmounted (a linked task is alive)" rmmod chos
check "the linked task survived the unload" kill -0 $sleeper
check "reload the module" insmod /chos.ko
mount -t chos chos /proc/chos
check_out "fresh module: nothing registered" "0" cat /proc/chos/tasks
umount /proc/chos
check "rmmod again" rmmod chos
kill $sleeper 2>/dev/null
check "no WARN/Oops after unload" no_oops

echo "SUMMARY passed=$passed failed=$failed"
sync
poweroff -f
