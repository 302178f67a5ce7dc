// SPDX-License-Identifier: GPL-2.0
/*
 * fill_contig_page_info(), unusable_free_index() and
 * __fragmentation_index() of mm/vmstat.c (6.1), with the same integer
 * arithmetic so that the values match the kernel's debugfs extfrag files.
 */
#include <linux/kernel.h>
#include <linux/math64.h>

#include "frag.h"

struct contig_info {
	unsigned long free_pages;
	unsigned long free_blocks_total;
	unsigned long free_blocks_suitable;
};

static void contig_info(const unsigned long *nr_free, unsigned int nr_orders,
			unsigned int suitable_order, struct contig_info *info)
{
	unsigned int order;

	info->free_pages = 0;
	info->free_blocks_total = 0;
	info->free_blocks_suitable = 0;
	for (order = 0; order < nr_orders; order++) {
		unsigned long blocks = nr_free[order];

		info->free_blocks_total += blocks;
		info->free_pages += blocks << order;
		if (order >= suitable_order)
			info->free_blocks_suitable += blocks << (order - suitable_order);
	}
}

int toy_unusable_index(const unsigned long *nr_free, unsigned int nr_orders,
		       unsigned int order)
{
	struct contig_info info;

	contig_info(nr_free, nr_orders, order, &info);
	if (!info.free_pages)
		return 1000;
	return div_u64((info.free_pages - (info.free_blocks_suitable << order)) *
		       1000ULL, info.free_pages);
}

int toy_extfrag_index(const unsigned long *nr_free, unsigned int nr_orders,
		      unsigned int order)
{
	unsigned long requested = 1UL << order;
	struct contig_info info;

	contig_info(nr_free, nr_orders, order, &info);
	if (!info.free_blocks_total)
		return 0;
	if (info.free_blocks_suitable)
		return -1000;
	return 1000 - div_u64(1000 + div_u64(info.free_pages * 1000ULL, requested),
			      info.free_blocks_total);
}
