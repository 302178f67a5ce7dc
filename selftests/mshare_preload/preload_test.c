// SPDX-License-Identifier: GPL-2.0
/*
 * libmshare-preload.so against ground truth. An unmodified, dynamically
 * linked program (victim/preload_victim.c, run through the loader in rt/
 * because the guest has no /lib64) is run with and without the library;
 * what it got is read from outside: /proc/PID/maps (a region is a mapping
 * of an msharefs file), the PTE- and PMD-table PFNs ptwalk reads from each
 * process's page tables, /proc/meminfo Shmem and PageTables, the msharefs
 * directory, and the program's stderr and exit status.
 *
 * MSHARE_PRELOAD_TEST_LIB names another library to test (a broken one
 * must fail).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <libgen.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#include "ptwalk_lib.h"
#include "ptwalk_tables.h"
#include "vm_util.h"
#include "mshare_util.h"

#define GB (1UL << 30)
#define PMD_SZ (2UL << 20)

/* A running victim: its stdin, stdout (all lines kept) and stderr file. */
struct victim {
	pid_t pid;
	int in;
	FILE *out;
	char err_path[64];
	char lines[16384];
	size_t used;
};

static char rt_dir[PATH_MAX / 2];

static const char *rt_path(const char *name, char *buf)
{
	if (!rt_dir[0]) {
		char exe[PATH_MAX / 2 - 8];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		exe[n > 0 ? n : 0] = 0;
		snprintf(rt_dir, sizeof(rt_dir), "%s/rt", dirname(exe));
	}
	snprintf(buf, PATH_MAX, "%s/%s", rt_dir, name);
	return buf;
}

/*
 * Start the victim with @args, under the preload if @preload; @env adds
 * "NAME=value" strings (NULL-terminated list or NULL); @as_limit (bytes)
 * sets RLIMIT_AS.
 */
static void start(struct victim *v, bool preload, const char *const *env,
		  unsigned long as_limit, const char *args)
{
	char ld[PATH_MAX], victim[PATH_MAX], lib[PATH_MAX], pre[PATH_MAX + 16];
	char argbuf[256], *argv[16], *envp[16], *tok, *save;
	int in[2], out[2], n = 0, e = 0;
	const char *test_lib = getenv("MSHARE_PRELOAD_TEST_LIB");

	memset(v, 0, sizeof(*v));
	rt_path("", ld);
	argv[n++] = "ld.so";
	argv[n++] = "--library-path";
	argv[n++] = rt_dir;
	argv[n++] = (char *)rt_path("preload_victim", victim);
	snprintf(argbuf, sizeof(argbuf), "%s", args);
	for (tok = strtok_r(argbuf, " ", &save); tok && n < 15; tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s",
		 test_lib && *test_lib ? test_lib : rt_path("libmshare-preload.so", lib));
	if (preload)
		envp[e++] = pre;
	envp[e++] = "PATH=/bin:/sbin";
	while (env && *env && e < 15)
		envp[e++] = (char *)*env++;
	envp[e] = NULL;
	snprintf(v->err_path, sizeof(v->err_path), "/tmp/preload-victim-%d.err", getpid());
	if (pipe(in) || pipe(out))
		return;
	v->pid = fork();
	if (!v->pid) {
		int fd = open(v->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		struct rlimit rl = { as_limit, as_limit };

		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(fd, 2);
		close(in[1]);
		close(out[0]);
		if (as_limit)
			setrlimit(RLIMIT_AS, &rl);
		execve(rt_path("ld-linux-x86-64.so.2", ld), argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	v->in = in[1];
	v->out = fdopen(out[0], "r");
}

/*
 * Read lines up to the one starting with "@key " (or equal to @key) and
 * return the rest of it (empty string if none), or NULL at end of output.
 */
static const char *expect(struct victim *v, const char *key)
{
	static char line[512];
	size_t k = strlen(key);

	while (fgets(line, sizeof(line), v->out)) {
		size_t n = strlen(line);

		if (v->used + n < sizeof(v->lines)) {
			memcpy(v->lines + v->used, line, n + 1);
			v->used += n;
		}
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, key, k) && (line[k] == ' ' || !line[k]))
			return line[k] ? line + k + 1 : line + k;
	}
	return NULL;
}

static long expect_num(struct victim *v, const char *key)
{
	const char *s = expect(v, key);

	return s ? strtol(s, NULL, 0) : -1000;
}

static void go(struct victim *v)
{
	if (write(v->in, "\n", 1) != 1)
		perror("write to victim");
}

/* Let the victim finish; its exit code, or 128 + signal. */
static int finish(struct victim *v)
{
	int st;

	close(v->in);
	while (expect(v, "\1"))
		;
	fclose(v->out);
	if (waitpid(v->pid, &st, 0) != v->pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Lines of the victim's stderr that contain @word (all lines if NULL). */
static int err_lines(struct victim *v, const char *word)
{
	char line[512];
	int n = 0;
	FILE *f = fopen(v->err_path, "r");

	while (f && fgets(line, sizeof(line), f))
		n += !word || strstr(line, word);
	if (f)
		fclose(f);
	return n;
}

static void dump_err(struct victim *v)
{
	char line[512];
	FILE *f = fopen(v->err_path, "r");

	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "# victim stderr: %s", line);
	if (f)
		fclose(f);
	unlink(v->err_path);
}

/*
 * The /proc/PID/maps line of the mapping that starts at @addr: its end
 * in *end, its permissions and path in @perm_path; false if none.
 */
static bool maps_at(pid_t pid, unsigned long addr, unsigned long *end, char *perm_path,
		    size_t len)
{
	char path[64], line[512];
	unsigned long s, e;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f)) {
		char perm[8];
		int off = 0;

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &s, &e, perm, &off) < 3 ||
		    s != addr)
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(perm_path, len, "%s %s", perm, off ? line + off : "");
		if (end)
			*end = e;
		found = true;
	}
	if (f)
		fclose(f);
	return found;
}

