// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's other paths against a region page: every test does the
 * same steps on a region and on a plain MAP_SHARED mapping of the same
 * object, in the same run, and asserts that they agree (or that the
 * region gives the errno Documentation/mshare.rst documents).
 */
#include <dirent.h>
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
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/elf.h>
#include <linux/falloc.h>
#include <linux/futex.h>
#include <linux/msharefs.h>

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 400
#include "mshare_util.h"
#include "ptwalk_lib.h"
#include "vm_util.h"

#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 2U
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif
#ifndef __NR_memfd_secret
#define __NR_memfd_secret 447
#endif
#define KP "/tmp/kp"

static char pread_byte(int fd, unsigned long off)
{
	char c = 0x55;

	return pread(fd, &c, 1, off) == 1 ? c : 0x55;
}

#define VFAT_IMG KP "/vfat.img"
#define VFAT_DIR KP "/vfat"
#define KPF_DIRTY 4

/*
 * A filesystem with writeback: vfat on a loop device over a file in
 * /tmp (the loop device writes there, so the image shows what reached
 * the "disk"). Debian has loop and vfat as modules, the debug kernel
 * has them built in.
 */
static bool mount_vfat(void)
{
	int fd;

	/* Built in (debug kernel): nothing to load, and modprobe fails. */
	if (system("for m in loop vfat nls_cp437 nls_ascii nls_utf8; do\n"
		   "modprobe -q $m; done 2>/dev/null; true"))
		return false;
	/* A lazily detached old mount may still write to its own image. */
	umount2(VFAT_DIR, MNT_DETACH);
	unlink(VFAT_IMG);
	mkdir(VFAT_DIR, 0755);
	fd = open(VFAT_IMG, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, 8 << 20))
		return false;
	close(fd);
	return !system("mkdosfs " VFAT_IMG " >/dev/null 2>&1") &&
	       !system("mount -t vfat -o loop,umask=0 " VFAT_IMG " " VFAT_DIR " 2>/dev/null");
}

/* Test files on tmpfs, ramfs and vfat that any user may open. */
static void make_test_files(void)
{
	static const char * const fs[] = { "tmpfs", "ramfs" };
	char path[64];
	unsigned int i;
	int fd;

	mkdir(KP, 01777);
	chmod(KP, 01777);
	if (access(VFAT_DIR "/file", F_OK) && mount_vfat()) {
		fd = open(VFAT_DIR "/file", O_RDWR | O_CREAT, 0666);
		if (fd < 0 || pwrite(fd, "vfat", 4, 0) != 4 || ftruncate(fd, PG))
			perror(VFAT_DIR "/file");
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), KP "/%s/file", fs[i]);
		if (!access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), KP "/%s", fs[i]);
		mkdir(path, 01777);
		mount(fs[i], path, fs[i], 0, NULL);
		chmod(path, 01777);
		snprintf(path, sizeof(path), KP "/%s/file", fs[i]);
		fd = open(path, O_RDWR | O_CREAT, 0666);
		if (fd >= 0) {
			if (pwrite(fd, fs[i], strlen(fs[i]), 0) < 0 ||
			    ftruncate(fd, PG))
				perror(path);
			fchmod(fd, 0666);
			close(fd);
		}
	}
}

/* ---------------------------------------------------- 1: every object */

enum { NOT_HERE = -2 };

static int open_path(const char *path, int flags)
{
	int fd = open(path, flags);

	return fd < 0 ? NOT_HERE : fd;
}

static int o_meminfo(void) { return open_path("/proc/meminfo", O_RDONLY); }

static int o_pagemap(void) { return open_path("/proc/self/pagemap", O_RDONLY); }

static int o_sysfs(void)
{
	return open_path("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
}

static int o_debugfs(void)
{
	return open_path("/sys/kernel/debug/mshare/regions", O_RDONLY);
}

static int o_null(void) { return open_path("/dev/null", O_RDWR); }

static int o_zero(void) { return open_path("/dev/zero", O_RDWR); }

static int o_dir(void) { return open_path("/", O_RDONLY | O_DIRECTORY); }

static int o_tmpfs(void) { return open_path(KP "/tmpfs/file", O_RDWR); }

static int o_tmpfs_ro(void) { return open_path(KP "/tmpfs/file", O_RDONLY); }

static int o_tmpfs_wo(void) { return open_path(KP "/tmpfs/file", O_WRONLY); }

static int o_tmpfs_path(void) { return open_path(KP "/tmpfs/file", O_PATH); }

static int o_ramfs(void) { return open_path(KP "/ramfs/file", O_RDWR); }

static int o_vfat(void) { return open_path(VFAT_DIR "/file", O_RDWR); }

static int o_pipe(void)
{
	int p[2];

	return pipe(p) ? NOT_HERE : p[0];
}

static int o_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	return fd < 0 ? NOT_HERE : fd;
}

static int o_memfd(void)
{
	return filled_memfd(PG, 0, 'm');
}

static int o_memfd_empty(void)
{
	int fd = memfd_create("empty", 0);

	return fd < 0 ? NOT_HERE : fd;
}

static int o_secretmem(void)
{
	int fd = syscall(__NR_memfd_secret, 0);

	if (fd < 0)
		return NOT_HERE;
	if (ftruncate(fd, PG)) {
		close(fd);
		return NOT_HERE;
	}
	return fd;
}

static int o_region(void)
{
	return open_path(MNT "/kp-nested", O_RDWR);
}

struct object_kind {
	const char *name;
	int (*open)(void);
	int region_errno;	/* documented difference, else 0 */
};

static const struct object_kind kinds[] = {
	{ "procfs file", o_meminfo, 0 },
	{ "procfs pagemap", o_pagemap, 0 },
	{ "sysfs attribute", o_sysfs, 0 },
	{ "debugfs file", o_debugfs, 0 },
	{ "/dev/null", o_null, 0 },
	{ "/dev/zero", o_zero, 0 },
	{ "pipe", o_pipe, 0 },
	{ "socket", o_socket, 0 },
	{ "directory", o_dir, 0 },
	{ "memfd", o_memfd, 0 },
	{ "empty memfd", o_memfd_empty, 0 },
	{ "tmpfs file", o_tmpfs, 0 },
	{ "tmpfs file read-only", o_tmpfs_ro, 0 },
	{ "tmpfs file write-only", o_tmpfs_wo, 0 },
	{ "O_PATH descriptor", o_tmpfs_path, 0 },
	{ "ramfs file", o_ramfs, 0 },
	{ "vfat file (disk filesystem, writeback)", o_vfat, 0 },
	/* Its pages are off the direct map: no other mm may reach them. */
	{ "secretmem", o_secretmem, ENODEV },
	/* No nesting, as v3; a plain mmap() of one page fails with EINVAL too. */
	{ "msharefs region", o_region, EINVAL },
};

/*
 * Only the vfat kind needs more than the kernel: an image mounted on a
 * loop device, which fails in the 6.12 and 7.3 debug guests (the
 * writeback test skips there, saying so).
 */
static bool kind_always_there(const struct object_kind *kind)
{
	return kind->open != o_vfat;
}

