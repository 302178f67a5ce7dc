// SPDX-License-Identifier: GPL-2.0
/*
 * Naming what page-table entries and the pages behind them hold.
 *
 * Page flags follow fs/proc/page.c:stable_page_flags() bit for bit, so a
 * leaf's "kpf" equals what /proc/kpageflags reports for the same PFN,
 * except that the huge zero page is recognised from the walk (a PMD leaf
 * in an anonymous VMA whose page is not anonymous) because the kernel does
 * not export it.
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/hugetlb.h>
#include <linux/kernel-page-flags.h>
#include <linux/ksm.h>
#include <linux/page_idle.h>
#include <linux/swap.h>
#include <linux/swapops.h>

#include "ptwalk.h"

const char *const ptw_level_names[PTW_NR_LEVELS] = {
	[PTW_PTE] = "pte", [PTW_PMD] = "pmd", [PTW_PUD] = "pud",
	[PTW_P4D] = "p4d", [PTW_PGD] = "pgd",
};

const char *const ptw_kind_names[PTW_NR_KINDS] = {
	[PTW_NONE] = "none",
	[PTW_TABLE] = "table",
	[PTW_LEAF] = "leaf",
	[PTW_PROTNONE] = "protnone",
	[PTW_SWAP] = "swap",
	[PTW_MIGRATION] = "migration",
	[PTW_HWPOISON] = "hwpoison",
	[PTW_DEVICE_PRIVATE] = "device_private",
	[PTW_DEVICE_EXCLUSIVE] = "device_exclusive",
	[PTW_MARKER] = "marker",
	[PTW_OTHER] = "other",
	[PTW_REPEAT] = "repeat",
};

static inline u64 kpf_bit(unsigned long flags, int kpf, int pg)
{
	return ((flags >> pg) & 1) ? BIT_ULL(kpf) : 0;
}

void ptw_decode_page(unsigned long pfn, bool anon_vma, struct ptw_page *p)
{
	struct page *page, *head;
	unsigned long k;
	u64 u = 0;

	memset(p, 0, sizeof(*p));
	if (!pfn_valid(pfn)) {
		p->kpf = BIT_ULL(KPF_NOPAGE);
		return;
	}
	page = pfn_to_page(pfn);
	head = compound_head(page);
	k = READ_ONCE(page->flags);
	p->valid = true;
	p->refcount = page_ref_count(page);
	if (!PageSlab(page) && !page_has_type(page))
		p->mapcount = page_mapcount(page);
	if (PageCompound(page))
		p->order = compound_order(head);

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
	} else if (is_zero_pfn(pfn)) {
		u |= BIT_ULL(KPF_ZERO_PAGE);
	}
	if (PageBuddy(page))
		u |= BIT_ULL(KPF_BUDDY);
	if (PageOffline(page))
		u |= BIT_ULL(KPF_OFFLINE);
	if (PageTable(page))
		u |= BIT_ULL(KPF_PGTABLE);
	if (page_is_idle(page))
		u |= BIT_ULL(KPF_IDLE);
	u |= kpf_bit(k, KPF_LOCKED, PG_locked);
	u |= kpf_bit(k, KPF_SLAB, PG_slab);
	if (PageTail(page) && PageSlab(head))
		u |= BIT_ULL(KPF_SLAB);
	u |= kpf_bit(k, KPF_ERROR, PG_error);
	u |= kpf_bit(k, KPF_DIRTY, PG_dirty);
	u |= kpf_bit(k, KPF_UPTODATE, PG_uptodate);
	u |= kpf_bit(k, KPF_WRITEBACK, PG_writeback);
	u |= kpf_bit(k, KPF_LRU, PG_lru);
	u |= kpf_bit(k, KPF_REFERENCED, PG_referenced);
	u |= kpf_bit(k, KPF_ACTIVE, PG_active);
	u |= kpf_bit(k, KPF_RECLAIM, PG_reclaim);
	if (PageSwapCache(page))
		u |= BIT_ULL(KPF_SWAPCACHE);
	u |= kpf_bit(k, KPF_SWAPBACKED, PG_swapbacked);
	u |= kpf_bit(k, KPF_UNEVICTABLE, PG_unevictable);
	u |= kpf_bit(k, KPF_MLOCKED, PG_mlocked);
#ifdef CONFIG_MEMORY_FAILURE
	u |= kpf_bit(k, KPF_HWPOISON, PG_hwpoison);
#endif
	u |= kpf_bit(k, KPF_RESERVED, PG_reserved);
	u |= kpf_bit(k, KPF_MAPPEDTODISK, PG_mappedtodisk);
	u |= kpf_bit(k, KPF_PRIVATE, PG_private);
	u |= kpf_bit(k, KPF_PRIVATE_2, PG_private_2);
	u |= kpf_bit(k, KPF_OWNER_PRIVATE, PG_owner_priv_1);
	u |= kpf_bit(k, KPF_ARCH, PG_arch_1);
	p->kpf = u;
}

/* The PFN field of a leaf entry at @level, as the kernel reads it. */
unsigned long ptw_entry_pfn(enum ptw_level level, u64 raw)
{
	switch (level) {
	case PTW_PTE:
		return pte_pfn(__pte(raw));
	case PTW_PMD:
		return pmd_pfn(__pmd(raw));
	case PTW_PUD:
		return pud_pfn(__pud(raw));
	default:
		return (raw & PTE_PFN_MASK) >> PAGE_SHIFT;
	}
}

