// SPDX-License-Identifier: GPL-2.0
/*
 * toyalloc benchmark, in one guest run: the toy buddy against
 * alloc_pages()/__free_pages() at orders 0, 3 and 9, the toy slab against
 * kmem_cache_alloc()/kmem_cache_free() at 64 and 512 bytes, the cost of
 * the live kmem probes (and of ftrace on the same events) on a kmalloc
 * loop, a page loop and a socket message loop, and the replay of a trace
 * recorded here under each policy (fragmentation over time).
 *
 * Prints BENCH,toyalloc,<metric>,<value>,<unit> and
 * BENCH,toyalloc_replay,<policy>,<event>,<unusable order 3>,<unusable order 9>,
 * and "# goal:" lines that make bench repeats.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/toyalloc.h>

#define DBG "/sys/kernel/debug/toyalloc/"
#define TRACEFS "/sys/kernel/tracing/"
#define REPEATS 5
#define ROUNDS 9
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int toy_fd;

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

static char *read_all(const char *path, size_t *lenp)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	buf[len] = 0;
	if (lenp)
		*lenp = len;
	return buf;
}

/* Best of REPEATS runs, in nanoseconds per alloc+free pair. */
static double bench(unsigned int kind, unsigned int param, unsigned long iters)
{
	struct toyalloc_bench b = { .kind = kind, .param = param, .batch = 1,
				    .iterations = iters };
	double best = 0, ns;
	int i;

	for (i = 0; i < REPEATS; i++) {
		if (ioctl(toy_fd, TOYALLOC_IOC_BENCH, &b)) {
			perror("TOYALLOC_IOC_BENCH");
			exit(1);
		}
		ns = (double)b.nsecs / iters;
		if (!i || ns < best)
			best = ns;
	}
	return best;
}

/* The toy's time within @max times the real allocator's. */
static void compare(const char *what, unsigned int toy_kind, unsigned int real_kind,
		    unsigned int param, unsigned long iters, double max)
{
	double toy = bench(toy_kind, param, iters), real = bench(real_kind, param, iters);

	printf("BENCH,toyalloc,%s_toy,%.1f,ns/pair\n", what, toy);
	printf("BENCH,toyalloc,%s_real,%.1f,ns/pair\n", what, real);
	printf("BENCH,toyalloc,%s_ratio,%.2f,toy/real\n", what, toy / real);
	printf("# goal: %s toy/real: %.2f (goal <= %g): %s\n", what, toy / real,
	       max, toy / real <= max ? "holds" : "FAILS");
}

#define SOCKET_LOOP	(~0u)
#define MESSAGES	20000

/*
 * A user-space loop whose kernel work is mostly allocation: datagrams
 * over a socketpair, each one an skb head (kmem_cache_alloc) and its data
 * (kmalloc) allocated and freed. Best of REPEATS, ns per message.
 */
static double socket_loop(void)
{
	char msg[256] = { 0 };
	double best = 0, ns;
	struct timespec t0, t1;
	int sv[2], i, r;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		exit(1);
	for (r = 0; r < REPEATS; r++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < MESSAGES; i++)
			if (send(sv[0], msg, sizeof(msg), 0) != sizeof(msg) ||
			    recv(sv[1], msg, sizeof(msg), 0) != sizeof(msg))
				exit(1);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + t1.tv_nsec - t0.tv_nsec) / MESSAGES;
		if (!r || ns < best)
			best = ns;
	}
	close(sv[0]);
	close(sv[1]);
	return best;
}

/* The kernel's own way to watch the same events: ftrace into its ring. */
static void kmem_events(const char *on)
{
	static const char * const events[] = {
		"kmalloc", "kmem_cache_alloc", "mm_page_alloc", "mm_page_free",
	};
	char path[128];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(events); i++) {
		snprintf(path, sizeof(path), TRACEFS "events/kmem/%s/enable", events[i]);
		if (write_file(path, on))
			exit(1);
	}
	write_file(TRACEFS "trace", "");
}

