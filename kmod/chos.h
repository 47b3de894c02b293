/* SPDX-License-Identifier: GPL-2.0 */
/*
 * chos.ko: the per-process CHOS link in the kernel (man chos.ko(4)).
 *
 * Targets are refcounted, immutable strings. The allowed list (written to
 * /proc/chos/valid by chos-setup) holds one reference on each; every task
 * whose link is set holds one on its own. Both are read under RCU.
 */
#ifndef CHOS_H
#define CHOS_H

#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched.h>

struct seq_file;

#define CHOS_VERSION "0.1.0"

/* Longest target accepted (with its NUL); also bounds a setlink write. */
#define CHOS_TARGET_MAX 1024
/* Bounds on /proc/chos/valid: entries and bytes of one write. */
#define CHOS_VALID_MAX_ENTRIES 4096
#define CHOS_VALID_MAX_BYTES (256 * 1024)

struct chos_target {
	refcount_t ref;
	struct rcu_head rcu;
	size_t len;
	char path[];
};

struct chos_valid {
	struct rcu_head rcu;
	unsigned int count;
	struct chos_target *targets[];	/* targets[0] answers unregistered tasks */
};

void chos_target_put(struct chos_target *target);
struct chos_target *chos_target_get_rcu(struct chos_target *target);

/* chos_valid.c */
int chos_valid_replace(const char *text, size_t len);
struct chos_target *chos_valid_find(const char *path, size_t len);
struct chos_target *chos_valid_default(void);
int chos_valid_seq_show(struct seq_file *m, void *v);
int chos_check_path(const char *path, size_t len);
void chos_valid_clear(void);

/* chos_task.c */
int chos_tasks_init(void);
void chos_tasks_exit(void);
int chos_task_set(struct task_struct *task, struct chos_target *target);
struct chos_target *chos_task_target(struct task_struct *task, bool *found);
unsigned long chos_tasks_count(void);

/* chos_tree.c */
int chos_tree_set(const char *text, size_t len);
void chos_tree_clear(void);
const char *chos_tree_view(const struct chos_target *target);
int chos_tree_seq_show(struct seq_file *m, void *v);

/* chos_fs.c */
int chos_fs_init(void);
void chos_fs_exit(void);

#endif /* CHOS_H */
