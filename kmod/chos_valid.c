// SPDX-License-Identifier: GPL-2.0
/*
 * The targets a task may be given, as written by chos-setup to
 * /proc/chos/valid: one absolute path per line, the first also answering
 * tasks that were never given a link (the host, as chos-linkfs answers).
 * A write replaces the whole list; links already set stay valid (their
 * tasks keep a reference), as running processes keep their environment
 * across a chos-setup reload.
 */
#define pr_fmt(fmt) "chos: " fmt

#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "chos.h"

static struct chos_valid __rcu *chos_valid_list;
static DEFINE_SPINLOCK(chos_valid_lock);

void chos_target_put(struct chos_target *target)
{
	if (target && refcount_dec_and_test(&target->ref))
		kfree_rcu(target, rcu);
}

/* Under rcu_read_lock(): a reference, or NULL when the target is going away. */
struct chos_target *chos_target_get_rcu(struct chos_target *target)
{
	if (target && refcount_inc_not_zero(&target->ref))
		return target;
	return NULL;
}

static struct chos_target *chos_target_new(const char *path, size_t len)
{
	struct chos_target *target;

	target = kmalloc(struct_size(target, path, len + 1), GFP_KERNEL);
	if (!target)
		return NULL;
	refcount_set(&target->ref, 1);
	target->len = len;
	memcpy(target->path, path, len);
	target->path[len] = '\0';
	return target;
}

static void chos_valid_free(struct chos_valid *valid)
{
	unsigned int i;

	if (!valid)
		return;
	for (i = 0; i < valid->count; i++)
		chos_target_put(valid->targets[i]);
	kfree_rcu(valid, rcu);
}

/* An absolute path, no NUL, not empty, not too long. */
int chos_check_path(const char *path, size_t len)
{
	if (len == 0 || path[0] != '/')
		return -EINVAL;
	if (len >= CHOS_TARGET_MAX)
		return -ENAMETOOLONG;
	if (memchr(path, '\0', len))
		return -EINVAL;
	return 0;
}

static unsigned int chos_count_lines(const char *text, size_t len)
{
	unsigned int lines = 0;
	size_t i;

	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			lines++;
	return lines;
}

int chos_valid_replace(const char *text, size_t len)
{
	struct chos_valid *valid, *old;
	unsigned int lines, i;
	const char *line = text;
	int err;

	/* Every line ends with '\n': an unterminated write is refused. */
	if (len == 0 || text[len - 1] != '\n')
		return -EINVAL;
	lines = chos_count_lines(text, len);
	if (lines > CHOS_VALID_MAX_ENTRIES)
		return -E2BIG;
	valid = kzalloc(struct_size(valid, targets, lines), GFP_KERNEL);
	if (!valid)
		return -ENOMEM;
	for (i = 0; i < lines; i++) {
		const char *end = memchr(line, '\n', text + len - line);
		size_t n = end - line;

		err = chos_check_path(line, n);
		if (err)
			goto free_valid;
		valid->targets[i] = chos_target_new(line, n);
		if (!valid->targets[i]) {
			err = -ENOMEM;
			goto free_valid;
		}
		valid->count = i + 1;
		line = end + 1;
	}

	spin_lock(&chos_valid_lock);
	old = rcu_dereference_protected(chos_valid_list,
					lockdep_is_held(&chos_valid_lock));
	rcu_assign_pointer(chos_valid_list, valid);
	spin_unlock(&chos_valid_lock);
	chos_valid_free(old);
	return 0;

free_valid:
	chos_valid_free(valid);
	return err;
}

/* A new reference to the allowed target spelled path, or NULL. */
struct chos_target *chos_valid_find(const char *path, size_t len)
{
	struct chos_target *found = NULL;
	struct chos_valid *valid;
	unsigned int i;

	rcu_read_lock();
	valid = rcu_dereference(chos_valid_list);
	for (i = 0; valid && i < valid->count; i++) {
		struct chos_target *target = valid->targets[i];

		if (target->len == len && !memcmp(target->path, path, len)) {
			found = chos_target_get_rcu(target);
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/* Under rcu_read_lock(): the answer for unregistered tasks (no reference). */
struct chos_target *chos_valid_default(void)
{
	struct chos_valid *valid = rcu_dereference(chos_valid_list);

	return valid && valid->count ? valid->targets[0] : NULL;
}

/* For reading /proc/chos/valid: the list as it was written. */
int chos_valid_seq_show(struct seq_file *m, void *v)
{
	struct chos_valid *valid;
	unsigned int i;

	rcu_read_lock();
	valid = rcu_dereference(chos_valid_list);
	for (i = 0; valid && i < valid->count; i++) {
		seq_write(m, valid->targets[i]->path, valid->targets[i]->len);
		seq_putc(m, '\n');
	}
	rcu_read_unlock();
	return 0;
}

void chos_valid_clear(void)
{
	struct chos_valid *old;

	spin_lock(&chos_valid_lock);
	old = rcu_dereference_protected(chos_valid_list,
					lockdep_is_held(&chos_valid_lock));
	RCU_INIT_POINTER(chos_valid_list, NULL);
	spin_unlock(&chos_valid_lock);
	chos_valid_free(old);
}
