// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk: print a process's (or the kernel's) page tables through the
 * ptwalk module's debugfs file, without writing queries by hand.
 *
 *   ptwalk [-v view] [-k] [-a addr] PID|self|kernel [START [END]]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WALK_FILE "/sys/kernel/debug/ptwalk/walk"

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-v leaves|ranges|path|tables|summary] [-k] [-a ADDR]\n"
		"          PID|self|kernel [START [END]]\n"
		"  -k  machine-readable key=value records\n"
		"  -a  the address for -v path\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *view = "leaves", *addr = NULL, *format = "text";
	char query[256], buf[65536];
	int opt, fd, len;
	ssize_t n;

	while ((opt = getopt(argc, argv, "v:ka:h")) != -1) {
		switch (opt) {
		case 'v':
			view = optarg;
			break;
		case 'k':
			format = "kv";
			break;
		case 'a':
			addr = optarg;
			view = "path";
			break;
		default:
			print_usage(argv[0]);
		}
	}
	if (optind >= argc || argc - optind > 3)
		print_usage(argv[0]);
	len = snprintf(query, sizeof(query), "pid=%s view=%s format=%s",
		       argv[optind], view, format);
	if (argc - optind > 1)
		len += snprintf(query + len, sizeof(query) - len, " start=%s",
				argv[optind + 1]);
	if (argc - optind > 2)
		len += snprintf(query + len, sizeof(query) - len, " end=%s",
				argv[optind + 2]);
	if (addr)
		len += snprintf(query + len, sizeof(query) - len, " addr=%s",
				addr);

	fd = open(WALK_FILE, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "ptwalk: %s: %s (is the module loaded, are you root?)\n",
			WALK_FILE, strerror(errno));
		return 1;
	}
	if (write(fd, query, len) < 0) {
		fprintf(stderr, "ptwalk: query \"%s\": %s\n", query,
			strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			return 1;
	if (n < 0) {
		fprintf(stderr, "ptwalk: read: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
