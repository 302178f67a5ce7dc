// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk census: how many page-table pages processes spend, how full they
 * are, which PTE and PMD tables are byte-for-byte duplicates of another
 * process's (same PFNs, same protection) and could be shared, and which
 * are already shared (one table page reached from several mms: mshare
 * regions, hugetlb PMD sharing).
 *
 * The census runs when the query is written. Per process it takes
 * mmap_lock for read and walks the tables under its VMAs; every PTE and
 * PMD table it reaches leaves one 24-byte record (a 64-bit hash of the
 * table's entries, its PFN, the process, what it maps), never a copy of
 * the table. Sorting the records by PFN finds tables reached from several
 * processes; sorting the distinct tables by hash finds duplicates.
 */
#include <linux/ctype.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/hugetlb.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include <compat/pgtable.h>

#include "ptwalk.h"

#define CENSUS_MAX_RECS		BIT(22)	/* 96 MiB of records */
#define CENSUS_MAX_LABELS	1024
#define CENSUS_MAX_PIDS		64		/* in a pid= list */
#define CENSUS_NAME_LEN		96
#define MSHAREFS_MAGIC		0x4d534852
/*
 * Bits the MMU or Linux set per process; they do not make tables differ.
 * SAVED_DIRTY (6.6+) is the dirty bit of a write-protected entry.
 */
#define CENSUS_VOLATILE		(_PAGE_ACCESSED | _PAGE_DIRTY | \
				 _PAGE_SOFT_DIRTY | COMPAT_PAGE_SAVED_DIRTY)

enum census_kind {
	CK_OTHER, CK_ANON, CK_ANON_SHARED, CK_SHMEM, CK_FILE, CK_HUGETLB,
	CK_MSHARE, CK_SPECIAL, NR_CK,
};

static const char *const census_kind_names[NR_CK] = {
	"other", "anon", "anon_shared", "shmem", "file", "hugetlb", "mshare",
	"special",
};

/* Present entries per table: 0, 1-7, 8-63, 64-255, 256-511, 512. */
#define CENSUS_FILL	6
static const char *const census_fill_names[CENSUS_FILL] = {
	"0", "1-7", "8-63", "64-255", "256-511", "512",
};

/* Levels with records (duplicate and sharing search): PTE and PMD. */
#define CENSUS_RLEVELS	2

struct census_rec {
	u64 hash;
	u64 pfn : 52, level : 1, empty : 1;
	u32 proc;
	u16 label;
};

struct census_proc {
	pid_t pid;
	char comm[TASK_COMM_LEN];
	const char *status;	/* "ok", "exited", "no_mm", "same_mm" */
	struct mm_struct *mm;	/* mmgrab()ed while the census runs only */
	unsigned long tables[PTW_NR_LEVELS];
	unsigned long deposit;	/* PTE tables deposited for anon THPs */
	unsigned long shared;	/* tables also reached from another process */
	unsigned long fill[CENSUS_RLEVELS][CENSUS_FILL];
};

struct census_label {
	struct hlist_node node;
	enum census_kind kind;
	const void *key;	/* the inode, or NULL */
	char name[CENSUS_NAME_LEN];
	unsigned long dup_sets[CENSUS_RLEVELS], dup_tables[CENSUS_RLEVELS];
	unsigned long sh_tables[CENSUS_RLEVELS], sh_links[CENSUS_RLEVELS];
};

struct ptw_census {
	bool kv, all;
	unsigned long start, end;
	const char *status;	/* "ok" or "truncated" */
	struct census_proc *procs;
	unsigned int nr_procs;
	struct census_rec *recs;
	unsigned int nr_recs, max_recs;
	struct census_label *labels;
	unsigned int nr_labels;
	DECLARE_HASHTABLE(label_hash, 8);
	/* Totals. */
	unsigned long fill[PTW_NR_LEVELS][CENSUS_FILL];
	unsigned long reached, distinct, exited;
	size_t memory;		/* bytes allocated, records aside */
	size_t rec_peak;	/* most bytes the records took at once */
};

/* State of one process's walk. */
struct census_walk {
	struct ptw_census *c;
	struct census_proc *p;
	struct mm_struct *mm;
	struct vm_area_struct *vma;	/* being walked */
	u32 proc;
	u16 label;
	bool anon;
	unsigned long seen[PTW_NR_LEVELS];	/* last byte of last table */
};

