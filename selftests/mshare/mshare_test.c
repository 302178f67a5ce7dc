// SPDX-License-Identifier: GPL-2.0
/*
 * mshare against ground truth: data seen across processes, the PTE-table
 * PFNs ptwalk reads from each sharer's page tables, /proc/meminfo,
 * getrusage fault counts, SIGSEGV, and the v3 API's error codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kernel-page-flags.h>
#include <linux/userfaultfd.h>
#include <linux/msharefs.h>

#include "kselftest_harness.h"

/*
 * The harness gives each test 30 s; under QEMU TCG on the debug kernel a
 * multi-process test can take minutes. The suite's settings file still
 * bounds the whole program.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#include "mshare_util.h"
#include "ptwalk_lib.h"
#include "vm_util.h"

/*
 * The PFN of the @level ("pte", "pmd") table a process walks through for
 * @addr, read by ptwalk from its page tables; 0 if there is none.
 */
static unsigned long table_of(pid_t pid, unsigned long addr, const char *level)
{
	char q[128], want[32], *out, *line;
	unsigned long pfn = 0;

	snprintf(q, sizeof(q), "pid=%d view=path addr=0x%lx format=kv", pid, addr);
	snprintf(want, sizeof(want), "rec=path level=%s ", level);
	if (ptw_query(q, &out))
		return 0;
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, want, strlen(want)))
			pfn = kv_num(line, "table_pfn");
	free(out);
	return pfn;
}

static unsigned long pte_table_of(pid_t pid, unsigned long addr)
{
	return table_of(pid, addr, "pte");
}

/*
 * Started as a separate program (MSHARE_HELPER=path size): attach by
 * path, check the pattern the parent wrote, write our own, report.
 */
__attribute__((constructor)) static void helper_main(void)
{
	const char *path = getenv("MSHARE_HELPER");
	unsigned long size, i;
	char *p;
	int fd;

	if (!path)
		return;
	size = strtoul(getenv("MSHARE_SIZE"), NULL, 0);
	fd = open(path, O_RDWR);
	p = fd < 0 ? NULL : attach(fd, size, PROT_READ | PROT_WRITE);
	if (!p)
		_exit(2);
	for (i = 0; i < size; i += PG)
		if (p[i] != (char)(i / PG))
			_exit(3);
	for (i = 0; i < size; i += PG)
		p[i + 1] = 0x5a;
	_exit(0);
}

FIXTURE(mshare) {
	unsigned long align;
};

FIXTURE_SETUP(mshare)
{
	if (!ensure_mounted())
		SKIP(return, "msharefs not available (mshare module not loaded)");
	self->align = mshare_align();
	ASSERT_GT(self->align, 0UL);
}

FIXTURE_TEARDOWN(mshare)
{
}

TEST_F(mshare, v3_usage_flow)
{
	unsigned long size = 4 * self->align;
	struct stat st;
	char *p;
	int fd;

	EXPECT_EQ(2 * MB, self->align);
	fd = make_region("flow", size);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(size, (unsigned long)st.st_size);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0UL, (unsigned long)p % self->align);
	EXPECT_EQ(0, p[12345]);		/* new pages are zeroed */
	memset(p, 0x3c, size);
	EXPECT_EQ(0x3c, p[size - 1]);
	EXPECT_EQ(0, munmap(p, size));
	/* Contents survive detaching: attach again at a fixed address. */
	p = mmap((void *)(64UL << 30), size, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0x3c, p[size / 2]);
	munmap(p, size);
	close(fd);
	EXPECT_EQ(0, unlink(MNT "/flow"));
	EXPECT_EQ(-1, access(MNT "/flow", F_OK));
}

/*
 * An address hint, aligned or not, never makes mmap() fail, as with a
 * plain MAP_SHARED mapping of a memfd; the region still lands aligned.
 */
