#!/usr/bin/env bash
# Unforgeable registration: an unprivileged user can write no registration -- no
# cgroup.procs/tasks of the registry, no new cgroup, no release_agent/
# notify_on_release -- not even from a user + cgroup namespace in which it mounts the
# registry's hierarchy itself (CVE-2022-0492 class). What the daemon answers for it
# never changes.
# checks: P3 K2
source "$(dirname "$0")/lib.sh"
it_main "$@"

it_start_with a b

snapshot() { # the registry as root sees it: cgroups, and the release knobs
    (cd "$REGMNT" && find . -type d | sort
     echo "release_agent=$(cat release_agent)"
     find . -name notify_on_release -exec sh -c 'echo "$1=$(cat "$1")"' sh {} \; | sort
     find . -name cgroup.clone_children -exec sh -c 'echo "$1=$(cat "$1")"' sh {} \; | sort)
}
before=$(snapshot)

# 1. Plain nobody: every file of the registry, written with the writer's own pid.
files=$(cd "$REGMNT" && find . -type f | sort)
[ -n "$files" ] || it_fail "the registry at $REGMNT has no files"
for f in $files; do
    out=$(in_env - "${IT_AS_NOBODY[@]}" sh -c 'exec "$0" write "$1" "$$"' "$TOOL" "$REGMNT/$f")
    assert_match "nobody writing its pid to registry file $f" '^ERR (EACCES|EPERM)$' "$out"
done
for d in . a b; do
    out=$(in_env - "${IT_AS_NOBODY[@]}" "$TOOL" mkdir "$REGMNT/$d/evil")
    assert_match "nobody creating a cgroup under registry/$d" '^ERR (EACCES|EPERM)$' "$out"
done
out=$(in_env - "${IT_AS_NOBODY[@]}" sh -c 'rmdir "$0" 2>&1; echo rc=$?' "$REGMNT/b")
assert_match "nobody removing the cgroup of environment b" 'rc=1$' "$out"

# A registered nobody process trying to move itself (and its children) to b.
out=$(in_env a "${IT_AS_NOBODY[@]}" sh -c \
    '"$0" write "$1/b/cgroup.procs" "$$"; "$0" write "$1/b/tasks" "$$"; "$0" write "$1/cgroup.procs" "$$"; exec "$0" readlink "$2"' \
    "$TOOL" "$REGMNT" "$LINK")
assert_eq "a nobody process in a moving itself to b (cgroup.procs, tasks), then to the root cgroup: refusals" \
    "" "$(echo "$out" | head -n 3 | grep -Ev '^ERR (EACCES|EPERM)$')"
assert_eq "... and then what the daemon answers it" "../os/a" "$(echo "$out" | sed -n 4p)"

# 2. K2: nobody in a new user + cgroup + mount namespace, where it is "root", mounts
# the registry's own hierarchy (cgroup v1 lets a user namespace mount an existing
# named hierarchy; it shows the subtree of its cgroup namespace, so from inside a
# only a's files exist: ENOENT is a refusal too) and tries every way to change a
# registration.
mkdir "$IT_BASE/k2" && chown $IT_NOBODY:$IT_NOBODY "$IT_BASE/k2"
# $0 tool, $1 link, $2 mount dir, $3 hierarchy name, $4 the environment to move to
attack='
    d=$2
    if mount -t cgroup -o none,name="$3" cgroup "$d" 2>/dev/null; then echo "mount OK"; else echo "mount refused"; fi
    "$0" write "$d/$4/cgroup.procs" "$$"
    "$0" write "$d/$4/tasks" "$$"
    "$0" write "$d/cgroup.procs" "$$"
    "$0" write "$d/release_agent" "/evil"
    "$0" write "$d/notify_on_release" 1
    "$0" write "$d/$4/notify_on_release" 1
    "$0" mkdir "$d/evil"
    "$0" mkdir "$d/$4/evil"
    exec "$0" readlink "$1"'
for start in - a; do
    target_env=b; [ "$start" = - ] && target_env=a
    out=$(in_env "$start" "${IT_AS_NOBODY[@]}" unshare --user --map-root-user --cgroup --mount \
        sh -c "$attack" "$TOOL" "$LINK" "$IT_BASE/k2" "$IT_REG" "$target_env" 2>&1)
    mount_line=$(echo "$out" | head -n 1)
    it_say "K2 from '$start' towards '$target_env': hierarchy $mount_line in the user namespace; $(echo "$out" | sed -n '2,9p' | sort | uniq -c | tr '\n' ' ')"
    if [ "$mount_line" = "mount OK" ]; then
        attempts=$(echo "$out" | sed -n '2,9p')
        assert_eq "K2: writes and mkdirs from a user namespace (registered in '$start') that were not refused" \
            "" "$(echo "$attempts" | grep -Ev '^ERR (EACCES|EPERM|EROFS|ENOENT)$')"
    fi
    assert_eq "K2: what the daemon answers afterwards (registered in '$start')" \
        "$(target_of "$start")" "$(echo "$out" | tail -n 1)"
done
# the same process must still be where root put it: from a user namespace, a
# process that *was* moved would show here
out=$(in_env a "${IT_AS_NOBODY[@]}" unshare --user --map-root-user --cgroup --mount \
    sh -c 'mount -t cgroup -o none,name="$2" cgroup "$1" 2>/dev/null; "$0" write "$1/b/cgroup.procs" "$$" >/dev/null; cat /proc/self/cgroup' \
    "$TOOL" "$IT_BASE/k2" "$IT_REG" | grep ":name=$IT_REG:")
assert_match "K2: /proc/self/cgroup inside the user namespace after the attempt" ":name=$IT_REG:/(\.\./)*a?$" "$out"

# 3. Nothing changed, as root sees it.
assert_eq "the registry after all attempts (cgroups, release_agent, notify_on_release)" "$before" "$(snapshot)"
assert_eq "answer for an unregistered process after all attempts" "../../local" "$("$TOOL" readlink "$LINK")"
it_done
