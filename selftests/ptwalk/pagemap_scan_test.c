// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk's summary and ranges views against the kernel's own PAGEMAP_SCAN
 * ioctl on /proc/PID/pagemap (6.7+): the same range of one process must
 * be present, swapped (any non-present entry), huge and, where the kernel
 * has guard regions (6.13+), guard, page by page and in total. Kernels
 * without PAGEMAP_SCAN skip the whole program (exit 4) and say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/ptwalk.h>

#include "kselftest_harness.h"
#include "pagemap_scan.h"
#include "ptwalk_lib.h"
#include "vm_util.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102		/* 6.13 */
#endif

#define PG		4096UL
#define HPAGE		(2UL << 20)
#define NPAGES		(4 * HPAGE / PG)	/* the range compared */
#define SCAN_CATS	(PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE)

/* PAGEMAP_SCAN of [start, start + NPAGES pages): categories per page. */
static int scan(int fd, unsigned long start, uint64_t mask, uint64_t *cats)
{
	static struct page_region vec[NPAGES];
	struct pm_scan_arg arg = {
		.size = sizeof(arg), .start = start, .end = start + NPAGES * PG,
		.vec = (uintptr_t)vec, .vec_len = NPAGES,
		.category_anyof_mask = mask, .return_mask = mask,
	};
	long n, i;
	unsigned long va;

	memset(cats, 0, NPAGES * sizeof(*cats));
	n = ioctl(fd, PAGEMAP_SCAN, &arg);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++)
		for (va = vec[i].start; va < vec[i].end; va += PG)
			cats[(va - start) / PG] = vec[i].categories;
	return 0;
}

/*
 * ptwalk's ranges view of the same pages, as PAGEMAP_SCAN categories:
 * leaf and protnone entries are present (pte_present()), every other
 * non-present kind is "swapped" (is_swap_pte()), PMD leaves are huge.
 */
static int ranges_view(unsigned long start, uint64_t *cats)
{
	char q[160], *out, *line;
	struct ptw_rec r;
	int ret;

	memset(cats, 0, NPAGES * sizeof(*cats));
	snprintf(q, sizeof(q), "pid=self start=0x%lx end=0x%lx view=ranges format=kv",
		 start, start + NPAGES * PG);
	ret = ptw_query(q, &out);
	if (ret)
		return ret;
	for (line = out; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned long s, e, va;
		uint64_t c;

		if (!ptw_parse(line, &r) || strcmp(r.rec, "range"))
			continue;
		s = kv_num(line, "start");
		e = kv_num(line, "end");
		if (!strcmp(r.kind, "leaf") || !strcmp(r.kind, "protnone"))
			c = PAGE_IS_PRESENT;
		else
			c = PAGE_IS_SWAPPED;
		if (strcmp(r.level, "pte"))
			c |= PAGE_IS_HUGE;
		for (va = s; va < e; va += PG)
			if (va >= start && va < start + NPAGES * PG)
				cats[(va - start) / PG] = c;
	}
	free(out);
	return 0;
}

FIXTURE(scan) {
	int fd;
	char *map, *base;
	bool swapped, guard;
};

/*
 * 8 MiB at a 2 MiB boundary: a THP if the kernel gives one; 4K pages
 * written, read (the zero page), PROT_NONE, swapped out; guard pages;
 * nothing.
 */
