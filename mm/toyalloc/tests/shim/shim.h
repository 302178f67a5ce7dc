/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel for buddy.c, slab.c, frag.c and replay.c to
 * build in user space (the tools/testing/memblock approach). Locks check
 * that they are balanced and never taken twice.
 */
#ifndef _TOY_SHIM_H
#define _TOY_SHIM_H

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define __percpu
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define PAGE_SHIFT	12
#define BIT(n)		(1UL << (n))
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define offset_in_page(p)	((unsigned long)(p) & (PAGE_SIZE - 1))

#define SLUB_RED_INACTIVE	0xbb
#define SLUB_RED_ACTIVE		0xcc
#define POISON_FREE		0x6b
#define POISON_END		0xa5

#define min(a, b)	((a) < (b) ? (a) : (b))
#define max(a, b)	((a) > (b) ? (a) : (b))
#define min_t(t, a, b)	((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b)	((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define ALIGN(x, a)	(((x) + (a) - 1) & ~((typeof(x))(a) - 1))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define container_of(p, t, m)	((t *)((char *)(p) - offsetof(t, m)))
#define scnprintf	snprintf
/* A kernel warning fails the unit tests. */
#define WARN_ON_ONCE(c)	({ bool __c = (c); assert(!__c); __c; })

static inline u64 div_u64(u64 a, u32 b) { return a / b; }
static inline int ilog2(u64 v) { return 63 - __builtin_clzll(v); }
static inline int order_base_2(unsigned long n)
{
	return n <= 1 ? 0 : ilog2(n - 1) + 1;
}

static inline u64 local_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline ssize_t strscpy(char *d, const char *s, size_t n)
{
	size_t len = strnlen(s, n);

	if (len == n) {
		memcpy(d, s, n - 1);
		d[n - 1] = 0;
		return -E2BIG;
	}
	memcpy(d, s, len + 1);
	return len;
}

/* Locks: a held flag, so a double acquire or stray release aborts. */
typedef struct { int held; } spinlock_t;
#define spin_lock_init(l)	((l)->held = 0)
#define spin_lock(l)	do { assert(!(l)->held); (l)->held = 1; } while (0)
#define spin_unlock(l)	do { assert((l)->held); (l)->held = 0; } while (0)

/* One CPU. */
#define alloc_percpu(t)		((t *)calloc(1, sizeof(t)))
#define free_percpu(p)		free(p)
#define per_cpu_ptr(p, cpu)	((void)(cpu), (p))
#define raw_cpu_ptr(p)		(p)
#define for_each_possible_cpu(cpu)	for ((cpu) = 0; (cpu) < 1; (cpu)++)

/* Bitmaps. */
#define BITS_PER_LONG	64
#define BITS_TO_LONGS(n)	DIV_ROUND_UP(n, BITS_PER_LONG)
#define DECLARE_BITMAP(name, bits)	unsigned long name[BITS_TO_LONGS(bits)]
static inline void __set_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}
static inline void __clear_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}
static inline bool test_bit(unsigned long nr, const unsigned long *map)
{
	return map[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG) & 1;
}
static inline void bitmap_zero(unsigned long *map, unsigned long bits)
{
	memset(map, 0, BITS_TO_LONGS(bits) * sizeof(long));
}
static inline unsigned long bitmap_weight(const unsigned long *map, unsigned long bits)
{
	unsigned long i, w = 0;

	for (i = 0; i < bits; i++)
		w += test_bit(i, map);
	return w;
}
static inline unsigned long find_first_bit(const unsigned long *map, unsigned long bits)
{
	unsigned long i;

	for (i = 0; i < BITS_TO_LONGS(bits); i++)
		if (map[i])
			return min(i * BITS_PER_LONG + __builtin_ctzl(map[i]), bits);
	return bits;
}

/* Lists. */
struct list_head { struct list_head *next, *prev; };
#define LIST_HEAD(name)	struct list_head name = { &(name), &(name) }
static inline void INIT_LIST_HEAD(struct list_head *h) { h->next = h->prev = h; }
static inline void __list_add(struct list_head *n, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
static inline void list_add(struct list_head *n, struct list_head *h)
{
	__list_add(n, h, h->next);
}
static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	__list_add(n, h->prev, h);
}
static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = e->prev = NULL;
}
static inline void list_move(struct list_head *e, struct list_head *h)
{
	list_del(e);
	list_add(e, h);
}
static inline void list_move_tail(struct list_head *e, struct list_head *h)
{
	list_del(e);
	list_add_tail(e, h);
}
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
static inline void list_splice_init(struct list_head *l, struct list_head *h)
{
	if (list_empty(l))
		return;
	l->next->prev = h;
	l->prev->next = h->next;
	h->next->prev = l->prev;
	h->next = l->next;
	INIT_LIST_HEAD(l);
}
#define list_entry(p, t, m)	container_of(p, t, m)
#define list_first_entry(h, t, m)	list_entry((h)->next, t, m)
#define list_first_entry_or_null(h, t, m) \
	(list_empty(h) ? NULL : list_first_entry(h, t, m))
#define list_next_entry(p, m)	list_entry((p)->m.next, typeof(*(p)), m)
#define list_for_each_entry(p, h, m) \
	for (p = list_first_entry(h, typeof(*p), m); &p->m != (h); \
	     p = list_next_entry(p, m))
#define list_for_each_entry_safe(p, n, h, m) \
	for (p = list_first_entry(h, typeof(*p), m), n = list_next_entry(p, m); \
	     &p->m != (h); p = n, n = list_next_entry(n, m))

#endif /* _TOY_SHIM_H */
