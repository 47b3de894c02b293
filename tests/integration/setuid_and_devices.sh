#!/usr/bin/env bash
# Setuid files and devices in trees (Apptainer CVE-2023-30549): a setuid-root binary
# and a device node inside an environment tree give nothing -- nobody running the
# setuid binary inside the environment keeps euid 65534 (nosuid), the device does
# not open, not even for root (nodev). Every mount CHOS makes shows nosuid,nodev in
# mountinfo, the host-root bind TREE/local and everything below it included; the
# only exceptions are nodev on binds with dev (here /dev) and the launcher's binds
# under .chos/bin. `chos-setup check` refuses environment trees that are not
# root-owned or are writable by others, and says everything wrong at once.
# checks: H
source "$(dirname "$0")/lib.sh"
it_main "$@"

make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
suid=$IT_BASE/trees/a/bin/suid
cp "$CHOS_IT_SUID" "$suid" && chown 0:0 "$suid" && chmod 4755 "$suid"
mknod -m 0666 "$IT_BASE/trees/a/etc/nulldev" c 1 3
as_nobody_in_tree=(chroot --userspec=$IT_NOBODY:$IT_NOBODY --groups=$IT_NOBODY "$TREE")

# Controls, without CHOS: the test's tmpfs honours setuid and devices, so what
# follows proves CHOS's mount flags, not the file system's.
assert_eq "control: the setuid binary run by nobody straight from its tree" "euid 0 ruid $IT_NOBODY" \
    "$("${IT_AS_NOBODY[@]}" "$suid")"
assert_eq "control: the device node opened straight from its tree" "OK" \
    "$("$TOOL" open "$IT_BASE/trees/a/etc/nulldev" rw)"

it_config a:"$IT_BASE/trees/a" b:"$IT_BASE/trees/b"
it_start

# setuid: inside the environment, through the tree from outside, through .chos/os,
# and through the host-root bind TREE/local (the test's tmpfs is a submount of /).
assert_eq "nobody running the setuid binary inside environment a" "euid $IT_NOBODY ruid $IT_NOBODY" \
    "$(in_env a "${as_nobody_in_tree[@]}" /bin/suid)"
assert_eq "nobody running TREE/bin/suid (through the link) registered in a" "euid $IT_NOBODY ruid $IT_NOBODY" \
    "$(in_env a "${IT_AS_NOBODY[@]}" "$TREE/bin/suid")"
assert_eq "nobody running TREE/.chos/os/a/bin/suid" "euid $IT_NOBODY ruid $IT_NOBODY" \
    "$(in_env - "${IT_AS_NOBODY[@]}" "$TREE/.chos/os/a/bin/suid")"
assert_eq "nobody running the binary through the host-root bind TREE/local" "euid $IT_NOBODY ruid $IT_NOBODY" \
    "$(in_env - "${IT_AS_NOBODY[@]}" "$TREE/local$suid")"
assert_eq "nobody running the binary through TREE/local inside the chroot" "euid $IT_NOBODY ruid $IT_NOBODY" \
    "$(in_env b "${as_nobody_in_tree[@]}" "/local$suid")"

# devices: root itself cannot open the node through CHOS's mounts
assert_match "root opening /etc/nulldev inside environment a" '^ERR (EACCES|EPERM)$' \
    "$(in_env a chroot "$TREE" /bin/chos-it-tool open /etc/nulldev rw)"
assert_match "root opening TREE/.chos/os/a/etc/nulldev" '^ERR (EACCES|EPERM)$' \
    "$("$TOOL" open "$TREE/.chos/os/a/etc/nulldev" rw)"
assert_match "root opening the node through the host-root bind TREE/local" '^ERR (EACCES|EPERM)$' \
    "$("$TOOL" open "$TREE/local$IT_BASE/trees/a/etc/nulldev" rw)"
# while /dev (bound with dev) works, as it must
assert_eq "opening /dev/null inside the environment (the /dev bind keeps devices)" "OK" \
    "$(in_env a chroot "$TREE" /bin/chos-it-tool open /dev/null rw)"

# every mount CHOS made: under the tree, and the registry's
bad=$(it_mounts_under "$TREE" | awk -v t="$TREE" '
    {
        m = $1; o = "," $2 ","
        devok = (m == t "/dev" || index(m, t "/dev/") == 1)
        launcher = (index(m, t "/.chos/bin/") == 1)
        if (launcher) next
        if (o !~ /,nosuid,/) print m " (" $2 ", " $3 "): no nosuid"
        else if (!devok && o !~ /,nodev,/) print m " (" $2 ", " $3 "): no nodev"
    }')
count=$(it_mounts_under "$TREE" | wc -l)
it_say "$count mounts under the tree checked"
[ -z "$bad" ] || it_fail "mounts CHOS made without nosuid/nodev ($(echo "$bad" | wc -l) of $count): $(echo "$bad" | head -n 8 | tr '\n' ';')"
bad=$(it_mounts_under "$REGMNT" | awk '{ o = "," $2 ","; if (o !~ /,nosuid,/ || o !~ /,nodev,/) print $1 " (" $2 ")" }')
[ -z "$bad" ] || it_fail "the registry mount lacks nosuid/nodev: $bad"

# chos-setup check refuses environment trees that others own or can write.
make_tree "$IT_BASE/trees/owned" owned
chown $IT_NOBODY "$IT_BASE/trees/owned"
make_tree "$IT_BASE/trees/open" open
chmod 0777 "$IT_BASE/trees/open"
make_tree "$IT_BASE/trees/grp" grp
chmod 0775 "$IT_BASE/trees/grp"
IT_CFG_FILE=$IT_BASE/check.yaml it_config a:"$IT_BASE/trees/a" owned:"$IT_BASE/trees/owned" \
    open:"$IT_BASE/trees/open" grp:"$IT_BASE/trees/grp"
out=$("$CHOS_SETUP" --config "$IT_BASE/check.yaml" check 2>&1); rc=$?
assert_eq "chos-setup check with bad trees: exit status ($out)" 1 "$rc"
assert_match "check names the tree owned by nobody" "owned.*owned by user 'nobody' \\(uid $IT_NOBODY\\)" "$out"
assert_match "check names the world-writable tree" "open.*writable by group or others" "$out"
assert_match "check names the group-writable tree" "grp.*writable by group or others" "$out"
assert_no_match "check says nothing about the good tree a" "environment 'a'" "$out"
it_done
