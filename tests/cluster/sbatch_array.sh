#!/usr/bin/env bash
# sbatch --array=1-6 --chos=trixie, submitted by an unprivileged user: the six batch
# scripts are spread over the three nodes (the partition places each on its least
# loaded node) and each runs in trixie on its node -- its output file, opened on the
# host and shared like an NFS home, shows Debian 13, the node's hostname, and the
# node's registry -- and each task completes with exit code 0.
# checks: P1 P2
source "$(dirname "$0")/lib_cluster.sh"
cluster_main "$@"

cluster_start_real

cat > "$WORK/task.sh" <<SCRIPT
#!/bin/sh
echo "task \$SLURM_ARRAY_TASK_ID"
echo "node \$(uname -n)"
echo "slurmd \$SLURMD_NODENAME"
echo "version \$(cat /etc/debian_version)"
echo "CHOS=\$CHOS"
echo "registered \$(grep -o "name=${IT_REG}n[0-9]*:/..*" /proc/self/cgroup)"
echo "pwd \$(pwd)"
sleep 1
SCRIPT
chown "$SLURM_TEST_USER:" "$WORK/task.sh"

SLURM_SUBMIT_WAIT=90 slurm_submit --array=1-6 --chos=trixie -o "$WORK/out.%a" -e "$WORK/err.%a" task.sh

declare -A ran_on=()
for t in 1 2 3 4 5 6; do
    out=$(cat "$WORK/out.$t" 2>&1)
    node=$(sed -n 's/^node //p' <<< "$out")
    assert_match "task $t: its node ($out; $(cat "$WORK/err.$t" 2>&1))" "^chosn[1-3]$" "$node"
    ran_on[$node]+="$t "
    assert_eq "task $t: the task id" "task $t" "$(grep '^task' <<< "$out")"
    assert_eq "task $t: the hostname is its node's" "slurmd $node" "$(grep '^slurmd' <<< "$out")"
    assert_match "task $t on $node: Debian 13 ($out)" "^version 13\\.[0-9]+$" "$(grep '^version' <<< "$out")"
    assert_eq "task $t on $node: CHOS" "CHOS=trixie" "$(grep '^CHOS=' <<< "$out")"
    assert_eq "task $t on $node: registered in trixie on its node" \
        "registered name=$(cluster_reg "$node"):/trixie" "$(grep '^registered' <<< "$out")"
    assert_eq "task $t on $node: the submit directory" "pwd $WORK" "$(grep '^pwd' <<< "$out")"
    assert_eq "task $t on $node: nothing on stderr" "" "$(cat "$WORK/err.$t" 2>&1)"
    assert_match "task $t: completed, exit code 0" "JobState=COMPLETED .*ExitCode=0:0|ExitCode=0:0.*JobState=COMPLETED" \
        "$(scontrol -o show job "${JOB}_$t" 2>&1)"
done
for n in "${CLUSTER_NODES[@]}"; do
    [ -n "${ran_on[$n]:-}" ] || it_fail "no task of the array ran on $n: $(for k in "${!ran_on[@]}"; do echo -n "$k: ${ran_on[$k]}; "; done)"
done

for n in "${CLUSTER_NODES[@]}"; do
    assert_eq "$n after the array" "" "$(cluster_node_leftovers "$n")"
done

cluster_done
