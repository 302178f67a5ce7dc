// SPDX-License-Identifier: GPL-2.0
/*
 * mshare core: sharers link the host's page tables.
 *
 * The objects of a region are mapped in its host address space (host.c)
 * at host_base + region offset, by vm_mmap() itself, so a mapping is
 * refused with exactly the errno mmap() gives and is seen by every kernel
 * path that finds a page's mappings. A sharer's fault drives the same
 * fault into the host with handle_mm_fault() (the host's PTE then maps
 * the page, with its rmap, mapcount, RSS and memcg charge), and points
 * the sharer's PMD entry at the host's PTE table, or, for a 1 GiB aligned
 * GiB, the sharer's PUD entry at the host's PMD table. Every sharer of a
 * piece of the region thus walks one set of tables: the host's.
 *
 * Neither the core mm nor the host may free or change a table while a
 * sharer links it, so links are removed first:
 *  - the host's MMU notifier (any invalidation of a host range: munmap,
 *    truncate, hole punch, reclaim, migration, memory failure, writeback,
 *    khugepaged's table retraction) unlinks that range from every sharer
 *    and flushes every CPU's TLB before the host goes on;
 *  - a sharer's MMU notifier (munmap, MADV_DONTNEED, exit, mremap) unlinks
 *    that sharer before the core walks its own tables;
 *  - a fault cannot link while either is in progress (checked under
 *    links_lock, which both take).
 * Each sharer VMA records its links in bitmaps (struct mshare_link), so
 * an unlink touches only entries that are links.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/falloc.h>	/* after fs.h: it uses its types */
#include <linux/magic.h>
#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mm_inline.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <asm/pgalloc.h>
#include <compat/fault.h>
#include <compat/leaf.h>
#include <compat/mm.h>
#include <compat/notifier.h>
#include <compat/pgtable.h>
#include <compat/tlb.h>

#include "mshare.h"

/* Every region, for the debugfs view. */
LIST_HEAD(mshare_regions);
/* Protects mshare_regions. */
DEFINE_MUTEX(mshare_regions_lock);

#define PROT_ALL	(PROT_READ | PROT_WRITE | PROT_EXEC)

/* ------------------------------------------------------------ TLB flush */

static void flush_this_cpu(void *unused)
{
	compat_flush_tlb_all_local();
}

/*
 * A table is linked into many mms, and a module cannot reach
 * flush_tlb_mm_range(): flush every TLB entry on every CPU.
 */
static void mshare_flush_all(void)
{
	on_each_cpu(flush_this_cpu, NULL, 1);
}

/* ----------------------------------------------------------- table walk */

/* The PUD entry for @addr in @mm, or NULL if a level above is missing. */
static pud_t *walk_to_pud(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;

	if (!pgd_present(READ_ONCE(*pgd)))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (!p4d_present(READ_ONCE(*p4d)))
		return NULL;
	return pud_offset(p4d, addr);
}

/* The PMD entry for @addr, or NULL if there is no PMD table. */
static pmd_t *walk_to_pmd(struct mm_struct *mm, unsigned long addr)
{
	pud_t *pud = walk_to_pud(mm, addr);
	pud_t val;

	if (!pud)
		return NULL;
	val = READ_ONCE(*pud);
	if (!pud_present(val) || pud_leaf(val))
		return NULL;
	return pmd_offset(pud, addr);
}

static int touch_nothing(pte_t *pte, unsigned long addr, void *data)
{
	return 0;
}

/*
 * The host's page-table bytes now, folded into its mount's count, which
 * so follows the tables the host's faults make and its changes free (only
 * region changes free host tables) at this region's next look: after
 * each change, before each new table. The mount's count after it.
 */
static long host_tables_update(struct mshare_region *r)
{
	long now = r->host_mm ? mm_pgtables_bytes(r->host_mm) : 0;

	return atomic_long_add_return(now - atomic_long_xchg(&r->table_bytes, now),
				      &r->limits->table_bytes);
}

/*
 * A new host table counts against the mount's size=, as the anonymous
 * objects' pages do: the tables outlive the processes that faulted them
 * (a fault beyond an object's end made one and then failed), and the OOM
 * killer cannot free them.
 */
static bool host_table_allowed(struct mshare_region *r)
{
	unsigned long max = r->limits->table_bytes_max;

	return !max || host_tables_update(r) + PAGE_SIZE <= max;
}

/*
 * With the host's mmap_lock: the host's PTE table for @haddr, made if
 * missing (-ENOSPC beyond the mount's size=). It is made before any
 * fault so that the core never maps a huge page there (do_set_pmd()
 * needs an empty PMD), which a sharer could not link.
 */
static struct page *host_pte_table(struct mshare_region *r,
				   unsigned long haddr)
{
	pmd_t *pmd = walk_to_pmd(r->host_mm, haddr);
	pmd_t val;

	if (!pmd || pmd_none(READ_ONCE(*pmd))) {
		if (!host_table_allowed(r))
			return ERR_PTR(-ENOSPC);
		if (apply_to_page_range(r->host_mm, haddr & PAGE_MASK, PAGE_SIZE,
					touch_nothing, NULL))
			return ERR_PTR(-ENOMEM);
		pmd = walk_to_pmd(r->host_mm, haddr);
		if (!pmd)
			return ERR_PTR(-EFAULT);
	}
	val = READ_ONCE(*pmd);
	if (!pmd_present(val) || pmd_leaf(val))
		return ERR_PTR(-EFAULT);
	return pmd_page(val);
}

/*
 * Whether the host's PMD for @haddr still points at @table. From 6.6
 * khugepaged frees a host PTE table (retract_page_tables(), after an RCU
 * grace period) holding only the object's i_mmap lock, not the host's
 * mmap_lock: a table found under that lock may be gone since.
 */
static bool host_table_current(struct mshare_region *r, unsigned long haddr,
			       struct page *table)
{
	pmd_t *pmd = walk_to_pmd(r->host_mm, haddr);
	pmd_t val = pmd ? compat_pmdp_get_lockless(pmd) : __pmd(0);

	return pmd_present(val) && !pmd_leaf(val) && pmd_page(val) == table;
}

/* The host's PTE for @haddr in @table, none if the table is gone. */
static pte_t host_pte_get(struct mshare_region *r, unsigned long haddr,
			  struct page *table)
{
	pmd_t *pmd = walk_to_pmd(r->host_mm, haddr);
	pte_t pte = __pte(0);
	pte_t *ptep;
	pmd_t val;

	if (!pmd)
		return pte;
	compat_pte_map_begin();
	ptep = compat_pte_offset_map(pmd, haddr, &val);
	if (ptep && pmd_page(val) == table)
		pte = ptep_get(ptep);
	compat_pte_map_end();
	return pte;
}

/*
 * The host's mmap_lock is taken inside a sharer's (and inside r->lock,
 * which dup_mmap() takes, via ->open(), inside the child's mmap_lock at
 * subclass 1): a lockdep subclass of its own keeps the classes apart.
 */
#define HOST_MMAP_LOCK_SUBCLASS	2

/*
 * Killable: the region's worker may hold it for writing while an object
 * of the region makes it wait (a FUSE server that does not answer the
 * writeback of an object being unmapped).
 */
static int host_read_lock(struct mshare_region *r)
{
	return down_read_killable_nested(&r->host_mm->mmap_lock,
					 HOST_MMAP_LOCK_SUBCLASS);
}

static void host_read_unlock(struct mshare_region *r)
{
	up_read(&r->host_mm->mmap_lock);
}

/* ---------------------------------------------------------------- links */

/*
 * A walker that holds only the sharer's mmap_lock for reading, or (6.4+)
 * the lock of the VMA (a fault, GUP, smaps, pagemap, MADV_DONTNEED's
 * zap), reads a PUD entry, checks it, and reads it again to find the PMD
 * table (pmd_offset()), on every kernel line; in 6.1 it does the same
 * with a PMD entry and the PTE table. An entry that points at a table
 * must keep pointing at a table until the walkers are excluded: the
 * sharer's mmap_lock held for writing and its VMAs write-locked
 * (compat_vma_start_write()), or its VMA gone (munmap, exit). An
 * invalidation without them (MADV_DONTNEED) instead parks the link: the
 * entry is pointed at an empty table of ours, in which nothing is ever
 * installed, so a walker finds either the host's table or nothing. A
 * fault on a parked entry takes mmap_lock for writing, clears it and is
 * retried (msharefs.c).
 *
 * From 6.5 a PTE-table walker reads the PMD entry once, under RCU, and
 * checks under the table's lock that it did not change (pte_offset_map*()
 * and the PMD revalidation after it; compat/pgtable.h): there a PMD link
 * is simply cleared, and only PUD links are parked. So no empty PTE table
 * is ever linked there, which 7.3's page-table reclaim (MADV_DONTNEED of a
 * PMD_SIZE range frees the empty PTE tables it walks) would free.
 */
static struct page *empty_pte_table, *empty_pmd_table;

static struct page *empty_table_alloc(void)
{
	struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);

	if (!page)
		return NULL;
	/* Walkers take this table's lock. */
	if (!compat_table_ptlock_init(page)) {
		__free_page(page);
		return NULL;
	}
	return page;
}

static void empty_table_free(struct page *page)
{
	if (!page)
		return;
	compat_table_ptlock_free(page);
	__free_page(page);
}

enum unlink_how {
	UNLINK_CLEAR,	/* walkers excluded (above), or the VMA is gone */
	UNLINK_PARK,	/* walkers may run: park (clear a PMD link, 6.5+) */
	UNLINK_PTE,	/* PMD links only, walkers may run (6.6+ retract) */
};

/* A PMD link removed with @how is parked, not cleared. */
static bool pmd_parks(enum unlink_how how)
{
	return how == UNLINK_PARK && !COMPAT_PTE_TABLES_RCU;
}

static bool pud_parked(pud_t val)
{
	return pud_present(val) && !pud_leaf(val) &&
	       virt_to_page(pud_pgtable(val)) == empty_pmd_table;
}

static bool pmd_parked(pmd_t val)
{
	return empty_pte_table && pmd_present(val) && !pmd_leaf(val) &&
	       pmd_page(val) == empty_pte_table;
}

/* With links_lock and the sharer's PUD lock: one linked PUD entry. */
static long unlink_pud(struct mm_struct *mm, pud_t *pud, enum unlink_how how)
{
	long was_link = !pud_parked(*pud);

	if (how == UNLINK_PARK)
		pud_populate(mm, pud, page_address(empty_pmd_table));
	else
		pud_clear(pud);
	return was_link;
}

static long unlink_pmd(struct mm_struct *mm, pmd_t *pmd, enum unlink_how how)
{
	long was_link = !pmd_parked(*pmd);

	if (pmd_parks(how))
		pmd_populate(mm, pmd, empty_pte_table);
	else
		pmd_clear(pmd);
	return was_link;
}

/*
 * With links_lock: clear or park @l's entries for region offsets
 * [start, end) (@how: UNLINK_PTE leaves the PUD links). A parked entry
 * keeps its bit: it is still ours to clear.
 */
