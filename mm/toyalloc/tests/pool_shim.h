/* SPDX-License-Identifier: GPL-2.0 */
extern unsigned long toy_trace_counts[4];
extern unsigned long shim_reports[TOYALLOC_NR_ERRORS];
extern const struct toy_slab_ops shim_slab_ops;
void *shim_pool_create(unsigned long nr_pages);
void shim_pool_destroy(void);