/* Does @pid map an msharefs region at @addr? */
static bool region_at(pid_t pid, unsigned long addr)
{
	char pp[PATH_MAX];

	return maps_at(pid, addr, NULL, pp, sizeof(pp)) && strstr(pp, MNT "/");
}

/* Any msharefs mapping at all in @pid? */
static bool any_region(pid_t pid)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		found |= !!strstr(line, MNT "/");
	if (f)
		fclose(f);
	return found;
}

/* Files in the msharefs root other than mshare_info. */
static int region_files(void)
{
	DIR *d = opendir(MNT);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.' && strcmp(de->d_name, "mshare_info");
	if (d)
		closedir(d);
	return n;
}

#define NEED_MSHARE()							\
	do {								\
		if (!ensure_mounted())					\
			SKIP(return, "msharefs not available (mshare module not loaded)"); \
		if (access(PTWALK_FILE, F_OK))				\
			SKIP(return, "ptwalk debugfs file missing (ptwalk module not loaded)"); \
	} while (0)

/*
 * Parent and two forked children of a program that maps 64 MiB
 * MAP_SHARED|MAP_ANONYMOUS: the same data, and the same PTE tables.
 * @preload false is the control: separate tables (the check can fail).
 * Returns the number of 2 MiB slots where all three had one table.
 */
static int fork_sharing(struct __test_metadata *_metadata, bool preload, bool unmap)
{
	long shmem0 = meminfo_kb("Shmem"), shmem1, shmem2;
	unsigned long addr, off;
	struct victim v;
	pid_t kids[2];
	int same = 0, k;

	start(&v, preload, NULL, 0, unmap ? "anon 64 2 unmap" : "anon 64 2 exit");
	addr = strtoul(expect(&v, "map") ?: "0", NULL, 0);
	for (k = 0; k < 2; k++)
		kids[k] = expect_num(&v, "child");
	EXPECT_STREQ("yes", expect(&v, "children-saw-data") ?: "EOF");
	ASSERT_NE(NULL, expect(&v, "ready")) dump_err(&v);
	ASSERT_NE(0, addr);
	EXPECT_EQ(preload, region_at(v.pid, addr));
	for (k = 0; k < 2; k++)
		EXPECT_EQ(preload, region_at(kids[k], addr));
	/* Unlinked as soon as mapped: nothing in msharefs names it. */
	EXPECT_EQ(0, region_files());
	shmem1 = meminfo_kb("Shmem");
	EXPECT_GE(shmem1 - shmem0, 60 * 1024);
	for (off = 0; off < 64 * MB; off += PMD_SZ) {
		unsigned long t = ptw_table_of(v.pid, addr + off, "pte");

		same += t && t == ptw_table_of(kids[0], addr + off, "pte") &&
			t == ptw_table_of(kids[1], addr + off, "pte");
	}
	go(&v);
	EXPECT_STREQ("yes", expect(&v, "parent-saw-children") ?: "EOF");
	if (unmap) {
		EXPECT_EQ(0, expect_num(&v, "munmap"));
		ASSERT_NE(NULL, expect(&v, "ready"));
		EXPECT_FALSE(any_region(v.pid));
		shmem2 = meminfo_kb("Shmem");
		EXPECT_LE(shmem2 - shmem0, 2048)
			TH_LOG("Shmem %ld -> %ld -> %ld kB after munmap", shmem0, shmem1, shmem2);
		go(&v);
	}
	EXPECT_EQ(0, finish(&v));
	EXPECT_EQ(0, err_lines(&v, NULL));
	dump_err(&v);
	TH_LOG("%s: %d of 32 PTE tables shared by all three, Shmem +%ld kB",
	       preload ? "preload" : "plain", same, shmem1 - shmem0);
	return same;
}

