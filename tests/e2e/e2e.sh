# tests/e2e/e2e.sh -- CHOS on real Debian trees: the pieces the e2e tests, tools/demo
# and bench/real share. Source it after tests/integration/lib.sh's `it_main "$@"` (the
# inner half: pid 1 of private mount + pid namespaces, $IT_BASE a private tmpfs).
#
#   e2e_setup [SUITE...]    trees (tools/mktree, cached) on their own tmpfs, the test
#                           users, /etc and /home of this namespace, setuid launchers
#   e2e_config ENV:PATH...  write the configuration the launcher reads (CONFIG_PATH)
#   e2e_start               chos-setup start (the launchers bound into the tree)
#   as_user USER CMD...     run CMD as USER (in its home, with its environment)
#
# Nothing outside the namespace is touched: /etc is the namespace's own copy
# (lib.sh's it_private_etc: the test users, their groups and /etc/chos.yaml exist only
# here), /home is the test's, the trees and setuid launchers live under $IT_BASE.
# Everything goes when the namespace dies.

E2E_SUITES=(bullseye trixie)
: "${CHOS_LAUNCHER_DIR:=$CHOS_BUILD_DIR/src/launcher}"
E2E_MKTREE=$CHOS_SOURCE_DIR/tools/mktree
# uid = gid; names unlikely to exist on a machine (they exist only in this namespace)
E2E_USERS=(chos-alice:64101 chos-bob:64102 chos-demo:64103)

e2e_uid() { # USER
    local u
    for u in "${E2E_USERS[@]}"; do [ "${u%%:*}" = "$1" ] && { echo "${u#*:}"; return 0; }; done
    return 1
}

# Where e2e_setup extracts the trees (known before it runs: configs may name them).
TREES=$IT_BASE/trees/real

e2e_setup() { # [SUITE...]
    local suites=("$@") s u
    [ ${#suites[@]} -gt 0 ] || suites=("${E2E_SUITES[@]}")
    it_config_path
    it_private_config_dir
    local p
    for p in chos chos-run; do
        [ -x "$CHOS_LAUNCHER_DIR/$p" ] || it_fail "not built: $CHOS_LAUNCHER_DIR/$p"
    done

    # The trees: their own tmpfs (they are big), extracted from the cache.
    mkdir -p "$TREES"
    mount -t tmpfs -o mode=0755,size=3g chos-e2e-trees "$TREES" || it_fail "cannot mount a tmpfs on $TREES"
    IT_OWN_MOUNTS+=("$TREES")
    for s in "${suites[@]}"; do
        "$E2E_MKTREE" ${E2E_MKTREE_QUIET:+--quiet} "$s" "$TREES/$s" || it_fail "tools/mktree $s failed"
    done

    # The test users, in this namespace's /etc and /home only (lib.sh's it_user).
    for u in "${E2E_USERS[@]}"; do
        it_user "${u%%:*}" "${u#*:}"
    done

    # The setuid launchers, on the test's tmpfs (it is not nosuid).
    BIN=$IT_BASE/bin
    mkdir -p "$BIN"
    for p in chos chos-run; do
        cp "$CHOS_LAUNCHER_DIR/$p" "$BIN/$p" && chown 0:0 "$BIN/$p" && chmod 4755 "$BIN/$p" ||
            it_fail "cannot install $p setuid into $BIN"
    done
    if "$CHOS_SETUP" --help 2>&1 | grep -q -- '--launchers'; then
        IT_SETUP_FLAGS+=(--launchers "$BIN")
    fi
}

# e2e_config ENV:PATH...: the launcher's configuration (and $CFG, what chos-setup reads).
# "-" as PATH is the host. Knobs: IT_DEFAULT, E2E_EXTRA_ENVS (raw YAML, indented as
# entries of `environments:`).
e2e_config() {
    CFG=$CONFIG_PATH
    IT_CFG_OS_DIRS="[bin, etc, lib, lib64, sbin, usr, var]" \
    IT_CFG_BIND=$'/dev\n/proc\n/home' \
    IT_CFG_SHARED="[/etc/passwd, /etc/group]" \
    IT_CFG_EXTRA=${E2E_EXTRA_ENVS:-} \
        it_config "$@"
}

e2e_start() {
    it_start
    local p
    for p in chos chos-run; do
        [ -x "$TREE/.chos/bin/$p" ] || it_fail "chos-setup start did not bind $p into $TREE/.chos/bin"
    done
}

# e2e_images FORMAT SUITE...: each extracted tree made into an image with
# `chos-setup image build --from` ($E2E_IMAGES/<suite>.<format>, listed as image_dirs by
# e2e_config). An image's path must pass through no directory others can write, so not
# through /tmp, where $IT_BASE is: a tmpfs of this mount namespace on /mnt holds them.
E2E_IMAGES=/mnt
e2e_images() { # FORMAT SUITE...
    local format=$1 s; shift
    for s in "$@"; do e2e_images_one "$format" "$s"; done
}
e2e_images_one() { # FORMAT SUITE
    local out
    if ! findmnt -n --mountpoint "$E2E_IMAGES" -o SOURCE | grep -qx chos-e2e-images; then
        mount -t tmpfs -o mode=0755,size=3g chos-e2e-images "$E2E_IMAGES" ||
            it_fail "cannot mount a tmpfs on $E2E_IMAGES"
    fi
    out=$("$CHOS_SETUP" image build "$2" --from "$TREES/$2" --format "$1" "$E2E_IMAGES/$2.$1" 2>&1) ||
        it_fail "chos-setup image build $2 --format $1 failed: $out"
    IT_CFG_IMAGE_DIRS="[$E2E_IMAGES]"
}

# e2e_start_all: the usual opening -- both trees, the host (bookworm, the default),
# bullseye and trixie configured (plus E2E_EXTRA_ENVS), CHOS started. With
# E2E_IMAGE_FORMAT=squashfs|erofs (the images suite) bullseye and trixie are `image:`
# environments made from the same trees, so every e2e assertion holds for images too;
# the environments' trees are then checked to be those images' mounts.
e2e_start_all() {
    e2e_setup bullseye trixie
    local format=${E2E_IMAGE_FORMAT:-} b=$TREES/bullseye t=$TREES/trixie s fstype
    if [ -n "$format" ]; then
        e2e_images "$format" bullseye trixie
        b=image=$E2E_IMAGES/bullseye.$format t=image=$E2E_IMAGES/trixie.$format
    fi
    IT_DEFAULT=bookworm e2e_config bookworm:- bullseye:"$b" trixie:"$t"
    e2e_start
    [ -n "$format" ] || return 0
    for s in bullseye trixie; do
        fstype=$(findmnt -n -o FSTYPE --mountpoint "$TREE/.chos/gate/$s/tree")
        assert_eq "$s's tree in CHOS is its $format image" "$format" "$fstype"
    done
}

# as_user USER CMD...: CMD as USER, no supplementary groups, a login-like environment,
# in USER's home unless E2E_CWD says where. The launchers are on PATH first.
as_user() {
    local user=$1 uid; shift
    uid=$(e2e_uid "$user") || it_fail "no test user $user"
    (cd "${E2E_CWD:-/home/$user}" &&
     exec env -i HOME="/home/$user" USER="$user" LOGNAME="$user" LANG=C.UTF-8 \
        PATH="$BIN:/usr/local/bin:/usr/bin:/bin" \
        setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@")
}
