// SPDX-License-Identifier: GPL-2.0
/*
 * 6.8 renamed MAX_ORDER (the number of page orders up to 6.3, the largest
 * order in 6.4..6.7) to MAX_PAGE_ORDER and added NR_PAGE_ORDERS, the number
 * of orders (the size of struct zone's free_area[]).
 */
#include <linux/mmzone.h>
static const int probe[NR_PAGE_ORDERS] __used;