TEST_F(mshare, unaligned_hints_are_hints)
{
	static const unsigned long offs[] = { 0, 4096, MB, 2 * MB + 4096 };
	unsigned long size = 2 * self->align, base = 96UL << 30;
	int fd = make_region("hint", size), mfd = memfd_create("hint", 0);
	unsigned int i;
	char *p, *q;

	ASSERT_GE(fd, 0);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(0, ftruncate(mfd, size));
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		void *hint = (void *)(base + offs[i]);

		q = mmap(hint, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		ASSERT_NE(MAP_FAILED, q);
		munmap(q, size);
		p = mmap(hint, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("hint %p: %s", hint, strerror(errno));
		EXPECT_EQ(0UL, (unsigned long)p % self->align) TH_LOG("hint %p: %p", hint, p);
		p[0] = 1;
		munmap(p, size);
	}
	close(mfd);
	close(fd);
	EXPECT_EQ(0, unlink(MNT "/hint"));
}

TEST_F(mshare, directories_and_exclusive_create)
{
	int fd;

	rmdir(MNT "/dir");
	ASSERT_EQ(0, mkdir(MNT "/dir", 0700));
	fd = open(MNT "/dir/r", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(-1, open(MNT "/dir/r", O_RDWR | O_CREAT | O_EXCL, 0600));
	EXPECT_EQ(EEXIST, errno);
	close(fd);
	EXPECT_EQ(-1, rmdir(MNT "/dir"));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(0, unlink(MNT "/dir/r"));
	EXPECT_EQ(0, rmdir(MNT "/dir"));
}

/* Mode and ownership hold as on any filesystem; the root is sticky. */
TEST_F(mshare, file_mode_and_ownership_are_honoured)
{
	int fd = make_region("private", self->align), status;
	pid_t c;

	ASSERT_GE(fd, 0);
	c = fork();
	if (c == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		if (open(MNT "/private", O_RDONLY) >= 0 || errno != EACCES)
			_exit(3);
		if (unlink(MNT "/private") == 0 || errno != EPERM)
			_exit(4);
		_exit(0);
	}
	waitpid(c, &status, 0);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, access(MNT "/private", F_OK));
	close(fd);
	unlink(MNT "/private");
}

TEST_F(mshare, processes_share_data_and_page_tables)
{
	unsigned long size = 8 * self->align, i, pfn0, pfn1;
	int fd = make_region("share", size), sync[2];
	char *p, c;
	pid_t child;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	for (i = 0; i < size; i += PG)
		p[i] = (char)(i / PG);
	ASSERT_EQ(0, pipe(sync));
	child = fork();
	if (child == 0) {
		/* A different address than the parent's on purpose. */
		char *q = mmap((void *)(128UL << 30), size, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, fd, 0);

		unsigned long j;

		if (q == MAP_FAILED || q[3 * PG] != 3)
			_exit(1);
		for (j = 0; j < size; j += 2 * MB)	/* link every slot */
			if (q[j] != (char)(j / PG))
				_exit(1);
		q[5 * PG + 7] = 42;
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	ASSERT_EQ(1, read(sync[0], &c, 1));
	EXPECT_EQ(42, p[5 * PG + 7]);
	/* Every 2M slot: the same PTE table in both processes. */
	for (i = 0; i < size; i += self->align) {
		pfn0 = pte_table_of(getpid(), (unsigned long)p + i);
		pfn1 = pte_table_of(child, (128UL << 30) + i);
		if (i == 0)
			EXPECT_NE(0UL, pfn0) TH_LOG("ptwalk sees no PTE table");
		EXPECT_EQ(pfn0, pfn1) TH_LOG("slot %lu", i / self->align);
	}
	/* And the leaf PFN matches pagemap in both. */
	EXPECT_EQ(PM_PFN(pagemap_of(getpid(), (unsigned long)p + 5 * PG)),
		  PM_PFN(pagemap_of(child, (128UL << 30) + 5 * PG)));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	drop_region(p, size, fd, "share");
}

TEST_F(mshare, memfd_baseline_does_not_share_tables)
{
	int fd = memfd_create("base", 0), sync[2];
	unsigned long size = 2 * MB;
	char *p, c;
	pid_t child;

	ASSERT_EQ(0, ftruncate(fd, size));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[0] = 1;
	ASSERT_EQ(0, pipe(sync));
	child = fork();
	if (child == 0) {
		touch_read(p);
		if (write(sync[1], "x", 1) != 1)
			_exit(1);
		pause();
	}
	ASSERT_EQ(1, read(sync[0], &c, 1));
	/* The same check that passes for mshare fails for plain sharing. */
	EXPECT_NE(pte_table_of(getpid(), (unsigned long)p),
		  pte_table_of(child, (unsigned long)p));
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

TEST_F(mshare, independent_program_attaches_by_path)
{
	unsigned long size = 2 * self->align, i;
	int fd = make_region("byname", size), status;
	char sz[32];
	char *p;
	pid_t c;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	for (i = 0; i < size; i += PG)
		p[i] = (char)(i / PG);
	snprintf(sz, sizeof(sz), "%lu", size);
	c = fork();
	if (c == 0) {
		setenv("MSHARE_HELPER", MNT "/byname", 1);
		setenv("MSHARE_SIZE", sz, 1);
		execl("/proc/self/exe", "mshare_helper", NULL);
		_exit(5);
	}
	waitpid(c, &status, 0);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	for (i = 0; i < size; i += PG)
		ASSERT_EQ(0x5a, p[i + 1]);
	drop_region(p, size, fd, "byname");
}

/*
 * A second sharer of a populated region: one fault per PMD table of its
 * own that the mapping spans (link-around: 1 GiB each, so at most two for
 * 32 MiB), not one per 2 MiB or per page.
 */
TEST_F(mshare, second_sharer_faults_once_per_table)
{
	unsigned long size = 32 * MB;
	int fd = make_region("faults", size), sync[2];
	long mshare_faults, memfd_faults;
	char *p;
	int mfd = memfd_create("faults", 0);
	pid_t c;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	memset(p, 1, size);
	ASSERT_EQ(0, ftruncate(mfd, size));
	ASSERT_EQ(0, pipe(sync));
	c = fork();
	if (c == 0) {
		char *q, *m;
		long f[2];

		q = mmap(NULL, size, PROT_READ, MAP_SHARED, mfd, 0);
		f[0] = minor_faults();
		m = attach(fd, size, PROT_READ | PROT_WRITE);
		touch_pages(m, size);
		f[0] = minor_faults() - f[0];
		f[1] = minor_faults();
		touch_pages(q, size);
		f[1] = minor_faults() - f[1];
		if (write(sync[1], f, sizeof(f)) != sizeof(f))
			_exit(1);
		_exit(0);
	}
	{
		long f[2];

		ASSERT_EQ(sizeof(f), read(sync[0], f, sizeof(f)));
		mshare_faults = f[0];
		memfd_faults = f[1];
	}
	waitpid(c, NULL, 0);
	TH_LOG("32 MiB: mshare %ld minor faults, memfd %ld", mshare_faults,
	       memfd_faults);
	EXPECT_LE(mshare_faults, 2 + 4);
	EXPECT_GT(memfd_faults, 4 * mshare_faults);
	drop_region(p, size, fd, "faults");
}

/* PageTables growth while @n children map @fd and touch it (-1: idle). */
static long pagetables_with_sharers(int fd, unsigned long size, int n)
{
	int go[2], ready[2], i;
	long before, after;
	pid_t kids[64];
	char c;

	if (pipe(go) || pipe(ready))
		return -1;
	before = meminfo_kb("PageTables");
	for (i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char *q = mmap(NULL, size, PROT_READ | PROT_WRITE,
				       MAP_SHARED, fd, 0);

			if (q != MAP_FAILED)
				touch_pages(q, size);
			if (write(ready[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
				_exit(1);
			_exit(0);
		}
	}
	for (i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			return -1;
	after = meminfo_kb("PageTables");
	for (i = 0; i < n; i++)
		if (write(go[1], "x", 1) != 1)
			return -1;
	for (i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	close(go[0]); close(go[1]); close(ready[0]); close(ready[1]);
	return after - before;
}

TEST_F(mshare, page_tables_do_not_grow_with_sharers)
{
	unsigned long size = 256 * MB;
	int fd = make_region("pt", size), mfd = memfd_create("pt", 0);
	long ms, md, idle;
	char *p;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	memset(p, 1, size);		/* tables exist before sharers come */
	ASSERT_EQ(0, ftruncate(mfd, size));
	/*
	 * PageTables is global and moves by some 80 kB either way (an exited
	 * child's PGD goes when its lazy TLB users let go): take off what
	 * eight children cost that map nothing, and make the effect large.
	 */
	idle = pagetables_with_sharers(-1, size, 8);
	ms = pagetables_with_sharers(fd, size, 8);
	md = pagetables_with_sharers(mfd, size, 8);
	TH_LOG("8 sharers of 256 MiB: PageTables +%ld kB (mshare), +%ld kB (memfd), idle +%ld kB",
	       ms, md, idle);
	/* memfd: 8 x 128 PTE tables = 4 MiB; mshare adds none of those. */
	EXPECT_GE(md - idle, 8 * 128 * 4 * 3 / 4);
	EXPECT_LT((ms - idle) * 8, md - idle);
	drop_region(p, size, fd, "pt");
}

#define GB (1UL << 30)
#define PMD_SHARING "/sys/module/mshare/parameters/pmd_sharing"
#define NO_PUD_LINKS "no PMD-table sharing on this kernel: userfaultfd registers any VMA (6.7+ before the VM_SPECIAL test; mshare.rst)"

/*
 * Set mshare's pmd_sharing parameter; returns the previous value or -1
 * and errno (EOPNOTSUPP: this kernel has no PUD links, mshare.rst).
 */
static int set_pmd_sharing(int on)
{
	char old = 0;
	int fd = open(PMD_SHARING, O_RDWR), err;

	if (fd < 0 || read(fd, &old, 1) != 1 ||
	    pwrite(fd, on ? "Y" : "N", 1, 0) != 1) {
		err = errno;
		if (fd >= 0)
			close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	return old == 'Y' || old == '1';
}

/* This process's page-table bytes in kB (VmPTE: mm->pgtables_bytes). */
static long vmpte_kb(void)
{
	return proc_kb("VmPTE", NULL);
}

/* What a second sharer of a populated region pays and links to. */
struct sharer_cost {
	long faults, vmpte_kb;
	unsigned long pmd_table, pte_table;
	int data_ok;
};

/*
 * In a child: attach @fd (at @want if set), read @touch bytes, report.
 * With @no_thp the child first opts out of huge pages (PR_SET_THP_DISABLE).
 */
static struct sharer_cost second_sharer(int fd, unsigned long size,
					unsigned long touch, char *want,
					bool no_thp)
{
	struct sharer_cost c = { .faults = -1 };
	int sync[2];
	pid_t pid;

	if (pipe(sync))
		return c;
	pid = fork();
	if (pid == 0) {
		unsigned long i;
		long kb, f;
		char *m;

		if (no_thp && prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0))
			_exit(1);
		m = mmap(want, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | (want ? MAP_FIXED : 0), fd, 0);
		kb = vmpte_kb();
		f = minor_faults();
		c.data_ok = m != MAP_FAILED;
		for (i = 0; c.data_ok && i < touch; i += PG)
			c.data_ok = m[i] == (char)(i / PG);
		c.faults = minor_faults() - f;
		c.vmpte_kb = vmpte_kb() - kb;
		if (c.data_ok) {
			c.pmd_table = table_of(getpid(), (unsigned long)m, "pmd");
			c.pte_table = table_of(getpid(), (unsigned long)m, "pte");
		}
		if (write(sync[1], &c, sizeof(c)) != sizeof(c))
			_exit(1);
		_exit(0);
	}
	if (read(sync[0], &c, sizeof(c)) != sizeof(c))
		c.faults = -1;
	waitpid(pid, NULL, 0);
	close(sync[0]);
	close(sync[1]);
	return c;
}

/* A 1 GiB region with its first @touch bytes written with a pattern. */
static char *populated_gib(int fd, unsigned long touch)
{
	unsigned long i;
	char *p = attach(fd, GB, PROT_READ | PROT_WRITE);

	for (i = 0; p && i < touch; i += PG)
		p[i] = (char)(i / PG);
	return p;
}

TEST_F(mshare, pmd_tables_are_shared_for_aligned_gigabytes)
{
	unsigned long touch = 16 * MB;
	struct sharer_cost pud, pte, unaligned, no_thp;
	struct mshare_stats st;
	int fd, fd_pte, old;
	char *p, *q, *hole, *at;

	old = set_pmd_sharing(1);
	if (old < 0 && errno == EOPNOTSUPP)
		SKIP(return, NO_PUD_LINKS);
	ASSERT_GE(old, 0);
	fd = make_region("gib", GB);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(1, set_pmd_sharing(0));
	fd_pte = make_region("gib-pte", GB);	/* PTE tables only */
	ASSERT_GE(fd_pte, 0);
	set_pmd_sharing(old);

	p = populated_gib(fd, touch);
	q = populated_gib(fd_pte, touch);
	ASSERT_NE(NULL, p);
	ASSERT_NE(NULL, q);
	/* The kernel-chosen address is 1 GiB aligned for the first only. */
	EXPECT_EQ(0UL, (unsigned long)p % GB);

	pud = second_sharer(fd, GB, touch, NULL, false);
	pte = second_sharer(fd_pte, GB, touch, NULL, false);
	/* The core mm offers no PUD fault to a process without THP. */
	no_thp = second_sharer(fd, GB, touch, NULL, true);
	/* 2 MiB aligned, not 1 GiB: falls back to shared PTE tables. */
	hole = mmap(NULL, 3 * GB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	at = (char *)(((unsigned long)hole + GB - 1) / GB * GB + 2 * MB);
	unaligned = second_sharer(fd, GB, touch, at, false);
	munmap(hole, 3 * GB);

	TH_LOG("second sharer reading 16 MiB of 1 GiB: faults, VmPTE kB:");
	TH_LOG("  PMD tables shared %ld, +%ld; PTE tables shared %ld, +%ld",
	       pud.faults, pud.vmpte_kb, pte.faults, pte.vmpte_kb);
	TH_LOG("  unaligned attach %ld, +%ld; THP disabled %ld, +%ld",
	       unaligned.faults, unaligned.vmpte_kb, no_thp.faults,
	       no_thp.vmpte_kb);
	ASSERT_TRUE(pud.data_ok);
	ASSERT_TRUE(no_thp.data_ok);
	ASSERT_TRUE(pte.data_ok);
	ASSERT_TRUE(unaligned.data_ok);
	/* Same PMD table as the first sharer, so the same PTE tables. */
	EXPECT_EQ(table_of(getpid(), (unsigned long)p, "pmd"), pud.pmd_table);
	EXPECT_EQ(pte_table_of(getpid(), (unsigned long)p), pud.pte_table);
	/*
	 * One fault links the whole GiB; PTE sharing links every host PTE
	 * table of the sharer's PMD table in one fault too (link-around).
	 */
	EXPECT_LE(pud.faults, 2);
	EXPECT_LE(pte.faults, 2);
	/* No table of its own: a PTE-level sharer needs at least a PMD page. */
	EXPECT_GE(pte.vmpte_kb, 4);
	EXPECT_LE(pud.vmpte_kb + 4, pte.vmpte_kb);
	/* Own PMD tables where the GiB is not aligned, shared PTE tables. */
	EXPECT_NE(pud.pmd_table, unaligned.pmd_table);
	EXPECT_EQ(pud.pte_table, unaligned.pte_table);
	EXPECT_NE(pud.pmd_table, no_thp.pmd_table);
	EXPECT_EQ(pud.pte_table, no_thp.pte_table);
	EXPECT_LE(no_thp.faults, 2);
	EXPECT_NE(table_of(getpid(), (unsigned long)q, "pmd"), pte.pmd_table);
	EXPECT_EQ(pte_table_of(getpid(), (unsigned long)q), pte.pte_table);

	/* The children are gone: only this process links the PMD table. */
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_GET_STATS, &st));
	EXPECT_EQ(1ULL, st.pmd_tables);
	EXPECT_EQ(1ULL, st.pud_links);
	EXPECT_EQ(touch / (2 * MB), st.pte_tables);
	EXPECT_EQ(0ULL, st.pmd_links);
	/* MADV_DONTNEED unlinks the PUD, loses nothing, and relinks. */
	ASSERT_EQ(0, madvise(p + PG, PG, MADV_DONTNEED));
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_GET_STATS, &st));
	EXPECT_EQ(0ULL, st.pud_links);
	EXPECT_EQ((char)1, p[PG]);
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_GET_STATS, &st));
	EXPECT_EQ(1ULL, st.pud_links);
	/* A forked child inherits the mapping and links the same table. */
	if (fork() == 0)
		_exit(p[touch - PG] == (char)(touch / PG - 1) &&
		      table_of(getpid(), (unsigned long)p, "pmd") ==
		      table_of(getppid(), (unsigned long)p, "pmd") ? 0 : 1);
	{
		int status;

		wait(&status);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	drop_region(p, GB, fd, "gib");
	drop_region(q, GB, fd_pte, "gib-pte");
}

/*
 * Sizes up to the documented 1 TiB are taken, by ftruncate() and by
 * fallocate() (msharefs once kept the VFS default maximum file size, so
 * EFBIG from 2 GiB); one step more is EFBIG, as at any filesystem's
 * maximum. A 4 GiB region over a 4 GiB memfd holds a byte in each GiB
 * that a forked child reads through the parent's PMD tables and pread()
 * reads from the memfd.
 */
TEST_F(mshare, sizes_reach_the_documented_maximum)
{
	static const unsigned long sizes[] = { 2 * GB, 2 * GB + 2 * MB, 4 * GB,
					       1UL << 40 };
	unsigned long size = 4 * GB, i, g;
	int fd, mfd, old, status;
	struct mshare_create c = { 0, size, 0, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED, 0 };
	struct stat st;
	char *p, b;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		fd = sized_region("big", sizes[i], i & 1);
		ASSERT_LE(0, fd) TH_LOG("size %#lx: %s", sizes[i], strerror(-fd));
		ASSERT_EQ(0, fstat(fd, &st));
		EXPECT_EQ(sizes[i], (unsigned long)st.st_size);
		close(fd);
	}
	EXPECT_EQ(-EFBIG, sized_region("big", (1UL << 40) + 2 * MB, false));
	EXPECT_EQ(-EFBIG, sized_region("big", (1UL << 40) + 2 * MB, true));

	old = set_pmd_sharing(1);
	if (old < 0 && errno == EOPNOTSUPP)
		SKIP(return, NO_PUD_LINKS);
	ASSERT_GE(old, 0);
	fd = sized_region("big", size, false);
	set_pmd_sharing(old);
	ASSERT_LE(0, fd);
	mfd = memfd_create("big", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, size));
	c.fd = mfd;
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c));
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0UL, (unsigned long)p % GB);
	for (g = 0; g < 4; g++)
		p[g * GB + g * PG] = (char)('a' + g);
	if (fork() == 0) {
		for (g = 0; g < 4; g++) {
			unsigned long at = (unsigned long)p + g * GB;

			if (p[g * GB + g * PG] != (char)('a' + g) ||
			    table_of(getpid(), at, "pmd") != table_of(getppid(), at, "pmd"))
				_exit(1 + g);
		}
		_exit(0);
	}
	ASSERT_LT(0, wait(&status));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child status %#x", status);
	for (g = 0; g < 4; g++) {
		ASSERT_EQ(1, pread(mfd, &b, 1, g * GB + g * PG));
		EXPECT_EQ((char)('a' + g), b);
	}
	drop_region(p, size, fd, "big");
	close(mfd);
}

