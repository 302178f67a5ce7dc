// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk against ground truth: /proc/PID/pagemap, /proc/kpageflags,
 * /proc/kpagecount, VmPTE, and what fork, mprotect, mlock, soft-dirty,
 * THP, hugetlbfs and swap promise about page-table entries.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ptwalk.h>

#include "kselftest_harness.h"

/*
 * The harness gives each test 30 s; under QEMU TCG on the debug kernel a
 * multi-process test can take minutes. The suite's settings file still
 * bounds the whole program.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#include "ptwalk_lib.h"
#include "vm_util.h"

#define PG 4096UL
#define HPAGE (2UL << 20)
#define KPF(x) (1ULL << (x))
enum { KPF_REFERENCED = 2, KPF_UPTODATE = 3, KPF_LRU = 5, KPF_MMAP = 11,
	KPF_ANON = 12, KPF_SWAPBACKED = 14, KPF_HEAD = 15, KPF_TAIL = 16,
	KPF_HUGE = 17, KPF_UNEVICTABLE = 18, KPF_THP = 22, KPF_ZERO = 24 };
/* Bits that cannot change while a test holds the page still. */
#define STABLE_KPF (KPF(KPF_MMAP) | KPF(KPF_ANON) | KPF(KPF_SWAPBACKED) | \
		    KPF(KPF_HEAD) | KPF(KPF_TAIL) | KPF(KPF_HUGE) | \
		    KPF(KPF_UNEVICTABLE) | KPF(KPF_THP) | KPF(KPF_ZERO) | \
		    KPF(KPF_UPTODATE))

static char *map_anon(size_t len, int prot, bool nohuge)
{
	char *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED && nohuge)
		madvise(p, len, MADV_NOHUGEPAGE);
	return p == MAP_FAILED ? NULL : p;
}

/* Aligned 2M window inside a fresh 4M mapping. */
static char *map_aligned_2m(void)
{
	char *p = map_anon(2 * HPAGE, PROT_READ | PROT_WRITE, false);

	return p ? (char *)(((unsigned long)p + HPAGE - 1) & ~(HPAGE - 1)) : NULL;
}

FIXTURE(ptw) {
	pid_t self;
};

FIXTURE_SETUP(ptw)
{
	if (access(PTWALK_FILE, F_OK))
		SKIP(return, "ptwalk module not loaded (%s missing)", PTWALK_FILE);
	self->self = getpid();
}

FIXTURE_TEARDOWN(ptw)
{
}

TEST_F(ptw, untouched_anon_is_absent)
{
	char *p = map_anon(16 * PG, PROT_READ | PROT_WRITE, true);
	struct ptw_rec r;

	ASSERT_NE(NULL, p);
	EXPECT_FALSE(pagemap_of(self->self, (unsigned long)p) & PM_PRESENT);
	if (ptw_lookup(self->self, (unsigned long)p, &r)) {
		TH_LOG("found %s %s raw 0x%llx at 0x%lx size %lu", r.kind,
		       r.level, r.raw, r.va, r.size);
		EXPECT_TRUE(0);
	}
}

TEST_F(ptw, read_touched_anon_maps_zero_page)
{
	char *p = map_anon(16 * PG, PROT_READ | PROT_WRITE, true);
	struct ptw_rec r;
	uint64_t pm;

	ASSERT_NE(NULL, p);
	touch_read(p);
	pm = pagemap_of(self->self, (unsigned long)p);
	ASSERT_TRUE(pm & PM_PRESENT);
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &r));
	EXPECT_STREQ("leaf", r.kind);
	EXPECT_EQ(PM_PFN(pm), r.pfn);
	EXPECT_TRUE(r.kpf & KPF(KPF_ZERO));
	EXPECT_TRUE(kpageflags_of(r.pfn) & KPF(KPF_ZERO));
	EXPECT_EQ(0, r.rw);		/* the zero page is never writable */
	EXPECT_TRUE(has_word(r.hw, "A"));	/* read: accessed, not dirty */
	EXPECT_FALSE(has_word(r.hw, "D"));
}

