// SPDX-License-Identifier: GPL-2.0
/*
 * After 6.12 (7.3.4 include/linux/fs.h): ->create() has no "bool excl".
 */
#include <linux/fs.h>

static int probe_create(struct mnt_idmap *idmap, struct inode *dir,
			struct dentry *dentry, umode_t mode)
{
	return -EPERM;
}

const struct inode_operations probe_create_no_excl_iops = {
	.create = probe_create,
};
