// SPDX-License-Identifier: GPL-2.0
/*
 * symbol: mm_get_unmapped_area
 * After 6.12 (7.3.4 include/linux/sched/mm.h): mm_get_unmapped_area(file,
 * addr, len, pgoff, flags), for current->mm.
 */
#include <linux/sched/mm.h>

unsigned long probe_gua(struct file *file, unsigned long len);
unsigned long probe_gua(struct file *file, unsigned long len)
{
	return mm_get_unmapped_area(file, 0, len, 0, 0);
}
