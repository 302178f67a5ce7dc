/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The toy buddy allocator. It manages page indices; what an index stands
 * for (a real page of the pool, or nothing during a replay) is the
 * caller's business. Built into the module and into the user-space unit
 * tests (tests/), so it includes only <linux/...> headers the tests shim.
 */
#ifndef _TOYALLOC_BUDDY_H
#define _TOYALLOC_BUDDY_H

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/toyalloc.h>

#define TOY_NR_ORDERS		TOYALLOC_NR_ORDERS
#define TOY_MAX_ORDER		(TOY_NR_ORDERS - 1)
#define TOY_CHUNK_PAGES		BIT(TOY_MAX_ORDER)
#define TOY_LAT_BUCKETS		24	/* log2 nanoseconds, last is open */

enum toy_page_state {
	TOY_PAGE_INSIDE,	/* not the first page of a block */
	TOY_PAGE_FREE,		/* heads a free block of ->order */
	TOY_PAGE_ALLOC,		/* heads an allocated block of ->order */
};

struct toy_cache;

/* The toy's struct page: one per pool page. */
struct toy_page {
	struct list_head lru;		/* free list, or the slab lists */
	u8 state;
	u8 order;
	/* Slab fields, on the first page of a slab (see slab.c). */
	u8 frozen;			/* owned by a CPU slot */
	u8 corrupt;			/* isolated after a freelist corruption */
	u16 inuse;
	u16 objects;
	void *freelist;
	struct toy_cache *cache;	/* on every page of a slab */
};

struct toy_order_stats {
	u64 allocs, frees, splits, merges, failures;
	u64 latency[TOY_LAT_BUCKETS];	/* allocations, by log2(ns) */
};

struct toy_buddy {
	spinlock_t lock;		/* everything below */
	unsigned long nr_pages;		/* a multiple of TOY_CHUNK_PAGES */
	unsigned long nr_allocated;	/* pages in allocated blocks */
	enum toyalloc_policy policy;
	struct toy_page *pages;
	unsigned long *free_map[TOY_NR_ORDERS];	/* bit i: block i free */
	struct list_head free_list[TOY_NR_ORDERS];
	unsigned long nr_free[TOY_NR_ORDERS];
	struct toy_order_stats stats[TOY_NR_ORDERS];
};

/* What toy_buddy_validate() found; all zero for a sound allocator. */
struct toy_buddy_report {
	unsigned long misaligned;	/* free block not aligned to its order */
	unsigned long outside;		/* block runs past its chunk */
	unsigned long overlap;		/* a block head inside another block */
	unsigned long uncoalesced;	/* two free buddies left apart */
	unsigned long bad_list;		/* free lists, maps and counts disagree */
	unsigned long lost_pages;	/* free + allocated != pool */
	unsigned long free_pages, allocated_pages;
};

static inline unsigned long toy_buddy_report_total(const struct toy_buddy_report *r)
{
	return r->misaligned + r->outside + r->overlap + r->uncoalesced +
	       r->bad_list + r->lost_pages;
}

extern const char * const toy_policy_names[TOYALLOC_NR_POLICIES];

/* Memory for pages[] and the free maps, sized by toy_buddy_meta_size(). */
size_t toy_buddy_meta_size(unsigned long nr_pages);
void toy_buddy_init(struct toy_buddy *b, unsigned long nr_pages, void *meta,
		    enum toyalloc_policy policy);
long toy_buddy_alloc(struct toy_buddy *b, unsigned int order);
int toy_buddy_free(struct toy_buddy *b, unsigned long idx, unsigned int order);
int toy_buddy_set_policy(struct toy_buddy *b, enum toyalloc_policy policy);
void toy_buddy_reset_stats(struct toy_buddy *b);
void toy_buddy_validate(struct toy_buddy *b, struct toy_buddy_report *r);
void toy_buddy_snapshot(struct toy_buddy *b, unsigned long *nr_free);

/* Block order of an allocated head, or -EINVAL if idx heads no block. */
int toy_buddy_block_order(struct toy_buddy *b, unsigned long idx);

#endif /* _TOYALLOC_BUDDY_H */
