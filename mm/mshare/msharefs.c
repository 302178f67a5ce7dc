// SPDX-License-Identifier: GPL-2.0
/*
 * The filesystem side of mshare: the v3 user interface.
 *
 *   mount -t msharefs none /sys/fs/mshare
 *   fd = open("/sys/fs/mshare/r", O_RDWR | O_CREAT | O_EXCL, 0600);
 *   ftruncate(fd, size);                    // a multiple of mshare_info
 *   ioctl(fd, MSHAREFS_CREATE_MAPPING, &c); // objects inside the region
 *   p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
 *
 * Each regular file is a region (core.c); it lives until it is unlinked
 * and no descriptor or mapping refers to it.
 */
#include <linux/debugfs.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/huge_mm.h>
#include <linux/kobject.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/sysfs.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <linux/userfaultfd_k.h>
#include <compat/fault.h>
#include <compat/fs.h>
#include <compat/mm.h>

#include "mshare.h"

/*
 * Not where a userfaultfd walk may allocate through a PUD link
 * (COMPAT_UFFD_WP_ANY_VMA: uffd_registered()): there it stays off, and
 * turning it on fails with EOPNOTSUPP.
 */
static bool pmd_sharing = !COMPAT_UFFD_WP_ANY_VMA;

static int pmd_sharing_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret)
		return ret;
	if (on && COMPAT_UFFD_WP_ANY_VMA)
		return -EOPNOTSUPP;
	return param_set_bool(val, kp);
}

static const struct kernel_param_ops pmd_sharing_ops = {
	.set = pmd_sharing_set,
	.get = param_get_bool,
};

module_param_cb(pmd_sharing, &pmd_sharing_ops, &pmd_sharing, 0644);
MODULE_PARM_DESC(pmd_sharing,
		 "share PMD tables of 1 GiB aligned pieces (regions created after a change; not on 6.7+ kernels that let userfaultfd register any VMA)");

/*
 * One msharefs instance. A region outlives the processes that made it, as
 * a tmpfs file does, so what it holds of its own is bounded as a tmpfs's
 * memory is, by size= (default half of RAM; 0: no limit): its anonymous
 * objects live on a private tmpfs of that size, and its host's page
 * tables are counted against the same number (core.c).
 */
struct mshare_fs_info {
	unsigned long pages;		/* size=, rounded up to pages */
	bool size_given;		/* in this mount or remount */
	bool inodes_given;
	unsigned long max_inodes;	/* nr_inodes=; 0: no limit */
	atomic_long_t inodes;		/* in use, the root's included */
	struct mshare_limits limits;
};

static const struct file_operations mshare_region_fops;
static const struct inode_operations mshare_region_iops;
static const struct inode_operations mshare_dir_iops;
static struct dentry *mshare_debugfs;

static struct mshare_region *file_region(struct file *file)
{
	return file_inode(file)->i_private;
}

/* ----------------------------------------------------------- VMA side */

static const struct vm_operations_struct mshare_vm_ops;

static unsigned long vma_prot_bits(struct vm_area_struct *vma)
{
	return vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC);
}

/*
 * Region VMAs mapped without their mm's MMU notifier get it when the task
 * that made them returns to user space (a task_work): a forked child's,
 * whose mmap_lock dup_mmap() holds for write, too early to register one,
 * and those of an mmap() whose registration a pending signal refused
 * (core.c: mshare_attach_get()). So by the time fork() or mmap() returns,
 * ptrace, /proc/PID/mem and futexes on the region work as on any mapping.
 * Until then only the mm's own faults, which can retry, can attach it.
 * One task_work per mm however many VMAs (attach_pending), each VMA
 * visited once: fork() stays linear in the number of region mappings.
 */
static DEFINE_XARRAY(attach_pending);

struct attach_later {
	struct callback_head work;
	struct mm_struct *mm;
};

