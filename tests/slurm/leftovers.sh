#!/usr/bin/env bash
# After the slurm suite: nothing of it is left on the machine -- no test user, no
# munged/slurmctld/slurmd/slurmstepd started with a config under a test base, no
# Slurm job cgroup (resource_control.sh).
# checks: -
fail=0
# The test user lives in a namespace's copy of /etc: never on the machine.
if grep -q '^chosslurm:' /etc/passwd; then
    echo "LEFTOVER: the test user chosslurm in the machine's /etc/passwd"; fail=1
fi
for p in $(pgrep -x 'munged|slurmctld|slurmd|slurmstepd'); do
    if tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -q '/tmp/chos-it\.'; then
        echo "LEFTOVER: $(tr '\0' ' ' < "/proc/$p/cmdline")"; fail=1
    fi
done
# resource_control.sh: job cgroups of Slurm left in the v1 controllers
for d in /sys/fs/cgroup/{freezer,memory}/slurm_chosnode; do
    [ -d "$d" ] || continue
    [ -n "$(pgrep -x 'slurmd|slurmstepd')" ] && continue # a Slurm is running: not ours to judge
    echo "LEFTOVER: the cgroup $d"; fail=1
done
[ $fail = 0 ] && echo "PASS slurm_leftovers"
exit $fail
