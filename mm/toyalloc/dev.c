// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/toyalloc: the control interface. Each open file is a session
 * whose handles (allocations) and caches are freed when it is closed, so
 * a crashing test leaks nothing. Every argument is checked before
 * anything changes.
 */
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "toyalloc.h"

#define TOY_MAX_HANDLES		BIT(20)
#define TOY_MAX_CACHES		1024
#define TOY_PEEK_MAX		64
#define TOY_BENCH_MAX_ITERS	100000000ULL
#define TOY_BENCH_MAX_BATCH	256
#define TOY_BENCH_MAX_PAGES	4096	/* held at once by a page benchmark */

struct toy_session {
	struct mutex lock;		/* serialises this session's ioctls */
	struct xarray handles;		/* handle -> pool address */
	struct xarray caches;		/* cache id -> struct toy_cache */
};

static int toy_open(struct inode *inode, struct file *file)
{
	struct toy_session *s;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	mutex_init(&s->lock);
	xa_init_flags(&s->handles, XA_FLAGS_ALLOC1);
	xa_init_flags(&s->caches, XA_FLAGS_ALLOC1);
	file->private_data = s;
	return 0;
}

/*
 * Free everything the session holds: objects and blocks, then caches;
 * the shared kmalloc classes give their empty slabs back too, so that a
 * closed session leaves the pool as it found it.
 */
static void session_release_all(struct toy_session *s)
{
	struct toy_cache *c;
	unsigned long id;
	void *p;

	xa_for_each(&s->handles, id, p) {
		xa_erase(&s->handles, id);
		WARN_ON_ONCE(toy_kfree(&toy.kmalloc, p));
	}
	xa_for_each(&s->caches, id, c) {
		xa_erase(&s->caches, id);
		/* No handle is left: what the cache still counts is lost. */
		toy_destroy_registered_cache(c, true, NULL);
		kfree(c);
	}
	toy_kmalloc_shrink(&toy.kmalloc);
}

static int toy_release(struct inode *inode, struct file *file)
{
	struct toy_session *s = file->private_data;

	session_release_all(s);
	xa_destroy(&s->handles);
	xa_destroy(&s->caches);
	kfree(s);
	return 0;
}

/*
 * Read an in/out argument and write it straight back: an argument the
 * ioctl could not return its results through fails with EFAULT before
 * anything changes. Only another thread unmapping or protecting it in
 * between can make the final copy fail; see undo_handle().
 */
static int copy_arg_in(void *arg, void __user *uarg, size_t size)
{
	if (copy_from_user(arg, uarg, size) || copy_to_user(uarg, arg, size))
		return -EFAULT;
	return 0;
}

/* A handle is reserved before the allocation, so running out changes nothing. */
static int reserve_handle(struct toy_session *s, u32 *id)
{
	int ret = xa_alloc(&s->handles, id, NULL, XA_LIMIT(1, TOY_MAX_HANDLES),
			   GFP_KERNEL_ACCOUNT);

	return ret == -EBUSY ? -ENOSPC : ret;
}

/* Give the reserved handle @id to @p, or release it if the allocation failed. */
static int commit_handle(struct toy_session *s, u32 id, void *p, u64 *handle)
{
	if (!p) {
		xa_release(&s->handles, id);
		return -ENOMEM;
	}
	/* A reserved slot exists already: storing into it allocates nothing. */
	xa_store(&s->handles, id, p, GFP_KERNEL_ACCOUNT);
	*handle = id;
	return 0;
}

/* Take back a new allocation whose caller cannot learn its handle. */
static int undo_handle(struct toy_session *s, u64 handle)
{
	toy_kfree(&toy.kmalloc, xa_erase(&s->handles, handle));
	return -EFAULT;
}

static void *lookup_handle(struct toy_session *s, u64 handle)
{
	if (!handle || handle > TOY_MAX_HANDLES)
		return NULL;
	return xa_load(&s->handles, handle);
}

static long pool_offset(const void *p)
{
	return (toy_pool_index(p) << PAGE_SHIFT) + offset_in_page(p);
}

