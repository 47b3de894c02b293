# tests/slurm/lib_slurm.sh -- a real single-node Slurm with spank_chos.so, for the
# `slurm` suite. Source it instead of ../integration/lib.sh, then:
#
#   source "$(dirname "$0")/lib_slurm.sh"
#   slurm_main "$@"
#   slurm_setup bullseye:11.11 -- bullseye:"$IT_BASE/trees/bullseye"
#   out=$(srun --chos=bullseye cat /etc/debian_version)
#   slurm_done
#
# (slurm_setup is the usual opening; its pieces -- slurm_user, slurm_tree or
# slurm_real_trees, slurm_config, it_start, slurm_start, slurm_work_dir -- serve a test
# that opens otherwise.)
#
# Everything runs inside the integration harness's private mount and pid namespaces
# (tests/integration/lib.sh): munged, slurmctld and slurmd are processes of the
# test's pid namespace (they die with it, whatever happens), their config, keys,
# state, spool and logs live on the test's tmpfs, and /etc/chos.yaml is the test's
# own (bound over the configured path inside the namespace only). Ports are picked
# free at random. The unprivileged submitter is lib.sh's it_user, in the namespace's
# own /etc only: the machine's user database never sees it.
#
# Environment (meson sets it): those of lib.sh, and CHOS_SPANK (the plugin under test).

SLURM_LIB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
source "$SLURM_LIB_DIR/../integration/lib.sh"
: "${CHOS_SPANK:=$CHOS_BUILD_DIR/src/spank/spank_chos.so}"
export CHOS_SPANK

SLURM_SBIN=/usr/sbin

if [ -z "${CHOS_IT_INNER:-}" ]; then
    # The outer half: what the inner half needs (as root, missing is a failure).
    for p in munged mungekey slurmctld slurmd; do
        command -v "$p" >/dev/null || [ -x "$SLURM_SBIN/$p" ] ||
            it_need "needs '$p' (munge, slurmctld, slurmd)"
    done
    for p in srun sbatch squeue scontrol sinfo salloc ss; do
        command -v "$p" >/dev/null || it_need "needs '$p' (slurm-client, iproute2)"
    done
    [ -f "$CHOS_SPANK" ] || { echo "FAIL $IT_NAME: not built: $CHOS_SPANK"; exit 1; }
fi

# A TCP port nobody listens on (the machine is shared: never a fixed one).
slurm_free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 30000))
        [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ] && { echo "$p"; return 0; }
    done
    return 1
}

# slurm_tree DIR NAME DEBIAN_VERSION: make_tree plus what a job needs: the applets
# under /usr/bin too (srun resolves `cat` to the submit host's /usr/bin/cat) and
# /etc/debian_version.
slurm_tree() { # DIR NAME VERSION
    local dir=$1 a
    make_tree "$dir" "$2"
    for a in sh cat ls echo sleep id env true grep pwd readlink; do
        [ -e "$dir/usr/bin/$a" ] || ln -s ../../bin/busybox "$dir/usr/bin/$a"
    done
    ln -sf busybox "$dir/bin/pwd"
    echo "$3" > "$dir/etc/debian_version"
    chmod 0644 "$dir/etc/debian_version"
}

# slurm_real_trees SUITE...: tools/mktree's real Debian trees (made with mmdebstrap the
# first time, then extracted from the cache /var/cache/chos-test, as the e2e suite does)
# at $IT_BASE/trees/SUITE, on their own tmpfs: two real trees do not fit the harness's
# 1 GiB. A tree that cannot be made fails the test. Sets IT_CFG_OS_DIRS to the
# top-level directories of such a tree, for it_config.
slurm_real_trees() {
    local s
    IT_CFG_OS_DIRS="[bin, etc, lib, lib32, lib64, libx32, sbin, usr, var, opt]"
    mkdir -p "$IT_BASE/trees"
    mount -t tmpfs -o mode=0755,size=3g chos-slurm-trees "$IT_BASE/trees" || it_fail "cannot mount the trees' tmpfs"
    IT_OWN_MOUNTS+=("$IT_BASE/trees")
    for s in "$@"; do
        "$CHOS_SOURCE_DIR/tools/mktree" --quiet "$s" "$IT_BASE/trees/$s" || it_fail "tools/mktree $s"
    done
}