static bool link_unlink(struct mshare_link *l, unsigned long start,
			unsigned long end, enum unlink_how how)
{
	struct mshare_region *r = l->region;
	unsigned long slot, last;
	spinlock_t *ptl;	/* the sharer's PUD or PMD lock */
	bool any = false;

	if (l->pud_bits && how != UNLINK_PTE) {
		slot = start >> PUD_SHIFT;
		last = min(DIV_ROUND_UP(end, PUD_SIZE), r->size >> PUD_SHIFT);
		for_each_set_bit_from(slot, l->pud_bits, last) {
			pud_t *pud = walk_to_pud(l->mm, l->start + (slot << PUD_SHIFT));

			if (!WARN_ON_ONCE(!pud)) {
				ptl = pud_lock(l->mm, pud);
				r->pud_links -= unlink_pud(l->mm, pud, how);
				spin_unlock(ptl);
			}
			if (how == UNLINK_CLEAR)
				clear_bit(slot, l->pud_bits);
			any = true;
		}
	}
	slot = start >> PMD_SHIFT;
	last = DIV_ROUND_UP(end, PMD_SIZE);
	for_each_set_bit_from(slot, l->pmd_bits, last) {
		pmd_t *pmd = walk_to_pmd(l->mm, l->start + (slot << PMD_SHIFT));

		if (!WARN_ON_ONCE(!pmd)) {
			ptl = pmd_lock(l->mm, pmd);
			r->pmd_links -= unlink_pmd(l->mm, pmd, how);
			spin_unlock(ptl);
		}
		if (!pmd_parks(how))
			clear_bit(slot, l->pmd_bits);
		any = true;
	}
	return any;
}

/*
 * A fault reached an empty table of ours: the entry was parked. vmf->pmd
 * is in the empty PMD table (a parked PUD entry) or points at the empty
 * PTE table.
 */
bool mshare_fault_parked(struct vm_fault *vmf)
{
	return virt_to_page(vmf->pmd) == empty_pmd_table ||
	       pmd_parked(READ_ONCE(*vmf->pmd));
}

/* With the sharer's mmap_lock held for writing: clear @l's parked entries. */
void mshare_link_unpark(struct mshare_link *l)
{
	struct mshare_region *r = l->region;
	unsigned long slot;
	spinlock_t *ptl;	/* the sharer's PUD or PMD lock */

	lockdep_assert_held_write(&l->mm->mmap_lock);
	mutex_lock(&r->links_lock);
	if (l->pud_bits) {
		for_each_set_bit(slot, l->pud_bits, r->size >> PUD_SHIFT) {
			pud_t *pud = walk_to_pud(l->mm, l->start + (slot << PUD_SHIFT));

			if (WARN_ON_ONCE(!pud))
				continue;
			ptl = pud_lock(l->mm, pud);
			if (pud_parked(*pud)) {
				pud_clear(pud);
				clear_bit(slot, l->pud_bits);
			}
			spin_unlock(ptl);
		}
	}
	for_each_set_bit(slot, l->pmd_bits, r->size >> PMD_SHIFT) {
		pmd_t *pmd = walk_to_pmd(l->mm, l->start + (slot << PMD_SHIFT));

		if (!pmd || pmd_none(READ_ONCE(*pmd)))
			continue;	/* under a parked or cleared PUD entry */
		ptl = pmd_lock(l->mm, pmd);
		if (pmd_parked(*pmd)) {
			pmd_clear(pmd);
			clear_bit(slot, l->pmd_bits);
		}
		spin_unlock(ptl);
	}
	mutex_unlock(&r->links_lock);
	/* Nothing was ever mapped through an empty table: no flush. */
}

/*
 * Host notifier, with links_lock: no sharer may link [start, end) now.
 * The sharers' walkers are not excluded here (@how: UNLINK_PARK or
 * UNLINK_PTE).
 */
static void unlink_host_range(struct mshare_region *r, unsigned long start,
			      unsigned long end, enum unlink_how how)
{
	struct mshare_link *l;
	bool any = false;

	list_for_each_entry(l, &r->links, region_node)
		if (!l->dead)
			any |= link_unlink(l, start, end, how);
	if (any)
		mshare_flush_all();
}

/* ---------------------------------------------------- host MMU notifier */

static struct mshare_region *host_region(struct mmu_notifier *mn)
{
	return container_of(mn, struct mshare_region, host_mn);
}

static bool host_range_in_region(struct mshare_region *r,
				 unsigned long start, unsigned long end)
{
	return end > r->host_base && start < r->host_base + r->size;
}

/*
 * Truncate, hole punch, reclaim, migration, memory failure and writeback
 * clear or change the host's PTEs in place, under the table's lock, which
 * is the lock every sharer takes too: the tables stay, and stay linked.
 * Only the TLBs of the sharers, which the core does not know, need
 * flushing, before a page is freed or written back: this is the
 * secondary-TLB callback, made right after the PTEs changed.
 */
static void host_tlb_flush(struct mshare_region *r, unsigned long start,
			   unsigned long end)
{
	if (!host_range_in_region(r, start, end))
		return;
	/*
	 * The PTEs changed before this; a link counted before it is seen,
	 * and one made after it never cached the old PTEs. (links_lock's
	 * unlock after counting a link is a full barrier on x86.)
	 */
	smp_mb();
	if (READ_ONCE(r->pmd_links) || READ_ONCE(r->pud_links))
		mshare_flush_all();
}

/* The hook in host_mn (6.1: ->invalidate_range()). */
static void __maybe_unused host_invalidate_range(struct mmu_notifier *mn,
						 struct mm_struct *mm,
						 unsigned long start,
						 unsigned long end)
{
	host_tlb_flush(host_region(mn), start, end);
}

/* The hook in a subscription of its own (6.6+: host_tlb_mn). */
static void __maybe_unused host_tlb_invalidate(struct mmu_notifier *mn,
					       struct mm_struct *mm,
					       unsigned long start,
					       unsigned long end)
{
	host_tlb_flush(container_of(mn, struct mshare_region, host_tlb_mn),
		       start, end);
}

/*
 * Which host invalidations may free a host table, and so unlink: the
 * region offsets [*start, *end) to unlink and how, or false.
 *
 * An unmap frees the host's tables. The region's own changes unlink every
 * sharer first (change_run()), excluding its walkers; this catches any
 * other. The host never runs (host_park()), so no munmap() of its own is
 * left; the entries are parked: a sharer's walkers are not excluded here.
 *
 * From 6.6 khugepaged's retract_page_tables() frees a host PTE table,
 * after an RCU grace period, under the object's i_mmap lock alone, once
 * anyone collapsed a memfd or tmpfs file that the region maps: a
 * MMU_NOTIFY_CLEAR of exactly that PMD_SIZE slot, blockable, before the
 * host PMD is cleared. Every whole slot a blockable CLEAR covers is
 * unlinked there (PMD links cleared: 6.6 walkers revalidate them under
 * RCU, which also keeps the table until they are done). PUD links stay:
 * the host PMD table they link is not freed, and sharers see the cleared
 * host PMD in it. A truncate, hole punch, reclaim or migration of a whole
 * slot unlinks it too, and sharers link it again, fault by fault. In 6.1
 * retract_page_tables() needs the host's mmap_lock for writing, which
 * the pin keeps from it (host.c).
 *
 * A non-blockable range is the OOM reaper's (process_mrelease() of a
 * dying host, by root or the owner of a delegated cgroup): it only zaps
 * PTEs, under the table's lock as truncate does, and frees no table, so
 * there is nothing to unlink and host_invalidate_range() flushes the
 * sharers' TLBs. Neither callback then takes a lock or fails: 6.1 WARNs
 * when a start that has an end callback fails, calls every end callback
 * anyway, and forbids sleeping in both.
 */
static bool host_range_unlinks(struct mshare_region *r,
			       const struct mmu_notifier_range *range,
			       unsigned long *start, unsigned long *end,
			       enum unlink_how *how)
{
	if (!mmu_notifier_range_blockable(range) ||
	    !host_range_in_region(r, range->start, range->end))
		return false;
	*start = max(range->start, r->host_base) - r->host_base;
	*end = min(range->end, r->host_base + r->size) - r->host_base;
	if (range->event == MMU_NOTIFY_UNMAP) {
		*how = UNLINK_PARK;
		return true;
	}
	if (range->event != MMU_NOTIFY_CLEAR || !COMPAT_PTE_TABLES_RCU)
		return false;
	*start = round_up(*start, PMD_SIZE);
	*end = round_down(*end, PMD_SIZE);
	*how = UNLINK_PTE;
	return *start < *end;
}

static int host_invalidate_range_start(struct mmu_notifier *mn,
				       const struct mmu_notifier_range *range)
{
	struct mshare_region *r = host_region(mn);
	unsigned long start, end;
	enum unlink_how how;

	if (!host_range_unlinks(r, range, &start, &end, &how))
		return 0;
	mutex_lock(&r->links_lock);
	/*
	 * Until the end callback, no fault may link this range again, nor
	 * a table it found before (link_pte_table()).
	 */
	r->invalidating++;
	unlink_host_range(r, start, end, how);
	mutex_unlock(&r->links_lock);
	return 0;
}

/* Exactly the ranges whose start counted in r->invalidating. */
static void host_invalidate_range_end(struct mmu_notifier *mn,
				      const struct mmu_notifier_range *range)
{
	struct mshare_region *r = host_region(mn);
	unsigned long start, end;
	enum unlink_how how;

	if (!host_range_unlinks(r, range, &start, &end, &how))
		return;
	mutex_lock(&r->links_lock);
	r->invalidating--;
	mutex_unlock(&r->links_lock);
}

static const struct mmu_notifier_ops host_mn_ops = {
	COMPAT_MN_SHARED_TLB_HOOK(host_invalidate_range)
	.invalidate_range_start = host_invalidate_range_start,
	.invalidate_range_end = host_invalidate_range_end,
};

/* The TLB hook where it needs a subscription of its own (6.6+). */
static const struct mmu_notifier_ops host_tlb_mn_ops = {
	COMPAT_MN_OWN_TLB_HOOK(host_tlb_invalidate)
};

/*
 * A bit per slot: 64 KiB for the PMD slots of a 1 TiB region, per mapping
 * and again per fork. Like everything a user's call allocates here, it is
 * charged to the caller's memory cgroup.
 */
/* What one mapping's link bitmaps of @r take. */
static long link_bits_bytes(struct mshare_region *r)
{
	long longs = BITS_TO_LONGS(r->size >> PMD_SHIFT);

	if (r->size >= PUD_SIZE)
		longs += BITS_TO_LONGS(r->size >> PUD_SHIFT);
	return longs * sizeof(unsigned long);
}

/*
 * A mapping's link bitmaps (64 KiB per TiB of region) count against its
 * mount's size= with the hosts' tables: they are charged to the mapper's
 * cgroup, but the OOM killer sees neither pages nor tables of the mapper
 * in them, and one user who mapped an empty 1 TiB region again and again
 * (or forked with its mappings) held all of memory (7.3-debug, uid 65534:
 * "System is deadlocked on memory"). Return: false beyond the limit.
 */
static bool link_bits_charge(struct mshare_region *r, long bytes)
{
	unsigned long max = r->limits->table_bytes_max;

	if (!max || atomic_long_add_return(bytes, &r->limits->table_bytes) <= max)
		return true;
	atomic_long_sub(bytes, &r->limits->table_bytes);
	return false;
}

static void link_bits_uncharge(struct mshare_region *r, long bytes)
{
	if (r->limits->table_bytes_max)
		atomic_long_sub(bytes, &r->limits->table_bytes);
}

static unsigned long *slot_bits_alloc(unsigned long slots)
{
	return kvcalloc(BITS_TO_LONGS(slots), sizeof(unsigned long),
			GFP_KERNEL_ACCOUNT);
}

struct mshare_link *mshare_link_new(struct mshare_region *r,
				    struct vm_area_struct *vma,
				    struct mshare_attach *att)
{
	struct mshare_link *l;

