#!/usr/bin/env bash
# Jobs in real Debian trees: srun and sbatch run against the trees' own glibc -- 2.31
# in bullseye, 2.4x in trixie -- not the host's. The trees are tools/mktree's (made
# with mmdebstrap the first time, then extracted from the cache /var/cache/chos-test,
# as the e2e suite does); a tree that cannot be made fails the test.
# checks: P1
source "$(dirname "$0")/lib_slurm.sh"
slurm_main "$@"

slurm_setup bullseye trixie -- bullseye:"$IT_BASE/trees/bullseye" trixie:"$IT_BASE/trees/trixie"

out=$(as_user timeout 60 srun --chos=bullseye cat /etc/debian_version 2>&1); rc=$?
assert_eq "srun --chos=bullseye as the user: exit status ($out; $(slurm_logs))" 0 "$rc"
assert_match "srun --chos=bullseye cat /etc/debian_version" "^11\\.[0-9]+$" "$out"

printf '#!/bin/sh\ncat /etc/debian_version\nldd --version | head -n 1\n' > "$WORK/job.sh"
chown "$SLURM_TEST_USER:" "$WORK/job.sh"
out=$(as_user timeout 30 sbatch --parsable --chos=trixie -o "$WORK/out.%j" job.sh 2>&1) || it_fail "sbatch: $out"
JOB=${out%%;*}
wait_job "$JOB" 60 || it_fail "job $JOB did not finish"
out=$(cat "$WORK/out.$JOB" 2>&1)
assert_match "sbatch --chos=trixie: the output file shows 13.x ($out)" "^13\\.[0-9]+" "$out"

out=$(as_user timeout 60 srun --chos=bullseye ldd --version 2>&1 | head -n 1)
assert_match "bullseye's glibc in the job" " 2\\.31$" "$out"
assert_match "trixie's glibc in the batch job" "^ldd .* 2\\.(4[0-9])$" "$(sed -n 2p "$WORK/out.$JOB")"

slurm_done