TEST_F(mshare, protect_read_only_reaches_every_sharer)
{
	unsigned long size = 2 * self->align;
	struct mshare_protect ro = { 0, size, PROT_READ, 0 };
	struct mshare_protect rw = { 0, size, PROT_READ | PROT_WRITE, 0 };
	int fd = make_region("prot", size), up[2], down[2], status;
	char *p, c;
	pid_t child;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	memset(p, 7, size);
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	child = fork();
	if (child == 0) {
		char *q = attach(fd, size, PROT_READ | PROT_WRITE);

		q[0] = 7;				/* mapped and linked */
		q[PG] = 7;
		if (write(up[1], "x", 1) != 1 || read(down[0], &c, 1) != 1)
			_exit(1);
		/* After PROTECT(READ): the PTE it wrote through is read-only. */
		touch_write(q + PG, 1);
		_exit(0);
	}
	ASSERT_EQ(1, read(up[0], &c, 1));
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_PROTECT, &ro));
	ASSERT_EQ(1, write(down[1], "x", 1));
	waitpid(child, &status, 0);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	EXPECT_TRUE(segv_on_write(p + 3 * PG));
	EXPECT_EQ(7, p[5 * PG]);		/* reads still work */
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_PROTECT, &rw));
	EXPECT_FALSE(segv_on_write(p + 3 * PG));
	p[0] = 9;
	EXPECT_EQ(9, p[0]);
	drop_region(p, size, fd, "prot");
}

/*
 * A writer spinning on one CPU has the page's writable translation in its
 * TLB while PROTECT runs on the other: once the ioctl returns, not one
 * more store may land, so the value read then is the last one.
 */
TEST_F(mshare, protect_stops_a_writer_on_another_cpu_at_once)
{
	unsigned long size = self->align;
	struct mshare_protect ro = { 0, size, PROT_READ, 0 };
	unsigned long *word, *progress, last, n = 0;
	int fd = make_region("spin", size), status, i, cpu[2];
	pid_t writer;
	char *p;

	if (!two_cpus(cpu))
		SKIP(return, "needs two CPUs it may run on");
	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	progress = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, progress);
	word = (unsigned long *)(p + PG);
	*progress = 0;
	writer = fork();
	if (!writer) {
		pin_to_cpu(cpu[1]);
		for (;;) {	/* dies of SIGSEGV at the store */
			__atomic_store_n(word, ++n, __ATOMIC_RELAXED);
			__atomic_store_n(progress, n, __ATOMIC_RELAXED);
		}
	}
	pin_to_cpu(cpu[0]);
	while (__atomic_load_n(progress, __ATOMIC_RELAXED) < 100000)
		;
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_PROTECT, &ro));
	last = __atomic_load_n(word, __ATOMIC_RELAXED);
	usleep(200000);
	EXPECT_EQ(last, __atomic_load_n(word, __ATOMIC_RELAXED))
		TH_LOG("stores landed after PROTECT returned");
	for (i = 0; i < 100 && waitpid(writer, &status, WNOHANG) != writer; i++)
		usleep(50000);
	if (i == 100) {		/* still storing: stop it, fail below */
		kill(writer, SIGKILL);
		waitpid(writer, &status, 0);
	}
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	pin_to_cpu(-1);
	munmap(progress, PG);
	drop_region(p, size, fd, "spin");
}

TEST_F(mshare, maps_smaps_and_mlock_see_the_region)
{
	unsigned long size = 2 * self->align, touched = 5, i;
	int fd = make_region("smaps", size);
	char line[512], want[64], *p;
	long locked;
	bool found = false;
	FILE *maps;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	for (i = 0; i < touched; i++)
		p[i * self->align / touched / PG * PG] = (char)i;
	/* maps names the msharefs file; smaps counts exactly what is mapped. */
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	maps = fopen("/proc/self/maps", "r");
	ASSERT_NE(NULL, maps);
	while (!found && fgets(line, sizeof(line), maps))
		found = !strncmp(line, want, strlen(want)) &&
			strstr(line, " " MNT "/smaps\n");
	fclose(maps);
	EXPECT_TRUE(found);
	EXPECT_EQ((long)(touched * PG / 1024), proc_kb("Rss", p));
	EXPECT_EQ((long)(size / 1024), proc_kb("Size", p));
	/*
	 * mlock() succeeds and faults the range in as anywhere, but locks
	 * nothing: a VM_DONTEXPAND mapping is never VM_LOCKED.
	 */
	locked = proc_kb("VmLck", NULL);
	ASSERT_EQ(0, mlock(p, size));
	EXPECT_EQ(locked, proc_kb("VmLck", NULL));
	EXPECT_EQ(0L, proc_kb("Locked", p));
	EXPECT_EQ((long)(size / 1024), proc_kb("Rss", p));
	for (i = 0; i < touched; i++)
		EXPECT_EQ((char)i, p[i * self->align / touched / PG * PG]);
	EXPECT_EQ(0, munlock(p, size));
	EXPECT_EQ(0, mlockall(MCL_CURRENT));
	EXPECT_EQ(0L, proc_kb("Locked", p));
	EXPECT_EQ(0, munlockall());
	drop_region(p, size, fd, "smaps");
}

TEST_F(mshare, unlink_while_mapped_keeps_the_region)
{
	unsigned long size = self->align;
	int fd = make_region("gone", size);
	char *p;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	p[100] = 5;
	close(fd);
	ASSERT_EQ(0, unlink(MNT "/gone"));
	EXPECT_EQ(5, p[100]);
	p[200] = 6;
	EXPECT_EQ(6, p[200]);
	EXPECT_EQ(0, munmap(p, size));
}

TEST_F(mshare, fork_child_inherits_and_relinks)
{
	unsigned long size = 2 * self->align;
	int fd = make_region("fork", size), status;
	char *p;
	pid_t c;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	p[0] = 1;
	c = fork();
	if (c == 0) {
		if (p[0] != 1)
			_exit(1);
		p[size - 1] = 2;
		_exit(pte_table_of(getpid(), (unsigned long)p) ==
		      pte_table_of(getppid(), (unsigned long)p) ? 0 : 3);
	}
	waitpid(c, &status, 0);
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(2, p[size - 1]);
	drop_region(p, size, fd, "fork");
}