	if (!link_bits_charge(r, link_bits_bytes(r)))
		return NULL;
	l = kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	if (l) {
		l->pmd_bits = slot_bits_alloc(r->size >> PMD_SHIFT);
		if (r->size >= PUD_SIZE)
			l->pud_bits = slot_bits_alloc(r->size >> PUD_SHIFT);
	}
	if (!l || !l->pmd_bits || (r->size >= PUD_SIZE && !l->pud_bits)) {
		if (l) {
			kvfree(l->pmd_bits);
			kvfree(l->pud_bits);
		}
		kfree(l);
		link_bits_uncharge(r, link_bits_bytes(r));
		return NULL;
	}
	l->region = r;
	l->mm = vma->vm_mm;
	l->start = vma->vm_start;
	l->end = vma->vm_end;
	INIT_LIST_HEAD(&l->attach_node);
	mutex_lock(&r->links_lock);
	list_add(&l->region_node, &r->links);
	mutex_unlock(&r->links_lock);
	if (att)
		mshare_link_attach(l, att);
	return l;
}

/* Give @l the notifier of its mm; -EBUSY (and @att unused) if it has one. */
int mshare_link_attach(struct mshare_link *l, struct mshare_attach *att)
{
	int ret = 0;

	mutex_lock(&att->lock);
	mutex_lock(&l->region->links_lock);
	if (l->att)
		ret = -EBUSY;
	else
		l->att = att;
	mutex_unlock(&l->region->links_lock);
	if (!ret)
		list_add(&l->attach_node, &att->links);
	mutex_unlock(&att->lock);
	return ret;
}

/* The VMA is closed: its tables are gone (munmap, exit) or it had none. */
void mshare_link_free(struct mshare_link *l)
{
	struct mshare_region *r = l->region;
	struct mshare_attach *att = l->att;
	bool any = false;

	if (att)
		mutex_lock(&att->lock);
	mutex_lock(&r->links_lock);
	if (!l->dead)
		any = link_unlink(l, 0, r->size, UNLINK_CLEAR);
	list_del(&l->region_node);
	mutex_unlock(&r->links_lock);
	if (att) {
		list_del(&l->attach_node);
		mutex_unlock(&att->lock);
	}
	if (any)
		mshare_flush_all();
	if (att)
		mshare_attach_put(att);
	kvfree(l->pmd_bits);
	kvfree(l->pud_bits);
	kfree(l);
	link_bits_uncharge(r, link_bits_bytes(r));
}

/* ------------------------------------------------------ region lifetime */

struct mshare_region *mshare_region_create(const char *name,
					   bool share_pmd_tables,
					   struct mshare_limits *limits)
{
	struct mshare_region *r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);

	if (!r)
		return NULL;
	mutex_init(&r->lock);
	mutex_init(&r->size_lock);
	init_waitqueue_head(&r->change_wq);
	mutex_init(&r->links_lock);
	INIT_LIST_HEAD(&r->links);
	strscpy(r->name, name, sizeof(r->name));
	r->share_pmd_tables = share_pmd_tables;
	r->limits = limits;
	r->host_mn.ops = &host_mn_ops;	/* registered by host.c */
	r->host_tlb_mn.ops = &host_tlb_mn_ops;
	r->memcg = get_mem_cgroup_from_mm(current->mm);
	mutex_lock(&mshare_regions_lock);
	list_add_tail(&r->all, &mshare_regions);
	mutex_unlock(&mshare_regions_lock);
	return r;
}

void mshare_region_destroy(struct mshare_region *r)
{
	mutex_lock(&mshare_regions_lock);
	list_del(&r->all);
	mutex_unlock(&mshare_regions_lock);
	/* No VMA maps the region any more, so nothing links the host. */
	WARN_ON(!list_empty(&r->links));
	mshare_host_destroy(r);		/* its tables are gone */
	atomic_long_sub(atomic_long_read(&r->table_bytes),
			&r->limits->table_bytes);
	mem_cgroup_put(r->memcg);
	kfree(r);
}

int mshare_region_set_size(struct mshare_region *r, loff_t size)
{
	int ret = 0;

	if (size <= 0 || size > MSHARE_MAX_SIZE || !IS_ALIGNED(size, MSHARE_ALIGN))
		return -EINVAL;
	/*
	 * Not under r->lock, which is taken under a sharer's mmap_lock:
	 * starting the host takes the host's mmap_lock for writing.
	 */
	if (mutex_lock_killable(&r->size_lock))
		return -EINTR;
	if (r->size)
		ret = r->size == size ? 0 : -EINVAL;	/* sized once */
	else
		ret = mshare_host_create(r, size);	/* sets r->size */
	mutex_unlock(&r->size_lock);
	return ret;
}

/* ------------------------------------------------------------- contents */

static int check_range(struct mshare_region *r, u64 start, u64 size)
{
	u64 end;

	if (!size || !PAGE_ALIGNED(start) || !PAGE_ALIGNED(size) ||
	    check_add_overflow(start, size, &end) || end > r->size)
		return -EINVAL;
	return 0;
}

/* The protection every attached process has: the tables are shared. */
static unsigned long attach_prot_min(struct mshare_region *r)
{
	unsigned long p, min = PROT_ALL;

	for (p = 0; p < ARRAY_SIZE(r->attach_prot); p++)
		if (atomic_read(&r->attach_prot[p]))
			min &= p;
	return min;
}

static unsigned long flags_prot(vm_flags_t flags)
{
	unsigned long prot = 0;

	if (flags & VM_READ)
		prot |= PROT_READ;
	if (flags & VM_WRITE)
		prot |= PROT_WRITE;
	if (flags & VM_EXEC)
		prot |= PROT_EXEC;
	return prot;
}

/*
 * With the host's mmap_lock: the first host VMA of an object that ends
 * above region offset @start and starts below @end. Objects are
 * file-backed; the reservation over holes is anonymous.
 */
static struct vm_area_struct *object_vma(struct mshare_region *r,
					 unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma = find_vma(r->host_mm, r->host_base + start);

	for (; vma && vma->vm_start < r->host_base + end;
	     vma = find_vma(r->host_mm, vma->vm_end))
		if (vma->vm_file)
			return vma;
	return NULL;
}

static struct vm_area_struct *next_object_vma(struct mshare_region *r,
					      struct vm_area_struct *vma,
					      unsigned long end)
{
	return object_vma(r, vma->vm_end - r->host_base, end);
}

/* With r->lock: what the region's objects are mapped with, together. */
static int mappings_prot_union(struct mshare_region *r, unsigned long *prot)
{
	struct vm_area_struct *vma;

	*prot = 0;
	if (!r->host_mm)
		return 0;
	if (host_read_lock(r))
		return -EINTR;
	for (vma = object_vma(r, 0, r->size); vma;
	     vma = next_object_vma(r, vma, r->size))
		*prot |= flags_prot(vma->vm_flags);
	host_read_unlock(r);
	return 0;
}

/* In the host: put the PROT_NONE reservation back over a range. */
static int host_reserve_range(unsigned long addr, unsigned long len)
{
	unsigned long got = vm_mmap(NULL, addr, len, PROT_NONE,
				    MAP_PRIVATE | MAP_ANONYMOUS |
				    MAP_NORESERVE | MAP_FIXED, 0);

	return IS_ERR_VALUE(got) ? (int)got : 0;
}

/*
 * The objects whose mappings a sharer can link: page-cache (or shmem)
 * pages behind an ordinary ->fault. PFN and mixed maps, device memory,
 * DAX, hugetlb and secretmem are mapped by the kernel in ways that only
 * their own VMA may know about.
 */
static int object_vma_check(struct vm_area_struct *vma)
{
	if (!vma || !vma->vm_file || !vma->vm_ops || !vma->vm_ops->fault ||
	    (vma->vm_flags & (VM_PFNMAP | VM_MIXEDMAP | VM_IO | VM_HUGETLB)) ||
	    vma_is_dax(vma) ||
	    file_inode(vma->vm_file)->i_sb->s_magic == SECRETMEM_MAGIC)
		return -ENODEV;
	return 0;
}

/*
 * New shared anonymous memory of @len, as mmap() makes it
 * (shmem_zero_setup(): "dev/zero", committed), but on the mount's own
 * tmpfs, whose size= bounds it: a region outlives its users, as a tmpfs
 * file does.
 */
static struct file *anon_object(struct mshare_region *r, unsigned long len)
{
	return compat_shmem_file_setup_with_mnt(r->limits->anon_mnt,
						"dev/zero", len);
}

/* In the host: map @file at @addr, replacing. */
static int host_map_fixed(struct file *file, unsigned long addr,
			  unsigned long len, unsigned long prot, u64 offset)
{
	unsigned long got = vm_mmap(file, addr, len, prot,
				    MAP_SHARED | MAP_FIXED, offset);

	if (!IS_ERR_VALUE(got))
		return 0;
	host_reserve_range(addr, len);	/* MAP_FIXED may have unmapped it */
	return got;
}

/*
 * In the host: a trial mapping of @file elsewhere gets mmap()'s own
 * verdict on the object and the protection (and ours: object_vma_check())
 * before anything in the region is touched. It stays until the change is
 * done: while a writable shared mapping exists, F_SEAL_WRITE cannot be
 * added (EBUSY). Its address in *@trial, to vm_munmap() afterwards.
 */
static int host_trial_map(struct file *file, unsigned long len,
			  unsigned long prot, u64 offset, unsigned long *trial,
			  bool *replaced)
{
	unsigned long got = vm_mmap(file, 0, len, prot, MAP_SHARED, offset);
	struct vm_area_struct *vma;
	int err;

	if (IS_ERR_VALUE(got))
		return got;
	mmap_read_lock(current->mm);
	vma = find_vma(current->mm, got);
	err = object_vma_check(vma);
	if (replaced)	/* ->mmap() put another file there */
		*replaced = vma && vma->vm_file != file;
	mmap_read_unlock(current->mm);
	if (err)
		vm_munmap(got, len);
	else
		*trial = got;
	return err;
}

/* A piece of one object in the host: the host VMA's part of a range. */
struct piece {
	struct file *file;
	unsigned long addr, len;
	u64 offset;
	vm_flags_t flags;
	unsigned long trial;	/* its trial mapping, during a PROTECT */
	unsigned long from, to;	/* PROTECT: the part changed in place */
};

/*
 * In the host, after a change was refused half way (a seal such as
 * F_SEAL_FUTURE_WRITE added between the trial and the real mapping:
 * MAP_FIXED had already unmapped the range): map the pieces that were
 * there back, each with its own protection. The objects held their
 * pages (put_pieces() drops the files only now), so no data is lost;
 * only the host's PTEs are gone, and fault back in.
 */
static void restore_pieces(struct piece *p, int n)
{
	int i;

	for (i = 0; i < n; i++)
		host_map_fixed(p[i].file, p[i].addr, p[i].len,
			       flags_prot(p[i].flags), p[i].offset);
}

static int object_pieces(struct mshare_region *r, unsigned long start,
			 unsigned long end, struct piece **pieces);
static void put_pieces(struct piece *p, int n);

/*
 * In the host: map @file's [offset, offset + len) at @addr with @prot,
 * replacing what is there, or leave the range as it was.
 */
