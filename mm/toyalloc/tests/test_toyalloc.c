// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the toy allocators' algorithms, in user space: the buddy
 * against the reference model (exact block choices under every policy),
 * validation with injected metadata damage, the slab with every debug
 * option and corruption, the vmstat formulas, and fuzzed trace parsing.
 */
#include <linux/kernel.h>
#include "../buddy.h"
#include "../slab.h"
#include "../frag.h"
#include "../replay.h"
#include "pool_shim.h"
#include "toy_model.h"

#define POOL_PAGES	(4 * TOY_CHUNK_PAGES)

static int failures, test_nr;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
		failures++;						\
		return;							\
	}								\
} while (0)

static void run(const char *name, void (*fn)(void))
{
	int before = failures;

	fn();
	printf("%s %d %s\n", failures == before ? "ok" : "not ok", ++test_nr, name);
}

static struct toy_buddy buddy;
static void *meta;
static const struct toy_slab_pool slab_pool = { &buddy, &shim_slab_ops };

static void buddy_setup(enum toyalloc_policy policy)
{
	free(meta);
	meta = calloc(1, toy_buddy_meta_size(POOL_PAGES));
	toy_buddy_init(&buddy, POOL_PAGES, meta, policy);
}

static unsigned long validate_errors(void)
{
	struct toy_buddy_report r;

	toy_buddy_validate(&buddy, &r);
	return toy_buddy_report_total(&r);
}

static void test_split_and_coalesce(void)
{
	unsigned int o;
	long idx;

	buddy_setup(TOYALLOC_POLICY_LIFO);
	memset(toy_trace_counts, 0, sizeof(toy_trace_counts));
	idx = toy_buddy_alloc(&buddy, 0);
	CHECK(idx == 0);
	for (o = 0; o < TOY_MAX_ORDER; o++)
		CHECK(buddy.nr_free[o] == 1);
	CHECK(buddy.nr_free[TOY_MAX_ORDER] == 3);
	CHECK(toy_trace_counts[2] == TOY_MAX_ORDER);
	CHECK(validate_errors() == 0);
	CHECK(toy_buddy_free(&buddy, idx, 0) == 0);
	for (o = 0; o < TOY_MAX_ORDER; o++)
		CHECK(buddy.nr_free[o] == 0);
	CHECK(buddy.nr_free[TOY_MAX_ORDER] == 4);
	CHECK(toy_trace_counts[3] == TOY_MAX_ORDER);
	CHECK(buddy.stats[0].allocs == 1 && buddy.stats[TOY_MAX_ORDER].splits == 1);
	CHECK(validate_errors() == 0);
}

static void test_bad_frees(void)
{
	long idx;

	buddy_setup(TOYALLOC_POLICY_LIFO);
	idx = toy_buddy_alloc(&buddy, 3);
	CHECK(idx >= 0);
	CHECK(toy_buddy_free(&buddy, idx, 2) == -EINVAL);	/* wrong order */
	CHECK(toy_buddy_free(&buddy, idx + 1, 0) == -EINVAL);	/* inside */
	CHECK(toy_buddy_free(&buddy, POOL_PAGES, 0) == -EINVAL);
	CHECK(toy_buddy_free(&buddy, idx, 11) == -EINVAL);
	CHECK(toy_buddy_alloc(&buddy, 11) == -EINVAL);
	CHECK(toy_buddy_free(&buddy, idx, 3) == 0);
	CHECK(toy_buddy_free(&buddy, idx, 3) == -EINVAL);	/* double */
	CHECK(validate_errors() == 0);
	CHECK(buddy.nr_allocated == 0);
}

static void test_exhaustion_and_policy_busy(void)
{
	long idx;
	int n = 0;

	buddy_setup(TOYALLOC_POLICY_FIFO);
	while (toy_buddy_alloc(&buddy, 10) >= 0)
		n++;
	CHECK(n == 4);
	CHECK(buddy.stats[10].failures == 1);
	CHECK(toy_buddy_set_policy(&buddy, TOYALLOC_POLICY_ADDR) == -EBUSY);
	for (idx = 0; idx < POOL_PAGES; idx += TOY_CHUNK_PAGES)
		CHECK(toy_buddy_free(&buddy, idx, 10) == 0);
	CHECK(toy_buddy_set_policy(&buddy, TOYALLOC_POLICY_ADDR) == 0);
	CHECK(toy_buddy_set_policy(&buddy, TOYALLOC_NR_POLICIES) == -EINVAL);
}

