// SPDX-License-Identifier: GPL-2.0
/*
 * ptwalk's debugfs interface: /sys/kernel/debug/ptwalk/walk.
 *
 * Each open file is one query: write "pid=N [start=A] [end=B] [view=V]
 * [format=F] [addr=X]", then read the answer from the same descriptor.
 * Answers stream through seq_file one chunk of the walk per record; a
 * record may be shown twice (seq_file retries when its buffer overflows),
 * so show() works on a copy of the progress and next() commits it.
 */
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/kernel-page-flags.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <linux/ptwalk.h>

#include "ptwalk.h"

/* The binary records name levels and kinds with the internal numbers. */
static_assert((int)PTW_PTE == (int)PTWALK_PTE && (int)PTW_PGD == (int)PTWALK_PGD);
static_assert((int)PTW_LEAF == (int)PTWALK_LEAF &&
	      (int)PTW_OTHER == (int)PTWALK_OTHER &&
	      (int)PTW_REPEAT == (int)PTWALK_REPEAT);
static_assert(sizeof(struct ptwalk_record) == 64);

#define PTW_QUERY_MAX	256
#define PTW_BUDGET_OUT	PTRS_PER_PTE		/* entries per printed chunk */
#define PTW_BUDGET_SUM	(64 * PTRS_PER_PTE)	/* entries per silent chunk */
#define PTW_SPAN_64K	16			/* 4K pages in 64K */

enum ptw_view { VIEW_LEAVES, VIEW_RANGES, VIEW_PATH, VIEW_TABLES,
		VIEW_SUMMARY, NR_VIEWS };
static const char *const view_names[NR_VIEWS] = {
	"leaves", "ranges", "path", "tables", "summary",
};

enum ptw_format { FMT_TEXT, FMT_KV, FMT_BIN, NR_FORMATS };
static const char *const format_names[NR_FORMATS] = { "text", "kv", "bin" };

struct ptw_query {
	pid_t pid;		/* 0: the kernel */
	unsigned long start, end, addr;
	enum ptw_view view;
	enum ptw_format format;
};

struct ptw_stats {
	unsigned long leaves[3];		/* 4K, 2M, 1G */
	unsigned long tables[PTW_NR_LEVELS];
	unsigned long kinds[PTW_NR_KINDS];
	unsigned long deposited;		/* PTE tables behind huge PMDs */
	unsigned long spans_64k, contig_64k, spans_2m, contig_2m;
};

/* A run of leaves merged for the ranges view. */
struct ptw_range {
	unsigned long start, end, count;
	u64 eff;
	enum ptw_level level;
	enum ptw_kind kind;
};

/* Everything a chunk changes: committed in next(), worked on in show(). */
struct ptw_progress {
	unsigned long cursor;
	bool done;
	unsigned long table_seen[PTW_NR_LEVELS];
	struct ptw_stats stats;
	struct ptw_range range;
};

struct ptw_file {
	bool have_query;
	struct ptw_query q;
	struct mm_struct *mm;		/* mmgrab()ed; NULL for the kernel */
	bool mm_live;			/* mmget() held between start and stop */
	const char *status;		/* "ok", "exited", "interrupted" */
	bool finished;			/* the last record has been shown */
	size_t chunk_bytes;		/* output of the previous chunk */
	struct ptw_walk walk;
	struct ptw_progress done, work;
	struct seq_file *m;
	struct ptw_census *census;	/* view=census: census.c's answer */
};

static struct dentry *ptw_dir;

/* ---------------------------------------------------------------- output */

static void emit_range(struct ptw_file *f, const struct ptw_range *r)
{
	char hw[64];

	if (!r->count)
		return;
	hw[0] = '\0';
	if (r->kind == PTW_LEAF || r->kind == PTW_PROTNONE)
		snprintf(hw, sizeof(hw), "%s %s %s",
			 r->eff & _PAGE_USER ? "USR" : "   ",
			 r->eff & _PAGE_RW ? "RW" : "ro",
			 r->eff & _PAGE_NX ? "NX" : "x ");
	if (f->q.format == FMT_KV)
		seq_printf(f->m, "rec=range start=0x%lx end=0x%lx size=%lu level=%s kind=%s count=%lu us=%d rw=%d nx=%d\n",
			   r->start, r->end, r->end - r->start,
			   ptw_level_names[r->level], ptw_kind_names[r->kind],
			   r->count, !!(r->eff & _PAGE_USER),
			   !!(r->eff & _PAGE_RW), !!(r->eff & _PAGE_NX));
	else
		seq_printf(f->m, "0x%016lx-0x%016lx %9luK %s %-8s %s x%lu\n",
			   r->start, r->end, (r->end - r->start) >> 10, hw,
			   ptw_kind_names[r->kind], ptw_level_names[r->level],
			   r->count);
}

