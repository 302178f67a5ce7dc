// SPDX-License-Identifier: GPL-2.0
/*
 * An object whose I/O never completes, mapped into a region: a FUSE file
 * whose server, an unprivileged user's, never answers a READ (issue 20,
 * item 3). The server is written here on /dev/fuse (no libfuse) and
 * mounted in a user and mount namespace of its own, as uid 65534; where
 * the kernel refuses that, as root (the test says so). Each test compares
 * what mshare does with what the kernel does for a plain MAP_SHARED
 * mapping of the same file: the stalled fault itself waits as a plain
 * one does (killably: the server negotiates FUSE_ASYNC_READ, as libfuse
 * does, so 6.1 reads ahead in the background and the fault waits for the
 * page lock, killable, with mmap_lock dropped), and nobody else waits at
 * all: not another user sizing another region, not a change of this one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/fuse.h>
#include <linux/msharefs.h>

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#include "mshare_util.h"

#define FUSE_DIR	"/tmp/mshare-fuse"
#define FILE_SIZE	(2UL << 20)
#define NOBODY2		65533		/* the other user */
#define BOUND		10		/* seconds anything may take */
#define STALL_SECS	3		/* how long the stall is watched */

/* Shared with the server: what it was asked, and whether to answer. */
struct fuse_stats {
	int reads_held;		/* READs it never answered */
	int reads_answered;
	bool unprivileged;	/* mounted in a user namespace */
};

static struct fuse_stats *stats;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------ the server */

static void fuse_reply(int dev, uint64_t unique, int error, const void *out,
		       size_t len)
{
	struct fuse_out_header h = {
		.len = sizeof(h) + (error ? 0 : len), .error = error,
		.unique = unique,
	};
	struct iovec iov[2] = {
		{ &h, sizeof(h) }, { (void *)out, error ? 0 : len },
	};

	if (writev(dev, iov, 2) < 0)
		_exit(3);
}

static void fill_attr(struct fuse_attr *a, uint64_t ino)
{
	memset(a, 0, sizeof(*a));
	a->ino = ino;
	a->nlink = 1;
	a->blksize = PG;
	if (ino == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
	} else {
		a->mode = S_IFREG | 0666;
		a->size = FILE_SIZE;
		a->blocks = FILE_SIZE / 512;
	}
}

/*
 * Serves one directory holding one file, "f", of FILE_SIZE bytes whose
 * every page reads as the byte 0x5a, except that every READ past the
 * first page is never answered.
 */
