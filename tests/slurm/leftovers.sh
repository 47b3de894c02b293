#!/usr/bin/env bash
# After the slurm suite (and, as cluster_leftovers, the slurm-cluster suite): nothing
# of it is left on the machine -- no test user, no munged/slurmctld/slurmd started
# with a config under a test base, no Slurm job cgroup (resource_control.sh), no
# cluster host name in the machine's /etc/hosts, no registry hierarchy of a node
# whose test is over.
# usage: leftovers.sh [TEST-NAME]
# checks: -
name=${1:-slurm_leftovers}
fail=0
# The test user lives in a namespace's copy of /etc: never on the machine.
if grep -q '^chosslurm:' /etc/passwd; then
    echo "LEFTOVER: the test user chosslurm in the machine's /etc/passwd"; fail=1
fi
# So do the cluster's host names (tests/cluster/lib_cluster.sh).
if grep -qwE 'chosctl|chosn[0-9]+' /etc/hosts; then
    echo "LEFTOVER: a test host name in the machine's /etc/hosts: $(grep -wE 'chosctl|chosn[0-9]+' /etc/hosts | head -n 1)"; fail=1
fi
# (one name per pgrep: procps matches nothing for a pattern over 15 characters)
slurm_pgrep() { local n; for n in "$@"; do pgrep -x "$n"; done; }
for p in $(slurm_pgrep munged slurmctld slurmd slurmstepd); do
    if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q '/tmp/chos-it\.'; then
        echo "LEFTOVER: $(tr '\0' ' ' < "/proc/$p/cmdline")"; fail=1
    fi
done
# The nodes' registries: hierarchies chosit<pid>x<n>n<node> of a test whose pid is gone.
while read -r h; do
    pid=${h#chosit}; pid=${pid%%x*}
    kill -0 "$pid" 2>/dev/null && continue
    echo "LEFTOVER: the named cgroup hierarchy name=$h"; fail=1
done < <(grep -oE 'name=chosit[0-9]+x[0-9]+n[0-9]+' /proc/self/cgroup | sed 's/^name=//')
# resource_control.sh: job cgroups of Slurm left in the v1 controllers
for d in /sys/fs/cgroup/{freezer,memory}/slurm_chosnode; do
    [ -d "$d" ] || continue
    [ -n "$(slurm_pgrep slurmd slurmstepd)" ] && continue # a Slurm is running: not ours to judge
    echo "LEFTOVER: the cgroup $d"; fail=1
done
[ $fail = 0 ] && echo "PASS $name"
exit $fail
