// SPDX-License-Identifier: GPL-2.0
/*
 * libmshare-preload.so: put an unmodified program's large shared mappings
 * on mshare regions, so that the processes sharing them also share their
 * page tables. Opt in with LD_PRELOAD; see "Preload library" in
 * Documentation/mshare.rst.
 *
 * Interposed: mmap()/mmap64() (MAP_SHARED|MAP_ANONYMOUS, and MAP_SHARED
 * mappings of shm_open() and memfd_create() objects), munmap(), shmat()
 * and shmdt(). Everything else, mprotect(), mremap() and madvise()
 * included, reaches the kernel unchanged, which applies the region's
 * rules to region mappings. The library calls the kernel through
 * syscall() and never through the symbols it interposes.
 *
 * Environment:
 *   MSHARE_PRELOAD_MIN      threshold in bytes, k/m/g suffix (default 16m)
 *   MSHARE_PRELOAD_ANON     0: leave MAP_SHARED|MAP_ANONYMOUS alone
 *   MSHARE_PRELOAD_POSIX    0: leave shm_open()/memfd_create() objects alone
 *   MSHARE_PRELOAD_SYSV     0: leave System V segments alone
 *   MSHARE_PRELOAD_DIR      where msharefs is mounted (default /sys/fs/mshare)
 *   MSHARE_PRELOAD_VERBOSE  1: one line on stderr per region made
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/msharefs.h>

#define PRELOAD_API __attribute__((visibility("default")))
#define PAGE_SZ 4096UL
#define GIB (1UL << 30)
#define MAX_REGIONS 256
/* What a region mapping can honour; any other flag goes to the kernel. */
#define HANDLED_FLAGS (MAP_TYPE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE | \
		       MAP_LOCKED | MAP_NONBLOCK | MAP_FIXED | MAP_FIXED_NOREPLACE | \
		       MAP_HUGETLB | MAP_DENYWRITE | MAP_EXECUTABLE)

enum kind { KIND_ANON, KIND_POSIX, KIND_SYSV };

static const char * const kind_name[] = { "anonymous", "posix", "sysv" };

/* One region this process has mapped (inherited by fork, gone at exec). */
struct region {
	unsigned long addr;	/* 0: slot free */
	unsigned long len;	/* what the program asked for, page rounded */
	unsigned long size;	/* the region's VMA: len rounded to mshare_info */
	unsigned long anchor;	/* sysv: the segment's own attach (PROT_NONE) */
};

static struct {
	unsigned long min;
	bool on[3];
	bool verbose;
	char dir[PATH_MAX - 64];
} cfg;

/*
 * The table is changed under @lock; making or dropping a region (a host
 * process started, an MMU notifier synchronised) takes long, so it runs
 * outside the lock, counted in @busy. fork() waits for those in flight
 * and stops new ones meanwhile (@forking), so the child inherits a table
 * that matches its mappings, and threads that keep mapping cannot starve
 * a fork.
 */
static struct region regions[MAX_REGIONS];
static int nr_regions;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle = PTHREAD_COND_INITIALIZER;
static int busy;
static bool forking;
static unsigned long seq;

/* A slot being made: no mapping can start at address 1. */
#define SLOT_MAKING 1UL

/* One line on stderr, written at once, errno kept. */
static void say(const char *fmt, ...)
{
	int saved = errno;
	char buf[256];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "mshare-preload[%d]: ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, n) < 0)
		errno = saved;
	errno = saved;
}

/*
 * A size in bytes with an optional k, m or g suffix; anything else (a
 * sign, other characters, an overflow) is refused with one line on stderr
 * and @dflt is used.
 */
