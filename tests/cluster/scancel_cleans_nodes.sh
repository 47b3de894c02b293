#!/usr/bin/env bash
# scancel of a running three-node job, by the user who submitted it: the job ends on
# every node, and no node keeps anything of it -- no process registered in an
# environment, no process of the user, no slurmstepd, no mount that was not there
# when CHOS started. The same for a job whose tasks ignore SIGTERM (slurmstepd
# KILLs them after KillWait) and for an allocation (salloc) cancelled under its step.
# checks: P5
source "$(dirname "$0")/lib_cluster.sh"
cluster_main "$@"

cluster_start_real

# The number of processes registered in ENV on NODE.
registered_on() { # NODE ENV
    node_do "$1" cat "$(cluster_dir "$1")/cgroup/$2/cgroup.procs" 2>/dev/null | grep -c .
}
all_registered() { # ENV: at least one process registered in ENV on every node
    local n
    for n in "${CLUSTER_NODES[@]}"; do [ "$(registered_on "$n" "$1")" -ge 1 ] || return 1; done
}

# cancel_case WHAT ENV CMD...: CMD (a three-node job of the user's, in the background)
# runs until every node has a task registered in ENV; scancel; the job leaves the
# queue, CMD ends, and every node is as it was.
cancel_case() {
    local what=$1 env=$2 pid job t0 n _
    shift 2
    as_user "$@" > "$WORK/cancel.log" 2>&1 &
    pid=$!
    IT_PIDS+=("$pid")
    wait_for 60 all_registered "$env" ||
        it_fail "$what: the tasks did not start on every node: $(cat "$WORK/cancel.log"); $(squeue 2>&1); $(slurm_logs)"
    job=$(squeue -h -u "$SLURM_TEST_USER" -o %i | head -n 1)
    [[ "$job" =~ ^[0-9]+$ ]] || it_fail "$what: no job in the queue: $(squeue 2>&1)"
    assert_match "$what: a job on three nodes" "^3$" "$(squeue -h -j "$job" -o %D)"
    for n in "${CLUSTER_NODES[@]}"; do # (what the check below must not find any more)
        assert_match "$what: the running job, seen on $n" "registered in $env: [0-9]+" "$(cluster_node_leftovers "$n")"
    done
    t0=$SECONDS
    out=$(as_user scancel "$job" 2>&1) || it_fail "$what: scancel $job: $out"
    wait_job "$job" 60 || it_fail "$what: job $job still in the queue a minute after scancel: $(squeue 2>&1)"
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && it_fail "$what: the submitting command still runs 30 s after scancel"
    wait "$pid"
    assert_match "$what: the job was cancelled" " JobState=CANCELLED " "$(scontrol -o show job "$job" 2>&1)"
    assert_match "$what: the user is told" "CANCELLED" "$(cat "$WORK/cancel.log")"
    assert_le "$what: seconds from scancel to the job's end" 30 $((SECONDS - t0))
    # slurmstepd's last steps run after the job left the queue: give each node a moment.
    for n in "${CLUSTER_NODES[@]}"; do
        wait_for 20 eval "[ -z \"\$(cluster_node_leftovers $n)\" ]"
        assert_eq "$what: left on $n after scancel" "" "$(cluster_node_leftovers "$n")"
    done
    assert_eq "$what: no process of the user anywhere" "" \
        "$(for p in $(it_ns_pids); do [ "$(stat -c %u "/proc/$p" 2>/dev/null)" = "$SLURM_TEST_UID" ] && echo "$p $(cat "/proc/$p/comm")"; done)"
}

cancel_case "srun -N3 sleep" bullseye timeout 120 srun -N3 --chos=bullseye sleep 300
# tasks that ignore TERM, each with a child: slurmstepd KILLs the whole step
cancel_case "srun -N3, tasks ignoring SIGTERM" trixie timeout 120 srun -N3 --chos=trixie \
    sh -c 'trap "" TERM; sleep 300 & sleep 300; wait'
cancel_case "salloc -N3 srun" bullseye timeout 120 salloc -N3 --chos=bullseye srun sleep 300

cluster_done