TEST_F(ptw, written_anon_matches_pagemap_and_kpageflags)
{
	char *p = map_anon(16 * PG, PROT_READ | PROT_WRITE, true);
	struct ptw_rec r;
	uint64_t pm;

	ASSERT_NE(NULL, p);
	p[5 * PG] = 1;
	pm = pagemap_of(self->self, (unsigned long)p + 5 * PG);
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p + 5 * PG, &r));
	EXPECT_STREQ("pte", r.level);
	EXPECT_EQ(PG, r.size);
	EXPECT_EQ(PM_PFN(pm), r.pfn);
	EXPECT_EQ(kpageflags_of(r.pfn) & STABLE_KPF, r.kpf & STABLE_KPF);
	EXPECT_TRUE(r.kpf & KPF(KPF_ANON));
	EXPECT_EQ(kpagecount_of(r.pfn), (uint64_t)r.map);
	EXPECT_EQ(1, r.map);
	EXPECT_TRUE(has_word(r.hw, "P") && has_word(r.hw, "RW") &&
		    has_word(r.hw, "US") && has_word(r.hw, "A") &&
		    has_word(r.hw, "D") && has_word(r.hw, "NX"));
	EXPECT_EQ(1, r.rw);
	EXPECT_EQ(1, r.nx);
	EXPECT_EQ(r.raw & 0xfffffffff000ULL, (unsigned long long)r.pfn << 12);
}

TEST_F(ptw, fork_cow_shares_then_splits)
{
	char *p = map_anon(4 * PG, PROT_READ | PROT_WRITE, true);
	int go[2], done[2];
	struct ptw_rec pr, cr;
	pid_t child;
	char c;

	ASSERT_NE(NULL, p);
	p[0] = 7;
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		p[0] = 8;			/* the COW break */
		if (write(done[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &pr));
	ASSERT_TRUE(ptw_lookup(child, (unsigned long)p, &cr));
	EXPECT_EQ(pr.pfn, cr.pfn);
	EXPECT_EQ(0, pr.rw);
	EXPECT_EQ(0, cr.rw);
	EXPECT_EQ(2, cr.map);
	EXPECT_EQ(PM_PFN(pagemap_of(child, (unsigned long)p)), cr.pfn);

	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(1, read(done[0], &c, 1));
	ASSERT_TRUE(ptw_lookup(child, (unsigned long)p, &cr));
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &pr));
	EXPECT_NE(pr.pfn, cr.pfn);
	EXPECT_EQ(1, cr.rw);
	EXPECT_EQ(PM_PFN(pagemap_of(child, (unsigned long)p)), cr.pfn);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

TEST_F(ptw, mprotect_read_only_and_none)
{
	char *p = map_anon(2 * PG, PROT_READ | PROT_WRITE, true);
	struct ptw_rec r;

	ASSERT_NE(NULL, p);
	p[0] = 1;
	p[PG] = 1;
	ASSERT_EQ(0, mprotect(p, PG, PROT_READ));
	ASSERT_EQ(0, mprotect(p + PG, PG, PROT_NONE));
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &r));
	EXPECT_STREQ("leaf", r.kind);
	EXPECT_EQ(0, r.rw);
	EXPECT_FALSE(has_word(r.hw, "RW"));
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p + PG, &r));
	EXPECT_STREQ("protnone", r.kind);
	EXPECT_TRUE(has_word(r.sw, "PROTNONE"));
	EXPECT_FALSE(has_word(r.hw, "P"));
	/* pagemap still calls it present: the page is there. */
	EXPECT_TRUE(pagemap_of(self->self, (unsigned long)p + PG) & PM_PRESENT);
	EXPECT_EQ(PM_PFN(pagemap_of(self->self, (unsigned long)p + PG)), r.pfn);
}

