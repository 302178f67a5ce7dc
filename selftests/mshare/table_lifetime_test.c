// SPDX-License-Identifier: GPL-2.0
/*
 * The paths by which newer kernels free, retract or walk page tables
 * without the mmap_lock that 6.1's walkers take (Documentation/
 * mshare-port.rst, tests T1, T2, T3, T6, T7, T8, T9, T10, T11): each test does the same
 * steps on a region and on a plain MAP_SHARED mapping of the same object,
 * in the same run, and asserts that they agree, and that the kernel did
 * not warn. On 6.1 they pass by its locking; they are the proof a port
 * to a newer line has to pass.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/msharefs.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 400
#include "mshare_util.h"
#include "vm_util.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#define GB (1UL << 30)

FIXTURE(tl) {
	unsigned long align;
	long warnings;
};

FIXTURE_SETUP(tl)
{
	if (!ensure_mounted())
		SKIP(return, "msharefs not available (mshare module not loaded)");
	self->align = mshare_align();
	ASSERT_GT(self->align, 0UL);
	self->warnings = kernel_warnings();
}

FIXTURE_TEARDOWN(tl)
{
	EXPECT_EQ(self->warnings, kernel_warnings());
}

/* Each test's share of the stress time. */
static time_t deadline(int parts)
{
	return time(NULL) + (stress_seconds() + parts - 1) / parts;
}

/*
 * A region of 1 GiB over a sparse memfd of 1 GiB, and a plain shared
 * mapping of the memfd at *@q: the region's fd, or -1.
 */
static int sparse_gb_region(const char *name, int *mfd, char **q)
{
	int rfd = sized_region(name, GB, false);

	*mfd = memfd_create(name, 0);
	*q = MAP_FAILED;
	if (rfd < 0 || *mfd < 0 || ftruncate(*mfd, GB) ||
	    create_err(rfd, 0, GB, PROT_READ | PROT_WRITE, *mfd, 0))
		return -1;
	*q = mmap(NULL, GB, PROT_READ | PROT_WRITE, MAP_SHARED, *mfd, 0);
	return *q == MAP_FAILED ? -1 : rfd;
}

/*
 * T1. A forked child's region is unlinked until it touches it; its first
 * touches, from four threads at once, are faults that newer kernels take
 * under the per-VMA lock (a PUD-level huge fault for a 1 GiB aligned
 * GiB). The bytes they read are what the plain mapping reads.
 */
#define T1_PAGES 64
#define T1_THREADS 4

struct t1 {
	const char *p, *q;
	int first;
	int bad;
};

static unsigned long t1_off(int k)
{
	return k * (GB / T1_PAGES) + (k % 7) * PG;
}

static void *t1_reader(void *arg)
{
	struct t1 *t = arg;
	int i, k;

	for (i = 0; i < T1_PAGES; i++) {
		k = (t->first + i) % T1_PAGES;
		if (t->p[t1_off(k)] != t->q[t1_off(k)])
			t->bad++;
	}
	return NULL;
}

TEST_F(tl, threads_fault_a_fresh_childs_region_at_once)
{
	struct t1 t[T1_THREADS];
	pthread_t th[T1_THREADS];
	int rfd, mfd, k, i, status, rounds = 0, failed = 0;
	time_t until = deadline(4);
	char *p, *q;

	rfd = sparse_gb_region("tl-t1", &mfd, &q);
	ASSERT_LE(0, rfd);
	for (k = 0; k < T1_PAGES; k++)
		q[t1_off(k)] = (char)(k + 1);
	p = attach(rfd, GB, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	/* PUD links where the kernel allows them (mshare.rst). */
	if (mshare_pmd_sharing())
		EXPECT_EQ(0UL, (unsigned long)p % GB);
	EXPECT_EQ(1, p[0]);		/* the parent's own link */
	do {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			for (i = 0; i < T1_THREADS; i++) {
				t[i] = (struct t1){ p, q, i * T1_PAGES / T1_THREADS, 0 };
				if (pthread_create(&th[i], NULL, t1_reader, &t[i]))
					_exit(2);
			}
			for (i = 0; i < T1_THREADS; i++) {
				pthread_join(th[i], NULL);
				if (t[i].bad)
					_exit(1);
			}
			_exit(0);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		failed += status != 0;
		rounds++;
	} while (time(NULL) < until);
	EXPECT_EQ(0, failed) TH_LOG("%d of %d children read other bytes", failed, rounds);
	TH_LOG("%d children, %d threads each", rounds, T1_THREADS);
	munmap(p, GB);
	munmap(q, GB);
	close(mfd);
	remove_region(rfd, "tl-t1");
}

/*
 * T2. A sharer's threads walk its tables while the creator UNMAPs the
 * first half of the region and maps it again, over and over: direct
 * loads (faults, on 6.4+ under the per-VMA lock), MADV_DONTNEED of
 * 2 MiB at a time (on 7.3 under the VMA lock, freeing empty tables where
 * page-table reclaim is built), smaps and /proc/self/mem reads, and
 * process_vm_readv(), through a 1 GiB aligned mapping (PUD links where
 * the kernel allows them) and through one that is 2 MiB but not 1 GiB
 * aligned (PMD links). The second half reads what the plain mapping reads
 * throughout, however it is reached.
 */
#define T2_PAGES 64
#define T2_ROLES 4

struct t2 {
	char *p;
	const char *q;
	int role;
	bool parks;	/* a /proc/PID/mem read after MADV_DONTNEED may say EIO */
	time_t until;
	int bad;
};

/* The k-th sample of the half that never changes. */
static unsigned long t2_off(int k)
{
	return GB / 2 + k * (GB / 2 / T2_PAGES) + (k % 7) * PG;
}

static void t2_smaps(void)
{
	char buf[4096];
	int fd = open("/proc/self/smaps", O_RDONLY);

	while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		;
	if (fd >= 0)
		close(fd);
}

static void *t2_walker(void *arg)
{
	struct t2 *t = arg;
	int mem = open("/proc/self/mem", O_RDONLY), k = 0;
	struct iovec local, remote;
	char c;

	while (time(NULL) < t->until) {
		unsigned long off = t2_off(k), any = (k * 2 + 1) * (GB / 2 / T2_PAGES);

		c = 0;
		switch (t->role) {
		case 0:		/* a fault, or a hit */
			c = t->p[off];
			break;
		case 1:		/* a 2 MiB zap, then a fault */
			madvise(t->p + (off & ~(2 * MB - 1)), 2 * MB, MADV_DONTNEED);
			c = t->p[off];
			break;
		case 2:		/* smaps, then /proc/self/mem in both halves */
			t2_smaps();
			/* The changing half: a hole for a moment. */
			(void)!pread(mem, &c, 1, (unsigned long)t->p + any % (GB / 2));
			if (pread(mem, &c, 1, (unsigned long)t->p + off) != 1)
				c = t->parks && errno == EIO ? t->q[off] : 0;
			break;
		case 3:		/* process_vm_readv() of itself */
			local = (struct iovec){ &c, 1 };
			remote = (struct iovec){ t->p + off, 1 };
			if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != 1)
				c = 0;
			break;
		}
		if (c != t->q[off])
			t->bad++;
		k = (k + 1) % T2_PAGES;
	}
	if (mem >= 0)
		close(mem);
	return NULL;
}

