#!/usr/bin/env bash
# An unknown or forbidden environment: the job fails with a clear message
# in its stderr -- srun's terminal, a batch job's error file -- and never runs, in
# that environment or another. An invalid $CHOS falls back to the default when
# fail_to_default allows it, and says so; --chos never falls back. A stopped
# chos-linkfs fails the job too. slurmd's log has the audit lines.
# checks: G L
source "$(dirname "$0")/lib_slurm.sh"
slurm_main "$@"

IT_CFG_EXTRA="  secret:
    path: $IT_BASE/trees/secret
    users: [root]
fail_to_default: true"
# The node's own decision: submit_check=no (the refusal at submission: submit_check.sh).
SLURM_PLUGIN_ARGS="submit_check=no" slurm_setup bullseye:11.11 secret:12.99 -- bullseye:"$IT_BASE/trees/bullseye"
forbidden="error: chos: environment not allowed: 'secret' \\(from --chos\\): not open to this user \\(see 'chos --list'\\)"
forbidden_var="error: chos: environment not allowed: 'secret' \\(from \\\$CHOS\\): not open to this user"

# root may (an empty users list would be open to all: this one is not).
out=$(timeout 60 srun --chos=secret cat /etc/debian_version 2>&1)
assert_eq "root may use secret" "12.99" "$out"

# srun, forbidden: the message on srun's stderr, a failure, nothing ran.
out=$(as_user timeout 60 srun --chos=secret touch "$MARK" 2>&1); rc=$?
assert_ne "srun --chos=secret as the user: exit status" 0 "$rc"
assert_match "srun --chos=secret: the message ($out)" "$forbidden" "$out"
[ ! -e "$MARK" ] || it_fail "srun --chos=secret: the task ran"

# srun, unknown.
out=$(as_user timeout 60 srun --chos=nosuch touch "$MARK" 2>&1); rc=$?
assert_ne "srun --chos=nosuch: exit status" 0 "$rc"
assert_match "srun --chos=nosuch: the message ($out)" "error: chos: unknown environment: 'nosuch' \\(from --chos\\)" "$out"
[ ! -e "$MARK" ] || it_fail "srun --chos=nosuch: the task ran"

# -n 2: no task runs.
out=$(as_user timeout 60 srun -n 2 --chos=secret sh -c "touch $MARK.\$SLURM_PROCID" 2>&1); rc=$?
assert_ne "srun -n 2 --chos=secret: exit status" 0 "$rc"
[ -z "$(ls "$WORK" | grep '^ran')" ] || it_fail "srun -n 2 --chos=secret: a task ran: $(ls "$WORK")"

# sbatch, forbidden: the job fails, its error file says why, the script never ran.
printf '#!/bin/sh\ntouch %s\necho ran\n' "$MARK" > "$WORK/job.sh"
chown "$SLURM_TEST_USER:" "$WORK/job.sh"
out=$(as_user timeout 30 sbatch --parsable --chos=secret -o "$WORK/out.%j" -e "$WORK/err.%j" job.sh 2>&1) ||
    it_fail "sbatch --chos=secret was refused at submit time: $out"
JOB=${out%%;*}
wait_job "$JOB" 60 || it_fail "job $JOB did not finish"
assert_match "sbatch --chos=secret: the error file" "$forbidden" "$(cat "$WORK/err.$JOB" 2>&1)"
assert_match "sbatch --chos=secret: the job failed" "JobState=FAILED" "$(scontrol show job "$JOB" 2>&1)"
[ ! -e "$MARK" ] || it_fail "sbatch --chos=secret: the script ran"
assert_eq "sbatch --chos=secret: no output" "" "$(cat "$WORK/out.$JOB" 2>/dev/null)"

# The audit lines in slurmd's log: who, which environment, the refusal.
log=$(cat "$IT_BASE/slurm/log/slurmd.log" 2>/dev/null)
assert_match "the audit line of an entered task" "chos: user=root uid=0 env=secret job=[0-9]+ step=0 result=entered" "$log"
assert_match "the audit line of a refusal" \
    "chos: user=[^ ]+ uid=$SLURM_TEST_UID env=- job=[0-9]+ step=0 result=refused: environment not allowed: 'secret' \\(from --chos\\)" "$log"
assert_match "the audit line of a refused batch job" "chos: user=[^ ]+ uid=$SLURM_TEST_UID env=- job=[0-9]+ step=batch result=refused: " "$log"

# chos-linkfs stopped (SECURITY L): the job fails with a message, nothing runs.
kill -STOP "$DAEMON"
out=$(as_user timeout 60 srun --chos=bullseye touch "$MARK" 2>&1); rc=$?
kill -CONT "$DAEMON"
assert_ne "linkfs stopped: exit status" 0 "$rc"
assert_match "linkfs stopped: the message ($out)" "error: chos: .*chos-linkfs" "$out"
[ ! -e "$MARK" ] || it_fail "linkfs stopped: the task ran"

# $CHOS forbidden, fail_to_default: the default, and a note on stderr.
out=$(CHOS=secret as_user timeout 60 srun cat /etc/debian_version 2>&1); rc=$?
assert_eq "CHOS=secret with fail_to_default: exit status ($out)" 0 "$rc"
assert_eq "CHOS=secret with fail_to_default: the default" "11.11" "$(grep -v chos: <<< "$out")"
assert_match "CHOS=secret with fail_to_default: the note" "chos: .*'secret'.*default environment 'bullseye'" "$out"
# -n 2: the note once for the step, not once per task.
out=$(CHOS=secret as_user timeout 60 srun -n 2 cat /etc/debian_version 2>&1); rc=$?
assert_eq "CHOS=secret, srun -n 2: exit status ($out)" 0 "$rc"
assert_eq "CHOS=secret, srun -n 2: both tasks in the default" "11.11 11.11" "$(grep -v chos: <<< "$out" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "CHOS=secret, srun -n 2: the note once ($out)" 1 "$(grep -c "default environment 'bullseye'" <<< "$out")"
# The plugin argument overrides the config: fail_to_default=no fails.
slurm_stop_daemons
SLURM_PLUGIN_ARGS="submit_check=no fail_to_default=no" slurm_start
out=$(CHOS=secret as_user timeout 60 srun touch "$MARK" 2>&1); rc=$?
assert_ne "CHOS=secret, fail_to_default=no: exit status" 0 "$rc"
assert_match "CHOS=secret, fail_to_default=no: the message ($out)" "$forbidden_var" "$out"
[ ! -e "$MARK" ] || it_fail "CHOS=secret, fail_to_default=no: the task ran"

slurm_done