/* Random operations; every choice must equal the model's. */
static void random_against_model(enum toyalloc_policy policy)
{
	static long live_idx[POOL_PAGES];
	static unsigned int live_order[POOL_PAGES];
	struct toy_model model;
	unsigned int order, o;
	long n = 0, got, want, i;
	int step;

	buddy_setup(policy);
	CHECK(toy_model_init(&model, POOL_PAGES, policy) == 0);
	srandom(policy + 1);
	for (step = 0; step < 20000; step++) {
		if (n && (random() % 100 < 48 || n == POOL_PAGES)) {
			i = random() % n;
			CHECK(toy_buddy_free(&buddy, live_idx[i], live_order[i]) == 0);
			CHECK(toy_model_free(&model, live_idx[i], live_order[i]) == 0);
			live_idx[i] = live_idx[--n];
			live_order[i] = live_order[n];
		} else {
			order = random() % 100 < 80 ? random() % 4 : random() % 11;
			got = toy_buddy_alloc(&buddy, order);
			want = toy_model_alloc(&model, order);
			CHECK(got == want || (got == -ENOMEM && want == -1));
			if (got >= 0) {
				live_idx[n] = got;
				live_order[n++] = order;
			}
		}
		if (step % 1000 == 0) {
			CHECK(validate_errors() == 0);
			for (o = 0; o < TOY_NR_ORDERS; o++)
				CHECK(buddy.nr_free[o] == model.nr_free[o]);
		}
	}
	while (n--)
		CHECK(toy_buddy_free(&buddy, live_idx[n], live_order[n]) == 0);
	CHECK(buddy.nr_free[TOY_MAX_ORDER] == 4 && validate_errors() == 0);
	toy_model_destroy(&model);
}

static void test_model_lifo(void) { random_against_model(TOYALLOC_POLICY_LIFO); }
static void test_model_fifo(void) { random_against_model(TOYALLOC_POLICY_FIFO); }
static void test_model_addr(void) { random_against_model(TOYALLOC_POLICY_ADDR); }

/* Damage the metadata one way at a time; validate must count it exactly. */
static void test_validate_counts(void)
{
	struct toy_buddy_report r;
	long a, b;

	buddy_setup(TOYALLOC_POLICY_LIFO);
	a = toy_buddy_alloc(&buddy, 0);
	b = toy_buddy_alloc(&buddy, 0);
	CHECK(a == 0 && b == 1);
	/* Free both behind the allocator's back, without merging. */
	buddy.pages[a].state = TOY_PAGE_FREE;
	buddy.pages[b].state = TOY_PAGE_FREE;
	list_add(&buddy.pages[a].lru, &buddy.free_list[0]);
	list_add(&buddy.pages[b].lru, &buddy.free_list[0]);
	__set_bit(a, buddy.free_map[0]);
	__set_bit(b, buddy.free_map[0]);
	buddy.nr_free[0] += 2;
	buddy.nr_allocated -= 2;
	toy_buddy_validate(&buddy, &r);
	CHECK(r.uncoalesced == 1 && toy_buddy_report_total(&r) == 1);

	buddy_setup(TOYALLOC_POLICY_LIFO);
	a = toy_buddy_alloc(&buddy, 2);
	buddy.pages[a + 1].state = TOY_PAGE_ALLOC;	/* a head inside a block */
	buddy.pages[a + 1].order = 0;
	toy_buddy_validate(&buddy, &r);
	CHECK(r.overlap == 1);

	buddy_setup(TOYALLOC_POLICY_LIFO);
	a = toy_buddy_alloc(&buddy, 1);
	buddy.pages[a].state = TOY_PAGE_INSIDE;		/* pages lost */
	toy_buddy_validate(&buddy, &r);
	CHECK(r.lost_pages == 2);

	buddy_setup(TOYALLOC_POLICY_LIFO);
	a = toy_buddy_alloc(&buddy, 0);
	buddy.pages[a].order = 3;	/* pretend the block is order 3 */
	toy_buddy_validate(&buddy, &r);
	CHECK(r.overlap == 1 && toy_buddy_report_total(&r) == 1);
}

