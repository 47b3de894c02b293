#!/usr/bin/env bash
# chos-setup start and reload refuse exactly what check refuses, with the same words,
# and leave nothing behind (docs/threat-model.md, classes F and J): a system directory
# or a directory with someone's files as `tree:`, `run_dir:` or registry mount point
# (before: `tree: /etc` passed check, and start mounted its tmpfs over the host's /etc);
# an environment path through a directory a user controls (before: check refused it
# with "is not a directory", start followed the user's symlink and mounted whatever it
# named). A tree whose top levels (os_dirs) others can write is accepted with a warning.
# checks: F J H
source "$(dirname "$0")/lib.sh"
it_main "$@"

make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
etc_before=$(ls -A /etc | wc -l)
mounts_before=$(it_mounts_under "$IT_BASE" | sort)

# refused WHAT EXPECTED-DIAGNOSTIC-REGEX: check, start and (when started) reload all
# exit 1 with that diagnostic; start and reload leave the mounts as they were.
refused() {
    local what=$1 rx=$2 out rc cmd
    for cmd in check start; do
        out=$(chos_setup $cmd 2>&1); rc=$?
        assert_eq "$what: chos-setup $cmd exits 1 ($out)" 1 "$rc"
        assert_match "$what: chos-setup $cmd says what is wrong" "$rx" "$out"
    done
    assert_match "$what: start refuses in check's words" "chos-setup: refusing to start: $CFG:.*$rx" "$out"
    assert_eq "$what: start mounted nothing" "$mounts_before" "$(it_mounts_under "$IT_BASE" | sort)"
    assert_eq "$what: /etc untouched" "$etc_before" "$(ls -A /etc | wc -l)"
    assert_eq "$what: nothing on /etc" "" "$(it_mounts_under /etc)"
}

# 1. System directories and directories with someone's files.
IT_CFG_TREE=/etc it_config a:"$IT_BASE/trees/a"
refused "tree: /etc" "tree '/etc' is a system directory"
IT_CFG_TREE=/var/tmp it_config a:"$IT_BASE/trees/a"
refused "tree: /var/tmp" "tree '/var/tmp' is a system directory"
mkdir -p "$IT_BASE/full" && echo data > "$IT_BASE/full/keep"
IT_CFG_TREE=$IT_BASE/full it_config a:"$IT_BASE/trees/a"
refused "tree: a directory with a file" "tree '$IT_BASE/full' is not empty \\('keep'\\) and not made by CHOS"
assert_eq "the directory's file is still there" data "$(cat "$IT_BASE/full/keep")"
IT_CFG_RUN_DIR=$IT_BASE/full it_config a:"$IT_BASE/trees/a"
refused "run_dir: a directory with a file" "run_dir '$IT_BASE/full' is not empty \\('keep'\\) and not a run directory of CHOS's"
IT_CFG_RUN_DIR=/run it_config a:"$IT_BASE/trees/a"
refused "run_dir: /run" "run_dir '/run' is a system directory"
IT_CFG_REGMNT=$IT_BASE/full it_config a:"$IT_BASE/trees/a"
refused "registry mount: a directory with a file" "registry mount '$IT_BASE/full' is not empty \\('keep'\\)"
IT_CFG_REGMNT=/sys/fs/cgroup it_config a:"$IT_BASE/trees/a"
refused "registry mount: /sys/fs/cgroup" "registry mount '/sys/fs/cgroup' is a system directory"

# 2. An environment path a user can repoint: a symlink in a directory nobody owns, and
# a path through that directory without a symlink.
mkdir "$IT_BASE/user" && chown $IT_NOBODY:$IT_NOBODY "$IT_BASE/user"
ln -s "$IT_BASE/trees/a" "$IT_BASE/user/link"
chown -h $IT_NOBODY:$IT_NOBODY "$IT_BASE/user/link"
it_config a:"$IT_BASE/trees/a" u:"$IT_BASE/user/link"
refused "path through a user's symlink" \
    "environment 'u': path '$IT_BASE/user/link': a symlink through a directory owned by uid $IT_NOBODY \\('$IT_BASE/user'\\)"
mkdir "$IT_BASE/user/t" && cp -a "$IT_BASE/trees/b/." "$IT_BASE/user/t/"
it_config a:"$IT_BASE/trees/a" u:"$IT_BASE/user/t"
refused "path through a user's directory" \
    "environment 'u': path '$IT_BASE/user/t': passes through '$IT_BASE/user', owned by uid $IT_NOBODY"
# A root-owned symlink in root's directories is the admin's: accepted.
ln -s "$IT_BASE/trees/b" "$IT_BASE/trees/b-link"
it_config a:"$IT_BASE/trees/a" u:"$IT_BASE/trees/b-link"
out=$(chos_setup check 2>&1); rc=$?
assert_eq "a root-owned symlink to a tree: check accepts it ($out)" 0 "$rc"

# 3. Reload applies the same check: a running CHOS, then an edited config.
it_config a:"$IT_BASE/trees/a"
it_start
mounts_running=$(it_mounts_under "$IT_BASE" | sort)
it_config a:"$IT_BASE/trees/a" u:"$IT_BASE/user/link"
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "reload with a user's symlink: exit ($out)" 1 "$rc"
assert_match "reload with a user's symlink: the same words as check" \
    "environment 'u': path '$IT_BASE/user/link': a symlink through a directory owned by uid $IT_NOBODY" "$out"
assert_match "reload: says why" "chos-setup: refusing to reload: $CFG:[0-9]+:3: environment 'u'" "$out"
assert_eq "reload refused: the tree is as it was" "$mounts_running" "$(it_mounts_under "$IT_BASE" | sort)"
assert_eq "reload refused: no entry for u" "" "$(ls -A "$TREE/.chos/os" | grep -x u)"

# 4. A tree whose top level others can write: a warning from check, start and reload.
chmod 0777 "$IT_BASE/trees/a/bin"
it_config a:"$IT_BASE/trees/a"
W="environment 'a': tree '$IT_BASE/trees/a': 'bin' is writable by everyone \\(mode 0777\\)"
out=$(chos_setup check 2>&1); rc=$?
assert_eq "world-writable bin: check passes ($out)" 0 "$rc"
assert_match "world-writable bin: check warns" "$W: whoever can write it chooses what this environment's users run \\(warning\\)" "$out"
out=$(chos_setup reload 2>&1); rc=$?
assert_eq "world-writable bin: reload passes ($out)" 0 "$rc"
assert_match "world-writable bin: reload warns" "chos-setup: warning: .*$W" "$out"
chmod 0755 "$IT_BASE/trees/a/bin"

it_done
