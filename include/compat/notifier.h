/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MMU notifier API differences (verified on 6.1, 6.12.95 and 7.3.4).
 *
 * The secondary-TLB hook, called right after the core changed or cleared
 * PTEs of the mm, before the pages go: 6.1's ->invalidate_range(), which
 * sits in the same ops as ->invalidate_range_start/_end(); since 6.6
 * ->arch_invalidate_secondary_tlbs(), called from x86's
 * flush_tlb_mm_range() and arch_tlbbatch_add_pending(), which
 * __mmu_notifier_register() refuses (WARN, -EINVAL) in an ops that has
 * the start/end callbacks: it needs a subscription of its own.
 *
 * Same callback signature on every line. Initialise both ops with
 *	COMPAT_MN_SHARED_TLB_HOOK(fn)	(the start/end ops: 6.1 only)
 *	COMPAT_MN_OWN_TLB_HOOK(fn)	(an ops of its own: 6.6+; empty in 6.1)
 * and register the second with compat_mn_register_tlb_hook(), which does
 * nothing in 6.1 (and compat_mn_unregister_tlb_hook()).
 */
#ifndef _MMSUITE_COMPAT_NOTIFIER_H
#define _MMSUITE_COMPAT_NOTIFIER_H

#include <linux/mmu_notifier.h>
#include <compat_config.h>

#ifdef HAVE_MN_SECONDARY_TLBS
#define COMPAT_MN_SHARED_TLB_HOOK(fn)
#define COMPAT_MN_OWN_TLB_HOOK(fn)	.arch_invalidate_secondary_tlbs = (fn),
#else
#define COMPAT_MN_SHARED_TLB_HOOK(fn)	.invalidate_range = (fn),
#define COMPAT_MN_OWN_TLB_HOOK(fn)
#endif

static inline int compat_mn_register_tlb_hook(struct mmu_notifier *mn,
					      struct mm_struct *mm)
{
#ifdef HAVE_MN_SECONDARY_TLBS
	return mmu_notifier_register(mn, mm);
#else
	return 0;
#endif
}

static inline void compat_mn_unregister_tlb_hook(struct mmu_notifier *mn,
						 struct mm_struct *mm)
{
#ifdef HAVE_MN_SECONDARY_TLBS
	mmu_notifier_unregister(mn, mm);
#endif
}

#endif /* _MMSUITE_COMPAT_NOTIFIER_H */
