// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs views of the toy pool and caches, in the kernel's own formats
 * where one exists (/proc/buddyinfo, extfrag, /proc/slabinfo 2.1), so
 * existing parsers read them.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "frag.h"
#include "toyalloc.h"

static const char * const stat_names[TOY_NR_CACHE_STATS] = {
	[TOY_ALLOC_FAST] = "alloc_fast",
	[TOY_ALLOC_SLOW] = "alloc_slow",
	[TOY_FREE_FAST] = "free_fast",
	[TOY_FREE_SLOW] = "free_slow",
	[TOY_ALLOC_FAILED] = "alloc_failed",
	[TOY_SLAB_NEW] = "slabs_new",
	[TOY_SLAB_FREED] = "slabs_freed",
	[TOY_BYTES_REQUESTED] = "bytes_requested",
	[TOY_BYTES_ALLOCATED] = "bytes_allocated",
};

/* "Node 0, zone   Normal      1      2 ..." as /proc/buddyinfo prints it. */
void toy_print_counts(struct seq_file *m, const char *zone, const unsigned long *nr_free)
{
	int order;

	seq_printf(m, "Node %d, zone %8s ", 0, zone);
	for (order = 0; order < TOY_NR_ORDERS; order++)
		seq_printf(m, "%6lu ", nr_free[order]);
	seq_putc(m, '\n');
}

/*
 * As debugfs extfrag/{unusable_index,extfrag_index} print them ("%d.%03d"
 * and "%2d.%03d" of thousandths), except that a value between -1 and 0
 * keeps its sign: mm/vmstat.c prints -500 as "0.-500", this "-0.500".
 */
void toy_print_indexes(struct seq_file *m, const char *zone, const unsigned long *nr_free,
		       bool unusable)
{
	int order, index;

	seq_printf(m, "Node %d, zone %8s ", 0, zone);
	for (order = 0; order < TOY_NR_ORDERS; order++) {
		index = unusable ? toy_unusable_index(nr_free, TOY_NR_ORDERS, order) :
				   toy_extfrag_index(nr_free, TOY_NR_ORDERS, order);
		seq_printf(m, unusable ? "%s%d.%03d " : "%1s%d.%03d ", index < 0 ? "-" : "",
			   abs(index) / 1000, abs(index) % 1000);
	}
	seq_putc(m, '\n');
}