static unsigned long env_size(const char *name, unsigned long dflt)
{
	const char *s = getenv(name), *units = "kmg", *u;
	unsigned long v, shift = 0;
	char *end;

	if (!s || !*s)
		return dflt;
	if (isdigit((unsigned char)s[0])) {
		errno = 0;
		v = strtoul(s, &end, 10);
		u = *end ? strchr(units, tolower((unsigned char)*end)) : NULL;
		if (u) {
			shift = 10 * (u - units + 1);
			end++;
		}
		if (!errno && !*end && v <= (ULONG_MAX >> shift))
			return v << shift;
	}
	say("%s=%s: not a size (bytes, k, m or g suffix); using %lu", name, s, dflt);
	return dflt;
}

static bool env_on(const char *name)
{
	const char *s = getenv(name);

	return !s || strcmp(s, "0");
}

static void lock_regions(void)
{
	pthread_mutex_lock(&lock);
}

static void unlock_regions(void)
{
	pthread_mutex_unlock(&lock);
}

/* With the lock: announce slow work, after any fork under way. */
static void begin_slow(void)
{
	while (forking)
		pthread_cond_wait(&idle, &lock);
	busy++;
}

/* With the lock: slow work done. */
static void end_slow(void)
{
	if (!--busy)
		pthread_cond_broadcast(&idle);
}

static void before_fork(void)
{
	lock_regions();
	forking = true;
	while (busy)
		pthread_cond_wait(&idle, &lock);
}

static void parent_after_fork(void)
{
	forking = false;
	pthread_cond_broadcast(&idle);
	unlock_regions();
}

/* The child has one thread: nothing is in flight, nothing waits. */
static void child_after_fork(void)
{
	pthread_mutex_init(&lock, NULL);
	pthread_cond_init(&idle, NULL);
	forking = false;
	busy = 0;
}

__attribute__((constructor)) static void preload_init(void)
{
	const char *dir = getenv("MSHARE_PRELOAD_DIR");

	cfg.min = env_size("MSHARE_PRELOAD_MIN", 16UL << 20);
	cfg.on[KIND_ANON] = env_on("MSHARE_PRELOAD_ANON");
	cfg.on[KIND_POSIX] = env_on("MSHARE_PRELOAD_POSIX");
	cfg.on[KIND_SYSV] = env_on("MSHARE_PRELOAD_SYSV");
	cfg.verbose = getenv("MSHARE_PRELOAD_VERBOSE") && env_on("MSHARE_PRELOAD_VERBOSE");
	snprintf(cfg.dir, sizeof(cfg.dir), "%s", dir && *dir ? dir : "/sys/fs/mshare");
	pthread_atfork(before_fork, parent_after_fork, child_after_fork);
}

static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int sys_munmap(void *addr, size_t len)
{
	return syscall(SYS_munmap, addr, len);
}

/* mshare_info: the region alignment and size unit; 0 and errno if absent. */
static unsigned long read_mshare_info(void)
{
	char path[PATH_MAX], buf[32] = "";
	unsigned long v = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/mshare_info", cfg.dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtoul(buf, NULL, 10);
	close(fd);
	if (!v || (v & (v - 1)) || v % PAGE_SZ) {
		errno = ENODEV;
		return 0;
	}
	return v;
}

/*
 * An address for @size bytes aligned to @align: reserve size + align,
 * keep the aligned part reserved (PROT_NONE) for a MAP_FIXED mapping.
 */
