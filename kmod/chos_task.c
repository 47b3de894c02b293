// SPDX-License-Identifier: GPL-2.0
/*
 * Per-task links: a hash table keyed by task_struct, filled by setlink and
 * by the sched_process_fork tracepoint (a child gets its parent's link
 * before it first runs), emptied by sched_process_exit. Both tracepoints
 * are found with for_each_kernel_tracepoint(): no kernel patching and no
 * lookup of unexported symbols.
 *
 * A task whose entry cannot be copied at fork (no memory) is killed before
 * it runs: a child silently falling back to the host view would be the
 * original CHOS's worst bug, a process running in the wrong environment.
 */
#define pr_fmt(fmt) "chos: " fmt

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "chos.h"

#define CHOS_TASK_HASH_BITS 12

struct chos_task {
	struct hlist_node node;
	struct rcu_head rcu;
	const struct task_struct *task;	/* key only: never dereferenced */
	struct chos_target __rcu *target;
};

static DEFINE_HASHTABLE(chos_task_table, CHOS_TASK_HASH_BITS);
static DEFINE_SPINLOCK(chos_task_lock);
static struct kmem_cache *chos_task_cache;
static atomic_long_t chos_task_entries = ATOMIC_LONG_INIT(0);

static struct tracepoint *chos_tp_fork;
static struct tracepoint *chos_tp_exit;

/* Under rcu_read_lock() or chos_task_lock. */
static struct chos_task *chos_task_find(const struct task_struct *task)
{
	struct chos_task *entry;

	hash_for_each_possible_rcu(chos_task_table, entry, node,
				   (unsigned long)task)
		if (entry->task == task)
			return entry;
	return NULL;
}

static void chos_task_free(struct chos_task *entry)
{
	chos_target_put(rcu_dereference_protected(entry->target, true));
	kmem_cache_free(chos_task_cache, entry);
}

static void chos_task_free_rcu(struct rcu_head *head)
{
	chos_task_free(container_of(head, struct chos_task, rcu));
}

/* Takes over the caller's reference on target. */
int chos_task_set(struct task_struct *task, struct chos_target *target)
{
	struct chos_task *entry, *fresh;
	struct chos_target *old;

	fresh = kmem_cache_alloc(chos_task_cache, GFP_KERNEL);
	if (!fresh) {
		chos_target_put(target);
		return -ENOMEM;
	}
	spin_lock(&chos_task_lock);
	entry = chos_task_find(task);
	if (entry) {
		old = rcu_dereference_protected(entry->target,
						lockdep_is_held(&chos_task_lock));
		rcu_assign_pointer(entry->target, target);
		spin_unlock(&chos_task_lock);
		kmem_cache_free(chos_task_cache, fresh);
		chos_target_put(old);
		return 0;
	}
	fresh->task = task;
	RCU_INIT_POINTER(fresh->target, target);
	hash_add_rcu(chos_task_table, &fresh->node, (unsigned long)task);
	atomic_long_inc(&chos_task_entries);
	spin_unlock(&chos_task_lock);
	return 0;
}

/*
 * A reference to task's target, or NULL; *found says whether the task has
 * an entry at all (an entry whose target is going away is a race with
 * setlink, answered as an error, never as the host).
 */
struct chos_target *chos_task_target(struct task_struct *task, bool *found)
{
	struct chos_target *target = NULL;
	struct chos_task *entry;

	rcu_read_lock();
	entry = chos_task_find(task);
	*found = !!entry;
	if (entry)
		target = chos_target_get_rcu(rcu_dereference(entry->target));
	rcu_read_unlock();
	return target;
}

unsigned long chos_tasks_count(void)
{
	return atomic_long_read(&chos_task_entries);
}

/* Runs in the parent, before the child is first woken up. */
static void chos_on_fork(void *data, struct task_struct *parent,
			 struct task_struct *child)
{
	struct chos_target *target = NULL;
	struct chos_task *entry;

	rcu_read_lock();
	entry = chos_task_find(parent);
	if (entry)
		target = chos_target_get_rcu(rcu_dereference(entry->target));
	rcu_read_unlock();
	if (!entry)
		return;

	/* Tracepoint probes run with preemption disabled: no sleeping here. */
	entry = target ? kmem_cache_alloc(chos_task_cache,
					  GFP_ATOMIC | __GFP_NOWARN) : NULL;
	if (!entry) {
		chos_target_put(target);
		pr_warn_ratelimited("cannot give pid %d its parent's link: killed\n",
				    task_pid_nr(child));
		send_sig(SIGKILL, child, 1);
		return;
	}
	entry->task = child;
	RCU_INIT_POINTER(entry->target, target);
	spin_lock(&chos_task_lock);
	hash_add_rcu(chos_task_table, &entry->node, (unsigned long)child);
	atomic_long_inc(&chos_task_entries);
	spin_unlock(&chos_task_lock);
}

static void chos_on_exit(void *data, struct task_struct *task)
{
	struct chos_task *entry;

	spin_lock(&chos_task_lock);
	entry = chos_task_find(task);
	if (entry) {
		hash_del_rcu(&entry->node);
		atomic_long_dec(&chos_task_entries);
	}
	spin_unlock(&chos_task_lock);
	if (entry)
		call_rcu(&entry->rcu, chos_task_free_rcu);
}

static void chos_find_tracepoint(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_fork"))
		chos_tp_fork = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		chos_tp_exit = tp;
}

int chos_tasks_init(void)
{
	int err;

	chos_task_cache = KMEM_CACHE(chos_task, 0);
	if (!chos_task_cache)
		return -ENOMEM;
	for_each_kernel_tracepoint(chos_find_tracepoint, NULL);
	if (!chos_tp_fork || !chos_tp_exit) {
		pr_err("sched_process_fork/exit tracepoints not found\n");
		err = -ENOENT;
		goto destroy_cache;
	}
	err = tracepoint_probe_register(chos_tp_exit, chos_on_exit, NULL);
	if (err)
		goto destroy_cache;
	err = tracepoint_probe_register(chos_tp_fork, chos_on_fork, NULL);
	if (err)
		goto unregister_exit;
	return 0;

unregister_exit:
	tracepoint_probe_unregister(chos_tp_exit, chos_on_exit, NULL);
	tracepoint_synchronize_unregister();
destroy_cache:
	kmem_cache_destroy(chos_task_cache);
	return err;
}

void chos_tasks_exit(void)
{
	struct chos_task *entry;
	struct hlist_node *tmp;
	int bucket;

	tracepoint_probe_unregister(chos_tp_fork, chos_on_fork, NULL);
	tracepoint_probe_unregister(chos_tp_exit, chos_on_exit, NULL);
	tracepoint_synchronize_unregister();

	spin_lock(&chos_task_lock);
	hash_for_each_safe(chos_task_table, bucket, tmp, entry, node) {
		hash_del_rcu(&entry->node);
		call_rcu(&entry->rcu, chos_task_free_rcu);
	}
	atomic_long_set(&chos_task_entries, 0);
	spin_unlock(&chos_task_lock);
	/* Every call_rcu() above and in chos_on_exit() has run. */
	rcu_barrier();
	kmem_cache_destroy(chos_task_cache);
}