static void attach_later_run(struct callback_head *work)
{
	struct attach_later *al = container_of(work, struct attach_later, work);
	struct mm_struct *mm = al->mm;
	struct mshare_attach *att, *ref;
	struct vm_area_struct *vma;

	xa_erase(&attach_pending, (unsigned long)mm);
	if (!mmget_not_zero(mm))
		goto out;
	/* Registered, held by @ref: mshare_attach_get_locked() now only counts. */
	ref = mshare_attach_get(mm);
	if (IS_ERR(ref))
		goto put;	/* the mm's first fault tries again */
	if (mmap_write_lock_killable(mm))
		goto put_ref;
	for (vma = find_vma(mm, 0); vma && !fatal_signal_pending(current);
	     vma = find_vma(mm, vma->vm_end)) {
		struct mshare_link *l = vma->vm_private_data;

		if (vma->vm_ops != &mshare_vm_ops || !l || l->att)
			continue;
		att = mshare_attach_get_locked(mm);
		if (IS_ERR(att))
			break;
		if (mshare_link_attach(l, att))
			mshare_attach_put(att);
	}
	mmap_write_unlock(mm);
put_ref:
	mshare_attach_put(ref);
put:
	mmput(mm);
out:
	mmdrop(mm);
	kfree(al);
}

static void attach_later(struct mm_struct *mm)
{
	struct attach_later *al = kzalloc(sizeof(*al), GFP_KERNEL_ACCOUNT);

	if (!al)
		return;
	/* One pending per mm: it attaches every VMA then unattached. */
	if (xa_insert(&attach_pending, (unsigned long)mm, al, GFP_KERNEL_ACCOUNT)) {
		kfree(al);
		return;
	}
	mmgrab(mm);
	al->mm = mm;
	init_task_work(&al->work, attach_later_run);
	if (task_work_add(current, &al->work, TWA_RESUME)) {
		xa_erase(&attach_pending, (unsigned long)mm);
		mmdrop(mm);
		kfree(al);
	}
}

static void mshare_vm_open(struct vm_area_struct *vma)
{
	struct mshare_link *old = vma->vm_private_data;
	struct mshare_region *r = file_region(vma->vm_file);
	struct mshare_attach *att = NULL;

	mshare_attach_add(r, vma_prot_bits(vma), 1);
	/* Before dup_mmap() looks at it: whatever MADV_KEEPONFORK did. */
	compat_vm_flags_set(vma, VM_WIPEONFORK);
	if (old && old->mm == vma->vm_mm) {
		/* mremap's copy_vma(): same mm, mmap_lock held for write. */
		att = mshare_attach_get_locked(vma->vm_mm);
		if (IS_ERR(att))
			att = NULL;
	} else {
		/* fork: dup_mmap() copies no tables for us; link lazily. */
		attach_later(vma->vm_mm);
	}
	vma->vm_private_data = mshare_link_new(r, vma, att);
	if (!vma->vm_private_data && att)
		mshare_attach_put(att);
}

static void mshare_vm_close(struct vm_area_struct *vma)
{
	struct mshare_link *l = vma->vm_private_data;

	mshare_attach_add(file_region(vma->vm_file), vma_prot_bits(vma), -1);
	if (l)
		mshare_link_free(l);
}

static int mshare_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	return -EINVAL;		/* partial munmap and mremap: as v3 */
}

static int mshare_vm_mremap(struct vm_area_struct *vma)
{
	return -EINVAL;
}

static int mshare_vm_mprotect(struct vm_area_struct *vma, unsigned long start,
			      unsigned long end, unsigned long newflags)
{
	return -EINVAL;		/* MSHAREFS_PROTECT changes protection */
}

/*
 * What a fault cannot do with mmap_lock held for reading: register the
 * notifier of an mm that has none yet (a forked child before the
 * parent's task_work ran), or clear entries parked by MADV_DONTNEED
 * (core.c). Drop the read lock, get the notifier without it, do the rest
 * with the lock held for writing and have the fault retried. A fault that
 * cannot retry gets SIGBUS; so does one when memory for the notifier is
 * short (the lock is gone, VM_FAULT_OOM cannot be returned).
 */