TEST_F(mshare, madvise_dontneed_detaches_without_losing_data)
{
	unsigned long size = 2 * self->align;
	int fd = make_region("dontneed", size);
	char *p;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	memset(p, 0x11, size);
	EXPECT_EQ(0, madvise(p, size, MADV_DONTNEED));
	EXPECT_EQ(0x11, p[size - 10]);
	drop_region(p, size, fd, "dontneed");
}

TEST_F(mshare, vma_operations_are_refused)
{
	static const int vma_advice[] = { MADV_RANDOM, MADV_SEQUENTIAL, MADV_NORMAL,
					  MADV_DONTFORK, MADV_DOFORK,
					  MADV_HUGEPAGE, MADV_NOHUGEPAGE };
	unsigned long size = 2 * self->align;
	int fd = make_region("vmaops", size), uffd, ret;
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	char buf[8], *p, *q;
	unsigned int i;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	reg.range.start = (unsigned long)p;
	reg.range.len = size;
	EXPECT_EQ(-1, munmap(p, PG));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, mprotect(p, size, PROT_READ));
	EXPECT_EQ(EINVAL, errno);
	q = mremap(p, size, size, MREMAP_MAYMOVE | MREMAP_FIXED,
		   (void *)(256UL << 30));
	EXPECT_EQ(MAP_FAILED, q);
	EXPECT_EQ(MAP_FAILED, mremap(p, size, size / 2, 0));
	p[0] = 3;
	EXPECT_EQ(3, p[0]);			/* still intact */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size / 2, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(MAP_FAILED, mmap((void *)((64UL << 30) + PG), size,
				   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0));
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(-1, write(fd, buf, sizeof(buf)));
	/*
	 * Advice that sets VMA flags applies to the whole mapping, never to a
	 * part: that would split the VMA. The VMA is VM_DONTDUMP (a core dump
	 * leaves the region out), so MADV_DODUMP is refused; userfaultfd
	 * handles only anonymous, shmem and hugetlb VMAs.
	 */
	for (i = 0; i < ARRAY_SIZE(vma_advice); i++) {
		EXPECT_EQ(-1, madvise(p, size / 2, vma_advice[i]));
		EXPECT_EQ(EINVAL, errno);
		ret = madvise(p, size, vma_advice[i]);
		/* After 6.12 MADV_DOFORK is refused on VM_SPECIAL VMAs (mshare.rst). */
		if (ret && errno == EINVAL && vma_advice[i] == MADV_DOFORK &&
		    kernel_at_least(6, 13))
			continue;
		EXPECT_EQ(0, ret)
			TH_LOG("advice %d: %s", vma_advice[i], strerror(errno));
	}
	EXPECT_EQ(-1, madvise(p, size, MADV_DODUMP));
	EXPECT_EQ(EINVAL, errno);
	uffd = syscall(__NR_userfaultfd, O_CLOEXEC);
	ASSERT_LE(0, uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	EXPECT_EQ(-1, ioctl(uffd, UFFDIO_REGISTER, &reg));
	EXPECT_EQ(EINVAL, errno);
	close(uffd);
	EXPECT_EQ(3, p[0]);
	EXPECT_EQ(0, munmap(p, size));
	close(fd);
	unlink(MNT "/vmaops");
}

static int cflags_err(int fd, __u64 off, __u64 size, __u32 prot, __u32 flags,
		      __u32 objfd)
{
	struct mshare_create c = { off, size, 0, prot, flags, objfd };

	return ioctl(fd, MSHAREFS_CREATE_MAPPING, &c) ? errno : 0;
}

TEST_F(mshare, bad_input_is_refused_and_changes_nothing)
{
	unsigned long size = 2 * self->align;
	const __u32 rw = PROT_READ | PROT_WRITE, anon = MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS;
	struct mshare_create anon_at_100 = { 0, PG, 100, rw, anon, -1 };
	struct mshare_unmap um = { PG, ~0ULL };
	struct mshare_protect pr = { 0, PG, PROT_READ, 1 };
	struct mshare_stats st;
	int fd = make_region("bad", size), ro, sock, dir, reg;
	char *p;

	ASSERT_GE(fd, 0);
	EXPECT_EQ(EINVAL, cflags_err(fd, 1, PG, rw, anon, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, 0, PG + 1, rw, anon, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, 0, 0, rw, anon, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, size, PG, rw, anon, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, -PG, 2 * PG, rw, anon, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, 0, PG, 0x80, anon, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, 0, PG, rw, MAP_SHARED | MAP_ANONYMOUS, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, 0, PG, rw, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, 0, PG, rw, anon | MAP_HUGETLB, -1));
	EXPECT_EQ(EINVAL, cflags_err(fd, 0, PG, rw, anon, 3));
	/* An anonymous object's offset: ignored, but page aligned, as mmap(). */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, PG, rw, MAP_SHARED | MAP_ANONYMOUS, -1, 100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(EINVAL, ioctl(fd, MSHAREFS_CREATE_MAPPING, &anon_at_100) ? errno : 0);
	EXPECT_EQ(EBADF, cflags_err(fd, 0, PG, rw, MAP_SHARED | MAP_FIXED, 9999));
	EXPECT_EQ(EINVAL, cflags_err(fd, 0, PG, rw, MAP_SHARED | MAP_FIXED, fd));
	/* Objects mmap() refuses are refused with its errno (kernel_paths_test). */
	sock = socket(AF_UNIX, SOCK_STREAM, 0);
	EXPECT_EQ(ENODEV, cflags_err(fd, 0, PG, rw, MAP_SHARED | MAP_FIXED, sock));
	dir = open("/", O_RDONLY | O_DIRECTORY);
	EXPECT_EQ(EACCES, cflags_err(fd, 0, PG, rw, MAP_SHARED | MAP_FIXED, dir));
	EXPECT_EQ(ENODEV, cflags_err(fd, 0, PG, PROT_READ, MAP_SHARED | MAP_FIXED, dir));
	reg = ramfs_file();
	ASSERT_GE(reg, 0);
	EXPECT_EQ(EACCES, cflags_err(fd, 0, PG, rw, MAP_SHARED | MAP_FIXED, reg));
	EXPECT_EQ(EINVAL, ioctl(fd, MSHAREFS_UNMAP, &um) ? errno : 0);
	EXPECT_EQ(EINVAL, ioctl(fd, MSHAREFS_PROTECT, &pr) ? errno : 0);
	EXPECT_EQ(ENOTTY, ioctl(fd, _IO('x', 99)) ? errno : 0);
	EXPECT_EQ(EFAULT, ioctl(fd, MSHAREFS_CREATE_MAPPING, (void *)16) ? errno : 0);
	EXPECT_EQ(-1, ftruncate(fd, 3 * size));		/* sized once */
	EXPECT_EQ(EINVAL, errno);
	ro = open(MNT "/bad", O_RDONLY);
	ASSERT_GE(ro, 0);
	EXPECT_EQ(EBADF, cflags_err(ro, 0, PG, rw, anon, -1));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	EXPECT_EQ(EACCES, errno);
	/* A read-only attach would see the writable shared PTEs: refused. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ, MAP_SHARED, ro, 0));
	EXPECT_EQ(EACCES, errno);
	/* Nothing above changed the region. */
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_GET_STATS, &st));
	EXPECT_EQ(size, st.size);
	EXPECT_EQ(1ULL, st.mappings);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	p[size - 1] = 1;
	munmap(p, size);
	close(ro);
	close(sock);
	close(dir);
	close(reg);
	close(fd);
	unlink(MNT "/bad");
	fd = open(MNT "/unaligned", O_RDWR | O_CREAT | O_EXCL, 0600);
	EXPECT_EQ(-1, ftruncate(fd, self->align + PG));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0));
	close(fd);
	unlink(MNT "/unaligned");
}

/*
 * Random CREATE_MAPPING / UNMAP / PROTECT calls, valid and not, against a
 * model of every page of the region (mapped?, prot, which object page,
 * content). After each call the errno must be the model's, and pages near
 * the call and at random must read, write or fault as the model says:
 * probed with process_vm_readv()/writev(), which get EFAULT where a user
 * access would get SIGSEGV. Seed: MSHARE_FUZZ_SEED, else a fixed one.
 */
#define FUZZ_STEPS	1500
#define FUZZ_MEMFD	256		/* pages of the memfd object */

struct fuzz {
	unsigned long n, seed;
	char *p;
	int fd, mfd;
	int rofd;			/* the memfd again, read-only */
	bool *mapped, *read_only;	/* read_only: mapped from rofd */
	unsigned char *prot;
	int *backing;			/* memfd page, or -1: anonymous */
	char *val, memval[FUZZ_MEMFD];
	int bad;
	unsigned long outcomes[5];	/* 0, EINVAL, EACCES, ENOMEM, other */
	unsigned long faulted, accessed;	/* pages probed */
};

static unsigned long fuzz_rand(struct fuzz *f)
{
	f->seed ^= f->seed << 13;
	f->seed ^= f->seed >> 7;
	f->seed ^= f->seed << 17;
	return f->seed;
}

static char *model_val(struct fuzz *f, unsigned long i)
{
	return f->backing[i] < 0 ? &f->val[i] : &f->memval[f->backing[i]];
}

static int vm_rw(char *addr, char *byte, bool write)
{
	struct iovec local = { byte, 1 }, remote = { addr, 1 };
	ssize_t n = write ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0) :
			    process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	return n == 1 ? 0 : errno;
}

/* Does page @i read and write as the model says? */
static void fuzz_check_page(struct __test_metadata *_metadata, struct fuzz *f,
			    unsigned long i, unsigned long step)
{
	bool can_read = f->mapped[i] && (f->prot[i] & PROT_READ);
	bool can_write = f->mapped[i] && (f->prot[i] & PROT_WRITE);
	char want = *model_val(f, i), got = 0;
	int rerr = vm_rw(f->p + i * PG, &got, false), werr;

	werr = vm_rw(f->p + i * PG, &want, true);	/* writes what is there */
	if (can_read)
		f->accessed++;
	else
		f->faulted++;
	if (rerr == (can_read ? 0 : EFAULT) && (!can_read || got == want) &&
	    werr == (can_write ? 0 : EFAULT))
		return;
	if (f->bad++ < 5)
		TH_LOG("step %lu page %lu: read %d (%d want %d) write %d, model mapped %d prot %d",
		       step, i, rerr, got, want, werr, f->mapped[i], f->prot[i]);
}

