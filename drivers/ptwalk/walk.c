// SPDX-License-Identifier: GPL-2.0
/*
 * The page-table walk.
 *
 * Locking (user address spaces): the caller holds mmap_lock for read.
 * munmap() may free page tables after downgrading its lock (6.1) or
 * without it (VMAs already detached), but only for VMAs no longer in the
 * tree, so the walk only descends below the PGD inside VMAs found under
 * the lock. Since 6.6 a PTE table can still go away under a read-locked
 * VMA: khugepaged's retract_page_tables() (no mmap_lock at all) and
 * collapse_pte_mapped_thp() replace it, 7.3's PT_RECLAIM frees an empty one
 * on MADV_DONTNEED. Those tables are freed after an RCU grace period, so a
 * PTE table is read as pte_offset_map_lock() reads it (walk_pte(): RCU, a
 * snapshot of the PMD, the lock of the table it points to, then pmd_same()
 * under that lock; compat/pgtable.h), and a PMD that is no longer that
 * table by then is read again and decoded as what it has become. Huge
 * PMDs are decoded under the PMD lock, so a leaf and its struct page are
 * stable while they are decoded. Between two chunks anything can change:
 * a chunk only ends at a PMD boundary that nothing of it has touched, so
 * no 4K or 2M leaf made since can begin below the next chunk's start (see
 * emit()).
 *
 * Kernel walks read the reader's PGD (its kernel half is the kernel's
 * own) with READ_ONCE and no lock, as ptdump does without init_mm's
 * mmap_lock, which is not exported: they are best effort. PTE tables are
 * read under RCU like user ones, but the kernel frees tables outside
 * memory hot-remove too (vmap/ioremap huge mappings replacing them:
 * pmd_free_pte_page(), pud_free_pmd_page(); 7.3's set_memory_rox()
 * collapsing the direct map; 7.3's deferred pagetable_free_kernel()), not
 * always after a grace period. The kernel uses some tables
 * for many ranges (KASAN's early shadow maps terabytes with one table per
 * level): a table met again at another address is reported as a "repeat"
 * entry and walked only where it was first met, as mm/ptdump.c skips it.
 *
 * Every entry any view shows is decoded by decode_entry(), so the views
 * cannot disagree on a field they share.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include <compat/pgtable.h>

#include "ptwalk.h"

/*
 * Kernel tables have no per-table lock the walker may take; this one only
 * keeps the locking unconditional (and serialises kernel walks).
 */
static DEFINE_SPINLOCK(ptw_kernel_lock);

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
	xa_init(&w->seen);
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
	xa_destroy(&w->seen);
	kfree(w->attr);
	kfree(w->pfns);
	w->attr = NULL;
	w->pfns = NULL;
}