static int buddyinfo_show(struct seq_file *m, void *v)
{
	unsigned long nr_free[TOY_NR_ORDERS];

	toy_buddy_snapshot(&toy.buddy, nr_free);
	toy_print_counts(m, "toy", nr_free);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(buddyinfo);

static int unusable_index_show(struct seq_file *m, void *v)
{
	unsigned long nr_free[TOY_NR_ORDERS];

	toy_buddy_snapshot(&toy.buddy, nr_free);
	toy_print_indexes(m, "toy", nr_free, true);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(unusable_index);

static int extfrag_index_show(struct seq_file *m, void *v)
{
	unsigned long nr_free[TOY_NR_ORDERS];

	toy_buddy_snapshot(&toy.buddy, nr_free);
	toy_print_indexes(m, "toy", nr_free, false);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(extfrag_index);

/* Counters per order, and allocation latency as log2 nanosecond buckets. */
static int stats_show(struct seq_file *m, void *v)
{
	struct toy_order_stats *st;
	int order, i;

	st = kmalloc_array(TOY_NR_ORDERS, sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	spin_lock(&toy.buddy.lock);
	memcpy(st, toy.buddy.stats, TOY_NR_ORDERS * sizeof(*st));
	spin_unlock(&toy.buddy.lock);

	seq_printf(m, "policy %s pages %lu allocated %lu\n",
		   toy_policy_names[toy.buddy.policy], toy.buddy.nr_pages,
		   toy.buddy.nr_allocated);
	seq_puts(m, "order   allocs    frees   splits   merges failures  latency_ns<=2^k:count\n");
	for (order = 0; order < TOY_NR_ORDERS; order++) {
		seq_printf(m, "%5d %8llu %8llu %8llu %8llu %8llu ", order,
			   st[order].allocs, st[order].frees, st[order].splits,
			   st[order].merges, st[order].failures);
		for (i = 0; i < TOY_LAT_BUCKETS; i++)
			if (st[order].latency[i])
				seq_printf(m, " %d:%llu", i, st[order].latency[i]);
		seq_putc(m, '\n');
	}
	kfree(st);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* One line per block: first page, order, state (and cache of a slab). */
static int blocks_show(struct seq_file *m, void *v)
{
	struct toy_buddy *b = &toy.buddy;
	unsigned long idx, next;
	struct toy_page *p;
	char what[TOYALLOC_NAME_LEN + 8];

	seq_puts(m, "# first_page order state\n");
	for (idx = 0; idx < b->nr_pages; idx = next) {
		spin_lock(&b->lock);
		p = &b->pages[idx];
		next = idx + 1;
		if (p->state != TOY_PAGE_INSIDE && p->order <= TOY_MAX_ORDER)
			next = idx + (1UL << p->order);
		if (p->state == TOY_PAGE_FREE)
			strscpy(what, "free", sizeof(what));
		else if (p->state == TOY_PAGE_ALLOC && p->cache)
			snprintf(what, sizeof(what), "slab:%s", p->cache->name);
		else if (p->state == TOY_PAGE_ALLOC)
			strscpy(what, "allocated", sizeof(what));
		else
			strscpy(what, "lost", sizeof(what));
		seq_printf(m, "%lu %u %s\n", idx, p->state == TOY_PAGE_INSIDE ? 0 : p->order,
			   what);
		spin_unlock(&b->lock);
		cond_resched();
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(blocks);

u64 toy_validate_all(struct seq_file *m)
{
	u64 errors[TOYALLOC_NR_ERRORS], total, cache_total;
	struct toy_buddy_report r;
	struct toy_cache *c;
	int i;

	toy_buddy_validate(&toy.buddy, &r);
	total = toy_buddy_report_total(&r);
	seq_printf(m, "buddy misaligned=%lu outside=%lu overlap=%lu uncoalesced=%lu bad_list=%lu lost_pages=%lu free_pages=%lu allocated_pages=%lu pool_pages=%lu\n",
		   r.misaligned, r.outside, r.overlap, r.uncoalesced, r.bad_list,
		   r.lost_pages, r.free_pages, r.allocated_pages, toy.buddy.nr_pages);
	mutex_lock(&toy.caches_lock);
	list_for_each_entry(c, &toy.caches, list) {
		cache_total = toy_cache_validate_totals(c, errors);
		total += cache_total;
		if (!cache_total)
			continue;
		seq_printf(m, "cache %s", c->name);
		for (i = 0; i < TOYALLOC_NR_ERRORS; i++)
			seq_printf(m, " %s=%llu", toy_slab_error_names[i], errors[i]);
		seq_putc(m, '\n');
	}
	mutex_unlock(&toy.caches_lock);
	seq_printf(m, "errors %llu\n", total);
	return total;
}

static int validate_show(struct seq_file *m, void *v)
{
	toy_validate_all(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(validate);

static int slabinfo_show(struct seq_file *m, void *v)
{
	struct toy_cache_info info;
	struct toy_cache *c;

	seq_puts(m, "slabinfo - version: 2.1\n");
	seq_puts(m, "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	mutex_lock(&toy.caches_lock);
	list_for_each_entry(c, &toy.caches, list) {
		toy_cache_info(c, &info);
		seq_printf(m, "%-17s %6lu %6lu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6lu %6lu %6lu\n",
			   c->name, info.active_objs, info.num_objs, c->size,
			   c->objects, 1 << c->order, 0, 0, 0, info.active_slabs,
			   info.num_slabs, 0UL);
	}
	mutex_unlock(&toy.caches_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(slabinfo);

/* Per cache: layout, fast/slow paths, internal waste, errors. */
static int caches_show(struct seq_file *m, void *v)
{
	struct toy_cache_info info;
	struct toy_cache *c;
	int i;

	mutex_lock(&toy.caches_lock);
	list_for_each_entry(c, &toy.caches, list) {
		toy_cache_info(c, &info);
		seq_printf(m, "%s object_size=%u size=%u align=%u order=%u objects=%u flags=%#x active_objs=%lu num_objs=%lu slabs=%lu partial=%lu",
			   c->name, c->object_size, c->size, c->align, c->order,
			   c->objects, c->flags, info.active_objs, info.num_objs,
			   info.num_slabs, info.partial);
		for (i = 0; i < TOY_NR_CACHE_STATS; i++)
			seq_printf(m, " %s=%llu", stat_names[i], info.stats[i]);
		seq_printf(m, " live_requested=%lld live_waste=%lld",
			   info.live_requested,
			   (s64)info.active_objs * c->size - info.live_requested);
		for (i = 0; i < TOYALLOC_NR_ERRORS; i++)
			if (info.errors_total[i])
				seq_printf(m, " err_%d=%llu", i, info.errors_total[i]);
		seq_putc(m, '\n');
	}
	mutex_unlock(&toy.caches_lock);
	seq_printf(m, "large allocs=%llu bytes_requested=%llu bytes_allocated=%llu\n",
		   toy.kmalloc.large_allocs, toy.kmalloc.large_requested,
		   toy.kmalloc.large_allocated);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(caches);

static int reports_show(struct seq_file *m, void *v)
{
	struct toy_report r;
	u64 seq, first;

	spin_lock_irq(&toy.report_lock);
	seq = toy.nr_reports;
	spin_unlock_irq(&toy.report_lock);
	first = seq > TOY_NR_REPORTS ? seq - TOY_NR_REPORTS + 1 : 1;
	for (; first <= seq; first++) {
		spin_lock_irq(&toy.report_lock);
		r = toy.reports[(first - 1) % TOY_NR_REPORTS];
		spin_unlock_irq(&toy.report_lock);
		if (r.seq != first)
			continue;	/* overwritten meanwhile */
		seq_printf(m, "%llu cache=%s error=\"%s\" pool_offset=%#lx\n", r.seq,
			   r.cache, toy_slab_error_names[r.err], r.pool_offset);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(reports);

static int policy_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < TOYALLOC_NR_POLICIES; i++)
		seq_printf(m, i == toy.buddy.policy ? "[%s]%s" : "%s%s",
			   toy_policy_names[i], i + 1 < TOYALLOC_NR_POLICIES ? " " : "\n");
	return 0;
}

/* A policy name written by a user ("lifo\n"): its number, or -errno. */
static int toy_policy_parse(const char __user *ubuf, size_t count)
{
	char buf[16];

	if (!count || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	return sysfs_match_string(toy_policy_names, strim(buf));
}

static ssize_t policy_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	int policy = toy_policy_parse(ubuf, count), ret;

	if (policy < 0)
		return policy;
	ret = toy_buddy_set_policy(&toy.buddy, policy);
	return ret ? ret : count;
}

TOY_RW_ATTRIBUTE(policy);

int toy_debugfs_init(struct dentry *dir)
{
	debugfs_create_file("buddyinfo", 0444, dir, NULL, &buddyinfo_fops);
	debugfs_create_file("unusable_index", 0444, dir, NULL, &unusable_index_fops);
	debugfs_create_file("extfrag_index", 0444, dir, NULL, &extfrag_index_fops);
	debugfs_create_file("stats", 0444, dir, NULL, &stats_fops);
	debugfs_create_file("blocks", 0444, dir, NULL, &blocks_fops);
	debugfs_create_file("validate", 0444, dir, NULL, &validate_fops);
	debugfs_create_file("slabinfo", 0444, dir, NULL, &slabinfo_fops);
	debugfs_create_file("caches", 0444, dir, NULL, &caches_fops);
	debugfs_create_file("reports", 0444, dir, NULL, &reports_fops);
	debugfs_create_file("policy", 0644, dir, NULL, &policy_fops);
	return 0;
}
