// SPDX-License-Identifier: GPL-2.0
/*
 * symbol: simple_inode_init_ts
 * 6.6-6.7 (Jeff Layton, the inode timestamp accessors): i_atime, i_mtime
 * and i_ctime are private; simple_inode_init_ts() sets all three to now,
 * inode_set_ctime_current() and inode_set_mtime_to_ts() set one.
 */
#include <linux/fs.h>

void probe_simple_inode_init_ts(struct inode *inode, struct inode *dir);
void probe_simple_inode_init_ts(struct inode *inode, struct inode *dir)
{
	simple_inode_init_ts(inode);
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));
}