/* format=bin: a fixed-size record, no formatting at all. */
static void emit_record(struct ptw_file *f, const struct ptw_entry *e)
{
	struct ptwalk_record rec = {
		.va = e->va, .raw = e->raw, .pfn = e->pfn, .kpf = e->page.kpf,
		.swap_offset = e->swap_offset, .size_shift = ilog2(e->size),
		.level = e->level, .kind = e->kind, .order = e->page.order,
		.refcount = e->page.refcount, .mapcount = e->page.mapcount,
		.swap_type = e->swap_type, .flags = e->flags,
	};

	if (e->eff & _PAGE_USER)
		rec.eff |= PTWALK_EFF_US;
	if (e->eff & _PAGE_RW)
		rec.eff |= PTWALK_EFF_RW;
	if (e->eff & _PAGE_NX)
		rec.eff |= PTWALK_EFF_NX;
	seq_write(f->m, &rec, sizeof(rec));
}

static void emit_entry(struct ptw_file *f, const struct ptw_entry *e)
{
	bool kv = f->q.format == FMT_KV;
	bool leaf = e->kind == PTW_LEAF || e->kind == PTW_PROTNONE;
	char hw[80], sw[128], flags[400];
	char sep = kv ? ',' : ' ';
	struct seq_file *m = f->m;

	ptw_format_entry_sw(sw, sizeof(sw), e, sep);
	if (e->kind == PTW_REPEAT) {
		if (kv)
			seq_printf(m, "rec=entry va=0x%lx size=%lu level=%s kind=repeat raw=0x%016llx pfn=0x%lx first=0x%lx\n",
				   e->va, e->size, ptw_level_names[e->level],
				   e->raw, e->pfn, e->swap_offset);
		else
			seq_printf(m, "0x%016lx %4luK %s 0x%016llx repeat: table pfn=0x%lx, walked at 0x%016lx\n",
				   e->va, e->size >> 10, ptw_level_names[e->level],
				   e->raw, e->pfn, e->swap_offset);
		return;
	}
	if (!leaf) {
		if (kv)
			seq_printf(m, "rec=entry va=0x%lx size=%lu level=%s kind=%s raw=0x%016llx sw=%s type=%u offset=0x%lx pfn=0x%lx\n",
				   e->va, e->size, ptw_level_names[e->level],
				   ptw_kind_names[e->kind], e->raw, sw,
				   e->swap_type, e->swap_offset, e->pfn);
		else
			seq_printf(m, "0x%016lx %4luK %s 0x%016llx %s type=%u offset=0x%lx pfn=0x%lx %s\n",
				   e->va, e->size >> 10, ptw_level_names[e->level],
				   e->raw, ptw_kind_names[e->kind], e->swap_type,
				   e->swap_offset, e->pfn, sw);
		return;
	}
	ptw_format_hw(hw, sizeof(hw), e->raw, e->level, true, sep);
	/* kv gives the flags as the kpf number only: naming them costs most. */
	if (kv)
		seq_printf(m, "rec=entry va=0x%lx size=%lu level=%s kind=%s raw=0x%016llx pfn=0x%lx hw=%s sw=%s pkey=%llu us=%d rw=%d nx=%d kpf=0x%llx ref=%d map=%d order=%u\n",
			   e->va, e->size, ptw_level_names[e->level],
			   ptw_kind_names[e->kind], e->raw, e->pfn, hw, sw,
			   (e->raw & _PAGE_PKEY_MASK) >> _PAGE_BIT_PKEY_BIT0,
			   !!(e->eff & _PAGE_USER), !!(e->eff & _PAGE_RW),
			   !!(e->eff & _PAGE_NX), e->page.kpf,
			   e->page.refcount, e->page.mapcount, e->page.order);
	else
		ptw_format_kpf(flags, sizeof(flags), e->page.kpf, ',');
	if (!kv)
		seq_printf(m, "0x%016lx %4luK %s 0x%016llx %-22s %-10s pfn=0x%-9lx ref=%d map=%d order=%u %s\n",
			   e->va, e->size >> 10, ptw_level_names[e->level],
			   e->raw, hw, sw, e->pfn, e->page.refcount,
			   e->page.mapcount, e->page.order, flags);
}