static int host_map_at(struct mshare_region *r, struct file *file,
		       unsigned long addr, unsigned long len,
		       unsigned long prot, u64 offset)
{
	unsigned long trial = 0, start = addr - r->host_base;
	struct file *anon = NULL;
	struct piece *old;
	bool replaced;
	int n, ret = host_trial_map(file, len, prot, offset, &trial, &replaced);

	if (ret)
		return ret;
	/*
	 * An object whose ->mmap() makes new shared anonymous memory
	 * (/dev/zero) gets it as MAP_ANONYMOUS does: size= bounds it too.
	 */
	if (replaced) {
		anon = anon_object(r, len);
		if (IS_ERR(anon)) {
			vm_munmap(trial, len);
			return PTR_ERR(anon);
		}
		file = anon;
		offset = 0;
	}
	mmap_read_lock(current->mm);
	n = object_pieces(r, start, start + len, &old);
	mmap_read_unlock(current->mm);
	ret = n < 0 ? n : host_map_fixed(file, addr, len, prot, offset);
	if (ret && n > 0)
		restore_pieces(old, n);
	if (n > 0)
		put_pieces(old, n);
	vm_munmap(trial, len);
	if (anon)
		fput(anon);	/* the host's mapping holds it */
	return ret;
}

/*
 * A change of the host's mappings, run by the region's worker, which
 * holds it until both the worker and the caller are done with it.
 */
struct change {
	int (*check)(struct mshare_region *r, void *arg);
	int (*fn)(struct mshare_region *r, void *arg);
	struct mshare_create c;		/* CREATE_MAPPING */
	struct file *file;		/* its object (CREATE_MAPPING) */
	unsigned long start, end, prot;	/* UNMAP, PROTECT */
};

static int check_map(struct mshare_region *r, void *arg)
{
	const struct mshare_create *c = &((struct change *)arg)->c;
	int ret = check_range(r, c->region_offset, c->size);

	if (!ret && (c->prot & ~attach_prot_min(r)))
		ret = -EACCES;	/* a sharer could not be given this access */
	return ret;
}

/* With links_lock: @l has linked or parked entries to clear. */
static bool link_has_entries(struct mshare_link *l)
{
	unsigned long slots = l->region->size >> PMD_SHIFT;

	return !l->dead &&
	       (!bitmap_empty(l->pmd_bits, slots) ||
		(l->pud_bits && !bitmap_empty(l->pud_bits, slots / PTRS_PER_PMD)));
}

static void end_change(struct mshare_region *r)
{
	mutex_lock(&r->links_lock);
	r->changing = false;
	r->change_mms = NULL;
	r->change_nr = 0;
	mutex_unlock(&r->links_lock);
	wake_up_all(&r->change_wq);
}

/*
 * With links_lock, during a change: @mm still has to be unlinked by it, so
 * it may link until then. Any other mm (done, or not linked when the
 * change began) may not: a fault there returns without linking, and a GUP
 * that cannot drop mmap_lock spins holding it, which is harmless only in
 * an mm the change will not wait for.
 */
static bool change_pending(struct mshare_region *r, struct mm_struct *mm)
{
	int i;

	for (i = 0; i < r->change_nr; i++)
		if (r->change_mms[i] == mm)
			return true;
	return false;
}

/*
 * With @mm's mmap_lock held for writing: wait for the walkers that hold
 * only the lock of one of @mm's VMAs that link @r (6.4+: faults; 7.3:
 * smaps, MADV_DONTNEED, DAMON) and keep new ones out until the mmap_lock
 * is dropped. Links of @mm are neither made nor freed meanwhile (both
 * need its mmap_lock), but others' are: each is looked up under
 * links_lock, and locked without it (a 7.3 MADV_DONTNEED holds its VMA's
 * lock while its notifier takes links_lock).
 */
static void sharer_vmas_write_lock(struct mshare_region *r,
				   struct mm_struct *mm)
{
	unsigned long from = 0, start;
	struct vm_area_struct *vma;
	struct mshare_link *l;

	if (!COMPAT_VMA_LOCK_FAULTS)
		return;
	for (;;) {
		start = ULONG_MAX;
		mutex_lock(&r->links_lock);
		list_for_each_entry(l, &r->links, region_node)
			if (l->mm == mm && l->start >= from && l->start < start &&
			    link_has_entries(l))
				start = l->start;
		mutex_unlock(&r->links_lock);
		if (start == ULONG_MAX)
			return;
		vma = find_vma(mm, start);
		if (!WARN_ON_ONCE(!vma || vma->vm_start != start))
			compat_vma_start_write(vma);
		from = start + PAGE_SIZE;
	}
}

/*
 * Before the host's tables may be freed (munmap and MAP_FIXED in the
 * host, or khugepaged's retract_page_tables() while the host's mmap_lock
 * is free: see mshare_host_run()), no sharer may link any of them: clear
 * every link, each mm with its walkers excluded (its mmap_lock held for
 * writing and its VMAs that link the region write-locked), and let no mm
 * link again until end_change() once it is done (change_pending()). Then
 * no walker is left in a table the change frees, even where the table is
 * freed at once (6.12 x86 frees unmapped tables without an RCU grace
 * period) or is a PMD table reached through a PUD link (never RCU-safe);
 * the all-CPU flush drains the walkers with interrupts off (fast GUP).
 *
 * In the region's worker (host.c), which waits for each mm's mmap_lock:
 * its caller's wait is killable, and a sharer holds its own mmap_lock
 * across no object's I/O in our faults (fault_and_link()).
 */
static int unlink_all_sharers(struct mshare_region *r)
{
	struct mm_struct **mms, *mm;
	struct mshare_link *l;
	int i, n = 0, max = 0;

	/* No allocation under links_lock: the host notifier takes it. */
	mutex_lock(&r->links_lock);
	r->changing = true;	/* no mm is pending yet: none links */
	list_for_each_entry(l, &r->links, region_node)
		max += link_has_entries(l);
	mutex_unlock(&r->links_lock);
	mms = kcalloc(max ?: 1, sizeof(*mms), GFP_KERNEL_ACCOUNT);
	if (!mms) {
		end_change(r);
		return -ENOMEM;
	}
	mutex_lock(&r->links_lock);
	list_for_each_entry(l, &r->links, region_node) {
		/* Entries are only lost meanwhile, never gained. */
		if (!link_has_entries(l))
			continue;
		for (i = 0; i < n && mms[i] != l->mm; i++)
			;
		if (i == n && !WARN_ON_ONCE(n == max)) {
			mmgrab(l->mm);
			mms[n++] = l->mm;
		}
	}
	r->change_mms = mms;
	r->change_nr = n;
	mutex_unlock(&r->links_lock);
	for (i = 0; i < n; i++) {
		mm = mms[i];
		mmap_write_lock(mm);
		sharer_vmas_write_lock(r, mm);
		mutex_lock(&r->links_lock);
		list_for_each_entry(l, &r->links, region_node)
			if (l->mm == mm && link_has_entries(l))
				link_unlink(l, 0, r->size, UNLINK_CLEAR);
		mms[i] = NULL;	/* done: links no more */
		mutex_unlock(&r->links_lock);
		mmap_write_unlock(mm);
		mmdrop(mm);
	}
	if (n)
		mshare_flush_all();
	mutex_lock(&r->links_lock);
	r->change_mms = NULL;	/* all done */
	r->change_nr = 0;
	mutex_unlock(&r->links_lock);
	kfree(mms);
	return 0;
}

/*
 * In the region's worker: @check the arguments, unlink every sharer,
 * check again (attachments may have changed) and run the change in the
 * host. Sharers link again lazily, fault by fault. Sharer mmap_locks are
 * taken outside r->lock, which is taken inside them. One change at a
 * time: the worker runs them in turn.
 */
static int change_run(struct mshare_region *r, void *arg)
{
	struct change *ch = arg;
	int ret;

	mutex_lock(&r->lock);
	ret = ch->check(r, ch);
	mutex_unlock(&r->lock);
	if (!ret)
		ret = unlink_all_sharers(r);
	if (!ret) {
		mutex_lock(&r->lock);
		ret = ch->check(r, ch) ?: mshare_host_run(r, ch->fn, ch);
		mutex_unlock(&r->lock);
		host_tables_update(r);	/* it may have freed some */
		end_change(r);
	}
	return ret;
}

static void change_release(void *arg)
{
	struct change *ch = arg;

	if (ch->file)
		fput(ch->file);
	kfree(ch);
}

/*
 * Hand @ch to the region's worker and wait for it, killably: a change
 * not started when the caller is killed is dropped (-EINTR, nothing
 * changed); one started is completed, whole, without the caller.
 */
static int change_host(struct mshare_region *r, struct change *ch)
{
	return mshare_host_call(r, change_run, ch, change_release);
}

static struct change *change_new(int (*check)(struct mshare_region *r, void *arg),
				 int (*fn)(struct mshare_region *r, void *arg))
{
	struct change *ch = kzalloc(sizeof(*ch), GFP_KERNEL_ACCOUNT);

	if (ch) {
		ch->check = check;
		ch->fn = fn;
	}
	return ch;
}

static int host_map_object(struct mshare_region *r, void *arg)
{
	struct change *ch = arg;

	return host_map_at(r, ch->file, r->host_base + ch->c.region_offset,
			   ch->c.size, ch->c.prot, ch->c.offset);
}

int mshare_map_object(struct mshare_region *r, const struct mshare_create *c)
{
	struct change *ch;
	struct file *file = NULL;

	if ((c->flags & (MAP_SHARED | MAP_FIXED)) != (MAP_SHARED | MAP_FIXED) ||
	    (c->flags & ~(MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS)) ||
	    (c->prot & ~PROT_ALL))
		return -EINVAL;
	if (c->flags & MAP_ANONYMOUS) {
		/* mmap() ignores the offset here, but wants it page aligned. */
		if (c->fd != (__u32)-1 || offset_in_page(c->offset) ||
		    check_range(r, c->region_offset, c->size))
			return -EINVAL;
		file = anon_object(r, c->size);
		if (IS_ERR(file))
			return PTR_ERR(file);
	} else {
		file = fget(c->fd);
		if (!file)
			return -EBADF;
		/* No nesting, as v3. */
		if (file_inode(file)->i_sb->s_magic == MSHAREFS_MAGIC) {
			fput(file);
			return -EINVAL;
		}
	}
	ch = change_new(check_map, host_map_object);
	if (!ch) {
		if (file)
			fput(file);
		return -ENOMEM;
	}
	ch->c = *c;
	if (c->flags & MAP_ANONYMOUS)
		ch->c.offset = 0;
	ch->file = file;
	return change_host(r, ch);
}

static int host_unmap(struct mshare_region *r, void *arg)
{
	struct change *ch = arg;

	return host_reserve_range(r->host_base + ch->start, ch->end - ch->start);
}

static int check_unmap(struct mshare_region *r, void *arg)
{
	struct change *ch = arg;

	return check_range(r, ch->start, ch->end - ch->start);
}

/* A change of region offsets [start, start + size) with @prot. */
static int change_range(struct mshare_region *r,
			int (*check)(struct mshare_region *r, void *arg),
			int (*fn)(struct mshare_region *r, void *arg),
			unsigned long start, unsigned long size,
			unsigned long prot)
{
	struct change *ch = change_new(check, fn);

	if (!ch)
		return -ENOMEM;
	ch->start = start;
	ch->end = start + size;
	ch->prot = prot;
	return change_host(r, ch);
}

int mshare_unmap_range(struct mshare_region *r, unsigned long start,
		       unsigned long size)
{
	return change_range(r, check_unmap, host_unmap, start, size, 0);
}

static void put_pieces(struct piece *p, int n)
{
	while (n-- > 0)
		fput(p[n].file);
	kfree(p);
}

/*
 * With the host's mmap_lock: the object pieces of region offsets
 * [start, end) in address order, holes left out, each holding a
 * reference to its file. Returns how many (*pieces to put_pieces(), NULL
 * when none).
 */
