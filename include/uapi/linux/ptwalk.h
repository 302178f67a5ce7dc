/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ptwalk's binary leaf records (view=leaves format=bin): one fixed-size
 * record per leaf or non-present entry, in address order, native endian.
 * The text and kv formats are described in Documentation/ptwalk.rst.
 */
#ifndef _UAPI_LINUX_PTWALK_H
#define _UAPI_LINUX_PTWALK_H

#include <linux/types.h>

enum ptwalk_level {
	PTWALK_PTE, PTWALK_PMD, PTWALK_PUD, PTWALK_P4D, PTWALK_PGD,
};

enum ptwalk_kind {
	PTWALK_NONE, PTWALK_TABLE, PTWALK_LEAF, PTWALK_PROTNONE, PTWALK_SWAP,
	PTWALK_MIGRATION, PTWALK_HWPOISON, PTWALK_DEVICE_PRIVATE,
	PTWALK_DEVICE_EXCLUSIVE, PTWALK_MARKER, PTWALK_OTHER, PTWALK_REPEAT,
};

/*
 * PTWALK_REPEAT (kernel walks): the entry points to a table already walked
 * at another address; pfn is the table's, swap_offset that address.
 */

/*
 * Bits of ptwalk_record.flags: what the kernel's helpers read from a
 * swap-format entry, and what a present leaf is beyond its bits. Modules
 * before these flags existed left the field (then "reserved") zero.
 */
#define PTWALK_F_EXCLUSIVE	(1U << 0)	/* pte_swp_exclusive() */
#define PTWALK_F_WRITE		(1U << 1)	/* writable migration/device entry */
#define PTWALK_F_READ_EXCLUSIVE	(1U << 2)	/* readable exclusive migration */
#define PTWALK_F_YOUNG		(1U << 3)	/* migration entry: was young */
#define PTWALK_F_DIRTY		(1U << 4)	/* migration entry: was dirty */
#define PTWALK_F_MARKER_UFFD_WP	(1U << 5)	/* PTE marker: uffd-wp */
#define PTWALK_F_SWAPIN_ERROR	(1U << 6)	/* 6.1's swapin-error entry */
#define PTWALK_F_MARKER_POISONED (1U << 7)	/* PTE marker: poisoned (6.5+) */
#define PTWALK_F_MARKER_GUARD	(1U << 8)	/* PTE marker: guard (6.13+) */
#define PTWALK_F_SHSTK		(1U << 9)	/* leaf: shadow stack, W=0 D=1 (6.6+) */

/* Bits of ptwalk_record.eff: effective permission across all levels. */
#define PTWALK_EFF_US	(1U << 0)
#define PTWALK_EFF_RW	(1U << 1)
#define PTWALK_EFF_NX	(1U << 2)

struct ptwalk_record {
	__u64 va;		/* first address the entry maps */
	__u64 raw;		/* the entry */
	__u64 pfn;		/* leaf PFN (or the PFN a non-present entry names) */
	__u64 kpf;		/* page flags, /proc/kpageflags numbering */
	__u64 swap_offset;	/* swap-format entries; PTWALK_REPEAT: first */
	__u32 size_shift;	/* log2 of the bytes the entry maps: 12, 21, 30 */
	__u8 level;		/* enum ptwalk_level */
	__u8 kind;		/* enum ptwalk_kind */
	__u8 eff;		/* PTWALK_EFF_* */
	__u8 order;		/* compound order of the page */
	__s32 refcount;
	__s32 mapcount;
	__u32 swap_type;
	__u32 flags;		/* PTWALK_F_* */
};

/* The end of an answer: a record with kind PTWALK_NONE and this va. */
#define PTWALK_END_VA	(~0ULL)

#endif /* _UAPI_LINUX_PTWALK_H */
