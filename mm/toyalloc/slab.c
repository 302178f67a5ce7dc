// SPDX-License-Identifier: GPL-2.0
/*
 * Toy slab allocator. Object layout, for a cache with every debug option:
 *
 *   [0, object_size)         the object
 *   [object_size, red_end)   red zone: 0xcc while allocated, 0xbb free
 *   fp_offset                free pointer: at 0, unless a debug option or
 *                            the constructor needs the object's bytes while
 *                            it is free, or the object is smaller than it
 *   meta_offset              struct toy_obj_meta: requested size, state
 *                            (every cache: counters and PEEK need the size)
 *
 * Free objects of a poisoned cache hold 0x6b with a final 0xa5, as SLUB's.
 * A slab is described by the toy_page of its first page; every page of
 * it points at the cache, so an address finds its slab in O(1).
 */
#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/poison.h>
#include <linux/string.h>

#include "slab.h"

#define CTOR_PATTERN	0x5c
#define OBJ_ALLOCATED	0xa110ca7e
#define OBJ_FREE	0xf4eef4ee

#define DEBUG_FLAGS	(TOYALLOC_CACHE_RED_ZONE | TOYALLOC_CACHE_POISON | \
			 TOYALLOC_CACHE_CONSISTENCY)

struct toy_obj_meta {
	u32 requested;
	u32 state;
};

const unsigned int toy_kmalloc_sizes[TOY_NR_KMALLOC] = {
	8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};

const char * const toy_slab_error_names[TOYALLOC_NR_ERRORS] = {
	[TOYALLOC_ERR_REDZONE] = "redzone overwritten",
	[TOYALLOC_ERR_POISON] = "poison overwritten",
	[TOYALLOC_ERR_FREEPTR] = "freepointer corrupt",
	[TOYALLOC_ERR_DOUBLE_FREE] = "object already free",
	[TOYALLOC_ERR_INVALID_FREE] = "invalid object pointer",
	[TOYALLOC_ERR_COUNT] = "inuse count wrong",
};

static bool is_debug(const struct toy_cache *c)
{
	return c->flags & DEBUG_FLAGS;
}

static void **fp_of(const struct toy_cache *c, void *obj)
{
	return obj + c->fp_offset;
}

static struct toy_obj_meta *meta_of(const struct toy_cache *c, void *obj)
{
	return obj + c->meta_offset;
}

static struct toy_page *slab_head(struct toy_cache *c, unsigned long idx)
{
	return &c->buddy->pages[idx & ~((1UL << c->order) - 1)];
}

static unsigned long slab_index(struct toy_cache *c, struct toy_page *slab)
{
	return slab - c->buddy->pages;
}

static void *slab_base(struct toy_cache *c, struct toy_page *slab)
{
	return c->ops->page_addr(slab_index(c, slab));
}

/* Object number of @p in @slab, or -1 if @p is not an object start. */
static long object_nr(struct toy_cache *c, struct toy_page *slab, const void *p)
{
	long idx = c->ops->page_index(p);
	unsigned long off;

	if (idx < 0 || slab_head(c, idx) != slab)
		return -1;
	off = ((idx - slab_index(c, slab)) << PAGE_SHIFT) + offset_in_page(p);
	if (off % c->size || off / c->size >= slab->objects)
		return -1;
	return off / c->size;
}

static void report(struct toy_cache *c, enum toyalloc_slab_error err,
		   const void *p)
{
	long idx = c->ops->page_index(p);

	c->errors[err]++;
	c->errors_total[err]++;
	c->ops->report(c, err, idx < 0 ? -1 : (idx << PAGE_SHIFT) + offset_in_page(p));
}

static void poison(struct toy_cache *c, u8 *obj)
{
	memset(obj, POISON_FREE, c->object_size - 1);
	obj[c->object_size - 1] = POISON_END;
}