TEST_F(ptw, soft_dirty_follows_clear_refs)
{
	char *p = map_anon(PG, PROT_READ | PROT_WRITE, true);
	struct ptw_rec r;
	int fd;

	ASSERT_NE(NULL, p);
	p[0] = 1;
	fd = open("/proc/self/clear_refs", O_WRONLY);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, write(fd, "4", 1));
	close(fd);
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &r));
	EXPECT_FALSE(pagemap_of(self->self, (unsigned long)p) & PM_SOFT_DIRTY);
	EXPECT_FALSE(has_word(r.sw, "SOFT_DIRTY"));
	EXPECT_EQ(0, r.rw);	/* write-protected to catch the next write */
	p[0] = 2;
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &r));
	EXPECT_TRUE(pagemap_of(self->self, (unsigned long)p) & PM_SOFT_DIRTY);
	EXPECT_TRUE(has_word(r.sw, "SOFT_DIRTY"));
}

static int text_marker(void)
{
	return 42;
}

TEST_F(ptw, nx_on_data_not_on_text)
{
	static char data[PG] = { 1 };
	struct ptw_rec r;

	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)text_marker, &r));
	EXPECT_EQ(0, r.nx);
	EXPECT_EQ(0, r.rw);
	data[0]++;
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)data, &r));
	EXPECT_EQ(1, r.nx);
	EXPECT_EQ(1, r.rw);
}

TEST_F(ptw, shared_memfd_same_pfn_in_two_processes)
{
	int fd = memfd_create("ptw", 0), tochild[2], toparent[2];
	unsigned long caddr;
	struct ptw_rec pr, cr;
	char *p;
	pid_t child;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, 4 * PG));
	ASSERT_EQ(0, pipe(tochild));
	ASSERT_EQ(0, pipe(toparent));
	p = mmap(NULL, 4 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		/* Its own mapping, at its own address. */
		char *q = mmap(NULL, 8 * PG, PROT_READ, MAP_SHARED, fd, 0);

		touch_read(q);
		caddr = (unsigned long)q;
		if (write(toparent[1], &caddr, sizeof(caddr)) != sizeof(caddr))
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(sizeof(caddr), read(toparent[0], &caddr, sizeof(caddr)));
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &pr));
	ASSERT_TRUE(ptw_lookup(child, caddr, &cr));
	EXPECT_EQ(pr.pfn, cr.pfn);
	EXPECT_EQ(PM_PFN(pagemap_of(child, caddr)), cr.pfn);
	EXPECT_FALSE(cr.kpf & KPF(KPF_ANON));
	EXPECT_EQ(1, pr.rw);
	EXPECT_EQ(0, cr.rw);
	EXPECT_EQ(kpagecount_of(pr.pfn), (uint64_t)pr.map);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

TEST_F(ptw, thp_is_a_pmd_leaf)
{
	char *p = map_aligned_2m();
	struct ptw_rec r;
	uint64_t pm;

	ASSERT_NE(NULL, p);
	if (madvise(p, HPAGE, MADV_HUGEPAGE))
		SKIP(return, "no transparent hugepages in this kernel");
	memset(p, 1, HPAGE);
	pm = pagemap_of(self->self, (unsigned long)p);
	if (!(kpageflags_of(PM_PFN(pm)) & KPF(KPF_THP)))
		SKIP(return, "the kernel did not back the range with a THP");
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p + 5 * PG, &r));
	EXPECT_STREQ("pmd", r.level);
	EXPECT_EQ(HPAGE, r.size);
	EXPECT_EQ((unsigned long)p, r.va);
	EXPECT_EQ(PM_PFN(pm), r.pfn);
	EXPECT_TRUE(has_word(r.hw, "PS"));
	EXPECT_TRUE(r.kpf & KPF(KPF_THP));
	EXPECT_TRUE(r.kpf & KPF(KPF_HEAD));
	EXPECT_EQ(9U, r.order);
}

TEST_F(ptw, hugetlb_2m_is_a_pmd_leaf)
{
	char *p = mmap(NULL, HPAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	struct ptw_rec r;

	if (p == MAP_FAILED)
		SKIP(return, "no 2M hugetlb pages reserved (hugepages=)");
	p[0] = 1;
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &r));
	EXPECT_STREQ("pmd", r.level);
	EXPECT_TRUE(has_word(r.hw, "PS"));
	EXPECT_TRUE(r.kpf & KPF(KPF_HUGE));
	EXPECT_EQ(PM_PFN(pagemap_of(self->self, (unsigned long)p)), r.pfn);
	EXPECT_EQ(kpageflags_of(r.pfn) & STABLE_KPF, r.kpf & STABLE_KPF);
	munmap(p, HPAGE);
}

