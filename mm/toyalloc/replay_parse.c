// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing of trace lines as tracefs (trace, trace_pipe, with or without
 * the irq-info columns), trace-cmd report and perf script print them:
 *
 *   bash-412 [001] ..... 91.25: mm_page_alloc: page=... pfn=0x1316e order=0
 *       migratetype=1 gfp_flags=...   (one line)
 *   bash-412 [001] 91.26: mm_page_free: page=... pfn=0x1316e order=0
 *   sleep-111 [001] 10.00: mm_page_alloc:        page=... pfn=0x2f242 order=1 ...
 *   perf 101 [001] 5.12:        kmem:mm_page_free_batched: page=0xa6f1 pfn=0xa6f1 order=0
 *
 * The event is a word of its own, "name:" or "kmem:name:". A line that
 * names mm_page_alloc or mm_page_free (as a whole word) in any other way
 * is unrecognized, so that the caller can count and report it; everything
 * else (other events, headers, comments) is skipped.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "replay.h"

static const struct {
	const char *name;
	enum toy_trace_kind kind;
} page_events[] = {
	{ "mm_page_alloc:", TOY_TRACE_ALLOC },
	{ "mm_page_free:", TOY_TRACE_FREE },
	{ "mm_page_free_batched:", TOY_TRACE_FREE_BATCHED },
};

#define TOY_TRACE_SYSTEM	"kmem:"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* Does [line, end) contain @word as a whole word? */
static bool has_word(const char *line, const char *end, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = line; p + n <= end; p++)
		if (!memcmp(p, word, n) && (p == line || !is_word(p[-1])) &&
		    (p + n == end || !is_word(p[n])))
			return true;
	return false;
}

int toy_parse_ulong(const char *s, size_t len, unsigned long *out)
{
	unsigned int base = 10, digit;
	unsigned long v = 0;
	size_t i = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == len)
		return -EINVAL;
	for (; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			digit = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			digit = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			digit = c - 'A' + 10;
		else
			return -EINVAL;
		if (v > (ULONG_MAX - digit) / base)
			return -ERANGE;
		v = v * base + digit;
	}
	*out = v;
	return 0;
}

/* Find " key=" in [p, end) and return its value's extent. */
static int find_field(const char *p, const char *end, const char *key,
		      const char **val, size_t *val_len)
{
	size_t klen = strlen(key);
	const char *q;

	for (q = p; q + klen <= end; q++) {
		if ((q == p || is_space(q[-1])) && !memcmp(q, key, klen)) {
			*val = q + klen;
			for (q = *val; q < end && !is_space(*q); q++)
				;
			*val_len = q - *val;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *find_event(const char *line, size_t len, enum toy_trace_kind *kind)
{
	const char *end = line + len, *p;
	size_t i, n;

	for (p = line; p < end; p++) {
		const char *name = p;

		if (p != line && !is_space(p[-1]))
			continue;
		n = strlen(TOY_TRACE_SYSTEM);
		if (p + n <= end && !memcmp(p, TOY_TRACE_SYSTEM, n))
			name += n;
		for (i = 0; i < ARRAY_SIZE(page_events); i++) {
			n = strlen(page_events[i].name);
			if (name + n <= end && !memcmp(name, page_events[i].name, n) &&
			    (name + n == end || is_space(name[n]))) {
				*kind = page_events[i].kind;
				return name + n;
			}
		}
	}
	return NULL;
}

int toy_trace_parse_line(const char *line, size_t len,
			 struct toy_trace_event *ev)
{
	const char *fields, *end = line + len, *val;
	unsigned long order;
	size_t val_len;

	ev->kind = TOY_TRACE_OTHER;
	ev->pfn = 0;
	ev->order = 0;
	if (!len || line[0] == '#')
		return 0;
	fields = find_event(line, len, &ev->kind);
	if (!fields) {
		if (has_word(line, end, "mm_page_alloc") || has_word(line, end, "mm_page_free"))
			ev->kind = TOY_TRACE_UNRECOGNIZED;
		return 0;
	}
	if (find_field(fields, end, "pfn=", &val, &val_len) ||
	    toy_parse_ulong(val, val_len, &ev->pfn) ||
	    find_field(fields, end, "order=", &val, &val_len) ||
	    toy_parse_ulong(val, val_len, &order) || order > 63) {
		ev->kind = TOY_TRACE_OTHER;
		return -EINVAL;
	}
	ev->order = order;
	/* A failed allocation prints page=(null) and pfn=0x0. */
	if (ev->kind == TOY_TRACE_ALLOC && !ev->pfn)
		ev->kind = TOY_TRACE_ALLOC_FAILED;
	return 0;
}

int toy_parse_settings(const char *buf, size_t len,
		       int (*set)(void *ctx, const char *key, size_t key_len,
				  const char *val, size_t val_len),
		       void *ctx)
{
	const char *p = buf, *end = buf + len, *key, *eq;
	int ret;

	for (;;) {
		while (p < end && (is_space(*p) || *p == '\n'))
			p++;
		if (p == end)
			return 0;
		key = p;
		while (p < end && !is_space(*p) && *p != '\n')
			p++;
		eq = memchr(key, '=', p - key);
		if (!eq || eq == key || eq + 1 == p)
			return -EINVAL;
		ret = set(ctx, key, eq - key, eq + 1, p - eq - 1);
		if (ret)
			return ret;
	}
}
