/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory-management API differences between the supported kernels.
 *
 * COMPAT_NR_PAGE_ORDERS: the number of page orders of the buddy
 * allocator, the size of struct zone's free_area[] (orders 0 ..
 * COMPAT_NR_PAGE_ORDERS - 1). 6.1 names it MAX_ORDER; 6.8 brought
 * NR_PAGE_ORDERS (and MAX_PAGE_ORDER, the largest order). In 6.4..6.7
 * MAX_ORDER was the largest order: the static_assert stops a build there
 * rather than let the count be off by one.
 */
#ifndef _MMSUITE_COMPAT_MM_H
#define _MMSUITE_COMPAT_MM_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/mmzone.h>
#include <compat_config.h>

#ifdef HAVE_NR_PAGE_ORDERS
#define COMPAT_NR_PAGE_ORDERS	NR_PAGE_ORDERS
#else
#define COMPAT_NR_PAGE_ORDERS	MAX_ORDER
#endif

static_assert(COMPAT_NR_PAGE_ORDERS ==
	      sizeof_field(struct zone, free_area) / sizeof(struct free_area));

#endif /* _MMSUITE_COMPAT_MM_H */