static int object_pieces(struct mshare_region *r, unsigned long start,
			 unsigned long end, struct piece **pieces)
{
	unsigned long hs = r->host_base + start, he = r->host_base + end;
	struct vm_area_struct *vma;
	struct piece *p;
	int n = 0;

	*pieces = NULL;
	for (vma = object_vma(r, start, end); vma;
	     vma = next_object_vma(r, vma, end))
		n++;
	if (!n)
		return 0;
	p = kcalloc(n, sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	n = 0;
	for (vma = object_vma(r, start, end); vma;
	     vma = next_object_vma(r, vma, end)) {
		unsigned long s = max(vma->vm_start, hs);

		p[n].file = get_file(vma->vm_file);
		p[n].addr = s;
		p[n].len = min(vma->vm_end, he) - s;
		p[n].offset = (u64)(vma->vm_pgoff + ((s - vma->vm_start) >> PAGE_SHIFT))
			      << PAGE_SHIFT;
		p[n].flags = vma->vm_flags;
		n++;
	}
	*pieces = p;
	return n;
}

/* As mprotect(): what the VMA may never be given (VM_MAY*). */
static bool prot_beyond_may(vm_flags_t flags, unsigned long prot)
{
	return ((prot & PROT_READ) && !(flags & VM_MAYREAD)) ||
	       ((prot & PROT_WRITE) && !(flags & VM_MAYWRITE)) ||
	       ((prot & PROT_EXEC) && !(flags & VM_MAYEXEC));
}

/*
 * In the host, with the host's mmap_lock: the pieces of [start, end).
 * Refused in address order as mprotect() refuses: ENOMEM at a hole,
 * EACCES where the object may never have @a->prot.
 */
static int collect_pieces(struct mshare_region *r, struct change *a,
			  struct piece **pieces)
{
	unsigned long covered = r->host_base + a->start;
	int n = object_pieces(r, a->start, a->end, pieces), i, err = 0;
	struct piece *p = *pieces;

	if (n < 0)
		return n;
	for (i = 0; i < n && !err; i++) {
		if (p[i].addr != covered)
			err = -ENOMEM;		/* a hole, as mprotect() */
		else if (prot_beyond_may(p[i].flags, a->prot))
			err = -EACCES;
		covered = p[i].addr + p[i].len;
	}
	if (!err && covered != r->host_base + a->end)
		err = -ENOMEM;
	if (err) {
		put_pieces(p, n);
		return err;
	}
	return n;
}

/*
 * PROTECT in place (mshare-port.rst, sect. 5, as made): the host's VMAs
 * and PTEs are changed as mprotect() changes them, once for every sharer,
 * so that no sharer refaults a page afterwards, only relinks its tables.
 * Every sharer is unlinked first, as for any change (change_run()), so
 * the host's tables are the only ones that map the pages, and the worker
 * holds the host's mmap_lock for writing with each changed VMA
 * write-locked: no fault installs an entry with the old protection
 * meanwhile. Rmap walkers (reclaim, migration, folio_mkclean()) take the
 * PTE lock, as here; khugepaged's retract_page_tables() (6.6+: with no
 * mmap_lock) takes it too, and a table it freed is found gone by the
 * pmd_same() check. Verified on 6.1, 6.12 and 7.3 against
 * change_pte_range() (7.3: change_softleaf_pte()).
 */

/*
 * With the host's PTE lock: check (@apply false) or change one entry of
 * @vma, as change_pte_range() changes it: a present entry gets the VMA's
 * vm_page_prot (compat_pte_modify() keeps A/D and soft-dirty; 6.6+ moves
 * D to SAVED_DIRTY when write goes), a writable migration entry becomes a
 * readable one (else remove_migration_pte() would restore write), and
 * entries that grant no access (hwpoison, PTE markers) stay. A device
 * entry cannot map a page of a shared file mapping: -EAGAIN, left to
 * mapping the piece again.
 */
static int protect_pte(struct vm_area_struct *vma, unsigned long addr,
		       pte_t *ptep, bool apply)
{
	pte_t old = ptep_get(ptep), new;
	struct compat_leaf leaf;

	if (pte_none(old))
		return 0;
	if (pte_present(old)) {
		if (apply) {
			old = ptep_modify_prot_start(vma, addr, ptep);
			new = compat_pte_modify(old, vma->vm_page_prot);
			ptep_modify_prot_commit(vma, addr, ptep, old, new);
		}
		return 0;
	}
	compat_leaf_decode(pte_val(old), false, &leaf);
	switch (leaf.kind) {
	case COMPAT_LEAF_MIGRATION:
		if (apply && leaf.write) {
			new = swp_entry_to_pte(make_readable_migration_entry(leaf.offset));
			if (pte_swp_soft_dirty(old))
				new = pte_swp_mksoft_dirty(new);
			set_pte_at(vma->vm_mm, addr, ptep, new);
		}
		return 0;
	case COMPAT_LEAF_HWPOISON:
	case COMPAT_LEAF_MARKER:
	case COMPAT_LEAF_SWAPIN_ERROR:
		return 0;
	default:
		return -EAGAIN;
	}
}

/* One host PTE table's part [addr, end) of @vma: see protect_pte(). */
static int protect_table(struct vm_area_struct *vma, pmd_t *pmd,
			 unsigned long addr, unsigned long end, bool apply)
{
	spinlock_t *ptl;	/* the table's PTE lock */
	pte_t *ptep;
	pmd_t val;
	int ret = 0;

	compat_pte_map_begin();
	ptep = compat_pte_offset_map(pmd, addr, &val);
	if (!ptep) {
		compat_pte_map_end();
		/* A huge or non-present PMD: ours are never made. */
		return pmd_none(val) ? 0 : -EAGAIN;
	}
	ptl = pte_lockptr(vma->vm_mm, &val);
	spin_lock(ptl);
	/*
	 * Retracted since (6.6+): nothing is mapped there, and no fault can
	 * put a table back while the host's mmap_lock is held.
	 */
	if (pmd_same(val, compat_pmdp_get_lockless(pmd))) {
		for (; addr < end && !ret; addr += PAGE_SIZE, ptep++)
			ret = protect_pte(vma, addr, ptep, apply);
	}
	spin_unlock(ptl);
	compat_pte_map_end();
	return ret;
}

static int protect_vma_ptes(struct vm_area_struct *vma, bool apply)
{
	unsigned long addr, next;
	int ret = 0;

	for (addr = vma->vm_start; addr < vma->vm_end && !ret; addr = next) {
		pmd_t *pmd = walk_to_pmd(vma->vm_mm, addr);

		next = pmd_addr_end(addr, vma->vm_end);
		if (pmd)
			ret = protect_table(vma, pmd, addr, next, apply);
		cond_resched();
	}
	/* Checked with every entry under the same mmap_lock: none is new. */
	WARN_ON_ONCE(apply && ret);
	return ret;
}

/*
 * Whether the mm counts a VMA with @flags in exec_vm: vm_stat_account()'s
 * is_exec_mapping(), the same on 6.1, 6.12 and 7.3 (mm/internal.h, then
 * mm/vma.h). A shared mapping is never counted in data_vm or stack_vm.
 */
static bool exec_accounted(vm_flags_t flags)
{
	return (flags & (VM_EXEC | VM_WRITE | VM_STACK)) == VM_EXEC;
}

/*
 * With the host's mmap_lock held for writing: the VMA that is exactly
 * @p's part to change in place, write-locked, if it can be changed there,
 * and its trial mapping in *@trial: its flags other than the access bits
 * are the trial's (mmap() computed the trial's vm_page_prot for the same
 * file and protection, write-notify included), the change moves no pages
 * in or out of the host's exec_vm (mprotect() accounts that with
 * vm_stat_account(), which is not exported; mapping again accounts it),
 * and its entries are all of known kinds.
 */
static struct vm_area_struct *protect_vma(struct piece *p,
					  struct vm_area_struct **trial)
{
	struct vm_area_struct *vma = find_vma(current->mm, p->from);

	*trial = find_vma(current->mm, p->trial);
	if (!vma || vma->vm_start != p->from || vma->vm_end != p->to ||
	    vma->vm_file != p->file || !*trial || (*trial)->vm_start != p->trial ||
	    ((vma->vm_flags ^ (*trial)->vm_flags) & ~VM_ACCESS_FLAGS) ||
	    exec_accounted(vma->vm_flags) != exec_accounted((*trial)->vm_flags))
		return NULL;
	compat_vma_start_write(vma);
	return protect_vma_ptes(vma, false) ? NULL : vma;
}

/*
 * Change @vma's protection to its @trial's and rewrite its PTEs; the
 * caller flushes the TLBs. mprotect()'s change_protection() brackets the
 * rewrite with an MMU_NOTIFY_PROTECTION_VMA invalidation; a module cannot
 * (__mmu_notifier_invalidate_range_start() and _end() are exported on
 * none of 6.1, 6.12 and 7.3), and no subscriber misses one: KVM, HMM
 * and device drivers subscribe to their caller's own mm, and the host
 * never runs a user instruction (host.c), so the host's notifiers are
 * this module's, which ignore that event (no table goes).
 */
static void protect_vma_apply(struct vm_area_struct *vma,
			      struct vm_area_struct *trial)
{
	compat_vm_flags_reset(vma, (vma->vm_flags & ~VM_ACCESS_FLAGS) |
			      (trial->vm_flags & VM_ACCESS_FLAGS));
	WRITE_ONCE(vma->vm_page_prot, trial->vm_page_prot);
	protect_vma_ptes(vma, true);
}

/*
 * In the host: give the piece's host VMA boundaries at its ends, by
 * mapping the page at each inner end again with the new protection (a
 * 4 KiB unmap frees no page table: its neighbours bound free_pgtables()),
 * and set p->from/to to what is left to change in place. Nothing to do
 * for a piece that has the protection already, as mprotect().
 */
static int protect_split_ends(struct piece *p, unsigned long prot)
{
	struct vm_area_struct *vma;
	unsigned long start, end, pend = p->addr + p->len;
	int ret = 0;

	p->from = p->addr;
	p->to = p->addr;
	if (flags_prot(p->flags) == prot)
		return 0;
	mmap_read_lock(current->mm);
	vma = find_vma(current->mm, p->addr);
	start = vma ? vma->vm_start : ULONG_MAX;
	end = vma ? vma->vm_end : 0;
	mmap_read_unlock(current->mm);
	if (WARN_ON_ONCE(start > p->addr))	/* only the worker changes it */
		return -EAGAIN;
	p->from = p->addr + (start < p->addr ? PAGE_SIZE : 0);
	p->to = max(p->from, pend - (end > pend ? PAGE_SIZE : 0));
	if (p->from != p->addr)
		ret = host_map_fixed(p->file, p->addr, min(PAGE_SIZE, p->len),
				     prot, p->offset);
	if (!ret && p->to < pend && pend - PAGE_SIZE >= p->from)
		ret = host_map_fixed(p->file, pend - PAGE_SIZE, PAGE_SIZE, prot,
				     p->offset + p->len - PAGE_SIZE);
	return ret;
}

/*
 * In the host, after the trials: change the pieces in place. -EAGAIN
 * where a piece cannot be (then nothing but boundaries changed, with the
 * new protection, and the caller maps every piece again); another error
 * after putting every piece back as it was.
 */
static int protect_in_place(struct piece *p, int n, unsigned long prot)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct **vmas;	/* each piece's VMA, then its trial */
	int i, ret = 0;

	vmas = kcalloc(2 * n, sizeof(*vmas), GFP_KERNEL_ACCOUNT);
	if (!vmas)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++)
		ret = protect_split_ends(&p[i], prot);
	if (ret && ret != -EAGAIN)
		restore_pieces(p, i);
	if (ret)
		goto out;
	mmap_write_lock(mm);
	for (i = 0; i < n && !ret; i++)
		if (p[i].from < p[i].to) {
			vmas[i] = protect_vma(&p[i], &vmas[n + i]);
			ret = vmas[i] ? 0 : -EAGAIN;
		}
	if (!ret) {
		inc_tlb_flush_pending(mm);
		for (i = 0; i < n; i++)
			if (vmas[i])
				protect_vma_apply(vmas[i], vmas[n + i]);
		mshare_flush_all();
		dec_tlb_flush_pending(mm);
	}
	mmap_write_unlock(mm);