TEST_F(ptw, swap_entry_matches_pagemap)
{
	char *p = map_anon(4 * PG, PROT_READ | PROT_WRITE, true);
	struct ptw_rec r;
	uint64_t pm = 0;
	int i;

	ASSERT_NE(NULL, p);
	if (!zram_swap_on())
		SKIP(return, "no zram swap device (zram module missing)");
	memset(p, 0x5a, 4 * PG);
	for (i = 0; i < 20 && !(pm & PM_SWAP); i++) {
		madvise(p, 4 * PG, MADV_PAGEOUT);
		pm = pagemap_of(self->self, (unsigned long)p);
	}
	ASSERT_TRUE(pm & PM_SWAP) TH_LOG("MADV_PAGEOUT did not swap the page");
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &r));
	EXPECT_STREQ("swap", r.kind);
	EXPECT_EQ(pm & 0x1f, r.type);
	EXPECT_EQ(PM_PFN(pm) >> 5, r.offset);
	EXPECT_EQ(0x5a, p[0]);		/* and it comes back */
}

TEST_F(ptw, mlock_sets_mlocked_and_unevictable)
{
	char *p = map_anon(PG, PROT_READ | PROT_WRITE, true);
	struct ptw_rec r;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, mlock(p, PG));
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &r));
	EXPECT_TRUE(r.kpf & KPF(KPF_UNEVICTABLE));
	EXPECT_TRUE(kpageflags_of(r.pfn) & KPF(KPF_UNEVICTABLE));
	/* MLOCKED is kpageflags' raw bit 33: set there, and the same here. */
	EXPECT_TRUE(kpageflags_of(r.pfn) & (1ULL << 33));
	EXPECT_EQ(kpageflags_of(r.pfn) & (1ULL << 33), r.kpf & (1ULL << 33));
	munlock(p, PG);
}

TEST_F(ptw, path_agrees_with_leaf_at_every_level)
{
	char *p = map_anon(PG, PROT_READ | PROT_WRITE, true);
	static const char *const names5[] = { "pgd", "p4d", "pud", "pmd", "pte" };
	static const char *const names4[] = { "pgd", "pud", "pmd", "pte" };
	int levels = paging_levels(), n = 0;
	struct ptw_rec leaf, r;
	char q[96], *out, *line;
	unsigned long prev_child_pfn = 0;

	ASSERT_NE(NULL, p);
	p[0] = 1;
	ASSERT_TRUE(ptw_lookup(self->self, (unsigned long)p, &leaf));
	snprintf(q, sizeof(q), "pid=self view=path addr=%p format=kv", p);
	ASSERT_EQ(0, ptw_query(q, &out));
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		if (!ptw_parse(line, &r) || strcmp(r.rec, "path"))
			continue;
		ASSERT_LT(n, levels);
		EXPECT_STREQ(levels == 5 ? names5[n] : names4[n], r.level);
		/* Each level's table is the page the level above points to. */
		if (n)
			EXPECT_EQ(prev_child_pfn, kv_num(line, "table_pfn"));
		prev_child_pfn = (r.raw & 0xffffffffff000ULL) >> 12;
		if (n == levels - 1) {
			EXPECT_EQ(leaf.raw, r.raw);
			EXPECT_STREQ("leaf", r.kind);
		} else {
			EXPECT_STREQ("table", r.kind);
		}
		n++;
	}
	EXPECT_EQ(levels, n);
	free(out);
}

/* A process that does nothing, so its tables hold still while we look. */
static pid_t quiet_child(void)
{
	pid_t c = fork();

	if (c == 0) {
		char *p = map_anon(64 * PG, PROT_READ | PROT_WRITE, true);

		memset(p, 1, 64 * PG);
		for (;;)
			pause();
	}
	usleep(200000);
	return c;
}