static void test_formulas(void)
{
	unsigned long nr_free[TOY_NR_ORDERS];
	unsigned int o, i, trial;

	memset(nr_free, 0, sizeof(nr_free));
	CHECK(toy_unusable_index(nr_free, TOY_NR_ORDERS, 0) == 1000);
	CHECK(toy_extfrag_index(nr_free, TOY_NR_ORDERS, 3) == 0);
	nr_free[0] = 4;
	CHECK(toy_unusable_index(nr_free, TOY_NR_ORDERS, 1) == 1000);
	CHECK(toy_extfrag_index(nr_free, TOY_NR_ORDERS, 1) == 250);
	CHECK(toy_extfrag_index(nr_free, TOY_NR_ORDERS, 0) == -1000);
	srandom(7);
	for (trial = 0; trial < 10000; trial++) {
		for (i = 0; i < TOY_NR_ORDERS; i++)
			nr_free[i] = random() % 4 ? random() % 5000 : 0;
		for (o = 0; o < TOY_NR_ORDERS; o++) {
			CHECK(toy_unusable_index(nr_free, TOY_NR_ORDERS, o) ==
			      toy_model_unusable(nr_free, o));
			CHECK(toy_extfrag_index(nr_free, TOY_NR_ORDERS, o) ==
			      toy_model_extfrag(nr_free, o));
		}
	}
}

/* ---- slab ---- */

static struct toy_cache cache;

static void slab_setup(unsigned int size, unsigned int flags)
{
	shim_pool_destroy();
	CHECK(shim_pool_create(POOL_PAGES));
	buddy_setup(TOYALLOC_POLICY_LIFO);
	memset(shim_reports, 0, sizeof(shim_reports));
	CHECK(toy_cache_init(&cache, &slab_pool, "test", size, 0, -1, flags) == 0);
}

static void test_slab_basic(void)
{
	static void *objs[5000];
	struct toy_cache_info info;
	unsigned long live;
	int i;

	slab_setup(64, 0);
	/* 64 bytes and the requested-size word: 56 objects per page. */
	CHECK(cache.size == 72 && cache.order == 0 && cache.objects == 56);
	for (i = 0; i < 5000; i++) {
		objs[i] = toy_cache_alloc(&cache, 64);
		CHECK(objs[i]);
		memset(objs[i], 0xff, 64);	/* the object is ours */
	}
	toy_cache_info(&cache, &info);
	CHECK(info.active_objs == 5000);
	CHECK(info.num_slabs == DIV_ROUND_UP(5000, 56));
	CHECK(info.stats[TOY_ALLOC_FAST] + info.stats[TOY_ALLOC_SLOW] == 5000);
	CHECK(info.stats[TOY_ALLOC_SLOW] == DIV_ROUND_UP(5000, 56));
	CHECK(toy_cache_destroy(&cache, false, &live) == -EBUSY && live == 5000);
	for (i = 0; i < 5000; i += 2)
		CHECK(toy_cache_free(&cache, objs[i]) == 0);
	CHECK(toy_cache_validate(&cache, NULL) == 0);
	toy_cache_info(&cache, &info);
	CHECK(info.active_objs == 2500);
	for (i = 1; i < 5000; i += 2)
		CHECK(toy_cache_free(&cache, objs[i]) == 0);
	CHECK(toy_cache_validate(&cache, NULL) == 0);
	CHECK(toy_cache_destroy(&cache, false, &live) == 0 && live == 0);
	CHECK(buddy.nr_allocated == 0 && validate_errors() == 0);
}

static void test_slab_layout_limits(void)
{
	struct toy_cache c;

	buddy_setup(TOYALLOC_POLICY_LIFO);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 0, 0, -1, 0) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 8193, 0, -1, 0) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 8, 3, -1, 0) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 8, 8192, -1, 0) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 8, 0, 4, 0) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 8, 0, -2, 0) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 8, 0, -1, 0x10) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 8, 0, -1,
			     TOYALLOC_CACHE_CTOR | TOYALLOC_CACHE_POISON) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 8192, 0, 0, 0) == -EINVAL);
	CHECK(toy_cache_init(&c, &slab_pool, "x", 100, 64, -1, 0) == 0);
	CHECK(c.size == 128);
	CHECK(toy_cache_destroy(&c, false, NULL) == 0);
}

