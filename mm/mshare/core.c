// SPDX-License-Identifier: GPL-2.0
/*
 * mshare core: shared PTE tables, and shared PMD tables where 1 GiB aligned.
 *
 * A region owns one PTE table per PMD_SIZE slot and fills it itself: the
 * fault handler maps the object's page into the region's table and then
 * points the faulting process's PMD entry at that table. Every sharer's
 * PMD for a slot points to the same table, so one set of PTEs serves all.
 *
 * Where a sharer maps a whole PUD_SIZE (1 GiB) piece of the region at a
 * 1 GiB aligned address, the region also owns a PMD table for that piece,
 * whose entries point at the region's PTE tables, and the sharer's PUD
 * entry points at it: the sharer then has no table of its own for the
 * region at all. The core mm asks for that link through ->huge_fault(),
 * as it does for device-dax PUD mappings: it calls it only for DAX VMAs,
 * so regions created with pmd_sharing on carry S_DAX (see msharefs.c).
 *
 * The core mm must never zap or free a region table through a sharer.
 * Every path that does (munmap, MADV_DONTNEED, exit, mremap, NUMA
 * hinting, clear_refs) first calls invalidate_range_start() or release()
 * on the sharer's MMU notifier, which unlinks region tables from that
 * sharer's PUDs and PMDs before the core walks them. A fault cannot relink while an
 * invalidation is in progress: the check is made under the PMD lock that
 * the unlink also takes. Tables are freed only when the region is
 * destroyed, after every VMA mapping it is gone, and after a TLB flush on
 * every CPU.
 *
 * Pages in the shared tables hold a reference and a mapcount taken here
 * (the kernel does not export page_add_file_rmap()); rmap walks do not
 * find sharers, so reclaim and migration leave region pages alone while
 * they are mapped.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/memcontrol.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <asm/pgalloc.h>
#include <asm/tlbflush.h>

#include "mshare.h"

/* Every region, for the debugfs view. */
LIST_HEAD(mshare_regions);
/* Protects mshare_regions. */
DEFINE_MUTEX(mshare_regions_lock);

/* PFN of every region PTE table -> its region. */
static DEFINE_XARRAY(mshare_tables);

/*
 * set_pte_at() and ptep_get_and_clear() want an mm; on x86 it is only
 * compared with &init_mm (page_table_check), so region tables, which
 * belong to no process, use this one.
 */
static struct mm_struct mshare_table_mm;

#define PROT_ALL	(PROT_READ | PROT_WRITE | PROT_EXEC)

/* ------------------------------------------------------------ TLB flush */

static void flush_this_cpu(void *unused)
{
	__flush_tlb_all();
}

/*
 * Shared tables are linked into many mms, and a module cannot reach
 * flush_tlb_mm_range(): flush every TLB entry on every CPU.
 */
static void mshare_flush_all(void)
{
	on_each_cpu(flush_this_cpu, NULL, 1);
}

/* --------------------------------------------------------------- tables */

/* Undo what table_alloc() did to the page, and free it. */
static void table_page_free(struct page *page)
{
	mod_lruvec_page_state(page, NR_PAGETABLE, -1);
	__ClearPageTable(page);
#if ALLOC_SPLIT_PTLOCKS
	kfree(page->ptl);
	page->ptl = NULL;
#endif
	__free_page(page);
}

/* A zeroed page-table page with its split lock, counted in @count. */
static struct page *table_alloc(struct mshare_region *r, atomic_long_t *count)
{
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (!page)
		return NULL;
#if ALLOC_SPLIT_PTLOCKS
	/* ptlock_alloc() is not exported: allocate the split lock here. */
	page->ptl = kmalloc(sizeof(spinlock_t), GFP_KERNEL);
	if (!page->ptl) {
		__free_page(page);
		return NULL;
	}
#endif
	spin_lock_init(ptlock_ptr(page));
	page->pmd_huge_pte = NULL;	/* as pgtable_pmd_page_ctor() */
	__SetPageTable(page);
	mod_lruvec_page_state(page, NR_PAGETABLE, 1);
	if (xa_err(xa_store(&mshare_tables, page_to_pfn(page), r,
			    GFP_KERNEL))) {
		table_page_free(page);
		return NULL;
	}
	atomic_long_inc(count);
	return page;
}

