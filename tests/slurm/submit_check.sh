#!/usr/bin/env bash
# A job whose --chos names an environment the user may not use, or one this host does
# not define, is refused before it is submitted (issue 14, item 10; spank_chos(8) "At
# submission"): srun's and sbatch's first line on stderr is CHOS's, naming the fix and
# the environments the user may use; the exit status is not 0; no job reaches the
# queue, nothing runs. An allowed one runs as before; submit_check=no leaves the
# decision to the node alone (forbidden.sh).
# checks: -
source "$(dirname "$0")/lib_slurm.sh"
slurm_main "$@"

IT_CFG_EXTRA="  secret:
    path: $IT_BASE/trees/secret
    users: [root]
  hideout:
    path: $IT_BASE/trees/bullseye
    hidden: true"
slurm_setup bullseye:11.11 secret:12.99 -- bullseye:"$IT_BASE/trees/bullseye"
jobs_known() { scontrol -o show jobs 2>/dev/null | grep -c '^JobId='; }
not_allowed="srun: error: chos: environment not allowed: 'secret' (from --chos): not open to this user (see 'chos --list'); you may use: bullseye"
unknown="srun: error: chos: unknown environment: 'nosuch' (from --chos) (see 'chos --list'); you may use: bullseye"
before=$(jobs_known)

# srun, not allowed: CHOS's line first, nothing submitted, nothing ran.
out=$(as_user timeout 60 srun --chos=secret touch "$MARK" 2>&1 >/dev/null); rc=$?
echo "$out" | sed 's/^/# srun --chos=secret: /'
assert_ne "srun --chos=secret: exit status" 0 "$rc"
assert_eq "srun --chos=secret: CHOS's line first" "$not_allowed" "$(head -n 1 <<< "$out")"
[ ! -e "$MARK" ] || it_fail "srun --chos=secret: the task ran"

# srun, unknown here.
out=$(as_user timeout 60 srun --chos=nosuch touch "$MARK" 2>&1 >/dev/null); rc=$?
assert_ne "srun --chos=nosuch: exit status" 0 "$rc"
assert_eq "srun --chos=nosuch: CHOS's line first" "$unknown" "$(head -n 1 <<< "$out")"
[ ! -e "$MARK" ] || it_fail "srun --chos=nosuch: the task ran"

# sbatch: refused at submission, no job id, the same first line.
printf '#!/bin/sh\ntouch %s\n' "$MARK" > "$WORK/job.sh"
chown "$SLURM_TEST_USER:" "$WORK/job.sh"
out=$(as_user timeout 30 sbatch --chos=secret -o "$WORK/out.%j" job.sh 2>&1 >/dev/null); rc=$?
assert_ne "sbatch --chos=secret: exit status" 0 "$rc"
assert_eq "sbatch --chos=secret: CHOS's line first" "${not_allowed/#srun:/sbatch:}" "$(head -n 1 <<< "$out")"
assert_eq "no job reached the queue" "$before" "$(jobs_known)"
[ ! -e "$MARK" ] || it_fail "sbatch --chos=secret: the script ran"

# Allowed: root into secret, the user into a hidden environment (usable by name,
# though --list leaves it out) and into bullseye.
out=$(timeout 60 srun --chos=secret cat /etc/debian_version 2>&1)
assert_eq "root, srun --chos=secret" "12.99" "$out"
out=$(as_user timeout 60 srun --chos=hideout cat /etc/debian_version 2>&1)
assert_eq "the user, srun --chos=hideout (hidden, allowed)" "11.11" "$out"
out=$(as_user timeout 60 srun --chos=bullseye cat /etc/debian_version 2>&1)
assert_eq "the user, srun --chos=bullseye" "11.11" "$out"

# submit_check=no: submitted, and the node refuses (its line, prefixed by slurmstepd).
slurm_stop_daemons
SLURM_PLUGIN_ARGS="submit_check=no" slurm_start
out=$(as_user timeout 60 srun --chos=secret touch "$MARK" 2>&1 >/dev/null); rc=$?
assert_ne "submit_check=no, srun --chos=secret: exit status" 0 "$rc"
assert_match "submit_check=no: the node's refusal ($out)" \
    "error: chos: environment not allowed: 'secret' \\(from --chos\\): not open to this user \\(see 'chos --list'\\)" "$out"
assert_no_match "submit_check=no: no refusal at submission ($out)" "^srun: error: chos:" "$out"
[ ! -e "$MARK" ] || it_fail "submit_check=no: the task ran"
slurm_done
