// SPDX-License-Identifier: GPL-2.0
/*
 * toyalloc: the module's life cycle. The pool (pool.c) comes first, then
 * the interfaces that use it: debugfs views, replay, live probes and
 * /dev/toyalloc.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>

#include "toyalloc.h"

static unsigned int pool_mb = 64;
module_param(pool_mb, uint, 0444);
MODULE_PARM_DESC(pool_mb, "toy pool size in MiB, a multiple of 4 in 4..1024 (default 64)");

static struct dentry *toy_dir;

static int __init toyalloc_init(void)
{
	int ret;

	if (pool_mb < 4 || pool_mb > 1024 || pool_mb % 4) {
		pr_err("pool_mb=%u: must be a multiple of 4 in 4..1024\n", pool_mb);
		return -EINVAL;
	}
	ret = toy_pool_init(pool_mb);
	if (ret)
		return ret;

	toy_dir = debugfs_create_dir("toyalloc", NULL);
	ret = toy_debugfs_init(toy_dir);
	if (!ret)
		ret = toy_replay_init(toy_dir);
	if (ret)
		goto err_debugfs;
	ret = toy_live_init(toy_dir);
	if (ret)
		goto err_replay;
	ret = toy_dev_init();
	if (ret)
		goto err_live;
	return 0;

err_live:
	toy_live_exit();
err_replay:
	toy_replay_exit();
err_debugfs:
	debugfs_remove_recursive(toy_dir);
	toy_pool_exit();
	return ret;
}

static void __exit toyalloc_exit(void)
{
	toy_dev_exit();
	debugfs_remove_recursive(toy_dir);
	toy_live_exit();
	toy_replay_exit();
	toy_pool_exit();
}

module_init(toyalloc_init);
module_exit(toyalloc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Toy buddy and slab allocators on real pages, and live views of the real ones");
