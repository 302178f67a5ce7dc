// SPDX-License-Identifier: GPL-2.0
/*
 * toyalloc: the pool of real pages, taken as max-order blocks at load
 * time, and the module's life cycle. Each pool page remembers its index
 * in page->private (the pages are ours), so an address finds its toy
 * metadata in O(1).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/vmalloc.h>

#include <compat/mm.h>

#include "toyalloc.h"

#define CREATE_TRACE_POINTS
#include <trace/events/toyalloc.h>

static unsigned int pool_mb = 64;
module_param(pool_mb, uint, 0444);
MODULE_PARM_DESC(pool_mb, "toy pool size in MiB, a multiple of 4 in 4..1024 (default 64)");

struct toyalloc toy;
static struct dentry *toy_dir;

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

void toy_slab_report(struct toy_cache *c, enum toyalloc_slab_error err,
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

/* The pool is made of the real buddy's blocks of the toy's largest order. */
static_assert(TOY_NR_ORDERS <= COMPAT_NR_PAGE_ORDERS);

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

static int alloc_pool(void)
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

static int __init toyalloc_init(void)
{
	int i, ret;

	if (pool_mb < 4 || pool_mb > 1024 || pool_mb % 4) {
		pr_err("pool_mb=%u: must be a multiple of 4 in 4..1024\n", pool_mb);
		return -EINVAL;
	}
	mutex_init(&toy.caches_lock);
	INIT_LIST_HEAD(&toy.caches);
	spin_lock_init(&toy.report_lock);
	ret = alloc_pool();
	if (ret)
		goto err_pool;
	ret = toy_kmalloc_init(&toy.kmalloc, &toy.buddy);
	if (ret)
		goto err_pool;
	for (i = 0; i < TOY_NR_KMALLOC; i++)
		toy_register_cache(&toy.kmalloc.caches[i]);

	toy_dir = debugfs_create_dir("toyalloc", NULL);
	ret = toy_debugfs_init(toy_dir);
	if (!ret)
		ret = toy_replay_init(toy_dir);
	if (ret)
		goto err_debugfs;
	ret = toy_live_init(toy_dir);
	if (ret)
		goto err_replay;
	ret = toy_dev_init();
	if (ret)
		goto err_live;
	return 0;

err_live:
	toy_live_exit();
err_replay:
	toy_replay_exit();
err_debugfs:
	debugfs_remove_recursive(toy_dir);
	toy_kmalloc_destroy(&toy.kmalloc);
err_pool:
	free_pool();
	return ret;
}

static void __exit toyalloc_exit(void)
{
	toy_dev_exit();
	debugfs_remove_recursive(toy_dir);
	toy_live_exit();
	toy_replay_exit();
	toy_kmalloc_destroy(&toy.kmalloc);
	free_pool();
}

module_init(toyalloc_init);
module_exit(toyalloc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Toy buddy and slab allocators on real pages, and live views of the real ones");
