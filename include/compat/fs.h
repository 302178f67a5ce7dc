/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFS API differences for a small ramfs-like filesystem (msharefs),
 * verified on 6.1, 6.12.95 and 7.3.4.
 *
 * struct compat_mnt_idmap: what inode operations, setattr_prepare(),
 *	setattr_copy() and inode_init_owner() take: struct user_namespace
 *	in 6.1, struct mnt_idmap since 6.3; COMPAT_NOP_MNT_IDMAP is the
 *	identity (&init_user_ns, &nop_mnt_idmap).
 * COMPAT_CREATE_MODE(mode): the last parameters of ->create(), "umode_t
 *	mode, bool excl" until 6.12, "umode_t mode" after it.
 * compat_mkdir_t, compat_mkdir_return(err): what ->mkdir() returns, int
 *	until 6.14; since 6.15 a struct dentry * (NULL: the dentry given was
 *	used; an ERR_PTR()).
 * compat_inode_init_times(), compat_dir_times_now(): the timestamps,
 *	fields in 6.1, behind accessors since 6.6/6.7.
 * compat_d_pin(): a new dentry stays until unlink or umount, as in ramfs:
 *	d_instantiate() + dget() until 6.12; d_make_persistent() after it,
 *	which simple_unlink()/simple_rmdir() require (d_make_discardable()
 *	WARNs otherwise) and kill_anon_super() drops at umount
 *	(compat_kill_litter_super(): kill_litter_super() is gone).
 * compat_generic_delete_inode: ->drop_inode() that never caches an
 *	unused inode (generic_delete_inode(), renamed inode_just_drop() in
 *	6.18).
 */
#ifndef _MMSUITE_COMPAT_FS_H
#define _MMSUITE_COMPAT_FS_H

#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <compat_config.h>
#ifdef HAVE_MNT_IDMAP
#include <linux/mnt_idmapping.h>
#else
#include <linux/user_namespace.h>
#endif

#ifdef HAVE_MNT_IDMAP
#define compat_mnt_idmap	mnt_idmap
#define COMPAT_NOP_MNT_IDMAP	(&nop_mnt_idmap)
#else
#define compat_mnt_idmap	user_namespace
#define COMPAT_NOP_MNT_IDMAP	(&init_user_ns)
#endif

#ifdef HAVE_CREATE_NO_EXCL
#define COMPAT_CREATE_MODE(mode)	umode_t mode
#else
#define COMPAT_CREATE_MODE(mode)	umode_t mode, bool excl
#endif

#ifdef HAVE_MKDIR_DENTRY
#define compat_mkdir_t			struct dentry *
#define compat_mkdir_return(err)	ERR_PTR(err)
#else
#define compat_mkdir_t			int
#define compat_mkdir_return(err)	(err)
#endif

/* A new inode's access, modification and change times: now. */
static inline void compat_inode_init_times(struct inode *inode)
{
#ifdef HAVE_SIMPLE_INODE_INIT_TS
	simple_inode_init_ts(inode);
#else
	inode->i_atime = current_time(inode);
	inode->i_mtime = inode->i_atime;
	inode->i_ctime = inode->i_atime;
#endif
}

/* A directory changed: its modification and change times are now. */
static inline void compat_dir_times_now(struct inode *dir)
{
#ifdef HAVE_SIMPLE_INODE_INIT_TS
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));
#else
	dir->i_mtime = current_time(dir);
	dir->i_ctime = dir->i_mtime;
#endif
}

/* Instantiate @dentry with @inode and pin it until unlink or umount. */
static inline void compat_d_pin(struct dentry *dentry, struct inode *inode)
{
#ifdef HAVE_D_MAKE_PERSISTENT
	d_make_persistent(dentry, inode);
#else
	d_instantiate(dentry, inode);
	dget(dentry);
#endif
}

/* ->kill_sb() of a filesystem whose dentries compat_d_pin() pinned. */
static inline void compat_kill_litter_super(struct super_block *sb)
{
#ifdef HAVE_D_MAKE_PERSISTENT
	kill_anon_super(sb);
#else
	kill_litter_super(sb);
#endif
}

#ifdef HAVE_INODE_JUST_DROP
#define compat_generic_delete_inode	inode_just_drop
#else
#define compat_generic_delete_inode	generic_delete_inode
#endif

#endif /* _MMSUITE_COMPAT_FS_H */