static void *fuse_serve(void *arg)
{
	int dev = (long)arg;
	static char buf[1 << 20];
	static char data[1 << 17];

	memset(data, 0x5a, sizeof(data));
	for (;;) {
		struct fuse_in_header *in = (void *)buf;
		void *body = buf + sizeof(*in);
		ssize_t n = read(dev, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			_exit(0);	/* unmounted or aborted */
		}
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_in *ii = body;
			/*
			 * Read-ahead of one page: each fault's READ is
			 * its own page's, in the background.
			 */
			struct fuse_init_out o = {
				.major = FUSE_KERNEL_VERSION, .minor = 31,
				.max_readahead = ii->max_readahead ? PG : 0,
				.flags = FUSE_ASYNC_READ,
				.max_background = 16, .congestion_threshold = 12,
				.max_write = 4096, .time_gran = 1,
			};

			fuse_reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out o = { .nodeid = 2, .generation = 1 };

			if (in->nodeid != FUSE_ROOT_ID || strcmp(body, "f")) {
				fuse_reply(dev, in->unique, -ENOENT, NULL, 0);
				break;
			}
			fill_attr(&o.attr, 2);
			fuse_reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out o = { 0 };

			fill_attr(&o.attr, in->nodeid);
			fuse_reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_OPEN:
		case FUSE_OPENDIR: {
			struct fuse_open_out o = { .fh = 1 };

			fuse_reply(dev, in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_READ: {
			struct fuse_read_in *ri = body;
			size_t len = ri->size;

			if (ri->offset + len > PG) {
				__atomic_add_fetch(&stats->reads_held, 1, __ATOMIC_SEQ_CST);
				break;		/* never answered */
			}
			if (len > sizeof(data))
				len = sizeof(data);
			__atomic_add_fetch(&stats->reads_answered, 1, __ATOMIC_SEQ_CST);
			fuse_reply(dev, in->unique, 0, data, len);
			break;
		}
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;		/* no reply; interrupts are ignored */
		case FUSE_RELEASE:
		case FUSE_RELEASEDIR:
		case FUSE_FLUSH:
		case FUSE_FSYNC:
			fuse_reply(dev, in->unique, 0, NULL, 0);
			break;
		default:
			fuse_reply(dev, in->unique, -EOPNOTSUPP, NULL, 0);
			break;
		}
	}
	return NULL;
}

static bool write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	bool ok = fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool become(uid_t uid)
{
	return !setresgid(uid, uid, uid) && !setresuid(uid, uid, uid) &&
	       !prctl(PR_SET_DUMPABLE, 1);
}

/* Send @fd over @sock. */
static void send_fd(int sock, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { &c, 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	sendmsg(sock, &mh, 0);
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * In the server process: as uid 65534, in a user and mount namespace of
 * its own (uid 0 there is 65534), mount the server's file system, serve
 * it from a thread and send a descriptor of its file to the parent.
 */
static void server_fail(int code, const char *what)
{
	fprintf(stderr, "# FUSE server: %s: %s\n", what, strerror(errno));
	_exit(code);
}

static void fuse_server(int sock)
{
	char opts[128];
	pthread_t t;
	int dev, fd;

	/* Dumpable, or /proc/self/uid_map is root's. */
	if (!become(NOBODY))
		server_fail(2, "setresuid");
	if (!unshare(CLONE_NEWUSER | CLONE_NEWNS)) {
		if (!write_file("/proc/self/setgroups", "deny") ||
		    !write_file("/proc/self/uid_map", "0 65534 1") ||
		    !write_file("/proc/self/gid_map", "0 65534 1"))
			server_fail(2, "uid_map");
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
		stats->unprivileged = true;
	} else if (errno == EINVAL || errno == EPERM) {
		server_fail(5, "unshare");	/* no unprivileged user namespaces */
	} else {
		server_fail(2, "unshare");
	}
	dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		server_fail(4, "/dev/fuse");
	snprintf(opts, sizeof(opts),
		 "fd=%d,rootmode=40000,user_id=0,group_id=0", dev);
	if (mount("mshare-fuse", FUSE_DIR, "fuse", MS_NOSUID | MS_NODEV, opts))
		server_fail(6, "mount");
	pthread_create(&t, NULL, fuse_serve, (void *)(long)dev);
	fd = open(FUSE_DIR "/f", O_RDWR);
	if (fd < 0)
		server_fail(7, "open");
	send_fd(sock, fd);
	close(fd);
	pause();
	_exit(0);
}

/* ------------------------------------------------------ test helpers */

/* /proc/PID/stat's state letter, or 0 once the process is gone. */
static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	p = p ? strrchr(buf, ')') : NULL;
	return p && p[1] && p[2] ? p[2] : 0;
}

/* Seconds until @pid is reaped, -1 if it still is not after @secs. */
static double reap_within(pid_t pid, int secs, int *status)
{
	double t0 = now();

	while (now() - t0 < secs) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return now() - t0;
		usleep(10000);
	}
	return -1;
}

static bool wait_held(int n, int secs)
{
	double t0 = now();

	while (now() - t0 < secs) {
		if (__atomic_load_n(&stats->reads_held, __ATOMIC_SEQ_CST) >= n)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * A child, as uid 65534 (the server's user: a FUSE request carries the
 * caller's uid, which must exist in the server's namespace), that reads
 * @p and exits with the byte read; it stalls on a page whose READ is held.
 */
static pid_t toucher(char *p)
{
	pid_t pid = fork();

	if (!pid)
		_exit(become(NOBODY) ? __atomic_load_n(p, __ATOMIC_RELAXED) : 255);
	return pid;
}

/* What a read of @p as uid 65534 gives: the byte, or 256 + the signal. */
static int read_as_nobody(char *p)
{
	int status;

	if (waitpid(toucher(p), &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}

/* CREATE_MAPPING of new shared anonymous memory: 0 or the errno. */
static int create_anon(int fd, __u64 off, __u64 size)
{
	struct mshare_create c = {
		.region_offset = off, .size = size,
		.prot = PROT_READ | PROT_WRITE,
		.flags = MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, .fd = -1,
	};

	return ioctl(fd, MSHAREFS_CREATE_MAPPING, &c) ? errno : 0;
}

static int exit_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256 + WTERMSIG(status);
}

FIXTURE(fuse) {
	pid_t server;
	int file;		/* the server's file, held by this process */
	char name[64];		/* region A, uid 65534's */
	int region;
	char *map;		/* region A: [0, 2M) anonymous, [2M, 4M) the file */
	char *plain;		/* the file, MAP_SHARED */
	bool ready;		/* set up (6.1's harness runs a skipped body) */
};

/* At the start of each test: the setup's SKIP, again, for the body. */
#define NEED_SETUP() do {						\
	if (!self->ready)						\
		SKIP(return, "set-up skipped");				\
} while (0)

FIXTURE_SETUP(fuse)
{
	int sv[2], status;

	if (!ensure_mounted())
		SKIP(return, "msharefs not available (mshare module not loaded)");
	system("modprobe -q fuse 2>/dev/null");
	if (access("/dev/fuse", R_OK | W_OK))
		SKIP(return, "no /dev/fuse (CONFIG_FUSE_FS or the fuse module)");
	/* 0666 as udev makes it on a distribution; devtmpfs makes it 0600. */
	chmod("/dev/fuse", 0666);
	if (access("/proc/self/ns/user", F_OK))
		SKIP(return, "no user namespaces (CONFIG_USER_NS)");
	stats = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, stats);
	mkdir(FUSE_DIR, 0777);
	chmod(FUSE_DIR, 0777);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	self->server = fork();
	ASSERT_GE(self->server, 0);
	if (!self->server) {
		close(sv[0]);
		fuse_server(sv[1]);
	}
	close(sv[1]);
	self->file = recv_fd(sv[0]);
	close(sv[0]);
	if (self->file < 0 && waitpid(self->server, &status, 0) == self->server) {
		self->server = 0;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 5)
			SKIP(return, "unprivileged user namespaces refused");
		ASSERT_GE(self->file, 0)
			TH_LOG("FUSE server failed to start: status 0x%x", status);
	}
	TH_LOG("FUSE server: uid 65534 in a user namespace: %s",
	       stats->unprivileged ? "yes" : "no");

	/* Region A, uid 65534's: anonymous memory, then the file. */
	snprintf(self->name, sizeof(self->name), "fuse-a-%d", getpid());
	{
		char path[128];
		pid_t pid;

		snprintf(path, sizeof(path), MNT "/%s", self->name);
		pid = fork();
		if (!pid) {
			int fd, err;

			if (!become(NOBODY))
				_exit(1);
			fd = sized_region(self->name, 2 * FILE_SIZE, false);
			if (fd < 0)
				_exit(2);
			err = create_anon(fd, 0, FILE_SIZE);
			if (!err)
				err = create_err(fd, FILE_SIZE, FILE_SIZE, PROT_READ,
						 self->file, 0);
			if (err)
				fprintf(stderr, "# CREATE_MAPPING: %s\n", strerror(err));
			_exit(err ? 3 : 0);
		}
		ASSERT_EQ(0, exit_status(pid));
		self->region = open(path, O_RDWR);
		ASSERT_GE(self->region, 0);
	}
	self->map = mmap(NULL, 2 * FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->region, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	self->plain = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, self->file, 0);
	ASSERT_NE(MAP_FAILED, self->plain);
	/* The first page is answered: both see the server's bytes. */
	ASSERT_EQ(0x5a, read_as_nobody(self->plain));
	ASSERT_EQ(0x5a, read_as_nobody(self->map + FILE_SIZE));
	self->ready = true;
}

FIXTURE_TEARDOWN(fuse)
{
	char path[128];

	if (self->server > 0) {
		/* The connection ends: every held READ fails. */
		kill(self->server, SIGKILL);
		waitpid(self->server, NULL, 0);
	}
	snprintf(path, sizeof(path), MNT "/%s", self->name);
	unlink(path);
}

/*
 * The stalled fault itself: a sharer's fault on a page whose READ is never
 * answered waits as a fault on a plain mapping of the file does. 6.1's
 * filemap_fault() reads ahead (FUSE_ASYNC_READ: in the background), drops
 * mmap_lock and waits for the page lock killably (__folio_lock_killable()),
 * so SIGKILL ends the plain fault at once. Before, the sharer's host fault
 * had neither FAULT_FLAG_KILLABLE nor FAULT_FLAG_ALLOW_RETRY: it waited in
 * folio_lock(), D state, until the server answered, holding the host's
 * mmap_lock and its own.
 */
TEST_F(fuse, stalled_sharer_dies_as_a_plain_mapping_does)
{
	pid_t plain, sharer;
	double tp, ts;
	char sp, ss;

	NEED_SETUP();

	plain = toucher(self->plain + PG);
	ASSERT_TRUE(wait_held(1, BOUND));
	sharer = toucher(self->map + FILE_SIZE + 2 * PG);
	ASSERT_TRUE(wait_held(2, BOUND));
	sleep(STALL_SECS);
	sp = proc_state(plain);
	ss = proc_state(sharer);
	TH_LOG("stalled %d s: plain fault state %c, sharer fault state %c",
	       STALL_SECS, sp, ss);
	kill(plain, SIGKILL);
	kill(sharer, SIGKILL);
	tp = reap_within(plain, BOUND, NULL);
	ts = reap_within(sharer, BOUND, NULL);
	TH_LOG("SIGKILL to reaped: plain %.3f s, sharer %.3f s (-1: not in %d s)",
	       tp, ts, BOUND);
	EXPECT_GE(tp, 0);
	EXPECT_GE(ts, 0);
	EXPECT_EQ(sp, ss);
}

/*
 * Nobody else waits for the stalled READ: a change of the same region (by
 * its owner), root reading the debugfs view of every region, and another
 * user creating, sizing, filling and mapping a region of its own all
 * finish within BOUND seconds while a sharer's fault stalls. Before, the
 * change waited for the host's mmap_lock, which the stalled fault held,
 * uninterruptibly (flush_work()) and holding the region's lock; the
 * debugfs reader waited for that lock holding the list of regions; and
 * the other user's open(O_CREAT) waited for that list, in D state.
 */
TEST_F(fuse, stall_delays_no_change_and_no_other_user)
{
	pid_t sharer, linker, change, reader, other;
	double t0, tc, tr, to;
	char name[64];

	NEED_SETUP();

	/* A sharer that links the anonymous part, then idles. */
	linker = fork();
	ASSERT_GE(linker, 0);
	if (!linker) {
		if (!become(NOBODY))
			_exit(1);
		self->map[0] = 1;
		pause();
		_exit(0);
	}
	sharer = toucher(self->map + FILE_SIZE + 3 * PG);
	ASSERT_TRUE(wait_held(1, BOUND));
	usleep(500000);
	t0 = now();
	change = fork();
	ASSERT_GE(change, 0);
	if (!change)	/* the region's owner unmaps the anonymous part */
		_exit(become(NOBODY) ? unmap_err(self->region, 0, FILE_SIZE) : 255);
	sleep(1);
	reader = fork();
	ASSERT_GE(reader, 0);
	if (!reader)
		_exit(system("cat /sys/kernel/debug/mshare/regions >/dev/null") ? 1 : 0);
	sleep(1);
	snprintf(name, sizeof(name), "fuse-b-%d", getpid());
	other = fork();
	ASSERT_GE(other, 0);
	if (!other) {
		char *p;
		int fd;

		if (!become(NOBODY2))
			_exit(1);
		fd = sized_region(name, FILE_SIZE, false);
		if (fd < 0 || create_anon(fd, 0, FILE_SIZE))
			_exit(2);
		p = mmap(NULL, FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(3);
		p[PG] = 7;
		_exit(p[PG] == 7 ? 0 : 4);
	}
	tc = reap_within(change, BOUND, NULL);
	tr = reap_within(reader, BOUND, NULL);
	to = reap_within(other, BOUND, NULL);
	TH_LOG("while a sharer's READ stalls, reaped (started 2, 1, 0 s before):");
	TH_LOG("change %.3f s, debugfs %.3f s, other user's region %.3f s (-1: not in %d s)",
	       tc, tr, to, BOUND);
	EXPECT_GE(tc, 0);
	EXPECT_GE(tr, 0);
	EXPECT_GE(to, 0);
	EXPECT_LT(now() - t0, 3 * BOUND);
	/* The change happened: the linker's part is gone, for everyone. */
	EXPECT_EQ(256 + SIGSEGV, read_as_nobody(self->map));
	kill(sharer, SIGKILL);
	kill(linker, SIGKILL);
	EXPECT_GE(reap_within(sharer, BOUND, NULL), 0);
	waitpid(linker, NULL, 0);
	if (tc < 0 || tr < 0 || to < 0) {	/* free them: abort the server */
		kill(self->server, SIGKILL);
		waitpid(self->server, NULL, 0);
		self->server = 0;
	}
	waitpid(change, NULL, 0);
	waitpid(reader, NULL, 0);
	waitpid(other, NULL, 0);
	{
		char path[128];

		snprintf(path, sizeof(path), MNT "/%s", name);
		unlink(path);
	}
}

/*
 * A change that does wait: a GUP that cannot retry (a /proc/PID/mem read
 * of a sharer) stalls holding the sharer's mmap_lock, and a change must
 * unlink that sharer, with its mmap_lock held for writing. Its caller
 * dies at SIGKILL; so does the caller of a second change queued behind it
 * in the region's worker. The first change was started: it completes,
 * whole, once the stall ends; the second was not: it never happens. The
 * stalled /proc/PID/mem reader dies at SIGKILL too (for a plain mapping
 * such a read waits uninterruptibly: GUP without FOLL_UNLOCKABLE makes
 * the fault neither killable nor retryable).
 */
TEST_F(fuse, killed_change_dies_and_a_queued_one_changes_nothing)
{
	pid_t sharer, gup, first, second;
	double t1, t2, tg;
	char s1, s2;

	NEED_SETUP();

	sharer = fork();
	ASSERT_GE(sharer, 0);
	if (!sharer) {
		if (!become(NOBODY))
			_exit(1);
		self->map[0] = 1;		/* linked: a change waits for it */
		self->map[MB] = 2;
		pause();
		_exit(0);
	}
	usleep(500000);
	gup = fork();
	ASSERT_GE(gup, 0);
	if (!gup) {
		char path[64], c;
		int fd;

		if (!become(NOBODY))
			_exit(1);
		snprintf(path, sizeof(path), "/proc/%d/mem", sharer);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			_exit(2);
		_exit(pread(fd, &c, 1, (long)(self->map + FILE_SIZE + 4 * PG)) == 1 ? 0 : 3);
	}
	ASSERT_TRUE(wait_held(1, BOUND));
	first = fork();
	ASSERT_GE(first, 0);
	if (!first)
		_exit(become(NOBODY) ? unmap_err(self->region, 0, MB) : 255);
	sleep(1);
	second = fork();
	ASSERT_GE(second, 0);
	if (!second)
		_exit(become(NOBODY) ? unmap_err(self->region, MB, MB) : 255);
	sleep(STALL_SECS);
	s1 = proc_state(first);
	s2 = proc_state(second);
	kill(second, SIGKILL);
	t2 = reap_within(second, BOUND, NULL);
	kill(first, SIGKILL);
	t1 = reap_within(first, BOUND, NULL);
	kill(gup, SIGKILL);
	tg = reap_within(gup, BOUND, NULL);
	TH_LOG("changes waiting: states %c %c; SIGKILL to reaped: queued change %.3f s,",
	       s1, s2, t2);
	TH_LOG("started change %.3f s, /proc/PID/mem reader %.3f s (-1: not in %d s)",
	       t1, tg, BOUND);
	EXPECT_GE(t2, 0);
	EXPECT_GE(t1, 0);
	EXPECT_GE(tg, 0);
	if (tg < 0) {	/* free it: abort the server */
		kill(self->server, SIGKILL);
		waitpid(self->server, NULL, 0);
		self->server = 0;
		waitpid(gup, NULL, 0);
	}
	/* The started change completes; the cancelled one changed nothing. */
	{
		double t0 = now();

		while (read_as_nobody(self->map) != 256 + SIGSEGV && now() - t0 < BOUND)
			usleep(100000);
	}
	EXPECT_EQ(256 + SIGSEGV, read_as_nobody(self->map));
	EXPECT_EQ(2, read_as_nobody(self->map + MB));
	kill(sharer, SIGKILL);
	waitpid(sharer, NULL, 0);
}

TEST_HARNESS_MAIN
