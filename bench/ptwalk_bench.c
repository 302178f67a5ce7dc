// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk against the pagemap route (what page-types does) on the same
 * populated 1 GiB mapping: a full leaf dump with page flags, and a
 * summary. Prints "BENCH,<bench>,<metric>,<value>,<unit>" lines.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

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

static double best(double a, double b)
{
	return a < b ? a : b;
}

int main(void)
{
	char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	double tp = 1e9, td = 1e9, ts = 1e9, tb = 1e9;
	unsigned long i, bytes = 0, sbytes = 0, bbytes = 0;
	int r;

	if (p == MAP_FAILED || access(PTWALK_FILE, F_OK)) {
		fprintf(stderr, "ptwalk_bench: need 1 GiB and the ptwalk module\n");
		return 4;
	}
	madvise(p, SIZE, MADV_NOHUGEPAGE);	/* 262144 4K leaves */
	for (i = 0; i < SIZE; i += PG)
		p[i] = 1;
	for (r = 0; r < RUNS; r++) {
		tp = best(tp, pagemap_route((unsigned long)p));
		td = best(td, ptwalk_route((unsigned long)p, "leaves", &bytes));
		ts = best(ts, ptwalk_route((unsigned long)p, "summary", &sbytes));
		tb = best(tb, ptwalk_route((unsigned long)p, "leaves format=bin", &bbytes));
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
	return 0;
}
