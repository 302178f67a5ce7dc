// SPDX-License-Identifier: GPL-2.0
/*
 * mshare host address spaces.
 *
 * A module cannot create an mm_struct (mm_alloc() is not exported), but
 * it can start a user-mode helper: the helper execs an ordinary program
 * (host_program, /bin/sh by default) and, on its way back to user space,
 * parks in the kernel until it is killed (host_park()): it never runs a
 * user instruction. Its mm, held with mmget(), is the region's host
 * address space: the region's worker, a kthread, adopts it with
 * kthread_use_mm() to mmap() and munmap() the region's objects there,
 * running the changes the core hands it (mshare_host_call()), and faults
 * are driven into it with handle_mm_fault(), as remote GUP does. The
 * helper is moved into the creator's cgroups, so the pages its mappings
 * fault in are charged to the creator, and it is never chosen by the OOM
 * killer. It is killed when the region goes.
 *
 * The host's tables are freed only by the region's own changes, which
 * unlink every sharer first; other paths change PTEs in place and the
 * host's MMU notifier (core.c) flushes the sharers' TLBs.
 */
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/module.h>
#include <linux/oom.h>
#include <linux/refcount.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/task_work.h>
#include <linux/umh.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>
#include <compat/mm.h>
#include <compat/notifier.h>
#include <compat/pgtable.h>

#include "mshare.h"

static char *host_program = "/bin/sh";
module_param(host_program, charp, 0644);
MODULE_PARM_DESC(host_program,
		 "any executable: its parked image hosts a region's address space");

/* ------------------------------------------------- the region's worker */

/*
 * Each sized region has a kthread worker of its own (r->worker), which
 * runs the region's changes one at a time, with the credentials of the
 * user who asked (so that the LSM and IMA checks of the host's mmap() see
 * that user, not root). Nothing is shared between regions: a change that
 * waits (for a sharer's mmap_lock, for an object's writeback) holds up
 * only later changes of its own region. The caller waits killably: a
 * request the worker has not started is cancelled (nothing changed,
 * -EINTR); one it has started is completed, whole, without the caller.
 */
enum { REQ_QUEUED, REQ_RUNNING, REQ_CANCELLED };

struct host_req {
	struct kthread_work work;
	struct mshare_region *r;
	const struct cred *cred;	/* the caller's */
	int (*fn)(struct mshare_region *r, void *arg);
	void (*release)(void *arg);	/* drops @arg once both are done */
	void *arg;
	atomic_t state;
	struct completion done;
	refcount_t ref;			/* the caller's and the worker's */
	int ret;
};

static void host_req_put(struct host_req *req)
{
	if (!refcount_dec_and_test(&req->ref))
		return;
	req->release(req->arg);
	put_cred(req->cred);
	kfree(req);
}

static void host_req_run(struct kthread_work *work)
{
	struct host_req *req = container_of(work, struct host_req, work);
	const struct cred *old;

	if (atomic_cmpxchg(&req->state, REQ_QUEUED, REQ_RUNNING) == REQ_QUEUED) {
		old = override_creds(req->cred);
		req->ret = req->fn(req->r, req->arg);
		revert_creds(old);
	}
	complete(&req->done);
	host_req_put(req);
}

/*
 * Run @fn(@r, @arg) in @worker and wait for it, killably. @release(@arg)
 * is called once neither needs @arg any more (also when @fn never runs).
 * A fatal signal returns -EINTR if @fn has not started (it never will),
 * -EINPROGRESS if it has (it completes without the caller).
 */
static int host_call_in(struct kthread_worker *worker, struct mshare_region *r,
			int (*fn)(struct mshare_region *r, void *arg),
			void *arg, void (*release)(void *arg))
{
	struct host_req *req = kzalloc(sizeof(*req), GFP_KERNEL_ACCOUNT);
	int ret;

	if (!req) {
		release(arg);
		return -ENOMEM;
	}
	kthread_init_work(&req->work, host_req_run);
	req->r = r;
	req->cred = get_current_cred();
	req->fn = fn;
	req->release = release;
	req->arg = arg;
	atomic_set(&req->state, REQ_QUEUED);
	init_completion(&req->done);
	refcount_set(&req->ref, 2);
	kthread_queue_work(worker, &req->work);
	if (!wait_for_completion_killable(&req->done))
		ret = req->ret;
	else if (atomic_cmpxchg(&req->state, REQ_QUEUED, REQ_CANCELLED) == REQ_QUEUED)
		ret = -EINTR;
	else
		ret = -EINPROGRESS;
	host_req_put(req);
	return ret;
}

