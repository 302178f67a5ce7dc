// SPDX-License-Identifier: GPL-2.0
/*
 * An ordinary, dynamically linked program that knows nothing of mshare:
 * preload_test.c runs it with and without libmshare-preload.so and judges
 * from outside (/proc/PID/maps, ptwalk, /proc/meminfo). It reports on
 * stdout ("map 0x...", "child PID", "ready") and, where it says "ready",
 * waits for a line on stdin before going on.
 *
 *   preload_victim anon SIZE NCHILD unmap|exit   fork-shared anonymous memory
 *   preload_victim map KIND SIZE                 one mmap: anon fixed hugetlb
 *                                                private none memfd shm hugememfd
 *   preload_victim sysv SIZE                     shmget/shmat, a child, shmdt
 *   preload_victim ops SIZE                      mprotect, mremap, madvise, munmap
 *   preload_victim exec SIZE PROG                a child execs PROG (busybox) as
 *                                                "cat /proc/self/maps"
 *   preload_victim flags SIZE                    mmap() with flags a region cannot
 *                                                honour: the errno of each
 *   preload_victim forks SIZE N SECONDS          three threads map and unmap SIZE
 *                                                while the main thread forks N
 *                                                children, for at most SECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PG 4096UL
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void out(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (write(STDOUT_FILENO, buf, n) != n)
		exit(2);
}

/* Say "ready" and wait for the test's line on stdin. */
static void await_go(void)
{
	char c;

	out("ready\n");
	while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
		;
}

static void die_errno(const char *what)
{
	out("fail %s: %s\n", what, strerror(errno));
	exit(1);
}

static char pattern(unsigned long i)
{
	return (char)(i * 7 + 1);
}

/* Pages used: all up to 256 MiB; above, one per 2 MiB and the last. */
static int used(unsigned long i, unsigned long size)
{
	return size <= (256UL << 20) || !(i % 512) || i == size / PG - 1;
}

static void fill(char *p, unsigned long size)
{
	unsigned long i;

	for (i = 0; i < size / PG; i++)
		if (used(i, size))
			p[i * PG] = pattern(i);
}

static unsigned long bad_pages(const char *p, unsigned long size)
{
	unsigned long i, bad = 0;

	for (i = 0; i < size / PG; i++)
		bad += used(i, size) && p[i * PG] != pattern(i);
	return bad;
}

static int reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * NCHILD children check the parent's data and mark pages 1 + k; the test
 * inspects all of them at "ready"; then the parent checks the marks,
 * lets the children go and unmaps or exits with the mapping.
 */
static int anon_fork(unsigned long size, int nchild, int unmap)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int up[2], down[2], k, rc = 0;
	pid_t kids[16];
	char c;

	if (p == MAP_FAILED)
		die_errno("mmap");
	out("map %p\n", p);
	fill(p, size);
	if (pipe(up) || pipe(down))
		die_errno("pipe");
	for (k = 0; k < nchild && k < 16; k++) {
		kids[k] = fork();
		if (kids[k] < 0)
			die_errno("fork");
		if (!kids[k]) {
			unsigned long i, bad;

			close(down[1]);
			close(up[0]);
			bad = bad_pages(p, size);

			for (i = 0; i < size / PG; i++)
				if (used(i, size) && i % nchild == (unsigned long)k)
					p[i * PG + 1] = 1 + k;
			c = bad ? 'x' : 'o';
			if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) < 0)
				_exit(3);
			_exit(bad ? 1 : 0);
		}
		out("child %d\n", kids[k]);
	}
	close(down[0]);
	for (k = 0; k < nchild; k++)
		if (read(up[0], &c, 1) != 1 || c != 'o')
			rc = 1;
	out("children-saw-data %s\n", rc ? "no" : "yes");
	await_go();
	{
		unsigned long i, bad = 0;

		for (i = 0; i < size / PG; i++)
			bad += used(i, size) && p[i * PG + 1] != 1 + (int)(i % nchild);
		out("parent-saw-children %s\n", bad ? "no" : "yes");
	}
	close(down[1]);
	for (k = 0; k < nchild; k++)
		if (reap(kids[k]))
			rc = 1;
	if (unmap) {
		out("munmap %d\n", munmap(p, size) ? errno : 0);
		await_go();
	}
	return rc;
}

