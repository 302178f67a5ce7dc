/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Flushing this CPU's whole TLB from a module: every PCID, global entries
 * and the paging-structure caches (verified on 6.1, 6.12.95 and 7.3.4).
 *
 * 6.1 and 6.12 export __flush_tlb_all() (GPL). After 6.12 it is exported
 * to the KVM modules only (7.3.4 arch/x86/mm/tlb.c), and no other flush of
 * all CPUs or of another mm is exported. There the module does what the
 * kernel's own native_flush_tlb_global() does (7.3.4 arch/x86/mm/tlb.c):
 * INVPCID type 2 (INVPCID_TYPE_ALL_INCL_GLOBAL, an inline in
 * <asm/invpcid.h>) on CPUs that have it, else toggling CR4.PGE and back
 * with interrupts off (__native_tlb_flush_global()): a change of CR4.PGE
 * invalidates all TLB entries, global ones and those of every PCID, and
 * all paging-structure caches (Intel SDM vol. 3, 4.10.4.1). CR4 is written
 * with an inline "mov" (native_write_cr4() is not exported either), and is
 * back to the value it had, which the kernel's shadow of it (cpu_tlbstate)
 * holds, before an interrupt can look; PGE is not a pinned bit. QEMU's TCG
 * (7.2) has no INVPCID: the test guests take the CR4 path.
 *
 * compat_flush_tlb_all_usable(): whether compat_flush_tlb_all_local() can
 *	run here: always with __flush_tlb_all(); otherwise not in a Xen PV
 *	guest (its kernel may execute neither INVPCID nor a CR4 write: it
 *	flushes through a hypercall), and only on a CPU with INVPCID or PGE.
 *	Checked before a module relies on it (at load).
 * compat_flush_tlb_all_local(): the flush, on this CPU, preemption off
 *	(on_each_cpu() callbacks).
 */
#ifndef _MMSUITE_COMPAT_TLB_H
#define _MMSUITE_COMPAT_TLB_H

#include <linux/irqflags.h>
#include <asm/cpufeature.h>
#include <asm/special_insns.h>
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
	return !boot_cpu_has(X86_FEATURE_XENPV) &&
	       (boot_cpu_has(X86_FEATURE_INVPCID) || boot_cpu_has(X86_FEATURE_PGE));
#endif
}

#ifndef HAVE_FLUSH_TLB_ALL_EXPORT
static inline void compat_flush_tlb_global_cr4(void)
{
	unsigned long flags, cr4;

	local_irq_save(flags);
	cr4 = native_read_cr4();
	asm volatile("mov %0,%%cr4" : : "r" (cr4 ^ X86_CR4_PGE) : "memory");
	asm volatile("mov %0,%%cr4" : : "r" (cr4) : "memory");
	local_irq_restore(flags);
}
#endif

static inline void compat_flush_tlb_all_local(void)
{
#ifdef HAVE_FLUSH_TLB_ALL_EXPORT
	__flush_tlb_all();
#else
	if (boot_cpu_has(X86_FEATURE_INVPCID))
		invpcid_flush_all();
	else
		compat_flush_tlb_global_cr4();
#endif
}

#endif /* _MMSUITE_COMPAT_TLB_H */
