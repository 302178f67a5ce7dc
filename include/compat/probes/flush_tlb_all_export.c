// SPDX-License-Identifier: GPL-2.0
/*
 * symbol: __flush_tlb_all
 * After 6.12 (GPL in 6.1 and 6.12.95; 7.3.4's arch/x86/mm/tlb.c exports it
 * only to the KVM modules): the flush of this CPU's whole TLB, global
 * entries and every PCID included, that mshare runs on every CPU.
 */
#include <asm/tlbflush.h>

void probe_flush_tlb_all_export(void);
void probe_flush_tlb_all_export(void)
{
	__flush_tlb_all();
}
