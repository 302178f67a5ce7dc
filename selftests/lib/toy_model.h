/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A reference model of the toy buddy, written independently of
 * mm/toyalloc/buddy.c: free lists as index-linked arrays, coalescing by
 * looking at the buddy's state. Given the same operations from a fresh
 * pool it must pick exactly the same blocks.
 */
#ifndef _TOY_MODEL_H
#define _TOY_MODEL_H

#include <linux/toyalloc.h>

struct toy_model {
	unsigned long nr_pages;
	int policy;
	unsigned char *state;		/* 0 inside, 1 free head, 2 allocated head */
	unsigned char *order;
	long *next, *prev;		/* free-list links by page index */
	long head[TOYALLOC_NR_ORDERS], tail[TOYALLOC_NR_ORDERS];
	unsigned long nr_free[TOYALLOC_NR_ORDERS];
	unsigned long splits, merges;
	/* Per order, as the stats view counts them. */
	unsigned long allocs_by[TOYALLOC_NR_ORDERS], frees_by[TOYALLOC_NR_ORDERS];
	unsigned long splits_by[TOYALLOC_NR_ORDERS], merges_by[TOYALLOC_NR_ORDERS];
	unsigned long failures_by[TOYALLOC_NR_ORDERS];
};

int toy_model_init(struct toy_model *m, unsigned long nr_pages, int policy);
void toy_model_destroy(struct toy_model *m);
/* First page index of the block, or -1 when nothing is large enough. */
long toy_model_alloc(struct toy_model *m, unsigned int order);
/* 0, or -1 if idx does not head an allocated block of that order. */
int toy_model_free(struct toy_model *m, unsigned long idx, unsigned int order);

/*
 * A cache's layout as Documentation/toyalloc.rst states it: the stride
 * (size), the slab order and the objects per slab; -1 if no object fits.
 */
struct toy_model_layout {
	unsigned int size, order, objects;
};

int toy_model_cache_layout(unsigned int object_size, unsigned int align, int order,
			   unsigned int flags, struct toy_model_layout *l);

/* The kernel's formulas (mm/vmstat.c), in thousandths. */
int toy_model_unusable(const unsigned long *nr_free, unsigned int order);
int toy_model_extfrag(const unsigned long *nr_free, unsigned int order);

#endif