/* Forget the tables met by an earlier query. */
void ptw_walk_reset(struct ptw_walk *w)
{
	xa_destroy(&w->seen);
	w->pending = false;
	memset(w->attr, 0, PTRS_PER_PTE * sizeof(*w->attr));
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

static unsigned long level_size(enum ptw_level level)
{
	switch (level) {
	case PTW_PTE:
		return PAGE_SIZE;
	case PTW_PMD:
		return PMD_SIZE;
	case PTW_PUD:
		return PUD_SIZE;
	case PTW_P4D:
		return P4D_SIZE;
	default:
		return PGDIR_SIZE;
	}
}

/* Whether the MMU follows @raw at @level to a lower table. */
static bool is_table(enum ptw_level level, u64 raw)
{
	if (level == PTW_PTE || !(raw & _PAGE_PRESENT))
		return false;
	return level > PTW_PUD || !(raw & _PAGE_PSE);
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

/*
 * The walk goes down through the table entry @raw at @level: what the
 * entries down to there allow of RW and US, and whether one forbids
 * execution, for the entries of the table below (computed once per table,
 * not per entry). A P4D folded at run time is the PGD entry again.
 */
static inline void set_upper(struct ptw_walk *w, enum ptw_level level,
			     u64 raw)
{
	u64 allow = level == PTW_PGD ? ~0ULL : w->allow[level];
	u64 nx = level == PTW_PGD ? 0 : w->nx[level];

	if (level != PTW_P4D || ptw_levels5()) {
		allow &= raw | _PAGE_NX;
		nx |= raw & _PAGE_NX;
	}
	w->upper[level] = raw;
	w->allow[level - 1] = allow;
	w->nx[level - 1] = nx;
}

/*
 * Decode the entry @raw at @level for @addr: a leaf or any non-present
 * kind (never none, never a table). Effective permissions come from the
 * entries above it, which the walk recorded with set_upper().
 */
static __always_inline void decode_entry(struct ptw_walk *w,
					 struct vm_area_struct *vma,
					 enum ptw_level level,
					 unsigned long addr, u64 raw,
					 struct ptw_entry *e)
{
	unsigned long size = level_size(level);

	memset(e, 0, sizeof(*e));
	e->va = addr & ~(size - 1);
	e->size = size;
	e->level = level;
	e->raw = raw;
	if (raw & _PAGE_PRESENT) {
		e->kind = PTW_LEAF;
		e->pfn = ptw_entry_pfn(level, raw);
		e->flags = ptw_leaf_flags(raw);
	} else {
		ptw_decode_nonpresent(raw, level, !!w->mm, e);
	}
	/* The kernel deposits a PTE table behind an anonymous huge PMD. */
	e->deposit = level == PTW_PMD && vma && vma_is_anonymous(vma);
	if (e->kind != PTW_LEAF && e->kind != PTW_PROTNONE)
		return;
	e->eff = raw & (_PAGE_RW | _PAGE_USER | _PAGE_NX);
	if (level != PTW_PGD) {
		e->eff &= w->allow[level];
		e->eff |= w->nx[level];
	}
	if (w->want_page)
		ptw_decode_page(e->pfn, vma && vma_is_anonymous(vma), &e->page);
}

/*
 * A leaf that begins below w->floor (where this chunk resumed) appeared
 * after the chunk before ended: only a 1G leaf can, since chunks end at
 * PMD boundaries. Its part from the floor on goes out as 2M pieces, so
 * that records never overlap.
 */
static noinline void emit_pieces(struct ptw_walk *w,
				 struct vm_area_struct *vma,
				 struct ptw_entry *e)
{
	unsigned long va, end = e->va + e->size, base = e->va;
	unsigned long piece = e->level > PTW_PMD ? PMD_SIZE : PAGE_SIZE;

	for (va = ALIGN(w->floor, piece); va < end; va += piece) {
		struct ptw_entry part = *e;

		part.va = va;
		part.size = piece;
		part.part = true;
		if (e->pfn)
			part.pfn = e->pfn + ((va - base) >> PAGE_SHIFT);
		if (w->want_page && (e->kind == PTW_LEAF || e->kind == PTW_PROTNONE))
			ptw_decode_page(part.pfn, vma && vma_is_anonymous(vma),
					&part.page);
		w->ops->entry(w, &part);
	}
}

static __always_inline void emit(struct ptw_walk *w,
				 struct vm_area_struct *vma,
				 struct ptw_entry *e)
{
	if (!w->ops->entry)
		return;
	if (likely(e->va >= w->floor))
		w->ops->entry(w, e);
	else
		emit_pieces(w, vma, e);
}

static __always_inline void decode_and_emit(struct ptw_walk *w,
					    struct vm_area_struct *vma,
					    enum ptw_level level,
					    unsigned long addr, u64 raw)
{
	struct ptw_entry e;

	decode_entry(w, vma, level, addr, raw, &e);
	emit(w, vma, &e);
}

/*
 * A kernel table that an entry at @level for @addr points to, met before
 * at another address: report it once here, as a "repeat", and do not
 * walk it again. Returns false for a table met for the first time (or
 * again at the same address: a chunk seq_file shows twice).
 */
static bool repeated_table(struct ptw_walk *w, enum ptw_level level,
			   unsigned long addr, u64 raw)
{
	unsigned long pfn = (raw & PTE_PFN_MASK) >> PAGE_SHIFT;
	unsigned long va = addr & ~(level_size(level) - 1);
	struct ptw_entry e = {
		.va = va, .size = level_size(level), .level = level,
		.kind = PTW_REPEAT, .raw = raw, .pfn = pfn,
	};
	void *first;

	if (w->mm)
		return false;
	first = xa_load(&w->seen, pfn);
	if (!first) {
		/* Without memory the table is walked as if new. */
		xa_store(&w->seen, pfn, xa_mk_value(va >> PAGE_SHIFT),
			 GFP_KERNEL);
		return false;
	}
	if (xa_to_value(first) == va >> PAGE_SHIFT)
		return false;
	e.swap_offset = xa_to_value(first) << PAGE_SHIFT;
	if (w->ops->entry)
		w->ops->entry(w, &e);
	return true;
}

/* The contiguity report of the PTE table the walk was in, if any. */
static void flush_pte_table(struct ptw_walk *w)
{
	if (!w->pending)
		return;
	w->pending = false;
	if (w->ops->pte_table_done)
		w->ops->pte_table_done(w, w->pending_va, w->attr, w->pfns);
	memset(w->attr, 0, PTRS_PER_PTE * sizeof(*w->attr));
}

/*
 * The PTE table *@pmd points to and its lock, between
 * compat_pte_map_begin() and compat_pte_map_end(); NULL if there is none.
 * Once the caller holds the lock, pmd_same(*@pmdval, *@pmd) says that the
 * table is still in use: pte_offset_map_lock() (6.5+, not exported),
 * open-coded.
 */
static pte_t *find_pte_table(struct ptw_walk *w, pmd_t *pmd,
			     unsigned long addr, pmd_t *pmdval,
			     spinlock_t **ptlp)
{
	pte_t *pte = compat_pte_offset_map(pmd, addr, pmdval);

	if (pte)
		*ptlp = w->mm ? pte_lockptr(w->mm, pmdval) : &ptw_kernel_lock;
	return pte;
}

/* Returns false if *@pmd is no longer a PTE table. */
static bool walk_pte(struct ptw_walk *w, struct vm_area_struct *vma,
		     pmd_t *pmd, unsigned long addr, unsigned long end)
{
	unsigned long table_va = addr & PMD_MASK;
	unsigned int first = pte_index(addr), idx = first;
	spinlock_t *ptl;	/* of the PTE table */
	pte_t *start, *pte;
	pmd_t pmdval;

	compat_pte_map_begin();
	start = find_pte_table(w, pmd, addr, &pmdval, &ptl);
	if (!start) {
		compat_pte_map_end();
		return false;
	}
	spin_lock(ptl);
	if (unlikely(!pmd_same(pmdval, compat_pmdp_get_lockless(pmd)))) {
		spin_unlock(ptl);
		compat_pte_map_end();
		return false;
	}
	/*
	 * Spans are defined over the walked range, not per VMA: the leaves of
	 * one table collect until the walk moves to another table.
	 */
	if (w->pending && w->pending_va != table_va)
		flush_pte_table(w);
	w->pending = true;
	w->pending_va = table_va;
	enter_table(w, PTW_PTE, start, addr, PMD_SIZE);
	for (pte = start; addr < end; pte++, idx++, addr += PAGE_SIZE) {
		pte_t val = ptep_get(pte);

		if (pte_none(val))
			continue;
		if (pte_val(val) & _PAGE_PRESENT) {
			w->pfns[idx] = pte_pfn(val);
			w->attr[idx] = ptw_pte_attr_key(pte_val(val)) | 1;
		}
		decode_and_emit(w, vma, PTW_PTE, addr, pte_val(val));
	}
	spin_unlock(ptl);
	compat_pte_map_end();
	w->budget -= idx - first;
	return true;
}

/*
 * A PMD that is not a table (a huge leaf, PROT_NONE or a swap-format entry
 * such as a THP or hugetlb migration entry): decoded under the PMD lock so
 * that the page stays put. Returns false if it has become a table.
 */
static bool walk_huge_pmd(struct ptw_walk *w, struct vm_area_struct *vma,
			  pmd_t *pmd, unsigned long addr)
{
	spinlock_t *ptl = pmd_lock_of(w, pmd);
	u64 val;
	bool leaf;

	spin_lock(ptl);
	val = pmd_val(READ_ONCE(*pmd));
	leaf = val && !is_table(PTW_PMD, val);
	if (leaf)
		decode_and_emit(w, vma, PTW_PMD, addr, val);
	spin_unlock(ptl);
	return leaf || !val;
}

static unsigned long walk_pmd(struct ptw_walk *w, struct vm_area_struct *vma,
			      pud_t *pud, unsigned long addr,
			      unsigned long end)
{
	pmd_t *pmd = pmd_offset(pud, addr);
	unsigned long next;

	enter_table(w, PTW_PMD, pmd, addr, PUD_SIZE);
	for (; addr < end; pmd++, addr = next) {
		u64 val;

		next = pmd_addr_end(addr, end);
		w->budget--;
again:
		val = pmd_val(compat_pmdp_get_lockless(pmd));
		if (!val)
			goto next;
		if (!is_table(PTW_PMD, val)) {
			if (walk_huge_pmd(w, vma, pmd, addr))
				goto next;
			goto again;	/* it has become a table */
		}
		if (repeated_table(w, PTW_PMD, addr, val))
			goto next;
		set_upper(w, PTW_PMD, val);
		if (!walk_pte(w, vma, pmd, addr, next))
			goto again;	/* no longer a table */
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
		u64 val = pud_val(READ_ONCE(*pud));

		next = pud_addr_end(addr, end);
		w->budget--;
		if (!val)
			goto next;
		if (!is_table(PTW_PUD, val)) {
			decode_and_emit(w, vma, PTW_PUD, addr, val);
			goto next;
		}
		if (repeated_table(w, PTW_PUD, addr, val))
			goto next;
		set_upper(w, PTW_PUD, val);
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
		u64 val = p4d_val(READ_ONCE(*p4d));

		next = p4d_addr_end(addr, end);
		w->budget--;
		if (!val)
			goto next;
		if (!is_table(PTW_P4D, val)) {
			decode_and_emit(w, vma, PTW_P4D, addr, val);
			goto next;
		}
		if (ptw_levels5() && repeated_table(w, PTW_P4D, addr, val))
			goto next;
		set_upper(w, PTW_P4D, val);
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
		u64 val = pgd_val(READ_ONCE(*pgd));

		next = pgd_addr_end(addr, end);
		w->budget--;
		/* pgd_none() is always false when P4D is folded at run time. */
		if (!val)
			goto next;
		if (!is_table(PTW_PGD, val)) {
			decode_and_emit(w, vma, PTW_PGD, addr, val);
			goto next;
		}
		if (repeated_table(w, PTW_PGD, addr, val))
			goto next;
		set_upper(w, PTW_PGD, val);
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
 * from (end when done). User walks descend only inside VMAs. A chunk ends
 * only at a PMD boundary whose PMD it has not touched, so a PTE table is
 * never split between two chunks and a THP that appears between them
 * cannot begin below the next chunk's start.
 */
unsigned long ptw_walk_chunk(struct ptw_walk *w, unsigned long start,
			     unsigned long end)
{
	unsigned long addr = start, walked = start;

	if (!w->mm) {
		addr = walk_pgd(w, NULL, addr, end);
		flush_pte_table(w);
		return addr;
	}
	while (addr < end) {
		struct vm_area_struct *vma = find_vma(w->mm, addr);
		unsigned long vend;

		if (!vma || vma->vm_start >= end) {
			addr = end;
			break;
		}
		addr = max(addr, vma->vm_start);
		if (walk_should_stop(w) &&
		    (w->interrupted || (addr & PMD_MASK) >= walked)) {
			addr = max(addr & PMD_MASK, walked);
			break;
		}
		vend = min(end, vma->vm_end);
		walked = walk_pgd(w, vma, addr, vend);
		addr = walked;
		if (walked < vend)
			break;
	}
	flush_pte_table(w);
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

/*
 * Record the entry for @addr at @level and say whether to descend. An
 * entry that is neither none nor a table is decoded exactly as the walk
 * decodes it for the other views.
 */
static bool path_step(struct ptw_walk *w, struct ptw_path *path,
		      struct vm_area_struct *vma, enum ptw_level level,
		      const void *entry, unsigned long index,
		      unsigned long addr, u64 raw)
{
	path_level(path, level, entry, index, raw);
	if (!raw)
		return false;
	if (is_table(level, raw)) {
		set_upper(w, level, raw);
		return true;
	}
	decode_entry(w, vma, level, addr, raw, &path->lvl[path->depth - 1].e);
	return false;
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
	pmd_t pmdval;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pte_t *pte;
	bool down;

	memset(path, 0, sizeof(*path));
	pgd = pgd_offset_pgd(w->pgd, addr);
	if (w->mm) {
		vma = find_vma(w->mm, addr);
		if (!vma || vma->vm_start > addr) {
			path_level(path, PTW_PGD, pgd, pgd_index(addr),
				   pgd_val(READ_ONCE(*pgd)));
			return;
		}
	}
	if (!path_step(w, path, vma, PTW_PGD, pgd, pgd_index(addr), addr,
		       pgd_val(READ_ONCE(*pgd))))
		return;
	p4d = p4d_offset(pgd, addr);
	if (!ptw_levels5())
		set_upper(w, PTW_P4D, 0);	/* folded: the PGD entry again */
	if (ptw_levels5() &&
	    !path_step(w, path, vma, PTW_P4D, p4d, p4d_index(addr), addr,
		       p4d_val(READ_ONCE(*p4d))))
		return;
	pud = pud_offset(p4d, addr);
	if (!path_step(w, path, vma, PTW_PUD, pud, pud_index(addr), addr,
		       pud_val(READ_ONCE(*pud))))
		return;
	pmd = pmd_offset(pud, addr);
	ptl = pmd_lock_of(w, pmd);
	spin_lock(ptl);
	down = path_step(w, path, vma, PTW_PMD, pmd, pmd_index(addr), addr,
			 pmd_val(READ_ONCE(*pmd)));
	spin_unlock(ptl);
	if (!down)
		return;
	/* If the PMD has changed since, the path ends at what it was. */
	compat_pte_map_begin();
	pte = find_pte_table(w, pmd, addr, &pmdval, &ptl);
	if (pte) {
		spin_lock(ptl);
		if (pmd_same(pmdval, compat_pmdp_get_lockless(pmd)))
			path_step(w, path, vma, PTW_PTE, pte, pte_index(addr),
				  addr, pte_val(ptep_get(pte)));
		spin_unlock(ptl);
	}
	compat_pte_map_end();
}
