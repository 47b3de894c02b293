#!/usr/bin/env bash
# The paths the README and the man pages name are where `meson install` puts the files
# (issue 14, item 2): this build is installed into a temporary DESTDIR, then
#  * every path in the README under /lib or /usr/lib (the PAM and Slurm directories,
#    which do not follow the prefix) is there, for the parts this build has;
#  * every path the built man pages name under one of the build's install directories
#    (bindir, sbindir, the PAM, Slurm and systemd directories, the examples) is there.
# usage: install_paths.sh SOURCE_ROOT BUILD_ROOT
# checks: -
set -uo pipefail
root=$1 build=$2
dest=$(mktemp -d /tmp/chos-install-paths.XXXXXX) || exit 1
trap 'rm -rf "$dest"' EXIT
if ! out=$(meson install -C "$build" --destdir "$dest" --no-rebuild 2>&1); then
  printf '%s\n' "$out" | tail -n 20 >&2
  echo "FAIL: meson install --destdir failed" >&2
  exit 1
fi
failed=0 checked=0
fail() { echo "FAIL: $*" >&2; failed=1; }
installed() { [ -e "$dest$1" ]; }
# the parts this build installs (an optional part left out is not looked for)
has_part() { find "$dest" -name "$1" | grep -q .; }

# README: /lib/... and /usr/lib/... paths (the install-independent ones)
while read -r p; do
  case $p in
    *pam_chos.so|*/security) has_part pam_chos.so || continue ;;
    *spank_chos.so|*/slurm-wlm) has_part spank_chos.so || continue ;;
  esac
  checked=$((checked + 1))
  installed "$p" || fail "README.md names $p, which meson install does not make"
done < <(grep -oE '(^|[ `(])/(usr/)?lib/[A-Za-z0-9_./-]*[A-Za-z0-9_]' "$root/README.md" | sed 's/^[ `(]//' | sort -u)

# the built man pages: paths under the build's install directories
installed_dirs=$(cd "$dest" && find . -type f | sed 's|^\.||; s|/[^/]*$||' | sort -u)
while read -r p; do
  dir=${p%/*}
  # only paths in a directory this install writes into (not /etc/chos.yaml, /run/...),
  # and not the system's programs CHOS runs (chos(1): getent)
  grep -qxF "$dir" <<< "$installed_dirs" || continue
  case $p in /usr/bin/getent) continue ;; esac
  checked=$((checked + 1))
  installed "$p" || fail "a man page names $p, which meson install does not make"
done < <(sed 's/\\-/-/g' "$build"/man/*.[1-8] | grep -oE '/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+' | sort -u)
((checked > 3)) || fail "only $checked paths checked: the README or the man pages changed shape?"
((failed == 0)) && echo "install paths OK: $checked paths of README.md and the man pages exist after meson install"
exit "$failed"