TEST(fork_shares_data_and_page_tables)
{
	NEED_MSHARE();
	EXPECT_EQ(32, fork_sharing(_metadata, true, true));
	/* The control: the same program without the library shares no table. */
	EXPECT_EQ(0, fork_sharing(_metadata, false, true));
}

/* Exit without munmap: the region, its pages and tables are gone after. */
TEST(exit_leaves_no_region_and_no_page)
{
	long shmem0, pt0, shmem1, pt1;
	int i;

	NEED_MSHARE();
	/* The first run may load what stays (the loader's page cache is not Shmem). */
	shmem0 = meminfo_kb("Shmem");
	pt0 = meminfo_kb("PageTables");
	for (i = 0; i < 3; i++)
		fork_sharing(_metadata, true, false);
	shmem1 = meminfo_kb("Shmem");
	pt1 = meminfo_kb("PageTables");
	EXPECT_EQ(0, region_files());
	/* Three runs of 64 MiB each: a leak of one would be 65536 kB. */
	EXPECT_LE(shmem1 - shmem0, 2048) TH_LOG("Shmem %ld -> %ld kB", shmem0, shmem1);
	EXPECT_LE(pt1 - pt0, 256) TH_LOG("PageTables %ld -> %ld kB", pt0, pt1);
}

/* A 33 MiB mapping is a 34 MiB region (mshare_info) that munmap(33 MiB) detaches. */
TEST(size_rounded_and_whole_munmap_detaches)
{
	unsigned long addr, end = 0;
	long shmem0 = meminfo_kb("Shmem");
	char pp[PATH_MAX];
	struct victim v;

	NEED_MSHARE();
	start(&v, true, NULL, 0, "map anon 33");
	addr = strtoul(expect(&v, "map") ?: "0", NULL, 0);
	ASSERT_NE(NULL, expect(&v, "ready")) dump_err(&v);
	ASSERT_TRUE(maps_at(v.pid, addr, &end, pp, sizeof(pp)));
	EXPECT_NE(NULL, strstr(pp, MNT "/")) TH_LOG("maps: %s", pp);
	EXPECT_EQ(34 * MB, end - addr);
	EXPECT_EQ(0, addr % PMD_SZ);
	go(&v);
	EXPECT_EQ(0, expect_num(&v, "munmap"));
	ASSERT_NE(NULL, expect(&v, "ready"));
	EXPECT_FALSE(any_region(v.pid));
	EXPECT_FALSE(maps_at(v.pid, addr + 33 * MB, NULL, pp, sizeof(pp))) TH_LOG("%s", pp);
	EXPECT_LE(meminfo_kb("Shmem") - shmem0, 2048);
	go(&v);
	EXPECT_EQ(0, finish(&v));
	dump_err(&v);
}

