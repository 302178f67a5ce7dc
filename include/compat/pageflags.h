/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc/kpageflags and /proc/kpagecount report for a struct page, by
 * the rules of the running kernel's fs/proc/page.c (verified on 6.1,
 * 6.12.95 and 7.3.4).
 *
 * compat_kpageflags():
 * - where stable_page_flags() is exported (after 6.12; 7.3.4), it is
 *   called: the answer is /proc/kpageflags' by construction;
 * - 6.12 (no PG_slab since 6.10): a copy of 6.12's stable_page_flags(),
 *   which reads the folio's flags for every page of it, calls any large
 *   rmappable folio (mTHP too) THP, takes SLAB from the page type and
 *   copies PG_idle;
 * - 6.1 (PG_slab): a copy of 6.1's, which reads each page's own flags.
 * The huge zero page is not exported before 7.3: there the caller says
 * whether the page is mapped in an anonymous VMA, where a large folio
 * that is neither anonymous nor on the LRU (6.1) or not rmappable (6.12)
 * can only be the huge zero page.
 *
 * compat_kpagecount(): 6.1 reports page_mapcount(); 6.12 and 7.3 report
 * fs/proc/internal.h's folio_precise_page_mapcount() (7.3: when
 * CONFIG_PAGE_MAPCOUNT, else folio_average_page_mapcount()), static
 * inlines rebuilt here from public inlines.
 *
 * COMPAT_KPF_34_NAME: bit 34 is MAPPEDTODISK in 6.1, OWNER_2 since 6.12.
 */
#ifndef _MMSUITE_COMPAT_PAGEFLAGS_H
#define _MMSUITE_COMPAT_PAGEFLAGS_H

#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/kernel-page-flags.h>
#include <linux/ksm.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/page_idle.h>
#include <compat_config.h>

#define COMPAT_KPF_ARCH_2	41
#define COMPAT_KPF_ARCH_3	42

static inline u64 compat_kpf_bit(unsigned long flags, int kpf, int pg)
{
	return ((flags >> pg) & 1) ? BIT_ULL(kpf) : 0;
}

/* What 6.1 and 6.12 read alike from the page itself. */
static inline u64 compat_kpf_types(struct page *page)
{
	u64 u = 0;

	/* A free page inside a buddy block is not PageBuddy(). */
	if (PageBuddy(page) ||
	    (page_count(page) == 0 && is_free_buddy_page(page)))
		u |= BIT_ULL(KPF_BUDDY);
	if (PageOffline(page))
		u |= BIT_ULL(KPF_OFFLINE);
	if (PageTable(page))
		u |= BIT_ULL(KPF_PGTABLE);
	return u;
}

/* The flags 6.1 and 6.12 copy alike (from the page, from the folio). */
static inline u64 compat_kpf_copy(unsigned long k)
{
	return compat_kpf_bit(k, KPF_LOCKED, PG_locked) |
	       compat_kpf_bit(k, KPF_DIRTY, PG_dirty) |
	       compat_kpf_bit(k, KPF_UPTODATE, PG_uptodate) |
	       compat_kpf_bit(k, KPF_WRITEBACK, PG_writeback) |
	       compat_kpf_bit(k, KPF_LRU, PG_lru) |
	       compat_kpf_bit(k, KPF_REFERENCED, PG_referenced) |
	       compat_kpf_bit(k, KPF_ACTIVE, PG_active) |
	       compat_kpf_bit(k, KPF_RECLAIM, PG_reclaim) |
	       compat_kpf_bit(k, KPF_SWAPBACKED, PG_swapbacked) |
	       compat_kpf_bit(k, KPF_UNEVICTABLE, PG_unevictable) |
	       compat_kpf_bit(k, KPF_MLOCKED, PG_mlocked) |
	       compat_kpf_bit(k, KPF_RESERVED, PG_reserved) |
	       compat_kpf_bit(k, KPF_PRIVATE, PG_private) |
	       compat_kpf_bit(k, KPF_PRIVATE_2, PG_private_2) |
	       compat_kpf_bit(k, KPF_OWNER_PRIVATE, PG_owner_priv_1) |
	       compat_kpf_bit(k, KPF_ARCH, PG_arch_1);
}

#if defined(HAVE_STABLE_PAGE_FLAGS)

#define COMPAT_KPF_34_NAME	"OWNER_2"

static inline u64 compat_kpageflags(struct page *page, bool anon_vma)
{
	return stable_page_flags(page);
}

#elif defined(HAVE_PG_SLAB)

#define COMPAT_KPF_34_NAME	"MAPPEDTODISK"