/* Returns the number of disagreements, each logged. */
static int compare_objects(struct __test_metadata *_metadata, const char *who)
{
	static const int prots[] = { PROT_READ, PROT_READ | PROT_WRITE,
				     PROT_READ | PROT_EXEC };
	unsigned long size = mshare_align();
	int bad = 0, tried = 0, nested;
	unsigned int k, i;

	nested = sized_region("kp-nested", size, false);
	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		for (i = 0; i < 3; i++) {
			int ofd = kinds[k].open(), perr, rerr, want, rfd;
			char *q, *p = NULL;

			/* Root opens every kind (both kernels have secretmem). */
			if (ofd == NOT_HERE) {
				if (!i) {
					TH_LOG("%s: %s: not available to this user (%s)",
					       who, kinds[k].name, strerror(errno));
					/* Root opens every kind this kernel has. */
					bad += !geteuid() && kind_always_there(&kinds[k]);
				}
				break;
			}
			rfd = sized_region("kp-obj", size, false);
			if (rfd < 0)
				return bad + 1;
			q = mmap(NULL, PG, prots[i], MAP_SHARED, ofd, 0);
			perr = q == MAP_FAILED ? errno : 0;
			rerr = create_err(rfd, 0, PG, prots[i], ofd, 0);
			want = perr;
			if (!perr && kinds[k].region_errno)
				want = kinds[k].region_errno;
			if (perr == EINVAL && kinds[k].region_errno == EINVAL)
				want = EINVAL;
			tried++;
			if (rerr != want) {
				TH_LOG("%s: %s prot %d: region errno %d, mmap() %d",
				       who, kinds[k].name, prots[i], rerr, perr);
				bad++;
			}
			if (!rerr && !perr) {
				p = attach(rfd, size, PROT_READ | PROT_WRITE | PROT_EXEC);
				if (!p) {
					TH_LOG("%s: %s: attach failed: %s", who,
					       kinds[k].name, strerror(errno));
					bad++;
				}
			}
			if (p && probe_read(p) != probe_read(q)) {
				TH_LOG("%s: %s: a read gives %d, plain %d", who,
				       kinds[k].name, probe_read(p), probe_read(q));
				bad++;
			}
			if (p && (prots[i] & PROT_WRITE) &&
			    probe_write(p, 'w') != probe_write(q, 'w')) {
				TH_LOG("%s: %s: a write gives %d, plain %d", who,
				       kinds[k].name, probe_write(p, 'w'),
				       probe_write(q, 'w'));
				bad++;
			}
			if (p)
				munmap(p, size);
			if (q != MAP_FAILED)
				munmap(q, PG);
			remove_region(rfd, "kp-obj");
			close(ofd);
		}
	}
	remove_region(nested, "kp-nested");
	TH_LOG("%s: %d object/protection pairs compared", who, tried);
	if (tried < 20)
		bad++;
	return bad;
}

FIXTURE(kp) {
	unsigned long align;
};

FIXTURE_SETUP(kp)
{
	if (!ensure_mounted())
		SKIP(return, "msharefs not available (mshare module not loaded)");
	self->align = mshare_align();
	ASSERT_GT(self->align, 0UL);
	make_test_files();
}

FIXTURE_TEARDOWN(kp)
{
}

TEST_F(kp, every_kind_of_object_as_root_gets_what_mmap_gives)
{
	EXPECT_EQ(0, compare_objects(_metadata, "root"));
}

TEST_F(kp, every_kind_of_object_as_nobody_gets_what_mmap_gives)
{
	ASSERT_EQ(0, setresgid(NOBODY, NOBODY, NOBODY));
	ASSERT_EQ(0, setresuid(NOBODY, NOBODY, NOBODY));
	EXPECT_EQ(0, compare_objects(_metadata, "nobody"));
}

