// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk against the pagemap route (what page-types does) on the same
 * populated 1 GiB mapping: a full leaf dump with page flags, and a
 * summary. Then the census of 64 processes that map the same 1 GiB memfd
 * against the pagemap route to the same duplicate count (read every
 * process's pagemap, hash each 2 MiB window). Where the kernel has
 * PAGEMAP_SCAN (6.7+), the summary also against that ioctl answering the
 * summary's page counts for the same range. Prints
 * "BENCH,<bench>,<metric>,<value>,<unit>" lines, and "# goal:" and
 * "# anchor:" lines that make bench repeats.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pagemap_scan.h"
#include "ptwalk_lib.h"

#define PG 4096UL
#define SIZE (1UL << 30)
#define NPAGES (SIZE / PG)
#define BATCH 512
#define RUNS 3

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* page-types' route: pagemap in batches, then flags and count per PFN. */
static double pagemap_route(unsigned long start)
{
	int pm = open("/proc/self/pagemap", O_RDONLY);
	int kf = open("/proc/kpageflags", O_RDONLY);
	int kc = open("/proc/kpagecount", O_RDONLY);
	uint64_t ent[BATCH], flags, count, sum = 0;
	unsigned long i, j;
	double t = now();

	for (i = 0; i < NPAGES; i += BATCH) {
		if (pread(pm, ent, sizeof(ent), (start / PG + i) * 8) != sizeof(ent))
			exit(1);
		for (j = 0; j < BATCH; j++) {
			unsigned long pfn = PM_PFN(ent[j]);

			if (!(ent[j] & PM_PRESENT))
				continue;
			if (pread(kf, &flags, 8, pfn * 8) != 8 ||
			    pread(kc, &count, 8, pfn * 8) != 8)
				exit(1);
			sum += flags + count;
		}
	}
	t = now() - t;
	close(pm);
	close(kf);
	close(kc);
	if (!sum)
		exit(1);
	return t;
}

static double ptwalk_route(unsigned long start, const char *view,
			   unsigned long *bytes)
{
	char q[160], buf[1 << 16];
	double t = now();
	ssize_t n;
	int fd = open(PTWALK_FILE, O_RDWR);

	/* @view may carry its own format=; kv is the default here. */
	snprintf(q, sizeof(q), "pid=self view=%s%s start=0x%lx end=0x%lx",
		 view, strchr(view, '=') ? "" : " format=kv", start, start + SIZE);
	if (fd < 0 || write(fd, q, strlen(q)) < 0)
		exit(1);
	*bytes = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		*bytes += n;
	t = now() - t;
	close(fd);
	return t;
}

/*
 * The kernel's own answer to the question the summary's leaf counts
 * answer: how many pages of the range are present (leaves_4k + protnone,
 * and leaves_2m * 512 with PAGE_IS_HUGE), how many are swapped (any
 * non-present kind), page by page from PAGEMAP_SCAN regions, as
 * selftests/ptwalk/pagemap_scan_test.c compares them. 0 with the time in
 * @t, or -errno (ENOTTY before 6.7).
 */
#define SCAN_CATS	(PAGE_IS_PRESENT | PAGE_IS_SWAPPED | PAGE_IS_HUGE)
#define SCAN_VEC	1024

static int pagemap_scan_route(unsigned long start, double *t,
			      unsigned long *present)
{
	static struct page_region vec[SCAN_VEC];
	struct pm_scan_arg arg = {
		.size = sizeof(arg), .start = start, .end = start + SIZE,
		.vec = (uintptr_t)vec, .vec_len = SCAN_VEC,
		.category_anyof_mask = SCAN_CATS, .return_mask = SCAN_CATS,
	};
	unsigned long count[2] = { 0, 0 };
	double t0 = now();
	int fd = open("/proc/self/pagemap", O_RDONLY);
	long n, i;

	if (fd < 0)
		exit(1);
	do {
		n = ioctl(fd, PAGEMAP_SCAN, &arg);
		if (n < 0) {
			n = -errno;
			close(fd);
			return n;
		}
		for (i = 0; i < n; i++)
			count[!!(vec[i].categories & PAGE_IS_SWAPPED)] +=
				(vec[i].end - vec[i].start) / PG;
		arg.start = arg.walk_end;
	} while (arg.start < arg.end);
	*t = now() - t0;
	close(fd);
	*present = count[0];
	return 0;
}

static void check_goal(const char *what, double ratio, double min)
{
	printf("# goal: %s: %.2fx (goal >= %gx): %s\n", what, ratio, min,
	       ratio >= min ? "holds" : "FAILS");
}

static double best(double a, double b)
{
	return a < b ? a : b;
}

/* ---------------------------------------------------------------- census */

#define CENSUS_PROCS	64

/* Count windows whose hash was seen before: the duplicates. */
struct seen {
	uint64_t *slot;
	unsigned long mask, dups, windows;
};

static void seen_add(struct seen *s, uint64_t h)
{
	unsigned long i;

	h |= 1;		/* 0 marks an empty slot */
	for (i = h & s->mask; s->slot[i]; i = (i + 1) & s->mask) {
		if (s->slot[i] == h) {
			s->dups++;
			return;
		}
	}
	s->slot[i] = h;
	s->windows++;
}

/* One process: pagemap of every VMA in /proc/PID/maps, per 2 MiB window. */
static void pagemap_census_pid(const char *pid, struct seen *s)
{
	char path[300], line[512];
	uint64_t ent[BATCH];
	FILE *maps;
	int pm;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%s/pagemap", pid);
	pm = open(path, O_RDONLY);
	while (maps && pm >= 0 && fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi, w;

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		for (w = lo & ~(BATCH * PG - 1); w < hi; w += BATCH * PG) {
			uint64_t h = 0xcbf29ce484222325ULL;
			bool any = false;
			unsigned int j;

			if (pread(pm, ent, sizeof(ent), w / PG * 8) != sizeof(ent))
				break;
			for (j = 0; j < BATCH; j++) {
				uint64_t pfn = (ent[j] & PM_PRESENT) ? PM_PFN(ent[j]) : 0;

				any |= pfn != 0;
				h = (h ^ pfn) * 0x100000001b3ULL;
			}
			if (any)
				seen_add(s, h);
		}
	}
	if (maps)
		fclose(maps);
	if (pm >= 0)
		close(pm);
}

static double pagemap_census(unsigned long *dups)
{
	struct seen s = { .mask = (1UL << 20) - 1 };
	struct dirent *d;
	double t = now();
	DIR *dir;

	s.slot = calloc(s.mask + 1, sizeof(*s.slot));
	dir = opendir("/proc");
	while (s.slot && dir && (d = readdir(dir)) != NULL)
		if (d->d_name[0] >= '1' && d->d_name[0] <= '9')
			pagemap_census_pid(d->d_name, &s);
	t = now() - t;
	if (dir)
		closedir(dir);
	free(s.slot);
	*dups = s.dups;
	return t;
}

/* view=census over every process; its totals line into @total. */
static double ptwalk_census(char *total, size_t len)
{
	static char buf[1 << 20];
	size_t got = 0;
	double t = now();
	const char *q = "view=census pid=all format=kv";
	int fd = open(PTWALK_FILE, O_RDWR);
	ssize_t n;
	char *l;

	if (fd < 0 || write(fd, q, strlen(q)) < 0)
		exit(1);
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	t = now() - t;
	close(fd);
	buf[got] = '\0';
	l = strstr(buf, "rec=total ");
	if (!l)
		exit(1);
	snprintf(total, len, "%.*s", (int)strcspn(l, "\n"), l);
	return t;
}

static void census_bench(void)
{
	int fd = memfd_create("census_bench", 0);
	unsigned long dups = 0;
	pid_t kids[CENSUS_PROCS];
	double tp = 1e9, tc = 1e9;
	char total[512];
	int i, r;
	char *m;

	if (fd < 0 || ftruncate(fd, SIZE))
		exit(1);
	m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		exit(1);
	for (i = 0; i < (int)SIZE; i += PG)
		m[i] = 1;
	munmap(m, SIZE);
	for (i = 0; i < CENSUS_PROCS; i++) {
		int pfd[2];
		char c = 0;

		if (pipe(pfd))
			exit(1);
		kids[i] = fork();
		if (!kids[i]) {
			m = mmap(NULL, SIZE, PROT_READ, MAP_SHARED | MAP_POPULATE,
				 fd, 0);
			if (m == MAP_FAILED || write(pfd[1], &c, 1) != 1)
				_exit(1);
			for (;;)
				pause();
		}
		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			exit(1);
		close(pfd[0]);
	}
	for (r = 0; r < RUNS; r++) {
		tp = best(tp, pagemap_census(&dups));
		tc = best(tc, ptwalk_census(total, sizeof(total)));
	}
	for (i = 0; i < CENSUS_PROCS; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	close(fd);
	printf("BENCH,ptwalk,census_procs,%d,processes\n", CENSUS_PROCS);
	printf("BENCH,ptwalk,census_pagemap_s,%.4f,s\n", tp);
	printf("BENCH,ptwalk,census_s,%.4f,s\n", tc);
	printf("BENCH,ptwalk,census_pagemap_rate,%.0f,entries/s\n",
	       CENSUS_PROCS * NPAGES / tp);
	printf("BENCH,ptwalk,census_rate,%.0f,entries/s\n",
	       CENSUS_PROCS * NPAGES / tc);
	printf("BENCH,ptwalk,census_speedup,%.2f,x\n", tp / tc);
	printf("BENCH,ptwalk,census_pagemap_dup_windows,%lu,windows\n", dups);
	printf("BENCH,ptwalk,census_dup_tables,%lld,tables\n",
	       kv_num(total, "dup_tables"));
	printf("BENCH,ptwalk,census_saved_bytes,%lld,bytes\n",
	       kv_num(total, "saved_bytes"));
	printf("BENCH,ptwalk,census_tables,%lld,tables\n",
	       kv_num(total, "tables"));
	printf("BENCH,ptwalk,census_memory,%lld,bytes\n",
	       kv_num(total, "memory"));
}

int main(void)
{
	char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double tp = 1e9, td = 1e9, ts = 1e9, tb = 1e9, tq = 1e9, t;
	unsigned long i, bytes = 0, sbytes = 0, bbytes = 0, present = 0;
	struct utsname u;
	int r, scan = 0;

	if (p == MAP_FAILED || access(PTWALK_FILE, F_OK)) {
		fprintf(stderr, "ptwalk_bench: need 1 GiB and the ptwalk module\n");
		return 4;
	}
	/* First, while this process has nothing big for the children to copy. */
	munmap(p, SIZE);
	census_bench();
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	madvise(p, SIZE, MADV_NOHUGEPAGE);	/* 262144 4K leaves */
	for (i = 0; i < SIZE; i += PG)
		p[i] = 1;
	for (r = 0; r < RUNS; r++) {
		tp = best(tp, pagemap_route((unsigned long)p));
		td = best(td, ptwalk_route((unsigned long)p, "leaves", &bytes));
		ts = best(ts, ptwalk_route((unsigned long)p, "summary", &sbytes));
		tb = best(tb, ptwalk_route((unsigned long)p, "leaves format=bin", &bbytes));
		if (!scan)	/* until it fails: ENOTTY before 6.7 */
			scan = pagemap_scan_route((unsigned long)p, &t, &present);
		if (!scan) {
			/* Every page written, no THP: all present, none huge. */
			if (present != NPAGES)
				return 1;
			tq = best(tq, t);
		}
	}
	printf("BENCH,ptwalk,entries,%lu,pages\n", NPAGES);
	printf("BENCH,ptwalk,pagemap_route_s,%.4f,s\n", tp);
	printf("BENCH,ptwalk,leaves_dump_s,%.4f,s\n", td);
	printf("BENCH,ptwalk,summary_s,%.4f,s\n", ts);
	printf("BENCH,ptwalk,leaves_bin_s,%.4f,s\n", tb);
	printf("BENCH,ptwalk,pagemap_route_rate,%.0f,entries/s\n", NPAGES / tp);
	printf("BENCH,ptwalk,leaves_dump_rate,%.0f,entries/s\n", NPAGES / td);
	printf("BENCH,ptwalk,summary_rate,%.0f,entries/s\n", NPAGES / ts);
	printf("BENCH,ptwalk,leaves_bin_rate,%.0f,entries/s\n", NPAGES / tb);
	printf("BENCH,ptwalk,dump_speedup,%.2f,x\n", tp / td);
	printf("BENCH,ptwalk,summary_speedup,%.2f,x\n", tp / ts);
	printf("BENCH,ptwalk,bin_dump_speedup,%.2f,x\n", tp / tb);
	printf("BENCH,ptwalk,dump_bytes,%lu,bytes\n", bytes);
	check_goal("binary leaf dump vs pagemap route", tp / tb, 2);
	check_goal("summary vs pagemap route", tp / ts, 10);
	uname(&u);
	if (!scan) {
		printf("BENCH,ptwalk,pagemap_scan_s,%.4f,s\n", tq);
		printf("BENCH,ptwalk,pagemap_scan_rate,%.0f,entries/s\n", NPAGES / tq);
		printf("BENCH,ptwalk,summary_vs_pagemap_scan,%.2f,x\n", tq / ts);
		printf("# anchor: summary vs PAGEMAP_SCAN (present, swapped, huge) on %s: ",
		       u.release);
		printf("%.2fx (%s)\n", tq / ts,
		       tq > ts ? "ptwalk faster" : "PAGEMAP_SCAN faster");
	} else {
		printf("# anchor: PAGEMAP_SCAN absent on %s (%s; added in 6.7): ",
		       u.release, strerror(-scan));
		printf("summary_vs_pagemap_scan not measured\n");
	}
	return 0;
}