/* Lay out the debug bytes of an object that is becoming free or allocated. */
static void init_debug(struct toy_cache *c, void *obj, bool active)
{
	if (c->flags & TOYALLOC_CACHE_RED_ZONE)
		memset(obj + c->object_size, active ? SLUB_RED_ACTIVE : SLUB_RED_INACTIVE,
		       c->red_end - c->object_size);
	if (!active && (c->flags & TOYALLOC_CACHE_POISON))
		poison(c, obj);
	if (c->flags & TOYALLOC_CACHE_CONSISTENCY)
		meta_of(c, obj)->state = active ? OBJ_ALLOCATED : OBJ_FREE;
}

static bool bytes_are(const u8 *p, u8 value, unsigned int len)
{
	while (len--)
		if (*p++ != value)
			return false;
	return true;
}

/* Check, report and repair the red zone and poison of one object. */
static void check_object(struct toy_cache *c, u8 *obj, bool active)
{
	if ((c->flags & TOYALLOC_CACHE_RED_ZONE) &&
	    !bytes_are(obj + c->object_size, active ? SLUB_RED_ACTIVE : SLUB_RED_INACTIVE,
		       c->red_end - c->object_size)) {
		report(c, TOYALLOC_ERR_REDZONE, obj + c->object_size);
		memset(obj + c->object_size, active ? SLUB_RED_ACTIVE : SLUB_RED_INACTIVE,
		       c->red_end - c->object_size);
	}
	if (!active && (c->flags & TOYALLOC_CACHE_POISON) &&
	    (!bytes_are(obj, POISON_FREE, c->object_size - 1) ||
	     obj[c->object_size - 1] != POISON_END)) {
		report(c, TOYALLOC_ERR_POISON, obj);
		poison(c, obj);
	}
}

static int calculate_layout(struct toy_cache *c, int order)
{
	unsigned int off, slab_bytes;

	c->align = max_t(unsigned int, c->align, sizeof(void *));
	off = c->object_size;
	if (c->flags & TOYALLOC_CACHE_RED_ZONE)
		off = ALIGN(off + 1, sizeof(void *));
	c->red_end = off;
	if (c->flags & (DEBUG_FLAGS | TOYALLOC_CACHE_CTOR) ||
	    c->object_size < sizeof(void *)) {
		c->fp_offset = ALIGN(off, sizeof(void *));
		off = c->fp_offset + sizeof(void *);
	} else {
		c->fp_offset = 0;
	}
	c->meta_offset = ALIGN(off, sizeof(u32));
	off = c->meta_offset + sizeof(struct toy_obj_meta);
	c->size = ALIGN(off, c->align);

	if (order < 0) {
		/* Smallest order wasting at most 1/8 with at least 8 objects. */
		for (order = 0; order < TOY_SLAB_MAX_ORDER; order++) {
			slab_bytes = PAGE_SIZE << order;
			if (slab_bytes / c->size >= 8 &&
			    (slab_bytes % c->size) * 8 <= slab_bytes)
				break;
		}
	}
	c->order = order;
	c->objects = min_t(unsigned int, (PAGE_SIZE << order) / c->size,
			   TOY_SLAB_MAX_OBJECTS);
	return c->objects ? 0 : -EINVAL;
}

int toy_cache_init(struct toy_cache *c, const struct toy_slab_pool *pool,
		   const char *name, unsigned int object_size, unsigned int align,
		   int order, unsigned int flags)
{
	int cpu;

	if (!object_size || object_size > TOYALLOC_MAX_OBJECT ||
	    (flags & ~TOYALLOC_CACHE_FLAGS) || align > PAGE_SIZE ||
	    (align & (align - 1)) || order < -1 || order > TOY_SLAB_MAX_ORDER)
		return -EINVAL;
	/* A constructed object must keep its contents while free. */
	if ((flags & TOYALLOC_CACHE_CTOR) && (flags & TOYALLOC_CACHE_POISON))
		return -EINVAL;

	memset(c, 0, sizeof(*c));
	strscpy(c->name, name, sizeof(c->name));
	c->object_size = object_size;
	c->align = align;
	c->flags = flags;
	c->buddy = pool->buddy;
	c->ops = pool->ops;
	if (calculate_layout(c, order))
		return -EINVAL;

	c->cpu_slab = alloc_percpu(struct toy_cpu_slab);
	if (!c->cpu_slab)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		spin_lock_init(&per_cpu_ptr(c->cpu_slab, cpu)->lock);
	spin_lock_init(&c->list_lock);
	INIT_LIST_HEAD(&c->partial);
	INIT_LIST_HEAD(&c->full);
	INIT_LIST_HEAD(&c->list);
	return 0;
}

