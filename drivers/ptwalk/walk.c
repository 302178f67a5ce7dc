// SPDX-License-Identifier: GPL-2.0
/*
 * The page-table walk.
 *
 * Locking (user address spaces): the caller holds mmap_lock for read. In
 * 6.1 a concurrent munmap may free page tables after downgrading its lock
 * to read, but only for VMAs it has already removed from the tree, so the
 * walk only descends below the PGD inside VMAs found under the lock. PTE
 * tables are read under their split lock and huge PMDs under the PMD lock,
 * so a leaf and its struct page are stable while they are decoded. THP
 * collapse needs mmap_lock for write and cannot happen during the walk; a
 * split can, and is handled by reading each PMD once and deciding on that
 * value.
 *
 * Kernel walks read the reader's PGD (its kernel half is the kernel's
 * own) with READ_ONCE and no lock, as ptdump does; x86-64 never frees
 * kernel page tables outside memory hot-remove.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "ptwalk.h"

/*
 * Kernel tables have no per-table lock the walker may take; this one only
 * keeps the locking unconditional (and serialises kernel walks).
 */
static DEFINE_SPINLOCK(ptw_kernel_lock);

static spinlock_t *pte_lock_of(struct ptw_walk *w, pmd_t *pmd)
{
	return w->mm ? pte_lockptr(w->mm, pmd) : &ptw_kernel_lock;
}

static spinlock_t *pmd_lock_of(struct ptw_walk *w, pmd_t *pmd)
{
	return w->mm ? pmd_lockptr(w->mm, pmd) : &ptw_kernel_lock;
}

bool ptw_levels5(void)
{
	return pgtable_l5_enabled();
}

unsigned long ptw_user_end(void)
{
	return TASK_SIZE_MAX;
}

unsigned long ptw_kernel_start(void)
{
	return ~((1UL << __VIRTUAL_MASK_SHIFT) - 1);
}

int ptw_walk_init(struct ptw_walk *w)
{
	w->attr = kcalloc(PTRS_PER_PTE, sizeof(*w->attr), GFP_KERNEL);
	w->pfns = kcalloc(PTRS_PER_PTE, sizeof(*w->pfns), GFP_KERNEL);
	if (!w->attr || !w->pfns) {
		ptw_walk_destroy(w);
		return -ENOMEM;
	}
	return 0;
}

void ptw_walk_destroy(struct ptw_walk *w)
{
	kfree(w->attr);
	kfree(w->pfns);
	w->attr = NULL;
	w->pfns = NULL;
}

static bool walk_should_stop(struct ptw_walk *w)
{
	if (fatal_signal_pending(current))
		w->interrupted = true;
	return w->interrupted || w->budget <= 0;
}

static unsigned long table_pfn(const void *table)
{
	return __pa(table) >> PAGE_SHIFT;
}

/* Report a table page the first time the walk enters it. */
static void enter_table(struct ptw_walk *w, enum ptw_level level,
			const void *table, unsigned long va, unsigned long span)
{
	const u64 *ent = (const u64 *)((unsigned long)table & PAGE_MASK);
	unsigned long first = va & ~(span - 1);
	unsigned long last = first + (span - 1);
	unsigned int i, used = 0;

	if (!w->ops->table ||
	    (w->table_seen[level] && last <= w->table_seen[level]))
		return;
	w->table_seen[level] = last;
	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++)
		used += READ_ONCE(ent[i]) != 0;
	w->ops->table(w, level, table_pfn(table), first, span, used);
}

static void emit_leaf(struct ptw_walk *w, struct vm_area_struct *vma,
		      enum ptw_level level, unsigned long va,
		      unsigned long size, u64 raw, unsigned long pfn,
		      enum ptw_kind kind)
{
	struct ptw_entry e = {
		.va = va, .size = size, .level = level, .kind = kind,
		.raw = raw, .pfn = pfn,
	};
	u64 eff = raw & (_PAGE_RW | _PAGE_USER | _PAGE_NX);
	int l;

	for (l = level + 1; l < PTW_NR_LEVELS; l++) {
		if (l == PTW_P4D && !ptw_levels5())
			continue;
		eff &= w->upper[l] | _PAGE_NX;
		eff |= w->upper[l] & _PAGE_NX;
	}
	e.eff = eff;
	if (w->want_page)
		ptw_decode_page(pfn, vma && vma_is_anonymous(vma), &e.page);
	if (w->ops->entry)
		w->ops->entry(w, &e);
}

