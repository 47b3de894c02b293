// SPDX-License-Identifier: GPL-2.0
/*
 * chos.ko: a per-process link for CHOS (chos.ko(4)). Every process reads its
 * own target
 * through /proc/chos/link; the setuid launcher sets it with
 * /proc/chos/setlink and children inherit it.
 *
 * Unloading: a mounted /proc/chos holds a module reference, so rmmod is
 * refused (EBUSY) while the link can be reached; once it is unmounted the
 * module unloads safely and every task simply loses its link.
 */
#define pr_fmt(fmt) "chos: " fmt

#include <linux/init.h>
#include <linux/module.h>

#include "chos.h"

static int __init chos_init(void)
{
	int err;

	err = chos_tasks_init();
	if (err)
		return err;
	err = chos_fs_init();
	if (err)
		goto exit_tasks;
	pr_info("version " CHOS_VERSION " loaded\n");
	return 0;

exit_tasks:
	chos_tasks_exit();
	return err;
}

static void __exit chos_exit(void)
{
	chos_fs_exit();
	chos_tree_clear();
	chos_tasks_exit();
	chos_valid_clear();
	/* The kfree_rcu() of the last targets has run before the code goes. */
	rcu_barrier();
}

module_init(chos_init);
module_exit(chos_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The CHOS authors");
MODULE_DESCRIPTION("CHOS: a per-process link to the process's chosen userland");
MODULE_VERSION(CHOS_VERSION);