/* Each object keeps its requested size, whatever the flags: counters and PEEK. */
static void test_slab_requested_sizes(void)
{
	struct toy_cache_info info;
	unsigned int flags;
	void *a, *b;

	for (flags = 0; flags <= TOYALLOC_CACHE_FLAGS; flags++) {
		if ((flags & TOYALLOC_CACHE_CTOR) && (flags & TOYALLOC_CACHE_POISON))
			continue;
		slab_setup(100, flags);
		a = toy_cache_alloc(&cache, 10);
		b = toy_cache_alloc(&cache, 100);
		CHECK(a && b);
		CHECK(toy_cache_object_size(&cache, a) == 10);
		CHECK(toy_cache_object_size(&cache, b) == 100);
		toy_cache_info(&cache, &info);
		CHECK(info.live_requested == 110);
		CHECK(toy_cache_free(&cache, a) == 0);
		toy_cache_info(&cache, &info);
		CHECK(info.live_requested == 100);
		CHECK(info.stats[TOY_BYTES_REQUESTED] == 110);
		CHECK(toy_cache_free(&cache, b) == 0);
		toy_cache_info(&cache, &info);
		CHECK(info.live_requested == 0 && info.active_objs == 0);
		CHECK(toy_cache_destroy(&cache, false, NULL) == 0);
	}
}

/* Every layout the documentation's rules give (selftests/lib/toy_model.c). */
static void test_slab_layout_model(void)
{
	static const unsigned int aligns[] = { 0, 1, 8, 16, 64, 256, 4096 };
	struct toy_model_layout l;
	unsigned int size, a, flags;
	struct toy_cache c;
	int order, ret;

	buddy_setup(TOYALLOC_POLICY_LIFO);
	for (size = 1; size <= TOYALLOC_MAX_OBJECT; size += size < 200 ? 1 : 37)
		for (a = 0; a < ARRAY_SIZE(aligns); a++)
			for (order = -1; order <= TOY_SLAB_MAX_ORDER; order++)
				for (flags = 0; flags <= TOYALLOC_CACHE_FLAGS; flags++) {
					if ((flags & TOYALLOC_CACHE_CTOR) &&
					    (flags & TOYALLOC_CACHE_POISON))
						continue;
					ret = toy_cache_init(&c, &slab_pool, "x", size, aligns[a],
							     order, flags);
					if (toy_model_cache_layout(size, aligns[a], order, flags,
								   &l)) {
						CHECK(ret == -EINVAL);
						continue;
					}
					CHECK(ret == 0);
					CHECK(c.size == l.size && c.order == l.order &&
					      c.objects == l.objects);
					toy_cache_destroy(&c, false, NULL);
				}
}

static void test_slab_ctor(void)
{
	unsigned char *p;
	int i;

	slab_setup(40, TOYALLOC_CACHE_CTOR);
	p = toy_cache_alloc(&cache, 40);
	CHECK(p);
	for (i = 0; i < 40; i++)
		CHECK(p[i] == 0x5c);
	CHECK(toy_cache_free(&cache, p) == 0);
	CHECK(toy_cache_destroy(&cache, false, NULL) == 0);
}

static void corruption_case(enum toyalloc_corruption kind, enum toyalloc_slab_error err,
			    int count)
{
	u64 errors[TOYALLOC_NR_ERRORS];
	static void *objs[100];
	int i, freed = 0;

	slab_setup(100, TOYALLOC_CACHE_RED_ZONE | TOYALLOC_CACHE_POISON |
		   TOYALLOC_CACHE_CONSISTENCY);
	for (i = 0; i < 100; i++)
		CHECK((objs[i] = toy_cache_alloc(&cache, 100)));
	CHECK(toy_cache_validate(&cache, NULL) == 0);
	for (i = 0; i < count; i++)
		CHECK(toy_cache_corrupt(&cache, objs[i * 7], kind) == 0);
	/* The totals view neither consumes nor double counts. */
	CHECK(toy_cache_validate_totals(&cache, errors) == count);
	CHECK(errors[err] == count);
	CHECK(toy_cache_validate(&cache, errors) == count);
	CHECK(errors[err] == count);
	CHECK(shim_reports[err] == count);
	CHECK(toy_cache_validate(&cache, NULL) == 0);	/* repaired or isolated */
	CHECK(toy_cache_validate_totals(&cache, NULL) == count);
	for (i = 0; i < 100; i++) {
		bool gone = i % 7 == 0 && i / 7 < count &&
			    kind != TOYALLOC_CORRUPT_REDZONE &&
			    kind != TOYALLOC_CORRUPT_INVALID_FREE;

		if (!gone) {
			CHECK(toy_cache_free(&cache, objs[i]) == 0);
			freed++;
		}
	}
	CHECK(toy_cache_validate(&cache, NULL) == 0);
	CHECK(toy_cache_destroy(&cache, false, NULL) == 0);
	CHECK(buddy.nr_allocated == 0 && validate_errors() == 0);
}

