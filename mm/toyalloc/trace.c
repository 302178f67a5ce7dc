// SPDX-License-Identifier: GPL-2.0
/* The toy buddy's tracepoints, toyalloc:toyalloc_{alloc,free,split,merge}. */
#define CREATE_TRACE_POINTS
#include <trace/events/toyalloc.h>