/* ----------------------------------------------------------- labels */

static u16 census_label_of(struct ptw_census *c, enum census_kind kind,
			   const void *key, const char *name)
{
	struct census_label *l;
	u32 h = hash_ptr(key, 32) ^ kind;

	hash_for_each_possible(c->label_hash, l, node, h)
		if (l->kind == kind && l->key == key &&
		    (key || !strncmp(l->name, name, CENSUS_NAME_LEN - 1)))
			return l - c->labels;
	if (c->nr_labels == CENSUS_MAX_LABELS)
		return 0;			/* label 0: "other" */
	l = &c->labels[c->nr_labels];
	l->kind = kind;
	l->key = key;
	strscpy(l->name, name, sizeof(l->name));
	hash_add(c->label_hash, &l->node, h);
	return c->nr_labels++;
}

/* What a VMA maps: a kind and an object, for grouping tables. */
static u16 census_vma_label(struct ptw_census *c, struct vm_area_struct *vma)
{
	struct file *file = vma->vm_file;
	char buf[CENSUS_NAME_LEN], *name;
	enum census_kind kind;

	if (!file) {
		const char *special = NULL;

		if (vma_is_anonymous(vma))
			return census_label_of(c, CK_ANON, NULL, "[anon]");
		if (vma->vm_ops && vma->vm_ops->name)
			special = vma->vm_ops->name(vma);
		return census_label_of(c, CK_SPECIAL, NULL,
				       special ?: "[special]");
	}
	switch (file_inode(file)->i_sb->s_magic) {
	case TMPFS_MAGIC:
		kind = !strcmp(file->f_path.dentry->d_name.name, "dev/zero") ?
		       CK_ANON_SHARED : CK_SHMEM;
		break;
	case HUGETLBFS_MAGIC:
		kind = CK_HUGETLB;
		break;
	case MSHAREFS_MAGIC:
		kind = CK_MSHARE;
		break;
	default:
		kind = CK_FILE;
	}
	if (is_vm_hugetlb_page(vma))
		kind = CK_HUGETLB;
	name = d_path(&file->f_path, buf, sizeof(buf));
	if (IS_ERR(name))
		name = "[unnamed]";
	if (kind == CK_ANON_SHARED) {
		snprintf(buf, sizeof(buf), "[anon shared ino=%llu]",
			 (unsigned long long)file_inode(file)->i_ino);
		name = buf;
	}
	return census_label_of(c, kind, file_inode(file), name);
}

/* ------------------------------------------------------------- walk */

static unsigned int census_fill_bucket(unsigned int present)
{
	if (!present)
		return 0;
	if (present < 8)
		return 1;
	if (present < 64)
		return 2;
	if (present < 256)
		return 3;
	return present < PTRS_PER_PTE ? 4 : 5;
}

/*
 * A 64-bit hash of a table's entries, position by position, leaving out
 * Accessed, Dirty and soft-dirty, and on 6.6+ SAVED_DIRTY (swap entries do
 * not use bits 5 and 6; bit 11 and, on 6.6+, bit 58 of a swap entry's
 * offset are lost, which can only merge two tables that differ in nothing
 * else). The entries are read once each without the table's lock: a table
 * that changes during the census is hashed in one of its states. This
 * loop is the census's cost: no branches in it.
 */
static u64 census_hash(const u64 *ent, unsigned int *present)
{
	const u64 mask = ~(u64)CENSUS_VOLATILE;
	u64 h = 0x5bd1e9955bd1e995ULL;
	unsigned int i, n = 0;

	for (i = 0; i < PTRS_PER_PTE; i += 2) {
		u64 v0 = READ_ONCE(ent[i]), v1 = READ_ONCE(ent[i + 1]);

		n += (v0 & _PAGE_PRESENT) + (v1 & _PAGE_PRESENT);
		h = (rol64(h, 27) ^ (v0 & mask)) * 0x9e3779b97f4a7c15ULL;
		h = (rol64(h, 27) ^ (v1 & mask)) * 0x9e3779b97f4a7c15ULL;
	}
	*present = n;
	return h ^ (h >> 31);
}

static unsigned int census_first_present(const u64 *ent)
{
	unsigned int i;

	for (i = 0; i < PTRS_PER_PTE - 1; i++)
		if (READ_ONCE(ent[i]) & _PAGE_PRESENT)
			break;
	return i;
}