static struct toy_page *new_slab(struct toy_cache *c)
{
	long idx = toy_buddy_alloc(c->buddy, c->order);
	struct toy_page *slab;
	void *base, *obj, *next;
	unsigned long i;

	if (idx < 0)
		return NULL;
	for (i = 0; i < (1UL << c->order); i++)
		c->buddy->pages[idx + i].cache = c;
	slab = &c->buddy->pages[idx];
	slab->objects = c->objects;
	slab->inuse = 0;
	slab->frozen = 0;
	slab->corrupt = 0;
	base = c->ops->page_addr(idx);
	next = NULL;
	for (i = c->objects; i-- > 0; ) {
		obj = base + i * c->size;
		if (c->flags & TOYALLOC_CACHE_CTOR)
			memset(obj, CTOR_PATTERN, c->object_size);
		init_debug(c, obj, false);
		*fp_of(c, obj) = next;
		next = obj;
	}
	slab->freelist = next;
	return slab;
}

static void discard_slab(struct toy_cache *c, struct toy_page *slab)
{
	unsigned long idx = slab_index(c, slab), i;

	for (i = 0; i < (1UL << c->order); i++)
		c->buddy->pages[idx + i].cache = NULL;
	slab->freelist = NULL;
	toy_buddy_free(c->buddy, idx, c->order);
}

/* A freelist pointer is NULL or the start of an object of this slab. */
static bool valid_next(struct toy_cache *c, struct toy_page *slab, void *p)
{
	return !p || object_nr(c, slab, p) >= 0;
}

/*
 * Cut a corrupted freelist: the slab hands out nothing more, its free
 * objects are leaked, and once its allocated ones (known only with
 * CONSISTENCY, else all are assumed allocated) come back it is freed.
 * The caller puts it on the full list.
 */
static void isolate_slab(struct toy_cache *c, struct toy_page *slab,
			 const void *where)
{
	void *base = slab_base(c, slab);
	unsigned int i, inuse = 0;

	report(c, TOYALLOC_ERR_FREEPTR, where);
	for (i = 0; i < slab->objects; i++)
		if (!(c->flags & TOYALLOC_CACHE_CONSISTENCY) ||
		    meta_of(c, base + i * c->size)->state == OBJ_ALLOCATED)
			inuse++;
	slab->freelist = NULL;
	slab->corrupt = 1;
	slab->inuse = inuse;
}

/* Called with list_lock held; the slab is on the partial or full list. */
static void put_on_list(struct toy_cache *c, struct toy_page *slab)
{
	if (slab->inuse < slab->objects && !slab->corrupt) {
		list_add(&slab->lru, &c->partial);
		c->nr_partial++;
	} else {
		list_add(&slab->lru, &c->full);
	}
}

/* Give a CPU slot's slab back to the lists (slot lock and list_lock held). */
static void deactivate(struct toy_cache *c, struct toy_cpu_slab *slot)
{
	struct toy_page *slab = slot->slab;
	void *obj = slot->freelist, *next;
	unsigned int nr_free = 0;

	while (obj) {
		next = *fp_of(c, obj);
		*fp_of(c, obj) = slab->freelist;
		slab->freelist = obj;
		obj = next;
	}
	for (obj = slab->freelist; obj && nr_free <= slab->objects;
	     obj = *fp_of(c, obj))
		nr_free++;
	slab->inuse = slab->objects - min_t(unsigned int, nr_free, slab->objects);
	slab->frozen = 0;
	slot->slab = NULL;
	slot->freelist = NULL;
	put_on_list(c, slab);
}

/*
 * A destroyed cache has no CPU slots: a caller that still reaches it
 * broke the lifetime rule (see toy_destroy_registered_cache()).
 */
static bool cache_gone(struct toy_cache *c)
{
	return WARN_ON_ONCE(!c->cpu_slab);
}