# The unprivileged submitter (lib.sh's it_user: this namespace's /etc only), its home
# under $IT_BASE/jobs (bound into the tree at the same path). Call before slurm_tree
# (make_tree copies /etc/passwd) and before it_start (shared_files binds /etc/passwd).
# The name is known before (a config written ahead of slurm_user may name the user).
SLURM_TEST_USER=chosslurm
slurm_user() {
    SLURM_TEST_HOME=$IT_BASE/jobs/$SLURM_TEST_USER
    mkdir -p "$IT_BASE/jobs"
    chmod 0755 "$IT_BASE/jobs"
    it_user "$SLURM_TEST_USER" "" "$SLURM_TEST_HOME"
    SLURM_TEST_UID=$IT_USER_UID
}

# slurm_work_dir: WORK, the test user's submit directory ($SLURM_TEST_HOME/work, made
# by the user, so the user's), entered; MARK, a file in it that only a job which must
# not run would create. Call after slurm_user.
slurm_work_dir() {
    WORK=$SLURM_TEST_HOME/work
    MARK=$WORK/ran
    as_user mkdir -p "$WORK" || it_fail "mkdir $WORK as the user"
    cd "$WORK" || it_fail "cd $WORK"
}

# slurm_setup TREE... -- ENV:PATH...: the usual opening of a slurm test. It makes
#  - the test user (slurm_user);
#  - every TREE under $IT_BASE/trees: NAME:VERSION a busybox tree whose
#    /etc/debian_version is VERSION (slurm_tree), NAME alone tools/mktree's real
#    Debian tree of that suite (slurm_real_trees);
#  - the config of the environments ENV:PATH... (slurm_config: the knobs of it_config,
#    IT_CFG_EXTRA, IT_DEFAULT ..., and SLURM_CFG_BIND_EXTRA apply);
#  - CHOS started (it_start), then Slurm (slurm_start: its knobs, SLURM_PLUGIN_ARGS ...);
#  - the submit directory WORK, entered, and MARK (slurm_work_dir).
slurm_setup() {
    local t real=() fake=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        case $1 in
        *:*) fake+=("$1") ;;
        *) real+=("$1") ;;
        esac
        shift
    done
    [ "${1:-}" = -- ] || it_fail "slurm_setup: no '--' before the environments"
    shift
    slurm_user
    [ ${#real[@]} -eq 0 ] || slurm_real_trees "${real[@]}"
    for t in "${fake[@]}"; do
        slurm_tree "$IT_BASE/trees/${t%%:*}" "${t%%:*}" "${t#*:}"
    done
    slurm_config "$@"
    it_start
    slurm_start
    slurm_work_dir
}

# The daemons go first (their jobs may hold files on the trees), then lib.sh's cleanup.
slurm_on_exit() {
    local rc=$?
    slurm_stop_daemons
    (exit $rc)
    it_on_exit
}

# it_main, then this suite's EXIT trap around lib.sh's.
slurm_main() {
    it_main "$@"
    trap slurm_on_exit EXIT
}

# slurm_config ENV:PATH...: it_config with the binds a job needs -- /dev, /proc, and
# $IT_BASE/jobs at the same path (the submit directory and output files of the
# jobs), SLURM_CFG_BIND_EXTRA more -- and the config bound over the path the plugin
# reads (CHOS_CONFIG_PATH, fixed at build time).
slurm_config() {
    slurm_config_binds
    it_config "$@"
    it_bind_config
}

# The binds of slurm_config (IT_CFG_BIND), for it_config.
slurm_config_binds() {
    it_config_path
    mkdir -p "$IT_BASE/jobs"
    chmod 0755 "$IT_BASE/jobs"
    IT_CFG_BIND="/dev
/proc
{ source: $IT_BASE/jobs, target: $IT_BASE/jobs }${SLURM_CFG_BIND_EXTRA:+
$SLURM_CFG_BIND_EXTRA}"
}

# The pieces every test Slurm shares (this single node, tests/cluster/lib_cluster.sh's
# three): slurm_dirs, slurm_munge_start, slurm_conf_common, slurm_ctld_start.
# Everything lives under $IT_BASE/slurm ($SLURM_DIR): munge/ (key, socket), state/,
# log/, run/ (pid files: slurm_pids reads them), plugstack.conf, slurm.conf.
SLURM_DIR=${IT_BASE:-}/slurm

slurm_dirs() {
    local S=$SLURM_DIR
    mkdir -p "$S"/{munge,state,spool,log,run}
    chmod 0755 "$S" "$S/munge"
    chmod 0700 "$S"/{state,spool}
    SLURM_CONF=$S/slurm.conf
    export SLURM_CONF
}

# munged with its own key and socket (SLURM_MUNGE_SOCKET); the key only readable by
# root (munged's user).
slurm_munge_start() {
    local S=$SLURM_DIR
    mungekey --create --keyfile="$S/munge/munge.key" >/dev/null 2>&1 ||
        dd if=/dev/urandom of="$S/munge/munge.key" bs=1024 count=1 status=none
    chmod 0400 "$S/munge/munge.key"
    SLURM_MUNGE_SOCKET=$S/munge/munge.socket
    "$SLURM_SBIN/munged" --force --key-file="$S/munge/munge.key" --socket="$SLURM_MUNGE_SOCKET" \
        --pid-file="$S/run/munged.pid" --log-file="$S/log/munged.log" --seed-file="$S/munge/seed" \
        >"$S/log/munged.out" 2>&1 || it_fail "munged did not start: $(cat "$S/log/munged.out" "$S/log/munged.log" 2>/dev/null | tail -3)"
    wait_for 10 test -S "$SLURM_MUNGE_SOCKET" || it_fail "munged made no socket"
}

# slurm_conf_common CTLD_PORT: write plugstack.conf (the plugin under test;
# SLURM_PLUGSTACK, when set, is its whole content instead) and cgroup.conf
# (SLURM_CGROUP_CONF), and print the slurm.conf lines that do not depend on the nodes.
# Knobs: SLURM_PROCTRACK (default proctrack/linuxproc), SLURM_TASK_PLUGIN (task/none),
# SLURM_PLUGIN_ARGS (appended to the plugstack line), SLURM_SELECT_PARAMS (CR_CPU),
# SLURM_CONF_EXTRA (raw lines for slurm.conf).
slurm_conf_common() { # CTLD_PORT
    local S=$SLURM_DIR
    printf '%s\n' "${SLURM_PLUGSTACK-required $CHOS_SPANK ${SLURM_PLUGIN_ARGS:-}}" > "$S/plugstack.conf"
    chmod 0644 "$S/plugstack.conf"
    if [ -n "${SLURM_CGROUP_CONF:-}" ]; then
        printf '%s\n' "$SLURM_CGROUP_CONF" > "$S/cgroup.conf"
        chmod 0644 "$S/cgroup.conf"
    fi
    cat <<EOF
# written by tests/slurm/lib_slurm.sh for $IT_NAME
ClusterName=chostest
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$1
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SLURM_MUNGE_SOCKET
StateSaveLocation=$S/state
SlurmctldPidFile=$S/run/slurmctld.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$S/plugstack.conf
ProctrackType=${SLURM_PROCTRACK:-proctrack/linuxproc}
TaskPlugin=${SLURM_TASK_PLUGIN:-task/none}
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=${SLURM_SELECT_PARAMS:-CR_CPU}
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
InactiveLimit=0
KillWait=2
MailProg=/bin/true
${SLURM_CONF_EXTRA:-}
EOF
}

slurm_ctld_start() {
    local S=$SLURM_DIR
    chmod 0644 "$SLURM_CONF"
    "$SLURM_SBIN/slurmctld" -i -f "$SLURM_CONF" >"$S/log/slurmctld.out" 2>&1 ||
        it_fail "slurmctld did not start: $(tail -3 "$S/log/slurmctld.log" "$S/log/slurmctld.out" 2>/dev/null)"
}

# slurm_wait_idle N SECONDS: until N nodes are idle (1 on timeout).
slurm_idle_nodes() { sinfo -h -N -o '%N %T' 2>/dev/null | awk '$2 == "idle" { print $1 }' | sort -u | wc -l; }
slurm_wait_idle() {
    local deadline=$((SECONDS + $2))
    until [ "$(slurm_idle_nodes)" -ge "$1" ]; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

# Start munged, slurmctld and slurmd (one node, chosnode, on this machine's hostname
# and 127.0.0.1) and wait until the node is idle. Knobs: those of slurm_conf_common,
# SLURM_NODE_EXTRA ("RealMemory=N " ...).
slurm_start() {
    local S=$SLURM_DIR host node=chosnode ctld_port slurmd_port
    host=$(hostname -s)
    slurm_dirs
    slurm_munge_start
    ctld_port=$(slurm_free_port) && slurmd_port=$(slurm_free_port) || it_fail "no free port"
    [ "$ctld_port" != "$slurmd_port" ] || slurmd_port=$((slurmd_port + 1))
    {
        slurm_conf_common "$ctld_port"
        cat <<EOF
SlurmctldHost=$host(127.0.0.1)
SlurmdPort=$slurmd_port
SlurmdSpoolDir=$S/spool
SlurmdPidFile=$S/run/slurmd.pid
SlurmdLogFile=$S/log/slurmd.log
NodeName=$node NodeHostname=$host NodeAddr=127.0.0.1 CPUs=2 ${SLURM_NODE_EXTRA:-}State=UNKNOWN
PartitionName=chos Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
    } > "$SLURM_CONF"
    slurm_ctld_start
    "$SLURM_SBIN/slurmd" -N "$node" -f "$SLURM_CONF" >"$S/log/slurmd.out" 2>&1 ||
        it_fail "slurmd did not start: $(tail -3 "$S/log/slurmd.log" "$S/log/slurmd.out" 2>/dev/null)"
    slurm_wait_idle 1 30 ||
        it_fail "the node is not idle: $(sinfo -h -N -o '%T %E' 2>&1); $(tail -3 "$S/log/slurmd.log" 2>/dev/null)"
}

slurm_pids() { # the daemons' pids, from their pid files: every slurmd, slurmctld, munged
    local f
    for f in "$SLURM_DIR"/run/slurmd*.pid "$SLURM_DIR"/run/{slurmctld,munged}.pid; do
        [ -f "$f" ] && cat "$f"
    done
}

# Stop the daemons (slurmd first; slurmstepd's of running jobs go with the namespace).
slurm_stop_daemons() {
    local p i
    for p in $(slurm_pids); do
        kill -TERM "$p" 2>/dev/null
        for i in $(seq 1 100); do it_pid_alive "$p" || break; sleep 0.05; done
        kill -KILL "$p" 2>/dev/null
    done
    # every slurmstepd or job left in our pid namespace
    for p in $(it_ns_pids chos-linkfs); do
        case "$(cat "/proc/$p/comm" 2>/dev/null)" in
        slurmstepd|slurmd|slurmctld|munged) kill -KILL "$p" 2>/dev/null ;;
        esac
    done
    return 0
}

# The success path: daemons stopped, then lib.sh's it_done (CHOS stopped the normal
# way, nothing left). Spool, state, config and the user go with the namespace.
slurm_done() {
    slurm_stop_daemons
    local left
    left=$(for p in $(it_ns_pids chos-linkfs); do cat "/proc/$p/comm" 2>/dev/null; done |
           grep -Ex 'slurmstepd|slurmd|slurmctld|munged' | head -n 1)
    [ -z "$left" ] || it_fail "a Slurm daemon outlived slurm_stop_daemons: $left"
    it_done
}

# as_user CMD...: CMD as the test user (its own uid, gid and groups; HOME set).
as_user() {
    setpriv --reuid="$SLURM_TEST_UID" --regid="$(id -g "$SLURM_TEST_USER")" --init-groups \
        env HOME="$SLURM_TEST_HOME" USER="$SLURM_TEST_USER" LOGNAME="$SLURM_TEST_USER" "$@"
}

# wait_job JOBID [SECONDS]: until the job has left the queue.
wait_job() {
    local id=$1 deadline=$((SECONDS + ${2:-60}))
    while [ -n "$(squeue -h -j "$id" -o %i 2>/dev/null)" ]; do
        [ $SECONDS -gt $deadline ] && return 1
        sleep 0.2
    done
    return 0
}

# slurm_submit ARGS...: sbatch --parsable ARGS as the test user, then wait until the job
# has left the queue (SLURM_SUBMIT_WAIT seconds, default 60); JOB is its id.
slurm_submit() {
    local out
    out=$(as_user timeout 30 sbatch --parsable "$@" 2>&1) || it_fail "sbatch $*: $out"
    JOB=${out%%;*}
    [[ "$JOB" =~ ^[0-9]+$ ]] || it_fail "sbatch $*: no job id: $out"
    wait_job "$JOB" "${SLURM_SUBMIT_WAIT:-60}" || it_fail "job $JOB did not finish: $(squeue 2>&1); $(slurm_logs)"
}

slurm_logs() { # for failure messages
    tail -n 20 "$IT_BASE/slurm/log/slurmd.log" 2>/dev/null
}
