/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory-management API differences between the supported kernels.
 *
 * COMPAT_NR_PAGE_ORDERS: the number of page orders of the buddy
 * allocator, the size of struct zone's free_area[] (orders 0 ..
 * COMPAT_NR_PAGE_ORDERS - 1). 6.1 names it MAX_ORDER; 6.8 brought
 * NR_PAGE_ORDERS (and MAX_PAGE_ORDER, the largest order). In 6.4..6.7
 * MAX_ORDER was the largest order: the static_assert stops a build there
 * rather than let the count be off by one.
 *
 * compat_vm_flags_set(): add VM_* flags to a VMA being set up (->mmap,
 *	->open): vm_flags is const since 6.3 (vm_flags_set()).
 * compat_vm_flags_reset(): replace the flags of a VMA in the tree, with
 *	mmap_lock held for writing and, where VMA locks exist, the VMA
 *	write-locked (6.3: vm_flags_reset()).
 * compat_mm_get_unmapped_area(): the mm's own get_unmapped_area for
 *	current->mm: mm->get_unmapped_area() in 6.1; 6.10's
 *	mm_get_unmapped_area(mm, ...), which lost @mm after 6.12.
 * compat_mm_disable_thp(): what PR_SET_THP_DISABLE sets, keeping
 *	khugepaged and MADV_COLLAPSE out of the mm: MMF_DISABLE_THP in
 *	mm->flags until 6.12, MMF_DISABLE_THP_COMPLETELY in the mm_flags_t
 *	bitmap after it.
 * compat_shmem_file_setup_with_mnt(): an unlinked file on a tmpfs mount,
 *	no VM_* flags (a vma_flags_t after 6.12, unsigned long before).
 * COMPAT_UFFD_WP_ANY_VMA: userfaultfd registers any VMA with VM_MAYWRITE
 *	for asynchronous write-protection, VM_SPECIAL ones included: from
 *	6.7 (UFFD_FEATURE_WP_ASYNC) until vma_can_userfault() refused
 *	VM_SPECIAL VMAs (marked by HAVE_VM_UFFD_OPS; 6.12 yes, 6.1 and 7.3
 *	no).
 */
#ifndef _MMSUITE_COMPAT_MM_H
#define _MMSUITE_COMPAT_MM_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <uapi/linux/userfaultfd.h>
#include <compat_config.h>

#ifdef HAVE_NR_PAGE_ORDERS
#define COMPAT_NR_PAGE_ORDERS	NR_PAGE_ORDERS
#else
#define COMPAT_NR_PAGE_ORDERS	MAX_ORDER
#endif

static_assert(COMPAT_NR_PAGE_ORDERS ==
	      sizeof_field(struct zone, free_area) / sizeof(struct free_area));

#if defined(CONFIG_USERFAULTFD) && defined(UFFD_FEATURE_WP_ASYNC) && \
	!defined(HAVE_VM_UFFD_OPS)
#define COMPAT_UFFD_WP_ANY_VMA	1
#else
#define COMPAT_UFFD_WP_ANY_VMA	0
#endif

static inline void compat_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#ifdef HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void compat_vm_flags_reset(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
#ifdef HAVE_VM_FLAGS_SET
	vm_flags_reset(vma, flags);
#else
	WRITE_ONCE(vma->vm_flags, flags);
#endif
}

static inline unsigned long
compat_mm_get_unmapped_area(struct file *file, unsigned long addr,
			    unsigned long len, unsigned long pgoff,
			    unsigned long flags)
{
#if defined(HAVE_MM_GET_UNMAPPED_AREA)
	return mm_get_unmapped_area(file, addr, len, pgoff, flags);
#elif defined(HAVE_MM_GET_UNMAPPED_AREA_MM)
	return mm_get_unmapped_area(current->mm, file, addr, len, pgoff, flags);
#else
	return current->mm->get_unmapped_area(file, addr, len, pgoff, flags);
#endif
}

static inline void compat_mm_disable_thp(struct mm_struct *mm)
{
#ifdef HAVE_MM_FLAGS_SET
	mm_flags_set(MMF_DISABLE_THP_COMPLETELY, mm);
#else
	set_bit(MMF_DISABLE_THP, &mm->flags);
#endif
}

static inline struct file *
compat_shmem_file_setup_with_mnt(struct vfsmount *mnt, const char *name,
				 loff_t size)
{
#ifdef HAVE_SHMEM_VMA_FLAGS
	return shmem_file_setup_with_mnt(mnt, name, size, EMPTY_VMA_FLAGS);
#else
	return shmem_file_setup_with_mnt(mnt, name, size, 0);
#endif
}

#endif /* _MMSUITE_COMPAT_MM_H */
