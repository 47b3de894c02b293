#!/usr/bin/env bash
# srun --chos=NAME: the task runs in NAME -- its files, CHOS=NAME, the
# registration, the submit directory; srun -n 2: both tasks; the precedence
# --chos > the submitter's $CHOS > ~/.chos > the default; the host environment; a
# restricted environment for its user.
# checks: P1 P2 S
source "$(dirname "$0")/lib_slurm.sh"
slurm_main "$@"

# gated: bullseye's tree again, for the test user alone (behind its gate, chos.yaml(5))
IT_CFG_EXTRA="  gated:
    path: $IT_BASE/trees/bullseye
    users: [$SLURM_TEST_USER]" \
    IT_DEFAULT=trixie slurm_setup bullseye:11.11 trixie:13.2 -- \
    bullseye:"$IT_BASE/trees/bullseye" trixie:"$IT_BASE/trees/trixie" host:-
host_version=$(cat /etc/debian_version)
run() { timeout 60 srun "$@" 2>&1; }

# The environment's files.
out=$(run --chos=bullseye cat /etc/debian_version); rc=$?
assert_eq "srun --chos=bullseye: exit status ($out; $(slurm_logs))" 0 "$rc"
assert_eq "srun --chos=bullseye cat /etc/debian_version" "11.11" "$out"

# A restricted environment: its user's task runs in it, through its gate.
out=$(as_user timeout 60 srun --chos=gated cat /etc/debian_version 2>&1); rc=$?
assert_eq "srun --chos=gated as its user: exit status ($out; $(slurm_logs))" 0 "$rc"
assert_eq "srun --chos=gated as its user: the environment's files" "11.11" "$out"

# CHOS in the task's environment, the registration, the working directory.
out=$(run --chos=bullseye sh -c 'echo "$CHOS"')
assert_eq "CHOS in the task" "bullseye" "$out"
out=$(run --chos=bullseye cat /proc/self/cgroup | grep -o "name=$IT_REG:.*")
assert_eq "the task's registration" "name=$IT_REG:/bullseye" "$out"
out=$(run --chos=bullseye pwd)
assert_eq "the task's working directory (the submit directory, inside the tree)" "$WORK" "$out"
out=$(run --chos=bullseye sh -c 'echo "$PATH"')
assert_match "PATH reaches the launcher inside the tree" ":/\\.chos/bin$" "$out"

# A submit directory the tree does not have: /tmp of the environment, and a warning.
mkdir -p "$IT_BASE/outside" && chmod 0777 "$IT_BASE/outside"
out=$(cd "$IT_BASE/outside" && timeout 60 srun --chos=bullseye pwd 2>&1)
assert_eq "no submit directory in the tree: /tmp" "/tmp" "$(tail -n 1 <<< "$out")"
assert_match "no submit directory in the tree: the warning" \
    "error: chos: cannot enter the working directory inside the environment: '$IT_BASE/outside': No such file or directory: going to /tmp instead" "$out"

# srun -n 2: both tasks in the environment.
out=$(run -n 2 --chos=bullseye sh -c 'echo "$SLURM_PROCID $CHOS $(cat /etc/debian_version)"' | sort)
assert_eq "srun -n 2: both tasks in bullseye" "0 bullseye 11.11
1 bullseye 11.11" "$out"

# Precedence. The submitter's $CHOS (srun exports the submit environment).
out=$(CHOS=bullseye run cat /etc/debian_version)
assert_eq "\$CHOS at submit time" "11.11" "$out"
out=$(CHOS=bullseye run --chos=trixie cat /etc/debian_version)
assert_eq "--chos beats \$CHOS" "13.2" "$out"
# Nothing chosen: the default (trixie); ~/.chos beats the default, $CHOS beats ~/.chos.
out=$(env -u CHOS timeout 60 srun cat /etc/debian_version 2>&1)
assert_eq "no choice: the default" "13.2" "$out"
echo bullseye > "$SLURM_TEST_HOME/.chos"
chown "$SLURM_TEST_USER:" "$SLURM_TEST_HOME/.chos"
out=$(as_user env -u CHOS timeout 60 srun cat /etc/debian_version 2>&1)
assert_eq "~/.chos of the job's user" "11.11" "$out"
out=$(CHOS=trixie as_user timeout 60 srun cat /etc/debian_version 2>&1)
assert_eq "\$CHOS beats ~/.chos" "13.2" "$out"
out=$(as_user timeout 60 srun --chos=trixie id -u 2>&1)
assert_eq "the user's task runs as the user" "$SLURM_TEST_UID" "$out"

# salloc --chos: the steps srun starts in the allocation (the option travels in the
# allocation's environment).
out=$(timeout 60 salloc --chos=bullseye srun cat /etc/debian_version 2>&1 | grep -v '^salloc:')
assert_eq "salloc --chos=bullseye: its srun steps" "11.11" "$out"

# The host environment: no chroot, CHOS=host.
out=$(run --chos=host sh -c 'echo "$CHOS $(cat /etc/debian_version)"')
assert_eq "--chos=host" "host $host_version" "$out"

# A malformed name is refused by srun itself, before anything is submitted.
out=$(run --chos=../etc true); rc=$?
assert_ne "--chos=../etc: exit status" 0 "$rc"
assert_match "--chos=../etc: the message" "chos: --chos: environment name '\\.\\./etc' " "$out"

slurm_done
