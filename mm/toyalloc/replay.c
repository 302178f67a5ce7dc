// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs toyalloc/replay: write a recorded kmem:mm_page_alloc /
 * mm_page_free trace into it, read back how the fragmentation of a
 * private toy buddy (the size of the pool, metadata only) evolved.
 *
 * Opening it for writing starts a replay with the settings of
 * replay_config; closing it ends the replay. Each write() is checked
 * whole before any of its lines is applied, so a bad line changes
 * nothing and fails the write with -EINVAL.
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "frag.h"
#include "replay.h"
#include "toyalloc.h"

#define REPLAY_WRITE_MAX	(64 * 1024)
#define REPLAY_MAX_SAMPLES	8192
#define REPLAY_MAX_INTERVAL	1000000

struct replay_sample {
	u64 event;
	unsigned long nr_free[TOY_NR_ORDERS];
};

struct replay_counts {
	u64 events, allocs, frees, unmatched_frees, order_mismatches;
	u64 toy_failures, too_large, failed_in_trace, bad_lines;
	u64 batched_frees, unrecognized;
};

#define REPLAY_SHOWN_LINE	120	/* bytes of the first unrecognized line */

static struct {
	struct mutex lock;		/* all of the replay state */
	bool running;
	enum toyalloc_policy next_policy, policy;
	unsigned int next_interval, interval;
	struct toy_buddy buddy;
	void *meta;
	struct xarray live;		/* pfn -> block index << 4 | order */
	char partial[TOY_TRACE_LINE_MAX];
	size_t partial_len;
	struct replay_counts counts;
	char unrecognized[REPLAY_SHOWN_LINE + 1];
	struct replay_sample *samples;
	unsigned int nr_samples;
} replay;

static void take_sample(void)
{
	struct replay_sample *s;
	unsigned int i;

	if (replay.nr_samples == REPLAY_MAX_SAMPLES) {
		/* Keep every other sample at twice the interval. */
		for (i = 0; i < REPLAY_MAX_SAMPLES / 2; i++)
			replay.samples[i] = replay.samples[2 * i + 1];
		replay.nr_samples = REPLAY_MAX_SAMPLES / 2;
		replay.interval *= 2;
		if (replay.counts.events % replay.interval)
			return;
	}
	s = &replay.samples[replay.nr_samples++];
	s->event = replay.counts.events;
	toy_buddy_snapshot(&replay.buddy, s->nr_free);
}

static void replay_event(const struct toy_trace_event *ev)
{
	struct replay_counts *n = &replay.counts;
	void *old;
	long idx;

	switch (ev->kind) {
	case TOY_TRACE_ALLOC_FAILED:
		n->failed_in_trace++;
		return;
	case TOY_TRACE_FREE_BATCHED:
		n->batched_frees++;	/* its mm_page_free frees it */
		return;
	case TOY_TRACE_ALLOC:
		n->allocs++;
		if (ev->order > TOY_MAX_ORDER) {
			n->too_large++;
			break;
		}
		idx = toy_buddy_alloc(&replay.buddy, ev->order);
		if (idx < 0) {
			n->toy_failures++;
			break;
		}
		old = xa_store(&replay.live, ev->pfn, xa_mk_value(idx << 4 | ev->order),
			       GFP_KERNEL);
		if (xa_is_err(old)) {
			toy_buddy_free(&replay.buddy, idx, ev->order);
			n->toy_failures++;
		} else if (old) {	/* its free was not in the trace */
			toy_buddy_free(&replay.buddy, xa_to_value(old) >> 4,
				       xa_to_value(old) & 15);
		}
		break;
	case TOY_TRACE_FREE:
		n->frees++;
		old = xa_erase(&replay.live, ev->pfn);
		if (!old) {
			n->unmatched_frees++;	/* allocated before the trace */
			break;
		}
		if ((xa_to_value(old) & 15) != ev->order)
			n->order_mismatches++;
		toy_buddy_free(&replay.buddy, xa_to_value(old) >> 4,
			       xa_to_value(old) & 15);
		break;
	default:
		return;
	}
	if (++n->events % replay.interval == 0)
		take_sample();
}