/*
 * A change of a sized region, run by its worker (see host_call_in()); a
 * fatal signal returns -EINTR whether or not the worker had started it.
 */
int mshare_host_call(struct mshare_region *r,
		     int (*fn)(struct mshare_region *r, void *arg),
		     void *arg, void (*release)(void *arg))
{
	int ret;

	/* The worker is made before the region is sized, and then kept. */
	if (!smp_load_acquire(&r->size)) {
		release(arg);
		return -EINVAL;
	}
	ret = host_call_in(r->worker, r, fn, arg, release);
	return ret == -EINPROGRESS ? -EINTR : ret;
}

/*
 * On 6.1 the host's mmap_lock is held for reading while the region lives
 * (the pin), so that nothing can take it for writing: khugepaged's
 * retract_page_tables() (which does not look at MMF_DISABLE_THP) takes it
 * there (mmap_write_trylock()) to free a host PTE table that sharers
 * link. Only the region's own changes, with every sharer unlinked
 * (core.c: change_host()), drop it. It is taken in one task and dropped
 * in another, hence non_owner. It costs every other writer of the host's
 * mmap_lock a wait for as long as the region lives: cpuset's
 * mpol_rebind_mm() (a write to cpuset.mems, or moving the host between
 * cpusets, with every fork() waiting behind it) and clear_refs, on 6.1.
 *
 * From 6.6 retract_page_tables() frees PTE tables with no mmap_lock
 * (only i_mmap_lock_read() and an MMU_NOTIFY_CLEAR range: read in
 * 6.12.95 and 7.3.4), and the host notifier unlinks what it frees
 * (core.c: host_range_unlinks()):
 * the pin would guard nothing there, so 6.12 and 7.3 (which also have
 * COMPAT_PTE_TABLES_RCU, from 6.5) take none.
 */
static void host_pin(struct mm_struct *mm)
{
	if (!COMPAT_PTE_TABLES_RCU)
		down_read_non_owner(&mm->mmap_lock);
}

static void host_unpin(struct mshare_region *r)
{
	if (!COMPAT_PTE_TABLES_RCU)
		up_read_non_owner(&r->host_mm->mmap_lock);
}

/*
 * In the region's worker, with every sharer unlinked: run @fn with the
 * host mm as current->mm (vm_mmap() and vm_munmap()).
 */
int mshare_host_run(struct mshare_region *r,
		    int (*fn)(struct mshare_region *r, void *arg), void *arg)
{
	int ret;

	host_unpin(r);
	kthread_use_mm(r->host_mm);
	ret = fn(r, arg);
	kthread_unuse_mm(r->host_mm);
	host_pin(r->host_mm);
	return ret;
}

/* ----------------------------------------------------- host lifetime */

struct host_spawn {
	struct task_struct *task;
};

/* Never woken: only SIGKILL ends a host's wait. */
static DECLARE_WAIT_QUEUE_HEAD(host_park_wq);

/*
 * The helper's first return to user space after its exec runs this task
 * work, which keeps it in the kernel until it is killed: it never runs a
 * user instruction, so nothing can make it run (SIGCONT, ptrace) and
 * need its own mmap_lock behind the pin. Killable, freezable (suspend)
 * and not counted in the load average.
 */
static void host_park(struct callback_head *work)
{
	kfree(work);
	if (current->flags & PF_EXITING)	/* the exec failed */
		return;
	wait_event_state(host_park_wq, false,
			 (TASK_KILLABLE | TASK_FREEZABLE | TASK_NOLOAD));
}

