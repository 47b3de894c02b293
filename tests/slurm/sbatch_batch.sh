#!/usr/bin/env bash
# sbatch --chos=NAME, submitted by an unprivileged user: the batch script
# (in slurmd's spool on the host, reached through the tree's /local) runs in NAME,
# in the submit directory, and its output file -- opened on the host -- shows it.
# Then the same with the spool bound into the tree at its own path (no /local).
# checks: P2
source "$(dirname "$0")/lib_slurm.sh"
slurm_main "$@"

slurm_setup bullseye:11.11 trixie:13.2 -- bullseye:"$IT_BASE/trees/bullseye" trixie:"$IT_BASE/trees/trixie" host:-

cat > "$WORK/job.sh" <<'SCRIPT'
#!/bin/sh
echo "version $(cat /etc/debian_version)"
echo "CHOS=$CHOS"
echo "pwd $(pwd)"
echo "uid $(id -u)"
echo "script $0"
SCRIPT
chown "$SLURM_TEST_USER:" "$WORK/job.sh"

slurm_submit --chos=trixie -o "$WORK/out.%j" job.sh
out=$(cat "$WORK/out.$JOB" 2>&1)
assert_eq "sbatch --chos=trixie: the version in the output file ($out; $(slurm_logs))" \
    "version 13.2" "$(grep '^version' <<< "$out")"
assert_eq "sbatch --chos=trixie: CHOS" "CHOS=trixie" "$(grep '^CHOS=' <<< "$out")"
assert_eq "sbatch: the working directory inside the tree" "pwd $WORK" "$(grep '^pwd' <<< "$out")"
assert_eq "sbatch: the job runs as the user" "uid $SLURM_TEST_UID" "$(grep '^uid' <<< "$out")"
assert_match "sbatch: the script from the spool, through /local" "^script /local$IT_BASE/slurm/spool/" \
    "$(grep '^script' <<< "$out")"
assert_eq "sbatch: the output file belongs to the user" "$SLURM_TEST_USER" "$(stat -c %U "$WORK/out.$JOB")"

# Without --chos: the user's ~/.chos.
echo bullseye > "$SLURM_TEST_HOME/.chos" && chown "$SLURM_TEST_USER:" "$SLURM_TEST_HOME/.chos"
slurm_submit -o "$WORK/out.%j" --export=NONE job.sh
assert_eq "sbatch without --chos: ~/.chos" "version 11.11" "$(grep '^version' "$WORK/out.$JOB")"

# The spool bound into the tree at its own path: the script runs from there.
slurm_stop_daemons
SLURM_CFG_BIND_EXTRA="{ source: $IT_BASE/slurm/spool, target: $IT_BASE/slurm/spool }"
IT_CFG_LOCAL=false slurm_config bullseye:"$IT_BASE/trees/bullseye" trixie:"$IT_BASE/trees/trixie" host:-
out=$(chos_setup reload 2>&1) || it_fail "chos-setup reload: $out"
slurm_start
slurm_submit --chos=bullseye -o "$WORK/out.%j" job.sh
out=$(cat "$WORK/out.$JOB" 2>&1)
assert_eq "spool bound: the version ($out; $(slurm_logs))" "version 11.11" "$(grep '^version' <<< "$out")"
assert_match "spool bound: the script at its own path" "^script $IT_BASE/slurm/spool/" "$(grep '^script' <<< "$out")"

slurm_done
