// SPDX-License-Identifier: GPL-2.0
/*
 * After 6.12 (absent in 6.12.95, present in 7.3.4; Lorenzo Stoakes, "mm:
 * introduce leaf entry type"): <linux/leafops.h>, softleaf_t and the
 * softleaf_*() predicates replace the is_*_entry() helpers of swapops.h.
 */
#include <linux/leafops.h>

bool probe_softleaf(pte_t pte);
bool probe_softleaf(pte_t pte)
{
	return softleaf_is_marker(softleaf_from_pte(pte));
}
