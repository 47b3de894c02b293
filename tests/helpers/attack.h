/* chos-it-attack: the attack harnesses of the integration suite (docs/threat-model.md),
 * apart from the probes of chos-it-tool: each subcommand plays an attacker, or sets up
 * a caller no honest user has, against the real setuid launcher or chos-setup. One
 * file per attack; attack_main.c holds the table of subcommands and the usage. */
#pragma once

#define _GNU_SOURCE
#include <stdint.h>
#include <sys/types.h>

/* What every attack file may use (attack_main.c). */
const char *attack_errname(int e);
void attack_die(const char *what); /* message with strerror(errno), exit 2 */
long attack_num(const char *s);    /* a decimal number or exit 2 */
uint64_t attack_now_ns(void);
/* Become UID/GID with exactly GROUPS (n of them), all three ids; exit 2 on failure. */
void attack_become(uid_t uid, gid_t gid, const gid_t *groups, int n);

/* The subcommands: argc/argv after the subcommand's name. */
int attack_exec0(int argc, char **argv);
int attack_ptrace_race(int argc, char **argv);
int attack_exchange(int argc, char **argv);
int attack_signal_window(int argc, char **argv);
int attack_unusual_caller(int argc, char **argv);
int attack_forge_output(int argc, char **argv);