/* ------------------------------------------------------- walk callbacks */

static void count_entry(struct ptw_stats *s, const struct ptw_entry *e)
{
	s->kinds[e->kind]++;
	s->deposited += e->deposit;
	if (e->kind == PTW_LEAF && !e->part)
		s->leaves[e->level == PTW_PTE ? 0 : e->level == PTW_PMD ? 1 : 2]++;
}

static void on_entry(struct ptw_walk *w, const struct ptw_entry *e)
{
	struct ptw_file *f = w->priv;
	struct ptw_range *r = &f->work.range;

	count_entry(&f->work.stats, e);
	switch (f->q.view) {
	case VIEW_LEAVES:
		if (f->q.format == FMT_BIN)
			emit_record(f, e);
		else
			emit_entry(f, e);
		break;
	case VIEW_RANGES:
		if (r->count && r->end == e->va && r->level == e->level &&
		    r->kind == e->kind && r->eff == e->eff) {
			r->end += e->size;
			r->count++;
			break;
		}
		emit_range(f, r);
		*r = (struct ptw_range){ .start = e->va, .end = e->va + e->size,
					 .count = 1, .eff = e->eff,
					 .level = e->level, .kind = e->kind };
		break;
	default:
		break;
	}
}

static void on_table(struct ptw_walk *w, enum ptw_level level,
		     unsigned long pfn, unsigned long va, unsigned long span,
		     unsigned int used)
{
	struct ptw_file *f = w->priv;

	f->work.stats.tables[level]++;
	if (f->q.view != VIEW_TABLES)
		return;
	if (!span)		/* the PGD spans the whole address space */
		span = PTRS_PER_PGD * PGDIR_SIZE;
	if (f->q.format == FMT_KV)
		seq_printf(f->m, "rec=table level=%s pfn=0x%lx va=0x%lx span=%lu used=%u\n",
			   ptw_level_names[level], pfn, va, span, used);
	else
		seq_printf(f->m, "%s table pfn=0x%-9lx covers 0x%016lx +%luK used %u/%lu\n",
			   ptw_level_names[level], pfn, va, span >> 10, used,
			   PAGE_SIZE / sizeof(u64));
}

/* A span of 4K leaves is contiguous if one aligned physical run with
 * identical attributes (A and D aside) backs it.
 */
static bool span_contiguous(const u64 *attr, const unsigned long *pfns,
			    unsigned int first, unsigned int n, bool *full)
{
	unsigned int i;

	*full = false;
	for (i = 0; i < n; i++)
		if (!attr[first + i])
			return false;
	*full = true;
	if (pfns[first] & (n - 1))
		return false;
	for (i = 1; i < n; i++)
		if (attr[first + i] != attr[first] ||
		    pfns[first + i] != pfns[first] + i)
			return false;
	return true;
}

static void on_pte_table_done(struct ptw_walk *w, unsigned long table_va,
			      const u64 *attr, const unsigned long *pfns)
{
	struct ptw_stats *s = &((struct ptw_file *)w->priv)->work.stats;
	unsigned int i;
	bool full;

	for (i = 0; i < PTRS_PER_PTE; i += PTW_SPAN_64K) {
		if (span_contiguous(attr, pfns, i, PTW_SPAN_64K, &full))
			s->contig_64k++;
		s->spans_64k += full;
	}
	if (span_contiguous(attr, pfns, 0, PTRS_PER_PTE, &full))
		s->contig_2m++;
	s->spans_2m += full;
}

static const struct ptw_ops ptw_file_ops = {
	.entry = on_entry,
	.table = on_table,
	.pte_table_done = on_pte_table_done,
};

/* --------------------------------------------------------------- seq_file */