enum fuzz_range_kind {
	BAD_OFFSET, BAD_SIZE_UNALIGNED, BAD_SIZE_ZERO, BAD_PAST_END, BAD_OVERFLOW,
	RANGE_VALID,
};

/* A random range: valid, or (one time in three) one the ioctls refuse. */
static enum fuzz_range_kind fuzz_range(struct fuzz *f, __u64 *off, __u64 *size)
{
	unsigned int kind = fuzz_rand(f) % 15;	/* 0..4 bad, else valid */
	unsigned long s = fuzz_rand(f) % f->n, len;

	len = 1 + fuzz_rand(f) % (f->n - s < 64 ? f->n - s : 64);
	if (fuzz_rand(f) % 8 == 0) {
		s = 0;
		len = f->n;
	}
	*off = s * PG;
	*size = len * PG;
	switch (kind) {
	case BAD_OFFSET:
		*off += 8;
		return kind;
	case BAD_SIZE_UNALIGNED:
		*size -= 8;
		return kind;
	case BAD_SIZE_ZERO:
		*size = 0;
		return kind;
	case BAD_PAST_END:
		*size = (f->n - s + 1) * PG;
		return kind;
	case BAD_OVERFLOW:
		*off = -PG;
		*size = 2 * PG;
		return kind;
	}
	return RANGE_VALID;
}

/*
 * PROTECT(@prot) of [s, e) is refused as mprotect() is, at the first page
 * in address order that refuses it: a hole (ENOMEM), or a read-only
 * object's page asked for write (EACCES).
 */
static int fuzz_first_refusal(struct fuzz *f, unsigned long s, unsigned long e,
			      __u32 prot)
{
	for (; s < e; s++) {
		if (!f->mapped[s])
			return -ENOMEM;
		if (f->read_only[s] && (prot & PROT_WRITE))
			return -EACCES;
	}
	return 0;
}

/* One random call; returns the first page of its range. */
static unsigned long fuzz_step(struct __test_metadata *_metadata, struct fuzz *f,
			       unsigned long step)
{
	static const __u32 prots[] = { PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE,
				       PROT_READ | PROT_EXEC, 0x80 };
	unsigned long op = fuzz_rand(f) % 8, s, e, i, k0 = 0;
	__u32 prot = prots[fuzz_rand(f) % 5];
	enum fuzz_range_kind kind;
	int want = 0, got;
	__u64 off, size;
	bool valid;

	kind = fuzz_range(f, &off, &size);
	valid = kind == RANGE_VALID;
	s = (off / PG) % f->n;
	e = valid ? s + size / PG : s;
	if (op >= 6) {			/* stores where the model allows them */
		for (i = 0; i < 8; i++) {
			unsigned long j = fuzz_rand(f) % f->n;

			if (f->mapped[j] && (f->prot[j] & PROT_WRITE)) {
				*model_val(f, j) = (char)fuzz_rand(f);
				f->p[j * PG] = *model_val(f, j);
			}
		}
		return s;
	}
	if (op <= 2) {			/* CREATE_MAPPING: anonymous, or the memfd */
		struct mshare_create c = { off, size, 0, prot, MAP_SHARED | MAP_FIXED, -1 };

		if (op == 2 && size / PG <= FUZZ_MEMFD) {
			k0 = fuzz_rand(f) % (FUZZ_MEMFD - size / PG + 1);
			c.offset = k0 * PG;
			c.fd = fuzz_rand(f) % 2 ? f->mfd : f->rofd;
		} else {
			c.flags |= MAP_ANONYMOUS;
		}
		/* In the order the module checks: arguments, range, sharers, mmap(). */
		if (prot == 0x80 || !valid)
			want = EINVAL;
		else if (prot & PROT_EXEC)
			want = EACCES;	/* the sharer attached without it */
		else if (c.fd == (__u32)f->rofd && (prot & PROT_WRITE))
			want = EACCES;
		got = ioctl(f->fd, MSHAREFS_CREATE_MAPPING, &c) ? errno : 0;
		for (i = s; !want && i < e; i++) {
			f->mapped[i] = true;
			f->prot[i] = prot;
			f->backing[i] = c.flags & MAP_ANONYMOUS ? -1 : (int)(k0 + i - s);
			f->read_only[i] = c.fd == (__u32)f->rofd;
			f->val[i] = 0;
		}
	} else if (op == 3) {		/* UNMAP */
		struct mshare_unmap u = { off, size };

		want = valid ? 0 : EINVAL;
		got = ioctl(f->fd, MSHAREFS_UNMAP, &u) ? errno : 0;
		for (i = s; !want && i < e; i++)
			f->mapped[i] = false;
	} else {			/* PROTECT */
		struct mshare_protect pr = { off, size, prot, fuzz_rand(f) % 20 == 0 };

		if (prot == 0x80 || pr.reserved || !valid)
			want = EINVAL;
		else if (prot & PROT_EXEC)
			want = EACCES;	/* the sharer attached without it */
		else
			want = -fuzz_first_refusal(f, s, e, prot);
		got = ioctl(f->fd, MSHAREFS_PROTECT, &pr) ? errno : 0;
		for (i = s; !want && i < e; i++)
			f->prot[i] = prot;
	}
	f->outcomes[got == 0 ? 0 : got == EINVAL ? 1 : got == EACCES ? 2 :
		    got == ENOMEM ? 3 : 4]++;
	if (got != want && f->bad++ < 5)
		TH_LOG("step %lu: op %lu off %llu size %llu prot %u: errno %d, want %d",
		       step, op, (unsigned long long)off, (unsigned long long)size,
		       prot, got, want);
	return s;
}

TEST_F(mshare, fuzzed_ioctls_match_a_page_model)
{
	const char *seed = getenv("MSHARE_FUZZ_SEED");
	unsigned long step, i, s, unlike = 0, written = 0;
	struct fuzz f = { .n = 2 * self->align / PG };
	long shmem0 = meminfo_kb("Shmem");

	f.seed = seed ? strtoul(seed, NULL, 0) : 0x6d7368617265UL;
	TH_LOG("seed 0x%lx", f.seed);
	f.fd = make_region("fuzz", f.n * PG);
	f.mfd = memfd_create("fuzz", 0);
	ASSERT_GE(f.fd, 0);
	ASSERT_EQ(0, ftruncate(f.mfd, FUZZ_MEMFD * PG));
	f.rofd = reopen_read_only(f.mfd);
	ASSERT_GE(f.rofd, 0);
	f.p = attach(f.fd, f.n * PG, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, f.p);
	f.mapped = calloc(f.n, sizeof(*f.mapped));
	f.read_only = calloc(f.n, sizeof(*f.read_only));
	f.prot = calloc(f.n, sizeof(*f.prot));
	f.backing = calloc(f.n, sizeof(*f.backing));
	f.val = calloc(f.n, 1);
	for (i = 0; i < f.n; i++) {	/* make_region(): anonymous, read-write */
		f.mapped[i] = true;
		f.prot[i] = PROT_READ | PROT_WRITE;
		f.backing[i] = -1;
	}
	for (step = 0; step < FUZZ_STEPS && f.bad < 5; step++) {
		s = fuzz_step(_metadata, &f, step);
		fuzz_check_page(_metadata, &f, s, step);
		fuzz_check_page(_metadata, &f, s ? s - 1 : f.n - 1, step);
		for (i = 0; i < 4; i++)
			fuzz_check_page(_metadata, &f, fuzz_rand(&f) % f.n, step);
		for (i = 0; step % 250 == 249 && i < f.n; i++)
			fuzz_check_page(_metadata, &f, i, step);
	}
	EXPECT_EQ(0, f.bad);
	TH_LOG("%lu steps: %lu ok, %lu EINVAL, %lu EACCES, %lu ENOMEM",
	       step, f.outcomes[0], f.outcomes[1], f.outcomes[2], f.outcomes[3]);
	TH_LOG("pages probed: %lu accessible, %lu faulting", f.accessed, f.faulted);
	for (i = 0; i < 4; i++)		/* every path of the model was taken */
		EXPECT_LT(10UL, f.outcomes[i]);
	EXPECT_LT(100UL, f.faulted);
	/* What went through the region is in the memfd's own page cache. */
	for (i = 0; i < FUZZ_MEMFD; i++) {
		char byte = 0;

		ASSERT_EQ(1, pread(f.mfd, &byte, 1, i * PG));
		unlike += byte != f.memval[i];
		written += f.memval[i] != 0;
	}
	EXPECT_EQ(0UL, unlike) TH_LOG("memfd pages unlike the model");
	EXPECT_LT(10UL, written);	/* the check above compared something */
	ASSERT_EQ(0, ioctl(f.fd, MSHAREFS_UNMAP, &(struct mshare_unmap){ 0, f.n * PG }));
	memset(f.mapped, 0, f.n);
	for (i = 0; i < f.n; i += 64)
		fuzz_check_page(_metadata, &f, i, step);
	EXPECT_EQ(0, f.bad);
	close(f.mfd);
	close(f.rofd);
	drop_region(f.p, f.n * PG, f.fd, "fuzz");
	EXPECT_LE(meminfo_kb("Shmem"), shmem0 + 512);	/* objects freed */
	free(f.mapped);
	free(f.read_only);
	free(f.prot);
	free(f.backing);
	free(f.val);
}

