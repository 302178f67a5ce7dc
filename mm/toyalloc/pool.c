// SPDX-License-Identifier: GPL-2.0
/*
 * The pool of real pages behind the toy allocators, taken as max-order
 * blocks at load time; the list of caches the views walk; the ring of
 * corruption reports. Each pool page remembers its index in
 * page->private (the pages are ours), so an address finds its toy
 * metadata in O(1). The slab allocator reaches the pool only through
 * the toy_slab_ops it is given.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <compat/mm.h>

#include "toyalloc.h"

/* The pool is made of the real buddy's blocks of the toy's largest order. */
static_assert(TOY_NR_ORDERS <= COMPAT_NR_PAGE_ORDERS);

struct toyalloc toy;

void *toy_pool_addr(unsigned long idx)
{
	return page_address(toy.chunks[idx / TOY_CHUNK_PAGES] + idx % TOY_CHUNK_PAGES);
}

long toy_pool_index(const void *addr)
{
	struct page *page;
	unsigned long idx;

	if (!virt_addr_valid(addr))
		return -1;
	page = virt_to_page(addr);
	idx = page_private(page);
	if (idx >= toy.buddy.nr_pages ||
	    toy.chunks[idx / TOY_CHUNK_PAGES] + idx % TOY_CHUNK_PAGES != page)
		return -1;
	return idx;
}

static void pool_slab_report(struct toy_cache *c, enum toyalloc_slab_error err,
			     long pool_offset)
{
	struct toy_report *r;
	unsigned long flags;

	spin_lock_irqsave(&toy.report_lock, flags);
	r = &toy.reports[toy.nr_reports % TOY_NR_REPORTS];
	r->seq = ++toy.nr_reports;
	strscpy(r->cache, c->name, sizeof(r->cache));
	r->err = err;
	r->pool_offset = pool_offset;
	spin_unlock_irqrestore(&toy.report_lock, flags);
	pr_info_ratelimited("cache %s: %s at pool offset %#lx\n", c->name,
			    toy_slab_error_names[err], pool_offset);
}

static const struct toy_slab_ops pool_slab_ops = {
	.page_addr = toy_pool_addr,
	.page_index = toy_pool_index,
	.report = pool_slab_report,
};

void toy_register_cache(struct toy_cache *c)
{
	mutex_lock(&toy.caches_lock);
	list_add_tail(&c->list, &toy.caches);
	mutex_unlock(&toy.caches_lock);
}

/*
 * Destroy a registered cache (see toy_cache_destroy()) and, if that
 * succeeded, take it off the list, all under caches_lock: a view walks
 * the list holding caches_lock, so it never sees a cache whose per-CPU
 * slots or slabs are being freed, and the caller may kfree() it after.
 */
int toy_destroy_registered_cache(struct toy_cache *c, bool force,
				 unsigned long *live)
{
	int ret;

	mutex_lock(&toy.caches_lock);
	ret = toy_cache_destroy(c, force, live);
	if (!ret)
		list_del_init(&c->list);
	mutex_unlock(&toy.caches_lock);
	return ret;
}

static void free_pool(void)
{
	unsigned long i, j;

	for (i = 0; i < toy.nr_chunks; i++) {
		if (!toy.chunks[i])
			continue;
		for (j = 0; j < TOY_CHUNK_PAGES; j++)
			set_page_private(toy.chunks[i] + j, 0);
		__free_pages(toy.chunks[i], TOY_MAX_ORDER);
	}
	kfree(toy.chunks);
	vfree(toy.meta);
}

static int alloc_pool(unsigned int pool_mb)
{
	unsigned long i, j;

	toy.nr_chunks = pool_mb / ((PAGE_SIZE << TOY_MAX_ORDER) >> 20);
	toy.chunks = kcalloc(toy.nr_chunks, sizeof(*toy.chunks), GFP_KERNEL);
	toy.meta = vzalloc(toy_buddy_meta_size(toy.nr_chunks * TOY_CHUNK_PAGES));
	if (!toy.chunks || !toy.meta)
		return -ENOMEM;
	for (i = 0; i < toy.nr_chunks; i++) {
		toy.chunks[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL,
					    TOY_MAX_ORDER);
		if (!toy.chunks[i])
			return -ENOMEM;
		for (j = 0; j < TOY_CHUNK_PAGES; j++)
			set_page_private(toy.chunks[i] + j, i * TOY_CHUNK_PAGES + j);
	}
	toy_buddy_init(&toy.buddy, toy.nr_chunks * TOY_CHUNK_PAGES, toy.meta,
		       TOYALLOC_POLICY_LIFO);
	return 0;
}

/* Take @pool_mb MiB of real pages and set up the buddy and the kmalloc classes. */
int toy_pool_init(unsigned int pool_mb)
{
	int i, ret;

	mutex_init(&toy.caches_lock);
	INIT_LIST_HEAD(&toy.caches);
	spin_lock_init(&toy.report_lock);
	toy.slab_pool.buddy = &toy.buddy;
	toy.slab_pool.ops = &pool_slab_ops;
	ret = alloc_pool(pool_mb);
	if (!ret)
		ret = toy_kmalloc_init(&toy.kmalloc, &toy.slab_pool);
	if (ret) {
		free_pool();
		return ret;
	}
	for (i = 0; i < TOY_NR_KMALLOC; i++)
		toy_register_cache(&toy.kmalloc.caches[i]);
	return 0;
}

void toy_pool_exit(void)
{
	toy_kmalloc_destroy(&toy.kmalloc);
	free_pool();
}
