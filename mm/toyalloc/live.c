// SPDX-License-Identifier: GPL-2.0
/*
 * Live instrumentation of the real allocators (debugfs toyalloc/live/):
 * probes on the kmem:* tracepoints, found by name because the page
 * allocator's are not exported, count page allocations per order and
 * migratetype, kmalloc bytes requested versus allocated per size class,
 * and the busiest call sites; a periodic work item samples the real
 * zones' free blocks per order into a ring for a fragmentation series.
 *
 * Probes run in any context an allocation or free runs in: task,
 * softirq, hardirq and NMI (7.3's alloc_pages_nolock() fires
 * mm_page_alloc from any context). Up to 6.12 the tracepoint calls them
 * with preemption disabled; 7.3 calls them under SRCU with preemption
 * enabled. Each probe therefore disables preemption itself for its whole
 * body, on every kernel: count_site() computes a slot in this CPU's table
 * and updates it later, and must not migrate in between. Counters are per
 * CPU; this_cpu and _local operations are single instructions on x86, so
 * an interrupt or NMI nesting on the same CPU loses nothing. Probes take
 * no lock and allocate nothing.
 */
#include <linux/debugfs.h>
#include <linux/hash.h>
#include <linux/mmzone.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <trace/events/kmem.h>

#include <compat/mm.h>

#include "frag.h"
#include "toyalloc.h"

#define LIVE_CLASSES	14		/* 8 .. 8192, then larger */
#define LIVE_SITE_BITS	8
#define LIVE_SITES	BIT(LIVE_SITE_BITS)
#define LIVE_SITE_PROBES 8
#define LIVE_TOP_SITES	20
#define LIVE_RING	1024
#define LIVE_MT		6		/* migratetypes shown */
#define LIVE_ORDERS	COMPAT_NR_PAGE_ORDERS	/* the real buddy's orders */

/* Every migratetype has its column (6 with CMA and memory isolation). */
static_assert(MIGRATE_TYPES <= LIVE_MT);

static const unsigned int class_sizes[LIVE_CLASSES - 1] = {
	8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192,
};

struct live_site {
	unsigned long site;
	unsigned long count;
};

struct live_cpu {
	unsigned long page_alloc[LIVE_ORDERS][LIVE_MT];
	unsigned long page_free[LIVE_ORDERS];
	unsigned long kmalloc_count[LIVE_CLASSES];
	unsigned long kmalloc_requested[LIVE_CLASSES];
	unsigned long kmalloc_allocated[LIVE_CLASSES];
	unsigned long cache_allocs;
	struct live_site sites[LIVE_SITES];
	unsigned long other_sites;
};

struct zone_sample {
	u64 seq, time_ns;
	int nid;
	const char *zone;
	unsigned long nr_free[LIVE_ORDERS];
};

static struct live_cpu __percpu *live_cpu;
static DEFINE_MUTEX(live_lock);		/* enable state, probes, interval */
static bool live_enabled;
static unsigned int interval_ms = 1000;

static DEFINE_SPINLOCK(ring_lock);
static struct zone_sample *ring;
static u64 ring_seq;
static void sample_work_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(sample_work, sample_work_fn);

/* Called with preemption disabled. */
static void count_site(unsigned long site)
{
	struct live_cpu *lc = this_cpu_ptr(live_cpu);
	unsigned int h = hash_long(site, LIVE_SITE_BITS), i, j;
	unsigned long cur;

	for (i = 0; i < LIVE_SITE_PROBES; i++) {
		j = (h + i) & (LIVE_SITES - 1);
		cur = READ_ONCE(lc->sites[j].site);
		if (!cur)
			cur = cmpxchg_local(&lc->sites[j].site, 0, site) ?: site;
		if (cur == site) {
			this_cpu_inc(live_cpu->sites[j].count);
			return;
		}
	}
	this_cpu_inc(live_cpu->other_sites);
}

/* Classes up to 192 bytes by 8-byte steps, as kmalloc's size_index. */
static const u8 small_class[192 / 8 + 1] = {
	0, 0, 1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4,
	5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6,
};

/* No loop: this runs on every kmalloc while the probes are on. */
static unsigned int class_of(size_t bytes_alloc)
{
	if (bytes_alloc <= 192)
		return small_class[DIV_ROUND_UP(bytes_alloc, 8)];
	if (bytes_alloc <= 8192)
		return fls(bytes_alloc - 1) - 1;
	return LIVE_CLASSES - 1;
}