/* A mapping of @fd at an address 2 MiB but not 1 GiB aligned. */
static char *attach_pmd_aligned(int fd, unsigned long size)
{
	char *base = mmap(NULL, size + GB + 4 * MB, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	unsigned long at;

	if (base == MAP_FAILED)
		return NULL;
	at = ((unsigned long)base + GB - 1) / GB * GB + 2 * MB;
	base = mmap((void *)at, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED, fd, 0);
	return base == MAP_FAILED ? NULL : base;
}

TEST_F(tl, threads_walk_their_tables_while_the_region_changes)
{
	struct t2 t[2 * T2_ROLES];
	pthread_t th[2 * T2_ROLES];
	int rfd, mfd, k, i, status, changes = 0;
	time_t until = deadline(4);
	bool parks[2];
	char *p[2], *q;
	pid_t sharer;

	rfd = sparse_gb_region("tl-t2", &mfd, &q);
	ASSERT_LE(0, rfd);
	for (k = 0; k < T2_PAGES; k++)
		q[t2_off(k)] = (char)(k + 1);
	sharer = fork();
	ASSERT_LE(0, sharer);
	if (sharer == 0) {
		p[0] = attach(rfd, GB, PROT_READ | PROT_WRITE);
		p[1] = attach_pmd_aligned(rfd, GB);
		if (!p[0] || !p[1])
			_exit(2);
		/*
		 * Where a zapped link is parked, not cleared (mshare.rst:
		 * PMD links on 6.1, PUD links on every line), a read that
		 * cannot retry says EIO as the first access after it.
		 */
		parks[1] = !kernel_at_least(6, 5);
		parks[0] = parks[1] || (mshare_pmd_sharing() && (unsigned long)p[0] % GB == 0);
		for (i = 0; i < 2 * T2_ROLES; i++) {
			t[i] = (struct t2){ p[i % 2], q, i / 2, parks[i % 2], until, 0 };
			if (pthread_create(&th[i], NULL, t2_walker, &t[i]))
				_exit(3);
		}
		for (i = 0, k = 0; i < 2 * T2_ROLES; i++) {
			pthread_join(th[i], NULL);
			k |= !!t[i].bad << i;
		}
		_exit(k ? 8 + k : 0);
	}
	while (time(NULL) < until) {
		ASSERT_EQ(0, unmap_err(rfd, 0, GB / 2));
		ASSERT_EQ(0, create_err(rfd, 0, GB / 2, PROT_READ | PROT_WRITE, mfd, 0));
		changes++;
	}
	ASSERT_EQ(sharer, waitpid(sharer, &status, 0));
	EXPECT_EQ(0, WIFEXITED(status) ? WEXITSTATUS(status) : -1)
		TH_LOG("status %#x (8 + a bit per thread that read other bytes)", status);
	TH_LOG("%d changes of the first half", changes);
	p[0] = attach(rfd, GB, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p[0]);
	for (k = 0; k < T2_PAGES; k++)
		EXPECT_EQ(q[t2_off(k)], p[0][t2_off(k)]);
	q[PG] = 'x';
	EXPECT_EQ('x', p[0][PG]);
	munmap(p[0], GB);
	munmap(q, GB);
	close(mfd);
	remove_region(rfd, "tl-t2");
}

/*
 * T3. Another process collapses the memfd a region maps into huge pages
 * (MADV_COLLAPSE; the collapse unmaps the small pages from every mapping,
 * the host's included, and on 6.6+ retracts the PTE tables of the
 * mappings it can, without their mmap_lock), over and over, splitting
 * them again by punching one page per 2 MiB that no sharer uses. Sharers
 * write their pages through the region and read each back through the
 * region and through a plain mapping: the two always agree, and at the
 * end every page holds what pread() gives.
 */
#define T3_SHARERS 4
#define T3_SLOTS 4

static void t3_sharer(int rfd, int mfd, unsigned long size, int w,
		      time_t until)
{
	char *p = attach(rfd, size, PROT_READ | PROT_WRITE);
	char *q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	unsigned long i, pages = size / PG;
	char v = 0;

	if (!p || q == MAP_FAILED)
		_exit(2);
	while (time(NULL) < until) {
		v++;
		for (i = w; i < pages; i += T3_SHARERS) {
			if (i % 512 == 511)
				continue;	/* the collapser punches it */
			p[i * PG] = v;
			if (p[i * PG] != v || q[i * PG] != v)
				_exit(1);
		}
		usleep(20000);	/* let collapses find the pages unlocked */
	}
	_exit(0);
}

/* Can this kernel collapse a memfd's pages at all (THP, 6.1+)? */
static bool collapse_works(void)
{
	int fd = memfd_create("tl-probe", 0);
	char *m = MAP_FAILED, *a;
	bool ok = false;

	if (fd >= 0 && !ftruncate(fd, 2 * MB))
		m = mmap(NULL, 4 * MB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m != MAP_FAILED) {
		/* At a 2 MiB aligned address, file offset 0: PMD-mappable. */
		a = mmap((void *)(((unsigned long)m + 2 * MB - 1) & ~(2 * MB - 1)),
			 2 * MB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
		if (a != MAP_FAILED) {
			memset(a, 1, 2 * MB);
			ok = !madvise(a, 2 * MB, MADV_COLLAPSE);
		}
		munmap(m, 4 * MB);
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

#define THP "/sys/kernel/mm/transparent_hugepage/"

/* Write @val to sysfs knob @path, keeping what it said in @old: 0 or -1. */
static int knob_set(const char *path, const char *val, char *old, size_t len)
{
	char *sel;
	int fd = open(path, O_RDWR), n;

	if (fd < 0)
		return -1;
	n = read(fd, old, len - 1);
	old[n > 0 ? n : 0] = 0;
	/* "always [never]": the word in brackets is the setting. */
	sel = strchr(old, '[');
	if (sel) {
		memmove(old, sel + 1, strlen(sel));
		old[strcspn(old, "]")] = 0;
	}
	old[strcspn(old, "\n")] = 0;
	n = pwrite(fd, val, strlen(val), 0) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return n;
}

static long vmstat_read(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ')
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

/*
 * The collapser's side of T3, until @until: punch one page per 2 MiB (to
 * split what was collapsed), then either collapse with MADV_COLLAPSE, or
 * leave it to khugepaged and meanwhile change the region (a PROTECT that
 * keeps the protection: the region's worker drops the host's mmap_lock
 * pin while it remaps, the window in which 6.1's khugepaged may retract
 * host tables). Returns how many collapses succeeded.
 */
static long collapser(int rfd, int mfd, char *c, unsigned long size,
		      bool khugepaged, time_t until)
{
	long n = 0, before = vmstat_read("thp_collapse_alloc");
	unsigned long slot;

	/* At least one round, however slow the kernel. */
	do {
		for (slot = 0; slot < T3_SLOTS; slot++)
			fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  slot * 2 * MB + 511 * PG, PG);
		/* Mapped here too, or 6.1 collapses and then says EINVAL. */
		touch_pages(c, size);
		if (!khugepaged) {
			/* Slot by slot: a sharer's write may hold one back. */
			for (slot = 0; slot < T3_SLOTS; slot++)
				n += !madvise(c + slot * 2 * MB, 2 * MB, MADV_COLLAPSE);
			continue;
		}
		protect_err(rfd, 0, size, PROT_READ | PROT_WRITE);
		usleep(100000);
	} while (time(NULL) < until);
	return khugepaged ? vmstat_read("thp_collapse_alloc") - before : n;
}

static void collapse_while_sharing(struct __test_metadata *_metadata,
				   bool khugepaged)
{
	unsigned long size = T3_SLOTS * 2 * MB, i;
	int rfd, mfd, w, status;
	pid_t kids[T3_SHARERS];
	time_t until = deadline(5);
	long collapsed;
	char *p, *c;

	rfd = object_region("tl-t3", size, 3, &mfd);
	ASSERT_LE(0, rfd);
	c = mmap(NULL, size + 2 * MB, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, c);
	/* The collapser's mapping, 2 MiB aligned so that a PMD can map it. */
	munmap(c, size + 2 * MB);
	c = mmap((void *)(((unsigned long)c + 2 * MB - 1) & ~(2 * MB - 1)), size,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, mfd, 0);
	ASSERT_NE(MAP_FAILED, c);
	/*
	 * Twice: 6.1 registers the mm with khugepaged only if the VMA
	 * already had VM_HUGEPAGE (khugepaged_enter_vma() checks shmem
	 * against the old flags).
	 */
	madvise(c, size, MADV_HUGEPAGE);
	madvise(c, size, MADV_HUGEPAGE);
	for (w = 0; w < T3_SHARERS; w++) {
		kids[w] = fork();
		if (kids[w] == 0)
			t3_sharer(rfd, mfd, size, w, until);
	}
	collapsed = collapser(rfd, mfd, c, size, khugepaged, until);
	for (w = 0; w < T3_SHARERS; w++) {
		ASSERT_EQ(kids[w], waitpid(kids[w], &status, 0));
		EXPECT_EQ(0, status) TH_LOG("sharer %d: region and plain disagreed", w);
	}
	TH_LOG("%ld collapses by %s", collapsed, khugepaged ? "khugepaged" : "MADV_COLLAPSE");
	EXPECT_LT(0, collapsed);
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	for (i = 0; i < size; i += PG) {
		char b;

		ASSERT_EQ(1, pread(mfd, &b, 1, i));
		ASSERT_EQ(b, p[i]) TH_LOG("offset %#lx", i);
		ASSERT_EQ(b, c[i]) TH_LOG("offset %#lx", i);
	}
	munmap(p, size);
	munmap(c, size);
	close(mfd);
	remove_region(rfd, "tl-t3");
}

TEST_F(tl, collapse_of_a_mapped_memfd_as_on_a_plain_mapping)
{
	if (!collapse_works())
		SKIP(return, "MADV_COLLAPSE of a memfd fails here (%s)", strerror(errno));
	collapse_while_sharing(_metadata, false);
}

/*
 * The same with khugepaged collapsing (shmem_enabled=advise, the
 * collapser's mapping MADV_HUGEPAGE, no sleeps between scans), which
 * retracts the tables of every mapping of the memfd whose mm it can lock
 * for writing, the host's included, while the region keeps changing.
 */
TEST_F(tl, khugepaged_collapse_of_a_mapped_memfd_as_on_a_plain_mapping)
{
	static const char * const knobs[] = {
		THP "shmem_enabled", THP "khugepaged/scan_sleep_millisecs",
		THP "khugepaged/alloc_sleep_millisecs", THP "khugepaged/pages_to_scan",
	};
	static const char * const vals[] = { "advise", "0", "0", "4096" };
	char old[4][64], scratch[64];
	int k, set = 0;

	if (!collapse_works())
		SKIP(return, "no huge pages for a memfd here (%s)", strerror(errno));
	for (k = 0; k < 4; k++)
		set += !knob_set(knobs[k], vals[k], old[k], sizeof(old[k]));
	if (set == 4)
		collapse_while_sharing(_metadata, true);
	for (k = 0; k < set; k++)
		knob_set(knobs[k], old[k], scratch, sizeof(scratch));
	if (set < 4)
		SKIP(return, "cannot set %s", knobs[set]);
}

/*
 * T6. MADV_DONTNEED of whole 2 MiB slots and more (what page-table
 * reclaim acts on in 7.3: it frees the emptied PTE tables) while sibling
 * threads fault the same slots back, on a region and on a plain mapping
 * at once; the bytes read are the file's, and once both are gone
 * PageTables is back where it started.
 */
#define T6_SLOTS 8

struct t6 {
	char *p;
	int salt;
	time_t until;
	unsigned int seed;
	int bad;
};

static void *t6_dropper(void *arg)
{
	struct t6 *t = arg;
	unsigned long first, n;

	while (time(NULL) < t->until) {
		first = rand_r(&t->seed) % T6_SLOTS;
		n = 1 + rand_r(&t->seed) % (T6_SLOTS - first);
		madvise(t->p + first * 2 * MB, n * 2 * MB, MADV_DONTNEED);
	}
	return NULL;
}

static void *t6_reader(void *arg)
{
	struct t6 *t = arg;
	unsigned long i;

	while (time(NULL) < t->until) {
		i = rand_r(&t->seed) % (T6_SLOTS * 512);
		if (t->p[i * PG] != (char)(i + t->salt)) {
			if (!t->bad++)
				fprintf(stderr, "# page %lu read %#x, file has %#x\n", i,
					(unsigned char)t->p[i * PG],
					(unsigned char)(i + t->salt));
		}
	}
	return NULL;
}

/* Two droppers and two readers on @p until @until: 0 if all read right. */
static void t6_process(char *p, int salt, time_t until)
{
	struct t6 t[4];
	pthread_t th[4];
	int i, bad = 0;

	setvbuf(stderr, NULL, _IONBF, 0);

	for (i = 0; i < 4; i++) {
		t[i] = (struct t6){ p, salt, until, (unsigned int)(getpid() + i), 0 };
		if (pthread_create(&th[i], NULL, i < 2 ? t6_dropper : t6_reader, &t[i]))
			_exit(2);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		bad += t[i].bad;
	}
	_exit(bad ? 1 : 0);
}

TEST_F(tl, dontneed_of_whole_tables_while_faulting_as_on_a_plain_mapping)
{
	unsigned long size = T6_SLOTS * 2 * MB;
	long before = meminfo_kb("PageTables"), after = 0;
	int rfd, mfd, status, i;
	time_t until = deadline(4);
	pid_t region_kid, plain_kid;

	rfd = object_region("tl-t6", size, 6, &mfd);
	ASSERT_LE(0, rfd);
	region_kid = fork();
	if (region_kid == 0) {
		/* Read-write: a region mapped writable refuses read-only. */
		char *p = attach(rfd, size, PROT_READ | PROT_WRITE);

		if (!p)
			_exit(3);
		t6_process(p, 6, until);
	}
	plain_kid = fork();
	if (plain_kid == 0) {
		char *q = mmap(NULL, size, PROT_READ, MAP_SHARED, mfd, 0);

		if (q == MAP_FAILED)
			_exit(3);
		t6_process(q, 6, until);
	}
	ASSERT_EQ(plain_kid, waitpid(plain_kid, &status, 0));
	EXPECT_EQ(0, status) TH_LOG("plain mapping read other bytes");
	ASSERT_EQ(region_kid, waitpid(region_kid, &status, 0));
	EXPECT_EQ(0, status) TH_LOG("region: status %#x (exit 1: read other bytes than the file's)",
				    status);
	close(mfd);
	remove_region(rfd, "tl-t6");
	/* The host goes a little after its region: wait for its tables. */
	for (i = 0; i < 100; i++) {
		after = meminfo_kb("PageTables");
		if (after <= before)
			break;
		usleep(50000);
	}
	/*
	 * PageTables moves by tens of kB in an idle guest; a host that kept
	 * its tables is caught by DEBUG_VM's check_mm() on the debug kernel.
	 */
	TH_LOG("PageTables %ld kB, was %ld kB", after, before);
	EXPECT_LE(after, before + 256);
}

/*
 * A region of @size over a memfd filled with @salt (object_region()),
 * attached read-write at *@p, and a plain shared mapping of the same memfd
 * at *@q: the region's fd, or -1.
 */
static int region_and_plain(const char *name, unsigned long size, int salt,
			    int *mfd, char **p, char **q)
{
	int rfd = object_region(name, size, salt, mfd);

	*p = rfd < 0 ? NULL : attach(rfd, size, PROT_READ | PROT_WRITE);
	*q = *p ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *mfd, 0)
		: MAP_FAILED;
	return *q == MAP_FAILED ? -1 : rfd;
}

/*
 * T10. PROTECT while the region's pages are migrated (compaction) and
 * reclaimed (MADV_PAGEOUT) by another process: after each PROTECT, reads
 * and writes through the region get what they get through a plain
 * mapping of the same memfd given the same protection with mprotect()
 * (the byte, or SIGSEGV), and every write lands in the file. A page
 * migrated while read-only must not come back writable.
 */
static void t10_churn(char *q, unsigned long size, time_t until)
{
	int fd = open("/proc/sys/vm/compact_memory", O_WRONLY);

	while (time(NULL) < until) {
		madvise(q, size, MADV_PAGEOUT);
		touch_pages(q, size);
		if (fd >= 0)
			pwrite(fd, "1", 1, 0);
	}
	_exit(0);
}

TEST_F(tl, protect_while_pages_migrate_as_mprotect_does)
{
	static const unsigned long prots[] = { PROT_READ, PROT_NONE,
					       PROT_READ | PROT_WRITE };
	unsigned long size = self->align, off;
	int rfd, mfd, k, o, rounds = 0, status;
	pid_t churn;
	char *p, *q, v = 0, b;
	time_t until;

	rfd = region_and_plain("tl-t10", size, 10, &mfd, &p, &q);
	ASSERT_LE(0, rfd);
	until = deadline(4);	/* after filling it: slow on debug kernels */
	churn = fork();
	if (churn == 0)
		t10_churn(q, size, until);
	do {
		for (k = 0; k < 3; k++) {
			ASSERT_EQ(0, protect_err(rfd, 0, size, prots[k]));
			ASSERT_EQ(0, mprotect(q, size, prots[k]));
			for (o = 0; o < 3; o++) {
				off = (o * 211 + rounds) % (size / PG) * PG;
				EXPECT_EQ(probe_read(q + off), probe_read(p + off))
					TH_LOG("round %d, prot %lu, %#lx", rounds, prots[k], off);
				v++;
				EXPECT_EQ(probe_write(q + off, v), probe_write(p + off, v))
					TH_LOG("round %d, prot %lu, %#lx", rounds, prots[k], off);
				if (prots[k] & PROT_WRITE) {
					ASSERT_EQ(1, pread(mfd, &b, 1, off));
					EXPECT_EQ(v, b);
				}
			}
		}
		rounds++;
	} while (time(NULL) < until);
	ASSERT_EQ(churn, waitpid(churn, &status, 0));
	EXPECT_EQ(0, status);
	TH_LOG("%d rounds", rounds);
	for (off = 0; off < size; off += PG) {
		ASSERT_EQ(1, pread(mfd, &b, 1, off));
		ASSERT_EQ(b, p[off]) TH_LOG("offset %#lx", off);
	}
	munmap(q, size);
	munmap(p, size);
	close(mfd);
	remove_region(rfd, "tl-t10");
}

/*
 * T9. PROTECT changes the region's one set of PTEs in place, as mprotect()
 * changes a plain mapping's: afterwards every page reads and writes as
 * through a plain mapping of the same memfd given the same protection
 * (the byte, or SIGSEGV), and reading every page takes at most one fault
 * per 2 MiB table (the sharer links the table again), where mapping the
 * pieces again took one per 16 pages (fault-around). Whole range, then a
 * range that cuts the host's mapping at unaligned ends, then PROT_NONE.
 */
/* Minor faults taken reading every page of @p; the sum in *@sum. */
static long read_faults(const char *p, unsigned long size, long *sum)
{
	long f = minor_faults();
	unsigned long off;

	*sum = 0;
	for (off = 0; off < size; off += PG)
		*sum += __atomic_load_n(p + off, __ATOMIC_RELAXED);
	return minor_faults() - f;
}

/* Both get @prot over [off, off + len): PROTECT and mprotect(). */
static void protect_both(struct __test_metadata *_metadata, int rfd,
			 char *p, char *q, unsigned long off, unsigned long len,
			 unsigned long prot, bool was_none)
{
	long sp, sq, fp, fq;

	ASSERT_EQ(0, protect_err(rfd, off, len, prot));
	ASSERT_EQ(0, mprotect(q + off, len, prot));
	if (!(prot & PROT_READ))
		return;
	fq = read_faults(q + off, len, &sq);
	fp = read_faults(p + off, len, &sp);
	TH_LOG("PROTECT %lu of %lu MiB: %ld faults to read it, plain %ld",
	       prot, len / MB, fp, fq);
	EXPECT_EQ(sq, sp);
	EXPECT_EQ(0, fq);
	/*
	 * A link per PMD table of the sharer's (1 GiB, link-around: at most
	 * two for 16 MiB), and the refaults of the pages mapped again to cut
	 * the host's mapping (two); mapping it all again took one per page.
	 * PROT_NONE is made by mapping again (no entries): its pages refault.
	 */
	if (!was_none)
		EXPECT_GE(2 + 4, fp)
			TH_LOG("%ld faults reading %lu MiB after PROTECT %lu",
			       fp, len / MB, prot);
}

/* A read and a write of page @off agree; @v the next byte. */
static void probe_page(struct __test_metadata *_metadata, int mfd, char *p,
		       char *q, unsigned long off, char *v)
{
	int w;
	char b;

	EXPECT_EQ(probe_read(q + off), probe_read(p + off))
		TH_LOG("offset %#lx", off);
	++*v;
	w = probe_write(p + off, *v);
	EXPECT_EQ(probe_write(q + off, *v), w) TH_LOG("offset %#lx", off);
	ASSERT_EQ(1, pread(mfd, &b, 1, off));
	if (w < PROBE_SIGNAL)	/* it landed in the file */
		EXPECT_EQ(*v, b) TH_LOG("offset %#lx", off);
}

/*
 * In a child: read @first (a sharer links its table), then write @then:
 * 0, or PROBE_SIGNAL + the signal that killed it.
 */
static int write_after_read(char *first, char *then)
{
	int status;
	pid_t c = fork();

	if (c == 0) {
		(void)__atomic_load_n(first, __ATOMIC_SEQ_CST);
		__atomic_store_n(then, 1, __ATOMIC_SEQ_CST);
		_exit(0);
	}
	if (c < 0 || waitpid(c, &status, 0) != c)
		return -1;
	return WIFSIGNALED(status) ? PROBE_SIGNAL + WTERMSIG(status) : 0;
}

/*
 * Sample pages of [0, size): both ends of every 2 MiB and a stride
 * between, and the pages on either side of @cut and @cut_end.
 */
static void probe_both(struct __test_metadata *_metadata, int mfd, char *p,
		       char *q, unsigned long size, unsigned long cut,
		       unsigned long cut_end, char *v)
{
	const unsigned long edges[] = { cut - PG, cut, cut_end - PG, cut_end };
	unsigned long off;
	unsigned int i;

	for (off = 0; off < size; off += off % (2 * MB) ? 61 * PG : PG)
		probe_page(_metadata, mfd, p, q, off, v);
	for (i = 0; i < ARRAY_SIZE(edges); i++)
		probe_page(_metadata, mfd, p, q, edges[i], v);
	/* Through a table linked by an access beside it. */
	for (i = 0; i + 1 < ARRAY_SIZE(edges); i += 2) {
		EXPECT_EQ(write_after_read(q + edges[i], q + edges[i + 1]),
			  write_after_read(p + edges[i], p + edges[i + 1]));
		EXPECT_EQ(write_after_read(q + edges[i + 1], q + edges[i]),
			  write_after_read(p + edges[i + 1], p + edges[i]));
	}
}

TEST_F(tl, protect_changes_the_shared_ptes_once_as_mprotect_does)
{
	unsigned long size = self->align > 16 * MB ? self->align : 16 * MB;
	unsigned long cut = 3 * MB + 3 * PG, cut_len = size - cut - 5 * MB - 2 * PG;
	int rfd, mfd;
	char *p, *q, v = 0;
	long sum;

	rfd = region_and_plain("tl-t9", size, 9, &mfd, &p, &q);
	ASSERT_LE(0, rfd);
	read_faults(p, size, &sum);	/* host PTEs and links in place */
	read_faults(q, size, &sum);
	protect_both(_metadata, rfd, p, q, 0, size, PROT_READ, false);
	probe_both(_metadata, mfd, p, q, size, cut, cut + cut_len, &v);
	protect_both(_metadata, rfd, p, q, 0, size, PROT_READ | PROT_WRITE, false);
	probe_both(_metadata, mfd, p, q, size, cut, cut + cut_len, &v);
	protect_both(_metadata, rfd, p, q, cut, cut_len, PROT_READ, false);
	probe_both(_metadata, mfd, p, q, size, cut, cut + cut_len, &v);
	protect_both(_metadata, rfd, p, q, cut, cut_len, PROT_NONE, false);
	probe_both(_metadata, mfd, p, q, size, cut, cut + cut_len, &v);
	protect_both(_metadata, rfd, p, q, 0, size, PROT_READ | PROT_WRITE, true);
	probe_both(_metadata, mfd, p, q, size, cut, cut + cut_len, &v);
	munmap(q, size);
	munmap(p, size);
	close(mfd);
	remove_region(rfd, "tl-t9");
}

/* mm->exec_vm of @pid in kB: VmExe (the text part) plus VmLib, or -1. */
static long vm_exe_kb(pid_t pid)
{
	long exe = proc_status_kb(pid, "VmExe"), lib = proc_status_kb(pid, "VmLib");

	return exe < 0 || lib < 0 ? -1 : exe + lib;
}

/*
 * T9, accounting: PROTECT in and out of PROT_EXEC moves the host's
 * exec_vm (VmExe + VmLib) as mprotect() moves this process's for a plain mapping
 * of the same memfd, and UNMAP takes back exactly what was counted (a
 * debug kernel WARNs in munmap when exec_vm would go below zero).
 */
TEST_F(tl, protect_to_exec_and_back_accounts_as_mprotect_does)
{
	unsigned long size = self->align > 16 * MB ? self->align : 16 * MB;
	unsigned long cut = 3 * MB + 3 * PG, cut_len = 5 * MB + 5 * PG;
	const int rx = PROT_READ | PROT_EXEC, rw = PROT_READ | PROT_WRITE;
	long host0, self0, sum;
	int rfd, mfd;
	pid_t host;
	char *p, *q;

	rfd = object_region("tl-t9x", size, 19, &mfd);
	ASSERT_LE(0, rfd);
	p = attach(rfd, size, rw | PROT_EXEC);
	ASSERT_NE(NULL, p);
	q = mmap(NULL, size, rw, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	host = host_pid_of("tl-t9x");
	ASSERT_LT(0, host);
	read_faults(p, size, &sum);
	host0 = vm_exe_kb(host);
	self0 = vm_exe_kb(getpid());
	ASSERT_LE(0, host0);
	ASSERT_EQ(0, protect_err(rfd, cut, cut_len, rx));
	ASSERT_EQ(0, mprotect(q + cut, cut_len, rx));
	EXPECT_EQ(vm_exe_kb(getpid()) - self0, vm_exe_kb(host) - host0);
	EXPECT_EQ((long)(cut_len >> 10), vm_exe_kb(host) - host0);
	ASSERT_EQ(0, protect_err(rfd, 0, size, rw));
	ASSERT_EQ(0, mprotect(q, size, rw));
	EXPECT_EQ(host0, vm_exe_kb(host));
	EXPECT_EQ(self0, vm_exe_kb(getpid()));
	ASSERT_EQ(0, protect_err(rfd, cut, cut_len, rx));
	EXPECT_EQ((long)(cut_len >> 10), vm_exe_kb(host) - host0);
	ASSERT_EQ(0, protect_err(rfd, 0, size, rx));
	EXPECT_EQ((long)(size >> 10), vm_exe_kb(host) - host0);
	ASSERT_EQ(0, unmap_err(rfd, 0, size));
	EXPECT_EQ(host0, vm_exe_kb(host));
	munmap(q, size);
	munmap(p, size);
	close(mfd);
	remove_region(rfd, "tl-t9x");
}

/*
 * T11. After MADV_DONTNEED of 2 MiB pieces, the first access that cannot
 * retry (a /proc/self/mem read: GUP without FAULT_FLAG_ALLOW_RETRY) reads
 * what a plain mapping gives, on kernels whose walkers revalidate a PMD
 * under RCU (6.5+: the link is cleared, and the access links it again).
 * 6.1 parks the link and fails such an access (EFAULT from GUP, EIO from
 * /proc/PID/mem: documented in mshare.rst); there the test allows that.
 */
/* A /proc/self/mem read of @p: the byte, or -errno. */
static int mem_read(int memfd, const char *p)
{
	char b;

	if (pread(memfd, &b, 1, (off_t)(unsigned long)p) != 1)
		return -errno;
	return (unsigned char)b;
}

TEST_F(tl, first_access_that_cannot_retry_after_dontneed)
{
	unsigned long size = 4 * MB, off;	/* PMD links, 2 MiB aligned */
	int rfd, mfd, memfd, plain, region;
	char *p, *q;

	rfd = region_and_plain("tl-t11", size, 11, &mfd, &p, &q);
	ASSERT_LE(0, rfd);
	memfd = open("/proc/self/mem", O_RDONLY);
	ASSERT_LE(0, memfd);
	for (off = 0; off < size; off += 2 * MB) {
		ASSERT_EQ(q[off + 5], p[off + 5]);	/* linked */
		ASSERT_EQ(0, madvise(p + off, 2 * MB, MADV_DONTNEED));
		ASSERT_EQ(0, madvise(q + off, 2 * MB, MADV_DONTNEED));
		plain = mem_read(memfd, q + off + 5);
		region = mem_read(memfd, p + off + 5);
		ASSERT_LE(0, plain);
		if (kernel_at_least(6, 5)) {	/* RCU PMD walkers */
			EXPECT_EQ(plain, region) TH_LOG("piece %lu", off / (2 * MB));
		} else {
			/* /proc/PID/mem says EIO when GUP fails (EFAULT). */
			EXPECT_TRUE(region == plain || region == -EIO)
				TH_LOG("piece %lu: %d", off / (2 * MB), region);
		}
		EXPECT_EQ(q[off + 5], p[off + 5]);
	}
	close(memfd);
	munmap(q, size);
	munmap(p, size);
	close(mfd);
	remove_region(rfd, "tl-t11");
}

/*
 * T7. userfaultfd write-protect tracking would miss what a sharer writes
 * through the host's tables, so a region refuses it, in the synchronous
 * and (where the kernel has it, 6.7+) the asynchronous mode, where a
 * plain shared mapping of the same memfd accepts it.
 */
static int uffd_wp_register(void *p, unsigned long size, __u64 features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	struct uffdio_register reg = {
		.range = { (unsigned long)p, size },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	int uffd = syscall(__NR_userfaultfd, O_CLOEXEC), ret = 0;

	struct uffdio_writeprotect wp = {
		.range = { (unsigned long)p, size },
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};

	if (uffd < 0)
		return -errno;
	if (ioctl(uffd, UFFDIO_API, &api))
		ret = -ENOTSUP;		/* this kernel lacks @features */
	else if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		ret = -errno;
	else
		ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);	/* then unregistered */
	close(uffd);
	return ret;
}

TEST_F(tl, userfaultfd_write_protect_is_refused_where_plain_accepts)
{
	static const __u64 modes[] = { 0, UFFD_FEATURE_WP_ASYNC };
	unsigned long size = self->align;
	int rfd, mfd, m, plain, region, status;
	unsigned long off;
	pid_t pid;
	char *p, *q;

	m = syscall(__NR_userfaultfd, O_CLOEXEC);
	if (m < 0)
		SKIP(return, "no userfaultfd here (%s)", strerror(errno));
	close(m);
	rfd = region_and_plain("tl-t7", size, 7, &mfd, &p, &q);
	ASSERT_LE(0, rfd);
	for (m = 0; m < 2; m++) {
		plain = uffd_wp_register(q, size, modes[m]);
		region = uffd_wp_register(p, size, modes[m]);
		TH_LOG("%s write-protect: plain %s, region %s",
		       m ? "asynchronous" : "synchronous",
		       plain ? strerror(-plain) : "registered",
		       region ? strerror(-region) : "registered");
		if (plain == -ENOTSUP || plain == -EPERM)
			continue;	/* not on this kernel, or not for root */
		EXPECT_EQ(0, plain);
		/*
		 * EINVAL: 6.1 lets no file VMA but shmem's and hugetlbfs's
		 * register, 7.x no VM_SPECIAL one; 6.7+ before that (6.12)
		 * lets any VMA register for asynchronous tracking, and the
		 * region then links nothing (Documentation/mshare.rst).
		 */
		if (m && region == 0) {
			/*
			 * 6.12: write-protected, then unregistered (close).
			 * This mapping keeps tables of its own there (SIGBUS:
			 * mshare.rst); a fresh one (a child's: region VMAs
			 * are wiped on fork) reads the object's content.
			 */
			pid = fork();
			if (pid == 0) {
				for (off = 0; off < size; off += PG)
					if (q[off] != p[off])
						_exit(1);
				_exit(0);
			}
			ASSERT_EQ(pid, waitpid(pid, &status, 0));
			EXPECT_EQ(0, status);
			continue;
		}
		EXPECT_EQ(-EINVAL, region);
	}
	munmap(q, size);
	munmap(p, size);
	close(mfd);
	remove_region(rfd, "tl-t7");
}

/*
 * T8. The namespace operations of a filesystem, on a fresh msharefs and a
 * fresh tmpfs, round after round: each gives the same result on both,
 * the parent's mtime moves on both, and both unmount with files and
 * directories left in them.
 */
/* Create @path with @flags: 0 or the errno. */
static int create_at(const char *path, int flags)
{
	int fd = open(path, O_RDWR | O_CREAT | flags, 0600);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static void ns_ops(const char *root, int *res, int *n)
{
	char a[96], b[96], d[96], e[96];
	struct stat st0, st1;

#define NS_OP(call) (res[(*n)++] = (call) ? errno : 0)
	snprintf(a, sizeof(a), "%s/a", root);
	snprintf(b, sizeof(b), "%s/d/b", root);
	snprintf(d, sizeof(d), "%s/d", root);
	snprintf(e, sizeof(e), "%s/e", root);
	stat(root, &st0);
	usleep(10000);
	res[(*n)++] = create_at(a, O_EXCL);
	res[(*n)++] = create_at(a, O_EXCL);
	NS_OP(mkdir(d, 0700));
	NS_OP(mkdir(d, 0700));
	NS_OP(rename(a, b));
	NS_OP(rmdir(d));
	NS_OP(link(b, a));
	NS_OP(unlink(b));
	NS_OP(rename(a, e));
	NS_OP(rename(e, d));
	NS_OP(rmdir(d));
	NS_OP(unlink(e));
	NS_OP(unlink(e));
	NS_OP(mkdir(d, 0700));
	res[(*n)++] = create_at(b, 0);
	stat(root, &st1);
	res[(*n)++] = st1.st_mtim.tv_sec > st0.st_mtim.tv_sec ||
		      (st1.st_mtim.tv_sec == st0.st_mtim.tv_sec &&
		       st1.st_mtim.tv_nsec > st0.st_mtim.tv_nsec);
	NS_OP(unlink(b));
	NS_OP(rmdir(d));
#undef NS_OP
}

TEST_F(tl, namespace_operations_as_on_tmpfs)
{
	static const char mdir[] = "/tmp/tl-msharefs", tdir[] = "/tmp/tl-tmpfs";
	int mres[32], tres[32], mn, tn, round, i;

	mkdir(mdir, 0755);
	mkdir(tdir, 0755);
	for (round = 0; round < 100; round++) {
		ASSERT_EQ(0, mount("none", mdir, "msharefs", 0, NULL));
		ASSERT_EQ(0, mount("none", tdir, "tmpfs", 0, NULL));
		mn = 0;
		tn = 0;
		ns_ops(mdir, mres, &mn);
		ns_ops(tdir, tres, &tn);
		ASSERT_EQ(tn, mn);
		for (i = 0; i < mn; i++)
			ASSERT_EQ(tres[i], mres[i]) TH_LOG("round %d, step %d", round, i);
		/* Left behind for the unmount. */
		create_at("/tmp/tl-msharefs/f", 0);
		mkdir("/tmp/tl-msharefs/g", 0700);
		ASSERT_EQ(0, umount(mdir));
		ASSERT_EQ(0, umount(tdir));
	}
	rmdir(mdir);
	rmdir(tdir);
}

/* Last (tests run in order): the module must unload after the suite. */
TEST_F(tl, zz_unmount_after_the_suite)
{
	EXPECT_EQ(0, umount(MNT));
}

TEST_HARNESS_MAIN
