// SPDX-License-Identifier: GPL-2.0
/*
 * toyctl: drive /dev/toyalloc from the shell. The allocations live as
 * long as this program, so it runs a sequence of commands and shows the
 * debugfs views in between:
 *
 *   toyctl alloc 0 show buddyinfo free-all show buddyinfo
 *   toyctl policy fifo churn 5000 show extfrag_index show stats
 *   toyctl cache demo 100 rpc calloc 50 corrupt redzone validate show reports
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/toyalloc.h>

#define DBG "/sys/kernel/debug/toyalloc/"
#define MAX_HANDLES 65536
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int fd;
static unsigned long long handles[MAX_HANDLES];
static unsigned int nr_handles, cache_id;

static void die(const char *what)
{
	fprintf(stderr, "toyctl: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void keep(unsigned long long h)
{
	if (nr_handles < MAX_HANDLES)
		handles[nr_handles++] = h;
}

static int alloc_pages(unsigned int order)
{
	struct toyalloc_pages p = { .order = order };

	if (ioctl(fd, TOYALLOC_IOC_ALLOC_PAGES, &p))
		return -1;
	keep(p.handle);
	return 0;
}

static void free_at(unsigned int i)
{
	if (ioctl(fd, TOYALLOC_IOC_FREE, &handles[i]))
		die("free");
	handles[i] = handles[--nr_handles];
}

static void show(const char *name)
{
	char path[256], buf[4096];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), DBG "%s", name);
	f = open(path, O_RDONLY);
	if (f < 0)
		die(path);
	printf("--- %s\n", name);
	fflush(stdout);
	while ((n = read(f, buf, sizeof(buf))) > 0)
		if (write(1, buf, n) != n)
			break;
	close(f);
}

static unsigned int cache_flags(const char *s)
{
	unsigned int flags = 0;

	for (; *s; s++)
		flags |= *s == 'r' ? TOYALLOC_CACHE_RED_ZONE :
			 *s == 'p' ? TOYALLOC_CACHE_POISON :
			 *s == 'c' ? TOYALLOC_CACHE_CONSISTENCY :
			 *s == 'k' ? TOYALLOC_CACHE_CTOR : 0;
	return flags;
}

static int corruption(const char *s)
{
	static const char * const kinds[] = { "redzone", "use-after-free", "freeptr",
					      "double-free", "invalid-free" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(s, kinds[i]))
			return i;
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "%s: toyctl COMMAND...\n", "usage");
	fprintf(stderr,
		"  alloc ORDER [N]       N blocks of 2^ORDER pages\n"
		"  kmalloc SIZE [N]      N objects from the kmalloc classes\n"
		"  cache NAME SIZE FLAGS create a cache (flags: r red zone, p poison,\n"
		"                        c consistency, k constructor, - none)\n"
		"  calloc N              N objects from the last cache\n"
		"  churn N               N random block allocations and frees\n"
		"  free-half | free-all  free every other handle, or all of them\n"
		"  corrupt KIND          redzone, use-after-free, freeptr, double-free,\n"
		"                        invalid-free, on the newest object\n"
		"  validate              check the buddy and the last cache\n"
		"  policy lifo|fifo|addr set the pool's policy (pool must be empty)\n"
		"  show FILE             print debugfs toyalloc/FILE\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct toyalloc_cache_create cc = { .order = -1 };
	struct toyalloc_object obj = { 0 };
	struct toyalloc_validate v = { 0 };
	struct toyalloc_corrupt c = { 0 };
	unsigned int i, n, policy;
	int a;

	if (argc < 2)
		usage();
	fd = open("/dev/toyalloc", O_RDWR);
	if (fd < 0)
		die("/dev/toyalloc");
	srandom(1);
	for (a = 1; a < argc; a++) {
		const char *cmd = argv[a], *arg = a + 1 < argc ? argv[a + 1] : NULL;

		n = arg && a + 2 < argc ? strtoul(argv[a + 2], NULL, 0) : 1;
		if (!strcmp(cmd, "alloc") && arg) {
			if (a + 2 < argc && strtoul(argv[a + 2], NULL, 0))
				a++;
			else
				n = 1;
			for (i = 0; i < n; i++)
				if (alloc_pages(strtoul(arg, NULL, 0)))
					die("alloc");
			a++;
		} else if (!strcmp(cmd, "kmalloc") && arg) {
			if (a + 2 < argc && strtoul(argv[a + 2], NULL, 0))
				a++;
			else
				n = 1;
			obj.cache_id = 0;
			obj.size = strtoul(arg, NULL, 0);
			for (i = 0; i < n; i++) {
				if (ioctl(fd, TOYALLOC_IOC_KMALLOC, &obj))
					die("kmalloc");
				keep(obj.handle);
			}
			a++;
		} else if (!strcmp(cmd, "cache") && a + 3 < argc) {
			snprintf(cc.name, sizeof(cc.name), "%s", arg);
			cc.object_size = strtoul(argv[a + 2], NULL, 0);
			cc.flags = cache_flags(argv[a + 3]);
			if (ioctl(fd, TOYALLOC_IOC_CACHE_CREATE, &cc))
				die("cache");
			cache_id = cc.cache_id;
			a += 3;
		} else if (!strcmp(cmd, "calloc") && arg) {
			obj.cache_id = cache_id;
			obj.size = 0;
			for (i = 0; i < strtoul(arg, NULL, 0); i++) {
				if (ioctl(fd, TOYALLOC_IOC_CACHE_ALLOC, &obj))
					die("calloc");
				keep(obj.handle);
			}
			a++;
		} else if (!strcmp(cmd, "churn") && arg) {
			for (i = 0; i < strtoul(arg, NULL, 0); i++) {
				if (nr_handles && random() % 100 < 45)
					free_at(random() % nr_handles);
				else
					alloc_pages(random() % 100 < 85 ? random() % 3 :
						    random() % TOYALLOC_NR_ORDERS);
			}
			a++;
		} else if (!strcmp(cmd, "free-half")) {
			for (i = nr_handles; i-- > 0; )
				if (i % 2)
					free_at(i);
		} else if (!strcmp(cmd, "free-all")) {
			while (nr_handles)
				free_at(nr_handles - 1);
		} else if (!strcmp(cmd, "corrupt") && arg && nr_handles) {
			c.handle = handles[nr_handles - 1];
			c.kind = corruption(arg);
			if (ioctl(fd, TOYALLOC_IOC_CORRUPT, &c))
				die("corrupt");
			if (c.kind != TOYALLOC_CORRUPT_REDZONE &&
			    c.kind != TOYALLOC_CORRUPT_INVALID_FREE)
				nr_handles--;	/* it was freed */
			a++;
		} else if (!strcmp(cmd, "validate")) {
			v.cache_id = 0;
			if (ioctl(fd, TOYALLOC_IOC_VALIDATE, &v))
				die("validate");
			printf("validate buddy: %llu errors\n", v.total);
			v.cache_id = cache_id;
			if (cache_id && !ioctl(fd, TOYALLOC_IOC_VALIDATE, &v))
				printf("validate %s: %llu errors\n", cc.name, v.total);
		} else if (!strcmp(cmd, "policy") && arg) {
			policy = !strcmp(arg, "fifo") ? TOYALLOC_POLICY_FIFO :
				 !strcmp(arg, "addr") ? TOYALLOC_POLICY_ADDR :
				 TOYALLOC_POLICY_LIFO;
			if (ioctl(fd, TOYALLOC_IOC_SET_POLICY, &policy))
				die("policy");
			a++;
		} else if (!strcmp(cmd, "show") && arg) {
			show(arg);
			a++;
		} else {
			usage();
		}
	}
	return 0;
}