static double run_loop(unsigned int kind, unsigned int param)
{
	return kind == SOCKET_LOOP ? socket_loop() : bench(kind, param, 100000);
}

enum { PROBES_OFF, PROBES_ON, FTRACE_ON, NR_MODES };

static double run_mode(unsigned int mode, unsigned int kind, unsigned int param)
{
	double t;

	write_file(DBG "live/enable", mode == PROBES_ON ? "1" : "0");
	kmem_events(mode == FTRACE_ON ? "1" : "0");
	t = run_loop(kind, param);
	write_file(DBG "live/enable", "0");
	kmem_events("0");
	return t;
}

/*
 * Cost of the live probes, and of ftrace recording the same events, on a
 * kmalloc loop, a page allocation loop and a socket message loop. Under
 * TCG a loop's speed drifts and jumps by tens of percent over seconds, so
 * the three modes are measured in rounds, in a rotating order, and each
 * keeps its best time.
 */
static void probe_overhead(void)
{
	static const struct { const char *name; unsigned int kind, param; } loops[] = {
		{ "kmalloc64", TOYALLOC_BENCH_KMALLOC, 64 },
		{ "pages_order0", TOYALLOC_BENCH_REAL_PAGES, 0 },
		{ "socket_msg", SOCKET_LOOP, 0 },
	};
	double t, best[NR_MODES];
	unsigned int i, r, m, mode;

	if (access(TRACEFS "events", F_OK))
		mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	for (i = 0; i < ARRAY_SIZE(loops); i++) {
		for (r = 0; r < ROUNDS; r++) {
			for (m = 0; m < NR_MODES; m++) {
				mode = (m + r) % NR_MODES;
				t = run_mode(mode, loops[i].kind, loops[i].param);
				if (!r || t < best[mode])
					best[mode] = t;
			}
		}
		printf("BENCH,toyalloc,%s_probes_off,%.1f,ns/op\n", loops[i].name,
		       best[PROBES_OFF]);
		printf("BENCH,toyalloc,%s_probes_on,%.1f,ns/op\n", loops[i].name, best[PROBES_ON]);
		printf("BENCH,toyalloc,%s_ftrace_on,%.1f,ns/op\n", loops[i].name, best[FTRACE_ON]);
		printf("BENCH,toyalloc,%s_probe_overhead,%.1f,%%\n", loops[i].name,
		       (best[PROBES_ON] / best[PROBES_OFF] - 1) * 100);
		printf("BENCH,toyalloc,%s_ftrace_overhead,%.1f,%%\n", loops[i].name,
		       (best[FTRACE_ON] / best[PROBES_OFF] - 1) * 100);
		t = (best[PROBES_ON] / best[PROBES_OFF] - 1) * 100;
		printf("# goal: %s live probes: %+.1f%% (goal <= +5%%): %s\n",
		       loops[i].name, t, t <= 5 ? "holds" : "FAILS");
	}
}

