/* SPDX-License-Identifier: GPL-2.0 */
/* The unit tests count tracepoint calls instead of tracing. */
extern unsigned long toy_trace_counts[4];
#define trace_toyalloc_alloc(idx, order, policy)	(toy_trace_counts[0]++)
#define trace_toyalloc_free(idx, order)		(toy_trace_counts[1]++)
#define trace_toyalloc_split(idx, order)	(toy_trace_counts[2]++)
#define trace_toyalloc_merge(idx, order)	(toy_trace_counts[3]++)
