/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PAGEMAP_SCAN ioctl on /proc/PID/pagemap (6.7+), shared by the
 * selftests and the benchmarks: the system's <linux/fs.h> where it has
 * it, else its 6.7 ABI (Debian 12's linux-libc-dev is 6.1's).
 */
#ifndef PAGEMAP_SCAN_H
#define PAGEMAP_SCAN_H

#include <linux/fs.h>
#include <linux/types.h>

#ifndef PAGEMAP_SCAN
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_HUGE		(1 << 6)
#endif
#ifndef PAGE_IS_GUARD
#define PAGE_IS_GUARD		(1 << 8)	/* 6.14 */
#endif

#endif
