/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault-handler API differences (verified on 6.1, 6.12.95 and 7.3.4).
 *
 * compat_huge_fault_size_t, compat_huge_fault_is_pud(size): the size
 *	->huge_fault() is given and whether it is a PUD's: an enum
 *	page_entry_size in 6.1 (PE_SIZE_PUD), the order since 6.6
 *	(PUD_ORDER).
 *
 * Per-VMA locks (6.4; CONFIG_PER_VMA_LOCK, on in Debian's 6.12 and 7.3):
 * a user fault first runs under the VMA's read lock alone, without
 * mmap_lock (FAULT_FLAG_VMA_LOCK), and is retried under mmap_lock when a
 * handler drops that lock and returns VM_FAULT_RETRY, as
 * vmf_can_call_fault() does.
 * compat_fault_vma_locked(): this fault holds the VMA lock, not mmap_lock
 *	(never in 6.1).
 * compat_release_fault_lock(): drop whichever lock the fault holds
 *	(release_fault_lock(); 6.1: mmap_lock, read).
 * COMPAT_VMA_LOCK_FAULTS: faults may run under the VMA lock.
 * compat_vma_start_write(): with mmap_lock held for writing, wait for the
 *	VMA's lock readers and keep new ones out until mmap_write_unlock()
 *	(vma_start_write(); nothing to do in 6.1, which has no VMA locks).
 */
#ifndef _MMSUITE_COMPAT_FAULT_H
#define _MMSUITE_COMPAT_FAULT_H

#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <compat_config.h>

#ifdef HAVE_HUGE_FAULT_ORDER
#define compat_huge_fault_size_t	unsigned int
#define compat_huge_fault_is_pud(size)	((size) == PUD_ORDER)
#else
#define compat_huge_fault_size_t	enum page_entry_size
#define compat_huge_fault_is_pud(size)	((size) == PE_SIZE_PUD)
#endif

#if defined(HAVE_FAULT_FLAG_VMA_LOCK) && defined(CONFIG_PER_VMA_LOCK)
#define COMPAT_VMA_LOCK_FAULTS	1
#else
#define COMPAT_VMA_LOCK_FAULTS	0
#endif

static inline bool compat_fault_vma_locked(struct vm_fault *vmf)
{
#ifdef HAVE_FAULT_FLAG_VMA_LOCK
	return vmf->flags & FAULT_FLAG_VMA_LOCK;
#else
	return false;
#endif
}

static inline void compat_release_fault_lock(struct vm_fault *vmf)
{
#ifdef HAVE_FAULT_FLAG_VMA_LOCK
	release_fault_lock(vmf);
#else
	mmap_read_unlock(vmf->vma->vm_mm);
#endif
}

static inline void compat_vma_start_write(struct vm_area_struct *vma)
{
#if COMPAT_VMA_LOCK_FAULTS
	vma_start_write(vma);
#endif
}

#endif /* _MMSUITE_COMPAT_FAULT_H */