FIXTURE_SETUP(scan)
{
	char *p;
	int i;

	if (access(PTWALK_FILE, F_OK))
		SKIP(return, "ptwalk module not loaded (%s missing)", PTWALK_FILE);
	self->fd = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_GE(self->fd, 0);
	self->map = mmap(NULL, NPAGES * PG + HPAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	p = (char *)(((unsigned long)self->map + HPAGE - 1) & ~(HPAGE - 1));
	self->base = p;
	madvise(p, HPAGE, MADV_HUGEPAGE);
	memset(p, 1, HPAGE);
	p += HPAGE;
	madvise(p, 3 * HPAGE, MADV_NOHUGEPAGE);
	for (i = 0; i < 100; i++)
		p[i * PG] = 1;
	for (i = 100; i < 150; i++)
		touch_read(p + i * PG);
	for (i = 150; i < 260; i++)
		p[i * PG] = 2;
	ASSERT_EQ(0, mprotect(p + 150 * PG, 50 * PG, PROT_NONE));
	if (zram_swap_on()) {
		for (i = 0; i < 20; i++)
			madvise(p + 200 * PG, 60 * PG, MADV_PAGEOUT);
		self->swapped = pagemap_of(getpid(), (unsigned long)p + 200 * PG) &
				PM_SWAP;
	}
	p += HPAGE;
	self->guard = !madvise(p, 10 * PG, MADV_GUARD_INSTALL);
}

FIXTURE_TEARDOWN(scan)
{
	if (self->map && self->map != MAP_FAILED)
		munmap(self->map, NPAGES * PG + HPAGE);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * The tables can change between two reads (khugepaged, NUMA hinting turns
 * leaves into protnone, which both sides count as present): a read is
 * trusted when ptwalk gives the same answer before and after it.
 */
TEST_F(scan, ranges_view_matches_pagemap_scan)
{
	static uint64_t want[NPAGES], got[NPAGES], again[NPAGES];
	unsigned long start = (unsigned long)self->base, i, bad = 0;
	int tries;

	for (tries = 0; tries < 5; tries++) {
		ASSERT_EQ(0, ranges_view(start, want));
		ASSERT_EQ(0, scan(self->fd, start, SCAN_CATS, got));
		ASSERT_EQ(0, ranges_view(start, again));
		if (!memcmp(want, again, sizeof(want)))
			break;
	}
	for (i = 0; i < NPAGES; i++) {
		if (want[i] == got[i])
			continue;
		if (!bad++)
			TH_LOG("page %lu (%#lx): ptwalk %#llx, PAGEMAP_SCAN %#llx",
			       i, start + i * PG, (unsigned long long)want[i],
			       (unsigned long long)got[i]);
	}
	EXPECT_EQ(0, bad);
	TH_LOG("%lu pages compared: THP %s, swapped pages %s, guard pages %s",
	       (unsigned long)NPAGES, got[0] & PAGE_IS_HUGE ? "yes" : "no",
	       self->swapped ? "yes" : "no (no zram)",
	       self->guard ? "yes" : "no (before 6.13)");
	/* What the setup made is there, seen by both. */
	EXPECT_EQ(PAGE_IS_PRESENT, got[512]);
	EXPECT_EQ(PAGE_IS_PRESENT, got[512 + 100]);	/* the zero page */
	EXPECT_EQ(PAGE_IS_PRESENT, got[512 + 150]);	/* PROT_NONE */
	if (self->swapped)
		EXPECT_EQ(PAGE_IS_SWAPPED, got[512 + 200]);
	if (self->guard)
		EXPECT_EQ(PAGE_IS_SWAPPED, got[1024]);
	EXPECT_EQ(0, got[1024 + 10]);
}

/* The summary's counts are PAGEMAP_SCAN's pages, category by category. */
TEST_F(scan, summary_view_matches_pagemap_scan)
{
	static const char *const nonpresent[] = {
		"swap", "migration", "hwpoison", "device_private",
		"device_exclusive", "marker", "other",
	};
	static uint64_t got[NPAGES];
	unsigned long start = (unsigned long)self->base, i;
	long small = 0, huge = 0, swapped = 0, sum[2];
	char q[160], *out, *again;
	int tries;

	for (tries = 0; tries < 5; tries++) {
		snprintf(q, sizeof(q), "pid=self start=0x%lx end=0x%lx view=summary format=kv",
			 start, start + NPAGES * PG);
		ASSERT_EQ(0, ptw_query(q, &out));
		ASSERT_EQ(0, scan(self->fd, start, SCAN_CATS, got));
		ASSERT_EQ(0, ptw_query(q, &again));
		if (!strcmp(out, again))
			break;
		free(out);
		free(again);
	}
	ASSERT_NE(NULL, strstr(out, "rec=summary"));
	for (i = 0; i < NPAGES; i++) {
		small += got[i] == PAGE_IS_PRESENT;
		huge += got[i] == (PAGE_IS_PRESENT | PAGE_IS_HUGE);
		swapped += !!(got[i] & PAGE_IS_SWAPPED);
	}
	sum[0] = kv_num(out, "leaves_4k") + kv_num(out, "protnone");
	sum[1] = 0;
	for (i = 0; i < ARRAY_SIZE(nonpresent); i++)
		sum[1] += kv_num(out, nonpresent[i]);
	EXPECT_EQ(small, sum[0]);
	EXPECT_EQ(huge, kv_num(out, "leaves_2m") * 512);
	EXPECT_EQ(swapped, sum[1]);
	EXPECT_GE(small, 100 + 50 + 50);
	free(out);
	free(again);
}

/*
 * Guard regions (MADV_GUARD_INSTALL, 6.13): PAGE_IS_GUARD (6.14) pages are
 * exactly ptwalk's marker entries with MARKER_GUARD.
 */
TEST_F(scan, guard_markers_match_pagemap_scan)
{
	static uint64_t got[NPAGES];
	unsigned long start = (unsigned long)self->base, i;
	char q[160], *out;
	struct ptw_rec r;
	int ret;

	if (!self->guard)
		SKIP(return, "MADV_GUARD_INSTALL: %s (guard regions are 6.13+)",
		     strerror(EINVAL));
	ret = scan(self->fd, start, PAGE_IS_GUARD, got);
	if (ret == -EINVAL)
		SKIP(return, "PAGEMAP_SCAN has no PAGE_IS_GUARD (6.14+)");
	ASSERT_EQ(0, ret);
	/* The guard pages and some pages around them. */
	for (i = 1024 - 8; i < 1024 + 16; i++) {
		snprintf(q, sizeof(q), "pid=self start=0x%lx end=0x%lx format=kv",
			 start + i * PG, start + (i + 1) * PG);
		ASSERT_EQ(0, ptw_query(q, &out));
		if (!ptw_entry_at(out, start + i * PG, &r))
			memset(&r, 0, sizeof(r));
		EXPECT_EQ(!!(got[i] & PAGE_IS_GUARD),
			  !strcmp(r.kind, "marker") && has_word(r.sw, "MARKER_GUARD"))
			TH_LOG("page %lu: kind=%s sw=%s", i, r.kind, r.sw);
		free(out);
	}
	EXPECT_TRUE(got[1024] & PAGE_IS_GUARD);
}

int main(int argc, char **argv)
{
	struct pm_scan_arg arg = { .size = sizeof(arg) };
	int fd = open("/proc/self/pagemap", O_RDONLY);

	/* An empty range: 0 regions where the ioctl exists, else ENOTTY. */
	if (fd >= 0 && ioctl(fd, PAGEMAP_SCAN, &arg) < 0 && errno == ENOTTY) {
		ksft_print_header();
		ksft_exit_skip("PAGEMAP_SCAN on /proc/self/pagemap: %s (added in 6.7)\n",
			       strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return test_harness_run(argc, argv);
}