/* Page traffic of a small mixed workload: mappings of many sizes, forks. */
static void workload(void)
{
	static const size_t sizes[] = { 4096, 16384, 65536, 1 << 20, 4 << 20 };
	char *maps[64] = { 0 };
	size_t lens[64];
	int i, k, status;

	srandom(11);
	for (i = 0; i < 1500; i++) {
		k = random() % 64;
		if (maps[k]) {
			munmap(maps[k], lens[k]);
			maps[k] = NULL;
			continue;
		}
		lens[k] = sizes[random() % 5];
		maps[k] = mmap(NULL, lens[k], PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (maps[k] == MAP_FAILED) {
			maps[k] = NULL;
			continue;
		}
		if (random() % 2)
			madvise(maps[k], lens[k], MADV_NOHUGEPAGE);
		memset(maps[k], 1, lens[k]);
		if (i % 300 == 0 && !fork())
			_exit(0);
	}
	while (wait(&status) > 0)
		;
	for (k = 0; k < 64; k++)
		if (maps[k])
			munmap(maps[k], lens[k]);
}

static char *record_trace(size_t *len)
{
	if (access(TRACEFS "events", F_OK))
		mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
	if (write_file(TRACEFS "buffer_size_kb", "32768") ||
	    write_file(TRACEFS "trace", "") ||
	    write_file(TRACEFS "events/kmem/mm_page_alloc/enable", "1") ||
	    write_file(TRACEFS "events/kmem/mm_page_free/enable", "1"))
		return NULL;
	workload();
	write_file(TRACEFS "events/kmem/mm_page_alloc/enable", "0");
	write_file(TRACEFS "events/kmem/mm_page_free/enable", "0");
	return read_all(TRACEFS "trace", len);
}

static void replay(const char *trace, size_t len, const char *policy, long events)
{
	char cfg[64], *out, *line, *p;
	long ev, interval = events / 150 + 1;
	int fd, o;
	size_t off;
	ssize_t n;

	snprintf(cfg, sizeof(cfg), "policy=%s interval=%ld", policy, interval);
	if (write_file(DBG "replay_config", cfg))
		return;
	fd = open(DBG "replay", O_WRONLY);
	for (off = 0; fd >= 0 && off < len; off += n) {
		n = write(fd, trace + off, len - off);
		if (n <= 0) {
			perror("replay");
			break;
		}
	}
	close(fd);
	out = read_all(DBG "replay", NULL);
	line = strchr(out, '\n');
	printf("# %s: %.*s\n", policy, (int)(line - out), out);
	for (line = strstr(out, "\n0 "); line && line[1]; line = strchr(line + 1, '\n')) {
		long u[11];

		ev = strtol(line + 1, &p, 10);
		strtol(p, &p, 10);	/* free pages */
		for (o = 0; o < 11; o++)
			u[o] = strtol(p, &p, 10);
		printf("BENCH,toyalloc_replay,%s,%ld,%ld,%ld\n", policy, ev, u[3], u[9]);
	}
	free(out);
}

int main(int argc, char **argv)
{
	static const char * const policies[] = { "lifo", "fifo", "addr" };
	size_t len = 0;
	long events = 0;
	char *trace, *p;
	int i;

	toy_fd = open("/dev/toyalloc", O_RDWR);
	if (toy_fd < 0) {
		perror("/dev/toyalloc");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "overhead")) {	/* a quick look */
		probe_overhead();
		return 0;
	}
	/* Goals: the toy buddy within 2x at orders 0-3, parity at 9; slab 2x. */
	compare("pages_order0", TOYALLOC_BENCH_TOY_PAGES, TOYALLOC_BENCH_REAL_PAGES, 0, 200000, 2);
	compare("pages_order3", TOYALLOC_BENCH_TOY_PAGES, TOYALLOC_BENCH_REAL_PAGES, 3, 100000, 2);
	compare("pages_order9", TOYALLOC_BENCH_TOY_PAGES, TOYALLOC_BENCH_REAL_PAGES, 9, 5000, 1);
	compare("cache64", TOYALLOC_BENCH_TOY_CACHE, TOYALLOC_BENCH_REAL_CACHE, 64, 300000, 2);
	compare("cache512", TOYALLOC_BENCH_TOY_CACHE, TOYALLOC_BENCH_REAL_CACHE, 512, 300000, 2);
	probe_overhead();

	trace = record_trace(&len);
	if (!trace) {
		fprintf(stderr, "tracefs unavailable: no replay\n");
		return 1;
	}
	for (p = trace; (p = strstr(p, ": mm_page_")); p++)
		events++;
	printf("BENCH,toyalloc,trace_events,%ld,events\n", events);
	for (i = 0; i < 3; i++)
		replay(trace, len, policies[i], events);
	free(trace);
	return 0;
}