/* The arch-independent swap entry in @raw, read as the kernel reads it. */
static swp_entry_t swp_entry_of(enum ptw_level level, u64 raw)
{
#ifdef CONFIG_ARCH_ENABLE_THP_MIGRATION
	if (level == PTW_PMD)
		return pmd_to_swp_entry(__pmd(raw));
#endif
	/* PTEs, and hugetlb's PMD and PUD entries (PTE format at any level) */
	return pte_to_swp_entry(__pte(raw));
}

/*
 * Decode an entry that is neither none nor present to the MMU, at any
 * level, exactly as the kernel does: pte_protnone(), then the swapops.h
 * helpers on pte_to_swp_entry() (pmd_to_swp_entry() for a PMD). A PFN
 * swap entry (migration, hwpoison, device) names swp_offset_pfn(): 6.1
 * keeps a migration entry's young and dirty bits above the PFN. type and
 * offset are what /proc/PID/pagemap reports for the entry. P4D and PGD
 * entries, and the kernel's own tables, never hold swap entries: those are
 * "other", with the PFN field read as it stands.
 */
void ptw_decode_nonpresent(u64 raw, enum ptw_level level, bool user,
			   struct ptw_entry *e)
{
	swp_entry_t entry;

	e->raw = raw;
	e->kind = PTW_OTHER;
	if (!user || level > PTW_PUD) {
		e->pfn = (raw & PTE_PFN_MASK) >> PAGE_SHIFT;
		return;
	}
	if (raw & _PAGE_PROTNONE) {
		e->kind = PTW_PROTNONE;
		e->pfn = ptw_entry_pfn(level, raw);
		return;
	}
	entry = swp_entry_of(level, raw);
	e->swap_type = swp_type(entry);
	e->swap_offset = swp_offset(entry);
	if (is_pte_marker_entry(entry)) {
		e->kind = PTW_MARKER;
		if (pte_marker_get(entry) & PTE_MARKER_UFFD_WP)
			e->swp_flags |= PTW_SWP_MARKER_UFFD_WP;
	} else if (is_migration_entry(entry)) {
		e->kind = PTW_MIGRATION;
		if (is_writable_migration_entry(entry))
			e->swp_flags |= PTW_SWP_WRITE;
		else if (is_readable_exclusive_migration_entry(entry))
			e->swp_flags |= PTW_SWP_READ_EXCLUSIVE;
		/*
		 * is_migration_entry_young()/_dirty() ask the unexported
		 * swap_migration_ad_supported() first; where it is false
		 * the kernel never sets these bits, so they read as 0.
		 */
		if (swp_offset(entry) & SWP_MIG_YOUNG)
			e->swp_flags |= PTW_SWP_YOUNG;
		if (swp_offset(entry) & SWP_MIG_DIRTY)
			e->swp_flags |= PTW_SWP_DIRTY;
	} else if (is_hwpoison_entry(entry)) {
		e->kind = PTW_HWPOISON;
	} else if (is_device_private_entry(entry)) {
		e->kind = PTW_DEVICE_PRIVATE;
		if (is_writable_device_private_entry(entry))
			e->swp_flags |= PTW_SWP_WRITE;
	} else if (is_device_exclusive_entry(entry)) {
		e->kind = PTW_DEVICE_EXCLUSIVE;
		if (is_writable_device_exclusive_entry(entry))
			e->swp_flags |= PTW_SWP_WRITE;
	} else if (is_swapin_error_entry(entry)) {
		e->swp_flags |= PTW_SWP_SWAPIN_ERROR;
	} else if (!non_swap_entry(entry)) {
		e->kind = PTW_SWAP;
	}
	if (level == PTW_PTE && pte_swp_exclusive(__pte(raw)))
		e->swp_flags |= PTW_SWP_EXCLUSIVE;
	if (is_pfn_swap_entry(entry)) {
		e->pfn = swp_offset_pfn(entry);
		e->swap_offset = e->pfn;
	}
}

