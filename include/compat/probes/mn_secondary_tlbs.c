// SPDX-License-Identifier: GPL-2.0
/*
 * 6.6 (Alistair Popple, "mmu_notifiers: rename invalidate_range
 * notifier"): ->invalidate_range() became ->arch_invalidate_secondary_tlbs(),
 * called from the architecture's TLB flush, and may not share an ops with
 * ->invalidate_range_start/_end() (__mmu_notifier_register() refuses it).
 */
#include <linux/mmu_notifier.h>

static void probe_tlbs(struct mmu_notifier *mn, struct mm_struct *mm,
		       unsigned long start, unsigned long end)
{
}

const struct mmu_notifier_ops probe_mn_secondary_tlbs_ops = {
	.arch_invalidate_secondary_tlbs = probe_tlbs,
};
