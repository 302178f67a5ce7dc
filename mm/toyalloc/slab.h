/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The toy slab allocator, shaped as SLUB is up to 6.12 (7.3's SLUB has
 * per-CPU sheaves instead), on top of the toy buddy: per-CPU slots each
 * own one slab ("frozen") and hand out its objects; other slabs sit on
 * the cache's partial or full list. Debug caches take the locked slow
 * path every time, as SLUB's do, and check every object.
 */
#ifndef _TOYALLOC_SLAB_H
#define _TOYALLOC_SLAB_H

#include <linux/percpu.h>
#include "buddy.h"

#define TOY_SLAB_MAX_ORDER	3
#define TOY_SLAB_MAX_OBJECTS	512
#define TOY_MIN_PARTIAL		4	/* empty slabs kept before freeing */
#define TOY_NR_KMALLOC		13

/*
 * What the slab allocator needs to know about the memory its buddy
 * hands out, from whoever owns it (pool.c in the module, a shim in the
 * unit tests), as mm/damon takes its damon_operations: of the module,
 * slab.c calls only buddy.c and these.
 */
struct toy_slab_ops {
	/* The address of buddy page @idx. */
	void *(*page_addr)(unsigned long idx);
	/* The buddy page holding @addr, or -1 if no buddy page does. */
	long (*page_index)(const void *addr);
	/*
	 * A corruption found in @c at @pool_offset (-1: not in the pool);
	 * called with @c's list_lock held, so it must not sleep.
	 */
	void (*report)(struct toy_cache *c, enum toyalloc_slab_error err,
		       long pool_offset);
};

/* The memory slabs are made of: a toy buddy and what its pages are. */
struct toy_slab_pool {
	struct toy_buddy *buddy;
	const struct toy_slab_ops *ops;
};

enum toy_cache_stat {
	TOY_ALLOC_FAST,		/* from the CPU slot's freelist */
	TOY_ALLOC_SLOW,		/* refill, new slab, or a debug cache */
	TOY_FREE_FAST,		/* to the CPU slot's own slab */
	TOY_FREE_SLOW,
	TOY_ALLOC_FAILED,
	TOY_SLAB_NEW,
	TOY_SLAB_FREED,
	TOY_BYTES_REQUESTED,	/* cumulative */
	TOY_BYTES_ALLOCATED,
	TOY_NR_CACHE_STATS,
};

struct toy_cpu_slab {
	spinlock_t lock;	/* this slot: slab, freelist, stats */
	struct toy_page *slab;	/* frozen: this slot owns its freelist */
	void *freelist;
	u64 stats[TOY_NR_CACHE_STATS];
	s64 live_requested;	/* bytes asked for by live objects */
};

struct toy_cache {
	char name[TOYALLOC_NAME_LEN];
	unsigned int object_size;	/* what the creator asked for */
	unsigned int size;		/* stride between objects */
	unsigned int align;
	unsigned int red_end;		/* red zone is [object_size, red_end) */
	unsigned int fp_offset;		/* free pointer */
	unsigned int meta_offset;	/* struct toy_obj_meta */
	unsigned int order, objects, flags;
	struct toy_buddy *buddy;
	const struct toy_slab_ops *ops;
	struct toy_cpu_slab __percpu *cpu_slab;

	spinlock_t list_lock;		/* lists, slabs off-CPU, fields below */
	struct list_head partial, full;
	unsigned long nr_partial, nr_slabs;
	u64 stats[TOY_NR_CACHE_STATS];	/* what the locked paths count */
	s64 live_requested;
	u64 errors[TOYALLOC_NR_ERRORS];	/* since the last toy_cache_validate() */
	u64 errors_total[TOYALLOC_NR_ERRORS];

	struct list_head list;		/* all caches, for the views */
};

/* Counters of a cache, summed over CPU slots. */
struct toy_cache_info {
	unsigned long active_objs, num_objs, active_slabs, num_slabs, partial;
	u64 stats[TOY_NR_CACHE_STATS];
	s64 live_requested;
	u64 errors_total[TOYALLOC_NR_ERRORS];
};

struct toy_kmalloc {
	const struct toy_slab_pool *pool;
	struct toy_cache caches[TOY_NR_KMALLOC];
	u64 large_allocs, large_requested, large_allocated;
};

extern const unsigned int toy_kmalloc_sizes[TOY_NR_KMALLOC];
extern const char * const toy_slab_error_names[TOYALLOC_NR_ERRORS];

int toy_cache_init(struct toy_cache *c, const struct toy_slab_pool *pool,
		   const char *name, unsigned int object_size, unsigned int align,
		   int order, unsigned int flags);
int toy_cache_destroy(struct toy_cache *c, bool force, unsigned long *live);
void toy_cache_shrink(struct toy_cache *c);
void *toy_cache_alloc(struct toy_cache *c, unsigned int requested);
int toy_cache_free(struct toy_cache *c, void *obj);
/* Errors found since the previous toy_cache_validate() (the ioctl's view). */
u64 toy_cache_validate(struct toy_cache *c, u64 *errors);
/* Every error found since creation; resets nothing (the debugfs view). */
u64 toy_cache_validate_totals(struct toy_cache *c, u64 *totals);
void toy_cache_info(struct toy_cache *c, struct toy_cache_info *info);
int toy_cache_corrupt(struct toy_cache *c, void *obj,
		      enum toyalloc_corruption kind);
/* Bytes of a live object a caller may read: its requested size, or 0. */
unsigned int toy_cache_object_size(struct toy_cache *c, const void *obj);
/* The cache a pool address belongs to, or NULL. */
struct toy_cache *toy_cache_of(const struct toy_slab_pool *pool, const void *obj);

int toy_kmalloc_init(struct toy_kmalloc *km, const struct toy_slab_pool *pool);
void toy_kmalloc_shrink(struct toy_kmalloc *km);
void toy_kmalloc_destroy(struct toy_kmalloc *km);
void *toy_kmalloc(struct toy_kmalloc *km, size_t size);
int toy_kfree(struct toy_kmalloc *km, void *obj);

#endif /* _TOYALLOC_SLAB_H */