static void table_free(struct page *page, atomic_long_t *count)
{
	xa_erase(&mshare_tables, page_to_pfn(page));
	table_page_free(page);
	atomic_long_dec(count);
}

static pte_t *table_pte(struct page *table, unsigned long off)
{
	return (pte_t *)page_address(table) + pte_index(off);
}

static struct mshare_pud_slot *pud_slot(struct mshare_region *r,
					unsigned long off)
{
	if (!r->pud_slots || off >> PUD_SHIFT >= r->size >> PUD_SHIFT)
		return NULL;
	return &r->pud_slots[off >> PUD_SHIFT];
}

/*
 * With r->lock: point entry @off of the region's PMD table for that GiB,
 * if it has one, at the PTE table. Sharers linked at the PUD see it at
 * once; the lock is the one their pmd_lock() takes.
 */
static void pmd_table_link(struct mshare_region *r, unsigned long off,
			   struct page *pte_table)
{
	struct mshare_pud_slot *slot = pud_slot(r, off);
	spinlock_t *ptl;	/* the region PMD table's lock */
	pmd_t *pmd;

	if (!slot || !slot->table)
		return;
	pmd = (pmd_t *)page_address(slot->table) + pmd_index(off);
	ptl = ptlock_ptr(slot->table);
	spin_lock(ptl);
	if (pmd_none(*pmd))
		pmd_populate(&mshare_table_mm, pmd, pte_table);
	spin_unlock(ptl);
}

/* What page_add_file_rmap()/page_remove_rmap() would account. */
static void rmap_add(struct page *page)
{
	if (atomic_inc_and_test(&page->_mapcount))
		mod_lruvec_page_state(page, NR_FILE_MAPPED, 1);
}

static void rmap_remove(struct page *page)
{
	if (atomic_add_negative(-1, &page->_mapcount))
		mod_lruvec_page_state(page, NR_FILE_MAPPED, -1);
}

static pgprot_t mshare_pgprot(unsigned long prot)
{
	unsigned long vm_flags = VM_SHARED;

	if (prot & PROT_READ)
		vm_flags |= VM_READ;
	if (prot & PROT_WRITE)
		vm_flags |= VM_WRITE;
	if (prot & PROT_EXEC)
		vm_flags |= VM_EXEC;
	return vm_get_page_prot(vm_flags);
}

#define CLEAR_BATCH	64

/*
 * Clear the region's PTEs in [start, end) and release their pages, a batch
 * at a time: clear under the table lock, flush every TLB, and only then
 * drop the page references.
 */
static void clear_ptes(struct mshare_region *r, unsigned long start,
		       unsigned long end)
{
	struct page *batch[CLEAR_BATCH];
	unsigned long off = start, next;

	while (off < end) {
		struct page *table = r->tables[off >> PMD_SHIFT];
		spinlock_t *ptl;	/* the table's PTE lock */
		int n = 0, i;

		next = min(end, (off + PMD_SIZE) & PMD_MASK);
		if (!table) {
			off = next;
			continue;
		}
		ptl = ptlock_ptr(table);
		spin_lock(ptl);
		for (; off < next && n < CLEAR_BATCH; off += PAGE_SIZE) {
			pte_t old = ptep_get_and_clear(&mshare_table_mm, off,
						       table_pte(table, off));

			if (!pte_present(old))
				continue;
			batch[n] = pte_page(old);
			if (pte_dirty(old))
				set_page_dirty(batch[n]);
			rmap_remove(batch[n]);
			n++;
		}
		spin_unlock(ptl);
		if (!n)
			continue;
		mshare_flush_all();
		for (i = 0; i < n; i++)
			put_page(batch[i]);
		atomic_long_sub(n, &r->pages);
	}
}

/* ------------------------------------------------------------- mappings */

static struct mshare_mapping *mapping_at(struct mshare_region *r,
					 unsigned long off)
{
	struct mshare_mapping *m;

	list_for_each_entry(m, &r->mappings, list)
		if (off >= m->start && off < m->end)
			return m;
	return NULL;
}

/* Make @off a boundary between mappings (no-op outside any mapping). */
static int split_mapping_at(struct mshare_region *r, unsigned long off)
{
	struct mshare_mapping *m = mapping_at(r, off), *tail;

	if (!m || m->start == off)
		return 0;
	tail = kmemdup(m, sizeof(*m), GFP_KERNEL);
	if (!tail)
		return -ENOMEM;
	tail->start = off;
	tail->pgoff = m->pgoff + ((off - m->start) >> PAGE_SHIFT);
	get_file(tail->file);
	m->end = off;
	list_add(&tail->list, &m->list);
	return 0;
}