/* What a table holds: its hash, its present entries, the first of them. */
struct census_meas {
	u64 hash;
	unsigned int present, first;
};

static void census_measure(const void *table, struct census_meas *m)
{
	const u64 *ent = (const u64 *)((unsigned long)table & PAGE_MASK);

	m->hash = census_hash(ent, &m->present);
	m->first = m->present ? census_first_present(ent) : 0;
}

static int census_add_rec(struct ptw_census *c, const struct census_rec *r)
{
	if (c->nr_recs == c->max_recs) {
		unsigned int max = c->max_recs ? 2 * c->max_recs : 4096;
		struct census_rec *n;

		if (c->max_recs >= CENSUS_MAX_RECS)
			return -ENOSPC;
		n = kvmalloc_array(max, sizeof(*n), GFP_KERNEL);
		if (!n)
			return -ENOMEM;
		if (c->recs)
			memcpy(n, c->recs, c->nr_recs * sizeof(*n));
		kvfree(c->recs);
		c->recs = n;
		/* While growing, the old and the new array both exist. */
		c->rec_peak = max_t(size_t, c->rec_peak,
				    (max + c->max_recs) * sizeof(*n));
		c->max_recs = max;
	}
	c->recs[c->nr_recs++] = *r;
	return 0;
}

/* Was the @level table for @va counted already (another VMA in it)? */
static bool census_seen(struct census_walk *cw, enum ptw_level level,
			unsigned long va, unsigned long span)
{
	unsigned long last = (va & ~(span - 1)) + span - 1;

	return cw->seen[level] && last <= cw->seen[level];
}

/*
 * Count the table @pfn spanning @span from @va, holding @m, once per
 * process; PTE and PMD tables also leave a record.
 */
static int census_table(struct census_walk *cw, enum ptw_level level,
			unsigned long pfn, const struct census_meas *m,
			unsigned long va, unsigned long span)
{
	unsigned int bucket = census_fill_bucket(m->present);
	unsigned long first = va & ~(span - 1);
	struct ptw_census *c = cw->c;
	struct census_rec r;

	cw->seen[level] = first + span - 1;
	cw->p->tables[level]++;
	c->reached++;
	c->fill[level][bucket]++;
	if (level > PTW_PMD)
		return 0;
	cw->p->fill[level][bucket]++;
	r.hash = m->hash;
	r.pfn = pfn;
	r.level = level;
	r.empty = !m->present;
	r.proc = cw->proc;
	r.label = cw->label;
	/* A table is labelled with what its first present entry maps. */
	va = first + m->first * (span / PTRS_PER_PTE);
	if (m->present && (va < cw->vma->vm_start || va >= cw->vma->vm_end)) {
		struct vm_area_struct *vma = find_vma(cw->mm, va);

		if (vma && vma->vm_start <= va)
			r.label = census_vma_label(c, vma);
	}
	return census_add_rec(c, &r);
}

/* A PMD, PUD or P4D table: only munmap() frees those, under mmap_lock. */
static int census_upper_table(struct census_walk *cw, enum ptw_level level,
			      const void *table, unsigned long va,
			      unsigned long span)
{
	struct census_meas m;

	if (census_seen(cw, level, va, span))
		return 0;
	census_measure(table, &m);
	return census_table(cw, level, __pa(table) >> PAGE_SHIFT, &m, va,
			    span);
}

/*
 * Measure the PTE table *@pmd points to without its lock, as
 * pte_offset_map() reads one: under RCU (since 6.6 PTE tables are freed
 * while mmap_lock is read-held, after a grace period: khugepaged,
 * PT_RECLAIM), through a snapshot of the PMD that must still be there once
 * the table has been read (compat/pgtable.h). False if *@pmd is not, or no
 * longer, that table.
 */
static bool census_read_pte_table(pmd_t *pmd, unsigned long addr,
				  struct census_meas *m, unsigned long *pfn)
{
	bool same = false;
	pmd_t pmdval;
	pte_t *pte;

	compat_pte_map_begin();
	pte = compat_pte_offset_map(pmd, addr, &pmdval);
	if (pte) {
		census_measure(pte, m);
		*pfn = pmd_pfn(pmdval);
		same = pmd_same(pmdval, compat_pmdp_get_lockless(pmd));
	}
	compat_pte_map_end();
	return same;
}

