/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * toyalloc: a toy buddy and slab allocator on real pages, driven through
 * /dev/toyalloc. Handles name allocations; they belong to the descriptor
 * that made them and are freed when it is closed. See
 * Documentation/toyalloc.rst.
 */
#ifndef _UAPI_LINUX_TOYALLOC_H
#define _UAPI_LINUX_TOYALLOC_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Orders 0..10, as the real buddy has on x86 (6.1 MAX_ORDER, 6.8+ NR_PAGE_ORDERS). */
#define TOYALLOC_NR_ORDERS	11
#define TOYALLOC_NAME_LEN	32
#define TOYALLOC_MAX_OBJECT	8192	/* largest toy cache object */
#define TOYALLOC_KMALLOC_MAX	(4096 << (TOYALLOC_NR_ORDERS - 1))

/* Free-list policies, settable only while no block is allocated. */
enum toyalloc_policy {
	TOYALLOC_POLICY_LIFO,	/* free to the head, allocate from the head */
	TOYALLOC_POLICY_FIFO,	/* free to the tail, allocate from the head */
	TOYALLOC_POLICY_ADDR,	/* lowest-addressed block of the chosen order */
	TOYALLOC_NR_POLICIES,
};

/* Cache debug options (struct toyalloc_cache_create.flags). */
#define TOYALLOC_CACHE_RED_ZONE		0x1	/* red zone after each object */
#define TOYALLOC_CACHE_POISON		0x2	/* poison free objects */
#define TOYALLOC_CACHE_CONSISTENCY	0x4	/* check every free, catch double frees */
#define TOYALLOC_CACHE_CTOR		0x8	/* built-in constructor: fill 0x5c */
#define TOYALLOC_CACHE_FLAGS		0xf

/* Deliberate corruptions (struct toyalloc_corrupt.kind). */
enum toyalloc_corruption {
	TOYALLOC_CORRUPT_REDZONE,	/* write one byte past the object */
	TOYALLOC_CORRUPT_USE_AFTER_FREE,/* free the object, then write to it */
	TOYALLOC_CORRUPT_FREEPTR,	/* free it, then scribble its free pointer */
	TOYALLOC_CORRUPT_DOUBLE_FREE,	/* free it twice */
	TOYALLOC_CORRUPT_INVALID_FREE,	/* free a pointer inside it */
	TOYALLOC_NR_CORRUPTIONS,
};

/* Errors the slab checks count (struct toyalloc_validate.errors[]). */
enum toyalloc_slab_error {
	TOYALLOC_ERR_REDZONE,
	TOYALLOC_ERR_POISON,
	TOYALLOC_ERR_FREEPTR,
	TOYALLOC_ERR_DOUBLE_FREE,
	TOYALLOC_ERR_INVALID_FREE,
	TOYALLOC_ERR_COUNT,		/* slab counters disagree with its lists */
	TOYALLOC_NR_ERRORS,
};

struct toyalloc_pages {
	__u32 order;		/* in */
	__u32 reserved;		/* must be zero */
	__u64 handle;		/* out */
	__u64 pool_offset;	/* out: byte offset of the block in the pool */
};

struct toyalloc_cache_create {
	char name[TOYALLOC_NAME_LEN];	/* NUL-terminated, printable */
	__u32 object_size;	/* 1..TOYALLOC_MAX_OBJECT */
	__u32 align;		/* 0 or a power of two up to 4096 */
	__s32 order;		/* slab order 0..3, or -1 to choose */
	__u32 flags;		/* TOYALLOC_CACHE_* */
	__u32 cache_id;		/* out */
	__u32 reserved;		/* must be zero */
};

struct toyalloc_cache_destroy {
	__u32 cache_id;
	__u32 live_objects;	/* out: objects still allocated (-EBUSY) */
};