static void probe_page_alloc(void *data, struct page *page, unsigned int order,
			     gfp_t gfp, int migratetype)
{
	if (!page || order >= LIVE_ORDERS)
		return;
	migratetype = clamp(migratetype, 0, LIVE_MT - 1);
	preempt_disable_notrace();
	this_cpu_inc(live_cpu->page_alloc[order][migratetype]);
	preempt_enable_notrace();
}

/*
 * Every freed page passes free_pages_prepare(), which fires mm_page_free;
 * mm_page_free_batched fires for the same pages again when they were
 * freed in a batch (free_unref_page_list(), free_unref_folios()), so it
 * is not counted.
 */
static void probe_page_free(void *data, struct page *page, unsigned int order)
{
	preempt_disable_notrace();
	this_cpu_inc(live_cpu->page_free[min_t(unsigned int, order, LIVE_ORDERS - 1)]);
	preempt_enable_notrace();
}

static void probe_kmalloc(void *data, unsigned long call_site, const void *ptr,
			  size_t bytes_req, size_t bytes_alloc, gfp_t gfp, int node)
{
	unsigned int c = class_of(bytes_alloc);

	if (!ptr)
		return;
	preempt_disable_notrace();
	this_cpu_inc(live_cpu->kmalloc_count[c]);
	this_cpu_add(live_cpu->kmalloc_requested[c], bytes_req);
	this_cpu_add(live_cpu->kmalloc_allocated[c], bytes_alloc);
	count_site(call_site);
	preempt_enable_notrace();
}

static void probe_cache_alloc(void *data, unsigned long call_site, const void *ptr,
			      struct kmem_cache *s, gfp_t gfp, int node)
{
	if (!ptr)
		return;
	preempt_disable_notrace();
	this_cpu_inc(live_cpu->cache_allocs);
	count_site(call_site);
	preempt_enable_notrace();
}

static struct live_probe {
	const char *name;
	void *probe;
	struct tracepoint *tp;
} probes[] = {
	{ "mm_page_alloc", probe_page_alloc },
	{ "mm_page_free", probe_page_free },
	{ "kmalloc", probe_kmalloc },
	{ "kmem_cache_alloc", probe_cache_alloc },
};

static void find_tracepoint(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (!strcmp(tp->name, probes[i].name))
			probes[i].tp = tp;
}

static void unregister_probes(unsigned int n)
{
	while (n--)
		tracepoint_probe_unregister(probes[n].tp, probes[n].probe, NULL);
	tracepoint_synchronize_unregister();
}

static int live_enable(bool enable)
{
	unsigned int i;
	int cpu, ret = 0;

	if (enable == live_enabled)
		return 0;
	if (!enable) {
		unregister_probes(ARRAY_SIZE(probes));
		live_enabled = false;
		cancel_delayed_work_sync(&sample_work);
		return 0;
	}
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(live_cpu, cpu), 0, sizeof(struct live_cpu));
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		ret = probes[i].tp ? tracepoint_probe_register(probes[i].tp,
							       probes[i].probe, NULL) : -ENOENT;
		if (ret) {
			unregister_probes(i);
			return ret;
		}
	}
	live_enabled = true;
	schedule_delayed_work(&sample_work, 0);
	return 0;
}

/* Record every populated zone's free blocks per order. */
static void take_zone_samples(void)
{
	struct zone_sample *s;
	struct zone *zone;
	u64 now = ktime_get_ns();
	int nid, z, o;

	for_each_online_node(nid) {
		for (z = 0; z < MAX_NR_ZONES; z++) {
			zone = &NODE_DATA(nid)->node_zones[z];
			if (!populated_zone(zone))
				continue;
			spin_lock_irq(&ring_lock);
			s = &ring[ring_seq % LIVE_RING];
			s->seq = ++ring_seq;
			s->time_ns = now;
			s->nid = nid;
			s->zone = zone->name;
			for (o = 0; o < LIVE_ORDERS; o++)
				/* Unlocked, as a sample: /proc/buddyinfo locks. */
				s->nr_free[o] = data_race(READ_ONCE(zone->free_area[o].nr_free));
			spin_unlock_irq(&ring_lock);
		}
	}
}

