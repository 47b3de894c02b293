#!/usr/bin/env bash
# The libraries come from the chosen tree: the environment's own gcc builds a
# C program printing gnu_get_libc_version() in a shared /home directory, and running it
# shows glibc 2.31 in bullseye, 2.41 in trixie, 2.36 on the host (bookworm); the binary
# built in bullseye runs against trixie's newer libc too, not the other way round.
# checks: P1 D
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$CHOS_SOURCE_DIR/tests/e2e/e2e.sh"

e2e_start_all

src=/home/chos-alice/libc
install -d -o 64101 -g 64101 "$src"
cat > "$src/version.c" <<'C'
#include <gnu/libc-version.h>
#include <stdio.h>

int main(void)
{
    printf("%s\n", gnu_get_libc_version());
    return 0;
}
C
chown 64101:64101 "$src/version.c"

build_and_run() { # ENV EXPECTED-GCC-MAJOR EXPECTED-LIBC
    local env=$1 gcc_major=$2 libc=$3 out rc
    out=$(E2E_CWD=$src as_user chos-alice chos-run -o "$env" -- gcc -dumpversion 2>&1)
    assert_eq "gcc -dumpversion in $env" "$gcc_major" "${out%%.*}"
    out=$(E2E_CWD=$src as_user chos-alice chos-run -o "$env" -- gcc -O2 -o "version-$env" version.c 2>&1); rc=$?
    assert_eq "gcc in $env: exit status ($out)" 0 "$rc"
    out=$(E2E_CWD=$src as_user chos-alice chos-run -o "$env" -- "./version-$env" 2>&1); rc=$?
    assert_eq "./version-$env in $env: exit status ($out)" 0 "$rc"
    assert_eq "gnu_get_libc_version() in $env" "$libc" "$out"
    it_say "$env: gcc $gcc_major, gnu_get_libc_version() = $out"
}
build_and_run bullseye 10 2.31
build_and_run trixie 14 2.41
# the host (tools/install-deps installs its gcc)
build_and_run bookworm 12 2.36

# The same binary, the environment decides: built against 2.31, run on trixie's 2.41.
assert_eq "version-bullseye run in trixie" 2.41 \
    "$(E2E_CWD=$src as_user chos-alice chos-run -o trixie -- ./version-bullseye 2>&1)"
# Built against 2.41 (symbol versions newer than 2.31): bullseye's loader refuses it.
out=$(E2E_CWD=$src as_user chos-alice chos-run -o bullseye -- ./version-trixie 2>&1); rc=$?
assert_ne "version-trixie run in bullseye: exit status" 0 "$rc"
assert_match "version-trixie run in bullseye: the loader's complaint" "GLIBC_2\\.3[4-9]' not found" "$out"

it_done