static int census_pmd(struct census_walk *cw, pud_t *pud, unsigned long addr,
		      unsigned long end)
{
	pmd_t *pmd = pmd_offset(pud, addr);
	unsigned long next;
	int ret;

	ret = census_upper_table(cw, PTW_PMD, pmd, addr, PUD_SIZE);
	for (; !ret && addr < end; pmd++, addr = next) {
		struct census_meas m;
		unsigned long pfn;
		u64 v;

		next = pmd_addr_end(addr, end);
again:
		v = pmd_val(compat_pmdp_get_lockless(pmd));
		if (!v)
			continue;
		/* A THP (or its migration entry) has a PTE table deposited. */
		if ((v & _PAGE_PSE) || !(v & _PAGE_PRESENT)) {
			cw->p->deposit += cw->anon;
			continue;
		}
		if (census_seen(cw, PTW_PTE, addr, PMD_SIZE))
			continue;
		if (!census_read_pte_table(pmd, addr, &m, &pfn))
			goto again;
		ret = census_table(cw, PTW_PTE, pfn, &m, addr, PMD_SIZE);
	}
	return ret;
}

static int census_pud(struct census_walk *cw, p4d_t *p4d, unsigned long addr,
		      unsigned long end)
{
	pud_t *pud = pud_offset(p4d, addr);
	unsigned long next;
	int ret;

	ret = census_upper_table(cw, PTW_PUD, pud, addr, P4D_SIZE);
	for (; !ret && addr < end; pud++, addr = next) {
		u64 v = pud_val(READ_ONCE(*pud));

		next = pud_addr_end(addr, end);
		if ((v & _PAGE_PRESENT) && !(v & _PAGE_PSE))
			ret = census_pmd(cw, pud, addr, next);
	}
	return ret;
}

static int census_range(struct census_walk *cw, struct mm_struct *mm,
			unsigned long addr, unsigned long end)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	unsigned long next, p4next;
	int ret = 0;

	for (; !ret && addr < end; pgd++, addr = next) {
		p4d_t *p4d;

		next = pgd_addr_end(addr, end);
		if (!(pgd_val(READ_ONCE(*pgd)) & _PAGE_PRESENT))
			continue;
		p4d = p4d_offset(pgd, addr);
		if (ptw_levels5())
			ret = census_upper_table(cw, PTW_P4D, p4d, addr,
						 PGDIR_SIZE);
		for (; !ret && addr < next; p4d++, addr = p4next) {
			p4next = p4d_addr_end(addr, next);
			if (p4d_val(READ_ONCE(*p4d)) & _PAGE_PRESENT)
				ret = census_pud(cw, p4d, addr, p4next);
		}
		addr = next;
	}
	return ret;
}

/* Walk one process's tables under its VMAs in [c->start, c->end). */
static int census_mm(struct ptw_census *c, u32 proc, struct mm_struct *mm)
{
	struct census_walk cw = {
		.c = c, .p = &c->procs[proc], .mm = mm, .proc = proc,
	};
	unsigned long addr = c->start;
	struct census_meas m;
	int ret = 0;

	if (mmap_read_lock_killable(mm))
		return -EINTR;
	census_measure(mm->pgd, &m);
	cw.p->tables[PTW_PGD] = 1;
	c->reached++;
	c->fill[PTW_PGD][census_fill_bucket(m.present)]++;
	while (!ret && addr < c->end) {
		struct vm_area_struct *vma = find_vma(mm, addr);

		if (!vma || vma->vm_start >= c->end)
			break;
		cw.vma = vma;
		cw.label = census_vma_label(c, vma);
		cw.anon = vma_is_anonymous(vma);
		addr = max(addr, vma->vm_start);
		ret = census_range(&cw, mm, addr, min(c->end, vma->vm_end));
		addr = vma->vm_end;
		if (!ret && fatal_signal_pending(current))
			ret = -EINTR;
		cond_resched();
	}
	mmap_read_unlock(mm);
	return ret;
}

