// SPDX-License-Identifier: GPL-2.0
/*
 * The "chos" filesystem, mounted on /proc/chos (a proc_create_mount_point):
 *
 *   link     symlink; its target is the reading task's own link
 *   setlink  root-only write: set the writer's own link (inherited by the
 *            children it creates afterwards)
 *   valid    root-only: the targets setlink accepts, one per line
 *   tree     root-only: the tree's path; readers chrooted into it get the
 *            targets inside it relative to it (chos_tree.c)
 *   version  the module's version
 *   tasks    how many tasks have a link (leak checks)
 *
 * A filesystem of our own is what gives a per-reader get_link through
 * exported APIs only: procfs cannot create such a symlink from a module.
 */
#define pr_fmt(fmt) "chos: " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "chos.h"

#define CHOS_SUPER_MAGIC 0x43484f53	/* "CHOS" */

enum { CHOS_INO_SETLINK = 2, CHOS_INO_VALID, CHOS_INO_VERSION,
	CHOS_INO_TASKS, CHOS_INO_TREE, CHOS_INO_LINK };

static struct proc_dir_entry *chos_mount_point;

static void chos_link_done(void *arg)
{
	chos_target_put(arg);
}

/*
 * Called for every path walk through the link, in RCU mode too (dentry is
 * NULL then): nothing here sleeps. The reference taken is dropped by the
 * walk when it is done with the string.
 */
static const char *chos_get_link(struct dentry *dentry, struct inode *inode,
				 struct delayed_call *done)
{
	struct task_struct *task = current;
	struct chos_target *target;
	bool found;

	/* An io_uring worker resolves paths for its thread group. */
	if (task->flags & PF_IO_WORKER)
		task = task->group_leader;
	target = chos_task_target(task, &found);
	if (!target) {
		/*
		 * Fail closed: an entry that is being replaced, or a task
		 * that has already left the table on its way out, never
		 * gets the host's view by accident.
		 */
		if (found || (current->flags & PF_EXITING))
			return ERR_PTR(-EACCES);
		rcu_read_lock();
		target = chos_target_get_rcu(chos_valid_default());
		rcu_read_unlock();
		if (!target)
			return ERR_PTR(-ENOENT);
	}
	set_delayed_call(done, chos_link_done, target);
	return chos_tree_view(target);
}

static const struct inode_operations chos_link_iops = {
	.get_link = chos_get_link,
};

/*
 * Root in the initial user namespace only, checked when the file is opened
 * and again by the task that writes (a descriptor handed to someone else
 * is useless to them): an unprivileged task gets EPERM (P3).
 */
static bool chos_may_write(struct file *file)
{
	return capable(CAP_SYS_ADMIN) &&
	       file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

static int chos_setlink_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return nonseekable_open(inode, file);
}

static ssize_t chos_setlink_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct chos_target *target;
	size_t n = len;
	char *buf;
	int err;

	if (!chos_may_write(file))
		return -EPERM;
	if (len == 0)
		return -EINVAL;
	if (len > CHOS_TARGET_MAX)
		return -ENAMETOOLONG;
	buf = memdup_user(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (buf[n - 1] == '\n')
		n--;
	err = chos_check_path(buf, n);
	if (err)
		goto free_buf;
	target = chos_valid_find(buf, n);
	if (!target) {
		err = -ENOENT;
		goto free_buf;
	}
	err = chos_task_set(current, target);
free_buf:
	kfree(buf);
	return err ? err : len;
}

static const struct file_operations chos_setlink_fops = {
	.owner = THIS_MODULE,
	.open = chos_setlink_open,
	.write = chos_setlink_write,
	.llseek = no_llseek,
};

static int chos_valid_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return single_open(file, chos_valid_seq_show, NULL);
}

/*
 * A root-only file written whole, in one write from offset 0 (as chos-setup does):
 * at most @max bytes (else @too_long), handed to @apply.
 */
static ssize_t chos_admin_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos, size_t max,
				bool allow_empty, int too_long,
				int (*apply)(const char *text, size_t len))
{
	char *buf;
	int err;

	if (!chos_may_write(file))
		return -EPERM;
	if (*ppos != 0 || (len == 0 && !allow_empty))
		return -EINVAL;
	if (len > max)
		return too_long;
	buf = vmemdup_user(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	err = apply(buf, len);
	kvfree(buf);
	if (err)
		return err;
	*ppos = len;
	return len;
}

/* The whole list of allowed targets. */
static ssize_t chos_valid_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	return chos_admin_write(file, ubuf, len, ppos, CHOS_VALID_MAX_BYTES,
				true, -E2BIG, chos_valid_replace);
}