static vm_fault_t relock_and_retry(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	unsigned long addr = vmf->address;
	struct mshare_attach *att = NULL;
	struct mshare_link *l = vma->vm_private_data;
	struct file *file;

	if (!l || !(vmf->flags & FAULT_FLAG_ALLOW_RETRY) ||
	    (vmf->flags & FAULT_FLAG_RETRY_NOWAIT))
		return VM_FAULT_SIGBUS;
	file = get_file(vma->vm_file);
	if (!READ_ONCE(l->att))
		att = ERR_PTR(-EAGAIN);		/* to get */
	compat_release_fault_lock(vmf);
	if (att) {
		att = mshare_attach_get(mm);
		if (IS_ERR(att) && !fatal_signal_pending(current))
			force_sig(SIGBUS);
	}
	if (mmap_write_lock_killable(mm))
		goto out;
	vma = find_vma(mm, addr);
	if (!vma || vma->vm_start > addr || vma->vm_file != file ||
	    !vma->vm_private_data)
		goto unlock;
	l = vma->vm_private_data;
	if (!IS_ERR_OR_NULL(att) && !mshare_link_attach(l, att))
		att = NULL;	/* the link's now */
	/* Its walkers may hold only its lock (core.c: parking). */
	compat_vma_start_write(vma);
	mshare_link_unpark(l);
unlock:
	mmap_write_unlock(mm);
out:
	if (!IS_ERR_OR_NULL(att))
		mshare_attach_put(att);
	fput(file);
	return VM_FAULT_RETRY;
}

static struct mshare_link *attached_link(struct vm_fault *vmf)
{
	struct mshare_link *l = vmf->vma->vm_private_data;

	return l && READ_ONCE(l->att) ? l : NULL;
}

/*
 * A fault under the per-VMA lock (compat/fault.h; never in 6.1) does
 * nothing here and is retried under mmap_lock: links are made, and the
 * host faulted, only with the sharer's mmap_lock held
 * (Documentation/mshare-port.rst, B1).
 */
static vm_fault_t retry_under_mmap_lock(struct vm_fault *vmf)
{
	compat_release_fault_lock(vmf);
	return VM_FAULT_RETRY;
}

/*
 * 6.7 up to the kernel that refuses VM_SPECIAL VMAs (6.12 among them:
 * COMPAT_UFFD_WP_ANY_VMA) registers a region VMA for asynchronous
 * userfaultfd write-protection, which no flag a module may set refuses
 * (VM_MAYWRITE off would make every write fault WARN). Its
 * UFFDIO_WRITEPROTECT and PAGEMAP_SCAN walk the sharer's tables: the
 * sharer's notifier unlinks first (core.c), and the walk then puts
 * markers in tables of the sharer's own. Such a VMA links nothing:
 * SIGBUS, rather than writes that write-protect tracking would miss.
 * PUD links are off there (pmd_sharing): a walk that allocates would
 * fill a host PMD table, or the empty one a parked PUD entry points at.
 */
static bool uffd_registered(struct vm_fault *vmf)
{
	return vmf->vma->vm_flags & __VM_UFFD_FLAGS;
}

static vm_fault_t mshare_vm_fault(struct vm_fault *vmf)
{
	struct mshare_link *l;

	if (compat_fault_vma_locked(vmf))
		return retry_under_mmap_lock(vmf);
	if (uffd_registered(vmf))
		return VM_FAULT_SIGBUS;
	l = attached_link(vmf);
	if (!l || mshare_fault_parked(vmf))
		return relock_and_retry(vmf);
	return mshare_fault(l, vmf);
}

static vm_fault_t mshare_vm_huge_fault(struct vm_fault *vmf,
				       compat_huge_fault_size_t size)
{
	struct mshare_link *l;

	if (compat_fault_vma_locked(vmf))
		return retry_under_mmap_lock(vmf);
	if (!compat_huge_fault_is_pud(size) || uffd_registered(vmf))
		return VM_FAULT_FALLBACK;
	l = attached_link(vmf);
	return l ? mshare_huge_fault(l, vmf) : relock_and_retry(vmf);
}

static vm_fault_t mshare_vm_page_mkwrite(struct vm_fault *vmf)
{
	struct mshare_link *l;

	/*
	 * The core calls ->page_mkwrite() only under mmap_lock
	 * (vmf_can_call_fault() first), and do_page_mkwrite() knows no
	 * VM_FAULT_RETRY.
	 */
	if (WARN_ON_ONCE(compat_fault_vma_locked(vmf)) || uffd_registered(vmf))
		return VM_FAULT_SIGBUS;
	l = attached_link(vmf);
	return l ? mshare_page_mkwrite(l, vmf) : relock_and_retry(vmf);
}

