// SPDX-License-Identifier: GPL-2.0
/*
 * 6.5 (Hugh Dickins, "mm/pgtable: allow pte_offset_map[_lock]() to
 * fail"): pte_offset_map*() are out of line in mm/pgtable-generic.c, take
 * rcu_read_lock() (pte_unmap() drops it) and may find no table; PTE
 * tables may be freed after an RCU grace period. None of them is exported,
 * so ptwalk open-codes __pte_offset_map(). Compiles where it is declared.
 */
#include <linux/mm.h>

pte_t *probe_pte_offset_map_rcu(pmd_t *pmd, unsigned long addr, pmd_t *val);
pte_t *probe_pte_offset_map_rcu(pmd_t *pmd, unsigned long addr, pmd_t *val)
{
	return __pte_offset_map(pmd, addr, val);
}