static void sample_work_fn(struct work_struct *work)
{
	take_zone_samples();
	if (READ_ONCE(live_enabled))
		schedule_delayed_work(&sample_work, msecs_to_jiffies(READ_ONCE(interval_ms)));
}

static int enable_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", READ_ONCE(live_enabled));
	return 0;
}

static ssize_t enable_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	bool enable;
	int ret;

	ret = kstrtobool_from_user(ubuf, count, &enable);
	if (ret)
		return ret;
	mutex_lock(&live_lock);
	ret = live_enable(enable);
	mutex_unlock(&live_lock);
	return ret ? ret : count;
}

static int interval_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%u\n", READ_ONCE(interval_ms));
	return 0;
}

static ssize_t interval_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	unsigned int ms;
	int ret;

	ret = kstrtouint_from_user(ubuf, count, 0, &ms);
	if (ret)
		return ret;
	if (ms < 10 || ms > 60000)
		return -EINVAL;
	WRITE_ONCE(interval_ms, ms);
	return count;
}

static ssize_t snapshot_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	take_zone_samples();
	return count;
}

TOY_RW_ATTRIBUTE(enable);
TOY_RW_ATTRIBUTE(interval);

static const struct file_operations snapshot_fops = {
	.owner = THIS_MODULE,
	.write = snapshot_write,
	.llseek = noop_llseek,
};

/* Per-order rows are summed one order at a time: small frames under KASAN. */
static void show_page_counts(struct seq_file *m)
{
	unsigned long alloc[LIVE_MT], freed;
	struct live_cpu *lc;
	int cpu, o, t;

	for (o = 0; o < LIVE_ORDERS; o++) {
		memset(alloc, 0, sizeof(alloc));
		freed = 0;
		for_each_possible_cpu(cpu) {
			lc = per_cpu_ptr(live_cpu, cpu);
			for (t = 0; t < LIVE_MT; t++)
				alloc[t] += READ_ONCE(lc->page_alloc[o][t]);
			freed += READ_ONCE(lc->page_free[o]);
		}
		seq_printf(m, "page_alloc order=%d", o);
		for (t = 0; t < LIVE_MT; t++)
			seq_printf(m, " mt%d=%lu", t, alloc[t]);
		seq_printf(m, " page_free=%lu\n", freed);
	}
}