static void test_corrupt_redzone(void)
{
	corruption_case(TOYALLOC_CORRUPT_REDZONE, TOYALLOC_ERR_REDZONE, 3);
}

static void test_corrupt_uaf(void)
{
	corruption_case(TOYALLOC_CORRUPT_USE_AFTER_FREE, TOYALLOC_ERR_POISON, 4);
}

static void test_corrupt_freeptr(void)
{
	corruption_case(TOYALLOC_CORRUPT_FREEPTR, TOYALLOC_ERR_FREEPTR, 1);
}

static void test_corrupt_double_free(void)
{
	corruption_case(TOYALLOC_CORRUPT_DOUBLE_FREE, TOYALLOC_ERR_DOUBLE_FREE, 5);
}

static void test_corrupt_invalid_free(void)
{
	corruption_case(TOYALLOC_CORRUPT_INVALID_FREE, TOYALLOC_ERR_INVALID_FREE, 2);
}

/*
 * An isolated slab's live and free objects are still checked, by stride:
 * @flags with CONSISTENCY (state words) or without (either red zone
 * pattern accepted, nothing else), each finding counted once.
 */
static void isolated_case(unsigned int flags)
{
	bool poisoned = (flags & TOYALLOC_CACHE_POISON) &&
			(flags & TOYALLOC_CACHE_CONSISTENCY);
	u64 errors[TOYALLOC_NR_ERRORS];
	unsigned char *a, *b, *c;

	slab_setup(47, flags);
	CHECK((a = toy_cache_alloc(&cache, 47)) && (b = toy_cache_alloc(&cache, 47)) &&
	      (c = toy_cache_alloc(&cache, 47)));
	/* FREEPTR by hand: CORRUPT takes CONSISTENCY for it. */
	CHECK(toy_cache_free(&cache, b) == 0);
	*(void **)(b + cache.fp_offset) = (void *)1UL;
	CHECK(toy_cache_validate(&cache, errors) == 1 && errors[TOYALLOC_ERR_FREEPTR] == 1);
	CHECK(toy_cache_validate(&cache, NULL) == 0);
	/* Live a's red zone, free b's red zone and poison. */
	CHECK(toy_cache_corrupt(&cache, a, TOYALLOC_CORRUPT_REDZONE) == 0);
	b[47] = 0;
	b[0] = 0;
	CHECK(toy_cache_validate_totals(&cache, errors) == 3 + poisoned);
	CHECK(toy_cache_validate(&cache, errors) == 2 + poisoned);
	CHECK(errors[TOYALLOC_ERR_REDZONE] == 2 && errors[TOYALLOC_ERR_POISON] == poisoned);
	CHECK(toy_cache_validate(&cache, NULL) == 0);
	CHECK(toy_cache_free(&cache, a) == 0 && toy_cache_free(&cache, c) == 0);
	CHECK(toy_cache_validate(&cache, NULL) == 0);
	CHECK(shim_reports[TOYALLOC_ERR_REDZONE] == 2);
	if (flags & TOYALLOC_CACHE_CONSISTENCY)
		CHECK(toy_cache_destroy(&cache, false, NULL) == 0);
	else
		CHECK(toy_cache_destroy(&cache, true, NULL) == 0);
	CHECK(buddy.nr_allocated == 0 && validate_errors() == 0);
}

static void test_isolated_slab_checked(void)
{
	isolated_case(TOYALLOC_CACHE_RED_ZONE | TOYALLOC_CACHE_CONSISTENCY);
	isolated_case(TOYALLOC_CACHE_RED_ZONE | TOYALLOC_CACHE_POISON |
		      TOYALLOC_CACHE_CONSISTENCY);
	isolated_case(TOYALLOC_CACHE_RED_ZONE);
	isolated_case(TOYALLOC_CACHE_RED_ZONE | TOYALLOC_CACHE_POISON);
}

