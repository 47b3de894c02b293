#!/usr/bin/env bash
# The child's environment variables (chos.yaml(5) ENVIRONMENT VARIABLES: top-level
# rules, then the environment's; keep filters, unset removes, set assigns; CHOS is
# always set last), the `personality: linux32` setting (uname -m), and the audit
# line each launch writes to syslog (authpriv), read from a /dev/log of our own.
# checks: B
source "$(dirname "$0")/lib.sh"
it_main "$@"
source "$IT_LIB_DIR/launcher_lib.sh"
command -v python3 >/dev/null || it_fail "needs python3 (the /dev/log listener)"

it_launchers
it_user chosit
lt_private_dev
make_tree "$IT_BASE/trees/a" a
make_tree "$IT_BASE/trees/b" b
for t in a b; do ln -s busybox "$IT_BASE/trees/$t/bin/uname"; done

IT_DEFAULT=a IT_CFG_EXTRA="  b:
    path: $IT_BASE/trees/b
    environment:
      keep: [PATH, HOME, KEEPME, SITE, OVERRIDE, TERM]
      unset: [TERM]
      set: { OVERRIDE: \"b\", NEWVAR: \"from b\" }
  c32:
    path: $IT_BASE/trees/a
    personality: linux32
environment:
  unset: [DROPME]
  set: { SITE: nersc, OVERRIDE: top }" it_config a:"$IT_BASE/trees/a" h:-
it_bind_config
it_start

AS=("${IT_AS_USER[@]}")
# A caller environment with something to keep, drop and override, and a stale CHOS.
CALLER=(KEEPME=1 OTHER=2 DROPME=3 OVERRIDE=caller TERM=vt100 CHOS=stale SECRETVAL=topsecret123)
child_env() { # ENV: the child's `env`, sorted, without the harness's own variables
    "${AS[@]}" "${CALLER[@]}" "$BIN/chos-run" -o "$1" -- env 2>&1 | sort
}

# ------------------------------------------------------------- variable rules

# a: only the top-level rules: everything passes except DROPME; SITE and OVERRIDE set.
out=$(child_env a)
assert_eq "a: KEEPME passed on" "KEEPME=1" "$(grep '^KEEPME=' <<< "$out")"
assert_eq "a: OTHER passed on" "OTHER=2" "$(grep '^OTHER=' <<< "$out")"
assert_eq "a: DROPME unset (top level)" "" "$(grep '^DROPME=' <<< "$out")"
assert_eq "a: SITE set (top level)" "SITE=nersc" "$(grep '^SITE=' <<< "$out")"
assert_eq "a: OVERRIDE set over the caller's" "OVERRIDE=top" "$(grep '^OVERRIDE=' <<< "$out")"
assert_eq "a: CHOS is the environment, not the caller's" "CHOS=a" "$(grep '^CHOS=' <<< "$out")"
assert_eq "a: TERM passed on" "TERM=vt100" "$(grep '^TERM=' <<< "$out")"

# b: top-level rules, then b's keep (CHOS is set even though keep omits it), unset, set.
out=$(child_env b)
PATH_B=$(grep '^PATH=' <<< "$out")
assert_match "b: PATH kept, the launcher's directory appended" "^PATH=.*:/\\.chos/bin$" "$PATH_B"
expected=$(printf '%s\n' "CHOS=b" "HOME=/home/chosit" "KEEPME=1" "NEWVAR=from b" "OVERRIDE=b" "$PATH_B" "SITE=nersc" | sort)
assert_eq "b: exactly keep - unset + set + CHOS" "$expected" "$out"

# The host environment: the same top-level rules, CHOS set, PATH untouched.
out=$(child_env h)
assert_eq "h: CHOS" "CHOS=h" "$(grep '^CHOS=' <<< "$out")"
assert_eq "h: DROPME unset" "" "$(grep '^DROPME=' <<< "$out")"
assert_eq "h: SITE" "SITE=nersc" "$(grep '^SITE=' <<< "$out")"
assert_eq "h: PATH is the caller's" "PATH=$PATH" "$(grep '^PATH=' <<< "$out")"

# ------------------------------------------------------------- personality

machine=$(uname -m)
[ "$machine" = x86_64 ] || it_fail "the personality check expects an x86_64 host, not $machine"
assert_eq "a: uname -m" "x86_64" "$("${AS[@]}" "$BIN/chos-run" -o a -- uname -m 2>&1)"
assert_eq "c32 (personality: linux32): uname -m" "i686" "$("${AS[@]}" "$BIN/chos-run" -o c32 -- uname -m 2>&1)"
assert_eq "c32: the same tree" "NAME=a" "$("${AS[@]}" "$BIN/chos-run" -o c32 -- grep '^NAME=' /etc/os-release 2>&1)"
# The personality is the environment's: leaving c32 for a 64-bit environment (or the
# host) gives the default, linux, back (chos.yaml(5): "default: linux").
assert_eq "c32 -> a: uname -m" "x86_64" "$("${AS[@]}" "$BIN/chos-run" -o c32 -- chos-run -o a -- uname -m 2>&1)"
assert_eq "c32 -> h: uname -m" "x86_64" "$("${AS[@]}" "$BIN/chos-run" -o c32 -- chos-run -o h -- uname -m 2>&1)"
assert_eq "a -> c32: uname -m" "i686" "$("${AS[@]}" "$BIN/chos-run" -o a -- chos-run -o c32 -- uname -m 2>&1)"

# ------------------------------------------------------------- audit line

# A line per launch, facility authpriv (10), severity notice (5): <85>. Never the
# value of an environment variable.
lines_now() { wc -l < "$LT_SYSLOG"; }
last_line_after() { # N: the lines after the first N
    tail -n +"$(($1 + 1))" "$LT_SYSLOG"
}
PREFIX='^<85>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} chos: '
# audit_case WHAT CHOS-RUN-ARGS... :: LINE-REGEX...: the launch writes exactly these lines.
audit_case() {
    local what=$1 n lines i=0 rx args=()
    shift
    while [ "$1" != :: ]; do args+=("$1"); shift; done
    shift
    n=$(lines_now)
    "${AS[@]}" "${CALLER[@]}" "$BIN/chos-run" "${args[@]}" >/dev/null 2>&1
    # the datagrams are written before exec (or its failure); the listener may lag
    more_lines() { [ "$(lines_now)" -ge $((n + $#)) ]; }
    wait_for 5 more_lines "$@"
    sleep 0.2
    lines=$(last_line_after "$n")
    assert_eq "audit $what: lines" "$#" "$(printf '%s\n' "$lines" | grep -c .)"
    for rx in "$@"; do
        i=$((i + 1))
        assert_match "audit $what: line $i" "$PREFIX$rx\$" "$(sed -n "${i}p" <<< "$lines")"
    done
}
U="user=chosit uid=$IT_USER_UID"
audit_case "ok" -o a -- true :: "$U env=a cmd=true result=ok"
audit_case "ok, command by path" -o b -- /bin/cat /dev/null :: "$U env=b cmd=cat result=ok"
audit_case "refused" -o nope -- true :: \
    "$U env=- cmd=true result=refused: unknown environment: 'nope' \\(from -o\\) \\(see 'chos --list'\\)"
# A failed exec: the line written right before execve (it cannot be written after a
# successful one), then the failure.
audit_case "failed exec" -o a -- nosuchcmd :: \
    "$U env=a cmd=nosuchcmd result=ok" \
    "$U env=a cmd=nosuchcmd result=failed: cannot run 'nosuchcmd': No such file or directory"
# A hostile command name is escaped like any argument in a message (no format, no newline).
audit_case "hostile command name" -o a -- $'x%n\ny' :: \
    "$U env=a cmd=x\\\\x25n\\\\x0ay result=ok" \
    "$U env=a cmd=x\\\\x25n\\\\x0ay result=failed: cannot run 'x\\\\x25n\\\\x0ay': No such file or directory"
assert_no_match "audit: no environment value logged" "topsecret123|vt100|nersc" "$(cat "$LT_SYSLOG")"

# ------------------------------------------------------------- config refusal

# CHOS cannot be named in the rules: the whole config is refused, file:line:col.
cp "$CFG" "$IT_BASE/chos.yaml.good"
printf 'environment:\n  set: { CHOS: forced }\n' > "$IT_BASE/extra.yaml"
sed '/^environment:$/,$d' "$IT_BASE/chos.yaml.good" > "$CFG.new"
cat "$IT_BASE/extra.yaml" >> "$CFG.new"
cat "$CFG.new" > "$CFG"   # in place: $CFG is bound over the fixed path
line=$(grep -n 'CHOS: forced' "$CFG" | cut -d: -f1)
out=$("${AS[@]}" "$BIN/chos-run" -o a -- true 2>&1); rc=$?
assert_eq "CHOS in set: exit" 125 "$rc"
assert_match "CHOS in set: message" \
    "^chos: invalid configuration: [^ ]*chos.yaml:$line:[0-9]+: CHOS is always set to the environment's name and cannot be changed here$" "$out"
cp "$IT_BASE/chos.yaml.good" "$CFG"

it_done
