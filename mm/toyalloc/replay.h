/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Replay of a recorded kmem:mm_page_alloc / kmem:mm_page_free trace on a
 * private toy buddy. The line parser is shared with the unit tests.
 */
#ifndef _TOYALLOC_REPLAY_H
#define _TOYALLOC_REPLAY_H

#include <linux/types.h>

#define TOY_TRACE_LINE_MAX	1024

enum toy_trace_kind {
	TOY_TRACE_OTHER,	/* another event, a comment, a blank line */
	TOY_TRACE_ALLOC,
	TOY_TRACE_ALLOC_FAILED,	/* page=(null): nothing to replay */
	TOY_TRACE_FREE,
	TOY_TRACE_FREE_BATCHED,	/* the same page's mm_page_free fired too */
	TOY_TRACE_UNRECOGNIZED,	/* names a page event but is none of the forms */
};

struct toy_trace_event {
	enum toy_trace_kind kind;
	unsigned long pfn;
	unsigned int order;
};

/* Parse one line (no newline). -EINVAL if a page event's fields are bad. */
int toy_trace_parse_line(const char *line, size_t len,
			 struct toy_trace_event *ev);

/* "key=value key=value": calls @set for each pair; -EINVAL on bad syntax. */
int toy_parse_settings(const char *buf, size_t len,
		       int (*set)(void *ctx, const char *key, size_t key_len,
				  const char *val, size_t val_len),
		       void *ctx);

/* A decimal or 0x-prefixed hex number filling all of [s, s+len). */
int toy_parse_ulong(const char *s, size_t len, unsigned long *out);

#endif /* _TOYALLOC_REPLAY_H */