static unsigned long reserve_aligned(unsigned long size, unsigned long align)
{
	unsigned long span = size + align, start, a;
	void *p = sys_mmap(NULL, span, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	start = (unsigned long)p;
	a = (start + align - 1) & ~(align - 1);
	if (a > start)
		sys_munmap(p, a - start);
	if (start + span > a + size)
		sys_munmap((void *)(a + size), start + span - (a + size));
	return a;
}

static bool slot_mapped(const struct region *r)
{
	return r->addr > SLOT_MAKING;
}

static struct region *find_region(unsigned long addr)
{
	int i;

	for (i = 0; i < MAX_REGIONS; i++)
		if (regions[i].addr == addr)
			return &regions[i];
	return NULL;
}

/*
 * Make a region of len bytes holding @fd's [off, off + len) (anonymous
 * memory if fd < 0) and map it; MAP_FAILED and errno if any step fails,
 * with nothing left behind.
 */
static void *map_region(size_t len, int prot, int flags, int fd, off_t off,
			enum kind kind, unsigned long anchor)
{
	unsigned long align = read_mshare_info(), size, want;
	struct mshare_create c = { 0 };
	struct region *slot;
	char path[PATH_MAX];
	int rfd, err;
	void *p;

	if (!align)
		return MAP_FAILED;
	len = (len + PAGE_SZ - 1) & ~(PAGE_SZ - 1);
	size = (len + align - 1) & ~(align - 1);
	lock_regions();
	begin_slow();	/* may wait, unlocked: look for a slot after it */
	slot = find_region(0);
	if (!slot) {
		end_slow();
		unlock_regions();
		errno = ENFILE;
		return MAP_FAILED;
	}
	slot->addr = SLOT_MAKING;
	snprintf(path, sizeof(path), "%s/preload-%d-%lu", cfg.dir, getpid(), ++seq);
	unlock_regions();
	rfd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (rfd < 0)
		goto fail;
	c.size = len;
	c.prot = prot;
	c.offset = off;
	c.flags = MAP_SHARED | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0);
	c.fd = fd;
	want = reserve_aligned(size, size >= GIB ? GIB : align);
	if (ftruncate(rfd, size) || ioctl(rfd, MSHAREFS_CREATE_MAPPING, &c) || !want)
		goto fail_unlink;
	p = sys_mmap((void *)want, size, prot,
		     MAP_SHARED | MAP_FIXED | (flags & (MAP_POPULATE | MAP_LOCKED)), rfd, 0);
	if (p == MAP_FAILED)
		goto fail_unlink;
	unlink(path);
	close(rfd);
	lock_regions();
	slot->addr = (unsigned long)p;
	slot->len = len;
	slot->size = size;
	slot->anchor = anchor;
	nr_regions++;
	end_slow();
	unlock_regions();
	if (cfg.verbose)
		say("%s %lu bytes at %p: region of %lu", kind_name[kind], len, p, size);
	return p;

fail_unlink:
	err = errno;
	if (want)
		sys_munmap((void *)want, size);
	unlink(path);
	close(rfd);
	errno = err;
fail:
	err = errno;
	lock_regions();
	slot->addr = 0;
	end_slow();
	unlock_regions();
	errno = err;
	return MAP_FAILED;
}

/* With the lock: take @r out of the table, into *@out if given. */
static void take_region(struct region *r, struct region *out)
{
	if (out)
		*out = *r;
	memset(r, 0, sizeof(*r));
	nr_regions--;
}

/* Detach a System V segment's own attach, if the region had one. */
static void detach_anchor(unsigned long anchor)
{
	if (anchor)
		syscall(SYS_shmdt, (void *)anchor);
}

/*
 * A MAP_FIXED mapping replaced whatever regions lay wholly in [s, e) (the
 * kernel refuses to replace part of one): forget them.
 */
static void *forget_replaced(void *p, size_t len)
{
	unsigned long s = (unsigned long)p, e = s + len;
	int i;

	if (p == MAP_FAILED || !nr_regions)
		return p;
	lock_regions();
	for (i = 0; i < MAX_REGIONS; i++) {
		struct region gone;

		if (slot_mapped(&regions[i]) && regions[i].addr >= s &&
		    regions[i].addr + regions[i].size <= e) {
			take_region(&regions[i], &gone);
			detach_anchor(gone.anchor);
		}
	}
	unlock_regions();
	return p;
}

/* Is @fd a shm_open() or memfd_create() object? Sets *hugetlb for hugetlbfs. */
static bool posix_object(int fd, bool *hugetlb)
{
	char link[64], target[PATH_MAX];
	struct statfs sf;
	ssize_t n;

	*hugetlb = false;
	if (fstatfs(fd, &sf))
		return false;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = 0;
	if (strncmp(target, "/memfd:", 7) && strncmp(target, "/dev/shm/", 9))
		return false;
	if (sf.f_type == HUGETLBFS_MAGIC)
		*hugetlb = true;
	return sf.f_type == TMPFS_MAGIC || *hugetlb;
}