/* A GiB or more: 1 GiB aligned, and the PMD table is the region's in a child too. */
TEST(gib_mapping_is_gib_aligned)
{
	unsigned long addr;
	struct victim v;
	pid_t kid;

	NEED_MSHARE();
	start(&v, true, NULL, 0, "anon 1026 1 unmap");
	addr = strtoul(expect(&v, "map") ?: "0", NULL, 0);
	kid = expect_num(&v, "child");
	ASSERT_NE(NULL, expect(&v, "ready")) dump_err(&v);
	EXPECT_TRUE(region_at(v.pid, addr));
	/* 2 MiB aligned only where there is no PMD sharing (mshare.rst). */
	EXPECT_EQ(0, addr % (mshare_pmd_sharing() ? GB : 2UL << 20))
		TH_LOG("address %#lx", addr);
	EXPECT_EQ(ptw_table_of(v.pid, addr, "pte"), ptw_table_of(kid, addr, "pte"));
	EXPECT_EQ(ptw_table_of(v.pid, addr + GB, "pte"), ptw_table_of(kid, addr + GB, "pte"));
	/* With PMD sharing (the default) the whole GiB's PMD table is one. */
	if (mshare_pmd_sharing())
		EXPECT_EQ(ptw_table_of(v.pid, addr, "pmd"), ptw_table_of(kid, addr, "pmd"));
	TH_LOG("PMD tables: parent %#lx child %#lx", ptw_table_of(v.pid, addr, "pmd"),
	       ptw_table_of(kid, addr, "pmd"));
	go(&v);
	EXPECT_EQ(0, expect_num(&v, "munmap"));
	go(&v);
	EXPECT_EQ(0, finish(&v));
	dump_err(&v);
}

/*
 * Run "map @kind @mb" under the preload (with @env, @as_limit) and check
 * whether it got a region and how many stderr lines contain @word.
 */
static void map_case(struct __test_metadata *_metadata, const char *kind, int mb,
		     const char *const *env, unsigned long as_limit, bool want_region,
		     int want_msgs, const char *word)
{
	char args[64];
	unsigned long addr;
	struct victim v;
	int msgs;

	snprintf(args, sizeof(args), "map %s %d", kind, mb);
	start(&v, true, env, as_limit, args);
	addr = strtoul(expect(&v, "map") ?: "0", NULL, 0);
	ASSERT_NE(NULL, expect(&v, "ready")) {
		TH_LOG("%s: %s", args, v.lines);
		dump_err(&v);
	}
	EXPECT_EQ(want_region, region_at(v.pid, addr)) TH_LOG("%s", args);
	if (strstr(kind, "memfd") || !strcmp(kind, "shm"))
		EXPECT_NE(NULL, strstr(v.lines, "pread-ok")) TH_LOG("%s", args);
	go(&v);
	EXPECT_EQ(0, expect_num(&v, "munmap"));
	ASSERT_NE(NULL, expect(&v, "ready"));
	EXPECT_FALSE(any_region(v.pid));
	go(&v);
	EXPECT_EQ(0, finish(&v)) TH_LOG("%s", args);
	msgs = err_lines(&v, NULL);
	EXPECT_EQ(want_msgs, msgs) TH_LOG("%s: %d stderr lines", args, msgs);
	if (want_msgs)
		EXPECT_EQ(want_msgs, err_lines(&v, word)) TH_LOG("%s: no \"%s\"", args, word);
	dump_err(&v);
}

static bool hugepages_free(unsigned long mb)
{
	return meminfo_kb("HugePages_Free") * 2 >= (long)mb;
}

TEST(fallbacks_say_one_line_and_work)
{
	static const char *const huge_min[] = { "MSHARE_PRELOAD_MIN=64m", NULL };
	/* Letters, a bad suffix, a shift past 64 bits, a sign. */
	static const char *const bad_min[][2] = {
		{ "MSHARE_PRELOAD_MIN=abc", NULL },
		{ "MSHARE_PRELOAD_MIN=16x", NULL },
		{ "MSHARE_PRELOAD_MIN=17179869184g", NULL },
		{ "MSHARE_PRELOAD_MIN=-1", NULL },
	};

	NEED_MSHARE();
	map_case(_metadata, "fixed", 32, NULL, 0, false, 1, "MAP_FIXED");
	map_case(_metadata, "none", 32, NULL, 0, false, 1, "PROT_NONE");
	if (hugepages_free(32))
		map_case(_metadata, "hugetlb", 32, NULL, 0, false, 1, "hugetlb");
	else
		TH_LOG("no free huge pages: MAP_HUGETLB case not run");
	/* The aligned reservation (size + 1 GiB) does not fit; the plain call does. */
	map_case(_metadata, "anon", 1024, NULL, 1536 * MB, false, 1, "Cannot allocate memory");
	/* Not for the library: silently plain. */
	map_case(_metadata, "private", 32, NULL, 0, false, 0, NULL);
	map_case(_metadata, "anon", 8, NULL, 0, false, 0, NULL);
	map_case(_metadata, "anon", 32, huge_min, 0, false, 0, NULL);
	map_case(_metadata, "anon", 64, huge_min, 0, true, 0, NULL);
	/* A threshold that is not a size: said once, the default used. */
	map_case(_metadata, "anon", 8, bad_min[0], 0, false, 1, "not a size");
	map_case(_metadata, "anon", 32, bad_min[0], 0, true, 1, "not a size");
	map_case(_metadata, "anon", 8, bad_min[1], 0, false, 1, "not a size");
	map_case(_metadata, "anon", 8, bad_min[2], 0, false, 1, "not a size");
	map_case(_metadata, "anon", 32, bad_min[3], 0, true, 1, "not a size");
	/* msharefs not mounted. */
	ASSERT_EQ(0, umount(MNT));
	map_case(_metadata, "anon", 32, NULL, 0, false, 1, "No such file");
	ASSERT_TRUE(ensure_mounted());
}

