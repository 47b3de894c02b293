# tests/cluster/lib_cluster.sh -- a three-node Slurm with spank_chos.so on one machine,
# for the `slurm-cluster` suite and bench/cluster. Source it instead of lib_slurm.sh:
#
#   source "$(dirname "$0")/lib_cluster.sh"
#   cluster_main "$@"
#   cluster_start_real                # or: slurm_user; trees; cluster_config NODE ...; cluster_start
#   out=$(as_user srun -N3 --chos=bullseye cat /etc/debian_version)
#   cluster_done
#
# The machine: the test runs as pid 1 of its own pid, mount, network and UTS
# namespaces (tests/integration/lib.sh with IT_UNSHARE_EXTRA="--net --uts"). Its
# network has only the loopback device: slurmctld listens on 127.0.0.1 (hostname
# chosctl, the submit host), each slurmd on its own address and port (chosn1
# 127.0.0.2:6821, chosn2 127.0.0.3:6822, chosn3 127.0.0.4:6823), nothing can be reached
# from beyond the machine, and the fixed ports cannot collide with another test's.
# slurmd and srun listen on every address of that network (no NoInAddrAny): the nodes
# share one network, so a node's connection to another leaves from the other's
# address (the kernel's choice for a local destination), and an srun of a batch
# script bound to its own node's address alone would never hear the steps' tasks.
#
# A node: a holder process (`sleep infinity`) made by `unshare --uts --mount`, so the
# node has its own hostname and mount namespace; everything of the node is started in
# them with `nsenter` (node_do): its own /etc/chos.yaml (bound over the launcher's
# fixed path), its own CHOS tree at $TREE (a tmpfs of the node's, like /chos on a real
# node), run_dir, registry (hierarchy <IT_REG>n<i>, mounted at the node's
# directory), chos-linkfs, /var/spool (slurmd's spool /var/spool/slurmd), and its
# slurmd. What the nodes share is what a cluster shares over NFS: $IT_BASE/jobs (the
# users' homes and submit directories), the trees, the Slurm configuration and logs.
#
# Everything is a process of the test's pid namespace and a mount of its namespaces:
# it dies with the test, whatever happens. The EXIT trap stops each node's CHOS inside
# the node (chos-setup stop --force) before lib.sh's cleanup; cluster_done stops them
# the normal way and asserts that no node kept a mount, a registration or a daemon.

IT_UNSHARE_EXTRA="--net --uts"
CLUSTER_LIB_DIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
source "$CLUSTER_LIB_DIR/../slurm/lib_slurm.sh"

CLUSTER_CTLD=chosctl
CLUSTER_NODES=(chosn1 chosn2 chosn3)
CLUSTER_CTLD_PORT=6817

if [ -z "${CHOS_IT_INNER:-}" ]; then
    for p in ip nsenter ss; do
        command -v "$p" >/dev/null || it_need "needs '$p' (iproute2, util-linux)"
    done
fi

cluster_index() { # NODE: 1, 2, 3
    local i
    for i in "${!CLUSTER_NODES[@]}"; do
        [ "${CLUSTER_NODES[$i]}" = "$1" ] && { echo $((i + 1)); return 0; }
    done
    it_fail "no node '$1' in the cluster"
}
cluster_addr() { echo "127.0.0.$(( $(cluster_index "$1") + 1 ))"; }
cluster_port() { echo $((6820 + $(cluster_index "$1"))); }
cluster_dir() { echo "$IT_BASE/nodes/$1"; }
cluster_reg() { echo "${IT_REG}n$(cluster_index "$1")"; }

declare -A CLUSTER_HOLDER=()

# it_main (through slurm_main), the EXIT trap, the loopback network, the submit host's
# name, and /etc/hosts (the namespace's own copy) naming every host of the cluster.
cluster_main() {
    slurm_main "$@"
    trap cluster_on_exit EXIT
    # No CHOS runs in the test's own namespace (every node has its own): lib.sh's
    # it_done has nothing to stop there.
    IT_STOPPED=1
    # The nodes' addresses on the loopback device too: 127.0.0.0/8 reaches lo anyway,
    # but glibc's getaddrinfo(AI_ADDRCONFIG), which Slurm uses, resolves nothing in a
    # network whose only address is 127.0.0.1 (it does not count that one).
    ip link set lo up || it_fail "cannot bring up the loopback device of the test's network"
    local n
    for n in "${CLUSTER_NODES[@]}"; do
        ip addr add "$(cluster_addr "$n")/8" dev lo || it_fail "cannot add $(cluster_addr "$n") to lo"
    done
    echo "$CLUSTER_CTLD" > /proc/sys/kernel/hostname || it_fail "cannot name the submit host"
    it_private_etc
    # the launcher's configuration path, in the namespace's copy of its directory: each
    # node binds its own chos.yaml there
    it_config_path
    it_private_config_dir
    [ -e "$CONFIG_PATH" ] || install -m 0644 -o 0 -g 0 /dev/null "$CONFIG_PATH"
    {
        echo "127.0.0.1 $CLUSTER_CTLD"
        for n in "${CLUSTER_NODES[@]}"; do echo "$(cluster_addr "$n") $n"; done
    } >> /etc/hosts
}

