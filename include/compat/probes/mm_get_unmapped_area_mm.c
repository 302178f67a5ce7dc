// SPDX-License-Identifier: GPL-2.0
/*
 * symbol: mm_get_unmapped_area
 * 6.10 (Rick Edgecombe, "mm: remove get_unmapped_area() from mm_struct"):
 * mm_get_unmapped_area(mm, file, addr, len, pgoff, flags) replaces
 * mm->get_unmapped_area(). After 6.12 it lost @mm: mm_get_unmapped_area.c.
 */
#include <linux/sched/mm.h>

unsigned long probe_gua_mm(struct file *file, unsigned long len);
unsigned long probe_gua_mm(struct file *file, unsigned long len)
{
	return mm_get_unmapped_area(current->mm, file, 0, len, 0, 0);
}