static const struct file_operations chos_valid_fops = {
	.owner = THIS_MODULE,
	.open = chos_valid_open,
	.read = seq_read,
	.write = chos_valid_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int chos_tree_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	return single_open(file, chos_tree_seq_show, NULL);
}

/* The tree's path; "\n" alone forgets it. */
static ssize_t chos_tree_write(struct file *file, const char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	return chos_admin_write(file, ubuf, len, ppos, CHOS_TARGET_MAX,
				false, -ENAMETOOLONG, chos_tree_set);
}

static const struct file_operations chos_tree_fops = {
	.owner = THIS_MODULE,
	.open = chos_tree_open,
	.read = seq_read,
	.write = chos_tree_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int chos_version_show(struct seq_file *m, void *v)
{
	seq_puts(m, CHOS_VERSION "\n");
	return 0;
}

static int chos_version_open(struct inode *inode, struct file *file)
{
	return single_open(file, chos_version_show, NULL);
}

static const struct file_operations chos_version_fops = {
	.owner = THIS_MODULE,
	.open = chos_version_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

static int chos_tasks_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%lu\n", chos_tasks_count());
	return 0;
}

static int chos_tasks_open(struct inode *inode, struct file *file)
{
	return single_open(file, chos_tasks_show, NULL);
}

static const struct file_operations chos_tasks_fops = {
	.owner = THIS_MODULE,
	.open = chos_tasks_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

static int chos_fill_super(struct super_block *sb, struct fs_context *fc)
{
	static const struct tree_descr files[] = {
		[CHOS_INO_SETLINK] = { "setlink", &chos_setlink_fops, 0222 },
		[CHOS_INO_VALID] = { "valid", &chos_valid_fops, 0600 },
		[CHOS_INO_VERSION] = { "version", &chos_version_fops, 0444 },
		[CHOS_INO_TASKS] = { "tasks", &chos_tasks_fops, 0444 },
		[CHOS_INO_TREE] = { "tree", &chos_tree_fops, 0600 },
		{ "" },
	};
	struct dentry *dentry;
	struct inode *inode;
	int err;

	err = simple_fill_super(sb, CHOS_SUPER_MAGIC, files);
	if (err)
		return err;
	sb->s_iflags |= SB_I_NOEXEC | SB_I_NODEV;

	dentry = d_alloc_name(sb->s_root, "link");
	if (!dentry)
		return -ENOMEM;
	inode = new_inode(sb);
	if (!inode) {
		dput(dentry);
		return -ENOMEM;
	}
	inode->i_ino = CHOS_INO_LINK;
	inode->i_mode = S_IFLNK | 0777;
	inode->i_op = &chos_link_iops;
	inode->i_atime = current_time(inode);
	inode->i_mtime = inode->i_atime;
	inode->i_ctime = inode->i_atime;
	d_add(dentry, inode);
	return 0;
}

static int chos_get_tree(struct fs_context *fc)
{
	return get_tree_single(fc, chos_fill_super);
}

static const struct fs_context_operations chos_context_ops = {
	.get_tree = chos_get_tree,
};

static int chos_init_fs_context(struct fs_context *fc)
{
	fc->ops = &chos_context_ops;
	return 0;
}

/* Unmounted: the tree's directory is no longer pinned. */
static void chos_kill_sb(struct super_block *sb)
{
	chos_tree_clear();
	kill_litter_super(sb);
}

/* No FS_USERNS_MOUNT: only root of the initial namespace mounts it. */
static struct file_system_type chos_fs_type = {
	.owner = THIS_MODULE,
	.name = "chos",
	.init_fs_context = chos_init_fs_context,
	.kill_sb = chos_kill_sb,
};

int chos_fs_init(void)
{
	int err;

	err = register_filesystem(&chos_fs_type);
	if (err)
		return err;
	chos_mount_point = proc_create_mount_point("chos");
	if (!chos_mount_point) {
		unregister_filesystem(&chos_fs_type);
		return -ENOMEM;
	}
	return 0;
}

void chos_fs_exit(void)
{
	proc_remove(chos_mount_point);
	unregister_filesystem(&chos_fs_type);
}