static int counters_show(struct seq_file *m, void *v)
{
	unsigned long cnt[LIVE_CLASSES] = {}, req[LIVE_CLASSES] = {}, all[LIVE_CLASSES] = {};
	unsigned long cache_allocs = 0;
	struct live_cpu *lc;
	int cpu, t;

	for_each_possible_cpu(cpu) {
		lc = per_cpu_ptr(live_cpu, cpu);
		for (t = 0; t < LIVE_CLASSES; t++) {
			cnt[t] += READ_ONCE(lc->kmalloc_count[t]);
			req[t] += READ_ONCE(lc->kmalloc_requested[t]);
			all[t] += READ_ONCE(lc->kmalloc_allocated[t]);
		}
		cache_allocs += READ_ONCE(lc->cache_allocs);
	}
	seq_printf(m, "enabled %d\n", READ_ONCE(live_enabled));
	show_page_counts(m);
	for (t = 0; t < LIVE_CLASSES; t++) {
		if (t < LIVE_CLASSES - 1)
			seq_printf(m, "kmalloc class=%u", class_sizes[t]);
		else
			seq_puts(m, "kmalloc class=large");
		seq_printf(m, " count=%lu bytes_requested=%lu bytes_allocated=%lu waste=%lu\n",
			   cnt[t], req[t], all[t], all[t] - req[t]);
	}
	seq_printf(m, "kmem_cache_alloc %lu\n", cache_allocs);
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(counters);

static int cmp_sites(const void *a, const void *b)
{
	const struct live_site *x = a, *y = b;

	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* Merge the per-CPU tables and print the busiest call sites. */
static int callsites_show(struct seq_file *m, void *v)
{
	struct live_site *all, *lc_sites;
	unsigned long other = 0;
	unsigned int n = 0, i, j;
	int cpu;

	all = kvcalloc(LIVE_SITES * num_possible_cpus(), sizeof(*all), GFP_KERNEL);
	if (!all)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		lc_sites = per_cpu_ptr(live_cpu, cpu)->sites;
		other += READ_ONCE(per_cpu_ptr(live_cpu, cpu)->other_sites);
		for (i = 0; i < LIVE_SITES; i++) {
			unsigned long site = READ_ONCE(lc_sites[i].site);

			if (!site)
				continue;
			for (j = 0; j < n && all[j].site != site; j++)
				;
			all[j].site = site;
			all[j].count += READ_ONCE(lc_sites[i].count);
			n = max(n, j + 1);
		}
	}
	sort(all, n, sizeof(*all), cmp_sites, NULL);
	for (i = 0; i < min_t(unsigned int, n, LIVE_TOP_SITES); i++)
		seq_printf(m, "%10lu %pS\n", all[i].count, (void *)all[i].site);
	seq_printf(m, "%10lu (sites beyond the table)\n", other);
	kvfree(all);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(callsites);

static int zone_frag_show(struct seq_file *m, void *v)
{
	struct zone_sample s;
	u64 last, first;
	int o;

	spin_lock_irq(&ring_lock);
	last = ring_seq;
	spin_unlock_irq(&ring_lock);
	first = last > LIVE_RING ? last - LIVE_RING + 1 : 1;
	for (; first <= last; first++) {
		spin_lock_irq(&ring_lock);
		s = ring[(first - 1) % LIVE_RING];
		spin_unlock_irq(&ring_lock);
		if (s.seq != first)
			continue;
		seq_printf(m, "seq=%llu time_ms=%llu node=%d zone=%s free=", s.seq,
			   div_u64(s.time_ns, NSEC_PER_MSEC), s.nid, s.zone);
		for (o = 0; o < LIVE_ORDERS; o++)
			seq_printf(m, "%lu%c", s.nr_free[o], o < LIVE_ORDERS - 1 ? ',' : ' ');
		seq_puts(m, "unusable=");
		for (o = 0; o < LIVE_ORDERS; o++)
			seq_printf(m, "%d%c", toy_unusable_index(s.nr_free, LIVE_ORDERS, o),
				   o < LIVE_ORDERS - 1 ? ',' : ' ');
		seq_puts(m, "extfrag=");
		for (o = 0; o < LIVE_ORDERS; o++)
			seq_printf(m, "%d%c", toy_extfrag_index(s.nr_free, LIVE_ORDERS, o),
				   o < LIVE_ORDERS - 1 ? ',' : '\n');
		cond_resched();
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zone_frag);

int toy_live_init(struct dentry *parent)
{
	struct dentry *dir;

	live_cpu = alloc_percpu(struct live_cpu);
	ring = kvcalloc(LIVE_RING, sizeof(*ring), GFP_KERNEL);
	if (!live_cpu || !ring) {
		free_percpu(live_cpu);
		kvfree(ring);
		return -ENOMEM;
	}
	/*
	 * Each probe's prototype must be its event's TP_PROTO on this
	 * kernel: checked when compiling against its <trace/events/kmem.h>
	 * (as lttng-modules does), since a probe registered by name is
	 * not type-checked.
	 */
	check_trace_callback_type_mm_page_alloc(probe_page_alloc);
	check_trace_callback_type_mm_page_free(probe_page_free);
	check_trace_callback_type_kmalloc(probe_kmalloc);
	check_trace_callback_type_kmem_cache_alloc(probe_cache_alloc);
	for_each_kernel_tracepoint(find_tracepoint, NULL);

	dir = debugfs_create_dir("live", parent);
	debugfs_create_file("enable", 0600, dir, NULL, &enable_fops);
	debugfs_create_file("interval_ms", 0600, dir, NULL, &interval_fops);
	debugfs_create_file("snapshot", 0200, dir, NULL, &snapshot_fops);
	debugfs_create_file("counters", 0400, dir, NULL, &counters_fops);
	debugfs_create_file("callsites", 0400, dir, NULL, &callsites_fops);
	debugfs_create_file("zone_frag", 0400, dir, NULL, &zone_frag_fops);
	return 0;
}

void toy_live_exit(void)
{
	mutex_lock(&live_lock);
	live_enable(false);
	mutex_unlock(&live_lock);
	cancel_delayed_work_sync(&sample_work);
	free_percpu(live_cpu);
	kvfree(ring);
}
