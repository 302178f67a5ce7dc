// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk's census view against ground truth: VmPTE for the table pages of
 * each process, and duplicate PTE tables computed independently here from
 * /proc/PID/pagemap (two 2 MiB windows are duplicates when the same pages
 * are present at the same offsets; every scenario keeps protection the
 * same for a page in all processes, so PFNs decide). mshare regions must
 * show as shared tables, never as duplicates.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/msharefs.h>

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#include "ptwalk_lib.h"
#include "vm_util.h"

#define PG		4096UL
#define HPAGE		(2UL << 20)
#define GIB		(1UL << 30)
#define MAX_KIDS	8
#define MSHARE_MNT	"/sys/fs/mshare"

/* A child set up by a function, then waiting to be killed. */
struct kids {
	int n;
	pid_t pid[MAX_KIDS];
	char *addr[MAX_KIDS];	/* where the child's object is mapped */
};

typedef char *(*kid_setup_fn)(int i, void *arg);

static void spawn(struct kids *k, int n, kid_setup_fn fn, void *arg)
{
	int i;

	for (i = 0; i < n; i++) {
		int pfd[2];
		pid_t pid;

		if (pipe(pfd))
			exit(1);
		pid = fork();
		if (!pid) {
			char *a = fn(i, arg);

			close(pfd[0]);
			if (write(pfd[1], &a, sizeof(a)) != sizeof(a))
				_exit(1);
			for (;;)
				pause();
		}
		close(pfd[1]);
		k->addr[k->n] = NULL;
		if (read(pfd[0], &k->addr[k->n], sizeof(char *)) != sizeof(char *))
			k->addr[k->n] = NULL;
		close(pfd[0]);
		k->pid[k->n++] = pid;
	}
}

static void reap(struct kids *k)
{
	int i;

	for (i = 0; i < k->n; i++) {
		kill(k->pid[i], SIGKILL);
		waitpid(k->pid[i], NULL, 0);
	}
	k->n = 0;
}

/* Reserve @len at an address @misalign bytes past a 2 MiB boundary. */
static char *reserve(size_t len, unsigned long misalign)
{
	char *raw = mmap(NULL, len + 2 * HPAGE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)((((unsigned long)raw + HPAGE - 1) & ~(HPAGE - 1)) + misalign);
	/* Nothing else in the 2 MiB windows the object touches. */
	munmap(raw, len + 2 * HPAGE);
	return p;
}

/* The census over @pids (comma-separated) in kv; NULL on failure. */
static char *run_census(const char *pids, unsigned long start, unsigned long end)
{
	char q[256], *out;

	if (end)
		snprintf(q, sizeof(q), "view=census format=kv pid=%s start=0x%lx end=0x%lx",
			 pids, start, end);
	else
		snprintf(q, sizeof(q), "view=census format=kv pid=%s", pids);
	return ptw_query(q, &out) ? NULL : out;
}

static void pid_list(const struct kids *k, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < k->n; i++)
		off += snprintf(buf + off, len - off, "%s%d", i ? "," : "",
				k->pid[i]);
}

/* The line "rec=<rec> ... " whose key=value (or object= tail) matches. */
static const char *find_line(const char *out, const char *rec,
			     const char *key, const char *val)
{
	char pat[160];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=%s", key, val);
	for (p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		const char *eol = strchrnul(p, '\n'), *hit;

		if (strncmp(p, "rec=", 4) || strncmp(p + 4, rec, strlen(rec)) ||
		    p[4 + strlen(rec)] != ' ')
			continue;
		hit = strstr(p, pat);
		if (hit && hit < eol && (hit[strlen(pat)] == ' ' ||
					 hit + strlen(pat) == eol))
			return p;
	}
	return NULL;
}

static const char *proc_line(const char *out, pid_t pid)
{
	char v[16];

	snprintf(v, sizeof(v), "%d", pid);
	return find_line(out, "proc", "pid", v);
}

/* rec=dup (or rec=shared) for the object named @object at @level. */
static const char *group_line(const char *out, const char *rec,
			      const char *level, const char *object)
{
	const char *p = out;

	while ((p = find_line(p, rec, "level", level)) != NULL) {
		const char *o = strstr(p, " object=");

		if (o && !strncmp(o + 8, object, strlen(object)) &&
		    o[8 + strlen(object)] == '\n')
			return p;
		p = strchr(p, '\n');
	}
	return NULL;
}