/* Runs in the helper before it execs. */
static int host_spawn_init(struct subprocess_info *info, struct cred *new)
{
	struct host_spawn *spawn = info->data;
	struct callback_head *park = kmalloc(sizeof(*park), GFP_KERNEL);

	if (!park)
		return -ENOMEM;
	init_task_work(park, host_park);
	if (task_work_add(current, park, TWA_RESUME)) {
		kfree(park);
		return -ESRCH;
	}
	spawn->task = get_task_struct(current);
	return 0;
}

static struct task_struct *host_spawn_task(const char *name)
{
	struct host_spawn spawn = { };
	struct subprocess_info *info;
	char *argv[4], *envp[2], *path;
	int ret;

	kernel_param_lock(THIS_MODULE);
	path = kstrdup(host_program, GFP_KERNEL);
	kernel_param_unlock(THIS_MODULE);
	if (!path)
		return ERR_PTR(-ENOMEM);
	argv[0] = path;
	argv[1] = "mshare-host";	/* what ps shows, with the region */
	argv[2] = (char *)name;
	argv[3] = NULL;
	envp[0] = "PATH=/sbin:/bin:/usr/sbin:/usr/bin";
	envp[1] = NULL;

	info = call_usermodehelper_setup(path, argv, envp, GFP_KERNEL,
					 host_spawn_init, NULL, &spawn);
	if (!info) {
		kfree(path);
		return ERR_PTR(-ENOMEM);
	}
	ret = call_usermodehelper_exec(info, UMH_WAIT_EXEC);
	kfree(path);
	if (ret) {
		if (spawn.task)
			put_task_struct(spawn.task);
		return ERR_PTR(ret < 0 ? ret : -ENOEXEC);
	}
	return spawn.task;
}

/* A host being started: the worker publishes it, or it is torn down. */
struct host_start {
	struct task_struct *task;
	struct mm_struct *mm;
	kuid_t uid;			/* the user it counts against */
	unsigned long size;
	bool published;		/* the region's now */
};

/*
 * In the worker, with the new host mm: unmap the files its exec mapped
 * (host_program and its interpreter). The host never runs them, and
 * uprobe registration and removal on a file take the mmap_lock of every
 * mm that maps it for writing (register_for_each_vma(), 6.1, 6.12, 7.3),
 * which behind the pin (6.1) would wait forever, holding uprobes' fork
 * lock: every fork() in the system would wait with it. The stack stays
 * (/proc/PID/cmdline). Region objects, mapped later, are shared
 * mappings, which uprobes never probe (valid_vma()).
 */
static int host_drop_image(struct mm_struct *mm)
{
	struct vm_area_struct *vma;
	unsigned long start, end;
	int ret;

	do {
		end = 0;
		mmap_read_lock(mm);
		for (vma = find_vma(mm, 0); vma && !end; vma = find_vma(mm, vma->vm_end))
			if (vma->vm_file) {
				start = vma->vm_start;
				end = vma->vm_end;
			}
		mmap_read_unlock(mm);
		ret = end ? vm_munmap(start, end - start) : 0;
	} while (end && !ret);
	return ret;
}

/*
 * In the worker, with the new host mm: register the host notifier, and
 * its TLB hook where that is a notifier of its own (compat/notifier.h),
 * in a kthread, which never has a signal pending: the sizer's would make
 * 6.1's mm_take_all_locks() fail with EINTR; then reserve the host range:
 * PROT_NONE, anonymous, never faulted. The notifiers' ops are the core's
 * (r->host_mn.ops, r->host_tlb_mn.ops, set when the region is created).
 */
static int host_setup(struct mshare_region *r, unsigned long size)
{
	unsigned long align = size >= PUD_SIZE ? PUD_SIZE : PMD_SIZE;
	unsigned long addr, base;
	int ret;

	ret = host_drop_image(current->mm);
	if (ret)
		return ret;
	ret = mmu_notifier_register(&r->host_mn, current->mm);
	if (ret)
		return ret;
	ret = compat_mn_register_tlb_hook(&r->host_tlb_mn, current->mm);
	if (ret) {
		mmu_notifier_unregister(&r->host_mn, current->mm);
		return ret;
	}
	addr = vm_mmap(NULL, 0, size + align, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, 0);
	if (IS_ERR_VALUE(addr)) {
		compat_mn_unregister_tlb_hook(&r->host_tlb_mn, current->mm);
		mmu_notifier_unregister(&r->host_mn, current->mm);
		return addr;
	}
	base = round_up(addr, align);
	if (base > addr)
		vm_munmap(addr, base - addr);
	vm_munmap(base + size, addr + align - base);
	r->host_base = base;
	return 0;
}