static void mapping_free(struct mshare_mapping *m)
{
	list_del(&m->list);
	fput(m->file);
	kfree(m);
}

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
		if (r->attach_prot[p])
			min &= p;
	return min;
}

static unsigned long mappings_prot_union(struct mshare_region *r)
{
	struct mshare_mapping *m;
	unsigned long prot = 0;

	list_for_each_entry(m, &r->mappings, list)
		prot |= m->prot;
	return prot;
}

/* ------------------------------------------------------ region lifetime */

struct mshare_region *mshare_region_create(const char *name,
					   bool share_pmd_tables)
{
	struct mshare_region *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return NULL;
	mutex_init(&r->lock);
	INIT_LIST_HEAD(&r->mappings);
	strscpy(r->name, name, sizeof(r->name));
	r->share_pmd_tables = share_pmd_tables;
	r->memcg = get_mem_cgroup_from_mm(current->mm);
	mutex_lock(&mshare_regions_lock);
	list_add_tail(&r->all, &mshare_regions);
	mutex_unlock(&mshare_regions_lock);
	return r;
}

void mshare_region_destroy(struct mshare_region *r)
{
	struct mshare_mapping *m, *tmp;
	unsigned long slot;

	mutex_lock(&mshare_regions_lock);
	list_del(&r->all);
	mutex_unlock(&mshare_regions_lock);

	clear_ptes(r, 0, r->size);
	list_for_each_entry_safe(m, tmp, &r->mappings, list)
		mapping_free(m);
	/* No VMA maps the region any more, so no PUD or PMD links a table. */
	if (WARN_ON(atomic_long_read(&r->pmd_links) ||
		    atomic_long_read(&r->pud_links))) {
		kvfree(r->pud_slots);	/* leak the tables rather than free them */
		kvfree(r->tables);
		mem_cgroup_put(r->memcg);
		kfree(r);
		return;
	}
	mshare_flush_all();	/* no paging-structure cache may keep them */
	for (slot = 0; r->pud_slots && slot < r->size >> PUD_SHIFT; slot++)
		if (r->pud_slots[slot].table)
			table_free(r->pud_slots[slot].table, &r->nr_pmd_tables);
	for (slot = 0; r->tables && slot < r->size >> PMD_SHIFT; slot++)
		if (r->tables[slot])
			table_free(r->tables[slot], &r->nr_tables);
	kvfree(r->pud_slots);
	kvfree(r->tables);
	mem_cgroup_put(r->memcg);
	kfree(r);
}

int mshare_region_set_size(struct mshare_region *r, loff_t size)
{
	int ret = 0;

	if (size <= 0 || size > MSHARE_MAX_SIZE || !IS_ALIGNED(size, MSHARE_ALIGN))
		return -EINVAL;
	mutex_lock(&r->lock);
	if (r->size) {
		ret = r->size == size ? 0 : -EINVAL;	/* sized once */
	} else {
		r->tables = kvcalloc(size >> PMD_SHIFT, sizeof(*r->tables),
				     GFP_KERNEL);
		if (r->share_pmd_tables && size >= PUD_SIZE)
			r->pud_slots = kvcalloc(size >> PUD_SHIFT,
						sizeof(*r->pud_slots),
						GFP_KERNEL);
		if (r->tables && (r->pud_slots || !r->share_pmd_tables ||
				  size < PUD_SIZE)) {
			r->size = size;
		} else {
			kvfree(r->tables);
			r->tables = NULL;
			ret = -ENOMEM;
		}
	}
	mutex_unlock(&r->lock);
	return ret;
}

/* ------------------------------------------------------------- contents */

static bool file_is_shmem(struct file *file)
{
	return file_inode(file)->i_sb->s_magic == TMPFS_MAGIC;
}

/*
 * The access an object may ever be given, as mmap() sets VM_MAY* for a
 * file: read (the fd was opened for reading), write only for shmem opened
 * for writing (see below), exec unless its mount is noexec.
 */