/* A noexec mount refuses exec as mmap() does (EPERM), with no sharer. */
TEST_F(kp, noexec_object_refuses_exec_as_mmap_does)
{
	int rfd = sized_region("kp-noexec", self->align, false), fd;
	void *q;

	ASSERT_GE(rfd, 0);
	mkdir(KP "/noexec", 0700);
	ASSERT_EQ(0, mount("tmpfs", KP "/noexec", "tmpfs", MS_NOEXEC, "size=1m"));
	fd = open(KP "/noexec/f", O_RDWR | O_CREAT, 0600);
	ASSERT_EQ(0, ftruncate(fd, PG));
	q = mmap(NULL, PG, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	ASSERT_EQ(MAP_FAILED, q);
	EXPECT_EQ(errno, create_err(rfd, 0, PG, PROT_READ | PROT_EXEC, fd, 0));
	/* Mapped without exec, PROTECT cannot add it: EACCES, as mprotect(). */
	ASSERT_EQ(0, create_err(rfd, 0, PG, PROT_READ, fd, 0));
	q = mmap(NULL, PG, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_NE(0, mprotect(q, PG, PROT_READ | PROT_EXEC));
	EXPECT_EQ(errno, protect_err(rfd, 0, PG, PROT_READ | PROT_EXEC));
	munmap(q, PG);
	close(fd);
	remove_region(rfd, "kp-noexec");
	umount(KP "/noexec");
}

/* ----------------------------------- 2: truncate, hole punch, MADV_REMOVE */

/* Every 17th page, at a different offset in each: 61 probes of 4 MiB. */
#define PROBE_STEP (17 * PG + 40)

/* Two sharers, the plain mapping and pread() agree on every probe. */
static int disagreements(char *p, char *q, int mfd, unsigned long size,
			 pid_t sharer, int *cmd, int *ans)
{
	unsigned long i;
	int bad = 0;
	char c;

	for (i = 0; i < size; i += PROBE_STEP) {
		int rp = probe_read(p + i), rq = probe_read(q + i);

		if (rp != rq ||
		    (rq < PROBE_SIGNAL && (char)rq != pread_byte(mfd, i)))
			bad++;
	}
	/* The other sharer reads its own mapping (tables linked earlier). */
	c = 'c';
	if (write(cmd[1], &c, 1) != 1 || read(ans[0], &c, 1) != 1 || c != 'y')
		bad++;
	(void)sharer;
	return bad;
}

TEST_F(kp, truncate_hole_punch_and_remove_as_on_a_plain_mapping)
{
	unsigned long size = 2 * self->align, i;
	int rfd, mfd, cmd[2], ans[2], status;
	long shmem0;
	char *p, *q, *r, c;
	pid_t sharer;

	rfd = object_region("kp-trunc", size, 1, &mfd);
	ASSERT_GE(rfd, 0);
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, pipe(cmd));
	ASSERT_EQ(0, pipe(ans));
	touch_pages(p, size);
	sharer = fork();
	if (!sharer) {
		char *pp = attach(rfd, size, PROT_READ | PROT_WRITE);

		close(cmd[1]);	/* EOF when the parent closes its end */
		close(ans[0]);
		touch_pages(pp, size);
		while (read(cmd[0], &c, 1) == 1) {
			for (i = 0, c = 'y'; i < size; i += PROBE_STEP)
				if (probe_read(pp + i) != probe_read(q + i))
					c = 'n';
			if (write(ans[1], &c, 1) != 1)
				_exit(1);
		}
		_exit(0);
	}
	EXPECT_EQ(0, disagreements(p, q, mfd, size, sharer, cmd, ans));
	/* Hole punch: zeroes in the hole, in both sharers and the plain map. */
	ASSERT_EQ(0, fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       MB, 64 * 1024));
	EXPECT_EQ(0, p[MB]);
	EXPECT_EQ(0, disagreements(p, q, mfd, size, sharer, cmd, ans));
	/* MADV_REMOVE through a third, plain mapping. */
	r = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, r);
	ASSERT_EQ(0, madvise(r + 3 * MB, 128 * 1024, MADV_REMOVE));
	EXPECT_EQ(0, p[3 * MB + PG]);
	EXPECT_EQ(0, disagreements(p, q, mfd, size, sharer, cmd, ans));
	/* MADV_REMOVE through the region itself punches the object too. */
	ASSERT_EQ(0, madvise(p + 2 * MB, 64 * 1024, MADV_REMOVE));
	EXPECT_EQ(0, q[2 * MB + PG]);
	EXPECT_EQ(0, pread_byte(mfd, 2 * MB + PG));
	EXPECT_EQ(0, disagreements(p, q, mfd, size, sharer, cmd, ans));
	/* Writes through the region land in the file, after all that. */
	p[MB + PG] = 'x';
	EXPECT_EQ('x', pread_byte(mfd, MB + PG));
	EXPECT_EQ('x', q[MB + PG]);
	/* Truncate: SIGBUS beyond EOF everywhere, pages freed. */
	shmem0 = meminfo_kb("Shmem");
	ASSERT_EQ(0, ftruncate(mfd, MB + 8 * PG));
	EXPECT_EQ(PROBE_SIGNAL + SIGBUS, probe_read(p + 3 * MB));
	EXPECT_EQ(PROBE_SIGNAL + SIGBUS, probe_read(q + 3 * MB));
	EXPECT_EQ(0, disagreements(p, q, mfd, size, sharer, cmd, ans));
	EXPECT_LT(meminfo_kb("Shmem"), shmem0 - 2048)
		TH_LOG("truncate freed no page");
	/* And back: new zero pages, seen by all. */
	ASSERT_EQ(0, ftruncate(mfd, size));
	EXPECT_EQ(0, p[3 * MB]);
	p[3 * MB] = 'y';
	EXPECT_EQ('y', q[3 * MB]);
	EXPECT_EQ(0, disagreements(p, q, mfd, size, sharer, cmd, ans));
	close(cmd[1]);
	ASSERT_EQ(sharer, waitpid(sharer, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	munmap(r, size);
	munmap(q, size);
	munmap(p, size);
	close(mfd);
	remove_region(rfd, "kp-trunc");
}

/*
 * T4 (Documentation/mshare-port.rst): a store or a load spinning on one
 * CPU, while another process punches the page out, truncates the object
 * or changes the protection, sees the change as soon as the call returns,
 * on a region as on a plain mapping. A CPU whose TLB the change missed
 * would keep reaching the freed page: its stores would never reach the
 * file and it would never fault.
 */
struct spin {		/* in a MAP_SHARED anonymous page */
	unsigned long stored;	/* the writer's count, after its store */
	unsigned long seen;	/* the reader's last load */
	unsigned long loads;	/* the reader's loads */
};

enum { SPIN_PUNCH, SPIN_TRUNCATE, SPIN_PROTECT, SPIN_HOWS };

static const char * const spin_how[] = { "punch", "truncate", "PROTECT" };

static pid_t spin_child(int cpu, unsigned long *word, struct spin *s,
			bool writer)
{
	unsigned long n = 0;
	pid_t pid = fork();

	if (pid)
		return pid;
	pin_to_cpu(cpu);
	for (;;) {	/* until SIGBUS, SIGSEGV or SIGKILL */
		if (writer) {
			__atomic_store_n(word, ++n, __ATOMIC_RELAXED);
			__atomic_store_n(&s->stored, n, __ATOMIC_RELEASE);
		} else {
			__atomic_store_n(&s->seen, __atomic_load_n(word, __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
			__atomic_store_n(&s->loads, ++n, __ATOMIC_RELEASE);
		}
	}
}

/* Whether *@pid died of @sig within two seconds; reaped either way. */
static bool dies_of(pid_t *pid, int sig)
{
	int status = 0, i;

	for (i = 0; i < 200 && waitpid(*pid, &status, WNOHANG) != *pid; i++)
		usleep(10000);
	if (i == 200) {
		kill(*pid, SIGKILL);
		waitpid(*pid, &status, 0);
	}
	*pid = 0;
	return i < 200 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static void reap(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/*
 * One round on @map (the object @mfd, of @size, mapped at offset 0; @rfd
 * the region, or -1 for a plain mapping), the writer on CPU @cpu[@wcpu]
 * and the reader on the other of @cpu: 0 where the change took at once,
 * else a bit for each check that failed.
 */
static int spin_round(char *map, int mfd, int rfd, unsigned long size,
		      unsigned long off, const int cpu[2], int wcpu, int how,
		      struct spin *s)
{
	unsigned long *word = (unsigned long *)(map + off);
	struct mshare_protect ro = { 0, size, PROT_READ, 0 };
	time_t deadline = time(NULL) + 30;
	unsigned long v = 0, last;
	int bad = 0, i;
	pid_t w, r;

	memset(s, 0, sizeof(*s));
	__atomic_store_n(word, 0, __ATOMIC_RELAXED);
	w = spin_child(cpu[wcpu], word, s, true);
	r = spin_child(cpu[!wcpu], word, s, false);
	/*
	 * This process runs beside the reader, so that nothing but the
	 * change's own flush reaches the writer's CPU (a context switch
	 * there could flush its TLB by the way).
	 */
	pin_to_cpu(cpu[!wcpu]);
	while (__atomic_load_n(&s->stored, __ATOMIC_ACQUIRE) < 100000 ||
	       __atomic_load_n(&s->loads, __ATOMIC_ACQUIRE) < 100000) {
		if (w < 0 || r < 0 || time(NULL) > deadline) {
			bad = 1;
			goto out;
		}
		usleep(1000);
	}
	switch (how) {
	case SPIN_PUNCH:
		if (fallocate(mfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      off & ~(PG - 1), PG)) {
			bad = 1;
			break;
		}
		/* Stores after the punch reach the file; the reader sees them. */
		last = __atomic_load_n(&s->stored, __ATOMIC_ACQUIRE);
		for (i = 0; i < 200; i++) {
			if (pread(mfd, &v, sizeof(v), off) == sizeof(v) && v > last &&
			    __atomic_load_n(&s->seen, __ATOMIC_RELAXED) > last)
				break;
			usleep(10000);
		}
		bad |= (i == 200) << 1;
		break;
	case SPIN_TRUNCATE:
		if (ftruncate(mfd, off & ~(PG - 1))) {
			bad = 1;
			break;
		}
		bad |= !dies_of(&w, SIGBUS) << 2;
		bad |= !dies_of(&r, SIGBUS) << 3;
		bad |= ftruncate(mfd, size) ? 1 : 0;
		break;
	case SPIN_PROTECT:
		if (ioctl(rfd, MSHAREFS_PROTECT, &ro)) {
			bad = 1;
			break;
		}
		/*
		 * No store lands after PROTECT returns (the file says so, not
		 * the region); the writer faults.
		 */
		if (pread(mfd, &last, sizeof(last), off) != sizeof(last))
			bad = 1;
		usleep(100000);
		if (pread(mfd, &v, sizeof(v), off) != sizeof(v))
			bad = 1;
		bad |= (v != last) << 4;
		bad |= !dies_of(&w, SIGSEGV) << 5;
		ro.prot = PROT_READ | PROT_WRITE;
		bad |= ioctl(rfd, MSHAREFS_PROTECT, &ro) ? 1 : 0;
		break;
	}
out:
	reap(w);
	reap(r);
	pin_to_cpu(-1);
	return bad;
}

TEST_F(kp, a_change_reaches_a_store_spinning_on_either_cpu_as_on_a_plain_mapping)
{
	unsigned long size = self->align, off;
	int rfd, mfd, wcpu, how, got[2], cpu[2];
	struct spin *s;
	char *p, *q;

	if (!two_cpus(cpu))
		SKIP(return, "needs two CPUs it may run on");
	rfd = object_region("kp-spin", size, 1, &mfd);
	ASSERT_GE(rfd, 0);
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	s = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_NE(MAP_FAILED, s);
	for (how = 0, off = 8 * PG + 64; how < SPIN_HOWS; how++) {
		for (wcpu = 0; wcpu < 2; wcpu++, off += PG) {
			got[1] = spin_round(p, mfd, rfd, size, off, cpu, wcpu, how, s);
			/* A plain mapping cannot be PROTECTed from outside. */
			if (how == SPIN_PROTECT) {
				EXPECT_EQ(0, got[1])
					TH_LOG("PROTECT, writer on CPU %d: region %#x",
					       cpu[wcpu], got[1]);
				continue;
			}
			got[0] = spin_round(q, mfd, -1, size, off, cpu, wcpu, how, s);
			EXPECT_EQ(0, got[0])
				TH_LOG("%s, writer on CPU %d: plain mapping %#x",
				       spin_how[how], cpu[wcpu], got[0]);
			EXPECT_EQ(got[0], got[1])
				TH_LOG("%s, writer on CPU %d: region %#x, plain %#x",
				       spin_how[how], cpu[wcpu], got[1], got[0]);
		}
	}
	munmap(s, PG);
	munmap(q, size);
	munmap(p, size);
	close(mfd);
	remove_region(rfd, "kp-spin");
}

/*
 * A uprobe on the host program's binary (an administrator's perf or
 * bpftrace probe on the shell or its interpreter) is enabled and removed
 * while a region exists as when none does. Registration takes the
 * mmap_lock of every mm that maps the file for writing, and every fork()
 * in the system waits for it meanwhile.
 */
#define KP_TRACEFS "/sys/kernel/tracing"

/* The file offset of the ELF file @path's entry point, or -1. */
static long entry_offset(const char *path)
{
	int fd = open(path, O_RDONLY), i;
	struct elf64_hdr eh;
	struct elf64_phdr ph;
	long off = -1;

	if (fd >= 0 && pread(fd, &eh, sizeof(eh), 0) == sizeof(eh)) {
		for (i = 0; i < eh.e_phnum && off < 0; i++) {
			if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * sizeof(ph)) != sizeof(ph))
				break;
			if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X) &&
			    eh.e_entry >= ph.p_vaddr && eh.e_entry < ph.p_vaddr + ph.p_memsz)
				off = eh.e_entry - ph.p_vaddr + ph.p_offset;
		}
	}
	if (fd >= 0)
		close(fd);
	return off;
}

/* Enable, then disable, uprobe mshare_kp: 0, or 1 if either waited 10 s. */
static int uprobe_on_and_off(pid_t *stuck)
{
	const char *en = KP_TRACEFS "/events/uprobes/mshare_kp/enable";

	*stuck = write_in_child(en, "1");
	if (status_within(*stuck, 10))
		return 1;
	*stuck = write_in_child(en, "0");
	if (status_within(*stuck, 10))
		return 1;
	*stuck = 0;
	return 0;
}

TEST_F(kp, a_uprobe_on_the_host_program_is_enabled_as_with_no_region)
{
	char exe[256], def[320];
	pid_t host, stuck;
	int fd, got[2];
	long off;
	ssize_t n;

	if (access(KP_TRACEFS "/uprobe_events", F_OK))
		mount("tracefs", KP_TRACEFS, "tracefs", 0, NULL);
	if (access(KP_TRACEFS "/uprobe_events", W_OK))
		SKIP(return, "no uprobe_events in tracefs (CONFIG_UPROBE_EVENTS)");
	fd = make_region("kp-uprobe", self->align);
	ASSERT_GE(fd, 0);
	host = host_pid_of("kp-uprobe");
	ASSERT_LT(0, host);
	snprintf(def, sizeof(def), "/proc/%d/exe", host);
	n = readlink(def, exe, sizeof(exe) - 1);
	ASSERT_LT(0, n);
	exe[n] = 0;
	off = entry_offset(exe);
	ASSERT_LE(0, off) TH_LOG("no entry point in %s", exe);
	snprintf(def, sizeof(def), "p:mshare_kp %s:%#lx\n", exe, off);
	ASSERT_EQ(0, status_within(write_in_child(KP_TRACEFS "/uprobe_events", def), 10));
	got[1] = uprobe_on_and_off(&stuck);
	/* A waiter waits for the host: removing the region kills it. */
	remove_region(fd, "kp-uprobe");
	if (stuck)
		status_within(stuck, 10);
	got[0] = uprobe_on_and_off(&stuck);
	EXPECT_EQ(0, got[0]) TH_LOG("with no region, a uprobe on %s waited", exe);
	EXPECT_EQ(got[0], got[1]) TH_LOG("with a region, a uprobe on %s waited", exe);
	EXPECT_EQ(0, status_within(write_in_child(KP_TRACEFS "/uprobe_events",
						  "-:mshare_kp\n"), 10));
}

/*
 * msync() and MADV_REMOVE give what they give on a plain mapping: every
 * msync() flag, and EACCES for MADV_REMOVE where the mapping may never be
 * written (the object opened read-only), with nothing punched.
 */
TEST_F(kp, msync_and_madv_remove_answer_as_on_a_plain_mapping)
{
	static const int msync_flags[] = { MS_SYNC, MS_ASYNC, MS_INVALIDATE,
					   MS_SYNC | MS_INVALIDATE,
					   MS_SYNC | MS_ASYNC, 0x100 };
	unsigned long size = self->align, i;
	int rfd, mfd, rofd, rp, rq;
	char path[64], *p, *q;
	long slab0;

	rfd = sized_region("kp-msync", size, false);
	mfd = filled_memfd(size, 0, 's');
	ASSERT_GE(rfd, 0);
	ASSERT_GE(mfd, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	rofd = open(path, O_RDONLY);
	ASSERT_GE(rofd, 0);
	ASSERT_EQ(0, create_err(rfd, 0, size, PROT_READ, rofd, 0));
	p = attach(rfd, size, PROT_READ);
	q = mmap(NULL, size, PROT_READ, MAP_SHARED, rofd, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, q);
	for (i = 0; i < ARRAY_SIZE(msync_flags); i++) {
		rq = msync(q, size, msync_flags[i]) ? errno : 0;
		rp = msync(p, size, msync_flags[i]) ? errno : 0;
		EXPECT_EQ(rq, rp) TH_LOG("msync flags %#x", msync_flags[i]);
	}
	rq = madvise(q, PG, MADV_REMOVE) ? errno : 0;
	rp = madvise(p, PG, MADV_REMOVE) ? errno : 0;
	EXPECT_EQ(EACCES, rq);
	EXPECT_EQ(rq, rp);
	EXPECT_EQ('s', p[0]);
	EXPECT_EQ('s', pread_byte(mfd, 0));
	/* The region file itself: fsync() works, a punch needs PROT_WRITE. */
	EXPECT_EQ(0, fsync(rfd));
	EXPECT_EQ(-1, fallocate(rfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, PG));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ('s', pread_byte(mfd, 0));
	/*
	 * Documented difference: the read-write memfd mapped read-only in
	 * the region may not be punched through it (a plain PROT_READ
	 * mapping of the same descriptor may), since every sharer sees it.
	 * No read-only attachment is left, so PROTECT may make it writable.
	 */
	munmap(p, size);
	ASSERT_EQ(0, unmap_err(rfd, 0, size));
	ASSERT_EQ(0, create_err(rfd, 0, size, PROT_READ, mfd, 0));
	EXPECT_EQ(-1, fallocate(rfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, PG));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ('s', pread_byte(mfd, 0));
	ASSERT_EQ(0, protect_err(rfd, 0, size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(0, fallocate(rfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       0, PG));
	EXPECT_EQ(0, pread_byte(mfd, 0));
	EXPECT_EQ((char)('s' + 1), pread_byte(mfd, PG));	/* page 1 kept */
	/*
	 * Over a hole there is nothing to sync or punch, and nothing may be
	 * left behind: each call once leaked its empty list (64 bytes), so
	 * 2 x 10000 calls would add 1250 kB of unreclaimable slab.
	 */
	ASSERT_EQ(0, unmap_err(rfd, 0, size));
	slab0 = meminfo_kb("SUnreclaim");
	for (i = 0; i < 10000; i++) {
		ASSERT_EQ(0, fsync(rfd));
		ASSERT_EQ(0, fallocate(rfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				       0, PG));
	}
	EXPECT_LT(meminfo_kb("SUnreclaim"), slab0 + 625);
	munmap(q, size);
	close(rofd);
	close(mfd);
	remove_region(rfd, "kp-msync");
}

/* --------------------------------------------------------------- 3: seals */

TEST_F(kp, memfd_seals_hold_as_for_a_plain_mapping)
{
	unsigned long size = self->align;
	int rfd, mfd, pfd, perr;
	char *p, *q;

	rfd = sized_region("kp-seal", size, false);
	mfd = filled_memfd(PG, MFD_ALLOW_SEALING, 's');
	pfd = filled_memfd(PG, MFD_ALLOW_SEALING, 's');
	ASSERT_GE(rfd, 0);
	ASSERT_GE(mfd, 0);
	ASSERT_GE(pfd, 0);
	/* Mapped writable: F_SEAL_WRITE is refused (EBUSY) for both. */
	ASSERT_EQ(0, create_err(rfd, 0, PG, PROT_READ | PROT_WRITE, mfd, 0));
	q = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(-1, fcntl(pfd, F_ADD_SEALS, F_SEAL_WRITE));
	perr = errno;
	ASSERT_EQ(-1, fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE));
	EXPECT_EQ(perr, errno);
	/* Unmapped, the seal is taken; then nothing writable may come back. */
	munmap(q, PG);
	ASSERT_EQ(0, unmap_err(rfd, 0, PG));
	ASSERT_EQ(0, fcntl(pfd, F_ADD_SEALS, F_SEAL_WRITE));
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE));
	q = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ASSERT_EQ(MAP_FAILED, q);
	EXPECT_EQ(errno, create_err(rfd, 0, PG, PROT_READ | PROT_WRITE, mfd, 0));
	q = mmap(NULL, PG, PROT_READ, MAP_SHARED, pfd, 0);
	perr = q == MAP_FAILED ? errno : 0;
	EXPECT_EQ(perr, create_err(rfd, 0, PG, PROT_READ, mfd, 0));
	if (q != MAP_FAILED)
		munmap(q, PG);
	unmap_err(rfd, 0, PG);
	close(mfd);
	close(pfd);

	/* F_SEAL_FUTURE_WRITE: read-only maps only, and no way to write. */
	mfd = filled_memfd(PG, MFD_ALLOW_SEALING, 'f');
	pfd = filled_memfd(PG, MFD_ALLOW_SEALING, 'f');
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	ASSERT_EQ(0, fcntl(pfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	q = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ASSERT_EQ(MAP_FAILED, q);
	EXPECT_EQ(errno, create_err(rfd, 0, PG, PROT_READ | PROT_WRITE, mfd, 0));
	q = mmap(NULL, PG, PROT_READ, MAP_SHARED, pfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, create_err(rfd, 0, PG, PROT_READ, mfd, 0));
	ASSERT_NE(0, mprotect(q, PG, PROT_READ | PROT_WRITE));
	EXPECT_EQ(errno, protect_err(rfd, 0, PG, PROT_READ | PROT_WRITE));
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	EXPECT_EQ(probe_write(q, 'z'), probe_write(p, 'z'));
	EXPECT_EQ('f', pread_byte(mfd, 0));
	munmap(p, size);
	munmap(q, PG);
	close(mfd);
	close(pfd);
	remove_region(rfd, "kp-seal");
}

/* ------------------------------------------------------ 4: memory failure */

static unsigned long pfn_at(void *p)
{
	return PM_PFN(pagemap_of(getpid(), (unsigned long)p));
}

/*
 * MADV_HWPOISON of @addr in a child: 0, or PROBE_SIGNAL + the signal that
 * ended it. From 6.12 (not in 6.1) the call is an action-required memory
 * failure, which kills the caller at once when rmap finds its mapping of
 * the page: a plain mapping's, never a sharer's (rmap finds the host).
 */
static int probe_hwpoison(char *addr)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(madvise(addr, PG, MADV_HWPOISON) ? 1 : 0);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return PROBE_SIGNAL + WTERMSIG(status);
	return WEXITSTATUS(status);
}

TEST_F(kp, memory_failure_and_soft_offline_as_on_a_plain_mapping)
{
	int plain;
	unsigned long size = self->align;
	unsigned long old_p, old_q;
	int rfd, mfd, pfd;
	char *p, *q;

	if (madvise(NULL, 0, MADV_SOFT_OFFLINE) && errno == EINVAL &&
	    access("/sys/devices/system/memory/soft_offline_page", F_OK))
		SKIP(return, "kernel without CONFIG_MEMORY_FAILURE");
	rfd = sized_region("kp-hwpoison", size, false);
	mfd = filled_memfd(16 * PG, 0, 'h');
	pfd = filled_memfd(16 * PG, 0, 'h');
	ASSERT_EQ(0, create_err(rfd, 0, 16 * PG, PROT_READ | PROT_WRITE, mfd, 0));
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	q = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, q);
	touch_pages(p, 16 * PG);
	touch_pages(q, 16 * PG);
	/* Soft offline moves the page: new PFN, same data. */
	old_p = pfn_at(p + 2 * PG);
	old_q = pfn_at(q + 2 * PG);
	ASSERT_NE(0UL, old_p);
	EXPECT_EQ(0, madvise(q + 2 * PG, PG, MADV_SOFT_OFFLINE));
	EXPECT_EQ(0, madvise(p + 2 * PG, PG, MADV_SOFT_OFFLINE));
	EXPECT_EQ((char)(2 + 'h'), p[2 * PG + 7]);
	EXPECT_EQ((char)(2 + 'h'), q[2 * PG + 7]);
	EXPECT_NE(old_q, pfn_at(q + 2 * PG));
	EXPECT_NE(old_p, pfn_at(p + 2 * PG));
	/*
	 * Hard poison: the call succeeds (a plain mapping's caller is killed
	 * by it from 6.12: mshare.rst), later access is SIGBUS, in both.
	 */
	plain = probe_hwpoison(q + 5 * PG);
	EXPECT_TRUE(plain == 0 || plain == PROBE_SIGNAL + SIGBUS);
	EXPECT_EQ(0, probe_hwpoison(p + 5 * PG));
	EXPECT_EQ(PROBE_SIGNAL + SIGBUS, probe_read(q + 5 * PG));
	EXPECT_EQ(PROBE_SIGNAL + SIGBUS, probe_read(p + 5 * PG));
	EXPECT_EQ(probe_write(q + 5 * PG, 1), probe_write(p + 5 * PG, 1));
	/* Its neighbours are untouched. */
	EXPECT_EQ((char)(4 + 'h'), p[4 * PG]);
	EXPECT_EQ((char)(6 + 'h'), p[6 * PG]);
	EXPECT_EQ(probe_read(q + 6 * PG), probe_read(p + 6 * PG));
	munmap(p, size);
	munmap(q, 16 * PG);
	close(mfd);
	close(pfd);
	remove_region(rfd, "kp-hwpoison");
}

/* -------------------------------------------------------------- 5: reclaim */

static unsigned long present_pages(pid_t pid, char *p, unsigned long size)
{
	unsigned long i, n = 0;

	for (i = 0; i < size; i += PG)
		n += !!(pagemap_of(pid, (unsigned long)p + i) & PM_PRESENT);
	return n;
}

TEST_F(kp, madv_pageout_swaps_as_on_a_plain_mapping)
{
	unsigned long size = self->align, i, left_p, left_q;
	int rfd, mfd, pfd;
	char *p, *q;

	if (!zram_swap_on())
		SKIP(return, "no zram swap device (zram module missing)");
	rfd = object_region("kp-pageout", size, 'o', &mfd);
	pfd = filled_memfd(size, 0, 'o');
	ASSERT_GE(rfd, 0);
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, pfd, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, q);
	touch_pages(p, size);
	touch_pages(q, size);
	ASSERT_EQ(size / PG, present_pages(getpid(), p, size));
	EXPECT_EQ(0, madvise(q, size, MADV_PAGEOUT));
	EXPECT_EQ(0, madvise(p, size, MADV_PAGEOUT));
	left_q = present_pages(getpid(), q, size);
	left_p = present_pages(getpid(), p, size);
	TH_LOG("after MADV_PAGEOUT: %lu of %lu pages still mapped plain, %lu in the region",
	       left_q, size / PG, left_p);
	EXPECT_LT(left_q, size / PG / 2) TH_LOG("plain shmem was not paged out");
	EXPECT_LE(left_p, left_q + size / PG / 8);
	for (i = 0; i < size; i += PG)
		ASSERT_EQ((char)(i / PG + 'o'), p[i + 9]);
	munmap(p, size);
	munmap(q, size);
	close(mfd);
	close(pfd);
	remove_region(rfd, "kp-pageout");
}