TEST(posix_objects)
{
	static const char *const posix_off[] = { "MSHARE_PRELOAD_POSIX=0", NULL };
	static const char *const anon_off[] = { "MSHARE_PRELOAD_ANON=0", NULL };
	long shmem0 = meminfo_kb("Shmem");

	NEED_MSHARE();
	map_case(_metadata, "memfd", 32, NULL, 0, true, 0, NULL);
	map_case(_metadata, "shm", 32, NULL, 0, true, 0, NULL);
	map_case(_metadata, "memfd", 32, posix_off, 0, false, 0, NULL);
	map_case(_metadata, "anon", 32, posix_off, 0, true, 0, NULL);
	map_case(_metadata, "anon", 32, anon_off, 0, false, 0, NULL);
	map_case(_metadata, "memfd", 32, anon_off, 0, true, 0, NULL);
	if (hugepages_free(32))
		map_case(_metadata, "hugememfd", 32, NULL, 0, false, 1, "hugetlb");
	EXPECT_LE(meminfo_kb("Shmem") - shmem0, 2048);
	EXPECT_EQ(0, region_files());
}

/* shmget/shmat: a region, the data shared with a child, nattch kept. */
static void sysv_case(struct __test_metadata *_metadata, bool on)
{
	static const char *const sysv_off[] = { "MSHARE_PRELOAD_SYSV=0", NULL };
	long shmem0 = meminfo_kb("Shmem");
	unsigned long addr;
	struct victim v;

	start(&v, true, on ? NULL : sysv_off, 0, "sysv 32");
	addr = strtoul(expect(&v, "map") ?: "0", NULL, 0);
	EXPECT_EQ(0, expect_num(&v, "child-rc"));
	EXPECT_STREQ("yes", expect(&v, "parent-saw-child") ?: "EOF");
	EXPECT_EQ(1, expect_num(&v, "nattch"));
	ASSERT_NE(NULL, expect(&v, "ready")) dump_err(&v);
	EXPECT_EQ(on, region_at(v.pid, addr));
	EXPECT_EQ(0, region_files());
	EXPECT_GE(meminfo_kb("Shmem") - shmem0, 30 * 1024);
	go(&v);
	EXPECT_EQ(0, expect_num(&v, "shmdt"));
	EXPECT_EQ(0, expect_num(&v, "nattch"));
	ASSERT_NE(NULL, expect(&v, "ready"));
	EXPECT_FALSE(any_region(v.pid));
	EXPECT_LE(meminfo_kb("Shmem") - shmem0, 2048);
	go(&v);
	EXPECT_EQ(0, finish(&v));
	EXPECT_EQ(0, err_lines(&v, NULL));
	dump_err(&v);
}

TEST(sysv_segments)
{
	NEED_MSHARE();
	sysv_case(_metadata, true);
	sysv_case(_metadata, false);
}