/* Take the process's mm and walk it; a gone process is a status. */
static int census_proc(struct ptw_census *c, u32 proc, struct pid *pid)
{
	struct census_proc *p = &c->procs[proc];
	struct task_struct *task = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	struct mm_struct *mm = NULL;
	bool kthread = false;
	unsigned int i;
	int ret;

	if (task) {
		get_task_comm(p->comm, task);
		kthread = task->flags & PF_KTHREAD;
		mm = get_task_mm(task);
		put_task_struct(task);
	}
	if (!mm) {
		/* Reaped, or a zombie without its mm; a kernel thread never had. */
		p->status = kthread ? "no_mm" : "exited";
		c->exited += !kthread;
		return 0;
	}
	for (i = 0; i < proc; i++) {
		if (c->procs[i].mm == mm) {
			p->status = "same_mm";	/* CLONE_VM: counted once */
			mmput(mm);
			return 0;
		}
	}
	mmgrab(mm);
	p->mm = mm;
	p->status = "ok";
	ret = census_mm(c, proc, mm);
	mmput(mm);
	return ret;
}

/* ------------------------------------------------------ the analysis */

static int rec_by_pfn(const void *a, const void *b)
{
	const struct census_rec *x = a, *y = b;

	if (x->pfn != y->pfn)
		return x->pfn < y->pfn ? -1 : 1;
	return x->proc < y->proc ? -1 : x->proc > y->proc;
}

static int rec_by_hash(const void *a, const void *b)
{
	const struct census_rec *x = a, *y = b;

	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->proc < y->proc ? -1 : x->proc > y->proc;
}

/* Records [i, j) with equal keys: do they come from two processes? */
static bool census_run_multi(const struct census_rec *r, unsigned int i,
			     unsigned int j)
{
	return r[i].proc != r[j - 1].proc;	/* sorted by proc last */
}

static void census_analyse(struct ptw_census *c)
{
	struct census_rec *r = c->recs;
	unsigned int i, j, n = 0;

	/* Tables reached from several processes: count each once. */
	sort(r, c->nr_recs, sizeof(*r), rec_by_pfn, NULL);
	for (i = 0; i < c->nr_recs; i = j) {
		for (j = i + 1; j < c->nr_recs && r[j].pfn == r[i].pfn; j++)
			;
		if (census_run_multi(r, i, j)) {
			struct census_label *l = &c->labels[r[i].label];
			unsigned int k;

			l->sh_tables[r[i].level]++;
			l->sh_links[r[i].level] += j - i;
			for (k = i; k < j; k++)
				c->procs[r[k].proc].shared++;
		}
		r[n++] = r[i];
	}
	c->distinct = c->reached - (c->nr_recs - n);
	c->nr_recs = n;

	/* Distinct tables with the same contents in several processes. */
	sort(r, n, sizeof(*r), rec_by_hash, NULL);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && r[j].level == r[i].level &&
		     r[j].hash == r[i].hash; j++)
			;
		if (!r[i].empty && census_run_multi(r, i, j)) {
			struct census_label *l = &c->labels[r[i].label];

			l->dup_sets[r[i].level]++;
			l->dup_tables[r[i].level] += j - i;
		}
	}
}

/* ------------------------------------------------------------ query */

static int census_add_pid(struct ptw_census *c, struct pid **pids,
			  struct pid *pid)
{
	unsigned int i;

	for (i = 0; i < c->nr_procs; i++)
		if (pids[i] == pid)
			return -EINVAL;		/* each PID once */
	c->procs[c->nr_procs].pid = pid_vnr(pid);
	pids[c->nr_procs++] = get_pid(pid);
	return 0;
}

/* The thread-group leaders of the caller's PID namespace. */
static int census_all_pids(struct ptw_census *c, struct pid ***pidsp)
{
	struct task_struct *t;
	unsigned int n = 0, max;
	struct pid **pids;

	rcu_read_lock();
	for_each_process(t)
		n++;
	rcu_read_unlock();
	max = n + 64;
	pids = kvcalloc(max, sizeof(*pids), GFP_KERNEL);
	c->procs = kvcalloc(max, sizeof(*c->procs), GFP_KERNEL);
	if (!pids || !c->procs) {
		kvfree(pids);
		return -ENOMEM;
	}
	c->memory += max * (sizeof(*pids) + sizeof(*c->procs));
	rcu_read_lock();
	for_each_process(t) {
		struct pid *pid = task_tgid(t);

		if (c->nr_procs == max)
			break;
		if (t->flags & PF_KTHREAD || !pid_vnr(pid))
			continue;
		c->procs[c->nr_procs].pid = pid_vnr(pid);
		pids[c->nr_procs++] = get_pid(pid);
	}
	rcu_read_unlock();
	*pidsp = pids;
	return 0;
}