out:
	kfree(vmas);
	return ret;
}

/*
 * PROTECT changes each piece with the new protection. What mprotect()
 * would refuse is refused first (collect_pieces()); then the host's own
 * mmap() of every piece is tried elsewhere (a seal added since can refuse
 * it), and the trials stay until the end. Then the pieces are changed in
 * place, or, where one cannot be, mapped again; a piece refused after
 * all puts back every piece changed so far: a refusal changes nothing.
 */
static int host_protect(struct mshare_region *r, void *arg)
{
	struct change *a = arg;
	struct piece *p;
	int n, i, ret = 0;

	mmap_read_lock(current->mm);
	n = collect_pieces(r, a, &p);
	mmap_read_unlock(current->mm);
	if (n < 0)
		return n;
	/*
	 * One trial for each run of pieces of the same object: its verdict
	 * and vm_page_prot depend on the file and the protection only, and a
	 * region cut into thousands of pieces would need as many mappings
	 * more than the host's map count allows.
	 */
	for (i = 0; i < n && !ret; i++) {
		if (i && p[i].file == p[i - 1].file)
			p[i].trial = p[i - 1].trial;
		else
			ret = host_trial_map(p[i].file, p[i].len, a->prot,
					     p[i].offset, &p[i].trial, NULL);
	}
	/*
	 * PROT_NONE is never made in place: a PROT_NONE entry in a shared
	 * table is a NUMA hint in every sharer's VMA (do_numa_page() would
	 * make it accessible again with the sharer's vm_page_prot); mapped
	 * again, the range has none, and a fault there is refused.
	 */
	if (!ret) {
		ret = a->prot & PROT_ALL ? protect_in_place(p, n, a->prot) :
					   -EAGAIN;
		if (ret == -EAGAIN) {
			ret = 0;
			for (i = 0; i < n && !ret; i++)
				ret = host_map_fixed(p[i].file, p[i].addr, p[i].len,
						     a->prot, p[i].offset);
			if (ret)	/* boundaries of any piece changed too */
				restore_pieces(p, n);
		}
	}
	for (i = 0; i < n; i++)	/* each trial once, by the piece that made it */
		if (p[i].trial && (!i || p[i].trial != p[i - 1].trial))
			vm_munmap(p[i].trial, p[i].len);
	put_pieces(p, n);
	return ret;
}

static int check_protect(struct mshare_region *r, void *arg)
{
	struct change *a = arg;
	int ret = check_range(r, a->start, a->end - a->start);

	if (!ret && (a->prot & ~attach_prot_min(r)))
		ret = -EACCES;
	return ret;
}

int mshare_protect_range(struct mshare_region *r, unsigned long start,
			 unsigned long size, unsigned long prot)
{
	if (prot & ~PROT_ALL)
		return -EINVAL;
	return change_range(r, check_protect, host_protect, start, size, prot);
}

/* The object pieces of region offsets [start, end) as they are now. */
static int region_pieces(struct mshare_region *r, u64 start, u64 end,
			 struct piece **pieces)
{
	int n = 0;

	if (mutex_lock_killable(&r->lock))
		return -EINTR;
	end = min_t(u64, end, r->size);
	if (r->host_mm && start < end) {
		if (host_read_lock(r)) {
			n = -EINTR;
		} else {
			n = object_pieces(r, start, end, pieces);
			host_read_unlock(r);
		}
	}
	mutex_unlock(&r->lock);
	return n;
}

/*
 * msync(MS_SYNC) and fsync() of a region: what they do to a plain
 * mapping of each object, for the objects in [start, end] (inclusive).
 */
int mshare_sync_objects(struct mshare_region *r, loff_t start, loff_t end,
			int datasync)
{
	struct piece *p;
	int n, i, ret = 0;

	if (start < 0 || end < start)
		return -EINVAL;
	n = region_pieces(r, start, (u64)end + 1, &p);
	if (n <= 0)
		return n;
	for (i = 0; i < n; i++) {
		int err = vfs_fsync_range(p[i].file, p[i].offset,
					  p[i].offset + p[i].len - 1, datasync);

		ret = ret ?: err;
	}
	put_pieces(p, n);
	return ret;
}

/*
 * fallocate(PUNCH_HOLE | KEEP_SIZE) of a region, which is what
 * MADV_REMOVE on a sharer's mapping asks for: punched in each object, as
 * MADV_REMOVE on a plain mapping of it would. That needs a mapping that
 * may be written (the object opened for writing); here the piece must
 * also be mapped writable now, since the zeroes reach every sharer and
 * the region's protection, not the creator's descriptor, is what they
 * agreed to (PROTECT read-only forbids it). EACCES otherwise, checked
 * for every piece before any punch. Holes have nothing to punch.
 * vfs_fallocate() has refused a negative, empty or overflowing range.
 */
int mshare_punch_objects(struct mshare_region *r, loff_t start, loff_t len)
{
	struct piece *p;
	int n, i, ret = 0;

	n = region_pieces(r, start, (u64)start + len, &p);
	if (n <= 0)
		return n;
	for (i = 0; i < n && !ret; i++)
		if ((p[i].flags & (VM_MAYWRITE | VM_WRITE)) !=
		    (VM_MAYWRITE | VM_WRITE))
			ret = -EACCES;
	for (i = 0; i < n && !ret; i++)
		ret = vfs_fallocate(p[i].file,
				    FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				    p[i].offset, p[i].len);
	put_pieces(p, n);
	return ret;
}

/* With links_lock: PUD links per GiB slot, summed over sharers. */
static long pud_links_at(struct mshare_region *r, unsigned long slot)
{
	struct mshare_link *l;
	long n = 0;

	list_for_each_entry(l, &r->links, region_node)
		n += l->pud_bits && test_bit(slot, l->pud_bits);
	return n;
}

/*
 * @nowait (debugfs, under mshare_regions_lock): -EBUSY rather than wait
 * for a lock of the region.
 */
int mshare_get_stats(struct mshare_region *r, struct mshare_stats *st,
		     bool nowait)
{
	unsigned long off, i, tables_in_gib = 0;
	struct vm_area_struct *vma;
	long private = 0;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	if (nowait ? !mutex_trylock(&r->lock) : mutex_lock_killable(&r->lock))
		return nowait ? -EBUSY : -EINTR;
	st->size = r->size;
	if (!r->host_mm)
		goto out;
	if (nowait ? !down_read_trylock(&r->host_mm->mmap_lock) : host_read_lock(r)) {
		ret = nowait ? -EBUSY : -EINTR;
		goto out;
	}
	for (vma = object_vma(r, 0, r->size); vma;
	     vma = next_object_vma(r, vma, r->size))
		st->mappings++;
	/*
	 * links_lock, which every linking fault takes, only per GiB: anyone
	 * who may read the region may loop here.
	 */
	for (off = 0; off < r->size; off += PMD_SIZE) {
		pmd_t *pmd = walk_to_pmd(r->host_mm, r->host_base + off);
		pte_t *ptes = NULL;
		pmd_t val;

		if (IS_ALIGNED(off, PUD_SIZE))
			tables_in_gib = 0;
		/* khugepaged may free the table meanwhile (6.6+). */
		compat_pte_map_begin();
		if (pmd)
			ptes = compat_pte_offset_map(pmd, r->host_base + off, &val);
		if (ptes) {
			st->pte_tables++;
			tables_in_gib++;
			for (i = 0; i < PTRS_PER_PTE; i++)
				st->pages += pte_present(ptep_get(ptes + i));
		}
		compat_pte_map_end();
		/* At the end of a GiB: what its PUD links saved. */
		if (r->share_pmd_tables && r->size >= PUD_SIZE &&
		    IS_ALIGNED(off + PMD_SIZE, PUD_SIZE) && pmd) {
			long links;

			mutex_lock(&r->links_lock);
			links = pud_links_at(r, off >> PUD_SHIFT);
			mutex_unlock(&r->links_lock);
			st->pmd_tables++;
			private += links * (1 + tables_in_gib);
		}
		cond_resched();
	}
	mutex_lock(&r->links_lock);
	st->pmd_links = r->pmd_links;
	st->pud_links = r->pud_links;
	private += r->pmd_links;
	mutex_unlock(&r->links_lock);
	host_read_unlock(r);
out:
	mutex_unlock(&r->lock);
	if (ret)
		return ret;
	st->sharers = atomic_long_read(&r->sharers);
	st->faults = atomic64_read(&r->faults);
	i = st->pte_tables + st->pmd_tables;
	st->table_bytes_saved = private > i ? (private - i) * PAGE_SIZE : 0;
	return 0;
}

/*
 * Count a new attachment with @prot, unless the shared PTEs would give it
 * more access than it asked for. One lock section: a concurrent
 * CREATE_MAPPING or PROTECT sees either the attachment or the refusal.
 */
int mshare_attach_new(struct mshare_region *r, unsigned long prot)
{
	unsigned long mapped;
	int ret;

	if (mutex_lock_killable(&r->lock))
		return -EINTR;
	ret = mappings_prot_union(r, &mapped);
	if (!ret && (mapped & ~prot))
		ret = -EACCES;
	else if (!ret)
		atomic_inc(&r->attach_prot[prot & PROT_ALL]);
	mutex_unlock(&r->lock);
	if (!ret)
		atomic_long_inc(&r->sharers);
	return ret;
}

/*
 * A VMA opened by fork() or closed (munmap, exit): no lock, so that these,
 * which cannot fail, never wait for a change stuck on a stalled object.
 * A change that reads attach_prot_min() meanwhile is still right: a fork
 * adds to a class its parent's VMA keeps non-zero throughout (dup_mmap()
 * holds the parent's mmap_lock), and a close only lifts a restriction.
 */
void mshare_attach_add(struct mshare_region *r, unsigned long prot, long n)
{
	atomic_add(n, &r->attach_prot[prot & PROT_ALL]);
	atomic_long_add(n, &r->sharers);
}

/* --------------------------------------------------------------- faults */

/*
 * Whether the object's ->fault for this host VMA and address may wait for
 * I/O (or for whoever does it: a FUSE server that never answers a READ):
 * its page is not in memory, or is locked (being read). A peek, without
 * locks; a page that is only to be allocated (shmem) waits for nothing. A
 * wrong guess costs little: the fault it leads to is made with
 * FAULT_FLAG_RETRY_NOWAIT and returns VM_FAULT_RETRY instead of waiting.
 */
