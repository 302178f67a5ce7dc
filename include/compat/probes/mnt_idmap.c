// SPDX-License-Identifier: GPL-2.0
/*
 * symbol: nop_mnt_idmap
 * 6.3 (Christian Brauner, "fs: port to struct mnt_idmap"): inode
 * operations, setattr_prepare(), setattr_copy() and inode_init_owner()
 * take a struct mnt_idmap * (&nop_mnt_idmap: no mapping) instead of a
 * struct user_namespace *.
 */
#include <linux/fs.h>
#include <linux/mnt_idmapping.h>

static int probe_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
			 struct iattr *attr)
{
	return setattr_prepare(idmap, dentry, attr);
}

const struct inode_operations probe_mnt_idmap_iops = {
	.setattr = probe_setattr,
};

struct mnt_idmap *probe_nop_idmap(void);
struct mnt_idmap *probe_nop_idmap(void)
{
	return &nop_mnt_idmap;
}
