/* SPDX-License-Identifier: GPL-2.0 */
/* Which page-table pages a process walks through, read by ptwalk. */
#ifndef PTWALK_TABLES_H
#define PTWALK_TABLES_H

#include <sys/types.h>

/*
 * The PFN of the @level ("pte", "pmd", "pud") table @pid walks through for
 * @addr, from ptwalk's path view; 0 if there is none.
 */
unsigned long ptw_table_of(pid_t pid, unsigned long addr, const char *level);

#endif