/*
 * Kill the helper and wait (a little) for its exit to drop its reference
 * to the mm, so that ours is the last: the host's mappings, and with them
 * the pages only the region held, are gone when the region is.
 */
static void host_kill_and_put(struct task_struct *task, struct mm_struct *mm)
{
	int i;

	send_sig(SIGKILL, task, 1);
	for (i = 0; i < 250 && atomic_read(&mm->mm_users) > 1; i++)
		msleep(20);
	put_task_struct(task);
	mmput(mm);
}

/*
 * Hosts are root's processes, started for any user who sizes a region:
 * each counts as that user's processes against RLIMIT_NPROC, as fork()
 * would (capable users are exempt, as for fork()): two of them, the
 * helper and the region's worker thread, or a user's hosts could take
 * twice RLIMIT_NPROC tasks, all of threads-max by default. Live hosts per
 * real uid, in the initial namespace.
 */
#define HOST_TASKS	2
static DEFINE_XARRAY(hosts_per_user);
static DEFINE_MUTEX(hosts_per_user_lock);

static unsigned long hosts_of(kuid_t uid)
{
	return xa_to_value(xa_load(&hosts_per_user, __kuid_val(uid)));
}

static int host_charge_user(kuid_t *uidp)
{
	kuid_t uid = current_uid();
	unsigned long hosts, limit = rlimit(RLIMIT_NPROC);
	int ret = 0;

	mutex_lock(&hosts_per_user_lock);
	hosts = hosts_of(uid);
	if (HOST_TASKS * (hosts + 1) +
	    get_rlimit_value(current_ucounts(), UCOUNT_RLIMIT_NPROC) > limit &&
	    !capable(CAP_SYS_RESOURCE) && !capable(CAP_SYS_ADMIN))
		ret = -EAGAIN;
	else
		ret = xa_err(xa_store(&hosts_per_user, __kuid_val(uid),
				      xa_mk_value(hosts + 1), GFP_KERNEL));
	mutex_unlock(&hosts_per_user_lock);
	if (!ret)
		*uidp = uid;
	return ret;
}

static void host_uncharge_user(kuid_t uid)
{
	unsigned long hosts;

	mutex_lock(&hosts_per_user_lock);
	hosts = hosts_of(uid);
	if (!WARN_ON_ONCE(!hosts)) {
		if (hosts == 1)
			xa_erase(&hosts_per_user, __kuid_val(uid));
		else
			xa_store(&hosts_per_user, __kuid_val(uid),
				 xa_mk_value(hosts - 1), GFP_KERNEL);
	}
	mutex_unlock(&hosts_per_user_lock);
}

/*
 * The host must live for new pages to be charged where they belong: the
 * memory cgroup of a fault is that of the mm's owner, and once the
 * helper is gone (root killed it, or the owner of the cgroup it was moved
 * into used cgroup.kill) the mm has none, and pages would go to the root
 * cgroup. Faults then get SIGBUS (core.c).
 */
bool mshare_host_alive(struct mshare_region *r)
{
	return !(READ_ONCE(r->host_task->flags) & PF_EXITING);
}

/*
 * A host's mmap_lock is never a sharer's, and nothing under it takes
 * region->lock (only links_lock and sharer PUD/PMD locks, in the host
 * notifier), while the region's worker holds region->lock around taking
 * it for writing: a lockdep class of its own, so that lockdep does not see
 * the sharer's mmap_lock -> region->lock order as a cycle.
 */
static struct lock_class_key host_mmap_lock_key;

/*
 * In the region's worker: set the new host up and publish it, with the
 * size: r->host_task and r->host_mm are set under r->lock, which every
 * reader of them holds (or it reads them only once r->size is set,
 * after them). A sizing whose caller was killed while it ran is
 * completed; one that lost to another (the first sizer was killed and a
 * second started meanwhile) leaves the region as the other made it.
 */