static int census_list_pids(struct ptw_census *c, char *list,
			    struct pid ***pidsp)
{
	struct pid **pids;
	char *tok;
	int ret = 0;

	pids = kcalloc(CENSUS_MAX_PIDS, sizeof(*pids), GFP_KERNEL);
	c->procs = kvcalloc(CENSUS_MAX_PIDS, sizeof(*c->procs), GFP_KERNEL);
	if (!pids || !c->procs) {
		kfree(pids);
		return -ENOMEM;
	}
	c->memory += CENSUS_MAX_PIDS * (sizeof(*pids) + sizeof(*c->procs));
	*pidsp = pids;
	while (!ret && (tok = strsep(&list, ",")) != NULL) {
		struct pid *pid;
		int nr;

		if (c->nr_procs == CENSUS_MAX_PIDS)
			return -E2BIG;
		if (!strcmp(tok, "self"))
			nr = task_tgid_vnr(current);
		else if (kstrtoint(tok, 10, &nr) || nr <= 0)
			return -EINVAL;
		pid = find_get_pid(nr);
		if (pid) {
			ret = census_add_pid(c, pids, pid);
			put_pid(pid);
		} else {
			/* Gone already: reported like one that exits later. */
			c->procs[c->nr_procs].pid = nr;
			pids[c->nr_procs++] = NULL;
		}
	}
	return ret;
}

bool ptw_census_query(const char *buf)
{
	const char *p = strstr(buf, "view=census");

	return p && (p == buf || isspace(p[-1])) &&
	       (!p[11] || isspace(p[11]));
}

static int census_parse(struct ptw_census *c, char *buf, char **pidlist)
{
	bool have[5] = {};
	static const char *const keys[5] = {
		"view", "pid", "format", "start", "end",
	};
	char *tok;

	c->start = 0;
	c->end = ptw_user_end();
	*pidlist = NULL;
	while ((tok = strsep(&buf, " \t\n")) != NULL) {
		char *val;
		int k;

		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val || !val[1])
			return -EINVAL;
		*val++ = '\0';
		for (k = 0; k < 5 && strcmp(tok, keys[k]); k++)
			;
		if (k == 5 || have[k])
			return -EINVAL;
		have[k] = true;
		if (k == 1)
			*pidlist = val;
		else if (k == 2 && (!strcmp(val, "kv") || !strcmp(val, "text")))
			c->kv = !strcmp(val, "kv");
		else if (k == 3 && !kstrtoul(val, 0, &c->start))
			continue;
		else if (k == 4 && !kstrtoul(val, 0, &c->end))
			continue;
		else if (k != 0 && k != 1)
			return -EINVAL;
	}
	c->all = !*pidlist || !strcmp(*pidlist, "all");
	c->start &= PAGE_MASK;
	if (c->end > ptw_user_end() || c->start >= c->end)
		return -EINVAL;
	return 0;
}

/* The mms only tell CLONE_VM processes apart while the census runs. */
static void census_drop_mms(struct ptw_census *c)
{
	unsigned int i;

	for (i = 0; c->procs && i < c->nr_procs; i++) {
		if (c->procs[i].mm)
			mmdrop(c->procs[i].mm);
		c->procs[i].mm = NULL;
	}
}

void ptw_census_free(struct ptw_census *c)
{
	if (!c)
		return;
	census_drop_mms(c);
	kvfree(c->procs);
	kvfree(c->recs);
	kvfree(c->labels);
	kfree(c);
}

/*
 * Parse a census query and run the census. @buf is consumed. On error
 * nothing is returned and nothing stays allocated.
 */
