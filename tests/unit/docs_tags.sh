#!/usr/bin/env bash
# The "checks:" line of every test and the lists of docs/properties.md (P1-P9) and
# docs/threat-model.md (classes A-T) say the same thing (docs/testing.md "Names and
# tags"): every test has the line; every id it names exists and lists the test under
# its section; every test a section lists exists and names that id.
# usage: docs_tags.sh SOURCE_ROOT
# checks: -
set -uo pipefail
root=${1:-}
[[ -n $root && -d $root/tests && -d $root/docs ]] || { echo "docs_tags.sh: usage: docs_tags.sh SOURCE_ROOT" >&2; exit 1; }
cd "$root" || exit 1
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

properties="P1 P2 P3 P4 P5 P6 P7 P8 P9"
classes="A B C D E F G H I J K K2 L M N O P Q R S T"
doc_of() { case $1 in P[1-9]) echo docs/properties.md ;; *) echo docs/threat-model.md ;; esac; }
# The text of ID's section: from its "### ID " heading to the next heading.
section() { awk -v id="$1" '/^##/ { on = ($1 == "###" && $2 == id) ; next } on' "$(doc_of "$1")"; }

# The tests: every script and C++ file a suite runs (libraries and the guest's /init
# are parts of tests, not tests).
tests=$(ls tests/integration/*.sh tests/pam/*.sh tests/slurm/*.sh tests/cluster/*.sh tests/e2e/*.sh \
           tests/kmod/run.sh tests/package/package.sh tests/unit/*.sh tests/unit/test_*.cpp tests/fuzz/fuzz_*.cpp 2>/dev/null |
        grep -vE '/(lib|launcher_lib|pam_lib|lib_slurm|lib_cluster|e2e)\.sh$')
declare -A claims
for t in $tests; do
    line=$(grep -m 1 -E '^(#|//) checks:' "$t")
    if [[ -z $line ]]; then
        fail "$t has no 'checks:' line"
        continue
    fi
    ids=${line#*checks:}
    claims[$t]=" $ids "
    for id in $ids; do
        [[ $id == - ]] && continue
        if [[ " $properties $classes " != *" $id "* ]]; then
            fail "$t: '$id' is neither a property (P1-P9) nor an attack class (A-T, K2)"
            continue
        fi
        section "$id" | grep -qF "$t" || fail "$t checks $id, but $(doc_of "$id") does not list it under $id"
    done
done

for id in $properties $classes; do
    text=$(section "$id")
    [[ -n $text ]] || { fail "$(doc_of "$id") has no section '### $id'"; continue; }
    for t in $(grep -oE 'tests/[a-z0-9_/]+\.(sh|cpp)' <<< "$text" | sort -u); do
        [[ -f $t ]] || { fail "$(doc_of "$id") lists $t under $id, but there is no such file"; continue; }
        [[ ${claims[$t]:-} == *" $id "* ]] || fail "$(doc_of "$id") lists $t under $id, but its 'checks:' line does not name $id"
    done
done

((failed == 0)) && echo "docs_tags: $(wc -w <<< "$tests") tests, their checks: lines and docs/ agree"
exit "$failed"