/* Allocate from a cache (cache_id) or from the kmalloc classes (size). */
struct toyalloc_object {
	__u32 cache_id;		/* TOYALLOC_IOC_CACHE_ALLOC */
	__u32 size;		/* TOYALLOC_IOC_KMALLOC: 1..TOYALLOC_KMALLOC_MAX */
	__u64 handle;		/* out */
	__u64 pool_offset;	/* out */
};

struct toyalloc_corrupt {
	__u64 handle;
	__u32 kind;		/* enum toyalloc_corruption */
	__u32 reserved;		/* must be zero */
};

struct toyalloc_peek {
	__u64 handle;
	__u32 offset;		/* into the object */
	__u32 len;		/* up to 64, within the requested size */
	__u64 buf;		/* user pointer */
};

/* Check the buddy (cache_id 0) or a cache; counts are of new findings. */
struct toyalloc_validate {
	__u32 cache_id;
	__u32 reserved;		/* must be zero */
	__u64 errors[TOYALLOC_NR_ERRORS];	/* out: slab errors by kind */
	__u64 total;		/* out: all errors found */
};

/* In-kernel timing loops for make bench (CAP_SYS_ADMIN). */
enum toyalloc_bench_kind {
	TOYALLOC_BENCH_TOY_PAGES,	/* toy buddy alloc+free, param = order */
	TOYALLOC_BENCH_REAL_PAGES,	/* alloc_pages+__free_pages */
	TOYALLOC_BENCH_TOY_CACHE,	/* toy cache alloc+free, param = size */
	TOYALLOC_BENCH_REAL_CACHE,	/* kmem_cache_alloc+free */
	TOYALLOC_BENCH_KMALLOC,		/* real kmalloc+kfree, param = size */
	TOYALLOC_NR_BENCH,
};

struct toyalloc_bench {
	__u32 kind;
	__u32 param;
	__u32 batch;		/* allocations held before freeing, 1..256 */
	__u32 reserved;		/* must be zero */
	__u64 iterations;	/* alloc+free pairs, 1..10^8 */
	__u64 nsecs;		/* out */
};

#define TOYALLOC_IOC_MAGIC	0xB8

#define TOYALLOC_IOC_ALLOC_PAGES	_IOWR(TOYALLOC_IOC_MAGIC, 1, struct toyalloc_pages)
#define TOYALLOC_IOC_FREE		_IOW(TOYALLOC_IOC_MAGIC, 2, __u64)
#define TOYALLOC_IOC_CACHE_CREATE	_IOWR(TOYALLOC_IOC_MAGIC, 3, struct toyalloc_cache_create)
#define TOYALLOC_IOC_CACHE_DESTROY	_IOWR(TOYALLOC_IOC_MAGIC, 4, struct toyalloc_cache_destroy)
#define TOYALLOC_IOC_CACHE_ALLOC	_IOWR(TOYALLOC_IOC_MAGIC, 5, struct toyalloc_object)
#define TOYALLOC_IOC_KMALLOC		_IOWR(TOYALLOC_IOC_MAGIC, 6, struct toyalloc_object)
#define TOYALLOC_IOC_SET_POLICY		_IOW(TOYALLOC_IOC_MAGIC, 7, __u32)
#define TOYALLOC_IOC_RESET		_IO(TOYALLOC_IOC_MAGIC, 8)
#define TOYALLOC_IOC_CORRUPT		_IOW(TOYALLOC_IOC_MAGIC, 9, struct toyalloc_corrupt)
#define TOYALLOC_IOC_PEEK		_IOW(TOYALLOC_IOC_MAGIC, 10, struct toyalloc_peek)
#define TOYALLOC_IOC_VALIDATE		_IOWR(TOYALLOC_IOC_MAGIC, 11, struct toyalloc_validate)
#define TOYALLOC_IOC_BENCH		_IOWR(TOYALLOC_IOC_MAGIC, 12, struct toyalloc_bench)

#endif /* _UAPI_LINUX_TOYALLOC_H */