static unsigned long object_max_prot(struct file *file)
{
	unsigned long prot = PROT_READ;

	if (file_is_shmem(file) && (file->f_mode & FMODE_WRITE))
		prot |= PROT_WRITE;
	if (!(file->f_path.mnt->mnt_flags & MNT_NOEXEC) &&
	    !(file->f_path.mnt->mnt_sb->s_iflags & SB_I_NOEXEC))
		prot |= PROT_EXEC;
	return prot;
}

static struct file *object_file(const struct mshare_create *c)
{
	struct file *file;
	struct inode *inode;
	int err;

	if (c->flags & MAP_ANONYMOUS) {
		if (c->fd != (__u32)-1)
			return ERR_PTR(-EINVAL);
		return shmem_file_setup("mshare-anon", c->size, 0);
	}
	file = fget(c->fd);
	if (!file)
		return ERR_PTR(-EBADF);
	inode = file_inode(file);
	err = -EINVAL;			/* sockets, pipes, devices, msharefs */
	if (S_ISDIR(inode->i_mode))
		err = -EISDIR;
	else if (S_ISREG(inode->i_mode) && inode->i_sb->s_magic != MSHAREFS_MAGIC &&
		 inode->i_sb->s_magic != HUGETLBFS_MAGIC && file->f_op->mmap)
		err = 0;
	if (!err && !(file->f_mode & FMODE_READ))
		err = -EACCES;
	if (!err && (c->prot & PROT_WRITE)) {
		/*
		 * Writeback finds dirty pages through rmap, which cannot see
		 * the shared tables: only shmem may be mapped writable.
		 */
		if (!file_is_shmem(file))
			err = -EOPNOTSUPP;
		else if (!(file->f_mode & FMODE_WRITE))
			err = -EACCES;
	}
	if (!err && (c->prot & PROT_EXEC) && !(object_max_prot(file) & PROT_EXEC))
		err = -EPERM;		/* as mmap() from a noexec mount */
	if (err) {
		fput(file);
		return ERR_PTR(err);
	}
	return file;
}

static int unmap_locked(struct mshare_region *r, unsigned long start,
			unsigned long size)
{
	struct mshare_mapping *m, *tmp;
	unsigned long end = start + size;
	int ret;

	ret = check_range(r, start, size);
	if (!ret)
		ret = split_mapping_at(r, start);
	if (!ret)
		ret = split_mapping_at(r, end);
	if (ret)
		return ret;
	clear_ptes(r, start, end);
	list_for_each_entry_safe(m, tmp, &r->mappings, list)
		if (m->start >= start && m->end <= end)
			mapping_free(m);
	return 0;
}

int mshare_map_object(struct mshare_region *r, const struct mshare_create *c)
{
	struct mshare_mapping *m;
	struct file *file;
	int ret;

	if ((c->flags & (MAP_SHARED | MAP_FIXED)) != (MAP_SHARED | MAP_FIXED) ||
	    (c->flags & ~(MAP_SHARED | MAP_FIXED | MAP_ANONYMOUS)) ||
	    (c->prot & ~PROT_ALL) || !PAGE_ALIGNED(c->offset) ||
	    c->offset + c->size < c->offset)
		return -EINVAL;
	/* Before the size reaches shmem_file_setup(): the full check is later. */
	if (!c->size || !PAGE_ALIGNED(c->size) || c->size > MSHARE_MAX_SIZE)
		return -EINVAL;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	file = object_file(c);
	if (IS_ERR(file)) {
		kfree(m);
		return PTR_ERR(file);
	}
	m->file = file;
	m->start = c->region_offset;
	m->end = c->region_offset + c->size;
	m->pgoff = (c->flags & MAP_ANONYMOUS) ? 0 : c->offset >> PAGE_SHIFT;
	m->prot = c->prot;
	m->max_prot = object_max_prot(file);

	mutex_lock(&r->lock);
	ret = check_range(r, c->region_offset, c->size);
	if (!ret && (c->prot & ~attach_prot_min(r)))
		ret = -EACCES;	/* a sharer could not be given this access */
	/* MAP_FIXED: whatever was mapped there goes first. */
	if (!ret)
		ret = unmap_locked(r, m->start, c->size);
	if (!ret)
		list_add_tail(&m->list, &r->mappings);
	mutex_unlock(&r->lock);
	if (ret) {
		fput(file);
		kfree(m);
	}
	return ret;
}

