// SPDX-License-Identifier: GPL-2.0
/*
 * symbol: inode_just_drop
 * 6.18 (OpenZFS config/kernel-drop-inode.m4; in 7.3.4, not in 6.12.95):
 * generic_delete_inode() renamed inode_just_drop().
 */
#include <linux/fs.h>

const struct super_operations probe_inode_just_drop_sops = {
	.drop_inode = inode_just_drop,
};
