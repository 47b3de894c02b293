#!/usr/bin/env bash
# P4 under Slurm: with proctrack/cgroup and task/cgroup, a task that spank_chos moved
# into an environment is still in its job step's freezer cgroup (Slurm can signal and
# reap it) and under its memory cgroup's limit (--mem): the CHOS registration is a
# named v1 hierarchy without controllers, beside them.
#
# Slurm's cgroup/v1 plugin needs the controllers' real hierarchy roots, so this test
# uses /sys/fs/cgroup/{freezer,memory} of the machine, where it makes
# slurm_<node name>/ (here slurm_chosnode), and removes it on the way out. Without
# those controllers the test cannot run: as root that fails it. Another run of this
# test holding slurm_chosnode is waited for (up to 2 minutes), then it fails.
# checks: P4
source "$(dirname "$0")/lib_slurm.sh"
slurm_main "$@"

CG=/sys/fs/cgroup
# slurm_chosnode in use (a process in it): another run of this test.
p4_busy() { [ -d "$1" ] && find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | grep -q .; }
P4_DIRS=()
for c in freezer memory; do
    [ -f "$CG/$c/cgroup.procs" ] || it_need "needs the cgroup v1 '$c' controller at $CG/$c (Slurm's cgroup/v1)"
    wait_for 120 eval "! p4_busy '$CG/$c/slurm_chosnode'" ||
        it_fail "$CG/$c/slurm_chosnode stayed in use by another Slurm for 2 minutes"
    P4_DIRS+=("$CG/$c/slurm_chosnode")
done
# What Slurm made there goes on the way out (empty cgroups only: rmdir).
p4_remove_cgroups() {
    local d
    for d in "${P4_DIRS[@]}"; do
        [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    return 0
}
p4_on_exit() {
    local rc=$?
    slurm_stop_daemons
    p4_remove_cgroups
    (exit $rc)
    slurm_on_exit
}
trap p4_on_exit EXIT

SLURM_CFG_BIND_EXTRA="/sys"
SLURM_PROCTRACK=proctrack/cgroup SLURM_TASK_PLUGIN=task/cgroup \
SLURM_SELECT_PARAMS=CR_CPU_Memory SLURM_NODE_EXTRA="RealMemory=256 " \
SLURM_CGROUP_CONF="CgroupPlugin=cgroup/v1
CgroupMountpoint=$CG
CgroupAutomount=no
ConstrainCores=no
ConstrainDevices=no
ConstrainRAMSpace=yes
ConstrainSwapSpace=no" slurm_setup bullseye:11.11 -- bullseye:"$IT_BASE/trees/bullseye"

# Inside the environment (bullseye's files, registered there), the task reports its
# cgroups, whether its freezer cgroup lists it, and its job's memory limit.
probe='
echo "version $(cat /etc/debian_version)"
grep -E ":(freezer|memory|name=[^:]*):" /proc/self/cgroup | cut -d: -f2- | sed "s/^/cgroup /"
f=$(grep ":freezer:" /proc/self/cgroup | cut -d: -f3)
grep -qx "$$" "/sys/fs/cgroup/freezer$f/cgroup.procs" && echo "in-freezer yes"
m=$(grep ":memory:" /proc/self/cgroup | cut -d: -f3)
job=$(echo "$m" | grep -o ".*/job_[0-9]*")
echo "job-limit $(cat "/sys/fs/cgroup/memory$job/memory.limit_in_bytes")"
'
out=$(timeout 60 srun --chos=bullseye --mem=64M sh -c "$probe" 2>&1); rc=$?
assert_eq "srun under proctrack/cgroup: exit status ($out; $(slurm_logs))" 0 "$rc"
assert_eq "the environment's files" "version 11.11" "$(grep '^version' <<< "$out")"
assert_eq "registered in bullseye" "cgroup name=$IT_REG:/bullseye" "$(grep "^cgroup name=$IT_REG:" <<< "$out")"
assert_match "still in the step's freezer cgroup (proctrack/cgroup)" \
    "^cgroup freezer:/slurm_chosnode/uid_0/job_[0-9]+/step_0$" "$(grep '^cgroup freezer:' <<< "$out")"
assert_eq "the freezer cgroup lists the task" "in-freezer yes" "$(grep '^in-freezer' <<< "$out")"
assert_match "still in the task's memory cgroup (task/cgroup)" \
    "^cgroup memory:/slurm_chosnode/uid_0/job_[0-9]+/step_0/task_0$" "$(grep '^cgroup memory:' <<< "$out")"
assert_eq "the job's memory limit (--mem=64M) applies" "job-limit $((64 * 1024 * 1024))" \
    "$(grep '^job-limit' <<< "$out")"

slurm_stop_daemons
p4_remove_cgroups
for d in "${P4_DIRS[@]}"; do
    [ ! -d "$d" ] || it_fail "the Slurm cgroup $d is left"
done
slurm_done
