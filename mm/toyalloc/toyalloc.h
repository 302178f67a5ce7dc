/* SPDX-License-Identifier: GPL-2.0 */
/* What the module's interface files share: the pool and its allocators. */
#ifndef _TOYALLOC_H
#define _TOYALLOC_H

#include <linux/mutex.h>
#include "buddy.h"
#include "slab.h"

#define TOY_NR_REPORTS	64

struct toy_report {
	u64 seq;
	char cache[TOYALLOC_NAME_LEN];
	enum toyalloc_slab_error err;
	long pool_offset;
};

struct toyalloc {
	struct toy_buddy buddy;
	struct toy_slab_pool slab_pool;	/* the buddy, and pool addresses */
	struct toy_kmalloc kmalloc;
	struct page **chunks;		/* max-order blocks of real pages */
	unsigned long nr_chunks;
	void *meta;

	struct mutex caches_lock;	/* the list of caches below */
	struct list_head caches;

	spinlock_t report_lock;		/* the ring of corruption reports */
	struct toy_report reports[TOY_NR_REPORTS];
	u64 nr_reports;
};

extern struct toyalloc toy;

/* pool.c */
int toy_pool_init(unsigned int pool_mb);
void toy_pool_exit(void);
void *toy_pool_addr(unsigned long idx);
/* The pool page holding @addr, or -1. */
long toy_pool_index(const void *addr);
void toy_register_cache(struct toy_cache *c);
int toy_destroy_registered_cache(struct toy_cache *c, bool force,
				 unsigned long *live);
/* Validate the buddy and every cache; total errors found. */
u64 toy_validate_all(struct seq_file *m);

int toy_dev_init(void);
void toy_dev_exit(void);
int toy_debugfs_init(struct dentry *dir);
int toy_replay_init(struct dentry *dir);
void toy_replay_exit(void);
int toy_live_init(struct dentry *dir);
void toy_live_exit(void);

/*
 * A debugfs file shown by NAME_show() and written by NAME_write(), like
 * DEFINE_SHOW_ATTRIBUTE() for a file that is also written.
 */
#define TOY_RW_ATTRIBUTE(name)						\
static int name##_open(struct inode *inode, struct file *file)		\
{									\
	return single_open(file, name##_show, NULL);			\
}									\
static const struct file_operations name##_fops = {			\
	.owner = THIS_MODULE,						\
	.open = name##_open,						\
	.read = seq_read,						\
	.write = name##_write,						\
	.llseek = seq_lseek,						\
	.release = single_release,					\
}

/* Shared by the views of the pool, a replay and the real zones. */
void toy_print_counts(struct seq_file *m, const char *zone, const unsigned long *nr_free);
void toy_print_indexes(struct seq_file *m, const char *zone, const unsigned long *nr_free,
		       bool unusable);

#endif /* _TOYALLOC_H */