/* Check (apply == false) or apply every complete line of buf. */
static int replay_lines(const char *buf, size_t len, bool apply)
{
	struct toy_trace_event ev;
	const char *line = buf, *nl;
	int ret;

	while ((nl = memchr(line, '\n', buf + len - line))) {
		if (nl - line >= TOY_TRACE_LINE_MAX)
			return -EINVAL;
		ret = toy_trace_parse_line(line, nl - line, &ev);
		if (ret)
			return ret;
		if (apply && ev.kind == TOY_TRACE_UNRECOGNIZED &&
		    !replay.counts.unrecognized++)
			strscpy(replay.unrecognized, line,
				min_t(size_t, nl - line + 1, sizeof(replay.unrecognized)));
		if (apply)
			replay_event(&ev);
		line = nl + 1;
	}
	return line - buf;
}

static ssize_t replay_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	size_t len, take = min_t(size_t, count, REPLAY_WRITE_MAX);
	char *buf;
	int used;

	buf = kvmalloc(TOY_TRACE_LINE_MAX + take, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&replay.lock);
	memcpy(buf, replay.partial, replay.partial_len);
	len = replay.partial_len + take;
	if (copy_from_user(buf + replay.partial_len, ubuf, take)) {
		used = -EFAULT;
		goto out;
	}
	used = replay_lines(buf, len, false);
	if (used < 0 || len - used >= TOY_TRACE_LINE_MAX) {
		replay.counts.bad_lines++;
		used = -EINVAL;
		goto out;
	}
	replay_lines(buf, len, true);
	replay.partial_len = len - used;
	memcpy(replay.partial, buf + used, replay.partial_len);
	used = take;
out:
	mutex_unlock(&replay.lock);
	kvfree(buf);
	return used;
}

static int replay_show(struct seq_file *m, void *v)
{
	const struct replay_counts *n = &replay.counts;
	const struct replay_sample *s;
	unsigned long free_pages;
	unsigned int i, o;

	mutex_lock(&replay.lock);
	seq_printf(m, "# policy=%s interval=%u pool_pages=%lu running=%d events=%llu allocs=%llu frees=%llu unmatched_frees=%llu order_mismatches=%llu toy_failures=%llu too_large=%llu failed_in_trace=%llu bad_writes=%llu batched_frees=%llu unrecognized=%llu\n",
		   toy_policy_names[replay.policy], replay.interval, toy.buddy.nr_pages,
		   replay.running, n->events, n->allocs, n->frees, n->unmatched_frees,
		   n->order_mismatches, n->toy_failures, n->too_large,
		   n->failed_in_trace, n->bad_lines, n->batched_frees, n->unrecognized);
	if (n->unrecognized)
		seq_printf(m, "# first unrecognized line: %s\n", replay.unrecognized);
	seq_puts(m, "# event free_pages unusable_index[0..10] extfrag_index[0..10] (thousandths)\n");
	for (i = 0; i < replay.nr_samples; i++) {
		s = &replay.samples[i];
		free_pages = 0;
		for (o = 0; o < TOY_NR_ORDERS; o++)
			free_pages += s->nr_free[o] << o;
		seq_printf(m, "%llu %lu", s->event, free_pages);
		for (o = 0; o < TOY_NR_ORDERS; o++)
			seq_printf(m, " %d", toy_unusable_index(s->nr_free, TOY_NR_ORDERS, o));
		for (o = 0; o < TOY_NR_ORDERS; o++)
			seq_printf(m, " %d", toy_extfrag_index(s->nr_free, TOY_NR_ORDERS, o));
		seq_putc(m, '\n');
	}
	mutex_unlock(&replay.lock);
	return 0;
}

static void replay_stop(void)
{
	if (!replay.running)
		return;
	if (replay.counts.events % replay.interval)
		take_sample();
	xa_destroy(&replay.live);
	vfree(replay.meta);
	replay.meta = NULL;
	replay.running = false;
}

