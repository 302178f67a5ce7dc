// SPDX-License-Identifier: GPL-2.0
/*
 * After 6.12 (7.3.4 include/linux/mm_types.h): mm->flags is an
 * mm_flags_t bitmap changed with mm_flags_set(), and MMF_DISABLE_THP is
 * split; MMF_DISABLE_THP_COMPLETELY is what PR_SET_THP_DISABLE sets.
 */
#include <linux/mm.h>

void probe_mm_flags_set(struct mm_struct *mm);
void probe_mm_flags_set(struct mm_struct *mm)
{
	mm_flags_set(MMF_DISABLE_THP_COMPLETELY, mm);
}