int mshare_unmap_range(struct mshare_region *r, unsigned long start,
		       unsigned long size)
{
	int ret;

	mutex_lock(&r->lock);
	ret = unmap_locked(r, start, size);
	mutex_unlock(&r->lock);
	return ret;
}

int mshare_protect_range(struct mshare_region *r, unsigned long start,
			 unsigned long size, unsigned long prot)
{
	unsigned long end = start + size, off, covered = 0;
	struct mshare_mapping *m;
	pgprot_t newprot = mshare_pgprot(prot);
	int ret;

	if (prot & ~PROT_ALL)
		return -EINVAL;
	mutex_lock(&r->lock);
	ret = check_range(r, start, size);
	if (ret)
		goto out;
	if (prot & ~attach_prot_min(r)) {
		ret = -EACCES;
		goto out;
	}
	list_for_each_entry(m, &r->mappings, list) {
		if (min(end, m->end) <= max(start, m->start))
			continue;
		covered += min(end, m->end) - max(start, m->start);
		/* A read-only object stays read-only, as mprotect() keeps it. */
		if (prot & ~m->max_prot)
			ret = -EACCES;
	}
	if (!ret && covered != size)
		ret = -ENOMEM;		/* as mprotect() of a hole */
	if (ret)
		goto out;
	ret = split_mapping_at(r, start);
	if (!ret)
		ret = split_mapping_at(r, end);
	if (ret)
		goto out;
	list_for_each_entry(m, &r->mappings, list)
		if (m->start >= start && m->end <= end)
			m->prot = prot;
	if (!(prot & PROT_ALL)) {
		clear_ptes(r, start, end);	/* refaults get SIGSEGV */
		goto out;
	}
	for (off = start; off < end; off += PAGE_SIZE) {
		struct page *table = r->tables[off >> PMD_SHIFT];
		spinlock_t *ptl;	/* the table's PTE lock */
		pte_t *ptep;
		pte_t old;

		if (!table) {	/* go on at the next slot */
			off = ((off + PMD_SIZE) & PMD_MASK) - PAGE_SIZE;
			continue;
		}
		ptep = table_pte(table, off);
		ptl = ptlock_ptr(table);
		spin_lock(ptl);
		old = ptep_get(ptep);
		if (pte_present(old)) {
			pte_t new;

			/* pte_modify() needs the unexported cc_mask. */
			old = ptep_get_and_clear(&mshare_table_mm, off, ptep);
			new = mk_pte(pte_page(old), newprot);
			if (pte_young(old))
				new = pte_mkyoung(new);
			if (pte_dirty(old))
				new = pte_mkdirty(new);
			if (prot & PROT_WRITE) {
				new = pte_mkdirty(new);
				set_page_dirty(pte_page(old));
			}
			set_pte_at(&mshare_table_mm, off, ptep, new);
		}
		spin_unlock(ptl);
	}
	mshare_flush_all();
out:
	mutex_unlock(&r->lock);
	return ret;
}

/*
 * Table pages the sharers would own without sharing: one PTE table per
 * PMD link, and per PUD link a PMD table plus the PTE tables under it.
 */
static long private_table_pages(struct mshare_region *r)
{
	long pages = atomic_long_read(&r->pmd_links);
	unsigned long i, slot;

	for (slot = 0; r->pud_slots && slot < r->size >> PUD_SHIFT; slot++) {
		long links = atomic_long_read(&r->pud_slots[slot].links);
		long under = 1;

		for (i = 0; links && i < PTRS_PER_PMD; i++)
			under += !!r->tables[slot * PTRS_PER_PMD + i];
		pages += links * under;
	}
	return pages;
}

void mshare_get_stats(struct mshare_region *r, struct mshare_stats *st)
{
	struct mshare_mapping *m;
	long tables, private;

	memset(st, 0, sizeof(*st));
	mutex_lock(&r->lock);
	st->size = r->size;
	list_for_each_entry(m, &r->mappings, list)
		st->mappings++;
	private = private_table_pages(r);
	mutex_unlock(&r->lock);
	st->sharers = atomic_long_read(&r->sharers);
	st->pte_tables = atomic_long_read(&r->nr_tables);
	st->pmd_links = atomic_long_read(&r->pmd_links);
	st->pmd_tables = atomic_long_read(&r->nr_pmd_tables);
	st->pud_links = atomic_long_read(&r->pud_links);
	st->pages = atomic_long_read(&r->pages);
	st->faults = atomic64_read(&r->faults);
	tables = st->pte_tables + st->pmd_tables;
	st->table_bytes_saved = private > tables ? (private - tables) * PAGE_SIZE : 0;
}

