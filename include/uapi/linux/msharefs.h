/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * msharefs: shared page-table regions.
 *
 * MSHAREFS_CREATE_MAPPING and MSHAREFS_UNMAP are binary-compatible with
 * the upstream mshare v3 series; MSHAREFS_PROTECT and MSHAREFS_GET_STATS
 * are this module's additions. See Documentation/mshare.rst.
 */
#ifndef _UAPI_LINUX_MSHAREFS_H
#define _UAPI_LINUX_MSHAREFS_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MSHAREFS_MAGIC	0x4d534852

/* Map an object (fd = -1 with MAP_ANONYMOUS: shared anonymous memory). */
struct mshare_create {
	__u64 region_offset;
	__u64 size;
	__u64 offset;		/* offset in the file */
	__u32 prot;
	__u32 flags;		/* MAP_SHARED | MAP_FIXED [| MAP_ANONYMOUS] */
	__u32 fd;
};

/* Unmap a range of the region, as munmap() would, for every sharer. */
struct mshare_unmap {
	__u64 region_offset;
	__u64 size;
};

/* Change protection of a range of the region, for every sharer at once. */
struct mshare_protect {
	__u64 region_offset;
	__u64 size;
	__u32 prot;		/* PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC */
	__u32 reserved;		/* must be zero */
};

struct mshare_stats {
	__u64 size;		/* bytes in the region */
	__u64 mappings;		/* objects mapped into it */
	__u64 sharers;		/* process mappings (VMAs) of the region */
	__u64 pte_tables;	/* shared PTE-table pages the region owns */
	__u64 pmd_links;	/* sharer PMD entries pointing at them */
	__u64 pages;		/* pages mapped in the shared tables */
	__u64 faults;		/* faults the region served */
	__u64 table_bytes_saved; /* sharers' tables avoided, minus the region's */
	__u64 pmd_tables;	/* shared PMD-table pages (1 GiB pieces) */
	__u64 pud_links;	/* sharer PUD entries pointing at them */
};

#define MSHAREFS_CREATE_MAPPING	_IOW('x', 0, struct mshare_create)
#define MSHAREFS_UNMAP		_IOW('x', 1, struct mshare_unmap)
#define MSHAREFS_PROTECT	_IOW('x', 2, struct mshare_protect)
#define MSHAREFS_GET_STATS	_IOR('x', 3, struct mshare_stats)

#endif /* _UAPI_LINUX_MSHAREFS_H */