static bool object_may_wait(struct vm_area_struct *vma, unsigned long haddr)
{
	struct address_space *mapping = vma->vm_file->f_mapping;
	struct folio *folio;
	void *entry;
	bool wait;

	rcu_read_lock();
	entry = xa_load(&mapping->i_pages, linear_page_index(vma, haddr));
	if (!entry) {
		wait = file_inode(vma->vm_file)->i_sb->s_magic != TMPFS_MAGIC;
	} else if (xa_is_value(entry)) {
		wait = true;	/* swapped out, or evicted */
	} else {
		folio = entry;
		wait = !folio_test_uptodate(folio) || folio_test_locked(folio);
	}
	rcu_read_unlock();
	return wait;
}

/*
 * With the host's mmap_lock: the host VMA that serves an access at @haddr
 * with @flags, or NULL and the error in *@err: a hole or a protection that
 * refuses the access is SIGSEGV, as for the sharer's own VMA; a dead host
 * SIGBUS.
 */
static struct vm_area_struct *host_vma(struct mshare_region *r,
				       unsigned long haddr, unsigned int flags,
				       vm_fault_t *err)
{
	struct vm_area_struct *vma = find_vma(r->host_mm, haddr);
	unsigned long need = VM_READ | VM_WRITE | VM_EXEC;

	if (flags & FAULT_FLAG_WRITE)
		need = VM_WRITE;
	else if (flags & FAULT_FLAG_INSTRUCTION)
		need = VM_EXEC;
	*err = VM_FAULT_SIGSEGV;
	if (!vma || vma->vm_start > haddr || !vma->vm_file ||
	    !(vma->vm_flags & need))
		return NULL;
	*err = VM_FAULT_SIGBUS;
	return mshare_host_alive(r) ? vma : NULL;
}

/* The host fault's flags for a sharer's access with @flags. */
static unsigned int host_fault_flags(unsigned int flags)
{
	return FAULT_FLAG_REMOTE | FAULT_FLAG_ALLOW_RETRY |
	       (flags & (FAULT_FLAG_WRITE | FAULT_FLAG_INSTRUCTION));
}

/*
 * With the host's mmap_lock: have the host's PTE for @haddr map what the
 * access needs, faulting it in the host as the access would, and return
 * the host's PTE table. Never waits for the object's I/O: returns
 * VM_FAULT_RETRY, the lock still held, where it would
 * (host_fault_wait() then).
 */
static vm_fault_t host_fault(struct mshare_region *r, unsigned long haddr,
			     unsigned int flags, struct page **tablep)
{
	bool write = flags & FAULT_FLAG_WRITE;
	struct vm_area_struct *vma;
	struct page *table;
	vm_fault_t ret;
	pte_t pte;

	vma = host_vma(r, haddr, flags, &ret);
	if (!vma)
		return ret;
	table = host_pte_table(r, haddr);
	if (IS_ERR(table))
		return PTR_ERR(table) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
	pte = host_pte_get(r, haddr, table);
	if (!pte_present(pte) || (write && !pte_write(pte))) {
		if (!pte_present(pte) && object_may_wait(vma, haddr))
			return VM_FAULT_RETRY;
		ret = handle_mm_fault(vma, haddr, host_fault_flags(flags) |
				      FAULT_FLAG_RETRY_NOWAIT, NULL);
		if (ret & VM_FAULT_RETRY)
			return VM_FAULT_RETRY;
		if (ret & VM_FAULT_ERROR)
			return ret & (VM_FAULT_ERROR | VM_FAULT_HINDEX_MASK);
		/* Linked only if still the host's (link_pte_table()). */
		table = host_pte_table(r, haddr);
		if (IS_ERR(table))
			return VM_FAULT_SIGBUS;
	}
	*tablep = table;
	return 0;
}

/*
 * The host fault that may wait for the object's I/O, as a fault on a
 * plain mapping of the object waits: killably and without the host's
 * mmap_lock (filemap_fault() drops it: FAULT_FLAG_ALLOW_RETRY). So the
 * region's worker, which takes that lock for writing, never waits for a
 * stalled object. VM_FAULT_RETRY when killed.
 */
static vm_fault_t host_fault_wait(struct mshare_region *r, unsigned long haddr,
				  unsigned int flags)
{
	unsigned int hflags = host_fault_flags(flags) | FAULT_FLAG_KILLABLE;
	struct vm_area_struct *vma;
	struct mem_cgroup *old_memcg;
	vm_fault_t ret;

	for (;;) {
		if (host_read_lock(r))
			return VM_FAULT_RETRY;
		vma = host_vma(r, haddr, flags, &ret);
		if (vma && IS_ERR(host_pte_table(r, haddr))) {
			vma = NULL;
			ret = VM_FAULT_SIGBUS;
		}
		if (!vma) {
			host_read_unlock(r);
			return ret;
		}
		old_memcg = set_active_memcg(r->memcg);
		ret = handle_mm_fault(vma, haddr, hflags, NULL);
		set_active_memcg(old_memcg);
		if (ret & VM_FAULT_COMPLETED)	/* done, the lock dropped */
			return 0;
		if (!(ret & VM_FAULT_RETRY)) {
			host_read_unlock(r);
			return ret & (VM_FAULT_ERROR | VM_FAULT_HINDEX_MASK);
		}
		/* The lock was dropped for the wait, which is over. */
		if (fatal_signal_pending(current))
			return VM_FAULT_RETRY;
		hflags |= FAULT_FLAG_TRIED;
	}
}

/* A link may be made now: no invalidation of the host or of the sharer. */
static bool may_link(struct mshare_link *l)
{
	struct mshare_region *r = l->region;

	return !r->invalidating &&
	       !(r->changing && !change_pending(r, l->mm)) &&
	       !atomic_read(&l->att->invalidating);
}

/*
 * With links_lock: the PMD entry the core found may sit in a host PMD
 * table that the sharer's PUD no longer links (unlinked since): then the
 * access is simply retried.
 */
static bool pmd_still_reached(struct vm_fault *vmf)
{
	pud_t pud = READ_ONCE(*vmf->pud);

	return pud_present(pud) && !pud_leaf(pud) &&
	       pud_pgtable(pud) == (pmd_t *)((unsigned long)vmf->pmd & PAGE_MASK);
}

/*
 * With links_lock, the host's mmap_lock (read) and the sharer's PMD lock:
 * link-around. Every other empty entry of the sharer's PMD table that
 * @vmf->pmd sits in, inside the VMA, is pointed at the host's PTE table
 * for its 2 MiB where the host has one, so that a sharer links up to
 * 1 GiB in one fault (a new sharer, or one unlinked by a change), not one
 * fault per 2 MiB. The same as a fault on each of them would link, under
 * the same checks (may_link() held for the range, the host tables read
 * under links_lock, which a host invalidation that frees one must take
 * first), except that no host table or page is made: empty stays empty.
 */
static void link_around(struct mshare_link *l, struct vm_fault *vmf)
{
	pmd_t *table = (pmd_t *)((unsigned long)vmf->pmd & PAGE_MASK);
	unsigned long base = vmf->address & PUD_MASK, addr, off;
	struct vm_area_struct *vma = vmf->vma;
	struct mshare_region *r = l->region;
	pmd_t *hpmd;
	pmd_t val;
	int i;

	for (i = 0; i < PTRS_PER_PMD; i++) {
		addr = base + i * PMD_SIZE;
		if (addr < vma->vm_start || addr + PMD_SIZE > vma->vm_end ||
		    !pmd_none(READ_ONCE(table[i])))
			continue;
		off = addr - vma->vm_start;
		if (test_bit(off >> PMD_SHIFT, l->pmd_bits))
			continue;
		hpmd = walk_to_pmd(r->host_mm, r->host_base + off);
		val = hpmd ? compat_pmdp_get_lockless(hpmd) : __pmd(0);
		if (!pmd_present(val) || pmd_leaf(val))
			continue;
		pmd_populate(vma->vm_mm, &table[i], pmd_page(val));
		set_bit(off >> PMD_SHIFT, l->pmd_bits);
		r->pmd_links++;
	}
}

static vm_fault_t link_pte_table(struct mshare_link *l, struct vm_fault *vmf,
				 unsigned long off, struct page *table)
{
	struct mshare_region *r = l->region;
	struct mm_struct *mm = vmf->vma->vm_mm;
	vm_fault_t ret = VM_FAULT_NOPAGE;
	spinlock_t *ptl;	/* the sharer's PMD lock */
	pmd_t val;

	mutex_lock(&r->links_lock);
	/* Faulting through the VMA: it is in the tree, its tables are ours. */
	l->dead = false;
	if (!may_link(l) || !pmd_still_reached(vmf) ||
	    !host_table_current(r, r->host_base + off, table))
		goto out;
	if (l->pud_bits && test_bit(off >> PUD_SHIFT, l->pud_bits))
		goto out;	/* vmf->pmd is the host's own entry: set */
	ptl = pmd_lock(mm, vmf->pmd);
	val = READ_ONCE(*vmf->pmd);
	if (pmd_none(val)) {
		pmd_populate(mm, vmf->pmd, table);
		set_bit(off >> PMD_SHIFT, l->pmd_bits);
		r->pmd_links++;
	} else if (pmd_parked(val)) {
		;	/* parked since: the retried fault unparks it */
	} else if (pmd_pfn(val) != page_to_pfn(table)) {
		ret = VM_FAULT_SIGBUS;	/* not ours: never expected */
	}
	if (ret == VM_FAULT_NOPAGE)
		link_around(l, vmf);
	spin_unlock(ptl);
out:
	mutex_unlock(&r->links_lock);
	return ret;
}

/*
 * The fault could not link because a change of the region is under way.
 * If it may retry, wait for the change without mmap_lock: a GUP would
 * otherwise loop holding it, and a change of another region that waits
 * for this mm would wait for good (two regions changed at once, each
 * with sharers spinning on the other's).
 */
static vm_fault_t wait_for_change(struct mshare_region *r, struct vm_fault *vmf)
{
	struct file *file;
	bool blocked;

	mutex_lock(&r->links_lock);
	blocked = r->changing && !change_pending(r, vmf->vma->vm_mm);
	mutex_unlock(&r->links_lock);
	if (!blocked || !(vmf->flags & FAULT_FLAG_ALLOW_RETRY) ||
	    (vmf->flags & FAULT_FLAG_RETRY_NOWAIT))
		return VM_FAULT_NOPAGE;
	file = get_file(vmf->vma->vm_file);	/* keeps the region */
	compat_release_fault_lock(vmf);
	wait_event_killable(r->change_wq, !READ_ONCE(r->changing));
	fput(file);
	return VM_FAULT_RETRY;
}

/*
 * The host fault must wait for the object's I/O, or the host's mmap_lock
 * for the worker. A sharer's fault that may retry drops its own mmap_lock
 * first, as filemap_fault() does on a plain mapping, and is retried
 * (VM_FAULT_RETRY); the retry links. One that may not wait
 * (FAULT_FLAG_RETRY_NOWAIT) gets VM_FAULT_RETRY with its lock held. Any
 * other (GUP without a retry, ->page_mkwrite()) waits holding its own
 * mmap_lock, killably, and has the access made again (VM_FAULT_NOPAGE),
 * or SIGBUS if it was killed.
 */
static vm_fault_t fault_and_wait(struct mshare_region *r, struct vm_fault *vmf,
				 unsigned long haddr, unsigned int flags,
				 bool may_retry)
{
	struct file *file;
	vm_fault_t ret;

	if (vmf->flags & FAULT_FLAG_RETRY_NOWAIT)
		return VM_FAULT_RETRY;
	if (!may_retry || !(vmf->flags & FAULT_FLAG_ALLOW_RETRY)) {
		ret = host_fault_wait(r, haddr, flags);
		if (ret == VM_FAULT_RETRY)
			return VM_FAULT_SIGBUS;	/* killed */
		return ret ?: VM_FAULT_NOPAGE;
	}
	file = get_file(vmf->vma->vm_file);	/* keeps the region */
	compat_release_fault_lock(vmf);
	host_fault_wait(r, haddr, flags);
	fput(file);
	return VM_FAULT_RETRY;
}

