// SPDX-License-Identifier: GPL-2.0
/*
 * 6.10 (Matthew Wilcox, "mm: remove PG_slab"): slab became a page type.
 * Where PG_slab still exists, fs/proc/page.c:stable_page_flags() reads the
 * flags of the page itself, as 6.1 does; 6.12's reads the folio's.
 */
#include <linux/page-flags.h>

int probe_pg_slab(void);
int probe_pg_slab(void)
{
	return PG_slab;
}