TEST_F(ptw, tables_view_summary_and_vmpte_agree)
{
	pid_t child = quiet_child();
	unsigned long per_level[5] = { 0 }, vmpte_kb = 0;
	static const char *const lv[] = { "pte", "pmd", "pud", "p4d", "pgd" };
	char q[64], *tables, *sum, *line, path[64], buf[4096];
	long long sum_n;
	FILE *f;
	int l;

	snprintf(q, sizeof(q), "pid=%d view=tables format=kv", child);
	ASSERT_EQ(0, ptw_query(q, &tables));
	snprintf(q, sizeof(q), "pid=%d view=summary format=kv", child);
	ASSERT_EQ(0, ptw_query(q, &sum));
	for (line = strtok(tables, "\n"); line; line = strtok(NULL, "\n")) {
		struct ptw_rec r;

		if (!ptw_parse(line, &r) || strcmp(r.rec, "table"))
			continue;
		for (l = 0; l < 5; l++)
			per_level[l] += !strcmp(r.level, lv[l]);
		EXPECT_GT(r.used, 0UL);
	}
	for (l = 0; l < 5; l++) {
		snprintf(q, sizeof(q), "tables_%s", lv[l]);
		sum_n = kv_num(sum, q);
		EXPECT_EQ(sum_n, (long long)per_level[l]) TH_LOG("level %s", lv[l]);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", child);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	while (fgets(buf, sizeof(buf), f))
		sscanf(buf, "VmPTE: %lu kB", &vmpte_kb);
	fclose(f);
	/* The kernel accounts PUD, PMD and PTE tables in VmPTE. */
	EXPECT_EQ(vmpte_kb * 1024, (per_level[0] + per_level[1] + per_level[2]) * PG);
	EXPECT_EQ(1UL, per_level[4]);
	EXPECT_EQ(paging_levels() == 5 ? 1 : 0, per_level[3] > 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	free(tables);
	free(sum);
}

TEST_F(ptw, contiguity_report_matches_pagemap)
{
	char *raw = map_anon(3 * HPAGE, PROT_READ | PROT_WRITE, true);
	char *p = (char *)(((unsigned long)raw + HPAGE - 1) & ~(HPAGE - 1));
	unsigned long pfn[512], spans = 0, contig = 0, i, j;
	char q[128], *out;

	ASSERT_NE(NULL, raw);
	for (i = 0; i < 512; i++)
		p[i * PG] = 1;		/* all written: same attributes */
	for (i = 0; i < 512; i++)
		pfn[i] = PM_PFN(pagemap_of(self->self, (unsigned long)p + i * PG));
	for (i = 0; i < 512; i += 16) {
		bool ok = !(pfn[i] & 15);

		spans++;
		for (j = 1; j < 16; j++)
			ok = ok && pfn[i + j] == pfn[i] + j;
		contig += ok;
	}
	snprintf(q, sizeof(q), "pid=self view=summary format=kv start=%p end=%p",
		 p, p + HPAGE);
	ASSERT_EQ(0, ptw_query(q, &out));
	EXPECT_EQ((long long)spans, kv_num(out, "spans_64k"));
	EXPECT_EQ((long long)contig, kv_num(out, "contig_64k"));
	EXPECT_EQ(1, kv_num(out, "spans_2m"));
	EXPECT_EQ(512, kv_num(out, "leaves_4k"));
	TH_LOG("%lu of %lu 64K spans physically contiguous", contig, spans);
	free(out);
}

TEST_F(ptw, kernel_text_is_executable_and_read_only)
{
	unsigned long addr = 0;
	char line[256], sym[128], type;
	struct ptw_rec r;
	char q[96], *out;
	FILE *f = fopen("/proc/kallsyms", "r");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %c %127s", &addr, &type, sym) == 3 &&
		    !strcmp(sym, "_stext"))
			break;
	fclose(f);
	if (!addr)
		SKIP(return, "kallsyms hides addresses (kptr_restrict)");
	snprintf(q, sizeof(q), "pid=kernel start=0x%lx end=0x%lx format=kv",
		 addr, addr + PG);
	ASSERT_EQ(0, ptw_query(q, &out));
	ASSERT_TRUE(ptw_entry_at(out, addr, &r));
	EXPECT_EQ(0, r.nx);
	EXPECT_EQ(0, r.rw);
	EXPECT_EQ(0, r.us);
	free(out);
}

TEST_F(ptw, binary_records_match_kv_and_pagemap)
{
	char *p = map_anon(64 * PG, PROT_READ | PROT_WRITE, true);
	struct ptwalk_record rec[80];
	char q[128];
	ssize_t n;
	int fd, i, leaves = 0;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 64; i++)
		p[i * PG] = 1;
	fd = open(PTWALK_FILE, O_RDWR);
	ASSERT_GE(fd, 0);
	snprintf(q, sizeof(q), "pid=self view=leaves format=bin start=%p end=%p",
		 p, p + 64 * PG);
	ASSERT_GT(write(fd, q, strlen(q)), 0);
	n = read(fd, rec, sizeof(rec));
	close(fd);
	ASSERT_EQ(0, n % (ssize_t)sizeof(rec[0]));
	ASSERT_EQ(65, n / (ssize_t)sizeof(rec[0]));
	for (i = 0; i < 64; i++) {
		struct ptw_rec r;
		unsigned long va = (unsigned long)p + i * PG;

		ASSERT_EQ(va, rec[i].va);
		EXPECT_EQ(PTWALK_LEAF, rec[i].kind);
		EXPECT_EQ(PTWALK_PTE, rec[i].level);
		EXPECT_EQ(12U, rec[i].size_shift);
		EXPECT_EQ(PM_PFN(pagemap_of(self->self, va)), rec[i].pfn);
		EXPECT_EQ(PTWALK_EFF_US | PTWALK_EFF_RW | PTWALK_EFF_NX,
			  rec[i].eff);
		ASSERT_TRUE(ptw_lookup(self->self, va, &r));
		EXPECT_EQ(r.kpf, rec[i].kpf);
		EXPECT_EQ(r.raw & 0xffffffffff000ULL, rec[i].raw & 0xffffffffff000ULL);
		leaves++;
	}
	EXPECT_EQ(64, leaves);
	EXPECT_EQ(PTWALK_END_VA, rec[64].va);	/* the end record: status ok */
	EXPECT_EQ(PTWALK_NONE, rec[64].kind);
	EXPECT_EQ(0ULL, rec[64].raw);
}