static int replay_start(void)
{
	unsigned long nr_pages = toy.buddy.nr_pages;

	if (replay.running)
		return -EBUSY;
	replay.meta = vzalloc(toy_buddy_meta_size(nr_pages));
	if (!replay.meta)
		return -ENOMEM;
	if (!replay.samples) {
		replay.samples = kvcalloc(REPLAY_MAX_SAMPLES, sizeof(*replay.samples),
					  GFP_KERNEL);
		if (!replay.samples) {
			vfree(replay.meta);
			return -ENOMEM;
		}
	}
	toy_buddy_init(&replay.buddy, nr_pages, replay.meta, replay.next_policy);
	xa_init(&replay.live);
	replay.policy = replay.next_policy;
	replay.interval = replay.next_interval;
	memset(&replay.counts, 0, sizeof(replay.counts));
	replay.partial_len = 0;
	replay.nr_samples = 0;
	take_sample();
	replay.running = true;
	return 0;
}

static int replay_open(struct inode *inode, struct file *file)
{
	int ret = 0;

	if (file->f_mode & FMODE_WRITE) {
		mutex_lock(&replay.lock);
		ret = replay_start();
		mutex_unlock(&replay.lock);
		if (ret)
			return ret;
	}
	ret = single_open(file, replay_show, NULL);
	if (ret && (file->f_mode & FMODE_WRITE)) {
		mutex_lock(&replay.lock);
		replay_stop();
		mutex_unlock(&replay.lock);
	}
	return ret;
}

static int replay_release(struct inode *inode, struct file *file)
{
	if (file->f_mode & FMODE_WRITE) {
		mutex_lock(&replay.lock);
		replay_stop();
		mutex_unlock(&replay.lock);
	}
	return single_release(inode, file);
}

static const struct file_operations replay_fops = {
	.owner = THIS_MODULE,
	.open = replay_open,
	.read = seq_read,
	.write = replay_write,
	.llseek = seq_lseek,
	.release = replay_release,
};

struct replay_config {
	int policy;
	unsigned long interval;
};

static int config_set(void *ctx, const char *key, size_t key_len,
		      const char *val, size_t val_len)
{
	struct replay_config *cfg = ctx;
	char name[8];
	int i;

	if (key_len == 6 && !memcmp(key, "policy", 6)) {
		if (val_len >= sizeof(name))
			return -EINVAL;
		memcpy(name, val, val_len);
		name[val_len] = 0;
		i = match_string(toy_policy_names, TOYALLOC_NR_POLICIES, name);
		if (i < 0)
			return -EINVAL;
		cfg->policy = i;
		return 0;
	}
	if (key_len == 8 && !memcmp(key, "interval", 8))
		return toy_parse_ulong(val, val_len, &cfg->interval) ||
		       !cfg->interval || cfg->interval > REPLAY_MAX_INTERVAL ?
		       -EINVAL : 0;
	return -EINVAL;
}

static int config_show(struct seq_file *m, void *v)
{
	seq_printf(m, "policy=%s interval=%u\n", toy_policy_names[replay.next_policy],
		   replay.next_interval);
	return 0;
}

static ssize_t config_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct replay_config cfg;
	char buf[64];
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	mutex_lock(&replay.lock);
	cfg.policy = replay.next_policy;
	cfg.interval = replay.next_interval;
	ret = toy_parse_settings(buf, count, config_set, &cfg);
	if (!ret) {
		replay.next_policy = cfg.policy;
		replay.next_interval = cfg.interval;
	}
	mutex_unlock(&replay.lock);
	return ret ? ret : count;
}

TOY_RW_ATTRIBUTE(config);

int toy_replay_init(struct dentry *dir)
{
	mutex_init(&replay.lock);
	replay.next_policy = TOYALLOC_POLICY_LIFO;
	replay.next_interval = 1000;
	replay.interval = replay.next_interval;
	debugfs_create_file("replay", 0600, dir, NULL, &replay_fops);
	debugfs_create_file("replay_config", 0600, dir, NULL, &config_fops);
	return 0;
}

void toy_replay_exit(void)
{
	replay_stop();
	kvfree(replay.samples);
}