/**
 * mmap() - mmap(2), with large shared mappings placed on mshare regions
 *
 * A MAP_SHARED (or MAP_SHARED_VALIDATE) mapping of at least
 * MSHARE_PRELOAD_MIN bytes, anonymous or of a shm_open()/memfd_create()
 * object, at offset and length the kernel accepts, is made a region when
 * its switch is on. MAP_FIXED, MAP_HUGETLB, hugetlbfs objects, PROT_NONE,
 * flags a region cannot honour (MAP_SYNC, MAP_GROWSDOWN, MAP_HUGE_*, unknown
 * ones, anonymous MAP_SHARED_VALIDATE: the kernel's own answer, and the
 * line only if it maps) and any failure to
 * make the region fall back to the plain call with one line on stderr.
 * Returns what mmap(2) returns.
 */
PRELOAD_API void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	int type = flags & MAP_TYPE;
	bool anon = flags & MAP_ANONYMOUS, hugetlb = flags & MAP_HUGETLB;
	enum kind kind = anon ? KIND_ANON : KIND_POSIX;
	const char *why = NULL;
	void *p;

	if ((type != MAP_SHARED && type != MAP_SHARED_VALIDATE) || len < cfg.min ||
	    !cfg.on[kind] || (off & (PAGE_SZ - 1)) || (!anon && fd < 0) ||
	    (!anon && !posix_object(fd, &hugetlb))) {
		p = sys_mmap(addr, len, prot, flags, fd, off);
		return flags & MAP_FIXED ? forget_replaced(p, len) : p;
	}
	if ((flags & ~HANDLED_FLAGS) || (anon && type == MAP_SHARED_VALIDATE)) {
		/*
		 * MAP_SYNC, MAP_GROWSDOWN, huge page sizes, unknown bits, and
		 * MAP_SHARED_VALIDATE of anonymous memory (6.1 refuses it):
		 * the kernel answers.
		 */
		p = sys_mmap(addr, len, prot, flags, fd, off);
		if (p != MAP_FAILED)
			say("%s %zu bytes: flags %#x, plain call", kind_name[kind],
			    len, flags & ~HANDLED_FLAGS);
		return flags & MAP_FIXED ? forget_replaced(p, len) : p;
	}
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))
		why = "MAP_FIXED";
	else if (hugetlb)
		why = "hugetlb";
	else if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		why = "PROT_NONE";
	if (why) {
		say("%s %zu bytes: %s, plain call", kind_name[kind], len, why);
		p = sys_mmap(addr, len, prot, flags, fd, off);
		return flags & MAP_FIXED ? forget_replaced(p, len) : p;
	}
	p = map_region(len, prot, flags, anon ? -1 : fd, anon ? 0 : off, kind, 0);
	if (p != MAP_FAILED)
		return p;
	say("%s %zu bytes: no region (%s), plain call", kind_name[kind], len,
	    strerror(errno));
	return sys_mmap(addr, len, prot, flags, fd, off);
}

/** mmap64() - the same as mmap() (off_t is 64 bits) */
PRELOAD_API void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap(addr, len, prot, flags, fd, off);
}

/**
 * munmap() - munmap(2), detaching regions the range covers
 *
 * A range that covers all a program mapped of a region detaches it (the
 * rounding up to mshare_info included); one that covers only part of it
 * fails with EINVAL and changes nothing, as the region's VMA would.
 */