/* ------------------------------------------------------------- writeback */

/* Has @needle reached the disk image? */
static bool on_disk(const char *needle)
{
	static char img[8 << 20];
	int fd = open(VFAT_IMG, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : pread(fd, img, sizeof(img), 0);

	if (fd >= 0)
		close(fd);
	return n > 0 && memmem(img, n, needle, strlen(needle) + 1);
}

static bool page_dirty(void *p)
{
	return kpageflags_of(pfn_at(p)) & (1ULL << KPF_DIRTY);
}

/*
 * Writeback cleans a page and write-protects every mapping of it through
 * rmap (folio_mkclean()), so the next write faults and dirties it again;
 * a mapping rmap missed would keep writing to a clean page and lose the
 * write. Page 0 is written through the region, page 1 through a plain
 * mapping of the same file; rounds of write, check dirty, fsync (last:
 * msync(MS_SYNC) of each mapping), check clean and on disk.
 */
TEST_F(kp, writeback_cleans_and_refaults_as_on_a_plain_mapping)
{
	unsigned long size = self->align, len = 16 * PG;
	char mark_p[48], mark_q[48], *p, *q;
	int rfd, ffd, round;

	if (!mount_vfat())
		SKIP(return, "no vfat on a loop device (modules loop and vfat, busybox mkdosfs)");
	ffd = open(VFAT_DIR "/file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(ffd, 0);
	ASSERT_EQ(0, ftruncate(ffd, len));
	ASSERT_EQ(0, fsync(ffd));
	rfd = sized_region("kp-writeback", size, false);
	ASSERT_GE(rfd, 0);
	ASSERT_EQ(0, create_err(rfd, 0, len, PROT_READ | PROT_WRITE, ffd, 0));
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, ffd, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, q);
	for (round = 0; round < 4; round++) {
		snprintf(mark_p, sizeof(mark_p), "mshare-region-%d-%d", round, getpid());
		snprintf(mark_q, sizeof(mark_q), "mshare-plain-%d-%d", round, getpid());
		strcpy(p + 100, mark_p);
		strcpy(q + PG + 100, mark_q);
		EXPECT_TRUE(page_dirty(q + PG)) TH_LOG("round %d: plain", round);
		EXPECT_TRUE(page_dirty(p)) TH_LOG("round %d: region", round);
		if (round < 3) {
			ASSERT_EQ(0, fsync(ffd));
		} else {	/* msync() of each mapping writes back its pages */
			EXPECT_EQ(0, msync(q, len, MS_SYNC));
			EXPECT_EQ(0, msync(p, len, MS_SYNC));
		}
		EXPECT_FALSE(page_dirty(q + PG)) TH_LOG("round %d: plain", round);
		EXPECT_FALSE(page_dirty(p)) TH_LOG("round %d: region", round);
		EXPECT_TRUE(on_disk(mark_q)) TH_LOG("round %d: plain", round);
		EXPECT_TRUE(on_disk(mark_p)) TH_LOG("round %d: region", round);
	}
	/* The file reads what both mappings wrote last. */
	EXPECT_EQ(mark_p[0], pread_byte(ffd, 100));
	EXPECT_EQ(0, memcmp(q + 100, mark_p, strlen(mark_p) + 1));
	EXPECT_EQ(0, memcmp(p + PG + 100, mark_q, strlen(mark_q) + 1));
	munmap(p, size);
	munmap(q, len);
	close(ffd);
	remove_region(rfd, "kp-writeback");
	umount2(VFAT_DIR, MNT_DETACH);
	unlink(VFAT_IMG);
}

/* ---------------------------------------------------------- 6: accounting */

/*
 * The documented part of accounting: smaps Rss of a sharer counts the
 * region pages it reaches, as for a plain mapping. (Pss/Shared and VmRSS
 * differ by design: the pages are mapped once, by the host; see
 * Documentation/mshare.rst.)
 */
TEST_F(kp, smaps_rss_counts_what_a_sharer_reaches)
{
	unsigned long size = self->align;
	int rfd, mfd;
	char *p, *q;

	rfd = object_region("kp-smaps", size, 'a', &mfd);
	ASSERT_GE(rfd, 0);
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	touch_pages(p, MB);
	touch_pages(q, MB);
	EXPECT_EQ(proc_kb("Rss", q), proc_kb("Rss", p));
	EXPECT_EQ(1024, proc_kb("Rss", p));
	munmap(p, size);
	munmap(q, size);
	close(mfd);
	remove_region(rfd, "kp-smaps");
}

/* ------------------------------------------ 7: remote access, fresh child */

TEST_F(kp, remote_access_to_a_fresh_child_as_on_a_plain_mapping)
{
	unsigned long size = self->align, word = 0;
	int rfd, mfd, go[2], done[2], status, memfd_fd;
	char path[64], c, buf[8];
	char *p, *q;
	pid_t child;

	rfd = object_region("kp-remote", size, 'r', &mfd);
	ASSERT_GE(rfd, 0);
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(NULL, p);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	child = fork();
	if (!child) {	/* touches nothing until told to */
		long rp, rq;

		if (read(go[0], &c, 1) != 1)
			_exit(1);
		/* A private futex op that must fault the page in itself. */
		rp = syscall(SYS_futex, (int *)(p + 8 * PG), FUTEX_WAKE_OP_PRIVATE,
			     1, NULL, (int *)(p + 9 * PG), 0);
		rq = syscall(SYS_futex, (int *)(q + 8 * PG), FUTEX_WAKE_OP_PRIVATE,
			     1, NULL, (int *)(q + 9 * PG), 0);
		c = rp == rq && rp >= 0 ? 'y' : 'n';
		if (write(done[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	/* /proc/PID/mem, read and write, before the child touched anything. */
	snprintf(path, sizeof(path), "/proc/%d/mem", child);
	memfd_fd = open(path, O_RDWR);
	ASSERT_GE(memfd_fd, 0);
	EXPECT_EQ(1, pread(memfd_fd, buf, 1, (unsigned long)q + 3 * PG));
	EXPECT_EQ(1, pread(memfd_fd, buf + 1, 1, (unsigned long)p + 3 * PG));
	EXPECT_EQ(buf[0], buf[1]);
	EXPECT_EQ(1, pwrite(memfd_fd, "W", 1, (unsigned long)p + 4 * PG));
	EXPECT_EQ('W', p[4 * PG]);
	close(memfd_fd);
	/* ptrace PEEKDATA and POKEDATA. */
	ASSERT_EQ(0, ptrace(PTRACE_SEIZE, child, NULL, NULL));
	ASSERT_EQ(0, ptrace(PTRACE_INTERRUPT, child, NULL, NULL));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	errno = 0;
	word = ptrace(PTRACE_PEEKDATA, child, p + 5 * PG, NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(word, (unsigned long)ptrace(PTRACE_PEEKDATA, child, q + 5 * PG, NULL));
	EXPECT_EQ(0, ptrace(PTRACE_POKEDATA, child, p + 6 * PG, (void *)0x5a5aUL));
	EXPECT_EQ(0x5a, p[6 * PG]);
	ASSERT_EQ(0, ptrace(PTRACE_DETACH, child, NULL, NULL));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(done[0], &c, 1));
	EXPECT_EQ('y', c);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	munmap(p, size);
	munmap(q, size);
	close(mfd);
	remove_region(rfd, "kp-remote");
}

/*
 * Sharers walk their own tables under mmap_lock for reading (mincore(),
 * MADV_COLD, pagemap; one also drops its links with MADV_DONTNEED) while
 * the object's pages are punched out and faulted back in every 2 MiB
 * slot. In 6.1 such a walker reads a PMD entry twice: an entry cleared in
 * between (an unlink from the host's side) is a "Bad page map" or an oops,
 * which the run reports. Every sharer still reads what the file holds.
 */
#define WALK_SHARERS 3

static void table_walker(char *p, unsigned long size, int w, time_t until)
{
	unsigned char vec[512];
	unsigned long off, i;
	uint64_t ents[512];
	int pm = open("/proc/self/pagemap", O_RDONLY);

	while (time(NULL) < until) {
		for (off = 0; off < size; off += 512 * PG) {
			if (mincore(p + off, 512 * PG, vec))
				_exit(60);
			pread(pm, ents, sizeof(ents), (unsigned long)(p + off) / PG * 8);
		}
		madvise(p, size, MADV_COLD);
		if (w == 0)
			madvise(p, size, MADV_DONTNEED);
		for (i = 0; i < size; i += 2 * MB)
			if (probe_read(p + i + PG) < 0)
				_exit(61);
	}
	_exit(0);
}

TEST_F(kp, sharers_walk_their_tables_while_the_host_changes_them)
{
	unsigned long size = 16 * self->align, off;
	int seconds = stress_seconds();
	pid_t kids[WALK_SHARERS];
	int rfd, mfd, i, status;
	time_t until;
	char *p, *q;

	rfd = object_region("kp-walk", size, 1, &mfd);
	ASSERT_GE(rfd, 0);
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, q);
	until = time(NULL) + seconds / 2;
	for (i = 0; i < WALK_SHARERS; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			p = attach(rfd, size, PROT_READ | PROT_WRITE);
			if (!p)
				_exit(62);
			table_walker(p, size, i, until);
		}
	}
	while (time(NULL) < until)
		for (off = 0; off < size; off += 2 * MB) {
			ASSERT_EQ(0, fallocate(mfd, FALLOC_FL_PUNCH_HOLE |
					       FALLOC_FL_KEEP_SIZE, off + PG, PG));
			q[off + PG] = 1;
		}
	for (i = 0; i < WALK_SHARERS; i++) {
		ASSERT_EQ(kids[i], waitpid(kids[i], &status, 0));
		EXPECT_EQ(0, status) TH_LOG("walker %d", i);
	}
	/* What the file holds, through a fresh sharer and through pread(). */
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	for (off = 0; off < size; off += 2 * MB) {
		char c;

		ASSERT_EQ(1, pread(mfd, &c, 1, off + PG));
		ASSERT_EQ(1, c);
		ASSERT_EQ(1, p[off + PG]);
	}
	munmap(p, size);
	munmap(q, size);
	close(mfd);
	remove_region(rfd, "kp-walk");
}

/*
 * A second mapping of the region, unmapped and mapped again (a new link
 * in an mm a change may still have to unlink) while futexes on it take
 * GUP, which loops on an access that cannot link yet holding mmap_lock.
 */
struct reattach {
	int fd;
	unsigned long size;
	time_t until;
	char *p;
};

static void *reattach_and_gup(void *arg)
{
	struct reattach *ra = arg;

	while (time(NULL) < ra->until) {
		if (munmap(ra->p, ra->size) ||
		    mmap(ra->p, ra->size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, ra->fd, 0) != ra->p)
			_exit(73);
		syscall(SYS_futex, ra->p + ra->size / 2, FUTEX_WAKE, 1,
			NULL, NULL, 0);
	}
	return NULL;
}

/*
 * /proc/PID/mem reaches a sharer's region through GUP that cannot retry
 * (it holds the sharer's mmap_lock throughout), and the sharer's futexes
 * on a mapping it keeps making anew, while the region is changed over and
 * over; a change unlinks every sharer under its mmap_lock. Nothing may
 * wait on the other for good, and the range the changes never touch reads
 * what the file holds all along.
 */
TEST_F(kp, proc_mem_reads_a_sharer_while_the_region_changes)
{
	unsigned long size = 2 * self->align, half = size / 2, off;
	int seconds = stress_seconds();
	int rfd, mfd, status, sync[2];
	pid_t sharer, reader;
	time_t until;
	char *p, c;

	rfd = object_region("kp-procmem", size, 7, &mfd);
	ASSERT_GE(rfd, 0);
	ASSERT_EQ(0, pipe(sync));
	until = time(NULL) + seconds / 4;
	sharer = fork();
	if (sharer == 0) {
		struct reattach ra = { .fd = rfd, .size = size, .until = until };
		pthread_t t;

		p = attach(rfd, size, PROT_READ | PROT_WRITE);
		ra.p = attach(rfd, size, PROT_READ | PROT_WRITE);
		if (!p || !ra.p || write(sync[1], &p, sizeof(p)) != sizeof(p) ||
		    pthread_create(&t, NULL, reattach_and_gup, &ra))
			_exit(70);
		while (time(NULL) < until + 5)
			for (off = 0; off < size; off += PG)
				(void)probe_read(p + off);
		pthread_join(t, NULL);
		_exit(0);
	}
	ASSERT_EQ(sizeof(p), read(sync[0], &p, sizeof(p)));
	reader = fork();
	if (reader == 0) {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/mem", sharer);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			_exit(71);
		while (time(NULL) < until)
			for (off = 0; off < size; off += PG) {
				ssize_t got = pread(fd, &c, 1, (unsigned long)p + off);

				/* The changing half may be a hole for a moment. */
				if (off >= half && (got != 1 || c != (char)(off / PG + 7)))
					_exit(72);
			}
		_exit(0);
	}
	while (time(NULL) < until) {
		ASSERT_EQ(0, unmap_err(rfd, 0, half));
		ASSERT_EQ(0, create_err(rfd, 0, half, PROT_READ | PROT_WRITE, mfd, 0));
		ASSERT_EQ(0, create_err(rfd, 0, PG, PROT_READ | PROT_WRITE, mfd, 0));
	}
	ASSERT_EQ(reader, waitpid(reader, &status, 0));
	EXPECT_EQ(0, status);
	ASSERT_EQ(sharer, waitpid(sharer, &status, 0));
	EXPECT_EQ(0, status);
	close(mfd);
	remove_region(rfd, "kp-procmem");
}

/*
 * Every region's host is a process started for the user who sized it: it
 * counts against that user's RLIMIT_NPROC as a fork() would. As uid 65534
 * with RLIMIT_NPROC 4: as many regions can be sized as children forked
 * (EAGAIN after), and a region removed gives its slot back.
 */
static int forks_until_eagain(void)
{
	pid_t kids[16];
	int n = 0, i;

	while (n < 16) {
		kids[n] = fork();
		if (kids[n] == 0) {
			pause();
			_exit(0);
		}
		if (kids[n] < 0)
			break;
		n++;
	}
	if (n < 16 && errno != EAGAIN)
		n = -1;
	for (i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	return n;
}

TEST_F(kp, region_hosts_count_against_rlimit_nproc_as_fork_does)
{
	struct rlimit lim = { 6, 6 };
	int status;
	pid_t c = fork();

	if (c == 0) {
		char name[32];
		int fds[16], forks, regions = 0, i;

		if (setresgid(NOBODY, NOBODY, NOBODY) ||
		    setresuid(NOBODY, NOBODY, NOBODY) ||
		    setrlimit(RLIMIT_NPROC, &lim))
			_exit(80);
		forks = forks_until_eagain();
		while (regions < 16) {
			snprintf(name, sizeof(name), "kp-nproc-%d", regions);
			fds[regions] = sized_region(name, self->align, false);
			if (fds[regions] < 0)
				break;
			regions++;
		}
		if (regions == 16 || errno != EAGAIN) {
			printf("# sized %d regions, then errno %d\n", regions, errno);
			_exit(81);
		}
		/* A host is two tasks: the helper and the region's worker. */
		if (forks < 2 || regions != forks / 2) {
			printf("# %d forks but %d regions\n", forks, regions);
			_exit(82);
		}
		/* A region gone frees its host's slot. */
		remove_region(fds[0], "kp-nproc-0");
		fds[0] = sized_region("kp-nproc-0", self->align, false);
		if (fds[0] < 0)
			_exit(83);
		for (i = 0; i < regions; i++) {
			snprintf(name, sizeof(name), "kp-nproc-%d", i);
			remove_region(fds[i], name);
		}
		_exit(0);
	}
	ASSERT_EQ(c, waitpid(c, &status, 0));
	EXPECT_EQ(0, status);
}

/*
 * A host killed (by root, or through cgroup.kill by whoever owns the
 * cgroup it was moved into) no longer owns the mm its pages are charged
 * through: pages a sharer already reaches stay, a fault that would bring
 * in a new page gets SIGBUS instead of charging the root cgroup, and the
 * region still goes away cleanly.
 */
TEST_F(kp, a_killed_host_fails_new_faults_and_keeps_what_is_mapped)
{
	unsigned long size = self->align;
	int rfd, mfd, i;
	pid_t host;
	char *p;

	rfd = object_region("kp-kill", size, 'k', &mfd);
	ASSERT_GE(rfd, 0);
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	ASSERT_EQ('k', p[0]);
	ASSERT_EQ((char)('k' + 1), p[PG]);
	host = host_pid_of("kp-kill");
	ASSERT_GT(host, 0);
	ASSERT_EQ(0, kill(host, SIGKILL));
	for (i = 0; i < 500 && !kill(host, 0); i++)
		usleep(10000);
	ASSERT_NE(0, kill(host, 0)) TH_LOG("host %d still there", host);
	EXPECT_EQ('k', p[0]);
	EXPECT_EQ((char)('k' + 1), p[PG]);
	EXPECT_EQ(PROBE_SIGNAL + SIGBUS, probe_read(p + size / 2));
	munmap(p, size);
	close(mfd);
	remove_region(rfd, "kp-kill");
}

/* ---------------------------------------------------------------- stress */

/*
 * Several sharers at once: each owns a slice of a data memfd and checks
 * it against its own model while others punch and truncate a chaos
 * memfd in the same region, page it out, soft-offline and poison chaos
 * pages, fork, exec and get killed, while another process walks the data
 * workers' page tables (smaps, pagemap) as they drop their mappings with
 * MADV_DONTNEED. Afterwards every page and the module's region are gone.
 */
#define STRESS_WORKERS 4
#define SLICE (64 * PG)

static unsigned int seed_of(int w)
{
	return (unsigned int)getpid() * 2654435761u + w;
}

/* A data worker: write, read back, and check the whole slice each round. */
static void data_worker(char *p, int w, time_t until)
{
	char *s = p + w * SLICE, model[SLICE / PG];
	unsigned int seed = seed_of(w);
	unsigned long i, k;

	memset(model, 0, sizeof(model));
	memset(s, 0, SLICE);
	while (time(NULL) < until) {
		k = rand_r(&seed) % (SLICE / PG);
		model[k] = (char)rand_r(&seed);
		s[k * PG + k] = model[k];
		if (rand_r(&seed) % 16 == 0)
			madvise(s, SLICE, MADV_PAGEOUT);
		if (rand_r(&seed) % 16 == 0 && madvise(s, SLICE, MADV_DONTNEED))
			_exit(50 + w);
		for (i = 0; i < SLICE / PG; i++)
			if (s[i * PG + i] != model[i])
				_exit(10 + w);
	}
	_exit(0);
}

static void chaos_worker(char *p, int cfd, int w, time_t until, unsigned long csz)
{
	unsigned int seed = seed_of(w);
	char *c = p + STRESS_WORKERS * SLICE;

	while (time(NULL) < until) {
		unsigned long off = (rand_r(&seed) % (csz / PG)) * PG;

		switch (rand_r(&seed) % 7) {
		case 0:
			fallocate(cfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  off, 16 * PG);
			break;
		case 1:
			if (ftruncate(cfd, off) || ftruncate(cfd, csz))
				_exit(20);
			break;
		case 2:
			madvise(c, csz, MADV_PAGEOUT);
			break;
		case 3:
			madvise(c + off, PG, MADV_SOFT_OFFLINE);
			break;
		case 4:
			if (rand_r(&seed) % 8 == 0)
				madvise(c + off, PG, MADV_HWPOISON);
			break;
		default:	/* faults, maybe SIGBUS on a poisoned page */
			if (probe_write(c + off, 'c') < 0)
				_exit(21);
			break;
		}
	}
	_exit(0);
}

/* Read @pid's pagemap entries for every mapping of the stress region. */
static void read_region_pagemap(pid_t pid)
{
	unsigned long start, end, a;
	char path[64], line[512];
	uint64_t ents[512];
	FILE *maps;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY);
	while (maps && fd >= 0 && fgets(line, sizeof(line), maps)) {
		if (!strstr(line, "kp-stress") ||
		    sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		for (a = start; a < end; a += sizeof(ents) / 8 * PG)
			if (pread(fd, ents, sizeof(ents), a / PG * 8) <= 0)
				break;
	}
	if (fd >= 0)
		close(fd);
	if (maps)
		fclose(maps);
}

/* Walk the data workers' tables, under their mmap_lock, again and again. */
static void walker_worker(const pid_t *data_pids, time_t until)
{
	char path[64], buf[4096];
	int w, fd;

	while (time(NULL) < until) {
		for (w = 0; w < STRESS_WORKERS; w++) {
			snprintf(path, sizeof(path), "/proc/%d/smaps", data_pids[w]);
			fd = open(path, O_RDONLY);
			while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
				;
			if (fd >= 0)
				close(fd);
			read_region_pagemap(data_pids[w]);
		}
	}
	_exit(0);
}

/* fork, exec (ourselves, attaching by path) and kill, over and over. */
static void life_worker(const char *self_exe, time_t until)
{
	while (time(NULL) < until) {
		pid_t c = fork();

		if (c == 0) {
			execl(self_exe, self_exe, "--kp-attach", NULL);
			_exit(30);
		}
		usleep(20000);
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
	}
	_exit(0);
}

__attribute__((constructor)) static void attach_main(int argc, char **argv)
{
	int fd;
	char *p;

	if (argc < 2 || strcmp(argv[1], "--kp-attach"))
		return;
	fd = open(MNT "/kp-stress", O_RDWR);
	p = fd < 0 ? NULL : attach(fd, mshare_align() * 2, PROT_READ | PROT_WRITE);
	if (!p)
		_exit(31);
	for (;;)
		touch_read(p + (rand() % (STRESS_WORKERS * SLICE / PG)) * PG);
}

TEST_F(kp, stress_every_path_at_once_then_nothing_leaks)
{
	unsigned long size = 2 * self->align, csz = size - STRESS_WORKERS * SLICE;
	int seconds = stress_seconds();
	int rfd, dfd, cfd, i, status, failed = 0;
	long shmem0 = meminfo_kb("Shmem");
	char exe[256];
	pid_t kids[2 * STRESS_WORKERS + 2];
	time_t until;
	char *p;

	ASSERT_GT(readlink("/proc/self/exe", exe, sizeof(exe) - 1), 0);
	exe[sizeof(exe) - 1] = 0;
	zram_swap_on();
	rfd = sized_region("kp-stress", size, false);
	dfd = filled_memfd(STRESS_WORKERS * SLICE, 0, 0);
	cfd = filled_memfd(csz, 0, 0);
	ASSERT_GE(rfd, 0);
	ASSERT_EQ(0, create_err(rfd, 0, STRESS_WORKERS * SLICE,
				PROT_READ | PROT_WRITE, dfd, 0));
	ASSERT_EQ(0, create_err(rfd, STRESS_WORKERS * SLICE, csz,
				PROT_READ | PROT_WRITE, cfd, 0));
	p = attach(rfd, size, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, p);
	until = time(NULL) + seconds;
	for (i = 0; i < 2 * STRESS_WORKERS + 2; i++) {
		kids[i] = fork();
		if (kids[i])
			continue;
		/* Half attach on their own; half inherit the parent's VMA. */
		if (i % 2)
			p = attach(rfd, size, PROT_READ | PROT_WRITE);
		if (!p)
			_exit(40);
		if (i < STRESS_WORKERS)
			data_worker(p, i, until);
		else if (i < 2 * STRESS_WORKERS)
			chaos_worker(p, cfd, i, until, csz);
		else if (i == 2 * STRESS_WORKERS)
			life_worker(exe, until);
		else
			walker_worker(kids, until);
	}
	for (i = 0; i < 2 * STRESS_WORKERS + 2; i++) {
		ASSERT_EQ(kids[i], waitpid(kids[i], &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			TH_LOG("worker %d: status 0x%x", i, status);
			failed++;
		}
	}
	EXPECT_EQ(0, failed);
	munmap(p, size);
	close(dfd);
	close(cfd);
	remove_region(rfd, "kp-stress");
	/* Everything back: the region, its host and its pages. */
	EXPECT_LE(meminfo_kb("Shmem"), shmem0 + 1024);
	EXPECT_EQ(0, system("test $(wc -l < /sys/kernel/debug/mshare/regions) -eq 1"));
}

TEST_HARNESS_MAIN
