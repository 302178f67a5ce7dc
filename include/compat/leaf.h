/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Software leaf entries (the non-present PTEs and PMDs that are neither
 * none nor PROT_NONE: swap, migration, device, hwpoison, PTE markers),
 * decoded as the running kernel decodes them (verified on 6.1, 6.12.95
 * and 7.3.4).
 *
 * 6.1 and 6.12 read them with swapops.h: pte_to_swp_entry(),
 * pmd_to_swp_entry() (CONFIG_ARCH_ENABLE_THP_MIGRATION) and the
 * is_*_entry() predicates. After 6.12 leafops.h replaces those with
 * softleaf_t and softleaf_*() (PMD entries under
 * CONFIG_ARCH_HAS_PMD_SOFTLEAVES), and device-exclusive entries lose their
 * read/write split. The special swap types are allocated downwards from 31
 * and differ between these kernels; only the kinds below are stable.
 *
 * PTE markers: uffd-wp (6.0); POISONED (6.5: it replaced 6.1's own
 * swapin-error swap type, COMPAT_LEAF_SWAPIN_ERROR here, and UFFDIO_POISON
 * makes it since 6.6); GUARD (6.13: MADV_GUARD_INSTALL).
 */
#ifndef _MMSUITE_COMPAT_LEAF_H
#define _MMSUITE_COMPAT_LEAF_H

#include <linux/bits.h>
#include <linux/pgtable.h>
#include <linux/string.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <compat_config.h>
#ifdef HAVE_SOFTLEAF
#include <linux/leafops.h>
#endif

enum compat_leaf_kind {
	COMPAT_LEAF_SWAP,
	COMPAT_LEAF_MIGRATION,
	COMPAT_LEAF_DEVICE_PRIVATE,
	COMPAT_LEAF_DEVICE_EXCLUSIVE,
	COMPAT_LEAF_HWPOISON,
	COMPAT_LEAF_MARKER,
	COMPAT_LEAF_SWAPIN_ERROR,	/* 6.1 only: a swap type of its own */
	COMPAT_LEAF_OTHER,
};

/* Bits of compat_leaf.marker: the kernel's PTE_MARKER_* values. */
#define COMPAT_MARKER_UFFD_WP	BIT(0)
#define COMPAT_MARKER_POISONED	BIT(1)
#define COMPAT_MARKER_GUARD	BIT(2)

#ifdef PTE_MARKER_POISONED
static_assert(PTE_MARKER_POISONED == COMPAT_MARKER_POISONED);
#endif
#ifdef PTE_MARKER_GUARD
static_assert(PTE_MARKER_GUARD == COMPAT_MARKER_GUARD);
#endif

struct compat_leaf {
	enum compat_leaf_kind kind;
	unsigned int type;	/* swp_type(): the type pagemap reports */
	unsigned long offset;	/* swp_offset(), flags and all */
	bool write;		/* writable migration or device entry */
	bool read_exclusive;	/* readable exclusive migration entry */
	bool has_pfn;		/* migration, device, hwpoison */
	unsigned long pfn;	/* has_pfn: the PFN the entry names */
	unsigned int marker;	/* COMPAT_MARKER_* */
};

#ifdef HAVE_SOFTLEAF
/*
 * @raw is not none and not present (pte_present() includes PROT_NONE);
 * @pmd: it is a PMD entry (THP migration or device-private).
 */
static inline void compat_leaf_decode(u64 raw, bool pmd, struct compat_leaf *l)
{
	softleaf_t entry = pmd ? softleaf_from_pmd(__pmd(raw)) :
				 softleaf_from_pte(__pte(raw));

	memset(l, 0, sizeof(*l));
	l->type = swp_type(entry);
	l->offset = swp_offset(entry);
	switch (softleaf_type(entry)) {
	case SOFTLEAF_SWAP:
		l->kind = COMPAT_LEAF_SWAP;
		break;
	case SOFTLEAF_MIGRATION_WRITE:
		l->write = true;
		fallthrough;
	case SOFTLEAF_MIGRATION_READ:
		l->kind = COMPAT_LEAF_MIGRATION;
		break;
	case SOFTLEAF_MIGRATION_READ_EXCLUSIVE:
		l->kind = COMPAT_LEAF_MIGRATION;
		l->read_exclusive = true;
		break;
	case SOFTLEAF_DEVICE_PRIVATE_WRITE:
		l->write = true;
		fallthrough;
	case SOFTLEAF_DEVICE_PRIVATE_READ:
		l->kind = COMPAT_LEAF_DEVICE_PRIVATE;
		break;
	case SOFTLEAF_DEVICE_EXCLUSIVE:
		l->kind = COMPAT_LEAF_DEVICE_EXCLUSIVE;
		break;
	case SOFTLEAF_HWPOISON:
		l->kind = COMPAT_LEAF_HWPOISON;
		break;
	case SOFTLEAF_MARKER:
		l->kind = COMPAT_LEAF_MARKER;
		l->marker = softleaf_to_marker(entry);
		break;
	default:
		l->kind = COMPAT_LEAF_OTHER;
		break;
	}
	l->has_pfn = softleaf_has_pfn(entry);
	if (l->has_pfn)
		l->pfn = softleaf_to_pfn(entry);
}
#else /* !HAVE_SOFTLEAF */
static inline void compat_leaf_decode(u64 raw, bool pmd, struct compat_leaf *l)
{
	swp_entry_t entry = pte_to_swp_entry(__pte(raw));

#ifdef CONFIG_ARCH_ENABLE_THP_MIGRATION
	if (pmd)
		entry = pmd_to_swp_entry(__pmd(raw));
#endif
	memset(l, 0, sizeof(*l));
	l->type = swp_type(entry);
	l->offset = swp_offset(entry);
	if (is_pte_marker_entry(entry)) {
		l->kind = COMPAT_LEAF_MARKER;
		l->marker = pte_marker_get(entry);
	} else if (is_migration_entry(entry)) {
		l->kind = COMPAT_LEAF_MIGRATION;
		l->write = is_writable_migration_entry(entry);
		l->read_exclusive = is_readable_exclusive_migration_entry(entry);
	} else if (is_hwpoison_entry(entry)) {
		l->kind = COMPAT_LEAF_HWPOISON;
	} else if (is_device_private_entry(entry)) {
		l->kind = COMPAT_LEAF_DEVICE_PRIVATE;
		l->write = is_writable_device_private_entry(entry);
	} else if (is_device_exclusive_entry(entry)) {
		l->kind = COMPAT_LEAF_DEVICE_EXCLUSIVE;
		l->write = is_writable_device_exclusive_entry(entry);
#ifndef PTE_MARKER_POISONED
	} else if (is_swapin_error_entry(entry)) {
		l->kind = COMPAT_LEAF_SWAPIN_ERROR;
#endif
	} else if (!non_swap_entry(entry)) {
		l->kind = COMPAT_LEAF_SWAP;
	} else {
		l->kind = COMPAT_LEAF_OTHER;
	}
	l->has_pfn = is_pfn_swap_entry(entry);
	if (l->has_pfn)
		l->pfn = swp_offset_pfn(entry);
}
#endif /* HAVE_SOFTLEAF */

#endif /* _MMSUITE_COMPAT_LEAF_H */
