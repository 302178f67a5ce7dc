/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86-64 page-table access that differs between the supported kernels
 * (verified on 6.1, 6.12.95 and 7.3.4).
 *
 * Mapping a PTE table found through a PMD: since 6.5 PTE tables may be
 * freed after an RCU grace period while only mmap_lock for read (or a VMA
 * lock, or nothing: khugepaged's retract_page_tables(), 7.3's PT_RECLAIM)
 * is held, so a walker reads the PMD and the table under rcu_read_lock()
 * and, after taking the PTE lock of the table it found, checks with
 * pmd_same() that the PMD still points there, as pte_offset_map_lock()
 * does. None of those helpers is exported (6.5 made them out of line), so
 * the walker does it itself:
 *
 *	compat_pte_map_begin();
 *	pte = compat_pte_offset_map(pmd, addr, &pmdval);   (NULL: no table)
 *	ptl = pte_lockptr(mm, &pmdval); spin_lock(ptl);
 *	if (!pmd_same(pmdval, compat_pmdp_get_lockless(pmd))) retry;
 *	...
 *	spin_unlock(ptl);
 *	compat_pte_map_end();
 *
 * In 6.1 tables go away only under mmap_lock for writing (pte_offset_map()
 * is a macro there): begin and end are empty, the rest is the same.
 *
 * Software bits:
 * COMPAT_PAGE_UFFD, COMPAT_PAGE_SWP_UFFD: _PAGE_UFFD_WP and
 *	_PAGE_SWP_UFFD_WP, renamed _PAGE_UFFD and _PAGE_SWP_UFFD after 6.12
 *	(same bits, 10 and 2).
 * COMPAT_PAGE_DEVMAP: bit 58 in 6.1, bit 57 from 6.6, gone after 6.12
 *	(0 there).
 * COMPAT_PAGE_SAVED_DIRTY: bit 58 on leaves from 6.6 (0 before): where it
 *	exists, write-protecting a dirty entry moves D there, so a present
 *	leaf with W=0 and D=1 is a shadow-stack page (COMPAT_HAS_SHSTK).
 *	The same bit is NOPTISHADOW in the kernel's PGD entries (6.13,
 *	backported to 6.12.y), which are tables, never leaves.
 *
 * compat_pte_modify(): pte_modify() for a module. x86's reads cc_mask
 *	(_PAGE_CC in _PAGE_CHG_MASK), which no line exports: the entry is
 *	made again from its PFN with the new protection (pfn_pte() and
 *	pte_pfn() handle PROT_NONE's inverted PFN), keeping accessed, dirty
 *	(6.6+: SAVED_DIRTY where write goes, by pte_mkdirty()) and
 *	soft-dirty. Not for special, uffd-wp or non-WB entries, which a
 *	file page's entry in an ordinary shared mapping never is.
 *
 * COMPAT_PTE_TABLES_RCU: PTE tables may be freed after an RCU grace
 *	period with no mmap_lock held for writing, and walkers revalidate
 *	the PMD under RCU (6.5+, see above).
 *
 * The split lock of a page table a module allocates itself
 * (compat_table_ptlock_init(), compat_table_ptlock_free()): in the
 * table's struct page until 6.5, in its struct ptdesc since 6.6; a
 * separate allocation when ALLOC_SPLIT_PTLOCKS (lock debugging), since
 * ptlock_alloc() is not exported.
 */
#ifndef _MMSUITE_COMPAT_PGTABLE_H
#define _MMSUITE_COMPAT_PGTABLE_H

#include <linux/pgtable.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <compat_config.h>

#ifdef _PAGE_UFFD_WP
#define COMPAT_PAGE_UFFD	_PAGE_UFFD_WP
#define COMPAT_PAGE_SWP_UFFD	_PAGE_SWP_UFFD_WP
#else
#define COMPAT_PAGE_UFFD	_PAGE_UFFD
#define COMPAT_PAGE_SWP_UFFD	_PAGE_SWP_UFFD
#endif

#ifdef _PAGE_DEVMAP
#define COMPAT_PAGE_DEVMAP	_PAGE_DEVMAP
#else
#define COMPAT_PAGE_DEVMAP	0ULL
#endif

#ifdef _PAGE_SAVED_DIRTY
#define COMPAT_PAGE_SAVED_DIRTY	_PAGE_SAVED_DIRTY
#define COMPAT_HAS_SHSTK	1
#else
#define COMPAT_PAGE_SAVED_DIRTY	0ULL
#define COMPAT_HAS_SHSTK	0
#endif

/* A PMD read without the PMD lock. */
static inline pmd_t compat_pmdp_get_lockless(pmd_t *pmd)
{
#ifdef HAVE_PMDP_GET_LOCKLESS
	return pmdp_get_lockless(pmd);
#else
	return READ_ONCE(*pmd);
#endif
}

/*
 * The section in which a PTE table found through a lockless PMD read stays
 * valid memory: an RCU read-side section since 6.5.
 */
static inline void compat_pte_map_begin(void)
{
#ifdef HAVE_PTE_OFFSET_MAP_RCU
	rcu_read_lock();
#endif
}

static inline void compat_pte_map_end(void)
{
#ifdef HAVE_PTE_OFFSET_MAP_RCU
	rcu_read_unlock();
#endif
}

/**
 * compat_pte_offset_map() - find the PTE table a PMD points to
 * @pmd: the PMD entry
 * @addr: an address the table maps
 * @pmdvalp: set to the PMD value the table was found through
 *
 * Call between compat_pte_map_begin() and compat_pte_map_end(), as
 * __pte_offset_map() (x86-64 has no HIGHPTE: nothing to unmap).
 *
 * Return: the PTE for @addr; NULL if *@pmd is not a PTE table (none, a
 * huge leaf, a non-present entry).
 */
static inline pte_t *compat_pte_offset_map(pmd_t *pmd, unsigned long addr,
					   pmd_t *pmdvalp)
{
	pmd_t pmdval = compat_pmdp_get_lockless(pmd);

	*pmdvalp = pmdval;
	if (unlikely(!pmd_present(pmdval) || pmd_leaf(pmdval)))
		return NULL;
	return pte_offset_kernel(&pmdval, addr);
}

static inline pte_t compat_pte_modify(pte_t old, pgprot_t prot)
{
	pte_t new = pfn_pte(pte_pfn(old), prot);

	if (pte_young(old))
		new = pte_mkyoung(new);
	if (pte_dirty(old))
		new = pte_mkdirty(new);
	if (pte_soft_dirty(old))
		new = pte_mksoft_dirty(new);
	return new;
}

#ifdef HAVE_PTE_OFFSET_MAP_RCU
#define COMPAT_PTE_TABLES_RCU	1
#else
#define COMPAT_PTE_TABLES_RCU	0
#endif

/* What holds a page table's ->ptl. */
#ifdef HAVE_PTDESC
#define compat_table_desc(page)	page_ptdesc(page)
#else
#define compat_table_desc(page)	(page)
#endif

/* Return: false if the lock could not be allocated. */
static inline bool compat_table_ptlock_init(struct page *page)
{
#if ALLOC_SPLIT_PTLOCKS
	compat_table_desc(page)->ptl = kmalloc(sizeof(spinlock_t), GFP_KERNEL);
	if (!compat_table_desc(page)->ptl)
		return false;
#endif
	spin_lock_init(ptlock_ptr(compat_table_desc(page)));
	return true;
}

/* Before the table's page is freed. */
static inline void compat_table_ptlock_free(struct page *page)
{
#if ALLOC_SPLIT_PTLOCKS
	kfree(compat_table_desc(page)->ptl);
	compat_table_desc(page)->ptl = NULL;
#else
	memset(&compat_table_desc(page)->ptl, 0,
	       sizeof(compat_table_desc(page)->ptl));
#endif
}

#endif /* _MMSUITE_COMPAT_PGTABLE_H */