static vm_fault_t fault_and_link(struct mshare_link *l, struct vm_fault *vmf,
				 unsigned int flags, bool may_wait)
{
	struct mshare_region *r = l->region;
	unsigned long off = (vmf->address & PAGE_MASK) - vmf->vma->vm_start;
	unsigned long haddr = r->host_base + off;
	struct mem_cgroup *old_memcg;
	struct page *table;
	vm_fault_t ret;

	if (host_read_lock(r))		/* killed */
		return fault_and_wait(r, vmf, haddr, flags, may_wait);
	/* Host tables are charged to the creator's cgroup, not ours. */
	old_memcg = set_active_memcg(r->memcg);
	ret = host_fault(r, haddr, flags, &table);
	set_active_memcg(old_memcg);
	if (ret == VM_FAULT_RETRY) {
		host_read_unlock(r);
		return fault_and_wait(r, vmf, haddr, flags, may_wait);
	}
	if (!ret)
		ret = link_pte_table(l, vmf, off, table);
	host_read_unlock(r);
	atomic64_inc(&r->faults);
	if (ret == VM_FAULT_NOPAGE && may_wait && READ_ONCE(r->changing))
		ret = wait_for_change(r, vmf);
	return ret;
}

vm_fault_t mshare_fault(struct mshare_link *l, struct vm_fault *vmf)
{
	return fault_and_link(l, vmf, vmf->flags, true);
}

/*
 * A write to a present read-only PTE of the shared table: the host's
 * write fault makes it writable (calling the object's ->page_mkwrite(),
 * dirtying the page), or refuses it.
 */
vm_fault_t mshare_page_mkwrite(struct mshare_link *l, struct vm_fault *vmf)
{
	/* do_page_mkwrite() knows no VM_FAULT_RETRY: never wait here. */
	return fault_and_link(l, vmf, vmf->flags | FAULT_FLAG_WRITE, false);
}

/*
 * The PUD entry of a sharer for a whole, 1 GiB aligned GiB of the region
 * is empty: point it at the host's PMD table for that GiB (made first if
 * missing). The access is retried and walks the host's tables; a missing
 * PTE table or page then comes through mshare_fault() with vmf->pmd in
 * the host's PMD table.
 */
vm_fault_t mshare_huge_fault(struct mshare_link *l, struct vm_fault *vmf)
{
	struct mshare_region *r = l->region;
	struct vm_area_struct *vma = vmf->vma;
	unsigned long base = vmf->address & PUD_MASK;
	unsigned long off = base - vma->vm_start;
	struct mm_struct *mm = vma->vm_mm;
	struct mem_cgroup *old_memcg;
	spinlock_t *ptl;	/* the sharer's PUD lock */
	struct page *pte_table;
	pud_t *hpud;
	pud_t val;

	if (!r->share_pmd_tables || !l->pud_bits ||
	    !IS_ALIGNED(vma->vm_start, PUD_SIZE) ||
	    base < vma->vm_start || base + PUD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;

	if (host_read_lock(r))
		return VM_FAULT_FALLBACK;	/* killed: ->fault() says so */
	old_memcg = set_active_memcg(r->memcg);
	pte_table = host_pte_table(r, r->host_base + off);
	set_active_memcg(old_memcg);
	hpud = walk_to_pud(r->host_mm, r->host_base + off);
	val = hpud ? READ_ONCE(*hpud) : __pud(0);
	if (IS_ERR(pte_table) || !pud_present(val) || pud_leaf(val)) {
		host_read_unlock(r);
		return VM_FAULT_FALLBACK;
	}
	mutex_lock(&r->links_lock);
	l->dead = false;
	if (may_link(l)) {
		ptl = pud_lock(mm, vmf->pud);
		/* Empty unless another thread got here first, or made a PMD. */
		if (pud_none(*vmf->pud)) {
			pud_populate(mm, vmf->pud, pud_pgtable(val));
			set_bit(off >> PUD_SHIFT, l->pud_bits);
			r->pud_links++;
		}
		spin_unlock(ptl);
	}
	mutex_unlock(&r->links_lock);
	host_read_unlock(r);
	atomic64_inc(&r->faults);
	return VM_FAULT_NOPAGE;
}

/* ------------------------------------------------- sharer MMU notifier */

static struct mshare_attach *to_attach(struct mmu_notifier *mn)
{
	return container_of(mn, struct mshare_attach, mn);
}

/*
 * Unlink every region table from @att's links that overlap [start, end)
 * before the core walks the range. An unmap (munmap, mremap, exit) frees
 * the VMA's tables: its link is marked dead so that the host's notifier
 * no longer walks them.
 */
static void unlink_sharer(struct mshare_attach *att, unsigned long start,
			  unsigned long end, bool unmap)
{
	struct mshare_link *l;
	bool any = false;

	mutex_lock(&att->lock);
	list_for_each_entry(l, &att->links, attach_node) {
		struct mshare_region *r = l->region;

		if (l->end <= start || l->start >= end)
			continue;
		mutex_lock(&r->links_lock);
		if (unmap)
			l->dead = true;
		any |= link_unlink(l, max(start, l->start) - l->start,
				   min(end, l->end) - l->start,
				   unmap ? UNLINK_CLEAR : UNLINK_PARK);
		mutex_unlock(&r->links_lock);
	}
	mutex_unlock(&att->lock);
	if (any)
		mshare_flush_all();
}

/*
 * In 6.1 the only non-blockable invalidation is the OOM reaper's
 * (__oom_reap_task_mm(), also process_mrelease()), and it skips VM_SHARED
 * VMAs, which every region VMA is (msharefs.c: mshare_mmap()): such a
 * range holds no link. Returning 0 at once, with no lock, is then exact,
 * and must be: 6.1 WARNs when a start that has an end callback fails, and
 * forbids sleeping in both callbacks. The end callback undoes exactly
 * what the start did.
 */
static int mn_invalidate_range_start(struct mmu_notifier *mn,
				     const struct mmu_notifier_range *range)
{
	struct mshare_attach *att = to_attach(mn);

	if (!mmu_notifier_range_blockable(range))
		return 0;
	atomic_inc(&att->invalidating);
	unlink_sharer(att, range->start, range->end,
		      range->event == MMU_NOTIFY_UNMAP);
	return 0;
}

static void mn_invalidate_range_end(struct mmu_notifier *mn,
				    const struct mmu_notifier_range *range)
{
	if (mmu_notifier_range_blockable(range))
		atomic_dec(&to_attach(mn)->invalidating);
}

static void mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	unlink_sharer(to_attach(mn), 0, ULONG_MAX, true);
}

static struct mmu_notifier *mn_alloc(struct mm_struct *mm)
{
	struct mshare_attach *att = kzalloc(sizeof(*att), GFP_KERNEL_ACCOUNT);

	if (!att)
		return ERR_PTR(-ENOMEM);
	mutex_init(&att->lock);
	INIT_LIST_HEAD(&att->links);
	return &att->mn;
}

static void mn_free(struct mmu_notifier *mn)
{
	kfree(to_attach(mn));
}

static const struct mmu_notifier_ops mshare_mn_ops = {
	.release = mn_release,
	.invalidate_range_start = mn_invalidate_range_start,
	.invalidate_range_end = mn_invalidate_range_end,
	.alloc_notifier = mn_alloc,
	.free_notifier = mn_free,
};

static struct mshare_attach *mn_to_attach(struct mmu_notifier *mn)
{
	if (IS_ERR(mn))
		return ERR_CAST(mn);
	return to_attach(mn);
}

/* With mmap_lock held for write (mmap, mremap). */
struct mshare_attach *mshare_attach_get_locked(struct mm_struct *mm)
{
	return mn_to_attach(mmu_notifier_get_locked(&mshare_mn_ops, mm));
}

/*
 * Registering an mm's first notifier goes through mm_take_all_locks(),
 * which in 6.1 fails with EINTR whenever the caller has a signal pending,
 * fatal or not (a profiling timer, a busy SIGCHLD): where a plain mapping
 * would not fail, a kernel thread, which never has one, registers it.
 */
struct attach_req {
	struct work_struct work;
	struct mm_struct *mm;		/* mmget() held */
	struct mshare_attach *att;
	struct completion done;
	refcount_t ref;			/* the waiter's and the work's */
};

static void attach_req_put(struct attach_req *req)
{
	if (!refcount_dec_and_test(&req->ref))
		return;
	if (!IS_ERR_OR_NULL(req->att))
		mshare_attach_put(req->att);
	mmput(req->mm);
	kfree(req);
}

static void attach_req_run(struct work_struct *work)
{
	struct attach_req *req = container_of(work, struct attach_req, work);

	req->att = mn_to_attach(mmu_notifier_get(&mshare_mn_ops, req->mm));
	complete(&req->done);
	attach_req_put(req);
}

static struct mshare_attach *attach_get_by_worker(struct mm_struct *mm)
{
	struct attach_req *req = kzalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	struct mshare_attach *att;

	if (!req)
		return ERR_PTR(-ENOMEM);
	if (!mmget_not_zero(mm)) {
		kfree(req);
		return ERR_PTR(-ESRCH);
	}
	req->mm = mm;
	init_completion(&req->done);
	refcount_set(&req->ref, 2);
	INIT_WORK(&req->work, attach_req_run);
	queue_work(system_unbound_wq, &req->work);
	/* Killable: the worker waits for @mm's mmap_lock, held by anyone. */
	if (wait_for_completion_killable(&req->done)) {
		att = ERR_PTR(-EINTR);
	} else {
		att = req->att;
		req->att = NULL;	/* ours now */
	}
	attach_req_put(req);
	return att;
}

/* Without @mm's mmap_lock: its notifier, registered if it has none. */
struct mshare_attach *mshare_attach_get(struct mm_struct *mm)
{
	struct mshare_attach *att;

	att = mn_to_attach(mmu_notifier_get(&mshare_mn_ops, mm));
	if (PTR_ERR_OR_ZERO(att) == -EINTR && !fatal_signal_pending(current))
		att = attach_get_by_worker(mm);
	return att;
}

void mshare_attach_put(struct mshare_attach *att)
{
	mmu_notifier_put(&att->mn);
}

int mshare_core_init(void)
{
	int ret;

	if (!compat_flush_tlb_all_usable()) {
		pr_err("mshare: this kernel exports no TLB flush a module may use, and this CPU has neither INVPCID nor PGE or runs as a Xen PV guest; refusing to load\n");
		return -EOPNOTSUPP;
	}

	/* A PMD link is parked only where walkers do not revalidate it. */
	if (!COMPAT_PTE_TABLES_RCU)
		empty_pte_table = empty_table_alloc();
	empty_pmd_table = empty_table_alloc();
	ret = (empty_pte_table || COMPAT_PTE_TABLES_RCU) && empty_pmd_table ?
	      0 : -ENOMEM;
	if (ret) {
		empty_table_free(empty_pte_table);
		empty_table_free(empty_pmd_table);
	}
	return ret;
}

void mshare_core_exit(void)
{
	/* Wait for notifiers put by exiting sharers to be freed. */
	mmu_notifier_synchronize();
	/* No VMA is left, so no entry points at them. */
	empty_table_free(empty_pte_table);
	empty_table_free(empty_pmd_table);
}