TEST_F(mshare, memfd_and_read_only_files_inside_a_region)
{
	unsigned long size = 2 * self->align;
	int fd = make_region("objects", size), mfd = memfd_create("obj", 0);
	int rfd = ramfs_file();
	struct mshare_create c = { 0, 2 * PG, 0, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED, mfd };
	struct mshare_protect pr;
	char *p, *m, head[16];
	int rofd, nfd;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(mfd, 2 * PG));
	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	strcpy(m, "memfd data");
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c));
	ASSERT_GE(rfd, 0);
	c = (struct mshare_create){ self->align, PG, 0, PROT_READ,
				    MAP_SHARED | MAP_FIXED, rfd };
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c));
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("memfd data", p);
	strcpy(p + PG, "written via mshare");
	EXPECT_STREQ("written via mshare", m + PG);	/* same page cache */
	ASSERT_EQ((ssize_t)sizeof(head), pread(rfd, head, sizeof(head), 0));
	EXPECT_EQ(0, memcmp(head, p + self->align, sizeof(head)));
	EXPECT_TRUE(segv_on_write(p + self->align));
	/* PROTECT cannot make what was opened read-only writable. */
	pr = (struct mshare_protect){ self->align, PG, PROT_READ | PROT_WRITE, 0 };
	EXPECT_EQ(EACCES, ioctl(fd, MSHAREFS_PROTECT, &pr) ? errno : 0);
	EXPECT_TRUE(segv_on_write(p + self->align));
	rofd = reopen_read_only(mfd);
	ASSERT_GE(rofd, 0);
	c = (struct mshare_create){ 4 * PG, PG, 0, PROT_READ, MAP_SHARED | MAP_FIXED, rofd };
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c));
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_UNMAP, &(struct mshare_unmap){ 3 * PG, PG }));
	/* Refused in address order, as mprotect() refuses. */
	pr.region_offset = 2 * PG;	/* anonymous, hole, read-only memfd */
	pr.size = 3 * PG;
	EXPECT_EQ(ENOMEM, ioctl(fd, MSHAREFS_PROTECT, &pr) ? errno : 0);
	pr.region_offset = 4 * PG;	/* read-only memfd, then the hole */
	pr.size = PG;
	EXPECT_EQ(EACCES, ioctl(fd, MSHAREFS_PROTECT, &pr) ? errno : 0);
	pr.size = 2 * PG;
	EXPECT_EQ(EACCES, ioctl(fd, MSHAREFS_PROTECT, &pr) ? errno : 0);
	EXPECT_TRUE(segv_on_write(p + 4 * PG));
	EXPECT_STREQ("memfd data", p + 4 * PG);	/* memfd page 0 again */
	/*
	 * Exec is refused first because the sharer attached without it;
	 * kernel_paths_test checks mmap()'s EPERM for noexec without one.
	 */
	mkdir("/tmp/noexec", 0700);
	ASSERT_EQ(0, mount("tmpfs", "/tmp/noexec", "tmpfs", MS_NOEXEC, "size=1m"));
	nfd = open("/tmp/noexec/f", O_RDWR | O_CREAT, 0600);
	ASSERT_EQ(0, ftruncate(nfd, PG));
	c = (struct mshare_create){ 5 * PG, PG, 0, PROT_READ | PROT_EXEC,
				    MAP_SHARED | MAP_FIXED, nfd };
	EXPECT_EQ(EACCES, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c) ? errno : 0);
	close(nfd);
	umount("/tmp/noexec");
	close(rofd);
	drop_region(p, size, fd, "objects");
}

struct shared_lock {
	pthread_mutex_t mu;
	long counter;
};

TEST_F(mshare, gup_futex_and_process_vm_readv)
{
	unsigned long size = self->align;
	int fd = make_region("gup", size), i, status;
	struct shared_lock *s;
	pthread_mutexattr_t a;
	struct iovec local, remote;
	char buf[64];
	pid_t c;

	ASSERT_GE(fd, 0);
	s = (struct shared_lock *)attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, s);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->mu, &a);
	c = fork();
	if (c == 0) {
		struct shared_lock *t = (struct shared_lock *)attach(fd, size,
					PROT_READ | PROT_WRITE);

		for (i = 0; i < 20000; i++) {
			pthread_mutex_lock(&t->mu);
			t->counter++;
			pthread_mutex_unlock(&t->mu);
		}
		_exit(0);
	}
	for (i = 0; i < 20000; i++) {
		pthread_mutex_lock(&s->mu);
		s->counter++;
		pthread_mutex_unlock(&s->mu);
	}
	waitpid(c, &status, 0);
	EXPECT_EQ(40000, s->counter);
	strcpy((char *)s + 4096, "read me remotely");
	c = fork();
	if (c == 0) {
		local.iov_base = buf;
		local.iov_len = 17;
		remote.iov_base = (char *)s + 4096;
		remote.iov_len = 17;
		_exit(process_vm_readv(getppid(), &local, 1, &remote, 1, 0) == 17 &&
		      !strcmp(buf, "read me remotely") ? 0 : 1);
	}
	waitpid(c, &status, 0);
	EXPECT_EQ(0, WEXITSTATUS(status));
	drop_region(s, size, fd, "gup");
}

/* O_DIRECT both ways through a region buffer: GUP on the shared PTEs. */
TEST_F(mshare, o_direct_io_into_and_out_of_a_region)
{
	unsigned long size = self->align;
	int fd = make_region("dio", size), dev, id;
	char *p, path[96];
	FILE *ctl;

	ASSERT_GE(fd, 0);
	if (access("/sys/class/zram-control", F_OK))
		system("modprobe zram 2>/dev/null");
	ctl = fopen("/sys/class/zram-control/hot_add", "r");
	if (!ctl || fscanf(ctl, "%d", &id) != 1)
		SKIP(goto out, "no zram block device (zram module missing)");
	fclose(ctl);
	snprintf(path, sizeof(path), "echo 16M > /sys/block/zram%d/disksize", id);
	ASSERT_EQ(0, system(path));
	snprintf(path, sizeof(path), "/dev/zram%d", id);
	dev = open(path, O_RDWR | O_DIRECT);
	ASSERT_GE(dev, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	memset(p, 0xa5, 2 * PG);
	ASSERT_EQ((ssize_t)PG, pwrite(dev, p, PG, 0));	/* GUP read */
	memset(p + PG, 0, PG);
	ASSERT_EQ((ssize_t)PG, pread(dev, p + PG, PG, 0));	/* GUP write */
	EXPECT_EQ(0, memcmp(p, p + PG, PG));
	EXPECT_EQ((char)0xa5, p[PG + 100]);
	close(dev);
	munmap(p, size);
out:
	close(fd);
	unlink(MNT "/dio");
}

TEST_F(mshare, rmmod_is_refused_while_a_region_exists)
{
	unsigned long size = self->align;
	int fd = make_region("pinned", size);
	char *p;

	ASSERT_GE(fd, 0);
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	p[0] = 1;
	EXPECT_NE(0, system("rmmod mshare 2>/dev/null"));
	EXPECT_EQ(0, access("/sys/module/mshare", F_OK));
	EXPECT_EQ(1, p[0]);
	drop_region(p, size, fd, "pinned");
}

TEST_F(mshare, kill_storm_then_everything_is_returned)
{
	unsigned long size = 16 * MB;
	long shmem0 = meminfo_kb("Shmem"), pt0 = meminfo_kb("PageTables");
	int round, i, fd;
	char *p;

	for (round = 0; round < 6; round++) {
		pid_t kids[12];

		fd = make_region("storm", size);
		ASSERT_GE(fd, 0);
		p = attach(fd, size, PROT_READ | PROT_WRITE);
		memset(p, round, size);
		for (i = 0; i < 12; i++) {
			kids[i] = fork();
			if (kids[i] == 0) {
				char *q = i % 2 ? p : attach(fd, size, PROT_READ | PROT_WRITE);
				unsigned long j;

				for (j = 0;; j = (j + 7 * PG) % size) {
					q[j]++;
					if (i % 3 == 0 && j % (MB) == 0)
						madvise(q, size, MADV_DONTNEED);
				}
			}
		}
		usleep(100000);
		for (i = 0; i < 12; i++)
			kill(kids[i], SIGKILL);
		for (i = 0; i < 12; i++)
			waitpid(kids[i], NULL, 0);
		munmap(p, size);
		close(fd);
		unlink(MNT "/storm");
	}
	/*
	 * Unlinked, unmapped, closed: every page and table went back (the
	 * anonymous objects' last fput() is a kthread's: deferred).
	 */
	for (i = 0; i < 100 && (meminfo_kb("Shmem") > shmem0 + 1024 ||
				meminfo_kb("PageTables") > pt0 + 256); i++)
		usleep(50000);
	EXPECT_LE(meminfo_kb("Shmem"), shmem0 + 1024);
	EXPECT_LE(meminfo_kb("PageTables"), pt0 + 256);
	/* And the module holds no region any more. */
	EXPECT_EQ(0, system("test $(wc -l < /sys/kernel/debug/mshare/regions) -eq 1"));
}

/* Pages faulted in by another cgroup's process are charged to the creator's. */
/*
 * A child writes one byte to each page of @p in turn; how many it wrote
 * before it died, and (in *@sig) the signal that killed it, 0 if none.
 */
static long pages_written(char *p, unsigned long pages, int *sig)
{
	long *done = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned long i;
	int status;
	long n;

	if (done == MAP_FAILED)
		return -1;
	*done = 0;
	if (fork() == 0) {
		for (i = 0; i < pages; i++) {
			p[i * PG] = 1;
			*done = i + 1;
		}
		_exit(0);
	}
	wait(&status);
	*sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	n = *done;
	munmap(done, PG);
	return n;
}

/* Blocks free on the filesystem at @dir, or -1. */
static long blocks_free(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) ? -1 : (long)sf.f_bfree;
}

/* Mount a filesystem of @type at a new directory @dir with @opts. */
static int mount_at(const char *dir, const char *type, const char *opts)
{
	mkdir(dir, 0755);
	return mount("none", dir, type, 0, opts) ? -errno : 0;
}

