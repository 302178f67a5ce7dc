// SPDX-License-Identifier: GPL-2.0
/*
 * symbol: stable_page_flags
 * After 6.12 (not exported in 6.12.95, EXPORT_SYMBOL_GPL in 7.3.4's
 * fs/proc/page.c): the function behind /proc/kpageflags can be called from
 * a module, so ptwalk reports exactly what /proc/kpageflags would.
 */
#include <linux/page-flags.h>

u64 probe_stable_page_flags(const struct page *page);
u64 probe_stable_page_flags(const struct page *page)
{
	return stable_page_flags(page);
}