static void flush_cpu_slabs(struct toy_cache *c)
{
	struct toy_cpu_slab *slot;
	int cpu;

	if (cache_gone(c))
		return;
	for_each_possible_cpu(cpu) {
		slot = per_cpu_ptr(c->cpu_slab, cpu);
		spin_lock(&slot->lock);
		spin_lock(&c->list_lock);
		if (slot->slab)
			deactivate(c, slot);
		spin_unlock(&c->list_lock);
		spin_unlock(&slot->lock);
	}
}

/* A partial slab or a new one, taken off the lists (list_lock held). */
static struct toy_page *get_slab(struct toy_cache *c)
{
	struct toy_page *slab;

	slab = list_first_entry_or_null(&c->partial, struct toy_page, lru);
	if (slab) {
		list_del(&slab->lru);
		c->nr_partial--;
		return slab;
	}
	spin_unlock(&c->list_lock);
	slab = new_slab(c);
	spin_lock(&c->list_lock);
	if (slab) {
		c->nr_slabs++;
		c->stats[TOY_SLAB_NEW]++;
	}
	return slab;
}

static void account_alloc(struct toy_cache *c, u64 *stats, s64 *live,
			  void *obj, unsigned int requested)
{
	stats[TOY_BYTES_REQUESTED] += requested;
	stats[TOY_BYTES_ALLOCATED] += c->size;
	*live += requested;
	meta_of(c, obj)->requested = requested;
}

/* Debug caches: one object straight from a slab, checked. */
static void *alloc_debug(struct toy_cache *c, unsigned int requested)
{
	struct toy_page *slab;
	void *obj = NULL;

	spin_lock(&c->list_lock);
	while ((slab = get_slab(c))) {
		obj = slab->freelist;
		if (obj && valid_next(c, slab, obj) &&
		    valid_next(c, slab, *fp_of(c, obj)))
			break;
		isolate_slab(c, slab, valid_next(c, slab, obj) ? obj :
			     slab_base(c, slab));
		list_add(&slab->lru, &c->full);
		obj = NULL;
	}
	if (obj) {
		slab->freelist = *fp_of(c, obj);
		slab->inuse++;
		put_on_list(c, slab);
		check_object(c, obj, false);
		init_debug(c, obj, true);
		c->stats[TOY_ALLOC_SLOW]++;
		account_alloc(c, c->stats, &c->live_requested, obj, requested);
	} else {
		c->stats[TOY_ALLOC_FAILED]++;
	}
	spin_unlock(&c->list_lock);
	return obj;
}

/* Refill the slot (held) from its slab's remote frees, a partial or new slab. */
static bool refill_slot(struct toy_cache *c, struct toy_cpu_slab *slot)
{
	struct toy_page *slab;

	spin_lock(&c->list_lock);
	if (slot->slab && slot->slab->freelist) {
		slot->freelist = slot->slab->freelist;
		slot->slab->freelist = NULL;
		spin_unlock(&c->list_lock);
		return true;
	}
	if (slot->slab)
		deactivate(c, slot);
	slab = get_slab(c);
	if (slab) {
		slab->frozen = 1;
		slab->inuse = slab->objects;
		slot->slab = slab;
		slot->freelist = slab->freelist;
		slab->freelist = NULL;
	}
	spin_unlock(&c->list_lock);
	return slab;
}

void *toy_cache_alloc(struct toy_cache *c, unsigned int requested)
{
	struct toy_cpu_slab *slot;
	void *obj;

	if (is_debug(c))
		return alloc_debug(c, requested);

	slot = raw_cpu_ptr(c->cpu_slab);
	spin_lock(&slot->lock);
	obj = slot->freelist;
	if (likely(obj)) {
		slot->stats[TOY_ALLOC_FAST]++;
	} else if (refill_slot(c, slot)) {
		obj = slot->freelist;
		slot->stats[TOY_ALLOC_SLOW]++;
	} else {
		slot->stats[TOY_ALLOC_FAILED]++;
		spin_unlock(&slot->lock);
		return NULL;
	}
	slot->freelist = *fp_of(c, obj);
	account_alloc(c, slot->stats, &slot->live_requested, obj, requested);
	spin_unlock(&slot->lock);
	return obj;
}