static void show_help(struct seq_file *m)
{
	seq_puts(m,
		 "write a query, then read the answer from the same fd:\n"
		 "  pid=<pid>|self|kernel [start=<va>] [end=<va>]\n"
		 "  [view=leaves|ranges|path|tables|summary] [format=text|kv]\n"
		 "  [addr=<va>] (path view only)\n"
		 "  view=census [pid=all|<pid>,<pid>...] [format=text|kv]\n"
		 "see Documentation/ptwalk.rst\n");
}

static void show_path(struct ptw_file *f)
{
	struct ptw_path path;
	int i;

	ptw_walk_path(&f->walk, f->q.addr, &path);
	for (i = 0; i < path.depth; i++) {
		struct ptw_entry *e = &path.lvl[i].e;
		char hw[80];

		ptw_format_hw(hw, sizeof(hw), e->raw, e->level,
			      e->kind == PTW_LEAF || e->kind == PTW_PROTNONE,
			      f->q.format == FMT_KV ? ',' : ' ');
		if (f->q.format == FMT_KV)
			seq_printf(f->m, "rec=path level=%s table_pfn=0x%lx index=%u raw=0x%016llx kind=%s hw=%s\n",
				   ptw_level_names[path.lvl[i].level],
				   path.lvl[i].table_pfn, path.lvl[i].index,
				   e->raw, ptw_kind_names[e->kind], hw);
		else
			seq_printf(f->m, "%s  table pfn=0x%-9lx [%3u] 0x%016llx %-6s %s\n",
				   ptw_level_names[path.lvl[i].level],
				   path.lvl[i].table_pfn, path.lvl[i].index,
				   e->raw, ptw_kind_names[e->kind], hw);
	}
	if (path.depth) {
		struct ptw_entry *e = &path.lvl[path.depth - 1].e;

		if (e->kind > PTW_TABLE)
			emit_entry(f, e);
	}
}

static void show_summary(struct ptw_file *f)
{
	const struct ptw_stats *s = &f->done.stats;
	unsigned long bytes = 0;
	int l;

	for (l = 0; l < PTW_NR_LEVELS; l++)
		bytes += s->tables[l] * PAGE_SIZE;
	if (f->q.format == FMT_KV) {
		seq_printf(f->m, "rec=summary levels=%d leaves_4k=%lu leaves_2m=%lu leaves_1g=%lu",
			   ptw_levels5() ? 5 : 4, s->leaves[0], s->leaves[1],
			   s->leaves[2]);
		for (l = PTW_NR_LEVELS - 1; l >= 0; l--)
			seq_printf(f->m, " tables_%s=%lu", ptw_level_names[l],
				   s->tables[l]);
		seq_printf(f->m, " table_bytes=%lu deposited_pte=%lu", bytes,
			   s->deposited);
		for (l = PTW_PROTNONE; l < PTW_NR_KINDS; l++)
			seq_printf(f->m, " %s=%lu", ptw_kind_names[l], s->kinds[l]);
		seq_printf(f->m, " spans_64k=%lu contig_64k=%lu spans_2m=%lu contig_2m=%lu\n",
			   s->spans_64k, s->contig_64k, s->spans_2m,
			   s->contig_2m);
		return;
	}
	seq_printf(f->m, "paging levels      %d\n", ptw_levels5() ? 5 : 4);
	seq_printf(f->m, "leaves             4K %lu, 2M %lu, 1G %lu\n",
		   s->leaves[0], s->leaves[1], s->leaves[2]);
	for (l = PTW_NR_LEVELS - 1; l >= 0; l--)
		if (l != PTW_P4D || ptw_levels5())
			seq_printf(f->m, "%s tables         %lu (%lu KiB)\n",
				   ptw_level_names[l], s->tables[l],
				   s->tables[l] * PAGE_SIZE >> 10);
	seq_printf(f->m, "table bytes        %lu\n", bytes);
	seq_printf(f->m, "deposited pte      %lu (%lu KiB, behind huge PMDs)\n",
		   s->deposited, s->deposited * PAGE_SIZE >> 10);
	seq_puts(f->m, "non-present        ");
	for (l = PTW_PROTNONE; l < PTW_REPEAT; l++)
		seq_printf(f->m, "%s %lu%s", ptw_kind_names[l], s->kinds[l],
			   l + 1 < PTW_REPEAT ? ", " : "\n");
	seq_printf(f->m, "repeated tables    %lu (walked once, where first met)\n",
		   s->kinds[PTW_REPEAT]);
	seq_printf(f->m, "contiguous 64K     %lu of %lu fully mapped spans\n",
		   s->contig_64k, s->spans_64k);
	seq_printf(f->m, "contiguous 2M      %lu of %lu fully mapped spans\n",
		   s->contig_2m, s->spans_2m);
}

