# bench/bench_build.sh -- the opening every bench script shares, sourced first thing
# (before tests/integration/lib.sh, so in both halves):
#
#   source "$(dirname "$0")/bench_build.sh"
#   bench_build bench/NAME [TARGET...] [-- PROG...]
#
# Exports, unless already set, CHOS_SOURCE_DIR (this checkout), CHOS_BUILD_DIR (its
# build/), BENCH_BIN (CHOS_BUILD_DIR/bench) and CHOS_LAUNCHER_DIR: the inner half, which
# lib.sh re-runs in its own namespaces, finds them in its environment.
#
# bench_build, in the outer half only (the inner half finds it all done): root or a
# refusal; the meson build directory set up when it has no build.ninja; `meson
# compile` of TARGET... (of everything when none is named); each bench/PROG.c compiled
# static into BENCH_BIN. A failure: one line naming the script, exit 1.

BENCH_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export CHOS_SOURCE_DIR=${CHOS_SOURCE_DIR:-$(cd "$BENCH_HERE/.." && pwd)}
export CHOS_BUILD_DIR=${CHOS_BUILD_DIR:-$CHOS_SOURCE_DIR/build}
export BENCH_BIN=${BENCH_BIN:-$CHOS_BUILD_DIR/bench}
export CHOS_LAUNCHER_DIR=${CHOS_LAUNCHER_DIR:-$CHOS_BUILD_DIR/src/launcher}

bench_build() { # bench/NAME [TARGET...] [-- PROG...]
    local name=$1 targets=() prog
    shift
    [ -z "${CHOS_IT_INNER:-}" ] || return 0
    while [ $# -gt 0 ] && [ "$1" != -- ]; do targets+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    [ "$(id -u)" = 0 ] || { echo "$name: needs root" >&2; exit 1; }
    if [ ! -f "$CHOS_BUILD_DIR/build.ninja" ]; then
        meson setup "$CHOS_BUILD_DIR" "$CHOS_SOURCE_DIR" >/dev/null || exit 1
    fi
    meson compile -C "$CHOS_BUILD_DIR" "${targets[@]}" >/dev/null || { echo "$name: the build failed" >&2; exit 1; }
    mkdir -p "$BENCH_BIN"
    for prog in "$@"; do
        [ -f "$BENCH_HERE/$prog.c" ] || { echo "$name: missing $BENCH_HERE/$prog.c" >&2; exit 1; }
        cc -O2 -static -o "$BENCH_BIN/$prog" "$BENCH_HERE/$prog.c" || exit 1
    done
}
