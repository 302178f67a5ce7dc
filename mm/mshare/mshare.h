/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mshare: regions whose PTE tables (and, 1 GiB at a time, PMD tables) are
 * shared by every process that maps them.
 *
 * Each region owns a host address space: the mm of a user-mode helper
 * process that the module starts and never lets run (host.c).
 * The objects mapped into the region are ordinary MAP_SHARED mappings in
 * that mm, so rmap, truncate, hole punch, seals, reclaim, migration,
 * memory failure and writeback find and handle them as they do any
 * mapping. The page tables the host's faults build are the shared ones:
 * a sharer's PMD entry (or PUD entry, for a 1 GiB aligned GiB) points at
 * the host's PTE table (or PMD table). core.c links and unlinks them.
 *
 * Lock order:
 *   sharer mmap_lock -> region lock -> host mmap_lock (read, nested)
 *     -> region links_lock -> sharer PUD or PMD lock
 *   region worker: sharer mmap_lock (write, unlinking it)
 *     -> its region VMAs' write locks (6.4+) -> links_lock
 *   region worker: region lock -> host mmap_lock (write)
 *     -> a host VMA's write lock (PROTECT in place, 6.4+) -> its PTE lock
 *   region size_lock (the sizer waits for the worker, which starts the
 *     host) ; worker: host mmap_lock -> region lock (publishing it)
 *   region lock -> host mmap_lock (read) -> links_lock (GET_STATS, per GiB)
 *   attach->lock -> region links_lock
 * The host's mmap_lock is also held for reading, without an owner, while
 * the region lives (host.c: host_pin()); the host itself never runs, so it
 * never needs it. The host's MMU notifier runs under the host's mmap_lock,
 * i_mmap_rwsem, a page lock or a PTE lock, and takes only links_lock and
 * sharer PUD/PMD locks (an unmap, or from 6.6 a clear of whole slots, in
 * a blockable range) or nothing (a TLB flush; anything in the OOM
 * reaper's non-blockable ranges). Nothing under links_lock waits for a
 * folio, i_mmap_rwsem or a VMA lock.
 *
 * No lock is held across an object's I/O by a sharer's fault (the host
 * fault that waits for it drops the host's mmap_lock, and the sharer's
 * when it may retry: core.c: fault_and_wait()), and every caller waits
 * for the region's worker, or for a kworker that registers a notifier
 * (core.c: mshare_attach_get()), killably and holding no lock the worker
 * takes.
 *
 * Calls go one way: msharefs.c (interface) -> core.c (links, faults,
 * changes) -> host.c (host processes, the region's worker); host.c runs
 * the core's functions it is handed, and calls nothing in core.c.
 */
#ifndef _MSHARE_H
#define _MSHARE_H

#include <linux/bits.h>
#include <linux/kthread.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/wait.h>
#include <linux/msharefs.h>

#define MSHARE_ALIGN	PMD_SIZE
#define MSHARE_MAX_SIZE	BIT(40)		/* 1 TiB */

/*
 * What the regions of one msharefs mount may hold of their own, which
 * outlives every process (the mount's size=): anonymous objects live on
 * @anon_mnt, a tmpfs of that size; the hosts' page tables, and the link
 * bitmaps of every mapping of its regions, are counted here against the
 * same number.
 */
struct mshare_limits {
	struct vfsmount *anon_mnt;
	unsigned long table_bytes_max;	/* 0: no limit */
	atomic_long_t table_bytes;	/* hosts' (as last looked at), bitmaps */
};

struct mshare_region {
	struct mutex size_lock;		/* sizing and starting the host */
	struct kthread_worker *worker;	/* changes, one at a time (host.c) */
	struct mutex lock;		/* objects; new attachments */
	unsigned long size;		/* 0 until ftruncate/fallocate */
	bool share_pmd_tables;		/* set at creation (pmd_sharing) */
	struct mshare_limits *limits;	/* its mount's */
	atomic_long_t table_bytes;	/* its share of limits->table_bytes */
	atomic_t attach_prot[8];	/* live attachments per PROT_ value */
	atomic_long_t sharers;		/* VMAs mapping the region */
	atomic64_t faults;
	struct list_head all;		/* mshare_regions, for debugfs */
	struct mem_cgroup *memcg;	/* the creator's: tables are charged to it */
	char name[64];

	/* The host address space (host.c). */
	struct task_struct *host_task;	/* parked helper owning host_mm */
	kuid_t host_uid;		/* the user it counts against */
	struct mm_struct *host_mm;	/* mmget() held while the region lives */
	unsigned long host_base;	/* host address of region offset 0 */
	struct mmu_notifier host_mn;

	/* Sharers' links to the host's tables. */
	struct mutex links_lock;	/* links, their bitmaps, invalidating */
	struct list_head links;		/* struct mshare_link, one per VMA */
	int invalidating;		/* host unmaps in progress */
	bool changing;			/* a change unlinks sharers (worker) */
	struct mm_struct **change_mms;	/* the mms it still has to unlink */
	int change_nr;
	wait_queue_head_t change_wq;	/* faults waiting for the change */
	long pmd_links, pud_links;	/* entries linking a host table */

	/* The host's TLB hook, where it is a subscription of its own. */
	struct mmu_notifier host_tlb_mn;	/* compat/notifier.h */
};

/* One per sharer mm (mmu_notifier_get), shared by all its regions. */
struct mshare_attach {
	struct mmu_notifier mn;
	struct mutex lock;		/* links */
	struct list_head links;		/* struct mshare_link of this mm */
	atomic_t invalidating;		/* invalidations in progress */
};

/* One per sharer VMA: which of its PMD and PUD entries are links. */
struct mshare_link {
	struct list_head region_node;	/* region->links */
	struct list_head attach_node;	/* attach->links */
	struct mshare_region *region;
	struct mshare_attach *att;	/* NULL until the mm is attached */
	struct mm_struct *mm;
	unsigned long start, end;	/* the VMA */
	bool dead;			/* its tables are being freed */
	unsigned long *pmd_bits;	/* per PMD_SIZE slot: linked or parked */
	unsigned long *pud_bits;	/* per PUD_SIZE slot: linked or parked */
};

/* core.c */
struct mshare_region *mshare_region_create(const char *name,
					   bool share_pmd_tables,
					   struct mshare_limits *limits);
void mshare_region_destroy(struct mshare_region *r);
int mshare_region_set_size(struct mshare_region *r, loff_t size);
int mshare_map_object(struct mshare_region *r, const struct mshare_create *c);
int mshare_unmap_range(struct mshare_region *r, unsigned long start,
		       unsigned long size);
int mshare_protect_range(struct mshare_region *r, unsigned long start,
			 unsigned long size, unsigned long prot);
int mshare_sync_objects(struct mshare_region *r, loff_t start, loff_t end,
			int datasync);
int mshare_punch_objects(struct mshare_region *r, loff_t start, loff_t len);
int mshare_get_stats(struct mshare_region *r, struct mshare_stats *st,
		     bool nowait);
int mshare_attach_new(struct mshare_region *r, unsigned long prot);
void mshare_attach_add(struct mshare_region *r, unsigned long prot, long n);
struct mshare_link *mshare_link_new(struct mshare_region *r,
				    struct vm_area_struct *vma,
				    struct mshare_attach *att);
void mshare_link_free(struct mshare_link *l);
int mshare_link_attach(struct mshare_link *l, struct mshare_attach *att);
vm_fault_t mshare_fault(struct mshare_link *l, struct vm_fault *vmf);
vm_fault_t mshare_huge_fault(struct mshare_link *l, struct vm_fault *vmf);
vm_fault_t mshare_page_mkwrite(struct mshare_link *l, struct vm_fault *vmf);
struct mshare_attach *mshare_attach_get_locked(struct mm_struct *mm);
struct mshare_attach *mshare_attach_get(struct mm_struct *mm);
void mshare_attach_put(struct mshare_attach *att);
bool mshare_fault_parked(struct vm_fault *vmf);
void mshare_link_unpark(struct mshare_link *l);
int mshare_core_init(void);
void mshare_core_exit(void);
extern struct list_head mshare_regions;
extern struct mutex mshare_regions_lock;

/* host.c */
int mshare_host_create(struct mshare_region *r, unsigned long size);
void mshare_host_destroy(struct mshare_region *r);
bool mshare_host_alive(struct mshare_region *r);
int mshare_host_call(struct mshare_region *r,
		     int (*fn)(struct mshare_region *r, void *arg),
		     void *arg, void (*release)(void *arg));
int mshare_host_run(struct mshare_region *r,
		    int (*fn)(struct mshare_region *r, void *arg), void *arg);

#endif /* _MSHARE_H */