/* Record 0 .. n-1: walk chunks; record n: the trailer. */
static void *ptw_seq_start(struct seq_file *m, loff_t *pos)
{
	struct ptw_file *f = m->private;

	if (!*pos) {
		memset(&f->done, 0, sizeof(f->done));
		f->chunk_bytes = 0;
		f->done.cursor = f->q.start;
		f->status = "ok";
		f->finished = false;
	}
	if (f->finished)
		return NULL;
	if (!f->have_query)
		return f;
	if (f->mm && !f->done.done) {
		if (!mmget_not_zero(f->mm)) {
			f->status = "exited";
			f->done.done = true;
			return f;
		}
		f->mm_live = true;
		if (mmap_read_lock_killable(f->mm)) {
			mmput(f->mm);
			f->mm_live = false;
			return ERR_PTR(-EINTR);
		}
	}
	return f;
}

static void ptw_seq_stop(struct seq_file *m, void *v)
{
	struct ptw_file *f = m->private;

	if (f->mm_live) {
		mmap_read_unlock(f->mm);
		mmput(f->mm);
		f->mm_live = false;
	}
}

static void *ptw_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct ptw_file *f = m->private;

	++*pos;
	if (!f->have_query || f->done.done) {
		f->finished = true;
		return NULL;
	}
	f->done = f->work;
	return f;
}

static int ptw_seq_show(struct seq_file *m, void *v)
{
	struct ptw_file *f = m->private;
	struct ptw_walk *w = &f->walk;
	bool out = f->q.view != VIEW_SUMMARY;

	f->m = m;
	if (!f->have_query) {
		show_help(m);
		return 0;
	}
	w->pgd = f->mm ? f->mm->pgd : current->mm->pgd;
	if (f->q.view == VIEW_PATH && !f->done.done) {
		show_path(f);
		f->work = f->done;
		f->work.done = true;	/* committed by next() */
		return 0;
	}
	if (f->done.done) {
		/* The trailer: what accumulates is printed once, at the end. */
		if (f->q.view == VIEW_RANGES)
			emit_range(f, &f->done.range);
		if (f->q.view == VIEW_SUMMARY)
			show_summary(f);
		if (f->q.format == FMT_BIN) {
			struct ptwalk_record end = {
				.va = PTWALK_END_VA, .kind = PTWALK_NONE,
				.raw = !strcmp(f->status, "ok") ? 0 :
				       !strcmp(f->status, "exited") ? 1 : 2,
			};

			seq_write(m, &end, sizeof(end));
		} else if (f->q.format == FMT_KV) {
			seq_printf(m, "rec=end status=%s\n", f->status);
		} else if (strcmp(f->status, "ok")) {
			seq_printf(m, "# walk ended early: %s\n", f->status);
		}
		return 0;
	}

	/*
	 * seq_file throws away a record that overflows its buffer and shows
	 * it again on the next read(): a walk that will probably not fit is
	 * not started at all (the overflow is then free). With dense output
	 * this halves the work of a dump.
	 */
	if (out && m->count && m->size - m->count < 2 * f->chunk_bytes + 256) {
		m->count = m->size;	/* what seq_file calls overflow */
		return 0;
	}
	f->chunk_bytes = m->count;
	f->work = f->done;
	w->budget = out ? PTW_BUDGET_OUT : PTW_BUDGET_SUM;
	w->floor = f->work.cursor == f->q.start ? 0 : f->work.cursor;
	w->interrupted = false;
	memcpy(w->table_seen, f->work.table_seen, sizeof(w->table_seen));
	f->work.cursor = ptw_walk_chunk(w, f->work.cursor, f->q.end);
	memcpy(f->work.table_seen, w->table_seen, sizeof(w->table_seen));
	if (w->interrupted)
		f->status = "interrupted";
	if (f->work.cursor >= f->q.end || w->interrupted)
		f->work.done = true;
	f->chunk_bytes = m->count - f->chunk_bytes;
	return 0;
}