/* The whole answer of @q read @chunk bytes at a time; its length in *len. */
static char *read_answer(const char *q, size_t chunk, size_t *len)
{
	size_t cap = 4 << 20;
	char *buf = malloc(cap);
	int fd = open(PTWALK_FILE, O_RDWR);
	ssize_t n;

	*len = 0;
	if (fd < 0 || !buf || write(fd, q, strlen(q)) < 0)
		return NULL;
	while ((n = read(fd, buf + *len, chunk)) > 0 && *len + n + chunk <= cap)
		*len += n;
	close(fd);
	return buf;
}

/* Dense dumps spanning many tables: any read size gives the same answer. */
TEST_F(ptw, read_size_does_not_change_the_answer)
{
	static const size_t sizes[] = { 13, 4096, 65536, 1 << 20 };
	static const char * const formats[] = { "bin", "kv" };
	char *p = map_anon(2048 * PG, PROT_READ | PROT_WRITE, true), q[160];
	struct ptwalk_record *rec;
	char *ref, *got;
	size_t ref_len, len;
	int f, s, i;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 2048; i++)
		p[i * PG] = 1;
	for (f = 0; f < 2; f++) {
		snprintf(q, sizeof(q), "pid=self view=leaves format=%s start=%p end=%p",
			 formats[f], p, p + 2048 * PG);
		ref = read_answer(q, sizes[0], &ref_len);
		ASSERT_NE(NULL, ref);
		for (s = 1; s < 4; s++) {
			got = read_answer(q, sizes[s], &len);
			ASSERT_EQ(ref_len, len);
			ASSERT_EQ(0, memcmp(ref, got, len));
			free(got);
		}
		if (f == 0) {	/* each page exactly once, in order, then the end */
			rec = (struct ptwalk_record *)ref;
			ASSERT_EQ(2049 * sizeof(*rec), ref_len);
			for (i = 0; i < 2048; i++)
				ASSERT_EQ((unsigned long)p + i * PG, rec[i].va);
			ASSERT_EQ(PTWALK_END_VA, rec[2048].va);
		}
		free(ref);
	}
	munmap(p, 2048 * PG);
}