/* A use after free is also caught when the object is handed out again. */
static void test_uaf_on_alloc(void)
{
	void *p, *q;

	slab_setup(64, TOYALLOC_CACHE_POISON);
	p = toy_cache_alloc(&cache, 64);
	CHECK(toy_cache_corrupt(&cache, p, TOYALLOC_CORRUPT_USE_AFTER_FREE) == 0);
	q = toy_cache_alloc(&cache, 64);
	CHECK(q == p && shim_reports[TOYALLOC_ERR_POISON] == 1);
	CHECK(toy_cache_corrupt(&cache, q, TOYALLOC_CORRUPT_REDZONE) == -EINVAL);
	CHECK(toy_cache_free(&cache, q) == 0);
	CHECK(toy_cache_destroy(&cache, false, NULL) == 0);
}

static void test_kmalloc(void)
{
	static struct toy_kmalloc km;
	struct toy_cache_info info;
	void *p[6];
	int i;

	shim_pool_destroy();
	CHECK(shim_pool_create(POOL_PAGES));
	buddy_setup(TOYALLOC_POLICY_LIFO);
	CHECK(toy_kmalloc_init(&km, &slab_pool) == 0);
	p[0] = toy_kmalloc(&km, 1);
	p[1] = toy_kmalloc(&km, 100);
	p[2] = toy_kmalloc(&km, 8192);
	p[3] = toy_kmalloc(&km, 8193);		/* large: 4 pages */
	p[4] = toy_kmalloc(&km, TOYALLOC_KMALLOC_MAX);
	p[5] = toy_kmalloc(&km, 0);
	for (i = 0; i < 5; i++)
		CHECK(p[i]);
	CHECK(!p[5] && !toy_kmalloc(&km, TOYALLOC_KMALLOC_MAX + 1));
	CHECK(toy_cache_of(&slab_pool, p[1]) == &km.caches[5]);	/* kmalloc-128 */
	toy_cache_info(&km.caches[5], &info);
	CHECK(info.live_requested == 100);
	CHECK(info.stats[TOY_BYTES_ALLOCATED] - info.stats[TOY_BYTES_REQUESTED] ==
	      km.caches[5].size - 100);
	CHECK(km.large_allocated == 16384 + TOYALLOC_KMALLOC_MAX);
	CHECK(toy_kfree(&km, p[3] + 8) == -EINVAL);
	for (i = 0; i < 5; i++)
		CHECK(toy_kfree(&km, p[i]) == 0);
	toy_cache_info(&km.caches[5], &info);
	CHECK(info.live_requested == 0);
	CHECK(buddy.nr_allocated > 0);		/* slabs kept for reuse */
	toy_kmalloc_shrink(&km);
	CHECK(buddy.nr_allocated == 0);
	toy_kmalloc_destroy(&km);
	CHECK(buddy.nr_allocated == 0);
}

/* ---- trace parsing ---- */

