/* SPDX-License-Identifier: GPL-2.0 */
/* Tracepoints of the toy buddy: toyalloc:toyalloc_{alloc,free,split,merge}. */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM toyalloc

#if !defined(_TRACE_TOYALLOC_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_TOYALLOC_H

#include <linux/tracepoint.h>

TRACE_EVENT(toyalloc_alloc,
	    TP_PROTO(unsigned long idx, unsigned int order, unsigned int policy),
	    TP_ARGS(idx, order, policy),
	    TP_STRUCT__entry(__field(unsigned long, idx)
			     __field(unsigned int, order)
			     __field(unsigned int, policy)),
	    TP_fast_assign(__entry->idx = idx;
			   __entry->order = order;
			   __entry->policy = policy;),
	    TP_printk("idx=%lu order=%u policy=%s", __entry->idx, __entry->order,
		      __print_symbolic(__entry->policy, { 0, "lifo" }, { 1, "fifo" },
				       { 2, "addr" }))
);

/* idx and order of the block freed, split, or produced by a merge. */
DECLARE_EVENT_CLASS(toyalloc_block,
		    TP_PROTO(unsigned long idx, unsigned int order),
		    TP_ARGS(idx, order),
		    TP_STRUCT__entry(__field(unsigned long, idx)
				     __field(unsigned int, order)),
		    TP_fast_assign(__entry->idx = idx;
				   __entry->order = order;),
		    TP_printk("idx=%lu order=%u", __entry->idx, __entry->order)
);

DEFINE_EVENT(toyalloc_block, toyalloc_free,
	     TP_PROTO(unsigned long idx, unsigned int order),
	     TP_ARGS(idx, order)
);

/* An order-@order block split into two halves of order - 1. */
DEFINE_EVENT(toyalloc_block, toyalloc_split,
	     TP_PROTO(unsigned long idx, unsigned int order),
	     TP_ARGS(idx, order)
);

/* Two order-@order buddies merged into the block at @idx. */
DEFINE_EVENT(toyalloc_block, toyalloc_merge,
	     TP_PROTO(unsigned long idx, unsigned int order),
	     TP_ARGS(idx, order)
);

#endif /* _TRACE_TOYALLOC_H */

#include <trace/define_trace.h>