/* mprotect/mremap/partial munmap fail with EINVAL and change nothing. */
TEST(region_rules_for_mprotect_mremap_madvise)
{
	struct victim v;
	long e;

	NEED_MSHARE();
	start(&v, true, NULL, 0, "ops 32");
	expect(&v, "map");
	EXPECT_EQ(EINVAL, expect_num(&v, "mprotect-all"));
	EXPECT_EQ(EINVAL, expect_num(&v, "mprotect-part"));
	/* Growing a VM_DONTEXPAND mapping: EFAULT, as for any such VMA. */
	EXPECT_EQ(EFAULT, expect_num(&v, "mremap-grow"));
	EXPECT_EQ(EINVAL, expect_num(&v, "mremap-shrink"));
	EXPECT_EQ(0, expect_num(&v, "madvise-dontneed"));
	EXPECT_EQ(0, expect_num(&v, "data-after-dontneed"));
	EXPECT_EQ(EINVAL, expect_num(&v, "munmap-part"));
	/*
	 * Documented: a region's VMA cannot be split; mmap() says ENOMEM
	 * (6.1) or passes ->may_split()'s EINVAL on (6.12, 7.3).
	 */
	e = expect_num(&v, "mmap-fixed-part");
	EXPECT_EQ(kernel_at_least(6, 12) ? EINVAL : ENOMEM, e);
	EXPECT_EQ(0, expect_num(&v, "msync-sync"));
	EXPECT_EQ(0, expect_num(&v, "data-after-part"));
	ASSERT_NE(NULL, expect(&v, "ready")) TH_LOG("%s", v.lines);
	go(&v);
	EXPECT_EQ(0, expect_num(&v, "munmap"));
	go(&v);
	EXPECT_EQ(0, finish(&v));
	dump_err(&v);
}

/* Flags a region cannot honour get the kernel's own answer. */
TEST(unhonoured_flags_get_the_kernels_answer)
{
	static struct victim plain, pre;

	NEED_MSHARE();
	start(&plain, false, NULL, 0, "flags 32");
	ASSERT_NE(NULL, expect(&plain, "done"));
	EXPECT_EQ(0, finish(&plain));
	start(&pre, true, NULL, 0, "flags 32");
	ASSERT_NE(NULL, expect(&pre, "done"));
	EXPECT_EQ(0, finish(&pre));
	EXPECT_STREQ(plain.lines, pre.lines);
	EXPECT_EQ(0, err_lines(&pre, NULL));
	dump_err(&pre);
}

/*
 * fork() while other threads keep mapping and unmapping regions: 30
 * forks complete within 30 s while they run. The library once held its
 * lock across making and dropping regions: 30 forks then took 47 s on
 * the stock kernel (2 s now), and 200 starved for minutes.
 */
TEST(fork_is_not_starved_by_threads_making_regions)
{
	struct victim v;
	long done;

	NEED_MSHARE();
	/*
	 * Starvation is a fork that never returns: the deadline is only a
	 * backstop below the test's timeout (30 forks took 2-30 s on the
	 * debug kernel under TCG, depending on the machine's load).
	 */
	start(&v, true, NULL, 0, "forks 16 30 240");
	TH_LOG("30 forks took %ld s", expect_num(&v, "forks-took"));
	done = expect_num(&v, "forks-while-threads-ran");
	EXPECT_EQ(30, done) TH_LOG("%s", v.lines);
	EXPECT_GT(expect_num(&v, "thread-regions"), 0);
	EXPECT_EQ(0, finish(&v));
	EXPECT_EQ(0, region_files());
	dump_err(&v);
}

/* After exec the child maps no region; the parent's data are intact. */
TEST(exec_detaches)
{
	struct victim v;
	char *maps;

	NEED_MSHARE();
	start(&v, true, NULL, 0, "exec 32 /bin/busybox");
	expect(&v, "map");
	EXPECT_EQ(0, expect_num(&v, "exec-rc"));
	maps = strstr(v.lines, "\n");
	ASSERT_NE(NULL, maps);
	EXPECT_NE(NULL, strstr(maps, "[stack]")) TH_LOG("no maps from the exec'd child");
	EXPECT_EQ(NULL, strstr(maps, MNT "/"));
	EXPECT_STREQ("0 yes", expect(&v, "data-after-exec") ?: "EOF");
	ASSERT_NE(NULL, expect(&v, "ready"));
	EXPECT_TRUE(any_region(v.pid));
	go(&v);
	EXPECT_EQ(0, finish(&v));
	dump_err(&v);
}

/*
 * Last: msharefs unmounts (no region of the suite is still mapped or
 * open), so that the runner can unload mshare.ko.
 */
TEST(zz_unmount_after_the_suite)
{
	if (access(MNT "/mshare_info", F_OK))
		SKIP(return, "msharefs not mounted");
	EXPECT_EQ(0, umount(MNT)) TH_LOG("umount: %s", strerror(errno));
}

TEST_HARNESS_MAIN
