#!/usr/bin/env bash
# What `chos-setup status` verifies (issue 14, items 5 and 7): every environment's
# registration (another instance with the same registry.name whose `stop --force`
# removed this one's cgroups makes status degraded, rc 1, and names the environment;
# that instance's `start` already warned that the hierarchy was in use), and that the
# launcher bound in the tree is the installed file (an upgrade replaces the file:
# status is degraded and says to reload, as the package's postinst does; after the
# reload, healthy). The cgroup2 backend's registration is verified too.
# checks: -
source "$(dirname "$0")/lib.sh"
it_main "$@"

IT_DEFAULT=a it_start_launchers a -- a:"$IT_BASE/trees/a" h:-
# (The labels' column padding squeezed to one space: its width is status's layout, not what
# this test checks.)
status() { chos_setup status 2>&1 | sed -E 's/^([a-z-]+:) +/\1 /'; }
out=$(status); rc=$?
assert_eq "status after start: exit ($out)" 0 "$rc"
assert_eq "status after start: the launcher" "launcher: $BIN/chos: mounted" "$(grep "^launcher: $BIN/chos:" <<< "$out")"

# An upgrade: the installed launcher is replaced by a new file (as dpkg does it).
cp -p "$BIN/chos" "$BIN/chos.new" && echo >> "$BIN/chos.new" && mv "$BIN/chos.new" "$BIN/chos"
out=$(status); rc=$?
assert_eq "status after an upgrade: exit ($out)" 1 "$rc"
assert_eq "status after an upgrade: the launcher" \
    "launcher: $BIN/chos: mounted, but not the installed file (upgraded? run 'chos-setup reload')" \
    "$(grep "^launcher: $BIN/chos:" <<< "$out")"
assert_eq "status after an upgrade: the state" "state: degraded" "$(grep '^state:' <<< "$out")"
chos_setup reload >/dev/null 2>&1 || it_fail "reload after the upgrade"
out=$(status); rc=$?
assert_eq "status after the reload: exit ($out)" 0 "$rc"
assert_eq "the tree binds the new launcher" "$(stat -c %i "$BIN/chos")" "$(stat -c %i "$TREE/.chos/bin/chos")"

# A second instance with the same registry.name: its start warns, its stop --force
# removes this instance's cgroups; status sees it.
mkdir -p "$IT_BASE/two"
IT_CFG_FILE=$IT_BASE/two/chos.yaml IT_CFG_TREE=$IT_BASE/two/chos IT_CFG_RUN_DIR=$IT_BASE/two/run \
    IT_CFG_REGMNT=$IT_BASE/two/cgroup IT_DEFAULT=a it_config a:"$IT_BASE/trees/a"
two() { "$CHOS_SETUP" --config "$IT_BASE/two/chos.yaml" "${IT_SETUP_FLAGS[@]}" "$@"; }
IT_CLEANUP+=("'$CHOS_SETUP' --config '$IT_BASE/two/chos.yaml' ${IT_SETUP_FLAGS[*]} stop --force >/dev/null 2>&1")
out=$(two start 2>&1 >/dev/null); rc=$?
assert_eq "second instance start: exit ($out)" 0 "$rc"
assert_eq "second instance start: the warning" \
    "chos-setup: warning: the registry hierarchy 'name=$IT_REG' exists already, not mounted at $IT_BASE/two/cgroup: another CHOS instance (or one left behind) uses the same registry.name, and its 'stop' would remove this instance's environments; give each instance its own registry.name (chos.yaml(5))" \
    "$(grep warning <<< "$out")"
# (its stop then fails to release the hierarchy, which this instance still mounts)
two stop --force >/dev/null 2>&1
[ -d "$REGMNT/a" ] && it_fail "the second instance's stop left $REGMNT/a (the case this test is about)"
out=$(status); rc=$?
assert_eq "status after the other instance's stop: exit ($out)" 1 "$rc"
assert_match "status: environment a not in the registry" "^a +tree +0  not in the registry \(run 'chos-setup reload'\)" \
    "$(grep '^a ' <<< "$out")"
assert_eq "status: why" \
    "chos-setup: warning: environment 'a': environment is not set up in the registry: 'a': no cgroup '$REGMNT/a' (run 'chos-setup reload')" \
    "$(grep "warning: environment 'a'" <<< "$out")"
chos_setup reload >/dev/null 2>&1 || it_fail "reload after the other instance's stop"
out=$(status); rc=$?
assert_eq "status after reload: exit ($out)" 0 "$rc"
chos_setup stop >/dev/null 2>&1 || it_fail "stop"
IT_STOPPED=1

# The cgroup2 backend: registration verified, healthy.
IT_CFG_REGTYPE=cgroup2 IT_DEFAULT=a it_config a:"$IT_BASE/trees/a" h:-
it_bind_config
it_start
out=$(status); rc=$?
assert_eq "cgroup2: status: exit ($out)" 0 "$rc"
assert_match "cgroup2: environment a" "^a +tree +0  mounted " "$(grep '^a ' <<< "$out")"
it_done
