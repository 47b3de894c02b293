#!/usr/bin/env bash
# The man pages render without warnings, and chos.yaml(5) documents every top-level
# key the parser accepts (so the documentation cannot drift from yaml_config.cpp).
# The pages checked are the ones the build made from man/ (paths and version filled in).
# usage: man_pages.sh SOURCE_ROOT [BUILT_MAN_DIR]
# checks: -
set -uo pipefail
root=${1:-${MESON_SOURCE_ROOT:-}}
mandir=${2:-${root:+$root/man}}
if [[ -z $root || ! -d $root/man ]]; then
  echo "man_pages.sh: no source root given (usage: man_pages.sh SOURCE_ROOT)" >&2
  exit 1
fi
if ! command -v man >/dev/null; then
  # As root (CI) a missing tool fails the test; only without root does it skip
  # (docs/testing.md "Skips").
  if [[ $(id -u) == 0 ]]; then
    echo "man_pages.sh: 'man' not found (apt-get install man-db groff-base; tools/install-deps)" >&2
    exit 1
  fi
  echo "man_pages.sh: 'man' not found (apt-get install man-db groff-base): skipped" >&2
  exit 77
fi

failed=0
shopt -s nullglob
pages=("$mandir"/*.[1-8])
if ((${#pages[@]} == 0)); then
  echo "man_pages.sh: no man pages under $mandir" >&2
  exit 1
fi
for page in "${pages[@]}"; do
  out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
  if [[ -n $out ]]; then
    echo "FAIL: ${page#"$root"/} renders with warnings:" >&2
    printf '%s\n' "$out" >&2
    failed=1
  fi
  if [[ $mandir != "$root/man" ]] && grep -n '@[A-Z_]*@' "$page" >&2; then
    echo "FAIL: $page: a placeholder the build did not fill in (man/meson.build)" >&2
    failed=1
  fi
done

# The top-level keys: the `key == "..."` tests inside the parser's read_key(), the
# one branch per top-level key, up to the end of that function.
parser=$root/src/config/yaml_config.cpp
keys=$(awk '/void read_key\(/ { on = 1 } on && /^    \}$/ { exit } on' "$parser" |
  grep -o 'key == "[a-z_]*"' | sed 's/key == "\(.*\)"/\1/' | sort -u)
if [[ -z $keys ]]; then
  echo "FAIL: found no top-level keys in $parser (did the parser change shape?)" >&2
  failed=1
fi
doc=$root/man/chos.yaml.5
for key in $keys; do
  # A key is documented when it heads a tagged paragraph: ".BR key ..." or ".B key".
  if ! grep -Eq "^\.BR? ${key}( |\$)" "$doc"; then
    echo "FAIL: top-level key '$key' (src/config/yaml_config.cpp) is not documented in man/chos.yaml.5" >&2
    failed=1
  fi
done

((failed == 0)) && echo "man pages OK: ${#pages[@]} pages; keys: $(echo $keys)"
exit "$failed"