int ptw_census_run(char *buf, struct ptw_census **cp)
{
	struct pid **pids = NULL;
	struct ptw_census *c;
	char *pidlist;
	unsigned int i;
	int ret;

	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	hash_init(c->label_hash);
	c->status = "ok";
	ret = census_parse(c, buf, &pidlist);
	if (ret)
		goto out;
	c->labels = kvcalloc(CENSUS_MAX_LABELS, sizeof(*c->labels),
			     GFP_KERNEL);
	if (!c->labels) {
		ret = -ENOMEM;
		goto out;
	}
	c->memory += sizeof(*c) + CENSUS_MAX_LABELS * sizeof(*c->labels);
	census_label_of(c, CK_OTHER, NULL, "[other]");
	ret = c->all ? census_all_pids(c, &pids) :
		       census_list_pids(c, pidlist, &pids);
	for (i = 0; !ret && i < c->nr_procs; i++) {
		ret = census_proc(c, i, pids[i]);
		if (ret == -ENOSPC) {
			c->status = "truncated";
			ret = 0;
			break;
		}
	}
	if (!ret)
		census_analyse(c);
out:
	census_drop_mms(c);
	for (i = 0; pids && i < c->nr_procs; i++)
		put_pid(pids[i]);
	kvfree(pids);
	if (ret) {
		ptw_census_free(c);
		return ret;
	}
	*cp = c;
	return 0;
}

/* ------------------------------------------------------------ output */

static void census_show_fill(struct seq_file *m, const unsigned long *fill,
			     char sep, char end)
{
	int b;

	for (b = 0; b < CENSUS_FILL; b++)
		seq_printf(m, "%lu%c", fill[b], b + 1 < CENSUS_FILL ? sep : end);
}

static void census_show_proc(struct seq_file *m, struct ptw_census *c,
			     const struct census_proc *p)
{
	unsigned long bytes = 0;
	int l;

	for (l = 0; l < PTW_NR_LEVELS; l++)
		bytes += p->tables[l] * PAGE_SIZE;
	if (c->kv) {
		seq_printf(m, "rec=proc pid=%d status=%s", p->pid, p->status);
		for (l = PTW_NR_LEVELS - 1; l >= 0; l--)
			seq_printf(m, " %s=%lu", ptw_level_names[l],
				   p->tables[l]);
		seq_printf(m, " bytes=%lu deposited_pte=%lu shared=%lu fill_pmd=",
			   bytes, p->deposit, p->shared);
		census_show_fill(m, p->fill[PTW_PMD], ',', ' ');
		seq_puts(m, "fill_pte=");
		census_show_fill(m, p->fill[PTW_PTE], ',', ' ');
		seq_printf(m, "comm=%s\n", p->comm);
		return;
	}
	seq_printf(m, "%7d %-15s %-7s %3lu %3lu %3lu %5lu %9lu %7lu KiB %6lu  ",
		   p->pid, p->comm, p->status, p->tables[PTW_P4D],
		   p->tables[PTW_PUD], p->tables[PTW_PMD], p->tables[PTW_PTE],
		   p->deposit, bytes >> 10, p->shared);
	census_show_fill(m, p->fill[PTW_PTE], '/', '\n');
}

static void census_show_label(struct seq_file *m, struct ptw_census *c,
			      const struct census_label *l)
{
	int lv;

	for (lv = PTW_PTE; lv < CENSUS_RLEVELS; lv++) {
		unsigned long saved = l->dup_tables[lv] - l->dup_sets[lv];
		unsigned long shsaved = l->sh_links[lv] - l->sh_tables[lv];

		if (l->dup_tables[lv] && c->kv)
			seq_printf(m, "rec=dup level=%s kind=%s sets=%lu tables=%lu saved_tables=%lu saved_bytes=%lu object=%s\n",
				   ptw_level_names[lv],
				   census_kind_names[l->kind], l->dup_sets[lv],
				   l->dup_tables[lv], saved, saved * PAGE_SIZE,
				   l->name);
		else if (l->dup_tables[lv])
			seq_printf(m, "duplicate %s %-11s %6lu tables in %6lu sets, one copy each saves %8lu KiB  %s\n",
				   ptw_level_names[lv],
				   census_kind_names[l->kind], l->dup_tables[lv],
				   l->dup_sets[lv], saved * PAGE_SIZE >> 10,
				   l->name);
		if (l->sh_tables[lv] && c->kv)
			seq_printf(m, "rec=shared level=%s kind=%s tables=%lu links=%lu saved_tables=%lu saved_bytes=%lu object=%s\n",
				   ptw_level_names[lv],
				   census_kind_names[l->kind], l->sh_tables[lv],
				   l->sh_links[lv], shsaved, shsaved * PAGE_SIZE,
				   l->name);
		else if (l->sh_tables[lv])
			seq_printf(m, "shared    %s %-11s %6lu tables, %6lu links, sharing saves %8lu KiB  %s\n",
				   ptw_level_names[lv],
				   census_kind_names[l->kind], l->sh_tables[lv],
				   l->sh_links[lv], shsaved * PAGE_SIZE >> 10,
				   l->name);
	}
}

