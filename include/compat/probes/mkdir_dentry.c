// SPDX-License-Identifier: GPL-2.0
/*
 * 6.15 (NeilBrown, "Change inode_operations.mkdir to return struct dentry
 * *"): ->mkdir() returns NULL (the dentry it was given was used), another
 * dentry, or an ERR_PTR().
 */
#include <linux/fs.h>

static struct dentry *probe_mkdir(struct mnt_idmap *idmap, struct inode *dir,
				  struct dentry *dentry, umode_t mode)
{
	return ERR_PTR(-EPERM);
}

const struct inode_operations probe_mkdir_dentry_iops = {
	.mkdir = probe_mkdir,
};
