// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ptwalk_lib.h"
#include "vm_util.h"

int ptw_query(const char *query, char **out)
{
	size_t len;

	return ptw_query_len(query, out, &len);
}

int ptw_query_len(const char *query, char **out, size_t *lenp)
{
	size_t cap = 1 << 16, len = 0;
	char *buf;
	ssize_t n;
	int fd;

	fd = open(PTWALK_FILE, O_RDWR);
	if (fd < 0)
		return -errno;
	if (write(fd, query, strlen(query)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	buf = malloc(cap);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return -EIO;
	}
	buf[len] = '\0';
	*out = buf;
	*lenp = len;
	return 0;
}

long long kv_num(const char *line, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p) {
		snprintf(pat, sizeof(pat), "%s=", key);
		if (strncmp(line, pat, strlen(pat)))
			return -1;
		p = line - 1;
	}
	return strtoull(p + strlen(pat), NULL, 0);
}

static void kv_str(const char *line, const char *key, char *dst, size_t len)
{
	char pat[32];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s=", key);
	dst[0] = '\0';
	p = strstr(line, pat);
	if (!p)
		return;
	p += strlen(pat);
	n = strcspn(p, "\n ");
	if (n >= len)
		n = len - 1;
	memcpy(dst, p, n);
	dst[n] = '\0';
}

bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

bool ptw_parse(const char *line, struct ptw_rec *r)
{
	size_t n = strcspn(line, "\n ");

	memset(r, 0, sizeof(*r));
	if (strncmp(line, "rec=", 4) || n - 4 >= sizeof(r->rec))
		return false;
	memcpy(r->rec, line + 4, n - 4);
	kv_str(line, "level", r->level, sizeof(r->level));
	kv_str(line, "kind", r->kind, sizeof(r->kind));
	kv_str(line, "hw", r->hw, sizeof(r->hw));
	kv_str(line, "sw", r->sw, sizeof(r->sw));
	r->va = kv_num(line, "va");
	r->size = kv_num(line, "size");
	r->pfn = kv_num(line, "pfn");
	r->span = kv_num(line, "span");
	r->used = kv_num(line, "used");
	r->offset = kv_num(line, "offset");
	r->type = kv_num(line, "type");
	r->raw = kv_num(line, "raw");
	r->kpf = kv_num(line, "kpf");
	r->ref = kv_num(line, "ref");
	r->map = kv_num(line, "map");
	r->us = kv_num(line, "us");
	r->rw = kv_num(line, "rw");
	r->nx = kv_num(line, "nx");
	r->order = kv_num(line, "order");
	return true;
}

bool ptw_entry_at(const char *out, unsigned long va, struct ptw_rec *r)
{
	const char *line;

	for (line = out; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (!ptw_parse(line, r) || strcmp(r->rec, "entry"))
			continue;
		if (va >= r->va && va < r->va + r->size)
			return true;
	}
	return false;
}

bool ptw_entry_line(const char *out, unsigned long va, char *line, size_t len)
{
	const char *p;
	struct ptw_rec r;

	for (p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t n = strcspn(p, "\n");

		if (!ptw_parse(p, &r) || strcmp(r.rec, "entry") ||
		    va < r.va || va - r.va >= r.size)
			continue;
		if (n >= len)
			n = len - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		return true;
	}
	return false;
}

bool ptw_lookup(pid_t pid, unsigned long va, struct ptw_rec *r)
{
	char q[160], *out;
	bool found;

	snprintf(q, sizeof(q), "pid=%d start=0x%lx end=0x%lx format=kv",
		 pid, va & ~0xfffUL, (va & ~0xfffUL) + 4096);
	if (ptw_query(q, &out))
		return false;
	found = ptw_entry_at(out, va, r);
	free(out);
	return found;
}

static uint64_t read_u64_at(const char *path, off_t off)
{
	uint64_t v = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	if (pread(fd, &v, sizeof(v), off) != sizeof(v))
		v = 0;
	close(fd);
	return v;
}

uint64_t pagemap_of(pid_t pid, unsigned long va)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	return read_u64_at(path, (va / 4096) * 8);
}

uint64_t kpageflags_of(unsigned long pfn)
{
	return read_u64_at("/proc/kpageflags", pfn * 8);
}

uint64_t kpagecount_of(unsigned long pfn)
{
	return read_u64_at("/proc/kpagecount", pfn * 8);
}

long proc_vmpte_kb(pid_t pid)
{
	return proc_status_kb(pid, "VmPTE");
}

int paging_levels(void)
{
	void *p = mmap((void *)(1UL << 52), 4096, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int levels = (unsigned long)p >= (1UL << 47) ? 5 : 4;

	munmap(p, 4096);
	return levels;
}