struct bit_name {
	u64 mask;
	const char *name;
};

static int format_bits(char *buf, size_t len, u64 raw,
		       const struct bit_name *bits, int n, char sep)
{
	int i, pos = 0;

	buf[0] = '\0';
	for (i = 0; i < n && pos < len; i++)
		if (raw & bits[i].mask)
			pos += scnprintf(buf + pos, len - pos, "%s%s",
					 pos ? (char[]){ sep, 0 } : "",
					 bits[i].name);
	if (!pos)
		pos = scnprintf(buf, len, "-");
	return pos;
}

/*
 * Hardware bits of a present entry. Bit 7 is PAT in a 4K PTE and PS in
 * the upper levels; a large leaf keeps PAT in bit 12.
 */
int ptw_format_hw(char *buf, size_t len, u64 raw, enum ptw_level level,
		  bool leaf, char sep)
{
	static const struct bit_name pte_bits[] = {
		{ _PAGE_PRESENT, "P" }, { _PAGE_RW, "RW" }, { _PAGE_USER, "US" },
		{ _PAGE_PWT, "PWT" }, { _PAGE_PCD, "PCD" },
		{ _PAGE_ACCESSED, "A" }, { _PAGE_DIRTY, "D" },
		{ _PAGE_PAT, "PAT" }, { _PAGE_GLOBAL, "G" }, { _PAGE_NX, "NX" },
	};
	static const struct bit_name upper_bits[] = {
		{ _PAGE_PRESENT, "P" }, { _PAGE_RW, "RW" }, { _PAGE_USER, "US" },
		{ _PAGE_PWT, "PWT" }, { _PAGE_PCD, "PCD" },
		{ _PAGE_ACCESSED, "A" }, { _PAGE_DIRTY, "D" },
		{ _PAGE_PSE, "PS" }, { _PAGE_GLOBAL, "G" },
		{ _PAGE_PAT_LARGE, "PAT" }, { _PAGE_NX, "NX" },
	};
	int pos;

	if (level == PTW_PTE)
		pos = format_bits(buf, len, raw, pte_bits,
				  ARRAY_SIZE(pte_bits), sep);
	else
		pos = format_bits(buf, len, raw & ~(leaf ? 0 : _PAGE_PAT_LARGE),
				  upper_bits, ARRAY_SIZE(upper_bits), sep);
	return pos;
}

