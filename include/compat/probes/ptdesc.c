// SPDX-License-Identifier: GPL-2.0
/*
 * 6.6 (Vishal Moola, "mm: convert ptlock_ptr() to use ptdescs"): a page
 * table's lock is reached through its struct ptdesc, not its struct page
 * (which lost ->ptl).
 */
#include <linux/mm.h>

spinlock_t *probe_ptdesc(struct page *page);
spinlock_t *probe_ptdesc(struct page *page)
{
	return ptlock_ptr(page_ptdesc(page));
}
