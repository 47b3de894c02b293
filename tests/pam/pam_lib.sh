# shellcheck shell=bash
# tests/pam/pam_lib.sh -- the pam suite's harness, on top of tests/integration/lib.sh.
#
# Source it after lib.sh's `it_main "$@"` (so it runs in the test's private mount and
# pid namespaces), then:
#
#   pam_namespace                 # own /dev, /run, /home and /etc
#   pam_add_user NAME             # a test user with an ssh key, home /home/NAME
#   pam_trees; pam_chos_config    # busybox trees bullseye (11.x), trixie (13.x) + config
#   it_start
#   pam_service ARGS...           # /etc/pam.d/sshd and chos-test with pam_chos ARGS
#   pam_sshd_start                # a real sshd on 127.0.0.1:$PAM_PORT
#   pam_ssh NAME CMD...           # ssh NAME@127.0.0.1 CMD (bounded by a timeout)
#
# Nothing reaches the machine: every file the suite changes (the users, the PAM
# service files, /dev/log, /run/sshd) is a mount inside the test's own mount
# namespace, which dies with the test. The test users therefore exist for sshd,
# pamtester and pam_chos inside the namespace and never in the machine's
# /etc/passwd; sshd and the syslog listener are processes of the test's pid
# namespace and die with its pid 1 whatever happens.
#
# Environment: CHOS_PAM_MODULE (the built pam_chos.so), CHOS_SSHD (default
# /usr/sbin/sshd), CHOS_PAMTESTER (default pamtester).

: "${CHOS_PAM_MODULE:=$CHOS_BUILD_DIR/src/pam/pam_chos.so}"
: "${CHOS_SSHD:=/usr/sbin/sshd}"
: "${CHOS_PAMTESTER:=$(command -v pamtester || echo /usr/bin/pamtester)}"

PAM_DIR=$IT_BASE/pam
PAM_LOG=$IT_BASE/logs/syslog.log       # what syslog(3) received (pam_syslog lines)
PAM_SSHD_LOG=$IT_BASE/logs/sshd.log
PAM_USERS=()
PAM_PORT=""

pam_require() {
    [ -r "$CHOS_PAM_MODULE" ] || it_fail "not built: $CHOS_PAM_MODULE"
    [ -x "$CHOS_SSHD" ] || it_fail "no sshd at $CHOS_SSHD (apt-get install openssh-server; tools/install-deps)"
    local p
    for p in ssh ssh-keygen python3 ss; do
        command -v "$p" >/dev/null || it_fail "needs '$p' (tools/install-deps)"
    done
}

# The namespace's own /dev (device nodes on a tmpfs, a new devpts instance, /dev/log
# a listener of ours), /run (sshd's privilege separation directory), /home and /etc
# (lib.sh's it_private_home and it_private_etc: the test's users, PAM service files
# and configuration exist only there).
# pam_launchers: the setuid chos and chos-run of the build in $BIN (the test's tmpfs),
# bound into the tree by chos-setup (--launchers).
pam_launchers() {
    : "${CHOS_LAUNCHER_DIR:=$CHOS_BUILD_DIR/src/launcher}"
    BIN=$IT_BASE/bin
    mkdir -p "$BIN"
    local p
    for p in chos chos-run; do
        [ -x "$CHOS_LAUNCHER_DIR/$p" ] || it_fail "not built: $CHOS_LAUNCHER_DIR/$p"
        install -m 4755 -o 0 -g 0 "$CHOS_LAUNCHER_DIR/$p" "$BIN/$p" || it_fail "cannot install $p setuid"
    done
    IT_SETUP_FLAGS+=(--launchers "$BIN")
}

pam_namespace() {
    pam_require
    mkdir -p "$PAM_DIR"/{keys,lib} || it_fail "mkdir $PAM_DIR"
    # syslog(3) writes to /dev/log: every line pam_syslog wrote, for the class I checks.
    it_private_dev "$PAM_LOG"

    mount -t tmpfs -o mode=0755,size=16m pam-run /run || it_fail "cannot mount the test's /run"
    mkdir -m 0755 /run/sshd

    it_private_home
    it_private_etc
    it_config_path
    # The module as an admin would install it: a root-owned copy.
    install -m 0644 -o 0 -g 0 "$CHOS_PAM_MODULE" "$PAM_DIR/lib/pam_chos.so" || it_fail "cannot copy the module"
    PAM_MODULE=$PAM_DIR/lib/pam_chos.so
}

# pam_add_user NAME: lib.sh's it_user (first free uid from 61000), with an
# authorized ed25519 key in $PAM_DIR/keys/NAME.
pam_add_user() { # NAME
    local name=$1 id=61000
    while getent passwd "$id" >/dev/null || getent group "$id" >/dev/null; do id=$((id + 1)); done
    it_user "$name" "$id"
    mkdir -p "/home/$name/.ssh"
    ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$PAM_DIR/keys/$name" || it_fail "ssh-keygen for $name"
    cp "$PAM_DIR/keys/$name.pub" "/home/$name/.ssh/authorized_keys"
    chmod 0700 "/home/$name/.ssh"; chmod 0600 "/home/$name/.ssh/authorized_keys"
    chown -R "$id:$id" "/home/$name/.ssh"
    PAM_USERS+=("$name")
}

