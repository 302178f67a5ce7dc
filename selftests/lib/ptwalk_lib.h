/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers for selftests that query ptwalk and the kernel's own views. */
#ifndef PTWALK_LIB_H
#define PTWALK_LIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PTWALK_FILE "/sys/kernel/debug/ptwalk/walk"

/* One kv record (rec=entry, rec=table, ...) parsed into its fields. */
struct ptw_rec {
	char rec[16], level[8], kind[24], hw[96], sw[64];
	unsigned long va, size, pfn, span, offset, used;
	unsigned long long raw, kpf;
	int ref, map, us, rw, nx;
	unsigned int order, type;
};

/* Write @query, read the whole answer; -errno of the write on failure. */
int ptw_query(const char *query, char **out);
/* The same, and the answer's length in bytes (binary answers). */
int ptw_query_len(const char *query, char **out, size_t *len);
/* Parse the line at @line into @r; returns false if it is not a record. */
bool ptw_parse(const char *line, struct ptw_rec *r);
/* The rec=entry mapping @va in @out; false if there is none. */
bool ptw_entry_at(const char *out, unsigned long va, struct ptw_rec *r);
/* Copy the rec=entry line mapping @va in @out (no newline) to @line. */
bool ptw_entry_line(const char *out, unsigned long va, char *line, size_t len);
/* Query pid's entries in [va, va + len) and find the one for @va. */
bool ptw_lookup(pid_t pid, unsigned long va, struct ptw_rec *r);
/* Value of key=<number> in a line, or -1. */
long long kv_num(const char *line, const char *key);
bool has_word(const char *list, const char *word);

uint64_t pagemap_of(pid_t pid, unsigned long va);
uint64_t kpageflags_of(unsigned long pfn);
uint64_t kpagecount_of(unsigned long pfn);
#define PM_PFN(e)	((e) & ((1ULL << 55) - 1))
#define PM_SOFT_DIRTY	(1ULL << 55)
#define PM_UFFD_WP	(1ULL << 57)
#define PM_SWAP		(1ULL << 62)
#define PM_SWP_TYPE(e)	((e) & 0x1f)
#define PM_SWP_OFFSET(e) (PM_PFN(e) >> 5)
#define PM_PRESENT	(1ULL << 63)

/* VmPTE of /proc/PID/status in kB, or -1. */
long proc_vmpte_kb(pid_t pid);

/* Page-table depth measured by what the MMU accepts (4 or 5). */
int paging_levels(void);

#endif
