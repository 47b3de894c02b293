#!/usr/bin/env bash
# srun -N3 --chos=bullseye, submitted by an unprivileged user: one task on each of the
# three nodes, each in bullseye (Debian 11's files through that node's own /chos,
# registered in that node's registry), from three different hostnames. And the
# cluster is what it claims to be: every daemon listens on its own loopback address.
# checks: P1
source "$(dirname "$0")/lib_cluster.sh"
cluster_main "$@"

cluster_start_real

# Nothing beyond the machine: the test's network has the loopback device only;
# slurmctld listens on 127.0.0.1, each slurmd on its own port (on every address of
# that network: lib_cluster.sh says why).
assert_eq "the test network's devices" "lo" "$(ip -o link show | awk -F': ' '{ print $2 }')"
listen=$(ss -Htln | awk '{ print $4 }' | sort)
expected=$({ echo "127.0.0.1:$CLUSTER_CTLD_PORT"
            for n in "${CLUSTER_NODES[@]}"; do echo "0.0.0.0:$(cluster_port "$n")"; done; } | sort)
assert_eq "the listening sockets" "$expected" "$listen"

# The task prints its node's hostname, its Debian version and where it is registered
# (the hierarchies of the test's nodes in which it is not at the root).
probe='echo "$(uname -n) $(cat /etc/debian_version) $CHOS $(grep -o "name='$IT_REG'n[0-9]*:/..*" /proc/self/cgroup)"'
out=$(as_user timeout 60 srun -N3 --chos=bullseye sh -c "$probe" 2>&1); rc=$?
assert_eq "srun -N3 --chos=bullseye: exit status ($out; $(slurm_logs))" 0 "$rc"
expected=$(for n in "${CLUSTER_NODES[@]}"; do echo "$n 11.x bullseye name=$(cluster_reg "$n"):/bullseye"; done)
assert_eq "srun -N3 --chos=bullseye: each node's task in bullseye, registered on its node" \
    "$expected" "$(sed -E 's/ 11\.[0-9]+ / 11.x /' <<< "$out" | sort)"

# The command of the issue, as is: three lines of 11.x, from three hostnames.
out=$(as_user timeout 60 srun -N3 --chos=bullseye cat /etc/debian_version 2>&1); rc=$?
assert_eq "srun -N3 --chos=bullseye cat /etc/debian_version: exit status ($out)" 0 "$rc"
assert_match "srun -N3 --chos=bullseye cat /etc/debian_version" "^11\\.[0-9]+"$'\n'"11\\.[0-9]+"$'\n'"11\\.[0-9]+$" "$out"
out=$(as_user timeout 60 srun -N3 -l --chos=bullseye uname -n 2>&1 | sort)
assert_eq "srun -N3 -l uname -n: three hostnames" "0: chosn1
1: chosn2
2: chosn3" "$out"

# Nothing of the jobs is left on any node.
for n in "${CLUSTER_NODES[@]}"; do
    left=$(cluster_node_leftovers "$n")
    assert_eq "$n after the jobs" "" "$left"
done

cluster_done