static unsigned int requested_of(struct toy_cache *c, void *obj)
{
	return meta_of(c, obj)->requested;
}

/* Free to a slab that no slot owns, or to a frozen one remotely. */
static void free_to_slab(struct toy_cache *c, struct toy_page *slab, void *obj)
{
	struct toy_page *discard = NULL;
	bool was_full;

	c->stats[TOY_FREE_SLOW]++;
	c->live_requested -= requested_of(c, obj);
	if (slab->frozen) {
		*fp_of(c, obj) = slab->freelist;
		slab->freelist = obj;
		return;
	}
	was_full = slab->inuse == slab->objects && !slab->corrupt;
	if (!slab->corrupt) {
		*fp_of(c, obj) = slab->freelist;
		slab->freelist = obj;
	}
	slab->inuse--;
	if (was_full) {
		list_move(&slab->lru, &c->partial);
		c->nr_partial++;
	}
	if (!slab->inuse && (slab->corrupt || c->nr_partial > TOY_MIN_PARTIAL)) {
		list_del(&slab->lru);
		if (!slab->corrupt)
			c->nr_partial--;
		c->nr_slabs--;
		c->stats[TOY_SLAB_FREED]++;
		discard = slab;
	}
	if (discard) {
		spin_unlock(&c->list_lock);
		discard_slab(c, discard);
		spin_lock(&c->list_lock);
	}
}

/* Debug checks of a free (list_lock held); false if the free must not happen. */
static bool free_debug_checks(struct toy_cache *c, void *obj)
{
	if ((c->flags & TOYALLOC_CACHE_CONSISTENCY) &&
	    meta_of(c, obj)->state != OBJ_ALLOCATED) {
		report(c, TOYALLOC_ERR_DOUBLE_FREE, obj);
		return false;
	}
	check_object(c, obj, true);
	init_debug(c, obj, false);
	return true;
}

/*
 * Free @obj to @c. A pointer that is not an object of this cache is
 * reported and left alone (-EINVAL), as is a detected double free.
 */
int toy_cache_free(struct toy_cache *c, void *obj)
{
	struct toy_cpu_slab *slot;
	struct toy_page *slab;
	long idx = c->ops->page_index(obj);
	int ret = 0;

	if (idx < 0 || c->buddy->pages[idx].cache != c ||
	    object_nr(c, slab_head(c, idx), obj) < 0) {
		spin_lock(&c->list_lock);
		report(c, TOYALLOC_ERR_INVALID_FREE, obj);
		spin_unlock(&c->list_lock);
		return -EINVAL;
	}
	slab = slab_head(c, idx);

	if (!is_debug(c)) {
		slot = raw_cpu_ptr(c->cpu_slab);
		spin_lock(&slot->lock);
		if (slot->slab == slab) {
			if (unlikely(obj == slot->freelist)) {
				spin_unlock(&slot->lock);
				spin_lock(&c->list_lock);
				report(c, TOYALLOC_ERR_DOUBLE_FREE, obj);
				spin_unlock(&c->list_lock);
				return -EINVAL;
			}
			*fp_of(c, obj) = slot->freelist;
			slot->freelist = obj;
			slot->stats[TOY_FREE_FAST]++;
			slot->live_requested -= requested_of(c, obj);
			spin_unlock(&slot->lock);
			return 0;
		}
		spin_unlock(&slot->lock);
	}

	spin_lock(&c->list_lock);
	if (is_debug(c) && !free_debug_checks(c, obj))
		ret = -EINVAL;
	else
		free_to_slab(c, slab, obj);
	spin_unlock(&c->list_lock);
	return ret;
}

/*
 * Check the objects of an isolated slab (list_lock held). Its free
 * pointers are what cannot be trusted, so no freelist is walked: objects
 * are found by stride in the slab's own pages, and a debug cache's free
 * pointer lies past the red zone and poison, outside the bytes checked.
 * With CONSISTENCY the state word (which isolation trusts for inuse) says
 * whether an object is live or free; one that says neither is skipped.
 * Without it free and live cannot be told apart: a red zone must hold
 * wholly one pattern or the other, else it is reported and restored as
 * live (isolation counts every object live), and poison is not checked.
 * Whatever is reported is repaired, so no later check counts it again.
 */