/*
 * Count a new attachment with @prot, unless the shared PTEs would give it
 * more access than it asked for. One lock section: a concurrent
 * CREATE_MAPPING or PROTECT sees either the attachment or the refusal.
 */
int mshare_attach_new(struct mshare_region *r, unsigned long prot)
{
	int ret = 0;

	mutex_lock(&r->lock);
	if (mappings_prot_union(r) & ~prot)
		ret = -EACCES;
	else
		r->attach_prot[prot & PROT_ALL]++;
	mutex_unlock(&r->lock);
	if (!ret)
		atomic_long_inc(&r->sharers);
	return ret;
}

void mshare_attach_add(struct mshare_region *r, unsigned long prot, long n)
{
	mutex_lock(&r->lock);
	r->attach_prot[prot & PROT_ALL] += n;
	mutex_unlock(&r->lock);
	atomic_long_add(n, &r->sharers);
}

/* --------------------------------------------------------------- faults */

/* Point the sharer's PMD at the region table, unless it is being unlinked. */
static vm_fault_t link_table(struct mshare_region *r, struct mm_struct *mm,
			     pmd_t *pmd, struct page *table,
			     struct mshare_attach *att)
{
	spinlock_t *ptl = pmd_lock(mm, pmd);
	pmd_t val = READ_ONCE(*pmd);
	vm_fault_t ret = VM_FAULT_NOPAGE;

	if (pmd_none(val)) {
		if (!atomic_read(&att->invalidating)) {
			pmd_populate(mm, pmd, table);
			atomic_long_inc(&r->pmd_links);
		}
	} else if (pmd_pfn(val) != page_to_pfn(table)) {
		ret = VM_FAULT_SIGBUS;	/* not ours: never expected */
	}
	spin_unlock(ptl);
	return ret;
}

static vm_fault_t errno_to_fault(int err)
{
	return err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
}

vm_fault_t mshare_fault(struct mshare_region *r, struct vm_fault *vmf,
			struct mshare_attach *att)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long off = (vmf->address & PAGE_MASK) - vma->vm_start;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
	struct mshare_mapping *m;
	struct mem_cgroup *old_memcg;
	struct page *table, *page;
	vm_fault_t ret;
	pte_t *ptep;

	mutex_lock(&r->lock);
	/* Pages and tables are charged to the creator's cgroup, not ours. */
	old_memcg = set_active_memcg(r->memcg);
	m = mapping_at(r, off);
	if (!m || !(m->prot & PROT_ALL) || (write && !(m->prot & PROT_WRITE))) {
		ret = VM_FAULT_SIGSEGV;
		goto out;
	}
	table = r->tables[off >> PMD_SHIFT];
	if (!table) {
		table = table_alloc(r, &r->nr_tables);
		if (!table) {
			ret = VM_FAULT_OOM;
			goto out;
		}
		r->tables[off >> PMD_SHIFT] = table;
		pmd_table_link(r, off, table);
	}
	ptep = table_pte(table, off);
	if (pte_none(ptep_get(ptep))) {
		pgoff_t index = m->pgoff + ((off - m->start) >> PAGE_SHIFT);
		struct address_space *mapping = m->file->f_mapping;
		spinlock_t *ptl = ptlock_ptr(table);

		if (file_is_shmem(m->file))
			page = shmem_read_mapping_page_gfp(mapping, index,
							   mapping_gfp_mask(mapping));
		else
			page = read_mapping_page(mapping, index, m->file);
		if (IS_ERR(page)) {
			ret = errno_to_fault(PTR_ERR(page));
			goto out;
		}
		if (m->prot & PROT_WRITE)
			set_page_dirty_lock(page);
		spin_lock(ptl);
		if (pte_none(ptep_get(ptep))) {
			pte_t pte = pte_mkyoung(mk_pte(page, mshare_pgprot(m->prot)));

			if (m->prot & PROT_WRITE)
				pte = pte_mkdirty(pte);
			rmap_add(page);
			set_pte_at(&mshare_table_mm, off, ptep, pte);
			atomic_long_inc(&r->pages);
			page = NULL;	/* the PTE owns the reference */
		}
		spin_unlock(ptl);
		if (page)
			put_page(page);
	}
	ret = link_table(r, vma->vm_mm, vmf->pmd, table, att);
	atomic64_inc(&r->faults);
