/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fragmentation formulas of mm/vmstat.c, in thousandths, for any set
 * of free-block counts: the toy pool, a replay, or a real zone.
 */
#ifndef _TOYALLOC_FRAG_H
#define _TOYALLOC_FRAG_H

#include <linux/types.h>

/* Share of free memory unusable for an order-@order request. */
int toy_unusable_index(const unsigned long *nr_free, unsigned int nr_orders,
		       unsigned int order);
/* -1000 if the request would succeed, else how much a failure is fragmentation. */
int toy_extfrag_index(const unsigned long *nr_free, unsigned int nr_orders,
		      unsigned int order);

#endif /* _TOYALLOC_FRAG_H */
