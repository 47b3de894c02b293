#!/usr/bin/env bash
# Slurm's commands from inside an environment: a batch script running in bullseye
# (sbatch --chos=bullseye -N2) calls the host's srun -- on PATH inside every
# environment through `host_commands` -- and its steps run in bullseye on both nodes,
# in the submit directory, as the user, in the same job; `srun --chos=trixie` from the
# same script switches those steps to trixie; squeue works from inside too, and sbatch
# submits a job from inside bullseye (to chosn3; it runs in bullseye). A
# three-node batch job in trixie whose steps reach a node without trixie (chosn3)
# fails clearly: the plugin's line in the job's error file, the job FAILED.
#
# What it checks of host_commands (chos.yaml(5), spank_chos(8)):
#  * chos.yaml accepts `host_commands: [srun, sbatch, salloc, squeue, scancel,
#    scontrol, sacct]`; inside every environment each listed name is found on the
#    job's PATH (the PATH enter() gives, which ends in /.chos/bin) and runs the host's
#    program with the host's view (its libslurm, SLURM_CONF, munge socket);
#  * the command keeps the caller's working directory, environment and job variables
#    (SLURM_JOB_ID, the allocation), so `srun` inside the batch script starts a step
#    of the same job on the job's nodes;
#  * a step started that way from a job in environment X runs in X (its CHOS=X reaches
#    the plugin on every node) unless it asks for another with --chos;
#  * the batch script itself is unchanged afterwards (still in X, CHOS=X).
# checks: P9
source "$(dirname "$0")/lib_cluster.sh"
cluster_main "$@"

# The setuid launchers in every node's tree (/.chos/bin): the switching path the host
# commands are to go through.
it_launchers
IT_CFG_EXTRA="host_commands: [srun, sbatch, salloc, squeue, scancel, scontrol, sacct]" \
    cluster_start_real chosn3:bullseye
SLURM_SUBMIT_WAIT=120
x() { sed -E 's/(^| )(11|13)\.[0-9]+( |$)/\1\2.x\3/g'; } # 11.11 -> 11.x

cat > "$WORK/steps.sh" <<'SCRIPT'
#!/bin/sh
echo "batch $(uname -n) $(cat /etc/debian_version) CHOS=$CHOS"
srun hostname | sort | sed 's/^/hostname /'
srun cat /etc/debian_version | sed 's/^/version /'
srun sh -c 'echo "step $(uname -n) $(cat /etc/debian_version) CHOS=$CHOS uid=$(id -u) job=$SLURM_JOB_ID pwd=$(pwd)"' | sort
srun --chos=trixie sh -c 'echo "switched $(uname -n) $(cat /etc/debian_version) CHOS=$CHOS"' | sort
echo "after $(cat /etc/debian_version) CHOS=$CHOS"
squeue -h -j "$SLURM_JOB_ID" -o "squeue %i %T"
inner=$(sbatch --parsable -N1 -w chosn3 -o "$PWD/inner.%j" --wrap 'echo "inner $(uname -n) $(cat /etc/debian_version) CHOS=$CHOS"')
echo "sbatch $(echo "$inner" | grep -c '^[0-9][0-9]*$')"
echo "$inner" > inner.id
SCRIPT
chown "$SLURM_TEST_USER:" "$WORK/steps.sh"

slurm_submit -N2 -w chosn1,chosn2 --chos=bullseye -o "$WORK/out.%j" -e "$WORK/err.%j" steps.sh
out=$(x < "$WORK/out.$JOB")
err=$(cat "$WORK/err.$JOB" 2>&1)
assert_eq "sbatch --chos=bullseye -N2: the batch script and its steps (stderr: $err; $(slurm_logs))" \
"batch chosn1 11.x CHOS=bullseye
hostname chosn1
hostname chosn2
version 11.x
version 11.x
step chosn1 11.x CHOS=bullseye uid=$SLURM_TEST_UID job=$JOB pwd=$WORK
step chosn2 11.x CHOS=bullseye uid=$SLURM_TEST_UID job=$JOB pwd=$WORK
switched chosn1 13.x CHOS=trixie
switched chosn2 13.x CHOS=trixie
after 11.x CHOS=bullseye
squeue $JOB RUNNING
sbatch 1" "$out"
assert_eq "sbatch --chos=bullseye -N2: nothing on stderr" "" "$err"
assert_match "sbatch --chos=bullseye -N2: completed" " JobState=COMPLETED .* ExitCode=0:0 " "$(scontrol -o show job "$JOB")"

# The job sbatch submitted from inside bullseye, without --chos: on chosn3, in bullseye
# (the submitter's $CHOS).
inner=$(cat "$WORK/inner.id")
wait_job "$inner" 60 || it_fail "the job submitted from inside ($inner) did not finish: $(squeue 2>&1)"
assert_eq "the job sbatch submitted from inside bullseye (no --chos: the submitter's CHOS)" "inner chosn3 11.x CHOS=bullseye" "$(x < "$WORK/inner.$inner")"

# Three nodes in trixie, chosn3 without it: the step fails there, clearly, and the job.
cat > "$WORK/three.sh" <<'SCRIPT'
#!/bin/sh
srun cat /etc/debian_version
SCRIPT
chown "$SLURM_TEST_USER:" "$WORK/three.sh"
t0=$SECONDS
slurm_submit -N3 --chos=trixie -o "$WORK/out.%j" -e "$WORK/err.%j" three.sh
assert_le "sbatch -N3 --chos=trixie: seconds until the job ended" 60 $((SECONDS - t0))
err=$(cat "$WORK/err.$JOB" 2>&1)
assert_match "sbatch -N3 --chos=trixie: the plugin's line from chosn3 in the error file ($err)" \
    "slurmstepd-chosn3: error: chos: unknown environment: 'trixie' \\(from --chos\\)" "$err"
assert_eq "sbatch -N3 --chos=trixie: the two other nodes' steps ran in trixie" "13.x
13.x" "$(x < "$WORK/out.$JOB")"
job=$(scontrol -o show job "$JOB")
assert_match "sbatch -N3 --chos=trixie: the job failed" " JobState=FAILED " "$job"
assert_match "sbatch -N3 --chos=trixie: its exit code" " ExitCode=[1-9][0-9]*:0 " "$job"

for n in "${CLUSTER_NODES[@]}"; do
    assert_eq "$n after the jobs" "" "$(cluster_node_leftovers "$n")"
done

cluster_done