/*
 * The independent computation: the present PFNs of every 2 MiB window
 * that [a, a + len) touches in each process, from pagemap. Windows with
 * the same PFNs at the same offsets in two or more processes form a set.
 */
struct window {
	pid_t pid;
	uint64_t pfn[512];
};

static int cmp_window(const void *a, const void *b)
{
	const struct window *x = a, *y = b;
	int r = memcmp(x->pfn, y->pfn, sizeof(x->pfn));

	return r ? r : (x->pid > y->pid) - (x->pid < y->pid);
}

static bool read_window(pid_t pid, unsigned long va, struct window *w)
{
	char path[64];
	bool any = false;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, w->pfn, sizeof(w->pfn), va / PG * 8) !=
	    sizeof(w->pfn)) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	for (i = 0; i < 512; i++) {
		w->pfn[i] = (w->pfn[i] & PM_PRESENT) ? PM_PFN(w->pfn[i]) : 0;
		any |= w->pfn[i] != 0;
	}
	w->pid = pid;
	return any;
}

/* Sets and tables of duplicates among the kids' windows of [addr, +len). */
static void expected_dups(const struct kids *k, size_t len,
			  unsigned long *sets, unsigned long *tables)
{
	struct window *w = calloc(k->n * (len / HPAGE + 2), sizeof(*w));
	int n = 0, i, j;

	for (i = 0; i < k->n; i++) {
		unsigned long a = (unsigned long)k->addr[i] & ~(HPAGE - 1);

		for (; a < (unsigned long)k->addr[i] + len; a += HPAGE)
			n += read_window(k->pid[i], a, &w[n]);
	}
	qsort(w, n, sizeof(*w), cmp_window);
	*sets = *tables = 0;
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && !memcmp(w[j].pfn, w[i].pfn,
						 sizeof(w[i].pfn)); j++)
			;
		if (w[i].pid != w[j - 1].pid) {	/* two processes at least */
			(*sets)++;
			*tables += j - i;
		}
	}
	free(w);
}

static void expect_group(struct __test_metadata *_metadata, const char *out,
			 const char *object, unsigned long sets,
			 unsigned long tables)
{
	const char *l = group_line(out, "dup", "pte", object);

	if (!tables) {
		EXPECT_EQ(NULL, l) TH_LOG("no duplicates expected for %s", object);
		return;
	}
	ASSERT_NE(NULL, l) TH_LOG("no rec=dup for %s in:\n%s", object, out);
	EXPECT_EQ((long long)sets, kv_num(l, "sets")) TH_LOG("%s", l);
	EXPECT_EQ((long long)tables, kv_num(l, "tables")) TH_LOG("%s", l);
	EXPECT_EQ((long long)((tables - sets) * PG), kv_num(l, "saved_bytes"));
}

FIXTURE(census) {
	struct kids k;
};

FIXTURE_SETUP(census)
{
	if (access(PTWALK_FILE, F_OK))
		SKIP(return, "ptwalk module not loaded (%s missing)", PTWALK_FILE);
	self->k.n = 0;
}

FIXTURE_TEARDOWN(census)
{
	reap(&self->k);
}

/* ---------------------------------------------------------------- VmPTE */