PRELOAD_API int munmap(void *addr, size_t len)
{
	unsigned long s = (unsigned long)addr, e = s + len, unmap_end;
	unsigned long anchors[MAX_REGIONS];	/* of the regions taken */
	struct region gone;
	int i, n = 0, ret;

	if (!len || (s & (PAGE_SZ - 1)) || !nr_regions)
		return sys_munmap(addr, len);
	e = s + ((len + PAGE_SZ - 1) & ~(PAGE_SZ - 1));
	lock_regions();
	begin_slow();
	for (i = 0; i < MAX_REGIONS; i++) {
		struct region *r = &regions[i];

		if (!slot_mapped(r) || e <= r->addr || s >= r->addr + r->len)
			continue;
		if (s > r->addr || e < r->addr + r->len) {
			end_slow();
			unlock_regions();
			errno = EINVAL;
			return -1;
		}
	}
	/*
	 * One munmap() for the range and the regions' rounding beyond it:
	 * once a region is gone another thread may map at its address, and
	 * a second call would take that away.
	 */
	unmap_end = e;
	for (i = 0; i < MAX_REGIONS; i++) {
		if (!slot_mapped(&regions[i]) || regions[i].addr < s ||
		    regions[i].addr + regions[i].len > e)
			continue;
		take_region(&regions[i], &gone);
		anchors[n++] = gone.anchor;
		if (gone.addr + gone.size > unmap_end)
			unmap_end = gone.addr + gone.size;
	}
	unlock_regions();
	ret = sys_munmap(addr, unmap_end - s);
	for (i = 0; i < n; i++)
		detach_anchor(anchors[i]);
	lock_regions();
	end_slow();
	unlock_regions();
	return ret;
}

/**
 * shmat() - shmat(2), with large segments placed on mshare regions
 *
 * A segment of at least MSHARE_PRELOAD_MIN bytes attached without an
 * address or SHM_REMAP becomes a region holding the segment's memory.
 * The segment's own attach stays, PROT_NONE, so shm_nattch and
 * IPC_RMID behave as without the library. Reaching the segment's memory
 * takes /proc/self/map_files (CAP_SYS_ADMIN); without it, as for any
 * failure, the plain attach is returned with one line on stderr.
 */
PRELOAD_API void *shmat(int id, const void *addr, int flags)
{
	void *p = (void *)syscall(SYS_shmat, id, addr, flags), *q;
	int prot = flags & SHM_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE;
	char link[96];
	struct shmid_ds ds;
	int fd;

	if (p == (void *)-1 || !cfg.on[KIND_SYSV] ||
	    syscall(SYS_shmctl, id, IPC_STAT, &ds) || ds.shm_segsz < cfg.min)
		return p;
	if (addr || (flags & (SHM_REMAP | SHM_EXEC))) {
		say("sysv %zu bytes: address or flags given, plain call", ds.shm_segsz);
		return p;
	}
	snprintf(link, sizeof(link), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)p + ((ds.shm_segsz + PAGE_SZ - 1) & ~(PAGE_SZ - 1)));
	fd = open(link, (flags & SHM_RDONLY ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		say("sysv %zu bytes: no region (%s: %s), plain call", ds.shm_segsz,
		    "map_files", strerror(errno));
		return p;
	}
	q = map_region(ds.shm_segsz, prot, 0, fd, 0, KIND_SYSV, (unsigned long)p);
	close(fd);
	if (q == MAP_FAILED) {
		say("sysv %zu bytes: no region (%s), plain call", ds.shm_segsz,
		    strerror(errno));
		return p;
	}
	/* The anchor keeps the attach count; it is never touched. */
	syscall(SYS_mprotect, p, ds.shm_segsz, PROT_NONE);
	return q;
}

/**
 * shmdt() - shmdt(2); a region made by shmat() is detached with its segment
 */
PRELOAD_API int shmdt(const void *addr)
{
	struct region *r, gone;

	lock_regions();
	begin_slow();
	r = (unsigned long)addr > SLOT_MAKING ? find_region((unsigned long)addr) : NULL;
	if (r && r->anchor) {
		take_region(r, &gone);
		unlock_regions();
		sys_munmap((void *)gone.addr, gone.size);
		detach_anchor(gone.anchor);
		lock_regions();
		end_slow();
		unlock_regions();
		return 0;
	}
	end_slow();
	unlock_regions();
	return syscall(SYS_shmdt, addr);
}