static void test_parse_lines(void)
{
	static const char * const good[] = {
		"  bash-412  [001] d..1.  91.25: mm_page_alloc: page=0xffffea0004c5b800 pfn=0x1316e order=2 migratetype=1 gfp_flags=GFP_KERNEL",
		"bash-412 [001] 91.26: mm_page_free: page=0xffffea0004c5b800 pfn=0x1316e order=0",
		"kworker/0:1-9 [000] ..... 3.5: mm_page_free_batched: page=000000006c1b0f41 pfn=0x2a order=0",
		"bash-1 [0] 1.0: mm_page_alloc: page=(null) pfn=0x0 order=3 migratetype=0 gfp_flags=GFP_ATOMIC",
		"bash-1 [0] 1.0: mm_page_alloc_zone_locked: page=0x1 pfn=0x5 order=0 migratetype=0 percpu_refill=1",
		"# tracer: nop",
		"",
		"bash-1 [0] 1.0: kmalloc: call_site=foo ptr=0x1 bytes_req=8",
		"perf 101 [001] 5.1:   kmem:mm_page_alloc: page=0xa6f1 pfn=0xa6f1 order=0 migratetype=0",
		"perf 101 [001] 5.1:   kmem:mm_page_free_batched: page=0xa6f1 pfn=0xa6f1 order=0",
		"x 1.0: sched:mm_page_alloc: page=0x1 pfn=0x1 order=0",
		"x 1.0: mm_page_free page=0x1 pfn=0x1 order=0",
		"x 1.0: kmem:mm_page_alloc page=0x1 pfn=0x1 order=0",
		"x 1.0: kmem/mm_page_free/ pfn=0x1 order=0",
		"x 1.0: mm_page_alloc_extfrag: page=0x1 pfn=0x1 alloc_order=0",
		"x 1.0: kmem:kmalloc: call_site=mm_page_allocator+0x1 ptr=0x1",
	};
	static const enum toy_trace_kind kinds[] = {
		TOY_TRACE_ALLOC, TOY_TRACE_FREE, TOY_TRACE_FREE_BATCHED, TOY_TRACE_ALLOC_FAILED,
		TOY_TRACE_OTHER, TOY_TRACE_OTHER, TOY_TRACE_OTHER, TOY_TRACE_OTHER,
		TOY_TRACE_ALLOC, TOY_TRACE_FREE_BATCHED, TOY_TRACE_UNRECOGNIZED,
		TOY_TRACE_UNRECOGNIZED, TOY_TRACE_UNRECOGNIZED, TOY_TRACE_UNRECOGNIZED,
		TOY_TRACE_OTHER, TOY_TRACE_OTHER,
	};
	static const char * const bad[] = {
		"x 1.0: mm_page_alloc: page=0x1 pfn=zz order=0",
		"x 1.0: mm_page_free: page=0x1 order=0",
		"x 1.0: mm_page_free: page=0x1 pfn=0x10 order=",
		"x 1.0: mm_page_free: page=0x1 pfn=0x10 order=64",
		"x 1.0: mm_page_free: page=0x1 pfn=0x1ffffffffffffffff order=1",
	};
	struct toy_trace_event ev;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		CHECK(toy_trace_parse_line(good[i], strlen(good[i]), &ev) == 0);
		if (ev.kind != kinds[i])
			printf("# line %u: kind %d, want %d\n", i, ev.kind, kinds[i]);
		CHECK(ev.kind == kinds[i]);
	}
	toy_trace_parse_line(good[0], strlen(good[0]), &ev);
	CHECK(ev.pfn == 0x1316e && ev.order == 2);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK(toy_trace_parse_line(bad[i], strlen(bad[i]), &ev) == -EINVAL);
}

/*
 * Text the real tools printed (recorded in the guest, see data/README):
 * every page event line is parsed with the pfn and order it shows, and
 * the counts equal an independent count of the event names.
 */
static void test_parse_samples(void)
{
	static const char * const files[] = {
		"data/tracefs-trace.txt", "data/tracefs-trace-noirq.txt",
		"data/tracefs-trace_pipe.txt", "data/trace-cmd-report.txt",
		"data/perf-script.txt",
	};
	static const char * const names[] = {
		[TOY_TRACE_ALLOC] = "mm_page_alloc: ", [TOY_TRACE_FREE] = "mm_page_free: ",
		[TOY_TRACE_FREE_BATCHED] = "mm_page_free_batched: ",
	};
	unsigned long got[TOY_TRACE_UNRECOGNIZED + 1], want[TOY_TRACE_UNRECOGNIZED + 1];
	struct toy_trace_event ev;
	char line[TOY_TRACE_LINE_MAX + 2], *p;
	unsigned long pfn;
	unsigned int f, k, order;
	FILE *in;

	for (f = 0; f < ARRAY_SIZE(files); f++) {
		in = fopen(files[f], "r");
		CHECK(in);
		memset(got, 0, sizeof(got));
		memset(want, 0, sizeof(want));
		while (fgets(line, sizeof(line), in)) {
			line[strcspn(line, "\n")] = 0;
			CHECK(toy_trace_parse_line(line, strlen(line), &ev) == 0);
			got[ev.kind]++;
			for (k = 0; k < ARRAY_SIZE(names); k++) {
				if (!names[k] || !strstr(line, names[k]))
					continue;
				want[k]++;
				p = strstr(line, " pfn=");
				CHECK(p && sscanf(p, " pfn=0x%lx order=%u", &pfn, &order) == 2);
				CHECK(ev.pfn == pfn && ev.order == order);
			}
		}
		fclose(in);
		printf("# %s: %lu allocs, %lu frees, %lu batched\n", files[f],
		       got[TOY_TRACE_ALLOC], got[TOY_TRACE_FREE], got[TOY_TRACE_FREE_BATCHED]);
		CHECK(want[TOY_TRACE_ALLOC] && want[TOY_TRACE_FREE]);
		CHECK(got[TOY_TRACE_UNRECOGNIZED] == 0 && got[TOY_TRACE_ALLOC_FAILED] == 0);
		for (k = 0; k < ARRAY_SIZE(names); k++)
			CHECK(got[k] == want[k] || !names[k]);
	}
}

