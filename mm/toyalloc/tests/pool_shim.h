/* SPDX-License-Identifier: GPL-2.0 */
extern unsigned long toy_trace_counts[4];
extern unsigned long shim_reports[TOYALLOC_NR_ERRORS];
void *shim_pool_create(unsigned long nr_pages);
void shim_pool_destroy(void);
