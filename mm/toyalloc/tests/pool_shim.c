// SPDX-License-Identifier: GPL-2.0
/*
 * The pool of the unit tests: one aligned allocation, and a report
 * counter, given to the slab allocator as its toy_slab_ops.
 */
#include <linux/kernel.h>
#include "../slab.h"
#include "pool_shim.h"

unsigned long toy_trace_counts[4];
unsigned long shim_reports[TOYALLOC_NR_ERRORS];
static char *pool_base;
static unsigned long pool_pages;

void *shim_pool_create(unsigned long nr_pages)
{
	pool_pages = nr_pages;
	pool_base = aligned_alloc(PAGE_SIZE, nr_pages * PAGE_SIZE);
	return pool_base;
}

void shim_pool_destroy(void)
{
	free(pool_base);
	pool_base = NULL;
}

static void *shim_page_addr(unsigned long idx)
{
	assert(idx < pool_pages);
	return pool_base + idx * PAGE_SIZE;
}

static long shim_page_index(const void *addr)
{
	const char *p = addr;

	if (p < pool_base || p >= pool_base + pool_pages * PAGE_SIZE)
		return -1;
	return (p - pool_base) / PAGE_SIZE;
}

static void shim_report(struct toy_cache *c, enum toyalloc_slab_error err,
			long pool_offset)
{
	shim_reports[err]++;
}

const struct toy_slab_ops shim_slab_ops = {
	.page_addr = shim_page_addr,
	.page_index = shim_page_index,
	.report = shim_report,
};
