# bench/bench_lib.sh -- what bench/launch, bench/run and bench/real share (sourced
# after tests/integration/lib.sh's it_main). docs/benchmarks.md says how to read them.
#
#   median                      the median of the numbers on stdin ("nan" when none)
#   ratio A B                   A / B to two decimals ("–" when either is missing)
#   log TEXT                    a progress line on stderr ("# TEXT")
#   shuffled WAY...             the ways, one per line, in a random order: every round
#                               measures them in a new order, so no way always runs
#                               first (cold caches) or right after a given other one
#   bench_header / bench_footer the run's date, kernel, cores and load average, and at
#                               the end whether the run counts as quiet
#   bench_w5_project DIR UID    W5's project (docs/benchmarks.md) written in DIR, owned by
#                               UID; prints the shell script that builds, links and runs it
#   BENCH_W4_SCRIPT             W4: dpkg --verify, its status and its report's digest
#   exact TEXT                  an extended regex matching TEXT, exactly, alone
#   bench_one W ENV SCRIPT REGEX
#                               one workload's rounds, every way side by side: cells
#   bench_w7 WAY TITLE LINK REG ENV...
#                               W7's fork storm against a plain symlink, side by side,
#                               then one long run: W7_TABLE, W7_BIG (below)
#
# A run is called quiet only when the load average says so: the 1-minute load below a
# quarter of a core per core (BENCH_QUIET_LOAD, default 0.25 × cores) at the start and
# at the end. Otherwise the numbers stand as within-run ratios of a busy machine.

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "nan" || b == "nan" || b == 0) print "–"; else printf "%.2f", a / b }'; }
log() { echo "# $*" >&2; }
shuffled() { printf '%s\n' "$@" | shuf; }

bench_load() { cut -d' ' -f1-3 /proc/loadavg; }
bench_quiet_limit() { awk -v c="$(nproc)" -v l="${BENCH_QUIET_LOAD:-}" 'BEGIN { printf "%.2f", (l != "" ? l : 0.25 * c) }'; }
bench_is_quiet() { # LOAD-1MIN
    awk -v a="$1" -v l="$(bench_quiet_limit)" 'BEGIN { exit !(a < l) }'
}

# The start of the run: when this file is sourced.
BENCH_START_DATE=$(date -u '+%F %H:%M')
BENCH_LOAD_START=$(bench_load)

bench_header() { # [WHAT]
    echo "_${BENCH_START_DATE} UTC, $(uname -r), $(nproc) cores, load average at start ${BENCH_LOAD_START}${1:+, $1}_"
    echo
}

bench_footer() {
    local end verdict
    end=$(bench_load)
    if bench_is_quiet "${BENCH_LOAD_START%% *}" && bench_is_quiet "${end%% *}"; then
        verdict="a quiet run"
    else
        verdict="not a quiet run"
    fi
    echo "_load average at the end $end: $verdict (1-minute load below $(bench_quiet_limit) at start and end)_"
}

# W5: 20 C files, each including the usual system headers, and a main calling them all.
bench_w5_project() { # DIR UID
    local proj=$1 i h headers="stdio.h stdlib.h string.h unistd.h errno.h fcntl.h signal.h time.h math.h ctype.h
  pthread.h sys/types.h sys/stat.h sys/socket.h sys/wait.h sys/mman.h netinet/in.h arpa/inet.h
  netdb.h poll.h dirent.h limits.h stdint.h inttypes.h"
    install -d -o "$2" -g "$2" "$proj"
    for i in $(seq 1 20); do
        {
            for h in $headers; do echo "#include <$h>"; done
            echo "int f$i(int x) { char b[64]; snprintf(b, sizeof b, \"%d\", x); return (int)strlen(b) + (int)sqrt((double)x) + $i; }"
        } > "$proj/f$i.c"
    done
    {
        echo '#include <stdio.h>'
        for i in $(seq 1 20); do echo "int f$i(int);"; done
        echo 'int main(void) { int s = 0;'
        for i in $(seq 1 20); do echo "s += f$i($i);"; done
        echo 'printf("%d\n", s); return 0; }'
    } > "$proj/main.c"
    chown -R "$2:$2" "$proj"
    echo "cd $proj && rm -f *.o prog && for f in *.c; do gcc -O2 -c \"\$f\" || exit 1; done && gcc -o prog *.o -lm && ./prog"
}