/* One mmap of @kind, touched, reported; then munmap. */
static int one_map(const char *kind, unsigned long size)
{
	int prot = PROT_READ | PROT_WRITE, flags = MAP_SHARED | MAP_ANONYMOUS, fd = -1;
	void *hint = NULL;
	char *p;

	if (!strcmp(kind, "fixed")) {
		hint = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		flags |= MAP_FIXED;
	} else if (!strcmp(kind, "hugetlb")) {
		flags |= MAP_HUGETLB;
	} else if (!strcmp(kind, "private")) {
		flags = MAP_PRIVATE | MAP_ANONYMOUS;
	} else if (!strcmp(kind, "none")) {
		prot = PROT_NONE;
	} else if (!strcmp(kind, "memfd") || !strcmp(kind, "hugememfd") ||
		   !strcmp(kind, "shm")) {
		if (!strcmp(kind, "shm")) {
			fd = shm_open("/preload-victim", O_RDWR | O_CREAT | O_EXCL, 0600);
			shm_unlink("/preload-victim");
		} else {
			fd = memfd_create("victim", strcmp(kind, "memfd") ? MFD_HUGETLB : 0);
		}
		if (fd < 0 || ftruncate(fd, size))
			die_errno("object");
		flags = MAP_SHARED;
	}
	p = mmap(hint, size, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		die_errno("mmap");
	out("map %p\n", p);
	if (prot != PROT_NONE) {
		fill(p, size);
		if (fd >= 0) {
			char c;

			/* The object's page cache holds what the mapping stored. */
			if (pread(fd, &c, 1, size - PG) != 1 || c != pattern(size / PG - 1))
				out("pread-mismatch\n");
			else
				out("pread-ok\n");
		}
	}
	await_go();
	out("munmap %d\n", munmap(p, size) ? errno : 0);
	await_go();
	return 0;
}

static int sysv_segment(unsigned long size)
{
	int id = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600), rc;
	struct shmid_ds ds;
	char *p;
	pid_t kid;

	if (id < 0)
		die_errno("shmget");
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		die_errno("shmat");
	out("map %p\n", p);
	fill(p, size);
	kid = fork();
	if (!kid) {
		unsigned long bad = bad_pages(p, size);

		p[1] = 42;
		_exit(bad ? 1 : 0);
	}
	rc = reap(kid);
	out("child-rc %d\n", rc);
	out("parent-saw-child %s\n", p[1] == 42 ? "yes" : "no");
	if (shmctl(id, IPC_STAT, &ds))
		die_errno("IPC_STAT");
	out("nattch %lu\n", (unsigned long)ds.shm_nattch);
	await_go();
	out("shmdt %d\n", shmdt(p) ? errno : 0);
	if (shmctl(id, IPC_STAT, &ds))
		die_errno("IPC_STAT");
	out("nattch %lu\n", (unsigned long)ds.shm_nattch);
	shmctl(id, IPC_RMID, NULL);
	await_go();
	return rc;
}

/* What the kernel lets a program do to the mapping, and that data stay. */
static int region_ops(unsigned long size)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0), *q;

	if (p == MAP_FAILED)
		die_errno("mmap");
	out("map %p\n", p);
	fill(p, size);
	out("mprotect-all %d\n", mprotect(p, size, PROT_READ) ? errno : 0);
	out("mprotect-part %d\n", mprotect(p, PG, PROT_READ) ? errno : 0);
	q = mremap(p, size, size * 2, MREMAP_MAYMOVE);
	out("mremap-grow %d\n", q == MAP_FAILED ? errno : 0);
	if (q != MAP_FAILED)
		p = q;
	q = mremap(p, size, size / 2, 0);
	out("mremap-shrink %d\n", q == MAP_FAILED ? errno : 0);
	out("madvise-dontneed %d\n", madvise(p, size, MADV_DONTNEED) ? errno : 0);
	out("data-after-dontneed %lu\n", bad_pages(p, size));
	p[PG] = 9;	/* still writable: nothing above changed the protection */
	out("munmap-part %d\n", munmap(p + size / 2, size / 2) ? errno : 0);
	q = mmap(p + size / 2, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0);
	out("mmap-fixed-part %d\n", q == MAP_FAILED ? errno : 0);
	out("msync-sync %d\n", msync(p, size, MS_SYNC) ? errno : 0);
	out("data-after-part %lu\n", bad_pages(p, size) - (p[PG] == 9));
	await_go();
	out("munmap %d\n", munmap(p, size) ? errno : 0);
	await_go();
	return 0;
}

