// SPDX-License-Identifier: GPL-2.0
/*
 * symbol: d_make_persistent
 * After 6.12 (7.3.4 fs/dcache.c): a ramfs-like filesystem pins a new
 * dentry with d_make_persistent() instead of d_instantiate() + dget();
 * simple_unlink() and simple_rmdir() unpin it (d_make_discardable(),
 * which WARNs on a dentry that was not made persistent), and
 * kill_anon_super() drops what is left at umount (kill_litter_super() is
 * gone).
 */
#include <linux/dcache.h>

struct dentry *probe_d_make_persistent(struct dentry *dentry, struct inode *inode);
struct dentry *probe_d_make_persistent(struct dentry *dentry, struct inode *inode)
{
	return d_make_persistent(dentry, inode);
}