static long ioc_alloc_pages(struct toy_session *s, void __user *uarg)
{
	struct toyalloc_pages arg;
	long idx;
	int ret;
	u32 id;

	if (copy_arg_in(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.reserved || arg.order > TOY_MAX_ORDER)
		return -EINVAL;
	ret = reserve_handle(s, &id);
	if (ret)
		return ret;
	idx = toy_buddy_alloc(&toy.buddy, arg.order);
	ret = commit_handle(s, id, idx < 0 ? NULL : toy_pool_addr(idx), &arg.handle);
	if (ret)
		return ret;
	arg.pool_offset = idx << PAGE_SHIFT;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? undo_handle(s, arg.handle) : 0;
}

static long ioc_free(struct toy_session *s, u64 __user *uarg)
{
	u64 handle;
	void *p;

	if (get_user(handle, uarg))
		return -EFAULT;
	p = lookup_handle(s, handle);
	if (!p)
		return -ENOENT;
	xa_erase(&s->handles, handle);
	return toy_kfree(&toy.kmalloc, p);
}

/*
 * Names show up in slabinfo: ASCII [A-Za-z0-9._:-] only (the kernel's
 * isalnum() also takes Latin-1 letters), and no kmalloc- look-alikes.
 */
static bool valid_cache_name(const char *name)
{
	size_t len = strnlen(name, TOYALLOC_NAME_LEN), i;

	if (!len || len == TOYALLOC_NAME_LEN || !strncmp(name, "kmalloc-", 8))
		return false;
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) || (!isalnum(name[i]) && !strchr("-_.:", name[i])))
			return false;
	return true;
}