static int count_set(void *ctx, const char *k, size_t kl, const char *v, size_t vl)
{
	unsigned long n;

	if (kl == 1 && *k == 'n' && !toy_parse_ulong(v, vl, &n)) {
		*(unsigned long *)ctx += n;
		return 0;
	}
	return -EINVAL;
}

static void test_parse_settings(void)
{
	unsigned long sum = 0;

	CHECK(toy_parse_settings("n=1 n=0x10\n", 11, count_set, &sum) == 0 && sum == 17);
	CHECK(toy_parse_settings("n=", 2, count_set, &sum) == -EINVAL);
	CHECK(toy_parse_settings("=1", 2, count_set, &sum) == -EINVAL);
	CHECK(toy_parse_settings("n", 1, count_set, &sum) == -EINVAL);
	CHECK(toy_parse_settings("m=1", 3, count_set, &sum) == -EINVAL);
	CHECK(toy_parse_settings("\t\n", 2, count_set, &sum) == 0);
}

/* Random bytes and mutated lines: no crash, no read past the end (ASan). */
static void test_parse_fuzz(void)
{
	const char *seed = "a-1 [0] 1.0: mm_page_alloc: page=0x1 pfn=0x10 order=1 migratetype=0";
	struct toy_trace_event ev;
	unsigned long sum;
	char *buf;
	size_t len, i;
	int trial;

	srandom(3);
	for (trial = 0; trial < 200000; trial++) {
		len = random() % 120;
		buf = malloc(len + 1);
		if (trial & 1) {
			for (i = 0; i < len; i++)
				buf[i] = random() % 256;
		} else {
			len = min(len, strlen(seed));
			memcpy(buf, seed, len);
			for (i = 0; i < 3 && len; i++)
				buf[random() % len] = " =:x0f\t"[random() % 7];
		}
		buf[len] = 0;
		(void)toy_trace_parse_line(buf, len, &ev);
		sum = 0;
		(void)toy_parse_settings(buf, len, count_set, &sum);
		free(buf);
	}
}

int main(void)
{
	printf("TAP version 13\n");
	run("buddy: one order-0 allocation splits one block per order", test_split_and_coalesce);
	run("buddy: bad and double frees change nothing", test_bad_frees);
	run("buddy: exhaustion, policy only on an empty pool", test_exhaustion_and_policy_busy);
	run("buddy: 20000 random ops equal the model (lifo)", test_model_lifo);
	run("buddy: 20000 random ops equal the model (fifo)", test_model_fifo);
	run("buddy: 20000 random ops equal the model (addr)", test_model_addr);
	run("buddy: validate counts each damage exactly", test_validate_counts);
	run("frag: formulas equal the model on 10000 random pools", test_formulas);
	run("slab: 5000 objects, counters, leak refused, destroy", test_slab_basic);
	run("slab: layout limits", test_slab_layout_limits);
	run("slab: constructor", test_slab_ctor);
	run("slab: red zone overwrite counted exactly", test_corrupt_redzone);
	run("slab: use after free counted exactly", test_corrupt_uaf);
	run("slab: free pointer corruption isolated", test_corrupt_freeptr);
	run("slab: double free counted, contained", test_corrupt_double_free);
	run("slab: invalid free counted, contained", test_corrupt_invalid_free);
	run("slab: isolated slab's objects checked by stride", test_isolated_slab_checked);
	run("slab: use after free caught on reallocation", test_uaf_on_alloc);
	run("slab: kmalloc classes and large blocks", test_kmalloc);
	run("slab: layouts as the documentation states them", test_slab_layout_model);
	run("slab: requested sizes counted and kept under every flag", test_slab_requested_sizes);
	run("replay: trace lines", test_parse_lines);
	run("replay: text perf, trace-cmd and tracefs printed", test_parse_samples);
	run("replay: settings", test_parse_settings);
	run("replay: fuzzed parsers", test_parse_fuzz);
	printf("1..%d\n# %d failed\n", test_nr, failures);
	shim_pool_destroy();
	free(meta);
	return failures ? 1 : 0;
}