static void emit_other(struct ptw_walk *w, enum ptw_level level,
		       unsigned long va, unsigned long size, u64 raw,
		       enum ptw_kind kind, unsigned long pfn)
{
	struct ptw_entry e = {
		.va = va, .size = size, .level = level, .kind = kind,
		.raw = raw, .pfn = pfn,
	};

	if (w->ops->entry)
		w->ops->entry(w, &e);
}

static void walk_pte(struct ptw_walk *w, struct vm_area_struct *vma,
		     pmd_t *pmd, unsigned long addr, unsigned long end)
{
	unsigned long table_va = addr & PMD_MASK;
	unsigned int first = pte_index(addr), idx = first;
	spinlock_t *ptl = pte_lock_of(w, pmd);
	pte_t *start, *pte;

	start = pte_offset_map(pmd, addr);
	spin_lock(ptl);
	enter_table(w, PTW_PTE, start, addr, PMD_SIZE);
	for (pte = start; addr < end; pte++, idx++, addr += PAGE_SIZE) {
		pte_t val = ptep_get(pte);
		struct ptw_entry e = {
			.va = addr, .size = PAGE_SIZE, .level = PTW_PTE,
			.raw = pte_val(val),
		};

		if (pte_none(val))
			continue;
		if (pte_val(val) & _PAGE_PRESENT) {
			w->pfns[idx] = pte_pfn(val);
			w->attr[idx] = ptw_pte_attr_key(pte_val(val)) | 1;
			emit_leaf(w, vma, PTW_PTE, addr, PAGE_SIZE, e.raw,
				  pte_pfn(val), PTW_LEAF);
			continue;
		}
		ptw_decode_nonpresent_pte(val, &e);
		if (e.kind == PTW_PROTNONE)
			emit_leaf(w, vma, PTW_PTE, addr, PAGE_SIZE, e.raw,
				  e.pfn, PTW_PROTNONE);
		else if (w->ops->entry)
			w->ops->entry(w, &e);
	}
	pte_unmap_unlock(start, ptl);
	w->budget -= idx - first;
	if (w->ops->pte_table_done)
		w->ops->pte_table_done(w, table_va, w->attr, w->pfns);
	memset(w->attr + first, 0, (idx - first) * sizeof(*w->attr));
}

/* A huge PMD: decode it under the PMD lock so the page stays put. */
static bool walk_huge_pmd(struct ptw_walk *w, struct vm_area_struct *vma,
			  pmd_t *pmd, unsigned long addr)
{
	spinlock_t *ptl = pmd_lock_of(w, pmd);
	pmd_t val;
	bool huge;

	spin_lock(ptl);
	val = READ_ONCE(*pmd);
	huge = !pmd_none(val) && (pmd_val(val) & _PAGE_PSE);
	if (huge) {
		bool present = pmd_val(val) & _PAGE_PRESENT;

		emit_leaf(w, vma, PTW_PMD, addr & PMD_MASK, PMD_SIZE,
			  pmd_val(val), pmd_pfn(val),
			  present ? PTW_LEAF : PTW_PROTNONE);
	}
	spin_unlock(ptl);
	return huge;
}

static unsigned long walk_pmd(struct ptw_walk *w, struct vm_area_struct *vma,
			      pud_t *pud, unsigned long addr,
			      unsigned long end)
{
	pmd_t *pmd = pmd_offset(pud, addr);
	unsigned long next;

	enter_table(w, PTW_PMD, pmd, addr, PUD_SIZE);
	for (; addr < end; pmd++, addr = next) {
		pmd_t val = READ_ONCE(*pmd);

		next = pmd_addr_end(addr, end);
		w->budget--;
		if (pmd_none(val))
			goto next;
		if (!(pmd_val(val) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE))) {
			swp_entry_t entry = pmd_to_swp_entry(val);
			bool mig = is_pmd_migration_entry(val);

			emit_other(w, PTW_PMD, addr & PMD_MASK, PMD_SIZE,
				   pmd_val(val),
				   mig ? PTW_MIGRATION : PTW_OTHER,
				   mig ? swp_offset(entry) : 0);
			goto next;
		}
		if ((pmd_val(val) & _PAGE_PSE) && walk_huge_pmd(w, vma, pmd, addr))
			goto next;
		/* The MMU follows any present non-PS entry as a table. */
		if (!(pmd_val(READ_ONCE(*pmd)) & _PAGE_PRESENT)) {
			emit_other(w, PTW_PMD, addr & PMD_MASK, PMD_SIZE,
				   pmd_val(val), PTW_OTHER, 0);
			goto next;
		}
		w->upper[PTW_PMD] = pmd_val(val);
		walk_pte(w, vma, pmd, addr, next);
		cond_resched();
next:
		if (next < end && walk_should_stop(w))
			return next;
	}
	return end;
}