# node_do NODE CMD...: CMD in NODE's mount and UTS namespaces (its hostname, its /chos).
node_do() {
    local node=$1; shift
    [ -n "${CLUSTER_HOLDER[$node]:-}" ] || { echo "node_do: $node is not up" >&2; return 1; }
    nsenter --target "${CLUSTER_HOLDER[$node]}" --mount --uts -- "$@"
}

# cluster_config NODE ENV:PATH...: NODE's chos.yaml (lib_slurm.sh's binds: /dev, /proc,
# the jobs' directory), with the node's own run_dir and registry; the tree is at $TREE
# on every node. Knobs: those of it_config. Call before cluster_start.
cluster_config() { # NODE ENV:PATH...
    local node=$1 dir
    shift
    dir=$(cluster_dir "$node")
    mkdir -p "$dir"/{run,cgroup,var-spool/slurmd}
    chmod 0755 "$dir" "$dir/var-spool" "$dir/var-spool/slurmd"
    slurm_config_binds
    IT_CFG_FILE=$dir/chos.yaml IT_CFG_RUN_DIR=$dir/run IT_CFG_REG=$(cluster_reg "$node") \
        IT_CFG_REGMNT=$dir/cgroup it_config "$@"
}

# cluster_start_real [NODE:ENV,...]...: the usual opening -- the test user, the real
# trees bullseye and trixie, every node configured with both (a NODE:ENV,... argument
# gives that node only those), the cluster started, and WORK (a submit directory of
# the user's, in its home) made and entered.
cluster_start_real() {
    local n spec envs e specs
    slurm_user
    slurm_real_trees bullseye trixie
    for n in "${CLUSTER_NODES[@]}"; do
        envs=bullseye,trixie
        for spec in "$@"; do [ "${spec%%:*}" = "$n" ] && envs=${spec#*:}; done
        specs=()
        for e in ${envs//,/ }; do specs+=("$e:$IT_BASE/trees/$e"); done
        cluster_config "$n" "${specs[@]}"
    done
    cluster_start
    slurm_work_dir
}

# cluster_start: munged and slurmctld here, then every node (cluster_node_up), and wait
# until the three are idle. Knobs: those of slurm_conf_common.
cluster_start() {
    local S=$SLURM_DIR n
    slurm_dirs
    slurm_munge_start
    {
        slurm_conf_common "$CLUSTER_CTLD_PORT"
        cat <<EOF
SlurmctldHost=$CLUSTER_CTLD(127.0.0.1)
SlurmdSpoolDir=/var/spool/slurmd
SlurmdPidFile=$S/run/slurmd.%n.pid
SlurmdLogFile=$S/log/slurmd.%n.log
CommunicationParameters=NoCtldInAddrAny
EOF
        for n in "${CLUSTER_NODES[@]}"; do
            echo "NodeName=$n NodeHostname=$n NodeAddr=$(cluster_addr "$n") Port=$(cluster_port "$n") CPUs=2 State=UNKNOWN"
        done
        echo "PartitionName=chos Nodes=$(IFS=,; echo "${CLUSTER_NODES[*]}") Default=YES MaxTime=INFINITE State=UP LLN=YES"
    } > "$SLURM_CONF"
    slurm_ctld_start
    for n in "${CLUSTER_NODES[@]}"; do cluster_node_up "$n"; done
    slurm_wait_idle "${#CLUSTER_NODES[@]}" 60 ||
        it_fail "the nodes are not idle: $(sinfo -h -N -o '%N %T %E' 2>&1 | tr '\n' ';'); $(slurm_logs)"
}

# cluster_node_up NODE: the node's namespaces, its hostname, /var/spool and
# /etc/chos.yaml, CHOS started (chos-setup start, the link answers), its slurmd.
cluster_node_up() {
    local node=$1 dir holder out
    dir=$(cluster_dir "$node")
    [ -f "$dir/chos.yaml" ] || it_fail "no configuration for $node (cluster_config)"
    unshare --uts --mount --propagation private sleep infinity &
    holder=$!
    ns_made() { [ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] && [ "$(cat "/proc/$1/comm")" = sleep ]; }
    wait_for 10 ns_made "$holder" || it_fail "$node: no namespaces"
    CLUSTER_HOLDER[$node]=$holder
    node_do "$node" sh -c 'echo "$1" > /proc/sys/kernel/hostname' sh "$node" &&
        node_do "$node" mount --bind "$dir/var-spool" /var/spool &&
        node_do "$node" mount --bind "$dir/chos.yaml" "$CONFIG_PATH" ||
        it_fail "$node: cannot set up its hostname, /var/spool or $CONFIG_PATH"
    out=$(node_do "$node" "$CHOS_SETUP" --config "$dir/chos.yaml" "${IT_SETUP_FLAGS[@]}" start 2>&1) ||
        it_fail "$node: chos-setup start: $out"
    wait_for 10 node_do "$node" "$TOOL" readlink "$LINK" ||
        it_fail "$node: the link does not answer after chos-setup start"
    node_do "$node" cat /proc/self/mountinfo | awk '{ print $5 }' > "$dir/mounts.started"
    out=$(node_do "$node" "$SLURM_SBIN/slurmd" -f "$SLURM_CONF" 2>&1) ||
        it_fail "$node: slurmd did not start: $out $(tail -n 3 "$SLURM_DIR/log/slurmd.$node.log" 2>/dev/null)"
}

# The pids of NODE's mount namespace (its slurmd, slurmstepds, jobs, chos-linkfs).
cluster_node_pids() {
    local node=$1 ns d
    ns=$(readlink "/proc/${CLUSTER_HOLDER[$node]}/ns/mnt") || return 0
    for d in /proc/[0-9]*; do
        [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${d#/proc/}"
    done
    return 0
}

# cluster_node_leftovers NODE: what a job left on NODE, one line each (nothing: empty):
# a process registered in an environment, a process of the test user, a mount the
# node did not have when CHOS had just started, a slurmstepd.
cluster_node_leftovers() {
    local node=$1 dir p comm
    dir=$(cluster_dir "$node")
    node_do "$node" sh -c 'for f in "$1"/*/cgroup.procs; do [ -f "$f" ] && sed "s|^|registered in ${f#$1/}: |" "$f"; done' \
        sh "$dir/cgroup" | sed 's|/cgroup.procs||'
    for p in $(cluster_node_pids "$node"); do
        comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        [ "$comm" = slurmstepd ] && echo "process $p: slurmstepd"
        [ "$(stat -c %u "/proc/$p" 2>/dev/null)" = "${SLURM_TEST_UID:-none}" ] && echo "process $p of the user: $comm"
    done
    node_do "$node" cat /proc/self/mountinfo | awk '{ print $5 }' | grep -vxF -f "$dir/mounts.started" |
        sed 's/^/mount /'
    return 0
}

slurm_logs() { # (lib_slurm.sh's, for three nodes) the last lines of each slurmd's log
    local n
    for n in "${CLUSTER_NODES[@]}"; do
        echo "--- $n:"; tail -n 5 "$SLURM_DIR/log/slurmd.$n.log" 2>/dev/null
    done
}

# cluster_nodes_stop [--force]: every node's CHOS stopped inside the node (the daemons
# first), its holder ended. Without --force, a failed stop or a mount, daemon or
# registration it left fails the test.
cluster_nodes_stop() {
    local force=${1:-} n dir out left p
    slurm_stop_daemons
    for n in "${CLUSTER_NODES[@]}"; do
        [ -n "${CLUSTER_HOLDER[$n]:-}" ] || continue
        dir=$(cluster_dir "$n")
        if [ -n "$force" ]; then
            timeout -s KILL 60 nsenter --target "${CLUSTER_HOLDER[$n]}" --mount --uts -- \
                "$CHOS_SETUP" --config "$dir/chos.yaml" "${IT_SETUP_FLAGS[@]}" stop --force \
                >>"$IT_BASE/logs/cleanup.log" 2>&1
            node_do "$n" sh -c 'find "$1" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null' sh "$dir/cgroup"
        else
            out=$(node_do "$n" "$CHOS_SETUP" --config "$dir/chos.yaml" "${IT_SETUP_FLAGS[@]}" stop 2>&1) ||
                it_fail "$n: chos-setup stop: $out"
            left=$(node_do "$n" cat /proc/self/mountinfo | awk -v t="$TREE" -v c="$dir/cgroup" \
                '$5 == t || index($5, t "/") == 1 || $5 == c { print $5 }')
            [ -z "$left" ] || it_fail "$n: chos-setup stop left mounts: $(echo $left)"
            p=$(cat "$dir/run/linkfs.pid" 2>/dev/null)
            if [ -n "$p" ]; then
                wait_for 5 eval "! it_pid_alive $p" || it_fail "$n: chos-setup stop left chos-linkfs (pid $p)"
            fi
        fi
        kill -KILL "${CLUSTER_HOLDER[$n]}" 2>/dev/null
        wait "${CLUSTER_HOLDER[$n]}" 2>/dev/null
        unset "CLUSTER_HOLDER[$n]"
    done
    return 0
}

cluster_on_exit() {
    local rc=$?
    cluster_nodes_stop --force
    (exit $rc)
    it_on_exit
}

# The success path: every node stopped the normal way and checked, then lib.sh's
# it_done (no daemon in the pid namespace, no hierarchy of any node left alive).
cluster_done() {
    cluster_nodes_stop
    local left
    left=$(for p in $(it_ns_pids); do cat "/proc/$p/comm" 2>/dev/null; done |
           grep -Ex 'slurmstepd|slurmd|slurmctld|munged' | head -n 1)
    [ -z "$left" ] || it_fail "a Slurm daemon outlived the cluster: $left"
    it_done
}