# Trees: bullseye (Debian 11 look-alike) and trixie (13), busybox with an
# /etc/debian_version each; the host (h, path /) says the machine's own version.
PAM_BULLSEYE_VERSION=11.11
PAM_TRIXIE_VERSION=13.1
pam_trees() {
    make_tree "$IT_BASE/trees/bullseye" bullseye
    make_tree "$IT_BASE/trees/trixie" trixie
    echo "$PAM_BULLSEYE_VERSION" > "$IT_BASE/trees/bullseye/etc/debian_version"
    echo "$PAM_TRIXIE_VERSION" > "$IT_BASE/trees/trixie/etc/debian_version"
    local t
    for t in bullseye trixie; do
        ln -s busybox "$IT_BASE/trees/$t/bin/pwd"
        ln -s busybox "$IT_BASE/trees/$t/bin/whoami"
        # as openssh-client makes it: chos-setup lays its sshrc over it
        mkdir -m 0755 "$IT_BASE/trees/$t/etc/ssh"
    done
}

# The config (default bullseye) bound over the build's CHOS_CONFIG_PATH, like the
# launcher tests: the path is fixed at build time.
pam_chos_config() {
    IT_DEFAULT=${IT_DEFAULT:-bullseye}
    IT_CFG_BIND="/dev
/dev/pts
/proc
{ source: $IT_BASE/home, target: /home }"
    IT_DEFAULT=$IT_DEFAULT it_config bullseye:"$IT_BASE/trees/bullseye" trixie:"$IT_BASE/trees/trixie" h:- \
        || it_fail "it_config"
    it_bind_config
}

# pam_service ARGS...: the sshd and chos-test services, pam_chos named by its path.
# pam_permit stands in for the site's auth/account stacks (keys authenticate).
pam_service() {
    local f
    printf '# written by tests/pam/pam_lib.sh for %s\nauth required pam_deny.so\naccount required pam_deny.so\npassword required pam_deny.so\nsession required pam_deny.so\n' \
        "$IT_NAME" > /etc/pam.d/other
    for f in sshd chos-test; do
        {
            echo "# written by tests/pam/pam_lib.sh for $IT_NAME"
            echo "auth     required pam_permit.so"
            echo "account  required pam_permit.so"
            echo "password required pam_deny.so"
            echo "session  required pam_permit.so"
            echo "session  required $PAM_MODULE $*"
        } > "/etc/pam.d/$f.tmp"
        mv "/etc/pam.d/$f.tmp" "/etc/pam.d/$f"
    done
}

# A real sshd on a spare port of 127.0.0.1, own host key and config, logs to a file.
pam_sshd_start() {
    local ssh=$PAM_DIR/ssh try port
    mkdir -p "$ssh" && chmod 0700 "$ssh"
    ssh-keygen -q -t ed25519 -N '' -f "$ssh/host_ed25519" || it_fail "ssh-keygen (host key)"
    cat > "$ssh/sshd_config" <<EOF
# written by tests/pam/pam_lib.sh for $IT_NAME
HostKey $ssh/host_ed25519
PidFile $ssh/sshd.pid
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile .ssh/authorized_keys
PermitRootLogin ${PAM_ROOT_LOGIN:-no}
StrictModes yes
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding no
AcceptEnv none
LogLevel DEBUG1
EOF
    for try in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        [ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] && continue
        "$CHOS_SSHD" -D -p "$port" -o ListenAddress=127.0.0.1 -f "$ssh/sshd_config" -E "$PAM_SSHD_LOG" &
        PAM_SSHD_PID=$!
        IT_PIDS+=("$PAM_SSHD_PID")
        if wait_for 10 pam_listening "$port"; then
            PAM_PORT=$port
            return 0
        fi
        kill "$PAM_SSHD_PID" 2>/dev/null
    done
    it_fail "sshd did not start: $(tail -n 5 "$PAM_SSHD_LOG" 2>/dev/null)"
}

pam_listening() { # PORT: our sshd is alive and listens
    it_pid_alive "$PAM_SSHD_PID" && [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# pam_ssh [-tt] NAME CMD...: ssh NAME@127.0.0.1, stdout+stderr; $? is ssh's status.
pam_ssh() {
    local tty=()
    [ "$1" = -tt ] && { tty=(-tt); shift; }
    local name=$1; shift
    HOME=$PAM_DIR timeout -s KILL "${PAM_SSH_TIMEOUT:-30}" \
        ssh -F /dev/null "${tty[@]}" -i "$PAM_DIR/keys/$name" -o IdentitiesOnly=yes -o BatchMode=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -o ConnectTimeout=10 -p "$PAM_PORT" "$name@127.0.0.1" "$@"
}

# Write ~/.chos of NAME as that user.
pam_user_file() { # NAME TEXT
    rm -rf "/home/$1/.chos"
    printf '%s\n' "$2" > "/home/$1/.chos"
    chown "$1:" "/home/$1/.chos"
}