static const struct vm_operations_struct mshare_vm_ops = {
	.open = mshare_vm_open,
	.close = mshare_vm_close,
	.may_split = mshare_vm_may_split,
	.mremap = mshare_vm_mremap,
	.mprotect = mshare_vm_mprotect,
	.fault = mshare_vm_fault,
	.huge_fault = mshare_vm_huge_fault,
	.page_mkwrite = mshare_vm_page_mkwrite,
};

static int mshare_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mshare_region *r = file_region(file);
	unsigned long size = READ_ONCE(r->size);	/* set once, under size_lock */
	unsigned long prot = 0;
	struct mshare_attach *att;
	struct mshare_link *l;
	int ret;

	/* do_mmap() drops VM_SHARED, not VM_MAYSHARE, for read-only files. */
	if (!(vma->vm_flags & VM_MAYSHARE) || vma->vm_pgoff ||
	    !size || vma->vm_end - vma->vm_start != size ||
	    !IS_ALIGNED(vma->vm_start, MSHARE_ALIGN))
		return -EINVAL;
	if (vma->vm_flags & VM_READ)
		prot |= PROT_READ;
	if (vma->vm_flags & VM_WRITE)
		prot |= PROT_WRITE;
	if (vma->vm_flags & VM_EXEC)
		prot |= PROT_EXEC;
	ret = mshare_attach_new(r, prot);
	if (ret)
		return ret;
	att = mshare_attach_get_locked(vma->vm_mm);	/* mmap_lock held */
	if (PTR_ERR_OR_ZERO(att) == -EINTR && !fatal_signal_pending(current)) {
		/* A signal is pending: attached on the way back to user space. */
		att = NULL;
		attach_later(vma->vm_mm);
	} else if (IS_ERR(att)) {
		mshare_attach_add(r, prot, -1);
		return PTR_ERR(att);
	}
	l = mshare_link_new(r, vma, att);
	if (!l) {
		if (att)
			mshare_attach_put(att);
		mshare_attach_add(r, prot, -1);
		return -ENOMEM;
	}
	/*
	 * VM_SHARED even through a read-only descriptor (do_mmap() dropped
	 * it with VM_MAYWRITE, which stays off, so i_mmap_writable and
	 * mprotect() are as before): the OOM reaper skips VM_SHARED VMAs, so
	 * no non-blockable invalidation ever covers a link (core.c:
	 * mn_invalidate_range_start()). VM_DONTEXPAND makes it VM_SPECIAL,
	 * which userfaultfd refuses (7.x; 6.1 refuses every VMA but
	 * anonymous, shmem and hugetlbfs ones; uffd_registered()).
	 *
	 * VM_WIPEONFORK: fork() copies no entry of a region VMA, whatever
	 * userfaultfd or MADV_KEEPONFORK did (dup_mmap() calls ->open()
	 * first, which sets it again): a copied entry would map region
	 * pages outside the host's rmap. The child links lazily.
	 */
	compat_vm_flags_set(vma, VM_SHARED | VM_DONTEXPAND | VM_DONTDUMP |
			    VM_WIPEONFORK);
	vma->vm_ops = &mshare_vm_ops;
	vma->vm_private_data = l;
	return 0;
}

static unsigned long mshare_get_unmapped_area(struct file *file,
					      unsigned long addr,
					      unsigned long len,
					      unsigned long pgoff,
					      unsigned long flags)
{
	unsigned long found;

	if (flags & MAP_FIXED)
		return IS_ALIGNED(addr, MSHARE_ALIGN) ? addr : -EINVAL;
	/*
	 * A hint is only a hint: an unaligned one is taken as the aligned
	 * address at or above it (a plain mapping never fails because of
	 * its hint; the search below returns a free hint unchanged).
	 */
	if (!IS_ALIGNED(addr, MSHARE_ALIGN))
		addr = round_up(addr, MSHARE_ALIGN);
	/* A GiB or more: 1 GiB aligned, so that PMD tables can be shared. */
	if (file_region(file)->share_pmd_tables && len >= PUD_SIZE &&
	    len + PUD_SIZE > len && (!addr || !IS_ALIGNED(addr, PUD_SIZE))) {
		found = compat_mm_get_unmapped_area(file, 0, len + PUD_SIZE,
						    0, flags);
		if (!IS_ERR_VALUE(found))
			return round_up(found, PUD_SIZE);
	}
	return thp_get_unmapped_area(file, addr, len, pgoff, flags);
}

/* ------------------------------------------------------------- ioctls */

