// SPDX-License-Identifier: GPL-2.0
/*
 * 6.5 (with the pte_offset_map() rework): pmdp_get_lockless(), the PMD
 * read for walkers that do not hold the PMD lock. 6.1 has no such helper
 * for x86-64, where READ_ONCE() of the entry is the same thing.
 */
#include <linux/pgtable.h>

pmd_t probe_pmdp_get_lockless(pmd_t *pmd);
pmd_t probe_pmdp_get_lockless(pmd_t *pmd)
{
	return pmdp_get_lockless(pmd);
}
