// SPDX-License-Identifier: GPL-2.0
/*
 * The tree, as written by chos-setup to /proc/chos/tree: its absolute path
 * in the writer's view and the directory that path names. A reader whose
 * root directory is that directory (a process chrooted into the tree) is
 * answered "/.chos/os/<env>" instead of "<tree>/.chos/os/<env>": the same
 * directory, without the walk back through the tree's "<name> -> /" link.
 *
 * The recorded directory is only compared with the reader's root, never
 * walked: the answer is a string, resolved by the reader in its own view.
 * It must be the root of a filesystem (EINVAL otherwise).
 */
#define pr_fmt(fmt) "chos: " fmt

#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "chos.h"

/*
 * The tree is the root of a filesystem (chos-setup's tmpfs): an active
 * reference on its superblock keeps that root dentry, without pinning any
 * mount, so unmounting the tree (lazily, with the module's own filesystem
 * bound inside it) never waits on this record.
 */
struct chos_tree {
	struct super_block *sb;
	struct dentry *root;
	size_t len;
	char name[];
};

static struct chos_tree __rcu *chos_tree;
static DEFINE_MUTEX(chos_tree_lock);

/* Publish the new record; the old one is freed once no reader can see it. */
static void chos_tree_swap(struct chos_tree *tree)
{
	struct chos_tree *old;

	mutex_lock(&chos_tree_lock);
	old = rcu_dereference_protected(chos_tree,
					lockdep_is_held(&chos_tree_lock));
	rcu_assign_pointer(chos_tree, tree);
	mutex_unlock(&chos_tree_lock);
	if (!old)
		return;
	/* deactivate_super() may sleep: wait for the readers here. */
	synchronize_rcu();
	deactivate_super(old->sb);
	kfree(old);
}

/*
 * text is "<tree>\n" or "<tree>": absolute, more than "/", no trailing '/';
 * "\n" alone forgets the tree (every reader gets the full targets again).
 */
int chos_tree_set(const char *text, size_t len)
{
	struct chos_tree *tree;
	struct path path;
	int err;

	if (len && text[len - 1] == '\n')
		len--;
	if (len == 0) {
		chos_tree_swap(NULL);
		return 0;
	}
	err = chos_check_path(text, len);
	if (err)
		return err;
	if (len < 2 || text[len - 1] == '/')
		return -EINVAL;
	tree = kmalloc(struct_size(tree, name, len + 1), GFP_KERNEL);
	if (!tree)
		return -ENOMEM;
	memcpy(tree->name, text, len);
	tree->name[len] = '\0';
	tree->len = len;
	err = kern_path(tree->name, LOOKUP_DIRECTORY, &path);
	if (err)
		goto free_tree;
	/* Active while the path holds it: a reference of our own is safe. */
	tree->sb = path.dentry->d_sb;
	tree->root = path.dentry;
	if (tree->root != tree->sb->s_root) {
		path_put(&path);
		err = -EINVAL;
		goto free_tree;
	}
	atomic_inc(&tree->sb->s_active);
	path_put(&path);
	chos_tree_swap(tree);
	return 0;

free_tree:
	kfree(tree);
	return err;
}

void chos_tree_clear(void)
{
	chos_tree_swap(NULL);
}

/*
 * In the path walk (RCU mode too: nothing here sleeps). The tail of target
 * after the tree's name when the calling task's root is the tree and the
 * target lies inside it; the target itself otherwise.
 */
const char *chos_tree_view(const struct chos_target *target)
{
	struct fs_struct *fs = current->fs;
	const char *answer = target->path;
	struct chos_tree *tree;
	struct dentry *root;

	if (!fs)
		return answer;
	/* A pointer compared, never followed: a racing chroot sees either. */
	root = READ_ONCE(fs->root.dentry);
	rcu_read_lock();
	tree = rcu_dereference(chos_tree);
	if (tree && tree->root == root && target->len > tree->len &&
	    target->path[tree->len] == '/' &&
	    !memcmp(target->path, tree->name, tree->len))
		answer = target->path + tree->len;
	rcu_read_unlock();
	return answer;
}

int chos_tree_seq_show(struct seq_file *m, void *v)
{
	struct chos_tree *tree;

	rcu_read_lock();
	tree = rcu_dereference(chos_tree);
	if (tree) {
		seq_write(m, tree->name, tree->len);
		seq_putc(m, '\n');
	}
	rcu_read_unlock();
	return 0;
}
