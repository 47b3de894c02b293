#!/usr/bin/env bash
# An environment that two of the three nodes define (trixie: not in chosn3's
# chos.yaml): a job that asks for it fails clearly on chosn3 -- the plugin's one-line
# error, naming the node, in the job's output (srun's stderr, a batch job's error
# file), a non-zero exit code for the job, and no hang -- while the nodes that define
# it run their tasks in it. Nothing is left behind on any node.
# checks: -
source "$(dirname "$0")/lib_cluster.sh"
cluster_main "$@"

cluster_start_real chosn3:bullseye
# (slurmstepd prefixes its node's hostname)
missing="slurmstepd-chosn3: error: chos: unknown environment: 'trixie' \\(from --chos\\)"

# srun -N3: two tasks in trixie, the third refused on chosn3; srun ends, non-zero.
t0=$SECONDS
out=$(as_user timeout 60 srun -N3 -l --chos=trixie sh -c 'echo "$(uname -n) $(cat /etc/debian_version)"' 2>&1); rc=$?
elapsed=$((SECONDS - t0))
echo "$out" | sed 's/^/# srun: /'
assert_ne "srun -N3 --chos=trixie: exit status ($out)" 0 "$rc"
assert_ne "srun -N3 --chos=trixie: ended by itself, not by timeout ($out)" 124 "$rc"
assert_le "srun -N3 --chos=trixie: seconds until it ended" 30 "$elapsed"
assert_match "srun -N3 --chos=trixie: the plugin's error, naming the node ($out)" "$missing" "$out"
assert_eq "srun -N3 --chos=trixie: one line from the plugin ($out)" 1 "$(grep -c 'error: chos:' <<< "$out")"
assert_match "srun -N3 --chos=trixie: the tasks on chosn1 and chosn2 ran in trixie" \
    "^0: chosn1 13\\.[0-9]+ 1: chosn2 13\\.[0-9]+$" "$(grep -E '^[0-9]: chosn' <<< "$out" | sort | tr '\n' ' ' | sed 's/ $//')"
assert_no_match "srun -N3 --chos=trixie: nothing ran on chosn3" "chosn3 [0-9]" "$out"

# sbatch on chosn3: the job fails, its error file has the plugin's line, its exit code
# is not 0, the script never ran.
printf '#!/bin/sh\necho ran\n' > "$WORK/job.sh"
chown "$SLURM_TEST_USER:" "$WORK/job.sh"
slurm_submit -w chosn3 --chos=trixie -o "$WORK/out.%j" -e "$WORK/err.%j" job.sh
err=$(cat "$WORK/err.$JOB" 2>&1)
echo "$err" | sed 's/^/# error file: /'
assert_match "sbatch on chosn3: the error file starts with the plugin's line ($err)" "^$missing" "$(head -n 1 <<< "$err")"
assert_eq "sbatch on chosn3: one line from the plugin ($err)" 1 "$(grep -c 'error: chos:' <<< "$err")"
job=$(scontrol -o show job "$JOB" 2>&1)
assert_match "sbatch on chosn3: the job failed" " JobState=FAILED " "$job"
assert_match "sbatch on chosn3: its exit code" " ExitCode=[1-9][0-9]*:0 " "$job"
assert_eq "sbatch on chosn3: the script never ran" "" "$(cat "$WORK/out.$JOB" 2>/dev/null)"

# The same job on chosn2 runs in trixie.
printf '#!/bin/sh\ncat /etc/debian_version\n' > "$WORK/job.sh"
slurm_submit -w chosn2 --chos=trixie -o "$WORK/out.%j" job.sh
assert_match "sbatch on chosn2: trixie" "^13\\.[0-9]+$" "$(cat "$WORK/out.$JOB" 2>&1)"

for n in "${CLUSTER_NODES[@]}"; do
    assert_eq "$n after the jobs" "" "$(cluster_node_leftovers "$n")"
done

cluster_done
