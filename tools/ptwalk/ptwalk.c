// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk: print a process's (or the kernel's) page tables through the
 * ptwalk module's debugfs file, without writing queries by hand.
 *
 *   ptwalk [-v view] [-k] [-a addr] PID|self|kernel [START [END]]
 *   ptwalk census [-k|-c] [PID...]
 *   ptwalk workload MIB N
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WALK_FILE "/sys/kernel/debug/ptwalk/walk"

static void print_usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-v leaves|ranges|path|tables|summary] [-k] [-a ADDR]\n"
		"          PID|self|kernel [START [END]]\n"
		"  -k  machine-readable key=value records\n"
		"  -a  the address for -v path\n"
		"       %s census [-k|-c] [PID...]\n"
		"  page-table census of every process or the PIDs given;\n"
		"  -k key=value records, -c CSV\n"
		"       %s workload MIB N\n"
		"  N processes that map one MIB MiB memfd and read it all\n"
		"  (something for the census to find), until killed\n",
		prog, prog, prog);
	exit(2);
}

/* ---------------------------------------------------------------- census */

/* The columns of ptwalk census -c: every record's fields, by name. */
static const char *const csv_cols[] = {
	"rec", "pid", "comm", "status", "pgd", "p4d", "pud", "pmd", "pte",
	"bytes", "deposited_pte", "shared", "level", "kind", "sets", "tables",
	"links", "saved_tables", "saved_bytes", "processes", "exited",
	"distinct_tables", "distinct_bytes", "dup_tables", "dup_sets",
	"memory", "object",
};

#define NR_CSV_COLS (sizeof(csv_cols) / sizeof(*csv_cols))

/* Print field @key of kv record @line as a CSV cell. */
static void csv_cell(const char *line, const char *key)
{
	size_t klen = strlen(key);
	const char *p = line, *end;

	for (;;) {
		p = strstr(p, key);
		if (!p)
			return;
		if ((p == line || p[-1] == ' ') && p[klen] == '=')
			break;
		p += klen;
	}
	p += klen + 1;
	/* object= is the rest of the line; everything else one word. */
	end = strcmp(key, "object") ? p + strcspn(p, "\n ") : p + strcspn(p, "\n");
	putchar('"');
	for (; p < end; p++) {
		if (*p == '"')
			putchar('"');
		putchar(*p);
	}
	putchar('"');
}

static void census_csv(char *out)
{
	char *line, *save = NULL;
	size_t c;

	for (c = 0; c < NR_CSV_COLS; c++)
		printf("%s%c", csv_cols[c], c + 1 < NR_CSV_COLS ? ',' : '\n');
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "rec=fill ", 9))
			continue;	/* its keys are bucket names */
		for (c = 0; c < NR_CSV_COLS; c++) {
			csv_cell(line, csv_cols[c]);
			putchar(c + 1 < NR_CSV_COLS ? ',' : '\n');
		}
	}
}

/* Write @query to the walk file and return the whole answer. */
static char *query_all(const char *query)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	fd = open(WALK_FILE, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "ptwalk: %s: %s (is the module loaded, are you root?)\n",
			WALK_FILE, strerror(errno));
		exit(1);
	}
	if (write(fd, query, strlen(query)) < 0) {
		fprintf(stderr, "ptwalk: query \"%s\": %s\n", query,
			strerror(errno));
		exit(1);
	}
	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	if (!buf || n < 0) {
		fprintf(stderr, "ptwalk: read: %s\n", strerror(errno));
		exit(1);
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static int census_main(int argc, char **argv, const char *prog)
{
	const char *format = "text";
	char query[256], *out;
	bool csv = false;
	int opt, len, i;

	while ((opt = getopt(argc, argv, "kch")) != -1) {
		if (opt == 'k') {
			format = "kv";
		} else if (opt == 'c') {
			format = "kv";
			csv = true;
		} else {
			print_usage(prog);
		}
	}
	len = snprintf(query, sizeof(query), "view=census format=%s pid=",
		       format);
	if (optind == argc)
		len += snprintf(query + len, sizeof(query) - len, "all");
	for (i = optind; i < argc; i++)
		len += snprintf(query + len, sizeof(query) - len, "%s%s",
				i > optind ? "," : "", argv[i]);
	if (len >= (int)sizeof(query)) {
		fprintf(stderr, "ptwalk: too many PIDs for one query\n");
		return 2;
	}
	out = query_all(query);
	if (csv)
		census_csv(out);
	else
		fputs(out, stdout);
	free(out);
	return 0;
}

/* N processes reading the same memfd: duplicate PTE tables to find. */
static int workload_main(int argc, char **argv, const char *prog)
{
	unsigned long size, i;
	int fd, n, k;
	char *p;

	if (argc != 3)
		print_usage(prog);
	size = strtoul(argv[1], NULL, 0) << 20;
	n = atoi(argv[2]);
	fd = memfd_create("ptwalk-workload", 0);
	if (fd < 0 || !size || ftruncate(fd, size)) {
		perror("ptwalk workload: memfd");
		return 1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("ptwalk workload: mmap");
		return 1;
	}
	memset(p, 0x42, size);
	munmap(p, size);
	for (k = 0; k < n; k++) {
		if (fork() == 0) {
			p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED)
				_exit(1);
			for (i = 0; i < size; i += 4096)
				if (p[i] != 0x42)
					_exit(1);
			pause();
			_exit(0);
		}
	}
	signal(SIGTERM, SIG_DFL);
	pause();
	return 0;
}

int main(int argc, char **argv)
{
	const char *view = "leaves", *addr = NULL, *format = "text";
	char query[256], buf[65536];
	int opt, fd, len;
	ssize_t n;

	if (argc > 1 && !strcmp(argv[1], "census"))
		return census_main(argc - 1, argv + 1, argv[0]);
	if (argc > 1 && !strcmp(argv[1], "workload"))
		return workload_main(argc - 1, argv + 1, argv[0]);
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