static int host_start_run(struct mshare_region *r, void *arg)
{
	struct host_start *hs = arg;
	int ret;

	if (r->size)
		return r->size == hs->size ? 0 : -EINVAL;
	kthread_use_mm(hs->mm);
	ret = host_setup(r, hs->size);
	kthread_unuse_mm(hs->mm);
	if (ret)
		return ret;
	host_pin(hs->mm);
	mutex_lock(&r->lock);
	r->host_task = hs->task;
	r->host_mm = hs->mm;
	r->host_uid = hs->uid;
	smp_store_release(&r->size, hs->size);	/* after the host */
	mutex_unlock(&r->lock);
	hs->published = true;
	return 0;
}

/* Whatever was not published is torn down. */
static void host_start_release(void *arg)
{
	struct host_start *hs = arg;

	if (!hs->published) {
		host_kill_and_put(hs->task, hs->mm);
		host_uncharge_user(hs->uid);
	}
	kfree(hs);
}

/*
 * With r->size_lock, when the region is sized: start its host and its
 * worker, and have the worker set the host up and publish it. Every wait
 * is killable but the helper's exec (call_usermodehelper() waits for it
 * whatever happens; it runs host_program, which only root chooses).
 */
int mshare_host_create(struct mshare_region *r, unsigned long size)
{
	struct kthread_worker *worker = NULL;
	struct host_start *hs;
	int ret;

	hs = kzalloc(sizeof(*hs), GFP_KERNEL_ACCOUNT);
	if (!hs)
		return -ENOMEM;
	hs->size = size;
	ret = host_charge_user(&hs->uid);
	if (ret)
		goto free;
	hs->task = host_spawn_task(r->name);
	if (IS_ERR(hs->task)) {
		ret = PTR_ERR(hs->task);
		goto uncharge;
	}
	hs->mm = get_task_mm(hs->task);
	if (!hs->mm) {		/* killed before we got here */
		put_task_struct(hs->task);
		ret = -ESRCH;
		goto uncharge;
	}
	/* Never the OOM killer's victim: killing it frees nothing. */
	hs->task->signal->oom_score_adj = OOM_SCORE_ADJ_MIN;
	hs->task->signal->oom_score_adj_min = OOM_SCORE_ADJ_MIN;
	/* Its pages are charged to the creator's cgroups. */
	ret = cgroup_attach_task_all(current, hs->task);
	if (ret)
		goto kill;
	/* Its exec is done: nothing holds its mmap_lock now. */
	lockdep_set_class(&hs->mm->mmap_lock, &host_mmap_lock_key);
	/* khugepaged must not collapse the host's ranges into huge PMDs. */
	compat_mm_disable_thp(hs->mm);
	if (!r->worker) {
		worker = kthread_create_worker(0, "mshare/%s", r->name);
		if (IS_ERR(worker)) {
			ret = PTR_ERR(worker);
			goto kill;
		}
		r->worker = worker;
	}
	ret = host_call_in(r->worker, r, host_start_run, hs, host_start_release);
	/* Not sized, and nothing left to run: no worker for the region yet. */
	if (ret && ret != -EINPROGRESS && worker) {
		kthread_destroy_worker(worker);
		r->worker = NULL;
	}
	return ret == -EINPROGRESS ? -EINTR : ret;
kill:
	host_kill_and_put(hs->task, hs->mm);
uncharge:
	host_uncharge_user(hs->uid);
free:
	kfree(hs);
	return ret;
}

/* No sharer is left: drop the worker, the host's mappings, its mm and task. */
void mshare_host_destroy(struct mshare_region *r)
{
	if (r->worker)
		kthread_destroy_worker(r->worker);	/* runs what was left */
	if (!r->host_mm)
		return;
	host_unpin(r);
	compat_mn_unregister_tlb_hook(&r->host_tlb_mn, r->host_mm);
	mmu_notifier_unregister(&r->host_mn, r->host_mm);
	host_kill_and_put(r->host_task, r->host_mm);
	host_uncharge_user(r->host_uid);
	r->host_task = NULL;
	r->host_mm = NULL;
}
