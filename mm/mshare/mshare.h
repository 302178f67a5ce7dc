/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mshare: regions whose PTE tables (and, 1 GiB at a time, PMD tables) are
 * shared by every process that maps them. core.c owns the tables and the
 * faults; msharefs.c is the filesystem, ioctl and mmap interface.
 *
 * Lock order:
 *   sharer mmap_lock  ->  region->lock  ->  sharer PUD lock (page_table_lock)
 *                                          | sharer or region PMD lock
 *                                          | region PTE lock
 * The MMU notifier callbacks run under the sharer's mmap_lock (or in
 * exit_mmap) and take only PUD and PMD locks.
 */
#ifndef _MSHARE_H
#define _MSHARE_H

#include <linux/bits.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/msharefs.h>

#define MSHARE_ALIGN	PMD_SIZE
#define MSHARE_MAX_SIZE	BIT(40)		/* 1 TiB: 4 MiB of table pointers */

/* One object mapped into the region: [start, end) of region offsets. */
struct mshare_mapping {
	struct list_head list;
	unsigned long start, end;
	struct file *file;		/* shmem for anonymous memory */
	pgoff_t pgoff;			/* file page at @start */
	unsigned long prot;		/* PROT_* */
	unsigned long max_prot;		/* what PROTECT may grant, as VM_MAY* */
};

struct mshare_region {
	struct mutex lock;		/* mappings, tables, attach_prot */
	unsigned long size;		/* 0 until ftruncate/fallocate */
	struct page **tables;		/* one PTE table per PMD_SIZE slot */
	struct mshare_pud_slot *pud_slots; /* per PUD_SIZE slot, or NULL */
	bool share_pmd_tables;		/* set at creation (pmd_sharing) */
	struct list_head mappings;
	unsigned int attach_prot[8];	/* live attachments per PROT_ value */
	atomic_long_t sharers;		/* VMAs mapping the region */
	atomic_long_t nr_tables;
	atomic_long_t pmd_links;
	atomic_long_t nr_pmd_tables;
	atomic_long_t pud_links;
	atomic_long_t pages;
	atomic64_t faults;
	struct list_head all;		/* mshare_regions, for debugfs */
	struct mem_cgroup *memcg;	/* the creator's: pages are charged to it */
	char name[64];
};

/* A region PMD table for 1 GiB of the region, linked into sharers' PUDs. */
struct mshare_pud_slot {
	struct page *table;
	atomic_long_t links;		/* sharer PUD entries pointing at it */
};

/* One per sharer mm (mmu_notifier_get), shared by all its regions. */
struct mshare_attach {
	struct mmu_notifier mn;
	atomic_t invalidating;		/* invalidations in progress */
};

/* core.c */
struct mshare_region *mshare_region_create(const char *name,
					   bool share_pmd_tables);
void mshare_region_destroy(struct mshare_region *r);
int mshare_region_set_size(struct mshare_region *r, loff_t size);
int mshare_map_object(struct mshare_region *r, const struct mshare_create *c);
int mshare_unmap_range(struct mshare_region *r, unsigned long start,
		       unsigned long size);
int mshare_protect_range(struct mshare_region *r, unsigned long start,
			 unsigned long size, unsigned long prot);
void mshare_get_stats(struct mshare_region *r, struct mshare_stats *st);
int mshare_attach_new(struct mshare_region *r, unsigned long prot);
void mshare_attach_add(struct mshare_region *r, unsigned long prot, long n);
vm_fault_t mshare_fault(struct mshare_region *r, struct vm_fault *vmf,
			struct mshare_attach *att);
vm_fault_t mshare_huge_fault(struct mshare_region *r, struct vm_fault *vmf,
			     enum page_entry_size pe_size,
			     struct mshare_attach *att);
vm_fault_t mshare_page_mkwrite(struct mshare_region *r, struct vm_fault *vmf);
struct mshare_attach *mshare_attach_get_locked(struct mm_struct *mm);
struct mshare_attach *mshare_attach_get(struct mm_struct *mm);
void mshare_attach_put(struct mshare_attach *att);
void mshare_core_exit(void);
extern struct list_head mshare_regions;
extern struct mutex mshare_regions_lock;

#endif /* _MSHARE_H */