static const struct seq_operations ptw_seq_ops = {
	.start = ptw_seq_start,
	.next = ptw_seq_next,
	.stop = ptw_seq_stop,
	.show = ptw_seq_show,
};

/* ------------------------------------------------------------------ query */

static int parse_choice(const char *val, const char *const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(val, names[i]))
			return i;
	return -EINVAL;
}

/*
 * An address: decimal, or hexadecimal after "0x", as the documentation
 * says; a leading 0 does not make it octal, and no sign is accepted.
 */
static int parse_addr(const char *val, unsigned long *res)
{
	if (val[0] == '0' && (val[1] == 'x' || val[1] == 'X')) {
		if (!isxdigit(val[2]))
			return -EINVAL;
		if (val[2] == '0' && (val[3] == 'x' || val[3] == 'X'))
			return -EINVAL;	/* kstrtoul() would skip a second 0x */
		return kstrtoul(val + 2, 16, res);
	}
	if (!isdigit(val[0]))
		return -EINVAL;
	return kstrtoul(val, 10, res);
}

static int parse_query(char *buf, struct ptw_query *q)
{
	bool have_pid = false, have_start = false, have_end = false;
	bool have_addr = false, have_view = false, have_fmt = false;
	bool want_addr;
	unsigned long lo, hi;
	char *tok;
	int ret;

	memset(q, 0, sizeof(*q));
	while ((tok = strsep(&buf, " \t\n")) != NULL) {
		char *val;
		bool *seen;

		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val || !val[1])
			return -EINVAL;
		*val++ = '\0';
		if (!strcmp(tok, "pid"))
			seen = &have_pid;
		else if (!strcmp(tok, "start"))
			seen = &have_start;
		else if (!strcmp(tok, "end"))
			seen = &have_end;
		else if (!strcmp(tok, "addr"))
			seen = &have_addr;
		else if (!strcmp(tok, "view"))
			seen = &have_view;
		else if (!strcmp(tok, "format"))
			seen = &have_fmt;
		else
			return -EINVAL;
		if (*seen)
			return -EINVAL;		/* each key once */
		*seen = true;

		if (seen == &have_pid) {
			if (!strcmp(val, "kernel"))
				q->pid = 0;
			else if (!strcmp(val, "self"))
				q->pid = task_tgid_vnr(current);
			else if (!isdigit(val[0]) || kstrtoint(val, 10, &q->pid) ||
				 q->pid <= 0)
				return -EINVAL;
		} else if (seen == &have_start) {
			ret = parse_addr(val, &q->start);
		} else if (seen == &have_end) {
			ret = parse_addr(val, &q->end);
		} else if (seen == &have_addr) {
			ret = parse_addr(val, &q->addr);
		} else if (seen == &have_view) {
			ret = parse_choice(val, view_names, NR_VIEWS);
			q->view = ret;
		} else {
			ret = parse_choice(val, format_names, NR_FORMATS);
			q->format = ret;
		}
		if (seen != &have_pid && ret < 0)
			return -EINVAL;
	}
	want_addr = q->view == VIEW_PATH;
	if (!have_pid || have_addr != want_addr)
		return -EINVAL;
	if (q->format == FMT_BIN && q->view != VIEW_LEAVES)
		return -EINVAL;		/* records exist for leaves only */

	/* The half of the address space the query is about. */
	lo = q->pid ? 0 : ptw_kernel_start();
	hi = q->pid ? ptw_user_end() : PAGE_MASK;
	if (!have_start)
		q->start = lo;
	if (!have_end)
		q->end = hi;
	if (q->start < lo || q->end > hi || q->start >= q->end)
		return -EINVAL;
	if (have_addr && (q->addr < lo || q->addr >= hi))
		return -EINVAL;
	q->start &= PAGE_MASK;
	q->end = ALIGN(q->end, PAGE_SIZE);
	return 0;
}

/* The address space of a user process; kernel threads have none. */
static int query_mm(pid_t nr, struct mm_struct **mmp)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	bool kthread;

	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;
	kthread = task->flags & PF_KTHREAD;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return kthread ? -EINVAL : -ESRCH;
	mmgrab(mm);
	mmput(mm);
	*mmp = mm;
	return 0;
}

/* ------------------------------------------------------------ census */