/* Linux software bits; swap-format entries keep theirs elsewhere. */
int ptw_format_sw(char *buf, size_t len, u64 raw, enum ptw_kind kind,
		  char sep)
{
	static const struct bit_name sw_bits[] = {
		{ _PAGE_SPECIAL, "SPECIAL" }, { _PAGE_UFFD_WP, "UFFD_WP" },
		{ _PAGE_SOFT_DIRTY, "SOFT_DIRTY" }, { _PAGE_DEVMAP, "DEVMAP" },
	};
	static const struct bit_name swp_bits[] = {
		{ _PAGE_SWP_UFFD_WP, "UFFD_WP" },
		{ _PAGE_SWP_SOFT_DIRTY, "SOFT_DIRTY" },
	};
	char *p = buf;
	int pos;

	if (kind > PTW_PROTNONE)
		return format_bits(buf, len, raw, swp_bits,
				   ARRAY_SIZE(swp_bits), sep);
	if (kind == PTW_PROTNONE) {
		pos = scnprintf(p, len, "PROTNONE");
		if (raw & (_PAGE_SPECIAL | _PAGE_UFFD_WP | _PAGE_SOFT_DIRTY |
			   _PAGE_DEVMAP)) {
			pos += scnprintf(p + pos, len - pos, "%c", sep);
			pos += format_bits(p + pos, len - pos, raw, sw_bits,
					   ARRAY_SIZE(sw_bits), sep);
		}
		return pos;
	}
	return format_bits(buf, len, raw, sw_bits, ARRAY_SIZE(sw_bits), sep);
}

/* ptw_format_sw() plus what a swap-format entry's type and offset say. */
int ptw_format_entry_sw(char *buf, size_t len, const struct ptw_entry *e,
			char sep)
{
	static const struct bit_name swp_flags[] = {
		{ PTW_SWP_EXCLUSIVE, "EXCLUSIVE" }, { PTW_SWP_WRITE, "WRITE" },
		{ PTW_SWP_READ_EXCLUSIVE, "READ_EXCLUSIVE" },
		{ PTW_SWP_YOUNG, "YOUNG" }, { PTW_SWP_DIRTY, "DIRTY" },
		{ PTW_SWP_MARKER_UFFD_WP, "MARKER_UFFD_WP" },
		{ PTW_SWP_SWAPIN_ERROR, "SWAPIN_ERROR" },
	};
	int pos = ptw_format_sw(buf, len, e->raw, e->kind, sep);

	if (!e->swp_flags)
		return pos;
	if (pos == 1 && buf[0] == '-')
		pos = 0;
	else
		pos += scnprintf(buf + pos, len - pos, "%c", sep);
	return pos + format_bits(buf + pos, len - pos, e->swp_flags, swp_flags,
				 ARRAY_SIZE(swp_flags), sep);
}

int ptw_format_kpf(char *buf, size_t len, u64 kpf, char sep)
{
	static const struct bit_name names[] = {
#define KPF(x) { BIT_ULL(KPF_##x), #x }
		KPF(LOCKED), KPF(ERROR), KPF(REFERENCED), KPF(UPTODATE),
		KPF(DIRTY), KPF(LRU), KPF(ACTIVE), KPF(SLAB), KPF(WRITEBACK),
		KPF(RECLAIM), KPF(BUDDY), KPF(MMAP), KPF(ANON), KPF(SWAPCACHE),
		KPF(SWAPBACKED), KPF(COMPOUND_HEAD), KPF(COMPOUND_TAIL),
		KPF(HUGE), KPF(UNEVICTABLE), KPF(HWPOISON), KPF(NOPAGE),
		KPF(KSM), KPF(THP), KPF(OFFLINE), KPF(ZERO_PAGE), KPF(IDLE),
		KPF(PGTABLE), KPF(RESERVED), KPF(MLOCKED), KPF(MAPPEDTODISK),
		KPF(PRIVATE), KPF(PRIVATE_2), KPF(OWNER_PRIVATE), KPF(ARCH),
#undef KPF
	};

	return format_bits(buf, len, kpf, names, ARRAY_SIZE(names), sep);
}

/*
 * The attributes two 4K leaves must share to count as one contiguous span:
 * every bit but the PFN, with A and D ignored (the MMU sets them per page).
 */
u64 ptw_pte_attr_key(u64 raw)
{
	return raw & ~PTE_PFN_MASK & ~(u64)(_PAGE_ACCESSED | _PAGE_DIRTY);
}
