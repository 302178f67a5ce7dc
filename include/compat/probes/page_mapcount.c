// SPDX-License-Identifier: GPL-2.0
/*
 * Removed by 6.12 (absent in 6.12.95; folio mapcount rework by David
 * Hildenbrand): page_mapcount(), which 6.1's /proc/kpagecount reports.
 * Later kernels report fs/proc/internal.h's folio_precise_page_mapcount().
 */
#include <linux/mm.h>

int probe_page_mapcount(struct page *page);
int probe_page_mapcount(struct page *page)
{
	return page_mapcount(page);
}