static void census_show_totals(struct seq_file *m, struct ptw_census *c)
{
	unsigned long saved = 0, sets = 0, dup = 0;
	unsigned int i;
	int l;

	for (i = 0; i < c->nr_labels; i++) {
		for (l = 0; l < CENSUS_RLEVELS; l++) {
			sets += c->labels[i].dup_sets[l];
			dup += c->labels[i].dup_tables[l];
		}
	}
	saved = dup - sets;
	if (c->kv) {
		for (l = PTW_NR_LEVELS - 1; l >= 0; l--) {
			if (l == PTW_P4D && !ptw_levels5())
				continue;
			seq_printf(m, "rec=fill level=%s ", ptw_level_names[l]);
			for (i = 0; i < CENSUS_FILL; i++)
				seq_printf(m, "%s%s=%lu", i ? " " : "",
					   census_fill_names[i], c->fill[l][i]);
			seq_putc(m, '\n');
		}
		seq_printf(m, "rec=total processes=%u exited=%lu tables=%lu bytes=%lu distinct_tables=%lu distinct_bytes=%lu dup_tables=%lu dup_sets=%lu saved_bytes=%lu memory=%zu record_bytes=%zu\n",
			   c->nr_procs, c->exited, c->reached,
			   c->reached * PAGE_SIZE, c->distinct,
			   c->distinct * PAGE_SIZE, dup, sets,
			   saved * PAGE_SIZE, c->memory + c->rec_peak,
			   sizeof(struct census_rec));
		seq_printf(m, "rec=end status=%s\n", c->status);
		return;
	}
	seq_puts(m, "present entries per table   ");
	for (i = 0; i < CENSUS_FILL; i++)
		seq_printf(m, " %8s", census_fill_names[i]);
	seq_putc(m, '\n');
	for (l = PTW_NR_LEVELS - 1; l >= 0; l--) {
		if (l == PTW_P4D && !ptw_levels5())
			continue;
		seq_printf(m, "  %s tables                ", ptw_level_names[l]);
		for (i = 0; i < CENSUS_FILL; i++)
			seq_printf(m, " %8lu", c->fill[l][i]);
		seq_putc(m, '\n');
	}
	seq_printf(m, "processes %u (%lu exited during the census)\n",
		   c->nr_procs, c->exited);
	seq_printf(m, "table pages reached %lu (%lu KiB), distinct %lu (%lu KiB)\n",
		   c->reached, c->reached * PAGE_SIZE >> 10, c->distinct,
		   c->distinct * PAGE_SIZE >> 10);
	seq_printf(m, "duplicate tables %lu in %lu sets: sharing would save %lu KiB\n",
		   dup, sets, saved * PAGE_SIZE >> 10);
	seq_printf(m, "census memory %zu bytes (%zu per table record, no table copies)\n",
		   c->memory + c->rec_peak, sizeof(struct census_rec));
	if (strcmp(c->status, "ok"))
		seq_printf(m, "# census ended early: %s\n", c->status);
}

/*
 * The answer is ptw_census_records() records: 0 the header, 1..nr_procs
 * the processes, then the labels with duplicates or shared tables, then
 * the totals. ptw_census_show() prints record @rec.
 */
unsigned int ptw_census_records(const struct ptw_census *c)
{
	return c->nr_procs + c->nr_labels + 2;
}

void ptw_census_show(struct seq_file *m, struct ptw_census *c,
		     unsigned int rec)
{
	if (rec == 0) {
		if (!c->kv)
			seq_puts(m, "    pid comm            status  p4d pud pmd   pte deposited  all tables shared  pte tables by present entries 0/1-7/8-63/64-255/256-511/512\n");
		return;
	}
	if (rec <= c->nr_procs) {
		census_show_proc(m, c, &c->procs[rec - 1]);
		return;
	}
	rec -= c->nr_procs + 1;
	if (rec < c->nr_labels)
		census_show_label(m, c, &c->labels[rec]);
	else
		census_show_totals(m, c);
}
