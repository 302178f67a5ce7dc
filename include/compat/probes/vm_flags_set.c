// SPDX-License-Identifier: GPL-2.0
/*
 * 6.3 (Suren Baghdasaryan, "mm: introduce vma->vm_flags wrapper
 * functions"): vma->vm_flags is const; vm_flags_set() changes it.
 */
#include <linux/mm.h>

void probe_vm_flags_set(struct vm_area_struct *vma);
void probe_vm_flags_set(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_DONTDUMP);
}