/* view=census: the records of census.c's answer, one by one. */
static void *census_seq_start(struct seq_file *m, loff_t *pos)
{
	struct ptw_census *c = ((struct ptw_file *)m->private)->census;

	return c && *pos < ptw_census_records(c) ? c : NULL;
}

static void *census_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return census_seq_start(m, pos);
}

static void census_seq_stop(struct seq_file *m, void *v)
{
}

static int census_seq_show(struct seq_file *m, void *v)
{
	ptw_census_show(m, v, m->index);
	return 0;
}

static const struct seq_operations census_seq_ops = {
	.start = census_seq_start,
	.next = census_seq_next,
	.stop = census_seq_stop,
	.show = census_seq_show,
};

/* Under m->lock: answer reads with @c through @ops from now on. */
static void census_replace(struct seq_file *m, struct ptw_census *c,
			   const struct seq_operations *ops)
{
	struct ptw_file *f = m->private;

	ptw_census_free(f->census);
	f->census = c;
	m->op = ops;
}

/* view=census: census.c runs the whole census now; @buf is consumed. */
static ssize_t census_write(struct file *file, char *buf, size_t count,
			    loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct ptw_census *c;
	int ret;

	ret = ptw_census_run(buf, &c);
	kfree(buf);
	if (ret)
		return ret;
	mutex_lock(&m->lock);
	census_replace(m, c, &census_seq_ops);
	mutex_unlock(&m->lock);
	seq_lseek(file, 0, SEEK_SET);
	*ppos = 0;
	return count;
}

static ssize_t ptw_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct ptw_file *f = m->private;
	struct mm_struct *mm = NULL;
	struct ptw_query q;
	char *buf;
	int ret;

	if (count == 0 || count > PTW_QUERY_MAX)
		return count ? -E2BIG : -EINVAL;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (strlen(buf) == count && ptw_census_query(buf))
		return census_write(file, buf, count, ppos);
	ret = strlen(buf) == count ? parse_query(buf, &q) : -EINVAL;
	kfree(buf);
	if (ret)
		return ret;
	if (q.pid) {
		ret = query_mm(q.pid, &mm);
		if (ret)
			return ret;
	} else if (!current->mm) {
		return -EINVAL;
	}

	mutex_lock(&m->lock);
	census_replace(m, NULL, &ptw_seq_ops);
	if (f->mm)
		mmdrop(f->mm);
	f->mm = mm;
	f->q = q;
	f->have_query = true;
	f->walk.mm = mm;
	f->walk.want_page = q.view == VIEW_LEAVES || q.view == VIEW_PATH;
	ptw_walk_reset(&f->walk);
	memset(&f->done, 0, sizeof(f->done));
	mutex_unlock(&m->lock);
	/* A new query is read from the start. */
	seq_lseek(file, 0, SEEK_SET);
	*ppos = 0;
	return count;
}

static int ptw_open(struct inode *inode, struct file *file)
{
	struct ptw_file *f;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	f = __seq_open_private(file, &ptw_seq_ops, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->walk.ops = &ptw_file_ops;
	f->walk.priv = f;
	f->status = "ok";
	ret = ptw_walk_init(&f->walk);
	if (ret)
		seq_release_private(inode, file);
	return ret;
}

static int ptw_release(struct inode *inode, struct file *file)
{
	struct ptw_file *f = ((struct seq_file *)file->private_data)->private;

	if (f->mm)
		mmdrop(f->mm);
	ptw_census_free(f->census);
	ptw_walk_destroy(&f->walk);
	return seq_release_private(inode, file);
}

static const struct file_operations ptw_fops = {
	.owner = THIS_MODULE,
	.open = ptw_open,
	.read = seq_read,
	.write = ptw_write,
	.llseek = seq_lseek,
	.release = ptw_release,
};

static int __init ptw_init(void)
{
	ptw_dir = debugfs_create_dir("ptwalk", NULL);
	debugfs_create_file("walk", 0600, ptw_dir, NULL, &ptw_fops);
	return 0;
}

static void __exit ptw_exit(void)
{
	debugfs_remove(ptw_dir);
}

module_init(ptw_init);
module_exit(ptw_exit);
MODULE_DESCRIPTION("Page-table walker: every level, every bit, the page behind it");
MODULE_LICENSE("GPL");
