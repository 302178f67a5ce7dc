// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "toy_model.h"

#define MAX_ORDER (TOYALLOC_NR_ORDERS - 1)

static void unlink_block(struct toy_model *m, long idx, unsigned int o)
{
	if (m->prev[idx] >= 0)
		m->next[m->prev[idx]] = m->next[idx];
	else
		m->head[o] = m->next[idx];
	if (m->next[idx] >= 0)
		m->prev[m->next[idx]] = m->prev[idx];
	else
		m->tail[o] = m->prev[idx];
	m->state[idx] = 0;
	m->nr_free[o]--;
}

static void push_front(struct toy_model *m, long idx, unsigned int o)
{
	m->prev[idx] = -1;
	m->next[idx] = m->head[o];
	if (m->head[o] >= 0)
		m->prev[m->head[o]] = idx;
	else
		m->tail[o] = idx;
	m->head[o] = idx;
}

static void push_back(struct toy_model *m, long idx, unsigned int o)
{
	m->next[idx] = -1;
	m->prev[idx] = m->tail[o];
	if (m->tail[o] >= 0)
		m->next[m->tail[o]] = idx;
	else
		m->head[o] = idx;
	m->tail[o] = idx;
}

static void link_block(struct toy_model *m, long idx, unsigned int o)
{
	m->state[idx] = 1;
	m->order[idx] = o;
	m->nr_free[o]++;
	if (m->policy == TOYALLOC_POLICY_FIFO)
		push_back(m, idx, o);
	else
		push_front(m, idx, o);
}

int toy_model_init(struct toy_model *m, unsigned long nr_pages, int policy)
{
	unsigned long i;

	memset(m, 0, sizeof(*m));
	m->nr_pages = nr_pages;
	m->policy = policy;
	m->state = calloc(nr_pages, 1);
	m->order = calloc(nr_pages, 1);
	m->next = calloc(nr_pages, sizeof(long));
	m->prev = calloc(nr_pages, sizeof(long));
	if (!m->state || !m->order || !m->next || !m->prev)
		return -1;
	for (i = 0; i < TOYALLOC_NR_ORDERS; i++) {
		m->head[i] = -1;
		m->tail[i] = -1;
	}
	/* Whole chunks, lowest address at the head of the list. */
	for (i = 0; i < nr_pages; i += 1UL << MAX_ORDER) {
		m->state[i] = 1;
		m->order[i] = MAX_ORDER;
		m->nr_free[MAX_ORDER]++;
		push_back(m, i, MAX_ORDER);
	}
	return 0;
}

void toy_model_destroy(struct toy_model *m)
{
	free(m->state);
	free(m->order);
	free(m->next);
	free(m->prev);
}

long toy_model_alloc(struct toy_model *m, unsigned int order)
{
	unsigned int o;
	long idx, i;

	for (o = order; o <= MAX_ORDER && !m->nr_free[o]; o++)
		;
	if (o > MAX_ORDER) {
		m->failures_by[order]++;
		return -1;
	}
	idx = m->head[o];
	if (m->policy == TOYALLOC_POLICY_ADDR)
		for (i = m->head[o]; i >= 0; i = m->next[i])
			if (i < idx)
				idx = i;
	unlink_block(m, idx, o);
	while (o > order) {
		m->splits_by[o]++;	/* a block of order o split in two */
		o--;
		m->splits++;
		link_block(m, idx + (1L << o), o);
	}
	m->state[idx] = 2;
	m->order[idx] = order;
	m->allocs_by[order]++;
	return idx;
}

int toy_model_free(struct toy_model *m, unsigned long idx, unsigned int order)
{
	unsigned long buddy;

	if (idx >= m->nr_pages || m->state[idx] != 2 || m->order[idx] != order)
		return -1;
	m->state[idx] = 0;
	m->frees_by[order]++;
	for (; order < MAX_ORDER; order++) {
		buddy = idx ^ (1UL << order);
		if (m->state[buddy] != 1 || m->order[buddy] != order)
			break;
		unlink_block(m, buddy, order);
		m->merges++;
		m->merges_by[order]++;	/* two halves of this order */
		if (buddy < idx)
			idx = buddy;
	}
	link_block(m, idx, order);
	return 0;
}

static unsigned int align_up(unsigned int x, unsigned int a)
{
	return (x + a - 1) / a * a;
}

/* Written from the layout section of toyalloc.rst, not from slab.c. */
int toy_model_cache_layout(unsigned int object_size, unsigned int align, int order,
			   unsigned int flags, struct toy_model_layout *l)
{
	unsigned int off = object_size, slab;

	if (align < 8)
		align = 8;
	if (flags & TOYALLOC_CACHE_RED_ZONE)
		off = align_up(off + 1, 8);		/* at least one red byte */
	if ((flags & TOYALLOC_CACHE_FLAGS) || object_size < 8)
		off = align_up(off, 8) + 8;		/* free pointer outside */
	off = align_up(off, 4) + 8;			/* requested size, state */
	l->size = align_up(off, align);
	if (order < 0) {
		for (order = 0; order < 3; order++) {
			slab = 4096 << order;
			if (slab / l->size >= 8 && (slab % l->size) * 8 <= slab)
				break;
		}
	}
	l->order = order;
	l->objects = (4096u << order) / l->size;
	if (l->objects > 512)
		l->objects = 512;
	return l->objects ? 0 : -1;
}

/* Written from the definitions in allocators.md, not from frag.c. */
int toy_model_unusable(const unsigned long *nr_free, unsigned int order)
{
	unsigned long long free_pages = 0, suitable = 0;
	unsigned int o;

	for (o = 0; o <= MAX_ORDER; o++) {
		free_pages += (unsigned long long)nr_free[o] << o;
		if (o >= order)
			suitable += (unsigned long long)nr_free[o] << (o - order);
	}
	if (!free_pages)
		return 1000;
	return (free_pages - (suitable << order)) * 1000 / free_pages;
}

int toy_model_extfrag(const unsigned long *nr_free, unsigned int order)
{
	unsigned long long free_pages = 0, blocks = 0, suitable = 0;
	unsigned int o;

	for (o = 0; o <= MAX_ORDER; o++) {
		free_pages += (unsigned long long)nr_free[o] << o;
		blocks += nr_free[o];
		if (o >= order)
			suitable += (unsigned long long)nr_free[o] << (o - order);
	}
	if (!blocks)
		return 0;
	if (suitable)
		return -1000;
	return 1000 - (1000 + free_pages * 1000 / (1ULL << order)) / blocks;
}
