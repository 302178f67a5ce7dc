// SPDX-License-Identifier: GPL-2.0
/*
 * Toy buddy allocator: free lists per order, a free bitmap per order for
 * address-ordered picks and for validation, and O(1) split and coalesce
 * per level because a block's buddy is found by flipping one index bit.
 *
 * Invariant: only the first page of a block has a state other than
 * TOY_PAGE_INSIDE, so "is my buddy free and whole?" is one look at the
 * buddy's first page.
 */
#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/log2.h>
#include <linux/sched/clock.h>
#include <linux/string.h>
#include <trace/events/toyalloc.h>

#include "buddy.h"

const char * const toy_policy_names[TOYALLOC_NR_POLICIES] = {
	[TOYALLOC_POLICY_LIFO] = "lifo",
	[TOYALLOC_POLICY_FIFO] = "fifo",
	[TOYALLOC_POLICY_ADDR] = "addr",
};

static unsigned long map_longs(unsigned long nr_pages, unsigned int order)
{
	return BITS_TO_LONGS(nr_pages >> order);
}

size_t toy_buddy_meta_size(unsigned long nr_pages)
{
	size_t size = nr_pages * sizeof(struct toy_page);
	unsigned int order;

	for (order = 0; order < TOY_NR_ORDERS; order++)
		size += map_longs(nr_pages, order) * sizeof(long);
	return size;
}

static void add_free(struct toy_buddy *b, unsigned long idx, unsigned int order)
{
	struct toy_page *p = &b->pages[idx];

	p->state = TOY_PAGE_FREE;
	p->order = order;
	if (b->policy == TOYALLOC_POLICY_FIFO)
		list_add_tail(&p->lru, &b->free_list[order]);
	else
		list_add(&p->lru, &b->free_list[order]);
	__set_bit(idx >> order, b->free_map[order]);
	b->nr_free[order]++;
}

static void del_free(struct toy_buddy *b, unsigned long idx, unsigned int order)
{
	struct toy_page *p = &b->pages[idx];

	list_del(&p->lru);
	p->state = TOY_PAGE_INSIDE;
	__clear_bit(idx >> order, b->free_map[order]);
	b->nr_free[order]--;
}

/* Rebuild an empty pool as whole chunks, in address order. */
static void rebuild_free_lists(struct toy_buddy *b)
{
	unsigned long idx;
	unsigned int order;

	for (order = 0; order < TOY_NR_ORDERS; order++) {
		INIT_LIST_HEAD(&b->free_list[order]);
		bitmap_zero(b->free_map[order], b->nr_pages >> order);
		b->nr_free[order] = 0;
	}
	for (idx = 0; idx < b->nr_pages; idx++)
		b->pages[idx].state = TOY_PAGE_INSIDE;
	for (idx = 0; idx < b->nr_pages; idx += TOY_CHUNK_PAGES) {
		add_free(b, idx, TOY_MAX_ORDER);
		/* LIFO pushes to the head: keep the lowest chunk first. */
		if (b->policy != TOYALLOC_POLICY_FIFO)
			list_move_tail(&b->pages[idx].lru,
				       &b->free_list[TOY_MAX_ORDER]);
	}
}

void toy_buddy_init(struct toy_buddy *b, unsigned long nr_pages, void *meta,
		    enum toyalloc_policy policy)
{
	unsigned long *map;
	unsigned int order;

	memset(b, 0, sizeof(*b));
	spin_lock_init(&b->lock);
	b->nr_pages = nr_pages;
	b->policy = policy;
	b->pages = meta;
	memset(b->pages, 0, nr_pages * sizeof(struct toy_page));
	map = (unsigned long *)(b->pages + nr_pages);
	for (order = 0; order < TOY_NR_ORDERS; order++) {
		b->free_map[order] = map;
		map += map_longs(nr_pages, order);
	}
	rebuild_free_lists(b);
}

static unsigned long pick_block(struct toy_buddy *b, unsigned int order)
{
	if (b->policy == TOYALLOC_POLICY_ADDR)
		return find_first_bit(b->free_map[order],
				      b->nr_pages >> order) << order;
	return list_first_entry(&b->free_list[order], struct toy_page, lru) -
	       b->pages;
}

static void account_latency(struct toy_order_stats *st, u64 start)
{
	u64 ns = local_clock() - start;
	unsigned int bucket = ns ? ilog2(ns) + 1 : 0;

	st->latency[min_t(unsigned int, bucket, TOY_LAT_BUCKETS - 1)]++;
}

/* Returns the first page index of a 2^order block, or -errno. */
long toy_buddy_alloc(struct toy_buddy *b, unsigned int order)
{
	u64 start = local_clock();
	unsigned int cur;
	unsigned long idx;

	if (order > TOY_MAX_ORDER)
		return -EINVAL;

	spin_lock(&b->lock);
	for (cur = order; cur <= TOY_MAX_ORDER; cur++)
		if (b->nr_free[cur])
			break;
	if (cur > TOY_MAX_ORDER) {
		b->stats[order].failures++;
		spin_unlock(&b->lock);
		return -ENOMEM;
	}
	idx = pick_block(b, cur);
	del_free(b, idx, cur);
	while (cur > order) {
		b->stats[cur].splits++;
		trace_toyalloc_split(idx, cur);
		cur--;
		add_free(b, idx + (1UL << cur), cur);
	}
	b->pages[idx].state = TOY_PAGE_ALLOC;
	b->pages[idx].order = order;
	b->nr_allocated += 1UL << order;
	b->stats[order].allocs++;
	account_latency(&b->stats[order], start);
	spin_unlock(&b->lock);

	trace_toyalloc_alloc(idx, order, b->policy);
	return idx;
}