/* The size= option /proc/self/mounts shows for the mount at @dir, or "". */
static void shown_size(const char *dir, char *buf, size_t len)
{
	char line[512], *o, *e;
	FILE *f = fopen("/proc/self/mounts", "r");

	buf[0] = 0;
	while (f && fgets(line, sizeof(line), f)) {
		o = strchr(line, ' ');
		if (!o || strncmp(o + 1, dir, strlen(dir)) || o[1 + strlen(dir)] != ' ')
			continue;
		o = strstr(line, "size=");
		if (o) {
			e = strpbrk(o, ", ");
			snprintf(buf, len, "%.*s", (int)(e ? e - o : (long)strlen(o)), o);
		}
	}
	if (f)
		fclose(f);
}

/* An msharefs at @mdir and a tmpfs at @tdir, both with @opts; their statfs. */
static int mount_pair(const char *mdir, const char *tdir, const char *opts,
		      struct statfs *ms, struct statfs *ts)
{
	int ret = mount_at(mdir, "msharefs", opts) ?: mount_at(tdir, "tmpfs", opts);

	if (!ret && (statfs(mdir, ms) || statfs(tdir, ts)))
		ret = -errno;
	return ret;
}

/*
 * size= bounds an msharefs instance's anonymous memory as it bounds a
 * tmpfs's (a region outlives its users, as a tmpfs file does): the same
 * steps on a tmpfs of the same size=, through a MAP_SHARED mapping of a
 * file, stop with SIGBUS at the same page; statfs agrees at each step;
 * removing the object gives the space back, as truncating the file does.
 * The default is tmpfs's, and a bad size= is refused.
 */
TEST_F(mshare, size_option_bounds_anonymous_memory_as_tmpfs)
{
	static const char mdir[] = "/tmp/msharefs-size", tdir[] = "/tmp/tmpfs-size";
	unsigned long size = 4 * self->align, pages = size / PG;
	struct mshare_create c = { 0, size, 0, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, -1 };
	struct statfs ms, ts;
	int fd, tfd, zfd, msig, tsig, i;
	long mn, tn, free0;
	char line[512];
	bool shown = false;
	FILE *f;
	char *p, *q;

	/* The default: tmpfs's, half of RAM. */
	ASSERT_EQ(0, mount_at(tdir, "tmpfs", NULL));
	ASSERT_EQ(0, statfs(tdir, &ts));
	ASSERT_EQ(0, statfs(MNT, &ms));
	EXPECT_EQ(ts.f_blocks * ts.f_bsize, ms.f_blocks * ms.f_bsize);
	EXPECT_EQ(MSHAREFS_MAGIC, ms.f_type);
	umount(tdir);

	ASSERT_EQ(0, mount_pair(mdir, tdir, "size=4m", &ms, &ts));
	EXPECT_EQ(ts.f_blocks, ms.f_blocks);
	EXPECT_EQ(ts.f_bsize, ms.f_bsize);
	EXPECT_EQ(ts.f_bfree, ms.f_bfree);
	free0 = ms.f_bfree;
	f = fopen("/proc/self/mounts", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, mdir) && strstr(line, "size=4096k"))
			shown = true;
	fclose(f);
	EXPECT_TRUE(shown);

	/* Values are read, rounded and shown as tmpfs reads and shows them. */
	for (i = 0; i < 4; i++) {
		static const char * const sizes[] = {
			"size=1", "size=4097", "size=1%", "size=3g" };
		char mshown[64], tshown[64];

		ASSERT_EQ(0, mount_at("/tmp/msharefs-opt", "msharefs", sizes[i]));
		ASSERT_EQ(0, mount_at("/tmp/tmpfs-opt", "tmpfs", sizes[i]));
		shown_size("/tmp/msharefs-opt", mshown, sizeof(mshown));
		shown_size("/tmp/tmpfs-opt", tshown, sizeof(tshown));
		EXPECT_STREQ(tshown, mshown) TH_LOG("%s", sizes[i]);
		umount("/tmp/msharefs-opt");
		umount("/tmp/tmpfs-opt");
	}
	rmdir("/tmp/msharefs-opt");
	rmdir("/tmp/tmpfs-opt");

	/* Bad options are refused; size= cannot change on remount. */
	EXPECT_EQ(-EINVAL, mount_at("/tmp/msharefs-bad", "msharefs", "size=abc"));
	EXPECT_EQ(-EINVAL, mount_at("/tmp/msharefs-bad", "msharefs", "size=-1"));
	EXPECT_EQ(-EINVAL, mount_at("/tmp/msharefs-bad", "msharefs", "size=4x"));
	EXPECT_EQ(-EINVAL, mount_at("/tmp/msharefs-bad", "msharefs", "bogus=1"));
	rmdir("/tmp/msharefs-bad");
	EXPECT_EQ(-1, mount("none", mdir, "msharefs", MS_REMOUNT, "size=8m"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mount("none", mdir, "msharefs", MS_REMOUNT, "size=4m"));

	/* The same steps on both: fill pages until the limit. */
	fd = open("/tmp/msharefs-size/r", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c));
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	tfd = open("/tmp/tmpfs-size/f", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, tfd);
	ASSERT_EQ(0, ftruncate(tfd, size));
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, tfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	tn = pages_written(q, pages, &tsig);
	mn = pages_written(p, pages, &msig);
	EXPECT_EQ(SIGBUS, tsig);
	EXPECT_EQ(tsig, msig);
	EXPECT_EQ(tn, mn);
	EXPECT_LT(mn, (long)pages);
	EXPECT_EQ(blocks_free(tdir), blocks_free(mdir));
	EXPECT_EQ(0, p[0] - 1);		/* the data stayed */

	/* Removing the object frees its space (the host's fput is deferred). */
	EXPECT_EQ(0, unmap_err(fd, 0, size));
	EXPECT_EQ(0, ftruncate(tfd, 0));
	for (i = 0; i < 500 && blocks_free(mdir) != free0; i++)
		usleep(10000);
	EXPECT_EQ(free0, blocks_free(mdir));
	EXPECT_EQ(free0, blocks_free(tdir));

	/* /dev/zero's ->mmap() makes shared anonymous memory: bounded too. */
	zfd = open("/dev/zero", O_RDWR);
	ASSERT_LE(0, zfd);
	c.flags = MAP_SHARED | MAP_FIXED;
	c.fd = zfd;
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c));
	close(zfd);
	mn = pages_written(p, pages, &msig);
	EXPECT_EQ(SIGBUS, msig);
	EXPECT_EQ(tn, mn);
	EXPECT_EQ(0, unmap_err(fd, 0, size));

	munmap(q, size);
	close(tfd);
	munmap(p, size);
	close(fd);
	unlink("/tmp/msharefs-size/r");
	EXPECT_EQ(0, umount(mdir));
	EXPECT_EQ(0, umount(tdir));
	rmdir(mdir);
	rmdir(tdir);
}

/*
 * The page tables a region's host holds outlive the processes that
 * faulted them in, as its anonymous memory does, and count against the
 * same size=: reads of every 2 MiB of a 1 GiB region mapping an empty
 * memfd get SIGBUS, as through a plain mapping of it, and leave at most
 * size= of tables in the host (each failed fault used to keep one); once the
 * region is gone, a new one can use the space.
 */
