/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ptwalk: a page-table walker for any process or the kernel.
 *
 * The core: walk.c walks the tables level by level and hands every entry
 * to the callbacks (struct ptw_ops) of a struct ptw_walk; decode.c turns
 * raw entries and the struct page behind them into names; census.c counts
 * and compares the page tables of many processes. debugfs.c is the user
 * interface: it calls into the core, which never calls it but through the
 * ptw_ops it is handed. Kernel-version differences live in
 * include/compat/ (pgtable.h, leaf.h, pageflags.h).
 */
#ifndef _PTWALK_H
#define _PTWALK_H

#include <linux/mm_types.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <linux/ptwalk.h>

enum ptw_level {
	PTW_PTE,
	PTW_PMD,
	PTW_PUD,
	PTW_P4D,
	PTW_PGD,
	PTW_NR_LEVELS,
};

/* What an entry holds. Everything after PTW_LEAF is a non-present kind. */
enum ptw_kind {
	PTW_NONE,
	PTW_TABLE,
	PTW_LEAF,
	PTW_PROTNONE,		/* present for Linux, not for the MMU */
	PTW_SWAP,
	PTW_MIGRATION,
	PTW_HWPOISON,
	PTW_DEVICE_PRIVATE,
	PTW_DEVICE_EXCLUSIVE,
	PTW_MARKER,
	PTW_OTHER,
	PTW_REPEAT,		/* a kernel table already walked elsewhere */
	PTW_NR_KINDS,
};

/* State of the struct page behind a PFN, as /proc/kpageflags reports it. */
struct ptw_page {
	bool valid;		/* pfn_valid(): a struct page exists */
	u64 kpf;		/* KPF_* bits, kpageflags numbering */
	int refcount;
	int mapcount;
	unsigned int order;	/* compound order of the head, 0 if none */
};

struct ptw_entry {
	unsigned long va;	/* first address the entry maps */
	unsigned long size;	/* bytes the entry spans */
	enum ptw_level level;
	enum ptw_kind kind;
	u64 raw;
	u64 eff;		/* leaves: RW, US, NX in effect across levels */
	unsigned long pfn;	/* leaf, table or migration target */
	unsigned int swap_type;
	unsigned long swap_offset;
	unsigned int flags;	/* PTWALK_F_*: what the entry says beyond its bits */
	bool deposit;		/* a huge PMD with a deposited PTE table */
	bool part;		/* a piece of a leaf begun below the floor */
	struct ptw_page page;	/* leaves only */
};

struct ptw_walk;

struct ptw_ops {
	/* A leaf or a non-none, non-table entry (swap, migration, ...). */
	void (*entry)(struct ptw_walk *w, const struct ptw_entry *e);
	/* A table page, once per table, when the walk first enters it. */
	void (*table)(struct ptw_walk *w, enum ptw_level level,
		      unsigned long pfn, unsigned long va, unsigned long span,
		      unsigned int present);
	/* The 4K leaves of one PTE table, for the contiguity report. */
	void (*pte_table_done)(struct ptw_walk *w, unsigned long table_va,
			       const u64 *pfn_attr, const unsigned long *pfns);
};

struct ptw_walk {
	struct mm_struct *mm;	/* NULL: the kernel's half of @pgd */
	pgd_t *pgd;
	const struct ptw_ops *ops;
	void *priv;
	bool want_page;		/* decode struct page state of leaves */
	/* Entries on the way down; for an entry at each level, the RW and US
	 * the entries above allow and the NX one of them sets.
	 */
	u64 upper[PTW_NR_LEVELS];
	u64 allow[PTW_NR_LEVELS];
	u64 nx[PTW_NR_LEVELS];
	/* End of the last table reported per level: reports each once. */
	unsigned long table_seen[PTW_NR_LEVELS];
	/* Per-PTE-table scratch for the contiguity report. */
	u64 *attr;
	unsigned long *pfns;
	/* The 4K leaves collected are of the PTE table at pending_va. */
	bool pending;
	unsigned long pending_va;
	/* Kernel walks: table PFN -> first address it was met at (>> 12). */
	struct xarray seen;
	/* Where this chunk resumed (0 for the first): see walk.c emit(). */
	unsigned long floor;
	/* Entries visited in this chunk; the walk stops when it runs out. */
	long budget;
	bool interrupted;
};

/* One level of the path to an address, for the "path" view. */
struct ptw_path {
	int depth;
	struct {
		enum ptw_level level;
		unsigned long table_pfn;
		unsigned int index;
		struct ptw_entry e;
	} lvl[PTW_NR_LEVELS];
};

/* walk.c */
int ptw_walk_init(struct ptw_walk *w);
void ptw_walk_destroy(struct ptw_walk *w);
void ptw_walk_reset(struct ptw_walk *w);
unsigned long ptw_walk_chunk(struct ptw_walk *w, unsigned long start,
			     unsigned long end);
void ptw_walk_path(struct ptw_walk *w, unsigned long addr,
		   struct ptw_path *path);
bool ptw_levels5(void);
unsigned long ptw_user_end(void);
unsigned long ptw_kernel_start(void);

/* decode.c */
extern const char *const ptw_level_names[PTW_NR_LEVELS];
extern const char *const ptw_kind_names[PTW_NR_KINDS];
void ptw_decode_page(unsigned long pfn, bool anon_vma, struct ptw_page *p);
unsigned long ptw_entry_pfn(enum ptw_level level, u64 raw);
void ptw_decode_nonpresent(u64 raw, enum ptw_level level, bool user,
			   struct ptw_entry *e);
unsigned int ptw_leaf_flags(u64 raw);
int ptw_format_hw(char *buf, size_t len, u64 raw, enum ptw_level level,
		  bool leaf, char sep);
int ptw_format_entry_sw(char *buf, size_t len, const struct ptw_entry *e,
			char sep);
int ptw_format_kpf(char *buf, size_t len, u64 kpf, char sep);
u64 ptw_pte_attr_key(u64 raw);

/*
 * census.c: the census view, run when its query is written; the interface
 * shows its ptw_census_records() records one by one.
 */
struct ptw_census;
struct seq_file;
bool ptw_census_query(const char *buf);
int ptw_census_run(char *buf, struct ptw_census **cp);
void ptw_census_free(struct ptw_census *c);
unsigned int ptw_census_records(const struct ptw_census *c);
void ptw_census_show(struct seq_file *m, struct ptw_census *c,
		     unsigned int rec);

#endif /* _PTWALK_H */