static char *setup_mixed(int i, void *arg)
{
	size_t len = (4 + 2 * i) * HPAGE;
	char *anon = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *thp = reserve(4 * HPAGE, 0);

	/* Some 4K pages, some THPs (each with a deposited PTE table). */
	madvise(anon, len, MADV_NOHUGEPAGE);
	memset(anon, 1, len / 2);
	thp = mmap(thp, 4 * HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	madvise(thp, 4 * HPAGE, MADV_HUGEPAGE);
	memset(thp, 1, (1 + i % 3) * HPAGE);
	return thp;
}

static bool has_thp(pid_t pid, const char *a)
{
	uint64_t pm = pagemap_of(pid, (unsigned long)a);

	return (pm & PM_PRESENT) &&
	       (kpageflags_of(PM_PFN(pm)) & (1ULL << 22 /* KPF_THP */));
}

TEST_F(census, table_bytes_equal_vmpte)
{
	char pids[256], *out;
	int i, thps = 0;

	spawn(&self->k, 4, setup_mixed, NULL);
	pid_list(&self->k, pids, sizeof(pids));
	out = run_census(pids, 0, 0);
	ASSERT_NE(NULL, out);
	for (i = 0; i < self->k.n; i++) {
		const char *l = proc_line(out, self->k.pid[i]);
		long long tables;

		ASSERT_NE(NULL, l) TH_LOG("pid %d missing:\n%s", self->k.pid[i], out);
		thps += has_thp(self->k.pid[i], self->k.addr[i]);
		tables = kv_num(l, "pud") + kv_num(l, "pmd") + kv_num(l, "pte");
		/* VmPTE: PUD, PMD, PTE tables and one PTE table per anon THP. */
		EXPECT_EQ(proc_vmpte_kb(self->k.pid[i]) * 1024,
			  (tables + kv_num(l, "deposited_pte")) * (long long)PG)
			TH_LOG("%s", l);
		EXPECT_EQ(1, kv_num(l, "pgd"));
		EXPECT_EQ(0, kv_num(l, "shared"));
		/* bytes counts every level the process reaches. */
		EXPECT_EQ((tables + 1 + kv_num(l, "p4d")) * (long long)PG,
			  kv_num(l, "bytes"));
	}
	if (!thps)
		TH_LOG("no THP could be allocated: the deposit rule was not exercised");
	EXPECT_NE(NULL, strstr(out, "rec=end status=ok\n"));
	free(out);
}

/* ----------------------------------------------------- memfd duplicates */

struct memfd_case {
	int fd;
	size_t len;
	int flags;		/* MAP_SHARED or MAP_PRIVATE */
	const unsigned long *misalign;	/* per child */
	const size_t *touch;	/* bytes each child reads */
	const size_t *write;	/* bytes each child then writes (private) */
	const long *drop;	/* offset of a page each child drops, or -1 */
};

static char *setup_memfd(int i, void *arg)
{
	struct memfd_case *m = arg;
	char *p = reserve(m->len, m->misalign[i]);
	int prot = m->flags == MAP_PRIVATE ? PROT_READ | PROT_WRITE : PROT_READ;

	/*
	 * Unaligned: an empty PROT_NONE guard below it in the same 2 MiB
	 * window; the window's table still maps the memfd and nothing else.
	 */
	if (m->misalign[i] && mmap(p - m->misalign[i], m->misalign[i], PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
				   0) == MAP_FAILED)
		return NULL;
	p = mmap(p, m->len, prot, m->flags | MAP_FIXED, m->fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	touch_pages(p, m->touch[i]);
	if (m->write && m->write[i])
		memset(p, i + 1, m->write[i]);
	if (m->drop && m->drop[i] >= 0)
		madvise(p + m->drop[i], PG, MADV_DONTNEED);
	return p;
}

static int make_memfd(const char *name, size_t len)
{
	int fd = memfd_create(name, 0);
	char *p;

	if (fd < 0 || ftruncate(fd, len))
		return -1;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	memset(p, 7, len);	/* every page in the page cache */
	munmap(p, len);
	return fd;
}

static bool shmem_thp_off(void)
{
	char buf[128] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/shmem_enabled",
		      O_RDONLY);

	if (fd < 0)
		return true;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	return strstr(buf, "[never]") || strstr(buf, "[deny]");
}

/*
 * @n children map memfd @name as @m says; the census's group for it must
 * equal the computation from pagemap. Returns the number of sets.
 */
static unsigned long memfd_case_run(struct __test_metadata *_metadata,
				    struct kids *k, struct memfd_case *m,
				    const char *name, int n)
{
	unsigned long sets = 0, tables = 0;
	char pids[256], object[64], *out;
	int i;

	m->fd = make_memfd(name, m->len);
	ASSERT_LE(0, m->fd);
	spawn(k, n, setup_memfd, m);
	for (i = 0; i < n; i++)
		ASSERT_NE(NULL, k->addr[i]);
	pid_list(k, pids, sizeof(pids));
	out = run_census(pids, 0, 0);
	ASSERT_NE(NULL, out);
	expected_dups(k, m->len, &sets, &tables);
	snprintf(object, sizeof(object), "/memfd:%s (deleted)", name);
	expect_group(_metadata, out, object, sets, tables);
	free(out);
	close(m->fd);
	return sets;
}

TEST_F(census, memfd_duplicates_match_pagemap)
{
	/* Aligned, two unaligned at the same offset, one at another, partial. */
	static const unsigned long mis[] = { 0, 0, 0, 65536, 65536, 131072, 0 };
	static const size_t touch[] = { 6 * HPAGE, 6 * HPAGE, 3 * HPAGE + 40960,
		6 * HPAGE, 6 * HPAGE, 6 * HPAGE, 6 * HPAGE };
	/* The last child drops one page in the middle of its second window. */
	static const long drop[] = { -1, -1, -1, -1, -1, -1, HPAGE + 100 * PG };
	struct memfd_case m = { .len = 6 * HPAGE, .flags = MAP_SHARED,
				.misalign = mis, .touch = touch, .drop = drop };

	if (!shmem_thp_off())
		SKIP(return, "shmem THP is enabled: memfd pages would be PMD-mapped");
	/* The aligned full ones share all their windows at least. */
	EXPECT_LE(3UL, memfd_case_run(_metadata, &self->k, &m, "census_shared", 7));
}

TEST_F(census, cow_after_fork_breaks_duplicates)
{
	/* Private mapping of a memfd: the children differ where they wrote. */
	static const unsigned long mis[] = { 0, 0, 0, 0 };
	static const size_t touch[] = { 8 * HPAGE, 8 * HPAGE, 8 * HPAGE, 8 * HPAGE };
	static const size_t wr[] = { 0, PG, 3 * HPAGE + 5 * PG, 8 * HPAGE };
	struct memfd_case m = { .len = 8 * HPAGE, .flags = MAP_PRIVATE,
				.misalign = mis, .touch = touch, .write = wr };

	if (!shmem_thp_off())
		SKIP(return, "shmem THP is enabled: memfd pages would be PMD-mapped");
	/* Windows 4..7 are untouched by children 0-2: duplicates of three. */
	EXPECT_LE(4UL, memfd_case_run(_metadata, &self->k, &m, "census_cow", 4));
}

static char *setup_twice(int i, void *arg)
{
	int fd = *(int *)arg;
	char *p = reserve(4 * HPAGE, 0);

	/* The same 2 MiB of the memfd at two aligned addresses. */
	if (mmap(p, HPAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED ||
	    mmap(p + 2 * HPAGE, HPAGE, PROT_READ, MAP_SHARED | MAP_FIXED, fd,
		 0) == MAP_FAILED)
		return NULL;
	touch_pages(p, HPAGE);
	touch_pages(p + 2 * HPAGE, HPAGE);
	return p;
}

/* Identical tables inside one process are not duplicates of another's. */
TEST_F(census, one_process_twice_is_not_duplicate)
{
	struct window a, b;
	char pids[32], *out;
	int fd;

	if (!shmem_thp_off())
		SKIP(return, "shmem THP is enabled: memfd pages would be PMD-mapped");
	fd = make_memfd("census_twice", HPAGE);
	ASSERT_LE(0, fd);
	spawn(&self->k, 1, setup_twice, &fd);
	ASSERT_NE(NULL, self->k.addr[0]);
	/* pagemap: both windows hold the same pages at the same offsets. */
	ASSERT_TRUE(read_window(self->k.pid[0], (unsigned long)self->k.addr[0], &a));
	ASSERT_TRUE(read_window(self->k.pid[0],
				(unsigned long)self->k.addr[0] + 2 * HPAGE, &b));
	ASSERT_EQ(0, memcmp(a.pfn, b.pfn, sizeof(a.pfn)));
	pid_list(&self->k, pids, sizeof(pids));
	out = run_census(pids, 0, 0);
	ASSERT_NE(NULL, out);
	EXPECT_EQ(NULL, group_line(out, "dup", "pte",
				   "/memfd:census_twice (deleted)")) TH_LOG("%s", out);
	free(out);
	close(fd);
}

/* Fork after partial writes to private anonymous memory: COW shares pages. */
TEST_F(census, forked_anon_duplicates_until_written)
{
	size_t len = 6 * HPAGE;
	char *p = reserve(len, 0), pids[256], *out;
	unsigned long sets, tables, start, end;
	struct kids all;
	int i;

	p = mmap(p, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, madvise(p, len, MADV_NOHUGEPAGE));
	memset(p, 1, len - HPAGE / 2);
	for (i = 0; i < 3; i++) {
		pid_t pid = fork();

		if (!pid) {
			/* Child i writes i pages in window i + 1. */
			memset(p + (i + 1) * HPAGE, 2, i * PG);
			for (;;)
				pause();
		}
		self->k.addr[self->k.n] = p;
		self->k.pid[self->k.n++] = pid;
	}
	usleep(300000);	/* let the children write */
	/* This process too: its entries are young, the children's old. */
	all = self->k;
	all.addr[all.n] = p;
	all.pid[all.n++] = getpid();
	pid_list(&all, pids, sizeof(pids));
	start = (unsigned long)p;
	end = start + len;
	out = run_census(pids, start, end);
	ASSERT_NE(NULL, out);
	expected_dups(&all, len, &sets, &tables);
	EXPECT_LE(3UL, sets);
	expect_group(_metadata, out, "[anon]", sets, tables);
	for (i = 0; i < self->k.n; i++)
		EXPECT_EQ(6, kv_num(proc_line(out, self->k.pid[i]), "pte"));
	free(out);
}

static int cmp_slots(const void *a, const void *b)
{
	return memcmp(a, b, 512 * sizeof(uint64_t));
}

static char *setup_idle(int i, void *arg)
{
	return arg;	/* forked with the parent's THPs: touch nothing */
}

/*
 * PMD tables: forked children share the parent's anonymous THPs through
 * copy-on-write huge PMDs; alone in their GiB, their PMD tables are
 * identical (and each child has a PTE table deposited per THP).
 */
TEST_F(census, forked_thp_pmd_tables_are_duplicates)
{
	char *raw = mmap(NULL, 2 * GIB, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *p = (char *)(((unsigned long)raw + GIB - 1) & ~(GIB - 1));
	unsigned long sets = 0, tables = 0;
	uint64_t (*slot)[512];
	char pids[64], *out;
	const char *l;
	int i, j, k;

	ASSERT_NE(MAP_FAILED, raw);
	munmap(raw, 2 * GIB);
	p = mmap(p, 4 * HPAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	madvise(p, 4 * HPAGE, MADV_HUGEPAGE);
	memset(p, 5, 4 * HPAGE);
	for (k = 0; k < 4; k++)
		if (!has_thp(getpid(), p + k * HPAGE))
			SKIP(return, "no THP for an aligned 2 MiB of anonymous memory");
	spawn(&self->k, 3, setup_idle, p);
	pid_list(&self->k, pids, sizeof(pids));
	out = run_census(pids, (unsigned long)p, (unsigned long)p + 4 * HPAGE);
	ASSERT_NE(NULL, out);
	/* pagemap: the PFN each child maps at every 2 MiB slot of the GiB. */
	slot = calloc(self->k.n, sizeof(*slot));
	for (i = 0; i < self->k.n; i++)
		for (k = 0; k < 4; k++)
			slot[i][k] = PM_PFN(pagemap_of(self->k.pid[i],
						       (unsigned long)p + k * HPAGE));
	qsort(slot, self->k.n, sizeof(*slot), cmp_slots);
	for (i = 0; i < self->k.n; i = j) {
		for (j = i + 1; j < self->k.n &&
		     !memcmp(slot[i], slot[j], sizeof(slot[i])); j++)
			;
		if (j - i > 1) {
			sets++;
			tables += j - i;
		}
	}
	l = group_line(out, "dup", "pmd", "[anon]");
	ASSERT_NE(NULL, l) TH_LOG("%s", out);
	EXPECT_EQ((long long)sets, kv_num(l, "sets"));
	EXPECT_EQ((long long)tables, kv_num(l, "tables"));
	EXPECT_EQ(NULL, group_line(out, "dup", "pte", "[anon]"));
	for (i = 0; i < self->k.n; i++) {
		const char *pl = proc_line(out, self->k.pid[i]);

		ASSERT_NE(NULL, pl);
		EXPECT_EQ(1, kv_num(pl, "pmd"));
		EXPECT_EQ(0, kv_num(pl, "pte"));
		EXPECT_EQ(4, kv_num(pl, "deposited_pte")) TH_LOG("%s", pl);
	}
	free(slot);
	free(out);
}

static char *setup_private_anon(int i, void *arg)
{
	char *p = arg;

	p = mmap(p, 4 * HPAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	madvise(p, 4 * HPAGE, MADV_NOHUGEPAGE);
	memset(p, 3, 4 * HPAGE);
	return p;
}

TEST_F(census, private_anon_is_never_duplicate)
{
	char *p = reserve(4 * HPAGE, 0), pids[256], *out;
	unsigned long sets, tables;
	int i;

	spawn(&self->k, 4, setup_private_anon, p);
	pid_list(&self->k, pids, sizeof(pids));
	out = run_census(pids, (unsigned long)p, (unsigned long)p + 4 * HPAGE);
	ASSERT_NE(NULL, out);
	expected_dups(&self->k, 4 * HPAGE, &sets, &tables);
	EXPECT_EQ(0UL, tables);
	EXPECT_EQ(NULL, strstr(out, "rec=dup ")) TH_LOG("%s", out);
	for (i = 0; i < self->k.n; i++)
		EXPECT_EQ(4, kv_num(proc_line(out, self->k.pid[i]), "pte"));
	free(out);
}

/* ----------------------------------------------------------------- mshare */

static char *setup_mshare(int i, void *arg)
{
	int fd = open(arg, O_RDWR);
	char *p = reserve(8 * HPAGE, 0);

	if (fd < 0)
		return NULL;
	p = mmap(p, 8 * HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	touch_pages(p, 8 * HPAGE);
	return p;
}

TEST_F(census, mshare_tables_are_shared_not_duplicate)
{
	const char *path = MSHARE_MNT "/census_test";
	struct mshare_create c = {
		.region_offset = 0, .size = 8 * HPAGE,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, .fd = -1,
	};
	unsigned long sets, tables;
	bool mounted = false;
	char pids[256], *out;
	const char *l;
	int fd, i;

	if (access(MSHARE_MNT "/mshare_info", F_OK)) {
		if (mount("msharefs", MSHARE_MNT, "msharefs", 0, NULL))
			SKIP(return, "mshare module not loaded (cannot mount msharefs)");
		mounted = true;
	}
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 8 * HPAGE));
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c));
	spawn(&self->k, 3, setup_mshare, (void *)path);
	for (i = 0; i < self->k.n; i++)
		ASSERT_NE(NULL, self->k.addr[i]);
	pid_list(&self->k, pids, sizeof(pids));
	out = run_census(pids, 0, 0);
	ASSERT_NE(NULL, out);
	/* pagemap: the same PFNs everywhere, which a naive census calls dups. */
	expected_dups(&self->k, 8 * HPAGE, &sets, &tables);
	EXPECT_EQ(8UL, sets);
	EXPECT_EQ(NULL, group_line(out, "dup", "pte", path)) TH_LOG("%s", out);
	l = group_line(out, "shared", "pte", path);
	ASSERT_NE(NULL, l) TH_LOG("%s", out);
	/* Eight 2 MiB windows, one table each, linked into three processes. */
	EXPECT_EQ((long long)sets, kv_num(l, "tables"));
	EXPECT_EQ(3 * (long long)sets, kv_num(l, "links"));
	EXPECT_EQ(2 * (long long)sets * PG, kv_num(l, "saved_bytes"));
	for (i = 0; i < self->k.n; i++) {
		const char *p = proc_line(out, self->k.pid[i]);
		long long own = kv_num(p, "pud") + kv_num(p, "pmd") +
				kv_num(p, "pte") + kv_num(p, "deposited_pte") -
				kv_num(p, "shared");

		/* The kernel does not account the region's tables to sharers. */
		EXPECT_EQ((long long)sets, kv_num(p, "shared")) TH_LOG("%s", p);
		EXPECT_EQ(proc_vmpte_kb(self->k.pid[i]) * 1024, own * (long long)PG)
			TH_LOG("%s", p);
	}
	free(out);
	reap(&self->k);
	close(fd);
	unlink(path);
	if (mounted)
		umount(MSHARE_MNT);
}

/* ---------------------------------------------------- hugetlb PMD sharing */

static char *setup_hugetlb(int i, void *arg)
{
	int fd = *(int *)arg;
	char *raw = mmap(NULL, 2 * GIB, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *p = (char *)(((unsigned long)raw + GIB - 1) & ~(GIB - 1));
	int k;

	/* A whole, aligned GiB of a shared hugetlb mapping: its PMD table
	 * is shared between the processes (huge_pmd_share()).
	 */
	p = mmap(p, GIB, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd, 0);
	if (raw == MAP_FAILED || p == MAP_FAILED)
		return NULL;
	for (k = 0; k < 4; k++)
		touch_read(p + k * HPAGE);
	return p;
}

TEST_F(census, hugetlb_pmd_sharing_is_shared)
{
	char pids[64], *out;
	const char *l;
	int fd, i;
	char *p;

	fd = memfd_create("census_hugetlb", MFD_HUGETLB);
	if (fd < 0 || ftruncate(fd, GIB))
		SKIP(return, "no hugetlbfs memfd of 1 GiB (%s)", strerror(errno));
	p = mmap(NULL, 4 * HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		SKIP(return, "no 2M hugetlb pages reserved (hugepages=)");
	memset(p, 1, 4 * HPAGE);	/* the first 4 pages exist */
	munmap(p, 4 * HPAGE);
	spawn(&self->k, 3, setup_hugetlb, &fd);
	for (i = 0; i < self->k.n; i++)
		ASSERT_NE(NULL, self->k.addr[i]);
	pid_list(&self->k, pids, sizeof(pids));
	out = run_census(pids, 0, 0);
	ASSERT_NE(NULL, out);
	l = group_line(out, "shared", "pmd", "/memfd:census_hugetlb (deleted)");
	ASSERT_NE(NULL, l) TH_LOG("%s", out);
	EXPECT_EQ(1, kv_num(l, "tables"));
	EXPECT_EQ(3, kv_num(l, "links"));
	EXPECT_NE(NULL, strstr(l, " kind=hugetlb ")) TH_LOG("%s", l);
	EXPECT_EQ(NULL, group_line(out, "dup", "pmd",
				   "/memfd:census_hugetlb (deleted)"));
	for (i = 0; i < self->k.n; i++) {
		const char *pl = proc_line(out, self->k.pid[i]);

		ASSERT_NE(NULL, pl);
		EXPECT_EQ(1, kv_num(pl, "shared")) TH_LOG("%s", pl);
		/* Unlike mshare, the kernel accounts a shared hugetlb PMD
		 * table to every process that links it.
		 */
		EXPECT_EQ(proc_vmpte_kb(self->k.pid[i]) * 1024,
			  (kv_num(pl, "pud") + kv_num(pl, "pmd") + kv_num(pl, "pte") +
			   kv_num(pl, "deposited_pte")) * (long long)PG) TH_LOG("%s", pl);
	}
	free(out);
	close(fd);
}

/* ------------------------------------------------ exits, errors, memory */

TEST_F(census, exited_processes_are_reported)
{
	char q[128], *out;
	pid_t zombie, gone;
	const char *l;

	zombie = fork();
	if (!zombie)
		_exit(0);
	gone = fork();
	if (!gone)
		_exit(0);
	waitpid(gone, NULL, 0);		/* reaped: the PID no longer exists */
	usleep(100000);			/* the zombie has exited, not reaped */
	snprintf(q, sizeof(q), "%d,%d,self", zombie, gone);
	out = run_census(q, 0, 0);
	ASSERT_NE(NULL, out);
	l = proc_line(out, zombie);
	ASSERT_NE(NULL, l);
	EXPECT_NE(NULL, strstr(l, " status=exited "));
	l = proc_line(out, gone);
	ASSERT_NE(NULL, l);
	EXPECT_NE(NULL, strstr(l, " status=exited "));
	l = proc_line(out, getpid());
	ASSERT_NE(NULL, l);
	EXPECT_NE(NULL, strstr(l, " status=ok "));
	l = find_line(out, "total", "processes", "3");
	ASSERT_NE(NULL, l) TH_LOG("%s", out);
	EXPECT_EQ(2, kv_num(l, "exited"));
	EXPECT_NE(NULL, strstr(out, "rec=end status=ok\n"));
	free(out);
	waitpid(zombie, NULL, 0);
}

/* The whole machine while processes come and go: never an error. */
TEST_F(census, all_processes_while_they_exit)
{
	pid_t churn = fork();
	int round;

	if (!churn) {
		for (;;) {
			pid_t c = fork();

			if (!c)
				_exit(0);
			waitpid(c, NULL, 0);
		}
	}
	for (round = 0; round < 5; round++) {
		char *out = run_census("all", 0, 0);
		const char *l;
		long long procs, lines = 0, exited = 0;
		const char *p;

		ASSERT_NE(NULL, out);
		l = strstr(out, "rec=total ");
		ASSERT_NE(NULL, l);
		procs = kv_num(l, "processes");
		for (p = out; (p = strstr(p, "rec=proc ")); p++) {
			lines++;
			exited += !strncmp(strstr(p, " status=") + 8, "exited", 6);
		}
		EXPECT_EQ(procs, lines);
		EXPECT_EQ(exited, kv_num(l, "exited"));
		EXPECT_NE(NULL, proc_line(out, getpid()));
		EXPECT_NE(NULL, strstr(out, "rec=end status=ok\n"));
		/* Bounded memory, stated: records and fixed tables only. */
		EXPECT_LT(0, kv_num(l, "memory"));
		EXPECT_LE(kv_num(l, "memory"),
			  (1LL << 20) + 80 * kv_num(l, "tables") + 4096 * procs);
		free(out);
	}
	kill(churn, SIGKILL);
	waitpid(churn, NULL, 0);
}

TEST_F(census, bad_queries_change_nothing)
{
	static const char *const bad[] = {
		"view=census pid=x", "view=census pid=1,1", "view=census pid=",
		"view=census pid=1 pid=2", "view=census format=bin",
		"view=census bogus=1", "view=census start=0x2000 end=0x1000",
		"view=census end=0xffffffffffffffff", "view=census pid=0",
		"view=census addr=0x1000",
	};
	char *before, buf[8192];
	unsigned int i;
	ssize_t n;
	int fd;

	ASSERT_EQ(0, ptw_query("pid=self view=summary format=kv", &before));
	fd = open(PTWALK_FILE, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, write(fd, "pid=self view=summary format=kv", 31));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, write(fd, bad[i], strlen(bad[i]))) TH_LOG("%s", bad[i]);
		EXPECT_EQ(EINVAL, errno) TH_LOG("%s", bad[i]);
	}
	/* 65 PIDs (distinct, existing or not): one more than a list holds. */
	n = snprintf(buf, sizeof(buf), "view=census pid=1");
	for (i = 2; i <= 65; i++)
		n += snprintf(buf + n, sizeof(buf) - n, ",%u", i);
	errno = 0;
	EXPECT_EQ(-1, write(fd, buf, n));
	EXPECT_EQ(E2BIG, errno);
	/* The summary query is still the one answered. */
	n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_NE(NULL, strstr(buf, "rec=summary "));
	/* A census, then a plain query again on the same descriptor. */
	ASSERT_LT(0, write(fd, "view=census pid=self format=kv", 30));
	n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_NE(NULL, strstr(buf, "rec=proc ")) TH_LOG("%s", buf);
	ASSERT_LT(0, write(fd, "pid=self view=summary format=kv", 31));
	n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_NE(NULL, strstr(buf, "rec=summary ")) TH_LOG("%s", buf);
	close(fd);
	free(before);
}

/* ptwalk census -c: the CSV row of a process carries the kv numbers. */
TEST_F(census, cli_csv_matches_kv)
{
	static const char *const cols[] = {
		"pgd", "p4d", "pud", "pmd", "pte", "bytes",
	};
	char cmd[64], line[1024], *out, want[256];
	bool found = false;
	const char *l;
	int i, n;
	FILE *f;

	if (system("ptwalk census -c self >/dev/null 2>&1"))
		SKIP(return, "the ptwalk tool is not on PATH");
	spawn(&self->k, 1, setup_private_anon, reserve(4 * HPAGE, 0));
	snprintf(cmd, sizeof(cmd), "%d", self->k.pid[0]);
	out = run_census(cmd, 0, 0);
	ASSERT_NE(NULL, out);
	l = proc_line(out, self->k.pid[0]);
	ASSERT_NE(NULL, l);
	n = snprintf(want, sizeof(want), "\"proc\",\"%d\",\"census_test\",\"ok\"",
		     self->k.pid[0]);
	for (i = 0; i < 6; i++)
		n += snprintf(want + n, sizeof(want) - n, ",\"%lld\"",
			      kv_num(l, cols[i]));
	snprintf(cmd, sizeof(cmd), "ptwalk census -c %d", self->k.pid[0]);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	EXPECT_EQ(0, strncmp(line, "rec,pid,comm,status,pgd,p4d,pud,pmd,pte,bytes,", 46));
	while (fgets(line, sizeof(line), f))
		found |= !strncmp(line, want, strlen(want));
	EXPECT_EQ(0, pclose(f));
	EXPECT_TRUE(found) TH_LOG("no CSV row starting %s", want);
	free(out);
}

TEST_HARNESS_MAIN