static int query_errno(const char *q)
{
	int fd = open(PTWALK_FILE, O_RDWR), err = 0;

	if (write(fd, q, strlen(q)) < 0)
		err = errno;
	close(fd);
	return err;
}

TEST_F(ptw, bad_queries_fail_cleanly)
{
	static const struct { const char *q; int err; } cases[] = {
		{ "garbage", EINVAL }, { "pid=", EINVAL }, { "pid=abc", EINVAL },
		{ "pid=-5", EINVAL }, { "pid=0", EINVAL }, { "view=leaves", EINVAL },
		{ "pid=1 pid=1", EINVAL }, { "pid=1 view=bogus", EINVAL },
		{ "pid=1 format=xml", EINVAL }, { "pid=1 colour=red", EINVAL },
		{ "pid=1 start=0x2000 end=0x1000", EINVAL },
		{ "pid=1 start=0x1000 end=0x1000", EINVAL },
		{ "pid=1 end=0xffff800000000000", EINVAL },
		{ "pid=1 start=0x8000000000000000", EINVAL },
		{ "pid=kernel end=0x1000", EINVAL },
		{ "pid=1 start=0x1g", EINVAL },
		{ "pid=1 start=99999999999999999999999", EINVAL },
		{ "pid=1 view=path", EINVAL }, { "pid=1 addr=0x1000", EINVAL },
		{ "pid=999999", ESRCH }, { "pid=2", EINVAL },
		{ "pid=1 view=summary format=bin", EINVAL },
		{ "pid=1 view=path addr=0x1000 format=bin", EINVAL },
	};
	char longq[400], *out;
	size_t i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int err = query_errno(cases[i].q);

		if (err != cases[i].err)
			TH_LOG("query \"%s\": errno %d", cases[i].q, err);
		EXPECT_EQ(cases[i].err, err);
	}
	memset(longq, ' ', sizeof(longq) - 1);
	memcpy(longq, "pid=1", 5);
	longq[sizeof(longq) - 1] = '\0';
	EXPECT_EQ(E2BIG, query_errno(longq));
	fd = open(PTWALK_FILE, O_RDWR);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, write(fd, "pid=1\0view=summary", 18));
	EXPECT_EQ(EINVAL, errno);
	close(fd);

	/* A failed write leaves the previous query in place. */
	fd = open(PTWALK_FILE, O_RDWR);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(28, write(fd, "pid=1 view=summary format=kv", 28));
	ASSERT_EQ(-1, write(fd, "pid=1 view=nonsense", 19));
	EXPECT_EQ(EINVAL, errno);
	out = calloc(1, 8192);
	ASSERT_GT(read(fd, out, 8191), 0);
	EXPECT_EQ(0, strncmp(out, "rec=summary", 11));
	free(out);
	close(fd);
}

TEST_F(ptw, zombie_has_no_address_space)
{
	pid_t child = fork();
	char q[32];

	if (child == 0)
		_exit(0);
	usleep(200000);		/* exited, not reaped */
	snprintf(q, sizeof(q), "pid=%d", child);
	EXPECT_EQ(ESRCH, query_errno(q));
	waitpid(child, NULL, 0);
}