static void validate_isolated(struct toy_cache *c, struct toy_page *slab)
{
	void *base = slab_base(c, slab);
	unsigned int len = c->red_end - c->object_size, i;
	u8 *obj;
	u32 state;

	for (i = 0; i < slab->objects; i++) {
		obj = base + i * c->size;
		if (c->flags & TOYALLOC_CACHE_CONSISTENCY) {
			state = meta_of(c, obj)->state;
			if (state == OBJ_ALLOCATED || state == OBJ_FREE)
				check_object(c, obj, state == OBJ_ALLOCATED);
		} else if ((c->flags & TOYALLOC_CACHE_RED_ZONE) &&
			   !bytes_are(obj + c->object_size, SLUB_RED_INACTIVE, len)) {
			check_object(c, obj, true);
		}
	}
}

/* Check one off-CPU slab (list_lock held); errors go to c->errors. */
static void validate_slab(struct toy_cache *c, struct toy_page *slab,
			  bool on_partial)
{
	DECLARE_BITMAP(is_free, TOY_SLAB_MAX_OBJECTS);
	void *base = slab_base(c, slab), *p, *prev = NULL;
	unsigned int nr_free = 0, i;
	long nr;

	bitmap_zero(is_free, TOY_SLAB_MAX_OBJECTS);
	for (p = slab->freelist; p; prev = p, p = *fp_of(c, p)) {
		nr = object_nr(c, slab, p);
		if (nr < 0 || test_bit(nr, is_free)) {
			isolate_slab(c, slab, prev ? prev : base);
			list_move(&slab->lru, &c->full);
			if (on_partial)
				c->nr_partial--;
			break;
		}
		__set_bit(nr, is_free);
		nr_free++;
	}
	if (!slab->corrupt && nr_free + slab->inuse != slab->objects) {
		report(c, TOYALLOC_ERR_COUNT, base);
		slab->inuse = slab->objects - nr_free;
	}
	if (!is_debug(c))
		return;
	if (slab->corrupt) {
		validate_isolated(c, slab);
		return;
	}
	for (i = 0; i < slab->objects; i++)
		check_object(c, base + i * c->size, !test_bit(i, is_free));
}

/*
 * Check every slab, then read the error counts by kind into @out (may be
 * NULL) and return their sum: with @since_last those found since the
 * previous such call, which it resets, else every one since creation.
 */
static u64 validate_and_count(struct toy_cache *c, u64 *out, bool since_last)
{
	struct toy_page *slab, *tmp;
	u64 total = 0, n;
	int i;

	flush_cpu_slabs(c);
	spin_lock(&c->list_lock);
	list_for_each_entry_safe(slab, tmp, &c->partial, lru)
		validate_slab(c, slab, true);
	list_for_each_entry_safe(slab, tmp, &c->full, lru)
		validate_slab(c, slab, false);
	for (i = 0; i < TOYALLOC_NR_ERRORS; i++) {
		n = since_last ? c->errors[i] : c->errors_total[i];
		if (out)
			out[i] = n;
		total += n;
		if (since_last)
			c->errors[i] = 0;
	}
	spin_unlock(&c->list_lock);
	return total;
}

u64 toy_cache_validate(struct toy_cache *c, u64 *errors)
{
	return validate_and_count(c, errors, true);
}

u64 toy_cache_validate_totals(struct toy_cache *c, u64 *totals)
{
	return validate_and_count(c, totals, false);
}

/* Give every empty slab back to the buddy, CPU slots' ones included. */
void toy_cache_shrink(struct toy_cache *c)
{
	struct toy_page *slab, *tmp;
	LIST_HEAD(empty);

	flush_cpu_slabs(c);
	spin_lock(&c->list_lock);
	list_for_each_entry_safe(slab, tmp, &c->partial, lru) {
		if (slab->inuse)
			continue;
		list_move(&slab->lru, &empty);
		c->nr_partial--;
		c->nr_slabs--;
		c->stats[TOY_SLAB_FREED]++;
	}
	spin_unlock(&c->list_lock);
	list_for_each_entry_safe(slab, tmp, &empty, lru) {
		list_del(&slab->lru);
		discard_slab(c, slab);
	}
}

