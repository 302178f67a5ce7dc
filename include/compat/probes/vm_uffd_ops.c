// SPDX-License-Identifier: GPL-2.0
/*
 * 7.x (7.3.4 include/linux/mm.h): struct vm_operations_struct has
 * uffd_ops, and vma_can_userfault() (mm/userfaultfd.c) refuses a
 * VM_SPECIAL VMA before the asynchronous write-protect case that 6.7
 * opened to any VMA (6.12.95 include/linux/userfaultfd_k.h has no such
 * test). Used as the mark of that refusal: verified on 6.1, 6.12, 7.3.
 */
#include <linux/mm.h>

const struct vm_operations_struct probe_vm_uffd_ops = { .uffd_ops = NULL };