# W4: dpkg's status, and its report reduced to a line count and a digest (a minbase tree
# reports thousands of files: the docs mmdebstrap leaves out, identical every run). The
# top-level directories the CHOS tree does not show (/boot, /root, /run, /sys, /tmp: not
# os_dirs, not binds) are left out of every way's report alike.
# shellcheck disable=SC2016 # expanded inside the environment
BENCH_W4_SCRIPT='out=$(dpkg --verify 2>&1); rc=$?; out=$(printf "%s\n" "$out" | grep -Ev "^missing +(c +)?/[^/]+$"); echo "dpkg --verify: exit $rc, $(printf "%s\n" "$out" | grep -c .) lines, md5 $(printf "%s" "$out" | md5sum | cut -c1-12)"'

# W7 (docs/benchmarks.md): bench_w7 WAY TITLE LINK REG ENV...: fork_storm's
# fork + readlink + compare, 3 rounds side by side (the ways in a new random order each
# round) of w7_side checks with w7_workers workers: a plain symlink (native) against
# WAY -- LINK, the workers registered in REG's environments ENV... (fork_storm's
# arguments) -- then one run of w7_total checks of WAY. W7_BIG is that run's line;
# W7_TABLE the markdown table, headed "### W7 fork storm" TITLE. Returns that run's
# status: not 0 when it saw a wrong answer or an error.
bench_w7() { # WAY TITLE LINK REG ENV...
    local way=$1 title=$2 link=$3 reg=$4 r w o rc rn rw native=() ways=()
    shift 4
    mkdir -p "$IT_BASE/w7native" && ln -sfn ../os/x "$IT_BASE/w7native/link"
    for r in 1 2 3; do
        for w in $(shuffled native way); do
            if [ "$w" = native ]; then
                o=$("$BENCH_BIN/fork_storm" "$IT_BASE/w7native/link" - "$w7_side" "$w7_workers" ../os/x) ||
                    it_fail "W7 native run: $o"
                native+=("$(echo "$o" | awk '{ print $NF }')")
            else
                o=$("$BENCH_BIN/fork_storm" "$link" "$reg" "$w7_side" "$w7_workers" "$@") ||
                    it_fail "W7 $way run: $o"
                ways+=("$(echo "$o" | awk '{ print $NF }')")
            fi
        done
        log "W7 side by side $r: native ${native[-1]}/s, $way ${ways[-1]}/s"
    done
    W7_BIG=$("$BENCH_BIN/fork_storm" "$link" "$reg" "$w7_total" "$w7_workers" "$@")
    rc=$?
    log "W7: $W7_BIG"
    rn=$(printf '%s\n' "${native[@]}" | median); rw=$(printf '%s\n' "${ways[@]}" | median)
    W7_TABLE=$(cat <<EOF
### W7 fork storm$title

| | checks | wrong answers | errors | checks/s |
|---|---:|---:|---:|---:|
| $way, one run | $(echo "$W7_BIG" | awk '{ print $2 }') | **$(echo "$W7_BIG" | awk '{ print $4 }')** | $(echo "$W7_BIG" | awk '{ print $6 }') | $(echo "$W7_BIG" | awk '{ print $NF }') |
| side by side, median of 3 × $w7_side: native (plain symlink) | | | | $rn |
| side by side, median of 3 × $w7_side: $way | | | | $rw (ratio $(ratio "$rw" "$rn")) |
EOF
)
    return $rc
}

exact() { printf '^%s$' "$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<< "$1")"; }

# bench_one W ENV SCRIPT REGEX: workload W (SCRIPT) in environment ENV, every way of
# the caller's hows measured by its time_ms HOW ENV SCRIPT REGEX (the time in ms of one
# run whose output matches REGEX; a failure ends the benchmark): a warm-up per way (page
# cache, the daemon's cache), then $runs rounds, the ways in a new random order each.
# cells[W,ENV,HOW] (an associative array of the caller's) gets each way's median.
bench_one() { # W ENV SCRIPT REGEX
    local w=$1 e=$2 script=$3 re=$4 r how ms
    declare -A series=()
    for how in "${hows[@]}"; do time_ms "$how" "$e" "$script" "$re" >/dev/null; done
    for r in $(seq 1 "$runs"); do
        local line="$w $e run $r:"
        for how in $(shuffled "${hows[@]}"); do
            ms=$(time_ms "$how" "$e" "$script" "$re") || exit 1
            series[$how]+="$ms "
            line+=" $how $ms ms"
        done
        log "$line"
    done
    for how in "${hows[@]}"; do
        cells[$w,$e,$how]=$(tr ' ' '\n' <<< "${series[$how]}" | sed '/^$/d' | median)
    done
}
