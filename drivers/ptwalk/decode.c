// SPDX-License-Identifier: GPL-2.0
/*
 * Naming what page-table entries and the pages behind them hold.
 *
 * Page flags and the mapcount are what /proc/kpageflags and
 * /proc/kpagecount report for the same PFN, by the rules of the running
 * kernel (compat/pageflags.h): on kernels that do not export the huge
 * zero page it is recognised from the walk (a PMD leaf in an anonymous
 * VMA whose page is neither anonymous nor an ordinary THP).
 */
#include <linux/mm.h>

#include <compat/leaf.h>
#include <compat/pageflags.h>
#include <compat/pgtable.h>

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

void ptw_decode_page(unsigned long pfn, bool anon_vma, struct ptw_page *p)
{
	struct page *page;

	memset(p, 0, sizeof(*p));
	if (!pfn_valid(pfn)) {
		p->kpf = BIT_ULL(KPF_NOPAGE);
		return;
	}
	page = pfn_to_page(pfn);
	p->valid = true;
	p->refcount = page_ref_count(page);
	p->mapcount = compat_kpagecount(page);
	p->order = folio_order(page_folio(page));
	p->kpf = compat_kpageflags(page, anon_vma);
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

/*
 * Decode an entry that is neither none nor present to the MMU, at any
 * level, exactly as the kernel does: pte_protnone()-style PROT_NONE
 * first, then the running kernel's soft-leaf decoding (compat/leaf.h:
 * PMDs through the PMD helpers, PTEs and PUDs through the PTE ones; on
 * x86-64 hugetlb's PTE-format PMD entries read the same either way). A PFN
 * entry (migration, hwpoison, device) names the PFN without the young and
 * dirty bits the kernel may keep above it. type and offset are what
 * /proc/PID/pagemap reports for the entry. P4D and PGD entries, and the
 * kernel's own tables, never hold swap entries: those are "other", with
 * the PFN field read as it stands.
 */
void ptw_decode_nonpresent(u64 raw, enum ptw_level level, bool user,
			   struct ptw_entry *e)
{
	static const unsigned int markers[][2] = {
		{ COMPAT_MARKER_UFFD_WP, PTWALK_F_MARKER_UFFD_WP },
		{ COMPAT_MARKER_POISONED, PTWALK_F_MARKER_POISONED },
		{ COMPAT_MARKER_GUARD, PTWALK_F_MARKER_GUARD },
	};
	static const enum ptw_kind kinds[] = {
		[COMPAT_LEAF_SWAP] = PTW_SWAP,
		[COMPAT_LEAF_MIGRATION] = PTW_MIGRATION,
		[COMPAT_LEAF_DEVICE_PRIVATE] = PTW_DEVICE_PRIVATE,
		[COMPAT_LEAF_DEVICE_EXCLUSIVE] = PTW_DEVICE_EXCLUSIVE,
		[COMPAT_LEAF_HWPOISON] = PTW_HWPOISON,
		[COMPAT_LEAF_MARKER] = PTW_MARKER,
		[COMPAT_LEAF_SWAPIN_ERROR] = PTW_OTHER,
		[COMPAT_LEAF_OTHER] = PTW_OTHER,
	};
	struct compat_leaf l;
	unsigned int i;

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
	compat_leaf_decode(raw, level == PTW_PMD, &l);
	e->kind = kinds[l.kind];
	e->swap_type = l.type;
	e->swap_offset = l.offset;
	for (i = 0; i < ARRAY_SIZE(markers); i++)
		if (l.marker & markers[i][0])
			e->flags |= markers[i][1];
	if (l.kind == COMPAT_LEAF_SWAPIN_ERROR)
		e->flags |= PTWALK_F_SWAPIN_ERROR;
	if (l.write)
		e->flags |= PTWALK_F_WRITE;
	if (l.read_exclusive)
		e->flags |= PTWALK_F_READ_EXCLUSIVE;
	/*
	 * The kernel's is_migration_entry_young()/_dirty() ask the
	 * unexported swap_migration_ad_supported() first; where it is false
	 * the kernel never sets these bits, so they read as 0.
	 */
	if (l.kind == COMPAT_LEAF_MIGRATION && (l.offset & SWP_MIG_YOUNG))
		e->flags |= PTWALK_F_YOUNG;
	if (l.kind == COMPAT_LEAF_MIGRATION && (l.offset & SWP_MIG_DIRTY))
		e->flags |= PTWALK_F_DIRTY;
	if (level == PTW_PTE && pte_swp_exclusive(__pte(raw)))
		e->flags |= PTWALK_F_EXCLUSIVE;
	if (l.has_pfn) {
		e->pfn = l.pfn;
		e->swap_offset = l.pfn;
	}
}

/*
 * A present leaf with W=0 and D=1 is a shadow-stack page where the kernel
 * has them (6.6+: write-protecting a dirty entry moves D to SAVED_DIRTY
 * there, so no other leaf looks like this). Before, it is just a dirty
 * read-only page.
 */
unsigned int ptw_leaf_flags(u64 raw)
{
	if (COMPAT_HAS_SHSTK && (raw & (_PAGE_RW | _PAGE_DIRTY)) == _PAGE_DIRTY)
		return PTWALK_F_SHSTK;
	return 0;
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

/*
 * Linux software bits; swap-format entries keep theirs elsewhere. Bit 58
 * is SAVED_DIRTY only in leaves (compat/pgtable.h); leaves and PROT_NONE
 * entries never sit in a PGD, where 6.12+ call it NOPTISHADOW.
 */
static int ptw_format_sw(char *buf, size_t len, u64 raw, enum ptw_kind kind,
			 char sep)
{
	static const struct bit_name sw_bits[] = {
		{ _PAGE_SPECIAL, "SPECIAL" }, { COMPAT_PAGE_UFFD, "UFFD_WP" },
		{ _PAGE_SOFT_DIRTY, "SOFT_DIRTY" },
		{ COMPAT_PAGE_DEVMAP, "DEVMAP" },
		{ COMPAT_PAGE_SAVED_DIRTY, "SAVED_DIRTY" },
	};
	static const struct bit_name swp_bits[] = {
		{ COMPAT_PAGE_SWP_UFFD, "UFFD_WP" },
		{ _PAGE_SWP_SOFT_DIRTY, "SOFT_DIRTY" },
	};
	u64 sw_mask = _PAGE_SPECIAL | COMPAT_PAGE_UFFD | _PAGE_SOFT_DIRTY |
		      COMPAT_PAGE_DEVMAP | COMPAT_PAGE_SAVED_DIRTY;
	char *p = buf;
	int pos;

	if (kind > PTW_PROTNONE)
		return format_bits(buf, len, raw, swp_bits,
				   ARRAY_SIZE(swp_bits), sep);
	if (kind == PTW_PROTNONE) {
		pos = scnprintf(p, len, "PROTNONE");
		if (raw & sw_mask) {
			pos += scnprintf(p + pos, len - pos, "%c", sep);
			pos += format_bits(p + pos, len - pos, raw, sw_bits,
					   ARRAY_SIZE(sw_bits), sep);
		}
		return pos;
	}
	return format_bits(buf, len, raw, sw_bits, ARRAY_SIZE(sw_bits), sep);
}

/* ptw_format_sw() plus what the kernel's helpers read from the entry. */
int ptw_format_entry_sw(char *buf, size_t len, const struct ptw_entry *e,
			char sep)
{
	static const struct bit_name flags[] = {
		{ PTWALK_F_EXCLUSIVE, "EXCLUSIVE" }, { PTWALK_F_WRITE, "WRITE" },
		{ PTWALK_F_READ_EXCLUSIVE, "READ_EXCLUSIVE" },
		{ PTWALK_F_YOUNG, "YOUNG" }, { PTWALK_F_DIRTY, "DIRTY" },
		{ PTWALK_F_MARKER_UFFD_WP, "MARKER_UFFD_WP" },
		{ PTWALK_F_SWAPIN_ERROR, "SWAPIN_ERROR" },
		{ PTWALK_F_MARKER_POISONED, "MARKER_POISONED" },
		{ PTWALK_F_MARKER_GUARD, "MARKER_GUARD" },
		{ PTWALK_F_SHSTK, "SHSTK" },
	};
	int pos = ptw_format_sw(buf, len, e->raw, e->kind, sep);

	if (!e->flags)
		return pos;
	if (pos == 1 && buf[0] == '-')
		pos = 0;
	else
		pos += scnprintf(buf + pos, len - pos, "%c", sep);
	return pos + format_bits(buf + pos, len - pos, e->flags, flags,
				 ARRAY_SIZE(flags), sep);
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
		KPF(PGTABLE), KPF(RESERVED), KPF(MLOCKED),
		{ BIT_ULL(34), COMPAT_KPF_34_NAME },
		KPF(PRIVATE), KPF(PRIVATE_2), KPF(OWNER_PRIVATE), KPF(ARCH),
		{ BIT_ULL(COMPAT_KPF_ARCH_2), "ARCH_2" },
		{ BIT_ULL(COMPAT_KPF_ARCH_3), "ARCH_3" },
#undef KPF
	};

	return format_bits(buf, len, kpf, names, ARRAY_SIZE(names), sep);
}

/*
 * The attributes two 4K leaves must share to count as one contiguous span:
 * every bit but the PFN, with A and D ignored (the MMU sets them per page;
 * SAVED_DIRTY is D of a write-protected leaf).
 */
u64 ptw_pte_attr_key(u64 raw)
{
	return raw & ~PTE_PFN_MASK &
	       ~(u64)(_PAGE_ACCESSED | _PAGE_DIRTY | COMPAT_PAGE_SAVED_DIRTY);
}