/* -EINVAL, changing nothing, unless idx heads an allocated 2^order block. */
int toy_buddy_free(struct toy_buddy *b, unsigned long idx, unsigned int order)
{
	unsigned long buddy;
	struct toy_page *p;

	if (order > TOY_MAX_ORDER || idx >= b->nr_pages ||
	    (idx & ((1UL << order) - 1)))
		return -EINVAL;

	spin_lock(&b->lock);
	p = &b->pages[idx];
	if (p->state != TOY_PAGE_ALLOC || p->order != order) {
		spin_unlock(&b->lock);
		return -EINVAL;
	}
	trace_toyalloc_free(idx, order);
	p->state = TOY_PAGE_INSIDE;
	b->nr_allocated -= 1UL << order;
	b->stats[order].frees++;
	while (order < TOY_MAX_ORDER) {
		buddy = idx ^ (1UL << order);
		p = &b->pages[buddy];
		if (p->state != TOY_PAGE_FREE || p->order != order)
			break;
		del_free(b, buddy, order);
		b->stats[order].merges++;
		idx &= ~(1UL << order);
		trace_toyalloc_merge(idx, order);
		order++;
	}
	add_free(b, idx, order);
	spin_unlock(&b->lock);
	return 0;
}

int toy_buddy_block_order(struct toy_buddy *b, unsigned long idx)
{
	int order = -EINVAL;

	if (idx >= b->nr_pages)
		return -EINVAL;
	spin_lock(&b->lock);
	if (b->pages[idx].state == TOY_PAGE_ALLOC)
		order = b->pages[idx].order;
	spin_unlock(&b->lock);
	return order;
}

/* Only an empty pool changes policy; it restarts as whole chunks. */
int toy_buddy_set_policy(struct toy_buddy *b, enum toyalloc_policy policy)
{
	int ret = 0;

	if (policy >= TOYALLOC_NR_POLICIES)
		return -EINVAL;
	spin_lock(&b->lock);
	if (b->nr_allocated) {
		ret = -EBUSY;
	} else {
		b->policy = policy;
		rebuild_free_lists(b);
	}
	spin_unlock(&b->lock);
	return ret;
}

void toy_buddy_reset_stats(struct toy_buddy *b)
{
	spin_lock(&b->lock);
	memset(b->stats, 0, sizeof(b->stats));
	spin_unlock(&b->lock);
}

void toy_buddy_snapshot(struct toy_buddy *b, unsigned long *nr_free)
{
	spin_lock(&b->lock);
	memcpy(nr_free, b->nr_free, sizeof(b->nr_free));
	spin_unlock(&b->lock);
}

/* Walk the pool block by block; returns the free blocks seen per order. */
static void validate_blocks(struct toy_buddy *b, struct toy_buddy_report *r,
			    unsigned long *seen)
{
	unsigned long idx = 0, end, next, size, chunk_end;
	struct toy_page *p;

	while (idx < b->nr_pages) {
		p = &b->pages[idx];
		if (p->state == TOY_PAGE_INSIDE || p->order > TOY_MAX_ORDER) {
			idx++;		/* belongs to no block: lost */
			continue;
		}
		size = 1UL << p->order;
		if (idx & (size - 1))
			r->misaligned++;
		chunk_end = (idx | (TOY_CHUNK_PAGES - 1)) + 1;
		end = idx + size;
		if (end > chunk_end) {
			r->outside++;
			end = chunk_end;
		}
		for (next = idx + 1; next < end; next++) {
			if (b->pages[next].state != TOY_PAGE_INSIDE) {
				r->overlap++;
				break;
			}
		}
		size = next - idx;
		if (p->state == TOY_PAGE_FREE) {
			r->free_pages += size;
			seen[p->order]++;
			if (!test_bit(idx >> p->order, b->free_map[p->order]))
				r->bad_list++;
			if (p->order < TOY_MAX_ORDER && !(idx & (1UL << p->order))) {
				struct toy_page *bp = &b->pages[idx + (1UL << p->order)];

				if (bp->state == TOY_PAGE_FREE && bp->order == p->order)
					r->uncoalesced++;
			}
		} else {
			r->allocated_pages += size;
		}
		idx = next;
	}
}

void toy_buddy_validate(struct toy_buddy *b, struct toy_buddy_report *r)
{
	unsigned long seen[TOY_NR_ORDERS] = { 0 };
	unsigned long counted, accounted;
	unsigned int order;
	struct toy_page *p;

	memset(r, 0, sizeof(*r));
	spin_lock(&b->lock);
	validate_blocks(b, r, seen);
	for (order = 0; order < TOY_NR_ORDERS; order++) {
		counted = 0;
		list_for_each_entry(p, &b->free_list[order], lru) {
			if (++counted > b->nr_pages)
				break;	/* a cycle */
			if (p->state != TOY_PAGE_FREE || p->order != order)
				r->bad_list++;
		}
		if (counted != b->nr_free[order] || seen[order] != b->nr_free[order] ||
		    bitmap_weight(b->free_map[order], b->nr_pages >> order) !=
		    b->nr_free[order])
			r->bad_list++;
	}
	if (r->allocated_pages != b->nr_allocated)
		r->bad_list++;
	accounted = r->free_pages + r->allocated_pages;
	r->lost_pages = b->nr_pages - accounted;
	spin_unlock(&b->lock);
}
