/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flushing this CPU's whole TLB from a module: every PCID, global entries
 * and the paging-structure caches (verified on 6.1, 6.12.95 and 7.3.4).
 *
 * 6.1 and 6.12 export __flush_tlb_all() (GPL). After 6.12 it is exported
 * to the KVM modules only (7.3.4 arch/x86/mm/tlb.c), and no other flush of
 * all CPUs or of another mm is exported: INVPCID type 2
 * (INVPCID_TYPE_ALL_INCL_GLOBAL, an inline in <asm/invpcid.h>), which is
 * what the kernel's own native_flush_tlb_global() runs on CPUs that have
 * it (Documentation/mshare-port.rst, sect. 4).
 *
 * compat_flush_tlb_all_usable(): whether compat_flush_tlb_all_local() can
 *	run here: always with __flush_tlb_all(); with INVPCID only if the
 *	CPU has it (not booted with "noinvpcid") and this is not a Xen PV
 *	guest, whose kernel may not execute it. Checked before a module
 *	relies on it (at load).
 * compat_flush_tlb_all_local(): the flush, on this CPU, preemption off
 *	(on_each_cpu() callbacks).
 */
#ifndef _MMSUITE_COMPAT_TLB_H
#define _MMSUITE_COMPAT_TLB_H

#include <asm/cpufeature.h>
#include <asm/tlbflush.h>
#include <compat_config.h>
#ifndef HAVE_FLUSH_TLB_ALL_EXPORT
#include <asm/invpcid.h>
#endif

static inline bool compat_flush_tlb_all_usable(void)
{
#ifdef HAVE_FLUSH_TLB_ALL_EXPORT
	return true;
#else
	return boot_cpu_has(X86_FEATURE_INVPCID) &&
	       !boot_cpu_has(X86_FEATURE_XENPV);
#endif
}

static inline void compat_flush_tlb_all_local(void)
{
#ifdef HAVE_FLUSH_TLB_ALL_EXPORT
	__flush_tlb_all();
#else
	invpcid_flush_all();
#endif
}

#endif /* _MMSUITE_COMPAT_TLB_H */
