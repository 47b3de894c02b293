#!/usr/bin/env bash
# `chos-setup check` says every problem at once (issue 14, item 9): when the file
# breaks a rule, the environment or key with the problem is left out and the machine is
# still checked for the rest -- the rule's line and the tree's line, both, exit 1.
# `start` refuses the same file and builds nothing: a partial configuration is only
# ever checked.
# checks: -
source "$(dirname "$0")/lib.sh"
it_main "$@"

make_tree "$IT_BASE/trees/a" a
mkdir -p "$IT_BASE/trees/empty/srv"
# 'bad' breaks a rule (a user name with a '/'); 'empty' is no userland (a machine check).
IT_CFG_SHARED="[/etc/passwd]" IT_CFG_EXTRA="  bad:
    path: $IT_BASE/trees/a
    users: [alice, no/such]" \
    it_config a:"$IT_BASE/trees/a" empty:"$IT_BASE/trees/empty"
line_of() { grep -n "^  $1:\$" "$CFG" | cut -d: -f1; }
rule_line=$(grep -n "users: \[alice, no/such\]" "$CFG" | cut -d: -f1)

expected="$CFG:$rule_line:20: 'no/such' is not a valid user name
$CFG:$(line_of empty):3: environment 'empty': shared file '/etc/passwd' does not exist in the tree: not bound (warning)
$CFG:$(( $(line_of empty) + 1 )):11: environment 'empty': path '$IT_BASE/trees/empty' is not a userland: no /bin/sh and /etc/os-release in it (users would get \"cannot run\")"
out=$("$CHOS_SETUP" check --config "$CFG" 2>&1); rc=$?
assert_eq "check: exit ($out)" 1 "$rc"
assert_eq "check: the rule's problem, then the machine's for what parsed" "$expected" "$out"

# --syntax-only: the rule's problem only.
out=$("$CHOS_SETUP" check --syntax-only --config "$CFG" 2>&1); rc=$?
assert_eq "check --syntax-only: exit" 1 "$rc"
assert_eq "check --syntax-only: the rule's problem only" "$CFG:$rule_line:20: 'no/such' is not a valid user name" "$out"

# A key the parser refused keeps no default behind: no finding about a tree path
# nobody wrote (the default /chos), only the key's own problem and the trees'.
IT_CFG_TREE=chos-relative IT_CFG_SHARED="[/etc/passwd]" it_config a:"$IT_BASE/trees/a"
out=$("$CHOS_SETUP" check --config "$CFG" 2>&1); rc=$?
assert_eq "check, relative tree: exit" 1 "$rc"
assert_match "check, relative tree: the key's problem ($out)" "^$CFG:[0-9]+:[0-9]+: 'tree' " "$out"
assert_eq "check, relative tree: one line, nothing about /chos" 1 "$(wc -l <<< "$out")"

# start refuses the file with the rule's problem and leaves nothing behind.
IT_CFG_SHARED="[/etc/passwd]" IT_CFG_EXTRA="  bad:
    path: $IT_BASE/trees/a
    users: [alice, no/such]" \
    it_config a:"$IT_BASE/trees/a"
rule_line=$(grep -n "users: \[alice, no/such\]" "$CFG" | cut -d: -f1)
out=$(chos_setup start 2>&1); rc=$?
IT_STOPPED=1 # nothing to stop: the exit trap's own check (nothing left) still runs
assert_eq "start with a rule's problem: exit ($out)" 1 "$rc"
assert_eq "start with a rule's problem: the line" "$CFG:$rule_line:20: 'no/such' is not a valid user name" "$out"
[ ! -e "$TREE" ] || it_fail "start with a rule's problem: the tree '$TREE' was made"
[ ! -e "$RUN" ] || it_fail "start with a rule's problem: the run directory '$RUN' was made"
grep -q " $REGMNT " /proc/self/mountinfo && it_fail "start with a rule's problem: the registry was mounted"
it_done