TEST_F(ptw, unprivileged_open_is_refused)
{
	pid_t child = fork();
	int status;

	if (child == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		_exit(open(PTWALK_FILE, O_RDWR) < 0 &&
		      (errno == EACCES || errno == EPERM) ? 0 : 1);
	}
	waitpid(child, &status, 0);
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_F(ptw, two_descriptors_keep_their_own_queries)
{
	int a = open(PTWALK_FILE, O_RDWR), b = open(PTWALK_FILE, O_RDWR);
	char ba[8192] = "", bb[8192] = "";

	ASSERT_GE(a, 0);
	ASSERT_GE(b, 0);
	ASSERT_GT(write(a, "pid=1 view=summary format=kv", 28), 0);
	ASSERT_GT(write(b, "pid=self view=tables format=kv", 30), 0);
	ASSERT_GT(read(b, bb, 100), 0);
	ASSERT_GT(read(a, ba, sizeof(ba) - 1), 0);
	ASSERT_GT(read(b, bb + 100, sizeof(bb) - 101), 0);
	EXPECT_EQ(0, strncmp(ba, "rec=summary", 11));
	EXPECT_EQ(0, strncmp(bb, "rec=table level=pgd", 19));
	close(a);
	close(b);
}

TEST_F(ptw, random_queries_never_hurt)
{
	static const char *const keys[] = { "pid=", "start=", "end=", "addr=",
		"view=", "format=", "x=", "=", "pid=self", "pid=kernel",
		"view=summary", "view=path", "view=tables", "format=kv", "pid=1" };
	static const char *const vals[] = { "0", "1", "0x1000", "-1", "self",
		"kernel", "summary", "leaves", "kv", "0xffffffffffffffff",
		"0x7fffffffffff", "0xff00000000000000", "", "==", "\t" };
	char q[300], buf[4096];
	int i, k, fd, ok = 0;

	srand(1234);
	for (i = 0; i < 3000; i++) {
		int len = 0, toks = rand() % 6;

		for (k = 0; k < toks && len < 250; k++) {
			if (rand() % 8 == 0) {
				q[len++] = (char)(rand() % 255 + 1);
				continue;
			}
			len += snprintf(q + len, sizeof(q) - len, "%s%s ",
					keys[rand() % 15], vals[rand() % 15]);
		}
		q[len] = '\0';
		fd = open(PTWALK_FILE, O_RDWR);
		ASSERT_GE(fd, 0);
		if (write(fd, q, len ? len : 1) >= 0) {
			ok++;
			ASSERT_GE(read(fd, buf, sizeof(buf)), 0);
		} else {
			EXPECT_TRUE(errno == EINVAL || errno == ESRCH ||
				    errno == E2BIG) TH_LOG("errno %d for \"%s\"", errno, q);
		}
		close(fd);
	}
	TH_LOG("%d of 3000 random queries were valid", ok);
}

TEST_F(ptw, walks_survive_a_churning_target)
{
	pid_t child = fork();
	time_t end = time(NULL) + 8;
	char q[64], *out;
	int walks = 0;

	if (child == 0) {
		for (;;) {
			char *p = map_anon(8 * HPAGE, PROT_READ | PROT_WRITE, false);
			pid_t g;

			memset(p, 1, 8 * HPAGE);
			munmap(p + HPAGE, 3 * HPAGE);
			g = fork();
			if (g == 0)
				_exit(p[0] == 1 ? 0 : 1);
			waitpid(g, NULL, 0);
			munmap(p, 8 * HPAGE);
		}
	}
	while (time(NULL) < end) {
		snprintf(q, sizeof(q), "pid=%d format=kv view=%s", child,
			 walks % 3 == 0 ? "leaves" : walks % 3 == 1 ? "summary" : "tables");
		ASSERT_EQ(0, ptw_query(q, &out));
		EXPECT_NE(NULL, strstr(out, "rec=end status=ok"));
		free(out);
		walks++;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	/* A walk of a process that died between write and read ends cleanly. */
	child = quiet_child();
	{
		int fd = open(PTWALK_FILE, O_RDWR);
		char buf[4096] = "";

		snprintf(q, sizeof(q), "pid=%d format=kv view=summary", child);
		ASSERT_GT(write(fd, q, strlen(q)), 0);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		ASSERT_GT(read(fd, buf, sizeof(buf) - 1), 0);
		EXPECT_NE(NULL, strstr(buf, "status=exited"));
		close(fd);
	}
	TH_LOG("%d walks of a churning process", walks);
}

TEST_HARNESS_MAIN
