#!/usr/bin/env bash
# salloc -N2 --chos=trixie, then srun in the allocation (salloc's own command runs on
# the submit host, outside CHOS): every step runs on both nodes in trixie, the option
# travelling in the allocation's environment; a step's own --chos wins over the
# allocation's.
# checks: P1
source "$(dirname "$0")/lib_cluster.sh"
cluster_main "$@"

cluster_start_real

host_version=$(cat /etc/debian_version)
script='
echo "salloc $(cat /etc/debian_version) CHOS=${CHOS:-}"
srun -l sh -c "echo \$(uname -n) \$(cat /etc/debian_version) \$CHOS" | sort
srun -l cat /etc/debian_version | sort
srun -l --chos=bullseye sh -c "echo \$(uname -n) \$(cat /etc/debian_version) \$CHOS" | sort
'
out=$(as_user env -u CHOS timeout 90 salloc -N2 --chos=trixie sh -c "$script" 2>&1); rc=$?
echo "$out" | sed 's/^/# /'
assert_eq "salloc -N2 --chos=trixie: exit status ($out; $(slurm_logs))" 0 "$rc"
out=$(grep -v '^salloc:' <<< "$out" | sed -E 's/ (11|13)\.[0-9]+/ \1.x/g; s/: (11|13)\.[0-9]+$/: \1.x/')
mapfile -t nodes < <(grep -oE '^[01]: chosn[1-3]' <<< "$out" | head -n 2 | cut -d' ' -f2)
[ "${#nodes[@]}" = 2 ] && [ "${nodes[0]}" != "${nodes[1]}" ] || it_fail "salloc -N2: two different nodes expected: $out"
assert_eq "salloc -N2 --chos=trixie: its command on the submit host, its steps in trixie on both nodes, --chos=bullseye for one step" \
"salloc $host_version CHOS=
0: ${nodes[0]} 13.x trixie
1: ${nodes[1]} 13.x trixie
0: 13.x
1: 13.x
0: ${nodes[0]} 11.x bullseye
1: ${nodes[1]} 11.x bullseye" "$out"

for n in "${CLUSTER_NODES[@]}"; do
    assert_eq "$n after the allocation" "" "$(cluster_node_leftovers "$n")"
done

cluster_done