static inline u64 compat_kpageflags(struct page *page, bool anon_vma)
{
	unsigned long k = READ_ONCE(page->flags);
	struct page *head = compound_head(page);
	u64 u = 0;

	if (!PageSlab(page) && page_mapped(page))
		u |= BIT_ULL(KPF_MMAP);
	if (PageAnon(page))
		u |= BIT_ULL(KPF_ANON);
	if (PageKsm(page))
		u |= BIT_ULL(KPF_KSM);
	if (PageHead(page))
		u |= BIT_ULL(KPF_COMPOUND_HEAD);
	if (PageTail(page))
		u |= BIT_ULL(KPF_COMPOUND_TAIL);
	if (PageHuge(page)) {
		u |= BIT_ULL(KPF_HUGE);
	} else if (PageTransCompound(page)) {
		if (PageLRU(head) || PageAnon(head))
			u |= BIT_ULL(KPF_THP);
		else if (anon_vma)	/* the huge zero page */
			u |= BIT_ULL(KPF_ZERO_PAGE) | BIT_ULL(KPF_THP);
	} else if (is_zero_pfn(page_to_pfn(page))) {
		u |= BIT_ULL(KPF_ZERO_PAGE);
	}
	u |= compat_kpf_types(page);
	if (page_is_idle(page))
		u |= BIT_ULL(KPF_IDLE);
	u |= compat_kpf_copy(k);
	u |= compat_kpf_bit(k, KPF_SLAB, PG_slab);
	if (PageTail(page) && PageSlab(head))
		u |= BIT_ULL(KPF_SLAB);
	u |= compat_kpf_bit(k, KPF_ERROR, PG_error);
	if (PageSwapCache(page))
		u |= BIT_ULL(KPF_SWAPCACHE);
#ifdef CONFIG_MEMORY_FAILURE
	u |= compat_kpf_bit(k, KPF_HWPOISON, PG_hwpoison);
#endif
	u |= compat_kpf_bit(k, KPF_MAPPEDTODISK, PG_mappedtodisk);
	u |= compat_kpf_bit(k, COMPAT_KPF_ARCH_2, PG_arch_2);
	return u;
}

#else /* 6.12 */

#define COMPAT_KPF_34_NAME	"OWNER_2"

static inline u64 compat_kpageflags(struct page *page, bool anon_vma)
{
	struct folio *folio = page_folio(page);
	unsigned long k = READ_ONCE(folio->flags);
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);
	u64 u = 0;

	if (folio_mapped(folio))
		u |= BIT_ULL(KPF_MMAP);
	if (mapping & PAGE_MAPPING_ANON) {
		u |= BIT_ULL(KPF_ANON);
		if (mapping & PAGE_MAPPING_KSM)
			u |= BIT_ULL(KPF_KSM);
	}
	if (page == &folio->page)
		u |= compat_kpf_bit(k, KPF_COMPOUND_HEAD, PG_head);
	else
		u |= BIT_ULL(KPF_COMPOUND_TAIL);
	if (folio_test_hugetlb(folio))
		u |= BIT_ULL(KPF_HUGE);
	else if (folio_test_large(folio) && folio_test_large_rmappable(folio))
		u |= BIT_ULL(KPF_THP);
	else if (folio_test_large(folio) && anon_vma)	/* huge zero page */
		u |= BIT_ULL(KPF_ZERO_PAGE) | BIT_ULL(KPF_THP);
	else if (is_zero_folio(folio))
		u |= BIT_ULL(KPF_ZERO_PAGE);
	u |= compat_kpf_types(page);
	if (folio_test_slab(folio))
		u |= BIT_ULL(KPF_SLAB);
#if defined(CONFIG_PAGE_IDLE_FLAG) && defined(CONFIG_64BIT)
	u |= compat_kpf_bit(k, KPF_IDLE, PG_idle);
#else
	if (folio_test_idle(folio))
		u |= BIT_ULL(KPF_IDLE);
#endif
	u |= compat_kpf_copy(k);
	if ((k & (BIT(PG_swapbacked) | BIT(PG_swapcache))) ==
	    (BIT(PG_swapbacked) | BIT(PG_swapcache)))
		u |= BIT_ULL(KPF_SWAPCACHE);
#ifdef CONFIG_MEMORY_FAILURE
	if (u & BIT_ULL(KPF_HUGE))
		u |= compat_kpf_bit(k, KPF_HWPOISON, PG_hwpoison);
	else
		u |= compat_kpf_bit(READ_ONCE(page->flags), KPF_HWPOISON,
				    PG_hwpoison);
#endif
	u |= compat_kpf_bit(k, KPF_OWNER_2, PG_owner_2);
#ifdef CONFIG_ARCH_USES_PG_ARCH_2
	u |= compat_kpf_bit(k, COMPAT_KPF_ARCH_2, PG_arch_2);
#endif
#ifdef CONFIG_ARCH_USES_PG_ARCH_3
	u |= compat_kpf_bit(k, COMPAT_KPF_ARCH_3, PG_arch_3);
#endif
	return u;
}

#endif /* compat_kpageflags() */

#if defined(HAVE_PAGE_MAPCOUNT)
static inline int compat_kpagecount(struct page *page)
{
	if (PageSlab(page) || page_has_type(page))
		return 0;
	return page_mapcount(page);
}
#elif defined(CONFIG_NO_PAGE_MAPCOUNT)
/* fs/proc/internal.h:folio_average_page_mapcount() (not built by Debian) */
static inline int compat_kpagecount(struct page *page)
{
	struct folio *folio = page_folio(page);
	int mapcount, entire_mapcount, avg;

	if (!folio_test_large(folio))
		return atomic_read(&folio->_mapcount) + 1;
	mapcount = folio_large_mapcount(folio);
	if (unlikely(mapcount <= 0))
		return 0;
	entire_mapcount = folio_entire_mapcount(folio);
	if (mapcount <= entire_mapcount)
		return entire_mapcount;
	mapcount -= entire_mapcount;
	avg = ((unsigned int)mapcount + folio_large_nr_pages(folio) / 2) >>
	      folio_large_order(folio);
	return max_t(int, avg + entire_mapcount, 1);
}
#else
/* fs/proc/internal.h:folio_precise_page_mapcount() */
static inline int compat_kpagecount(struct page *page)
{
	struct folio *folio = page_folio(page);
	int mapcount = atomic_read(&page->_mapcount) + 1;

	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
}
#endif

#endif /* _MMSUITE_COMPAT_PAGEFLAGS_H */