static unsigned long walk_pud(struct ptw_walk *w, struct vm_area_struct *vma,
			      p4d_t *p4d, unsigned long addr,
			      unsigned long end)
{
	pud_t *pud = pud_offset(p4d, addr);
	unsigned long next, stop;

	enter_table(w, PTW_PUD, pud, addr, P4D_SIZE);
	for (; addr < end; pud++, addr = next) {
		pud_t val = READ_ONCE(*pud);

		next = pud_addr_end(addr, end);
		w->budget--;
		if (pud_none(val))
			goto next;
		if (pud_val(val) & _PAGE_PSE) {
			bool present = pud_val(val) & _PAGE_PRESENT;

			if (present || (pud_val(val) & _PAGE_PROTNONE))
				emit_leaf(w, vma, PTW_PUD, addr & PUD_MASK,
					  PUD_SIZE, pud_val(val), pud_pfn(val),
					  present ? PTW_LEAF : PTW_PROTNONE);
			else
				emit_other(w, PTW_PUD, addr & PUD_MASK,
					   PUD_SIZE, pud_val(val), PTW_OTHER, 0);
			goto next;
		}
		if (!(pud_val(val) & _PAGE_PRESENT)) {
			emit_other(w, PTW_PUD, addr & PUD_MASK, PUD_SIZE,
				   pud_val(val), PTW_OTHER, 0);
			goto next;
		}
		w->upper[PTW_PUD] = pud_val(val);
		stop = walk_pmd(w, vma, pud, addr, next);
		if (stop < next)
			return stop;
next:
		if (next < end && walk_should_stop(w))
			return next;
	}
	return end;
}

static unsigned long walk_p4d(struct ptw_walk *w, struct vm_area_struct *vma,
			      pgd_t *pgd, unsigned long addr,
			      unsigned long end)
{
	p4d_t *p4d = p4d_offset(pgd, addr);
	unsigned long next, stop;

	if (ptw_levels5())
		enter_table(w, PTW_P4D, p4d, addr, PGDIR_SIZE);
	for (; addr < end; p4d++, addr = next) {
		p4d_t val = READ_ONCE(*p4d);

		next = p4d_addr_end(addr, end);
		if (p4d_none(val))
			goto next;
		if (!(p4d_val(val) & _PAGE_PRESENT)) {
			emit_other(w, PTW_P4D, addr & P4D_MASK, P4D_SIZE,
				   p4d_val(val), PTW_OTHER, 0);
			goto next;
		}
		w->upper[PTW_P4D] = p4d_val(val);
		stop = walk_pud(w, vma, p4d, addr, next);
		if (stop < next)
			return stop;
next:
		if (next < end && walk_should_stop(w))
			return next;
	}
	return end;
}

static unsigned long walk_pgd(struct ptw_walk *w, struct vm_area_struct *vma,
			      unsigned long addr, unsigned long end)
{
	pgd_t *pgd = pgd_offset_pgd(w->pgd, addr);
	unsigned long next, stop;

	enter_table(w, PTW_PGD, w->pgd, addr, 0);
	for (; addr < end; pgd++, addr = next) {
		pgd_t val = READ_ONCE(*pgd);

		next = pgd_addr_end(addr, end);
		/* pgd_none() is always false when P4D is folded at run time. */
		if (!pgd_val(val))
			goto next;
		if (!(pgd_val(val) & _PAGE_PRESENT)) {
			emit_other(w, PTW_PGD, addr & PGDIR_MASK, PGDIR_SIZE,
				   pgd_val(val), PTW_OTHER, 0);
			goto next;
		}
		w->upper[PTW_PGD] = pgd_val(val);
		stop = walk_p4d(w, vma, pgd, addr, next);
		if (stop < next)
			return stop;
next:
		if (next < end && walk_should_stop(w))
			return next;
	}
	return end;
}

/*
 * Walk [start, end) until the chunk budget runs out; return where to go on
 * from (end when done). User walks descend only inside VMAs.
 */
unsigned long ptw_walk_chunk(struct ptw_walk *w, unsigned long start,
			     unsigned long end)
{
	unsigned long addr = start;

	if (!w->mm)
		return walk_pgd(w, NULL, addr, end);

	while (addr < end && !walk_should_stop(w)) {
		struct vm_area_struct *vma = find_vma(w->mm, addr);
		unsigned long vend, stop;

		if (!vma || vma->vm_start >= end)
			return end;
		addr = max(addr, vma->vm_start);
		vend = min(end, vma->vm_end);
		stop = walk_pgd(w, vma, addr, vend);
		addr = stop;
	}
	return addr;
}