static long mshare_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct mshare_region *r = file_region(file);
	void __user *uarg = (void __user *)arg;

	if (cmd != MSHAREFS_GET_STATS && !(file->f_mode & FMODE_WRITE))
		return -EBADF;
	switch (cmd) {
	case MSHAREFS_CREATE_MAPPING: {
		struct mshare_create c;

		if (copy_from_user(&c, uarg, sizeof(c)))
			return -EFAULT;
		return mshare_map_object(r, &c);
	}
	case MSHAREFS_UNMAP: {
		struct mshare_unmap u;

		if (copy_from_user(&u, uarg, sizeof(u)))
			return -EFAULT;
		return mshare_unmap_range(r, u.region_offset, u.size);
	}
	case MSHAREFS_PROTECT: {
		struct mshare_protect p;

		if (copy_from_user(&p, uarg, sizeof(p)))
			return -EFAULT;
		if (p.reserved)
			return -EINVAL;
		return mshare_protect_range(r, p.region_offset, p.size, p.prot);
	}
	case MSHAREFS_GET_STATS: {
		struct mshare_stats st;

		int ret = mshare_get_stats(r, &st, false);

		if (ret)
			return ret;
		return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

/*
 * Mode 0 from offset 0 sizes the region (v3); punching a hole punches the
 * objects mapped there (MADV_REMOVE on a region mapping comes here).
 */
static long mshare_fallocate(struct file *file, int mode, loff_t offset,
			     loff_t len)
{
	struct inode *inode = file_inode(file);
	int ret;

	if (mode == (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
		return mshare_punch_objects(file_region(file), offset, len);
	if (mode || offset)
		return -EOPNOTSUPP;
	ret = mshare_region_set_size(file_region(file), len);
	if (!ret)
		i_size_write(inode, len);
	return ret;
}

/* msync(MS_SYNC) of a region mapping, and fsync() of the region file. */
static int mshare_fsync(struct file *file, loff_t start, loff_t end,
			int datasync)
{
	return mshare_sync_objects(file_region(file), start, end, datasync);
}

static const struct file_operations mshare_region_fops = {
	.owner = THIS_MODULE,
	.fsync = mshare_fsync,
	.mmap = mshare_mmap,
	.get_unmapped_area = mshare_get_unmapped_area,
	.unlocked_ioctl = mshare_ioctl,
	.fallocate = mshare_fallocate,
	.llseek = noop_llseek,
};

static int mshare_setattr(struct compat_mnt_idmap *idmap,
			  struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	int ret = setattr_prepare(idmap, dentry, attr);

	if (ret)
		return ret;
	if (attr->ia_valid & ATTR_SIZE) {
		ret = mshare_region_set_size(inode->i_private, attr->ia_size);
		if (ret)
			return ret;
		i_size_write(inode, attr->ia_size);
	}
	setattr_copy(idmap, inode, attr);
	return 0;
}

static const struct inode_operations mshare_region_iops = {
	.setattr = mshare_setattr,
	.getattr = simple_getattr,
};

/* --------------------------------------------------------- filesystem */

/*
 * nr_inodes= bounds the files and directories of a mount, as on tmpfs:
 * each is kept by its name alone, with no process left (-ENOSPC).
 */
static int inode_reserve(struct mshare_fs_info *fsi)
{
	unsigned long max = READ_ONCE(fsi->max_inodes);

	if (atomic_long_inc_return(&fsi->inodes) > max && max) {
		atomic_long_dec(&fsi->inodes);
		return -ENOSPC;
	}
	return 0;
}

static struct inode *mshare_new_inode(struct super_block *sb,
				      const struct inode *dir, umode_t mode)
{
	struct inode *inode;

	if (inode_reserve(sb->s_fs_info))
		return ERR_PTR(-ENOSPC);
	inode = new_inode(sb);
	if (!inode) {
		atomic_long_dec(&((struct mshare_fs_info *)sb->s_fs_info)->inodes);
		return ERR_PTR(-ENOMEM);
	}
	inode->i_ino = get_next_ino();
	inode_init_owner(COMPAT_NOP_MNT_IDMAP, inode, dir, mode);
	compat_inode_init_times(inode);
	return inode;
}

static int mshare_mknod(struct inode *dir, struct dentry *dentry,
			umode_t mode)
{
	struct inode *inode = mshare_new_inode(dir->i_sb, dir, mode);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	if (S_ISDIR(mode)) {
		inode->i_op = &mshare_dir_iops;
		inode->i_fop = &simple_dir_operations;
		inc_nlink(inode);
		inc_nlink(dir);
	} else {
		struct mshare_fs_info *fsi = dir->i_sb->s_fs_info;

		inode->i_private = mshare_region_create(dentry->d_name.name,
							pmd_sharing,
							&fsi->limits);
		if (!inode->i_private) {
			iput(inode);
			return -ENOMEM;
		}
		/*
		 * The core mm offers a PUD-level ->huge_fault() only to DAX
		 * VMAs. The region is not DAX storage, but what the flag
		 * also implies fits it: no NUMA hinting or migration of its
		 * pages through the sharer (rmap reaches them through the
		 * host), no KSM, mlock() leaves the VMA alone (it could never
		 * munlock pages in tables it does not own), and FOLL_LONGTERM
		 * pins are refused.
		 */
		inode->i_flags |= S_DAX;
		inode->i_op = &mshare_region_iops;
		inode->i_fop = &mshare_region_fops;
	}
	compat_d_pin(dentry, inode);	/* until unlink, as in ramfs */
	compat_dir_times_now(dir);
	return 0;
}

static int mshare_create(struct compat_mnt_idmap *idmap, struct inode *dir,
			 struct dentry *dentry, COMPAT_CREATE_MODE(mode))
{
	return mshare_mknod(dir, dentry, (mode & 07777) | S_IFREG);
}

static compat_mkdir_t mshare_mkdir(struct compat_mnt_idmap *idmap,
				   struct inode *dir, struct dentry *dentry,
				   umode_t mode)
{
	return compat_mkdir_return(mshare_mknod(dir, dentry,
						(mode & 07777) | S_IFDIR));
}

static const struct inode_operations mshare_dir_iops = {
	.create = mshare_create,
	.lookup = simple_lookup,
	.link = simple_link,
	.unlink = simple_unlink,
	.mkdir = mshare_mkdir,
	.rmdir = simple_rmdir,
	.rename = simple_rename,
};

static void mshare_evict_inode(struct inode *inode)
{
	struct mshare_fs_info *fsi = inode->i_sb->s_fs_info;

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (S_ISREG(inode->i_mode) && inode->i_private)
		mshare_region_destroy(inode->i_private);
	/*
	 * Only mknod's inodes go while the root is there; at unmount the
	 * count goes with the mount.
	 */
	if (inode->i_sb->s_root)
		atomic_long_dec(&fsi->inodes);
}

/* The anonymous memory's limit and use, as df shows a tmpfs's. */
static int mshare_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct mshare_fs_info *fsi = dentry->d_sb->s_fs_info;
	struct path anon = {
		.mnt = fsi->limits.anon_mnt,
		.dentry = fsi->limits.anon_mnt->mnt_root,
	};
	int ret = vfs_statfs(&anon, buf);

	if (ret)
		return ret;
	buf->f_type = MSHAREFS_MAGIC;
	buf->f_files = fsi->max_inodes;		/* 0: no limit, as tmpfs */
	buf->f_ffree = fsi->max_inodes ?
		fsi->max_inodes - min_t(unsigned long, fsi->max_inodes,
					atomic_long_read(&fsi->inodes)) : 0;
	buf->f_namelen = NAME_MAX;
	return 0;
}

static int mshare_show_options(struct seq_file *m, struct dentry *root)
{
	struct mshare_fs_info *fsi = root->d_sb->s_fs_info;

	seq_printf(m, ",size=%luk,nr_inodes=%lu", fsi->pages << (PAGE_SHIFT - 10),
		   fsi->max_inodes);
	return 0;
}

static const struct super_operations mshare_sops = {
	.statfs = mshare_statfs,
	.show_options = mshare_show_options,
	.drop_inode = compat_generic_delete_inode,
	.evict_inode = mshare_evict_inode,
};

static ssize_t mshare_info_read(struct file *file, char __user *buf,
				size_t len, loff_t *pos)
{
	char info[32];
	int n = scnprintf(info, sizeof(info), "%lu\n", MSHARE_ALIGN);

	return simple_read_from_buffer(buf, len, pos, info, n);
}

static const struct file_operations mshare_info_fops = {
	.read = mshare_info_read,
	.llseek = default_llseek,
};

/* The instance's tmpfs, made as kern_mount() makes shm_mnt, but sized. */
static struct vfsmount *anon_mount(unsigned long pages)
{
	struct file_system_type *tmpfs = get_fs_type("tmpfs");
	struct vfsmount *mnt;
	char opts[32];

	if (!tmpfs)
		return ERR_PTR(-ENODEV);
	snprintf(opts, sizeof(opts), "size=%luk", pages << (PAGE_SHIFT - 10));
	mnt = vfs_kern_mount(tmpfs, SB_KERNMOUNT, "msharefs", opts);
	module_put(tmpfs->owner);	/* put_filesystem(), not exported */
	return mnt;
}

static int mshare_fill_super(struct super_block *sb, struct fs_context *fc)
{
	static const struct tree_descr files[] = {
		[2] = { "mshare_info", &mshare_info_fops, 0444 },
		{ "" },
	};
	struct mshare_fs_info *fsi = sb->s_fs_info;	/* sget_fc() moved it */
	int ret;

	fsi->limits.anon_mnt = anon_mount(fsi->pages);
	if (IS_ERR(fsi->limits.anon_mnt)) {
		ret = PTR_ERR(fsi->limits.anon_mnt);
		fsi->limits.anon_mnt = NULL;
		return ret;
	}
	fsi->limits.table_bytes_max = fsi->pages << PAGE_SHIFT;
	ret = simple_fill_super(sb, MSHAREFS_MAGIC, files);
	if (ret)
		return ret;
	sb->s_op = &mshare_sops;
	/* Else the VFS keeps regions below 2 GiB (EFBIG from there). */
	sb->s_maxbytes = MSHARE_MAX_SIZE;
	d_inode(sb->s_root)->i_op = &mshare_dir_iops;
	/* Anyone may create regions; only owners may remove them (as /tmp). */
	d_inode(sb->s_root)->i_mode = S_IFDIR | 01777;
	return 0;
}

static int mshare_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, mshare_fill_super);
}

enum { OPT_SIZE, OPT_NR_INODES };

static const struct fs_parameter_spec mshare_fs_parameters[] = {
	fsparam_string("size", OPT_SIZE),
	fsparam_string("nr_inodes", OPT_NR_INODES),
	{}
};

/*
 * size=: bytes with an optional k, m, g... suffix, or a percentage of RAM,
 * rounded up to pages, as tmpfs reads it (shmem_parse_one()).
 */
static int mshare_parse_param(struct fs_context *fc,
			      struct fs_parameter *param)
{
	struct mshare_fs_info *fsi = fc->s_fs_info;
	struct fs_parse_result result;
	unsigned long long size;
	char *rest;
	int opt = fs_parse(fc, mshare_fs_parameters, param, &result);

	if (opt < 0)
		return opt;
	size = memparse(param->string, &rest);
	if (rest == param->string)
		return invalfc(fc, "%s= needs a number", param->key);
	if (opt == OPT_NR_INODES) {	/* a number, k, m, g... as tmpfs */
		if (*rest || size > ULONG_MAX)
			return invalfc(fc, "bad nr_inodes= '%s'", param->string);
		fsi->max_inodes = size;
		fsi->inodes_given = true;
		return 0;
	}
	if (*rest == '%') {	/* (n << PAGE_SHIFT) * RAM pages / 100 */
		if (size > U64_MAX >> PAGE_SHIFT ||
		    check_mul_overflow(size << PAGE_SHIFT,
				       (u64)totalram_pages(), &size))
			return invalfc(fc, "bad size= '%s'", param->string);
		size = div_u64(size, 100);
		rest++;
	}
	/* In pages, whose bytes must fit an unsigned long. */
	size = size / PAGE_SIZE + !!(size % PAGE_SIZE);
	if (*rest || size > ULONG_MAX >> PAGE_SHIFT)
		return invalfc(fc, "bad size= '%s'", param->string);
	fsi->pages = size;
	fsi->size_given = true;
	return 0;
}

/*
 * The private tmpfs cannot be reconfigured from a module: size= stays;
 * nr_inodes= may change, to no fewer than are in use, as on tmpfs.
 */
static int mshare_reconfigure(struct fs_context *fc)
{
	struct mshare_fs_info *cur = fc->root->d_sb->s_fs_info;
	struct mshare_fs_info *fsi = fc->s_fs_info;

	if (fsi->size_given && fsi->pages != cur->pages)
		return invalfc(fc, "size= cannot change after mounting");
	if (fsi->inodes_given) {
		if (fsi->max_inodes &&
		    atomic_long_read(&cur->inodes) > fsi->max_inodes)
			return invalfc(fc, "more inodes in use than nr_inodes=");
		WRITE_ONCE(cur->max_inodes, fsi->max_inodes);
	}
	return 0;
}

static void mshare_free_fc(struct fs_context *fc)
{
	kfree(fc->s_fs_info);
}

static const struct fs_context_operations mshare_context_ops = {
	.parse_param = mshare_parse_param,
	.get_tree = mshare_get_tree,
	.reconfigure = mshare_reconfigure,
	.free = mshare_free_fc,
};

static int mshare_init_fs_context(struct fs_context *fc)
{
	struct mshare_fs_info *fsi = kzalloc(sizeof(*fsi), GFP_KERNEL);

	if (!fsi)
		return -ENOMEM;
	fsi->pages = totalram_pages() / 2;
	fsi->max_inodes = totalram_pages() / 2;	/* as tmpfs on 64-bit */
	atomic_long_set(&fsi->inodes, 1);	/* the root */
	fc->s_fs_info = fsi;
	fc->ops = &mshare_context_ops;
	return 0;
}

static void mshare_kill_sb(struct super_block *sb)
{
	struct mshare_fs_info *fsi = sb->s_fs_info;

	compat_kill_litter_super(sb);	/* evicts, so destroys, every region */
	if (fsi && fsi->limits.anon_mnt)	/* objects still open keep it */
		kern_unmount(fsi->limits.anon_mnt);
	kfree(fsi);
}

static struct file_system_type mshare_fs_type = {
	.owner = THIS_MODULE,
	.name = "msharefs",
	.init_fs_context = mshare_init_fs_context,
	.parameters = mshare_fs_parameters,
	.kill_sb = mshare_kill_sb,
};
MODULE_ALIAS_FS("msharefs");

/* ---------------------------------------------- debugfs: region stats */

static int regions_show(struct seq_file *m, void *v)
{
	struct mshare_region *r;
	struct mshare_stats st;

	seq_puts(m, "name size mappings sharers pte_tables pmd_links pages faults table_bytes_saved pmd_tables pud_links\n");
	mutex_lock(&mshare_regions_lock);
	list_for_each_entry(r, &mshare_regions, all) {
		/*
		 * Never wait for a region here: mshare_regions_lock is taken
		 * by every region's creation and destruction.
		 */
		if (mshare_get_stats(r, &st, true)) {
			seq_printf(m, "%s busy\n", r->name);
			continue;
		}
		seq_printf(m, "%s %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu\n",
			   r->name, st.size, st.mappings, st.sharers,
			   st.pte_tables, st.pmd_links, st.pages, st.faults,
			   st.table_bytes_saved, st.pmd_tables, st.pud_links);
	}
	mutex_unlock(&mshare_regions_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(regions);

static int __init mshare_init(void)
{
	int ret = mshare_core_init();

	if (ret)
		return ret;
	ret = sysfs_create_mount_point(fs_kobj, "mshare");
	if (ret)
		goto fail_core;
	ret = register_filesystem(&mshare_fs_type);
	if (ret)
		goto fail_mount_point;
	mshare_debugfs = debugfs_create_dir("mshare", NULL);
	debugfs_create_file("regions", 0400, mshare_debugfs, NULL,
			    &regions_fops);
	return 0;

fail_mount_point:
	sysfs_remove_mount_point(fs_kobj, "mshare");
fail_core:
	mshare_core_exit();
	return ret;
}

static void __exit mshare_exit(void)
{
	debugfs_remove(mshare_debugfs);
	unregister_filesystem(&mshare_fs_type);
	sysfs_remove_mount_point(fs_kobj, "mshare");
	mshare_core_exit();
}

module_init(mshare_init);
module_exit(mshare_exit);
MODULE_DESCRIPTION("mshare: shared page-table regions (msharefs, v3 API)");
MODULE_LICENSE("GPL");
