// SPDX-License-Identifier: GPL-2.0
/* Helpers for the mshare selftests: regions, objects, outcomes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/msharefs.h>

#include "mshare_util.h"
#include "vm_util.h"

unsigned long mshare_align(void)
{
	char buf[32] = "";
	int fd = open(MNT "/mshare_info", O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		return 0;
	close(fd);
	return strtoul(buf, NULL, 0);
}

bool ensure_mounted(void)
{
	if (access(MNT "/mshare_info", F_OK) == 0)
		return true;
	mount("msharefs", MNT, "msharefs", 0, NULL);
	return access(MNT "/mshare_info", F_OK) == 0;
}

int sized_region(const char *name, unsigned long size, bool by_fallocate)
{
	char path[128];
	int fd, err;

	snprintf(path, sizeof(path), MNT "/%s", name);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -errno;
	if (by_fallocate ? fallocate(fd, 0, 0, size) : ftruncate(fd, size)) {
		err = errno;
		close(fd);
		unlink(path);
		errno = err;
		return -err;
	}
	return fd;
}

/* Create a region of @size with anonymous shared memory over all of it. */
int make_region(const char *name, unsigned long size)
{
	struct mshare_create c = {
		.region_offset = 0, .size = size, .prot = PROT_READ | PROT_WRITE,
		.flags = MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS, .fd = -1,
	};
	int fd = sized_region(name, size, false);

	if (fd < 0)
		return -1;
	if (ioctl(fd, MSHAREFS_CREATE_MAPPING, &c)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Detach, close and remove a region made by make_region(). */
void drop_region(void *p, unsigned long size, int fd, const char *name)
{
	char path[128];

	munmap(p, size);
	close(fd);
	snprintf(path, sizeof(path), MNT "/%s", name);
	unlink(path);
}

char *attach(int fd, unsigned long size, int prot)
{
	char *p = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* A regular file that is not shmem: ramfs is always built in. */
int ramfs_file(void)
{
	char data[4096];
	int fd;

	mkdir("/tmp/ramfs", 0700);
	if (access("/tmp/ramfs/file", F_OK)) {
		mount("ramfs", "/tmp/ramfs", "ramfs", 0, NULL);
		fd = open("/tmp/ramfs/file", O_RDWR | O_CREAT, 0600);
		memset(data, 'r', sizeof(data));
		memcpy(data, "ramfs page one", 15);
		if (fd < 0 || write(fd, data, sizeof(data)) != sizeof(data))
			return -1;
		close(fd);
	}
	return open("/tmp/ramfs/file", O_RDONLY);
}

/* The same open file description's inode again, opened read-only. */
int reopen_read_only(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY);
}

bool segv_on_write(char *p)
{
	pid_t c = fork();
	int status;

	if (c == 0) {
		touch_write(p, 1);
		_exit(0);
	}
	waitpid(c, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

static int probe(void *p, bool write, char v)
{
	pid_t c = fork();
	int status;

	if (c == 0) {
		if (write) {
			touch_write(p, v);
			_exit((unsigned char)v);
		}
		_exit(__atomic_load_n((unsigned char *)p, __ATOMIC_RELAXED));
	}
	if (c < 0 || waitpid(c, &status, 0) != c)
		return -1;
	if (WIFSIGNALED(status))
		return PROBE_SIGNAL + WTERMSIG(status);
	return WEXITSTATUS(status);
}

bool mshare_pmd_sharing(void)
{
	int fd = open("/sys/module/mshare/parameters/pmd_sharing", O_RDONLY);
	char c = 0;

	if (fd >= 0) {
		if (read(fd, &c, 1) != 1)
			c = 0;
		close(fd);
	}
	return c == 'Y';
}

int probe_read(const void *p)
{
	return probe((void *)p, false, 0);
}

int probe_write(void *p, char v)
{
	return probe(p, true, v);
}

/*
 * A "<key> <n> kB" line of /proc/self/status, or of the smaps entry of the
 * mapping that starts at @vma (if not NULL); -1 if absent.
 */
long proc_kb(const char *key, const void *vma)
{
	char line[256], start[32];
	size_t n = strlen(key);
	bool inside = !vma;
	long kb = -1;
	FILE *f = fopen(vma ? "/proc/self/smaps" : "/proc/self/status", "r");

	snprintf(start, sizeof(start), "%lx-", (unsigned long)vma);
	while (f && kb < 0 && fgets(line, sizeof(line), f)) {
		if (vma && strchr(line, '-') && strchr(line, '-') < strchr(line, ' '))
			inside = !strncmp(line, start, strlen(start));
		else if (inside && !strncmp(line, key, n) && line[n] == ':')
			kb = atol(line + n + 1);
	}
	if (f)
		fclose(f);
	return kb;
}

int create_err(int fd, __u64 off, __u64 size, __u32 prot, int ofd,
	       __u64 foff)
{
	struct mshare_create c = { off, size, foff, prot, MAP_SHARED | MAP_FIXED,
				   (__u32)ofd };

	return ioctl(fd, MSHAREFS_CREATE_MAPPING, &c) ? errno : 0;
}

int unmap_err(int fd, __u64 off, __u64 size)
{
	struct mshare_unmap u = { off, size };

	return ioctl(fd, MSHAREFS_UNMAP, &u) ? errno : 0;
}

int protect_err(int fd, __u64 off, __u64 size, __u32 prot)
{
	struct mshare_protect p = { off, size, prot, 0 };

	return ioctl(fd, MSHAREFS_PROTECT, &p) ? errno : 0;
}

void remove_region(int fd, const char *name)
{
	char path[128];

	close(fd);
	snprintf(path, sizeof(path), MNT "/%s", name);
	unlink(path);
}

int filled_memfd(unsigned long size, unsigned int flags, int salt)
{
	int fd = memfd_create("kp", flags);
	char page[PG];
	unsigned long i;

	if (fd < 0 || ftruncate(fd, size))
		return -1;
	for (i = 0; i < size / PG; i++) {
		memset(page, (char)(i + salt), PG);
		if (pwrite(fd, page, PG, i * PG) != PG)
			return -1;
	}
	return fd;
}

pid_t host_pid_of(const char *name)
{
	char path[300], argv[256], want[128];
	struct dirent *d;
	pid_t pid = -1;
	DIR *proc = opendir("/proc");
	int len, fd, n;

	len = snprintf(want, sizeof(want), "mshare-host%c%s", 0, name) + 1;
	while (proc && pid < 0 && (d = readdir(proc))) {
		snprintf(path, sizeof(path), "/proc/%s/cmdline", d->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, argv, sizeof(argv));
		close(fd);
		if (n > len && !memcmp(argv + strlen(argv) + 1, want, len))
			pid = atoi(d->d_name);
	}
	if (proc)
		closedir(proc);
	return pid;
}

int cg_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

long cg_memory(const char *cg)
{
	char path[128], buf[32] = "";
	int fd;

	snprintf(path, sizeof(path), CGROOT "/%s/memory.current", cg);
	fd = open(path, O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	if (fd >= 0)
		close(fd);
	return atol(buf);
}

int cg_move(const char *cg)
{
	char path[128], pid[16];

	snprintf(path, sizeof(path), CGROOT "/%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", getpid());
	return cg_write(path, pid);
}

void cg_join(const char *cg)
{
	if (cg_move(cg))
		_exit(9);
}

bool cg_memory_ready(void)
{
	mkdir(CGROOT, 0755);
	mount("none", CGROOT, "cgroup2", 0, NULL);
	return cg_write(CGROOT "/cgroup.subtree_control", "+memory") == 0;
}

pid_t write_in_child(const char *path, const char *s)
{
	pid_t pid = fork();
	int fd;

	if (pid == 0) {
		fd = open(path, O_WRONLY | O_APPEND);
		_exit(fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : 1);
	}
	return pid;
}

int status_within(pid_t pid, int secs)
{
	int status, i;

	for (i = 0; pid > 0 && i < secs * 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		usleep(10000);
	}
	return -1;
}

long kernel_warnings(void)
{
	char buf[32] = "";
	int fd = open("/sys/kernel/warn_count", O_RDONLY);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) <= 0)
		buf[0] = 0;
	if (fd >= 0)
		close(fd);
	return buf[0] ? atol(buf) : -1;
}

int object_region(const char *name, unsigned long size, int salt, int *mfd)
{
	int rfd = sized_region(name, size, false);

	*mfd = filled_memfd(size, 0, salt);
	if (rfd < 0 || *mfd < 0 ||
	    create_err(rfd, 0, size, PROT_READ | PROT_WRITE, *mfd, 0))
		return -1;
	return rfd;
}

int stress_seconds(void)
{
	const char *v = getenv("MSHARE_STRESS_SECONDS");

	return v && atoi(v) > 0 ? atoi(v) : 20;
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(sigbus_jmp, 1);
}

long sigbus_reads(const char *p, unsigned long len, unsigned long step)
{
	long *count = mmap(NULL, PG, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	static unsigned long off;	/* kept across siglongjmp() */
	int status;
	long n;

	if (count == MAP_FAILED)
		return -1;
	*count = 0;
	if (fork() == 0) {
		signal(SIGBUS, on_sigbus);
		for (off = 0; off < len; off += step)
			if (sigsetjmp(sigbus_jmp, 1))
				++*count;
			else
				touch_read(p + off);
		_exit(0);
	}
	wait(&status);
	n = WIFEXITED(status) && !WEXITSTATUS(status) ? *count : -1;
	munmap(count, PG);
	return n;
}