out:
	set_active_memcg(old_memcg);
	mutex_unlock(&r->lock);
	return ret;
}

/*
 * The PUD entry of a sharer for a whole, 1 GiB aligned GiB of the region
 * is empty: point it at the region's PMD table for that GiB (made on first
 * use, with every PTE table the GiB already has). The access is retried
 * and walks the shared tables; a missing PTE table or page comes through
 * mshare_fault() with vmf->pmd inside the region's own PMD table.
 */
vm_fault_t mshare_huge_fault(struct mshare_region *r, struct vm_fault *vmf,
			     enum page_entry_size pe_size,
			     struct mshare_attach *att)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned long base = vmf->address & PUD_MASK;
	struct mshare_pud_slot *slot;
	struct mem_cgroup *old_memcg;
	struct mm_struct *mm = vma->vm_mm;
	spinlock_t *ptl;	/* the sharer's PUD lock */
	unsigned long i;

	if (pe_size != PE_SIZE_PUD || !IS_ALIGNED(vma->vm_start, PUD_SIZE) ||
	    base < vma->vm_start || base + PUD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	slot = pud_slot(r, base - vma->vm_start);
	if (!slot)
		return VM_FAULT_FALLBACK;

	mutex_lock(&r->lock);
	if (!slot->table) {
		old_memcg = set_active_memcg(r->memcg);
		slot->table = table_alloc(r, &r->nr_pmd_tables);
		set_active_memcg(old_memcg);
		if (!slot->table) {
			mutex_unlock(&r->lock);
			return VM_FAULT_OOM;
		}
		for (i = 0; i < PTRS_PER_PMD; i++) {
			unsigned long off = base - vma->vm_start + i * PMD_SIZE;

			if (r->tables[off >> PMD_SHIFT])
				pmd_table_link(r, off, r->tables[off >> PMD_SHIFT]);
		}
	}
	ptl = pud_lock(mm, vmf->pud);
	/* Empty unless another thread got here first, or allocated a PMD. */
	if (pud_none(*vmf->pud) && !atomic_read(&att->invalidating)) {
		pud_populate(mm, vmf->pud, page_address(slot->table));
		atomic_long_inc(&slot->links);
		atomic_long_inc(&r->pud_links);
	}
	spin_unlock(ptl);
	atomic64_inc(&r->faults);
	mutex_unlock(&r->lock);
	return VM_FAULT_NOPAGE;
}

/* A write to a present read-only PTE: allowed only if the range is. */
vm_fault_t mshare_page_mkwrite(struct mshare_region *r, struct vm_fault *vmf)
{
	unsigned long off = (vmf->address & PAGE_MASK) - vmf->vma->vm_start;
	struct mshare_mapping *m;
	bool ok;

	mutex_lock(&r->lock);
	m = mapping_at(r, off);
	ok = m && (m->prot & PROT_WRITE);
	mutex_unlock(&r->lock);
	if (!ok)
		return VM_FAULT_SIGSEGV;
	lock_page(vmf->page);
	set_page_dirty(vmf->page);
	return VM_FAULT_LOCKED;
}

/* ------------------------------------------------- sharer MMU notifier */

/* Clear a sharer PUD entry if it points at a region PMD table. */
static bool unlink_pud(struct mm_struct *mm, pud_t *pud, pud_t val)
{
	struct mshare_region *r = xa_load(&mshare_tables, pud_pfn(val));
	unsigned long slot;
	spinlock_t *ptl;	/* the sharer's PUD lock */

	if (!r)
		return false;
	ptl = pud_lock(mm, pud);
	if (pud_pfn(READ_ONCE(*pud)) == pud_pfn(val)) {
		pud_clear(pud);
		atomic_long_dec(&r->pud_links);
		/* Slots and their tables stay until the region goes. */
		for (slot = 0; slot < r->size >> PUD_SHIFT; slot++)
			if (r->pud_slots[slot].table &&
			    page_to_pfn(r->pud_slots[slot].table) == pud_pfn(val))
				atomic_long_dec(&r->pud_slots[slot].links);
	}
	spin_unlock(ptl);
	return true;
}