static long ioc_cache_create(struct toy_session *s, void __user *uarg)
{
	struct toyalloc_cache_create arg;
	struct toy_cache *c;
	u32 id;
	int ret;

	if (copy_arg_in(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.reserved || !valid_cache_name(arg.name))
		return -EINVAL;
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return -ENOMEM;
	ret = toy_cache_init(c, &toy.slab_pool, arg.name, arg.object_size, arg.align,
			     arg.order, arg.flags);
	if (ret)
		goto err_free;
	ret = xa_alloc(&s->caches, &id, c, XA_LIMIT(1, TOY_MAX_CACHES), GFP_KERNEL);
	if (ret) {
		ret = ret == -EBUSY ? -ENOSPC : ret;
		goto err_destroy;
	}
	arg.cache_id = id;
	if (copy_to_user(uarg, &arg, sizeof(arg))) {
		xa_erase(&s->caches, id);
		ret = -EFAULT;
		goto err_destroy;
	}
	toy_register_cache(c);
	return 0;

err_destroy:
	toy_cache_destroy(c, true, NULL);
err_free:
	kfree(c);
	return ret;
}

static long ioc_cache_destroy(struct toy_session *s, void __user *uarg)
{
	struct toyalloc_cache_destroy arg;
	unsigned long live;
	struct toy_cache *c;
	int ret;

	if (copy_arg_in(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	c = arg.cache_id ? xa_load(&s->caches, arg.cache_id) : NULL;
	if (!c)
		return -ENOENT;
	ret = toy_destroy_registered_cache(c, false, &live);
	arg.live_objects = min_t(unsigned long, live, U32_MAX);
	if (!ret) {
		xa_erase(&s->caches, arg.cache_id);
		kfree(c);
	}
	/* Once destroyed, the cache is gone whatever the copy does: say so. */
	if (copy_to_user(uarg, &arg, sizeof(arg)) && ret)
		return -EFAULT;
	return ret;
}

static long ioc_alloc_object(struct toy_session *s, void __user *uarg, bool kmalloc)
{
	struct toyalloc_object arg;
	struct toy_cache *c = NULL;
	void *p;
	int ret;
	u32 id;

	if (copy_arg_in(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (kmalloc) {
		if (arg.cache_id || !arg.size || arg.size > TOYALLOC_KMALLOC_MAX)
			return -EINVAL;
	} else {
		c = arg.cache_id ? xa_load(&s->caches, arg.cache_id) : NULL;
		if (!c)
			return -ENOENT;
		if (arg.size > c->object_size)
			return -EINVAL;
	}
	ret = reserve_handle(s, &id);
	if (ret)
		return ret;
	if (kmalloc)
		p = toy_kmalloc(&toy.kmalloc, arg.size);
	else
		p = toy_cache_alloc(c, arg.size ?: c->object_size);
	ret = commit_handle(s, id, p, &arg.handle);
	if (ret)
		return ret;
	arg.pool_offset = pool_offset(p);
	return copy_to_user(uarg, &arg, sizeof(arg)) ? undo_handle(s, arg.handle) : 0;
}

static long ioc_set_policy(u32 __user *uarg)
{
	u32 policy;

	if (get_user(policy, uarg))
		return -EFAULT;
	return toy_buddy_set_policy(&toy.buddy, policy);
}

static long ioc_reset(struct toy_session *s)
{
	session_release_all(s);
	/* An empty pool also restarts its free lists and counters. */
	if (!toy_buddy_set_policy(&toy.buddy, toy.buddy.policy))
		toy_buddy_reset_stats(&toy.buddy);
	return 0;
}

static long ioc_corrupt(struct toy_session *s, void __user *uarg)
{
	struct toyalloc_corrupt arg;
	struct toy_cache *c;
	void *p;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.reserved || arg.kind >= TOYALLOC_NR_CORRUPTIONS)
		return -EINVAL;
	p = lookup_handle(s, arg.handle);
	if (!p)
		return -ENOENT;
	c = toy_cache_of(&toy.slab_pool, p);
	if (!c)
		return -EINVAL;		/* pages, not an object */
	ret = toy_cache_corrupt(c, p, arg.kind);
	if (!ret && arg.kind != TOYALLOC_CORRUPT_REDZONE &&
	    arg.kind != TOYALLOC_CORRUPT_INVALID_FREE)
		xa_erase(&s->handles, arg.handle);	/* it was freed */
	return ret;
}

static long ioc_peek(struct toy_session *s, void __user *uarg)
{
	struct toyalloc_peek arg;
	struct toy_cache *c;
	unsigned int size;
	int order;
	void *p;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	p = lookup_handle(s, arg.handle);
	if (!p)
		return -ENOENT;
	c = toy_cache_of(&toy.slab_pool, p);
	if (c) {
		size = toy_cache_object_size(c, p);
	} else {
		order = toy_buddy_block_order(&toy.buddy, toy_pool_index(p));
		size = order < 0 ? 0 : PAGE_SIZE << order;
	}
	if (!arg.len || arg.len > TOY_PEEK_MAX || arg.offset >= size ||
	    arg.len > size - arg.offset)
		return -EINVAL;
	return copy_to_user(u64_to_user_ptr(arg.buf), p + arg.offset, arg.len) ?
	       -EFAULT : 0;
}

static long ioc_validate(struct toy_session *s, void __user *uarg)
{
	struct toyalloc_validate arg;
	struct toy_buddy_report r;
	struct toy_cache *c;

	if (copy_arg_in(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.reserved)
		return -EINVAL;
	memset(arg.errors, 0, sizeof(arg.errors));
	if (!arg.cache_id) {
		toy_buddy_validate(&toy.buddy, &r);
		arg.total = toy_buddy_report_total(&r);
	} else {
		c = xa_load(&s->caches, arg.cache_id);
		if (!c)
			return -ENOENT;
		arg.total = toy_cache_validate(c, arg.errors);
	}
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

/* One alloc or free step of a benchmark loop; returns false on failure. */
struct bench_ctx {
	struct toyalloc_bench *arg;
	struct toy_cache *toy_cache;
	struct kmem_cache *real_cache;
};

static void *bench_alloc(struct bench_ctx *b)
{
	long idx;

	switch (b->arg->kind) {
	case TOYALLOC_BENCH_TOY_PAGES:
		idx = toy_buddy_alloc(&toy.buddy, b->arg->param);
		return idx < 0 ? NULL : (void *)(idx + 1);
	case TOYALLOC_BENCH_REAL_PAGES:
		return alloc_pages(GFP_KERNEL | __GFP_NOWARN, b->arg->param);
	case TOYALLOC_BENCH_TOY_CACHE:
		return toy_cache_alloc(b->toy_cache, b->arg->param);
	case TOYALLOC_BENCH_REAL_CACHE:
		return kmem_cache_alloc(b->real_cache, GFP_KERNEL);
	default:
		return kmalloc(b->arg->param, GFP_KERNEL);
	}
}

static void bench_free(struct bench_ctx *b, void *p)
{
	switch (b->arg->kind) {
	case TOYALLOC_BENCH_TOY_PAGES:
		toy_buddy_free(&toy.buddy, (unsigned long)p - 1, b->arg->param);
		break;
	case TOYALLOC_BENCH_REAL_PAGES:
		__free_pages(p, b->arg->param);
		break;
	case TOYALLOC_BENCH_TOY_CACHE:
		toy_cache_free(b->toy_cache, p);
		break;
	case TOYALLOC_BENCH_REAL_CACHE:
		kmem_cache_free(b->real_cache, p);
		break;
	default:
		kfree(p);
	}
}

static long bench_loop(struct bench_ctx *b, void **held)
{
	u64 done = 0, start = ktime_get_ns();
	unsigned int i, n;
	long ret = 0;

	while (done < b->arg->iterations) {
		n = min_t(u64, b->arg->batch, b->arg->iterations - done);
		for (i = 0; i < n; i++) {
			held[i] = bench_alloc(b);
			if (!held[i])
				break;
		}
		n = i;
		for (i = 0; i < n; i++)
			bench_free(b, held[i]);
		if (!n) {
			ret = -ENOMEM;
			break;
		}
		done += n;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	b->arg->nsecs = ktime_get_ns() - start;
	return ret;
}

static long ioc_bench(void __user *uarg)
{
	struct toyalloc_bench arg;
	struct bench_ctx b = { .arg = &arg };
	bool pages, sized;
	void **held;
	long ret;

	if (copy_arg_in(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	pages = arg.kind == TOYALLOC_BENCH_TOY_PAGES || arg.kind == TOYALLOC_BENCH_REAL_PAGES;
	sized = !pages && arg.kind < TOYALLOC_NR_BENCH;
	if (arg.reserved || arg.kind >= TOYALLOC_NR_BENCH ||
	    !arg.iterations || arg.iterations > TOY_BENCH_MAX_ITERS ||
	    !arg.batch || arg.batch > TOY_BENCH_MAX_BATCH ||
	    (pages && (arg.param > TOY_MAX_ORDER ||
		       (arg.batch << arg.param) > TOY_BENCH_MAX_PAGES)) ||
	    (sized && (!arg.param || arg.param > TOYALLOC_MAX_OBJECT)))
		return -EINVAL;

	held = kmalloc_array(arg.batch, sizeof(*held), GFP_KERNEL);
	if (!held)
		return -ENOMEM;
	ret = -ENOMEM;
	if (arg.kind == TOYALLOC_BENCH_TOY_CACHE) {
		b.toy_cache = kzalloc(sizeof(*b.toy_cache), GFP_KERNEL);
		if (!b.toy_cache ||
		    toy_cache_init(b.toy_cache, &toy.slab_pool, "bench", arg.param, 0, -1, 0))
			goto out;
	} else if (arg.kind == TOYALLOC_BENCH_REAL_CACHE) {
		b.real_cache = kmem_cache_create("toyalloc_bench", arg.param, 0, 0, NULL);
		if (!b.real_cache)
			goto out;
	}
	ret = bench_loop(&b, held);
	if (b.toy_cache)
		toy_cache_destroy(b.toy_cache, true, NULL);
	kmem_cache_destroy(b.real_cache);
	if (!ret && copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out:
	kfree(b.toy_cache);
	kfree(held);
	return ret;
}

static long toy_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct toy_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	if (cmd == TOYALLOC_IOC_BENCH)
		return ioc_bench(uarg);

	mutex_lock(&s->lock);
	switch (cmd) {
	case TOYALLOC_IOC_ALLOC_PAGES:
		ret = ioc_alloc_pages(s, uarg);
		break;
	case TOYALLOC_IOC_FREE:
		ret = ioc_free(s, uarg);
		break;
	case TOYALLOC_IOC_CACHE_CREATE:
		ret = ioc_cache_create(s, uarg);
		break;
	case TOYALLOC_IOC_CACHE_DESTROY:
		ret = ioc_cache_destroy(s, uarg);
		break;
	case TOYALLOC_IOC_CACHE_ALLOC:
		ret = ioc_alloc_object(s, uarg, false);
		break;
	case TOYALLOC_IOC_KMALLOC:
		ret = ioc_alloc_object(s, uarg, true);
		break;
	case TOYALLOC_IOC_SET_POLICY:
		ret = ioc_set_policy(uarg);
		break;
	case TOYALLOC_IOC_RESET:
		ret = ioc_reset(s);
		break;
	case TOYALLOC_IOC_CORRUPT:
		ret = ioc_corrupt(s, uarg);
		break;
	case TOYALLOC_IOC_PEEK:
		ret = ioc_peek(s, uarg);
		break;
	case TOYALLOC_IOC_VALIDATE:
		ret = ioc_validate(s, uarg);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&s->lock);
	return ret;
}

static const struct file_operations toy_fops = {
	.owner = THIS_MODULE,
	.open = toy_open,
	.release = toy_release,
	.unlocked_ioctl = toy_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice toy_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "toyalloc",
	.fops = &toy_fops,
	.mode = 0600,
};

int toy_dev_init(void)
{
	return misc_register(&toy_misc);
}

void toy_dev_exit(void)
{
	misc_deregister(&toy_misc);
}