/*
 * Destroy an empty cache. With live objects it is left as it is and
 * -EBUSY reports how many: a leak for the caller to fix, not a crash.
 * @force reclaims the slabs anyway, for owners that know no object
 * can still be used (a closed session, module exit).
 */
int toy_cache_destroy(struct toy_cache *c, bool force, unsigned long *live)
{
	struct toy_page *slab, *tmp;
	unsigned long inuse = 0;
	LIST_HEAD(empty);

	flush_cpu_slabs(c);
	spin_lock(&c->list_lock);
	list_for_each_entry(slab, &c->partial, lru)
		inuse += slab->inuse;
	list_for_each_entry(slab, &c->full, lru)
		inuse += slab->inuse;
	if (!inuse || force) {
		list_splice_init(&c->partial, &empty);
		list_splice_init(&c->full, &empty);
		c->nr_partial = 0;
		c->nr_slabs = 0;
	}
	spin_unlock(&c->list_lock);
	if (live)
		*live = inuse;
	if (inuse && !force)
		return -EBUSY;
	list_for_each_entry_safe(slab, tmp, &empty, lru) {
		list_del(&slab->lru);
		discard_slab(c, slab);
	}
	free_percpu(c->cpu_slab);
	c->cpu_slab = NULL;
	return 0;
}

static unsigned int freelist_length(struct toy_cache *c, void *p)
{
	unsigned int n = 0;

	for (; p && n <= TOY_SLAB_MAX_OBJECTS; p = *fp_of(c, p))
		n++;
	return n;
}

void toy_cache_info(struct toy_cache *c, struct toy_cache_info *info)
{
	struct toy_cpu_slab *slot;
	struct toy_page *slab;
	unsigned long nr_free = 0;
	int cpu, i;

	memset(info, 0, sizeof(*info));
	if (cache_gone(c))
		return;
	for_each_possible_cpu(cpu) {
		slot = per_cpu_ptr(c->cpu_slab, cpu);
		spin_lock(&slot->lock);
		for (i = 0; i < TOY_NR_CACHE_STATS; i++)
			info->stats[i] += slot->stats[i];
		info->live_requested += slot->live_requested;
		if (slot->slab) {
			spin_lock(&c->list_lock);
			nr_free += freelist_length(c, slot->freelist) +
				   freelist_length(c, slot->slab->freelist);
			spin_unlock(&c->list_lock);
		}
		spin_unlock(&slot->lock);
	}
	spin_lock(&c->list_lock);
	for (i = 0; i < TOY_NR_CACHE_STATS; i++)
		info->stats[i] += c->stats[i];
	for (i = 0; i < TOYALLOC_NR_ERRORS; i++)
		info->errors_total[i] = c->errors_total[i];
	info->live_requested += c->live_requested;
	info->num_slabs = c->nr_slabs;
	info->partial = c->nr_partial;
	info->num_objs = c->nr_slabs * c->objects;
	list_for_each_entry(slab, &c->partial, lru)
		nr_free += slab->objects - slab->inuse;
	spin_unlock(&c->list_lock);
	info->active_objs = info->num_objs - min(nr_free, info->num_objs);
	info->active_slabs = info->num_slabs;
}

struct toy_cache *toy_cache_of(const struct toy_slab_pool *pool, const void *obj)
{
	long idx = pool->ops->page_index(obj);

	return idx < 0 ? NULL : pool->buddy->pages[idx].cache;
}

unsigned int toy_cache_object_size(struct toy_cache *c, const void *obj)
{
	long idx = c->ops->page_index(obj);

	if (idx < 0 || object_nr(c, slab_head(c, idx), obj) < 0)
		return 0;
	return requested_of(c, (void *)obj);
}