static void path_level(struct ptw_path *path, enum ptw_level level,
		       const void *entry, unsigned long index, u64 raw)
{
	int d = path->depth++;

	path->lvl[d].level = level;
	path->lvl[d].table_pfn = table_pfn(entry);
	path->lvl[d].index = index;
	path->lvl[d].e.level = level;
	path->lvl[d].e.raw = raw;
	path->lvl[d].e.kind = raw ? PTW_TABLE : PTW_NONE;
}

/* Mark the deepest level as a leaf and decode the page behind it. */
static void path_leaf(struct ptw_walk *w, struct ptw_path *path,
		      struct vm_area_struct *vma, unsigned long addr,
		      unsigned long size, unsigned long pfn, bool present)
{
	struct ptw_entry *e = &path->lvl[path->depth - 1].e;

	e->kind = present ? PTW_LEAF : PTW_PROTNONE;
	e->va = addr & ~(size - 1);
	e->size = size;
	e->pfn = pfn;
	ptw_decode_page(pfn, vma && vma_is_anonymous(vma), &e->page);
}

/*
 * The entry at every level for one address. User addresses outside any
 * VMA stop at the PGD: their lower tables may be being freed.
 */
void ptw_walk_path(struct ptw_walk *w, unsigned long addr,
		   struct ptw_path *path)
{
	struct vm_area_struct *vma = NULL;
	spinlock_t *ptl;	/* of the PMD, then of the PTE table */
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pte_t *pte;
	u64 v;

	memset(path, 0, sizeof(*path));
	pgd = pgd_offset_pgd(w->pgd, addr);
	v = pgd_val(READ_ONCE(*pgd));
	path_level(path, PTW_PGD, pgd, pgd_index(addr), v);
	if (w->mm) {
		vma = find_vma(w->mm, addr);
		if (!vma || vma->vm_start > addr)
			return;
	}
	if (!(v & _PAGE_PRESENT))
		return;
	p4d = p4d_offset(pgd, addr);
	if (ptw_levels5()) {
		v = p4d_val(READ_ONCE(*p4d));
		path_level(path, PTW_P4D, p4d, p4d_index(addr), v);
		if (!(v & _PAGE_PRESENT))
			return;
	}
	pud = pud_offset(p4d, addr);
	v = pud_val(READ_ONCE(*pud));
	path_level(path, PTW_PUD, pud, pud_index(addr), v);
	if (v & _PAGE_PSE) {
		if (v & (_PAGE_PRESENT | _PAGE_PROTNONE))
			path_leaf(w, path, vma, addr, PUD_SIZE,
				  pud_pfn(__pud(v)), v & _PAGE_PRESENT);
		return;
	}
	if (!(v & _PAGE_PRESENT))
		return;
	pmd = pmd_offset(pud, addr);
	ptl = pmd_lock_of(w, pmd);
	spin_lock(ptl);
	v = pmd_val(READ_ONCE(*pmd));
	path_level(path, PTW_PMD, pmd, pmd_index(addr), v);
	if (v & _PAGE_PSE) {
		if (v & (_PAGE_PRESENT | _PAGE_PROTNONE))
			path_leaf(w, path, vma, addr, PMD_SIZE,
				  pmd_pfn(__pmd(v)), v & _PAGE_PRESENT);
		spin_unlock(ptl);
		return;
	}
	spin_unlock(ptl);
	if (!(v & _PAGE_PRESENT))
		return;
	ptl = pte_lock_of(w, pmd);
	pte = pte_offset_map(pmd, addr);
	spin_lock(ptl);
	v = pte_val(ptep_get(pte));
	path_level(path, PTW_PTE, pte, pte_index(addr), v);
	if (v & (_PAGE_PRESENT | _PAGE_PROTNONE)) {
		path_leaf(w, path, vma, addr, PAGE_SIZE, pte_pfn(__pte(v)),
			  v & _PAGE_PRESENT);
	} else if (v) {
		struct ptw_entry *e = &path->lvl[path->depth - 1].e;

		ptw_decode_nonpresent_pte(__pte(v), e);
		e->va = addr & PAGE_MASK;
		e->size = PAGE_SIZE;
	}
	pte_unmap_unlock(pte, ptl);
}
