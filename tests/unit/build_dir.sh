#!/usr/bin/env bash
# tools/build-dir (tools/demo's and tools/test's meson setup) recovers whatever state an
# earlier run left: an interrupted setup (meson-private but no build.ninja), a broken
# one, options changed on the way; and never removes a directory meson did not make.
# usage: build_dir.sh SOURCE_ROOT
# checks: -
set -uo pipefail
root=$1
tool=$root/tools/build-dir
tmp=$(mktemp -d /tmp/chos-build-dir-test.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }
configured() { [ -f "$1/build.ninja" ] && [ -f "$1/meson-private/coredata.dat" ]; }
werror() { meson introspect --buildoptions "$1" | python3 -c 'import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == "werror"][0])'; }

b=$tmp/b
"$tool" "$b" >/dev/null 2>&1 || fail "a new directory: exit $?"
configured "$b" || fail "a new directory is not configured"

rm -f "$b/build.ninja"      # an interrupted setup
out=$("$tool" "$b" -Dwerror=true 2>&1) || fail "after an interrupted setup: exit $? ($out)"
configured "$b" || fail "an interrupted setup is not set up again"
[[ $out == *"half configured"* ]] || fail "an interrupted setup is not reported: '$out'"
[ "$(werror "$b")" = True ] || fail "the options are not those given (werror $(werror "$b"))"

echo garbage > "$b/meson-private/coredata.dat"   # a broken one
"$tool" "$b" -Dwerror=false >/dev/null 2>&1 || fail "a broken coredata: exit $?"
configured "$b" || fail "a broken build directory is not set up again"
[ "$(werror "$b")" = False ] || fail "reconfigured options not applied"

mkdir "$tmp/mine" && echo precious > "$tmp/mine/file"
out=$("$tool" "$tmp/mine" 2>&1); rc=$?
[ $rc = 1 ] || fail "a directory meson did not make: exit $rc, expected 1"
[[ $out == *"is not a meson build directory"* ]] || fail "a foreign directory: no clear message: '$out'"
[ "$(cat "$tmp/mine/file")" = precious ] || fail "a foreign directory's file was touched"

((failed == 0)) && echo "build-dir OK: new, interrupted, broken, foreign"
exit "$failed"
