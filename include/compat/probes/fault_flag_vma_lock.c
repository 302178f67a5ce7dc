// SPDX-License-Identifier: GPL-2.0
/*
 * 6.4 (Suren Baghdasaryan, per-VMA locks): a fault may run under the
 * VMA's read lock instead of mmap_lock (FAULT_FLAG_VMA_LOCK), and
 * release_fault_lock() drops whichever the fault holds.
 */
#include <linux/mm.h>

void probe_fault_flag_vma_lock(struct vm_fault *vmf);
void probe_fault_flag_vma_lock(struct vm_fault *vmf)
{
	if (vmf->flags & FAULT_FLAG_VMA_LOCK)
		release_fault_lock(vmf);
}
