#!/usr/bin/env bash
# ~/.chos read as root, through PAM: ~/.chos as a symlink to /etc/shadow (and to a
# root-only file), a FIFO, a 1 GiB file, a directory, an unreadable file. pam_chos
# runs as root inside sshd; the file must be read with the user's rights only,
# bounded, without hanging the login, and its content must never reach the user,
# sshd's log or syslog.
# checks: I
source "$(dirname "$0")/../integration/lib.sh"
it_main "$@"
source "$(dirname "$IT_SELF")/pam_lib.sh"

pam_namespace
pam_add_user chospama
# A marker only root can read: a shadow entry, and a root-only file naming trixie.
SECRET=CHOSSECRET$RANDOM$RANDOM
echo "chospamsecret:\$6\$$SECRET\$x:19000:0:99999:7:::" >> /etc/shadow
pam_trees
pam_chos_config
it_start
pam_service fail_to_default=yes
pam_sshd_start
it_say "sshd on 127.0.0.1:$PAM_PORT"

A=chospama
H=/home/$A
ROOT_ONLY=$IT_BASE/root-only
printf 'trixie\n%s\n' "$SECRET" > "$ROOT_ONLY"; chmod 0600 "$ROOT_ONLY"

# login_case WHAT EXPECTED-VERSION NOTE-REGEX: one ssh login; bounded in time, the
# environment as expected, the note shown once on a command's stderr (the sshrc CHOS
# lays over /etc/ssh) and in a pty login, no secret anywhere.
login_case() {
    local what=$1 expected=$2 note=$3 out err rc start elapsed
    start=$(date +%s%N)
    out=$(pam_ssh $A cat /etc/debian_version 2>"$IT_BASE/stderr"); rc=$?
    elapsed=$((($(date +%s%N) - start) / 1000000))
    err=$(cat "$IT_BASE/stderr")
    it_say "$what: ${elapsed} ms"
    assert_eq "$what: exit ($out $err)" 0 "$rc"
    assert_eq "$what: environment" "$expected" "$out"
    assert_le "$what: login time (ms)" 10000 "$elapsed"
    assert_no_match "$what: no secret on stderr" "$SECRET" "$err"
    if [ -z "$note" ]; then
        assert_eq "$what: nothing on stderr" "" "$err"
    else
        assert_match "$what: told on stderr" "$note" "$err"
        assert_eq "$what: told once on stderr" 1 "$(grep -c . <<< "$err")"
        out=$(printf 'exit\n' | pam_ssh -tt $A 2>&1 | tr -d '\r')
        assert_match "$what: the user is told" "$note" "$out"
        assert_no_match "$what: no secret in the pty session" "$SECRET" "$out"
    fi
    assert_no_match "$what: no secret in syslog" "$SECRET" "$(cat "$PAM_LOG")"
    assert_no_match "$what: no secret in sshd's log" "$SECRET" "$(cat "$PAM_SSHD_LOG")"
}

# A symlink to /etc/shadow: never followed (O_NOFOLLOW, and read as the user).
rm -rf "$H/.chos"; ln -s /etc/shadow "$H/.chos"
login_case "~/.chos -> /etc/shadow" "$PAM_BULLSEYE_VERSION" \
    "chos: ~/\\.chos cannot be opened by the user \\(or is a symlink\\): ignored"
# A symlink to a root-only file that names trixie: root's rights would pick trixie.
rm -rf "$H/.chos"; ln -s "$ROOT_ONLY" "$H/.chos"
login_case "~/.chos -> a root-only file" "$PAM_BULLSEYE_VERSION" "ignored"
# Unreadable by the user (root-owned 0600 in the user's home, naming trixie).
rm -rf "$H/.chos"; cp "$ROOT_ONLY" "$H/.chos"; chmod 0600 "$H/.chos"; chown 0:0 "$H/.chos"
login_case "~/.chos unreadable" "$PAM_BULLSEYE_VERSION" "chos: ~/\\.chos cannot be opened by the user"
# The user's own file with mode 000: the user cannot read it either.
rm -rf "$H/.chos"; printf 'trixie\n' > "$H/.chos"; chown $A: "$H/.chos"; chmod 000 "$H/.chos"
login_case "~/.chos mode 000" "$PAM_BULLSEYE_VERSION" "ignored"
# A FIFO nobody writes to: no hang.
rm -rf "$H/.chos"; mkfifo -m 0644 "$H/.chos"; chown $A: "$H/.chos"
login_case "~/.chos a FIFO" "$PAM_BULLSEYE_VERSION" "chos: ~/\\.chos is not a regular file: ignored"
# A directory.
rm -rf "$H/.chos"; mkdir "$H/.chos"; chown $A: "$H/.chos"
login_case "~/.chos a directory" "$PAM_BULLSEYE_VERSION" "chos: ~/\\.chos is not a regular file: ignored"
# 1 GiB whose first line names trixie: only the first 4 KiB are read.
rm -rf "$H/.chos"; printf 'trixie\n' > "$H/.chos"; truncate -s 1G "$H/.chos"; chown $A: "$H/.chos"
login_case "~/.chos 1 GiB, first line trixie" "$PAM_TRIXIE_VERSION" ""
# 1 GiB of NUL bytes, no newline: an invalid name, quoted and cut, then the default.
rm -rf "$H/.chos"; truncate -s 1G "$H/.chos"; chown $A: "$H/.chos"
login_case "~/.chos 1 GiB of NULs" "$PAM_BULLSEYE_VERSION" \
    "chos: invalid environment name: '(\\\\x00){64}\\.\\.\\.' \\(from ~/.chos\\).*using the default environment 'bullseye'"
rm -f "$H/.chos"

# With fail_to_default=no the unreadable kinds count as no file: the default, not a refusal.
pam_service fail_to_default=no
ln -s /etc/shadow "$H/.chos"
login_case "fail_to_default=no, ~/.chos -> /etc/shadow" "$PAM_BULLSEYE_VERSION" \
    "chos: ~/\\.chos cannot be opened by the user \\(or is a symlink\\): ignored"
rm -f "$H/.chos"

it_done
