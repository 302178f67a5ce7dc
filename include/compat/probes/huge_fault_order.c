// SPDX-License-Identifier: GPL-2.0
/*
 * 6.6 (Matthew Wilcox, "mm: remove enum page_entry_size"):
 * ->huge_fault() takes the order of the mapping (PMD_ORDER, PUD_ORDER).
 */
#include <linux/mm.h>

static vm_fault_t probe_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	return order == PUD_ORDER ? VM_FAULT_FALLBACK : 0;
}

const struct vm_operations_struct probe_huge_fault_order_ops = {
	.huge_fault = probe_huge_fault,
};