TEST_F(mshare, size_option_bounds_host_page_tables)
{
	static const char mdir[] = "/tmp/msharefs-tables";
	unsigned long size = 1UL << 30;
	struct mshare_create c = { 0, 4 * self->align, 0, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, -1 };
	long before, grown, region_bus, plain_bus;
	int fd, mfd;
	pid_t host;
	char *p, *q;

	ASSERT_EQ(0, mount_at(mdir, "msharefs", "size=1m"));
	fd = open("/tmp/msharefs-tables/r", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	mfd = memfd_create("empty", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, create_err(fd, 0, size, PROT_READ, mfd, 0));
	p = attach(fd, size, PROT_READ);
	ASSERT_NE(NULL, p);
	q = mmap(NULL, size, PROT_READ, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	/* The host's own count (VmPTE): PageTables moves with the guest. */
	host = host_pid_of("r");
	ASSERT_LT(0, host);
	before = proc_vmpte_kb(host);
	plain_bus = sigbus_reads(q, size, 2 * MB);
	region_bus = sigbus_reads(p, size, 2 * MB);
	grown = proc_vmpte_kb(host) - before;
	EXPECT_EQ((long)(size / (2 * MB)), plain_bus);
	EXPECT_EQ(plain_bus, region_bus);
	/* size= of tables, and the upper levels of the last one made. */
	EXPECT_GE(1024 + 3 * 4, grown) TH_LOG("the host's VmPTE grew %ld kB", grown);
	munmap(q, size);
	munmap(p, size);
	close(mfd);
	close(fd);
	EXPECT_EQ(0, unlink("/tmp/msharefs-tables/r"));

	/* The space is back for the next region (the host goes after it). */
	fd = open("/tmp/msharefs-tables/s", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * self->align));
	ASSERT_EQ(0, ioctl(fd, MSHAREFS_CREATE_MAPPING, &c));
	p = attach(fd, 4 * self->align, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(0, sigbus_reads(p, 4 * self->align, 2 * MB));
	munmap(p, 4 * self->align);
	close(fd);
	unlink("/tmp/msharefs-tables/s");
	EXPECT_EQ(0, umount(mdir));
	rmdir(mdir);
}

/*
 * Each mapping's link bitmaps (one bit per 2 MiB and one per GiB of the
 * region: 64 KiB per TiB) count against size= too, with the hosts' tables:
 * with size=1m, mappings of an empty 1 TiB region fail with ENOMEM once
 * their bitmaps would pass 1 MiB, and unmapping one makes room for
 * another. Without the bound one user held all of memory this way (a
 * plain mapping of a 1 TiB memfd costs one VMA).
 */
TEST_F(mshare, size_option_bounds_link_bitmaps)
{
	static const char mdir[] = "/tmp/msharefs-bits";
	unsigned long size = 1UL << 40;
	long per = (long)((size >> 21) + (size >> 30)) / 8;
	char *maps[32];
	int fd, n, k, err = 0;

	ASSERT_EQ(0, mount_at(mdir, "msharefs", "size=1m"));
	fd = open("/tmp/msharefs-bits/r", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	for (n = 0; n < 32; n++) {
		maps[n] = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (maps[n] == MAP_FAILED) {
			err = errno;
			break;
		}
	}
	TH_LOG("%d mappings of 1 TiB, %ld bytes of bitmaps each, under size=1m",
	       n, per);
	EXPECT_EQ(ENOMEM, err);
	/* The host's own tables take a little of the 1 MiB. */
	EXPECT_GE((1L << 20) / per, n);
	EXPECT_LE((3L << 18) / per, n);
	if (n > 0) {
		ASSERT_EQ(0, munmap(maps[n - 1], size));
		maps[n - 1] = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		EXPECT_NE(MAP_FAILED, maps[n - 1]);
		if (maps[n - 1] == MAP_FAILED)
			n--;
	}
	for (k = 0; k < n; k++)
		munmap(maps[k], size);
	close(fd);
	EXPECT_EQ(0, unlink("/tmp/msharefs-bits/r"));
	EXPECT_EQ(0, umount(mdir));
	rmdir(mdir);
}

/* Create names in @dir until it fails: how many, and the errno in *@err. */
static int fill_names(const char *dir, int max, int *err)
{
	char path[128];
	int n, fd;

	for (n = 0; n < max; n++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, n);
		fd = n % 2 ? mkdir(path, 0700) : open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0) {
			*err = errno;
			return n;
		}
		if (n % 2 == 0)
			close(fd);
	}
	*err = 0;
	return n;
}

/*
 * nr_inodes= bounds a mount's files and directories as it bounds a
 * tmpfs's: each stays with no process left. The same steps on a tmpfs
 * of the same nr_inodes= give the same counts, statfs and errnos.
 */
TEST_F(mshare, nr_inodes_bounds_names_as_tmpfs)
{
	static const char mdir[] = "/tmp/msharefs-ino", tdir[] = "/tmp/tmpfs-ino";
	struct statfs ms, ts;
	int mn, tn, merr, terr;

	ASSERT_EQ(0, mount_pair(mdir, tdir, "nr_inodes=8", &ms, &ts));
	EXPECT_EQ(ts.f_files, ms.f_files);
	EXPECT_EQ(ts.f_ffree, ms.f_ffree);
	mn = fill_names(mdir, 100, &merr);
	tn = fill_names(tdir, 100, &terr);
	EXPECT_EQ(tn, mn);
	EXPECT_EQ(ENOSPC, terr);
	EXPECT_EQ(terr, merr);
	ASSERT_EQ(0, statfs(mdir, &ms));
	ASSERT_EQ(0, statfs(tdir, &ts));
	EXPECT_EQ(0, ms.f_ffree);
	EXPECT_EQ(ts.f_ffree, ms.f_ffree);
	/* Fewer than are in use is refused; more is taken. */
	EXPECT_EQ(-1, mount("none", tdir, "tmpfs", MS_REMOUNT, "nr_inodes=2"));
	EXPECT_EQ(-1, mount("none", mdir, "msharefs", MS_REMOUNT, "nr_inodes=2"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, mount("none", mdir, "msharefs", MS_REMOUNT, "nr_inodes=9"));
	EXPECT_EQ(1, fill_names("/tmp/msharefs-ino/f1", 1, &merr));
	/* A name removed gives its inode back. */
	EXPECT_EQ(0, unlink("/tmp/msharefs-ino/f0"));
	EXPECT_EQ(0, unlink("/tmp/msharefs-ino/f1/f0"));
	EXPECT_EQ(2, fill_names("/tmp/msharefs-ino/f1", 100, &merr));
	EXPECT_EQ(ENOSPC, merr);
	EXPECT_EQ(0, umount(mdir));
	EXPECT_EQ(0, umount(tdir));
	rmdir(mdir);
	rmdir(tdir);
}

TEST_F(mshare, memcg_charges_the_creator)
{
	unsigned long size = 16 * self->align;
	long creator0, user0, creator1, user1;
	int ready[2], done[2], status, fd;
	char c = 0, *p;
	pid_t creator, user;

	if (!cg_memory_ready())
		SKIP(return, "no cgroup v2 memory controller");
	mkdir(CGROOT "/mshare-creator", 0755);
	mkdir(CGROOT "/mshare-user", 0755);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	creator = fork();
	if (!creator) {
		cg_join("mshare-creator");
		fd = make_region("memcg", size);
		if (fd < 0 || write(ready[1], &c, 1) != 1 || read(done[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	creator0 = cg_memory("mshare-creator");
	user0 = cg_memory("mshare-user");
	user = fork();
	if (!user) {
		cg_join("mshare-user");
		fd = open(MNT "/memcg", O_RDWR);
		p = fd < 0 ? NULL : attach(fd, size, PROT_READ | PROT_WRITE);
		if (!p)
			_exit(1);
		memset(p, 1, size);
		_exit(0);
	}
	ASSERT_EQ(user, waitpid(user, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	creator1 = cg_memory("mshare-creator");
	user1 = cg_memory("mshare-user");
	TH_LOG("creator's cgroup +%ld kB, user's +%ld kB for %lu kB touched",
	       (creator1 - creator0) >> 10, (user1 - user0) >> 10, size >> 10);
	EXPECT_LE((long)size * 9 / 10, creator1 - creator0);
	EXPECT_GT((long)size / 8, user1 - user0);
	ASSERT_EQ(1, write(done[1], &c, 1));
	ASSERT_EQ(creator, waitpid(creator, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	unlink(MNT "/memcg");
	rmdir(CGROOT "/mshare-user");
	rmdir(CGROOT "/mshare-creator");
}

/*
 * Reclaim and migration reach pages through rmap, which does not see the
 * shared tables: the module's reference and mapcount must keep a region's
 * pages where they are, or every sharer would go on mapping a freed page.
 * memory.reclaim of the creator's cgroup (with zram swap, so that shmem
 * can go), compaction and drop_caches push on them while two processes
 * have them linked; a plain memfd mapping touched in the same cgroup is
 * the proof that reclaim really ran.
 */
/*
 * The region's pages are mapped by the host's VMA, which rmap sees: under
 * memory.reclaim of the creator's cgroup (zram swap), compaction and
 * drop_caches they go to swap as the plain memfd's pages in the same
 * cgroup do, in both sharers at once, and come back intact, to both.
 */
TEST_F(mshare, reclaim_swaps_region_pages_as_it_does_plain_shmem)
{
	unsigned long size = 2 * self->align, n = size / PG, i;
	long evicted = 0, region_evicted = 0, sharer_evicted = 0;
	int fd, mfd, go[2], status, round;
	char c = 0, *p, *m;
	pid_t sharer;

	if (!zram_swap_on())
		SKIP(return, "no zram swap device (zram module missing)");
	if (!cg_memory_ready())
		SKIP(return, "no cgroup v2 memory controller");
	mkdir(CGROOT "/mshare-reclaim", 0755);
	ASSERT_EQ(0, cg_move("mshare-reclaim"));
	fd = make_region("reclaim", size);
	mfd = memfd_create("control", 0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(mfd, size));
	p = attach(fd, size, PROT_READ | PROT_WRITE);
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < n; i++) {
		memset(p + i * PG, (char)(i + 1), PG);
		memset(m + i * PG, 1, PG);
	}
	ASSERT_EQ(0, pipe(go));
	sharer = fork();
	if (!sharer) {	/* links the tables on its first touch, at p */
		touch_pages(p, size);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < n; i++)
			if (p[i * PG + PG - 1] != (char)(i + 1))
				_exit(3);
		p[0] = 0x77;
		_exit(0);
	}
	/* The sharer has linked the tables once its pages show in pagemap. */
	for (round = 0; round < 600; round++) {
		if (pagemap_of(sharer, (unsigned long)p + size - PG) & PM_PRESENT)
			break;
		usleep(50000);
	}
	ASSERT_LT(round, 600) TH_LOG("the sharer never linked the tables");
	for (round = 0; round < 5 && evicted < (long)n; round++) {
		cg_write(CGROOT "/mshare-reclaim/memory.reclaim", "64M");
		cg_write("/proc/sys/vm/compact_memory", "1");
		cg_write("/proc/sys/vm/drop_caches", "3");
		evicted = 0;
		region_evicted = 0;
		sharer_evicted = 0;
		for (i = 0; i < n; i++) {
			evicted += !(pagemap_of(getpid(), (unsigned long)m + i * PG) &
				     PM_PRESENT);
			region_evicted += !(pagemap_of(getpid(), (unsigned long)p + i * PG) &
					    PM_PRESENT);
			sharer_evicted += !(pagemap_of(sharer, (unsigned long)p + i * PG) &
					    PM_PRESENT);
		}
	}
	TH_LOG("reclaim took %ld of %lu control pages, %ld and %ld region pages",
	       evicted, n, region_evicted, sharer_evicted);
	ASSERT_GT(evicted, 0) TH_LOG("reclaim did not run: nothing proven");
	/* As plain shmem: the region's pages went too, gone for both sharers. */
	EXPECT_GE(region_evicted * 2, evicted);
	EXPECT_EQ(region_evicted, sharer_evicted);
	for (i = 0; i < n; i++)
		ASSERT_EQ((char)(i + 1), p[i * PG + PG / 2]);
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(sharer, waitpid(sharer, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0x77, p[0]);
	EXPECT_EQ(1, m[size - 1]);	/* the control comes back from swap */
	munmap(m, size);
	close(mfd);
	drop_region(p, size, fd, "reclaim");
	cg_move("");
	rmdir(CGROOT "/mshare-reclaim");
}

TEST_F(mshare, zz_unmount_after_the_suite)
{
	EXPECT_EQ(0, umount(MNT));
}

TEST_HARNESS_MAIN