/*
 * Clear every PUD and PMD in [start, end) of @mm that points at a region
 * table. Runs before the core walks the range, under its mmap_lock or in
 * exit_mmap(), so the upper tables of the range stay put.
 */
static unsigned long unlink_range(struct mm_struct *mm, unsigned long start,
				  unsigned long end)
{
	unsigned long addr, next, n = 0;

	end = min(end, TASK_SIZE_MAX);
	for (addr = start; addr < end; addr = next) {
		pgd_t *pgd = pgd_offset(mm, addr);
		p4d_t *p4d;
		pud_t *pud;
		pmd_t *pmd;
		pud_t pudval;
		pmd_t val;

		next = pgd_addr_end(addr, end);
		if (!pgd_present(READ_ONCE(*pgd)))
			continue;
		p4d = p4d_offset(pgd, addr);
		next = p4d_addr_end(addr, end);
		if (!p4d_present(READ_ONCE(*p4d)))
			continue;
		pud = pud_offset(p4d, addr);
		next = pud_addr_end(addr, end);
		pudval = READ_ONCE(*pud);
		if (!pud_present(pudval) || pud_leaf(pudval))
			continue;
		if (unlink_pud(mm, pud, pudval)) {
			n++;
			continue;
		}
		pmd = pmd_offset(pud, addr);
		next = pmd_addr_end(addr, end);
		val = READ_ONCE(*pmd);
		if (pmd_present(val) && !pmd_leaf(val)) {
			struct mshare_region *r = xa_load(&mshare_tables,
							  pmd_pfn(val));
			spinlock_t *ptl;	/* the sharer's PMD lock */

			if (!r)
				continue;
			ptl = pmd_lock(mm, pmd);
			if (pmd_pfn(READ_ONCE(*pmd)) == pmd_pfn(val)) {
				pmd_clear(pmd);
				atomic_long_dec(&r->pmd_links);
				n++;
			}
			spin_unlock(ptl);
		}
	}
	return n;
}

static int mn_invalidate_range_start(struct mmu_notifier *mn,
				     const struct mmu_notifier_range *range)
{
	struct mshare_attach *att = container_of(mn, struct mshare_attach, mn);

	atomic_inc(&att->invalidating);
	if (unlink_range(range->mm, range->start, range->end))
		mshare_flush_all();
	return 0;
}

static void mn_invalidate_range_end(struct mmu_notifier *mn,
				    const struct mmu_notifier_range *range)
{
	struct mshare_attach *att = container_of(mn, struct mshare_attach, mn);

	atomic_dec(&att->invalidating);
}

static void mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	if (unlink_range(mm, 0, TASK_SIZE_MAX))
		mshare_flush_all();
}

static struct mmu_notifier *mn_alloc(struct mm_struct *mm)
{
	struct mshare_attach *att = kzalloc(sizeof(*att), GFP_KERNEL);

	return att ? &att->mn : ERR_PTR(-ENOMEM);
}

static void mn_free(struct mmu_notifier *mn)
{
	kfree(container_of(mn, struct mshare_attach, mn));
}

static const struct mmu_notifier_ops mshare_mn_ops = {
	.release = mn_release,
	.invalidate_range_start = mn_invalidate_range_start,
	.invalidate_range_end = mn_invalidate_range_end,
	.alloc_notifier = mn_alloc,
	.free_notifier = mn_free,
};

static struct mshare_attach *to_attach(struct mmu_notifier *mn)
{
	if (IS_ERR(mn))
		return ERR_CAST(mn);
	return container_of(mn, struct mshare_attach, mn);
}

/* With mmap_lock held for write (mmap, mremap). */
struct mshare_attach *mshare_attach_get_locked(struct mm_struct *mm)
{
	return to_attach(mmu_notifier_get_locked(&mshare_mn_ops, mm));
}

/* Without mmap_lock (a forked child's first fault, lock dropped). */
struct mshare_attach *mshare_attach_get(struct mm_struct *mm)
{
	return to_attach(mmu_notifier_get(&mshare_mn_ops, mm));
}

void mshare_attach_put(struct mshare_attach *att)
{
	mmu_notifier_put(&att->mn);
}

void mshare_core_exit(void)
{
	/* Wait for notifiers put by exiting sharers to be freed. */
	mmu_notifier_synchronize();
}