int toy_cache_corrupt(struct toy_cache *c, void *obj,
		      enum toyalloc_corruption kind)
{
	unsigned int need[TOYALLOC_NR_CORRUPTIONS] = {
		[TOYALLOC_CORRUPT_REDZONE] = TOYALLOC_CACHE_RED_ZONE,
		[TOYALLOC_CORRUPT_USE_AFTER_FREE] = TOYALLOC_CACHE_POISON,
		[TOYALLOC_CORRUPT_FREEPTR] = TOYALLOC_CACHE_CONSISTENCY,
		[TOYALLOC_CORRUPT_DOUBLE_FREE] = TOYALLOC_CACHE_CONSISTENCY,
	};
	int ret;

	if (kind >= TOYALLOC_NR_CORRUPTIONS || (c->flags & need[kind]) != need[kind])
		return -EINVAL;

	switch (kind) {
	case TOYALLOC_CORRUPT_REDZONE:
		*(u8 *)(obj + c->object_size) = 0;
		return 0;
	case TOYALLOC_CORRUPT_INVALID_FREE:
		ret = toy_cache_free(c, obj + 1);
		return ret == -EINVAL ? 0 : -EIO;
	default:
		break;
	}
	ret = toy_cache_free(c, obj);
	if (ret)
		return ret;
	if (kind == TOYALLOC_CORRUPT_USE_AFTER_FREE)
		*(u8 *)obj = 0;
	else if (kind == TOYALLOC_CORRUPT_FREEPTR)
		*fp_of(c, obj) = (void *)1UL;
	else if (toy_cache_free(c, obj) != -EINVAL)
		return -EIO;
	return 0;
}

int toy_kmalloc_init(struct toy_kmalloc *km, const struct toy_slab_pool *pool)
{
	char name[TOYALLOC_NAME_LEN];
	int i, ret;

	memset(km, 0, sizeof(*km));
	km->pool = pool;
	for (i = 0; i < TOY_NR_KMALLOC; i++) {
		snprintf(name, sizeof(name), "kmalloc-%u", toy_kmalloc_sizes[i]);
		ret = toy_cache_init(&km->caches[i], pool, name,
				     toy_kmalloc_sizes[i], 0, -1, 0);
		if (ret) {
			while (i--)
				toy_cache_destroy(&km->caches[i], true, NULL);
			return ret;
		}
	}
	return 0;
}

void toy_kmalloc_shrink(struct toy_kmalloc *km)
{
	int i;

	for (i = 0; i < TOY_NR_KMALLOC; i++)
		toy_cache_shrink(&km->caches[i]);
}

void toy_kmalloc_destroy(struct toy_kmalloc *km)
{
	int i;

	for (i = 0; i < TOY_NR_KMALLOC; i++)
		toy_cache_destroy(&km->caches[i], true, NULL);
}

void *toy_kmalloc(struct toy_kmalloc *km, size_t size)
{
	struct toy_buddy *b = km->pool->buddy;
	unsigned int order;
	long idx;
	int i;

	if (!size || size > TOYALLOC_KMALLOC_MAX)
		return NULL;
	for (i = 0; i < TOY_NR_KMALLOC; i++)
		if (size <= toy_kmalloc_sizes[i])
			return toy_cache_alloc(&km->caches[i], size);

	order = order_base_2(DIV_ROUND_UP(size, PAGE_SIZE));
	idx = toy_buddy_alloc(b, order);
	if (idx < 0)
		return NULL;
	spin_lock(&b->lock);
	km->large_allocs++;
	km->large_requested += size;
	km->large_allocated += PAGE_SIZE << order;
	spin_unlock(&b->lock);
	return km->pool->ops->page_addr(idx);
}

/* Free what toy_kmalloc() returned: a class object or a block of pages. */
int toy_kfree(struct toy_kmalloc *km, void *obj)
{
	struct toy_buddy *b = km->pool->buddy;
	struct toy_cache *c = toy_cache_of(km->pool, obj);
	long idx = km->pool->ops->page_index(obj);
	int order;

	if (c)
		return toy_cache_free(c, obj);
	order = idx < 0 || offset_in_page(obj) ? -EINVAL :
		toy_buddy_block_order(b, idx);
	if (order < 0)
		return -EINVAL;
	return toy_buddy_free(b, idx, order);
}