/* A child execs @prog (static) with the mapping in place; data stay here. */
static int exec_child(unsigned long size, const char *prog)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t kid;

	if (p == MAP_FAILED)
		die_errno("mmap");
	out("map %p\n", p);
	fill(p, size);
	kid = fork();
	if (!kid) {
		p[1] = 5;
		execl(prog, "cat", "/proc/self/maps", (char *)NULL);
		_exit(127);
	}
	out("exec-rc %d\n", reap(kid));
	out("data-after-exec %lu %s\n", bad_pages(p, size), p[1] == 5 ? "yes" : "no");
	await_go();
	return 0;
}

#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

static int odd_flags(unsigned long size)
{
	static const struct { const char *name; int flags; } cases[] = {
		{ "validate-unknown-bit", MAP_SHARED_VALIDATE | 0x8000000 },
		{ "validate-sync", MAP_SHARED_VALIDATE | MAP_SYNC },
		{ "growsdown", MAP_SHARED | MAP_GROWSDOWN },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       cases[i].flags | MAP_ANONYMOUS, -1, 0);
		int err = p == MAP_FAILED ? errno : 0;

		out("flags %s %d\n", cases[i].name, err);
		if (p != MAP_FAILED)
			munmap(p, size);
	}
	out("done\n");
	return 0;
}

static atomic_bool stop_threads;
static atomic_long thread_regions;

static void *map_unmap_loop(void *arg)
{
	unsigned long size = (unsigned long)arg;

	while (!atomic_load(&stop_threads)) {
		char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			continue;
		p[0] = 1;
		munmap(p, size);
		atomic_fetch_add(&thread_regions, 1);
	}
	return NULL;
}

static int forks_under_load(unsigned long size, int nforks, int seconds)
{
	time_t until = time(NULL) + seconds;
	pthread_t t[3];
	int i, done = 0;

	for (i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, map_unmap_loop, (void *)size))
			die_errno("pthread_create");
	for (i = 0; i < nforks && time(NULL) < until; i++) {
		pid_t kid = fork();

		if (!kid)
			_exit(0);
		if (kid < 0 || reap(kid))
			die_errno("child");
		done += time(NULL) < until;
	}
	out("forks-took %ld\n", (long)(time(NULL) - until + seconds));
	atomic_store(&stop_threads, true);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	out("forks-while-threads-ran %d\n", done);
	out("thread-regions %ld\n", atomic_load(&thread_regions));
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long size = argc > 2 ? strtoul(argv[argc > 3 ? 3 : 2], NULL, 0) << 20 : 0;

	if (argc == 5 && !strcmp(argv[1], "anon"))
		return anon_fork(strtoul(argv[2], NULL, 0) << 20, atoi(argv[3]),
			    !strcmp(argv[4], "unmap"));
	if (argc == 4 && !strcmp(argv[1], "map"))
		return one_map(argv[2], size);
	if (argc == 3 && !strcmp(argv[1], "sysv"))
		return sysv_segment(size);
	if (argc == 3 && !strcmp(argv[1], "ops"))
		return region_ops(size);
	if (argc == 3 && !strcmp(argv[1], "flags"))
		return odd_flags(size);
	if (argc == 5 && !strcmp(argv[1], "forks"))
		return forks_under_load(strtoul(argv[2], NULL, 0) << 20, atoi(argv[3]),
					atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "exec"))
		return exec_child(strtoul(argv[2], NULL, 0) << 20, argv[3]);
	fprintf(stderr, "usage: see the comment at the top of preload_victim.c\n");
	return 2;
}
