// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf gil-wait: per-thread GIL wait table and holder attribution. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gilwait.h"
#include "json_writer.h"
#include "util.h"

struct behind {
	pid_t holder;
	char *where;
	uint64_t ns;
};

static bool handoff(const struct behind *b)
{
	return !b->holder && !strcmp(b->where, GILWAIT_HANDOFF);
}

struct gthread {
	pid_t pid, tid;
	char *name; /* NULL: unknown */
	bool have_stats;
	struct gil_thread st;
	struct behind *behind;
	size_t nbehind, behind_cap;
};

struct gilwait {
	struct gthread *t;
	size_t n, cap;
};

struct gilwait *gilwait__new(void)
{
	return xcalloc(1, sizeof(struct gilwait));
}

void gilwait__free(struct gilwait *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		for (size_t j = 0; j < g->t[i].nbehind; j++)
			free(g->t[i].behind[j].where);
		free(g->t[i].behind);
		free(g->t[i].name);
	}
	free(g->t);
	free(g);
}

static struct gthread *get(struct gilwait *g, pid_t pid, pid_t tid)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->t[i].tid == tid)
			return &g->t[i];
	grow_array((void **)&g->t, &g->cap, g->n + 1, sizeof(*g->t));
	memset(&g->t[g->n], 0, sizeof(g->t[g->n]));
	g->t[g->n].pid = pid;
	g->t[g->n].tid = tid;
	return &g->t[g->n++];
}

void gilwait__thread(struct gilwait *g, pid_t pid, pid_t tid)
{
	get(g, pid, tid);
}

void gilwait__behind(struct gilwait *g, pid_t pid, pid_t tid, pid_t holder_tid, const char *where,
		     uint64_t ns)
{
	struct gthread *t = get(g, pid, tid);
	struct behind *b;

	if (!where)
		where = "";
	for (size_t i = 0; i < t->nbehind; i++) {
		b = &t->behind[i];
		if (b->holder == holder_tid && !strcmp(b->where, where)) {
			b->ns += ns;
			return;
		}
	}
	grow_array((void **)&t->behind, &t->behind_cap, t->nbehind + 1, sizeof(*t->behind));
	t->behind[t->nbehind++] = (struct behind){ holder_tid, xstrdup(where), ns };
}

void gilwait__stats(struct gilwait *g, __u32 tid, const struct gil_thread *st)
{
	struct gthread *t = get(g, st->pid, tid);

	t->st = *st;
	t->have_stats = true;
}

void gilwait__names(struct gilwait *g, const char *(*name)(pid_t pid, pid_t tid, void *ctx),
		    void *ctx)
{
	for (size_t i = 0; i < g->n; i++) {
		const char *n = name(g->t[i].pid, g->t[i].tid, ctx);

		if (n && (!g->t[i].name || strcmp(n, g->t[i].name))) {
			free(g->t[i].name);
			g->t[i].name = xstrdup(n);
		}
	}
}

/* Spaces that pad UTF-8 text s to width characters. */
static int pad_of(const char *s, int width)
{
	int chars = 0;

	for (; *s; s++)
		chars += ((unsigned char)*s & 0xc0) != 0x80;
	return chars < width ? width - chars : 0;
}

static int cmp_thread(const void *a, const void *b)
{
	const struct gthread *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid - y->pid;
	return x->tid - y->tid;
}

static int cmp_behind(const void *a, const void *b)
{
	const struct behind *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : 0;
}

/* Time the thread existed during the run. */
static double wall_of(const struct gthread *t, uint64_t start_ns, uint64_t end_ns)
{
	uint64_t from = start_ns, to = end_ns;

	if (t->have_stats && t->st.start_ts > from)
		from = t->st.start_ts;
	if (t->have_stats && t->st.exit_ts && t->st.exit_ts < to)
		to = t->st.exit_ts;
	return to > from ? (to - from) / 1e9 : 0;
}

void gilwait__print(struct gilwait *g, FILE *f, bool json, uint64_t start_ns, uint64_t end_ns,
		    const char *(*describe)(pid_t pid, void *ctx), void *ctx)
{
	pid_t cur = -1;
	double tot_wall = 0, tot_wait = 0;
	uint64_t tot_waits = 0;
	struct jsonw *jw = json ? jsonw__new(f) : NULL;

	qsort(g->t, g->n, sizeof(*g->t), cmp_thread);
	if (jw) {
		jsonw__start_object(jw);
		jsonw__float_field(jw, "duration_s", "%.6f", (end_ns - start_ns) / 1e9);
		jsonw__string_field(jw, "unit", "seconds");
		jsonw__name(jw, "processes");
		jsonw__start_array(jw);
	}
	for (size_t i = 0; i <= g->n; i++) {
		const struct gthread *t = i < g->n ? &g->t[i] : NULL;

		/* Close the previous process. */
		if (cur >= 0 && (!t || t->pid != cur)) {
			double pct = tot_wall > 0 ? 100 * tot_wait / tot_wall : 0;

			if (jw) {
				jsonw__end_array(jw);
				jsonw__name(jw, "total");
				jsonw__start_object(jw);
				jsonw__float_field(jw, "wall_s", "%.6f", tot_wall);
				jsonw__float_field(jw, "gil_wait_s", "%.6f", tot_wait);
				jsonw__float_field(jw, "gil_wait_pct", "%.2f", pct);
				jsonw__u64_field(jw, "waits", tot_waits);
				jsonw__end_object(jw);
				jsonw__end_object(jw);
			} else {
				fprintf(f, "  %-24s %9.2f %11.3f %6.1f%% %8" PRIu64 "\n\n", "total",
					tot_wall, tot_wait, pct, tot_waits);
			}
		}
		if (!t)
			break;
		if (t->pid != cur) {
			const char *d = describe ? describe(t->pid, ctx) : NULL;

			if (jw) {
				jsonw__start_object(jw);
				jsonw__s64_field(jw, "pid", t->pid);
				jsonw__string_field(jw, "interpreter", d ? d : "");
				jsonw__name(jw, "threads");
				jsonw__start_array(jw);
			} else {
				fprintf(f,
					"GIL wait in PID %d%s%s%s; wall is the time each thread "
					"existed during the run\n",
					(int)t->pid, d ? " (" : "", d ? d : "", d ? ")" : "");
				fprintf(f, "  %7s %-16s %9s %11s %7s %8s %11s\n", "TID", "THREAD",
					"WALL(s)", "GIL WAIT(s)", "WAIT%", "WAITS", "LONGEST(ms)");
			}
			cur = t->pid;
			tot_wall = tot_wait = 0;
			tot_waits = 0;
		}
		{
			double wall = wall_of(t, start_ns, end_ns);
			double wait = t->st.wait_ns / 1e9;
			double pct = wall > 0 ? 100 * wait / wall : 0;

			tot_wall += wall;
			tot_wait += wait;
			tot_waits += t->st.waits;
			qsort(t->behind, t->nbehind, sizeof(*t->behind), cmp_behind);
			if (jw) {
				jsonw__start_object(jw);
				jsonw__s64_field(jw, "tid", t->tid);
				jsonw__string_field(jw, "name", t->name ? t->name : "");
				jsonw__float_field(jw, "wall_s", "%.6f", wall);
				jsonw__float_field(jw, "gil_wait_s", "%.6f", wait);
				jsonw__float_field(jw, "gil_wait_pct", "%.2f", pct);
				jsonw__u64_field(jw, "waits", t->st.waits);
				jsonw__float_field(jw, "longest_wait_ms", "%.3f",
						   t->st.max_ns / 1e6);
				jsonw__name(jw, "behind");
				jsonw__start_array(jw);
				for (size_t j = 0; j < t->nbehind; j++) {
					jsonw__start_object(jw);
					jsonw__s64_field(jw, "holder_tid", t->behind[j].holder);
					jsonw__float_field(jw, "seconds", "%.6f",
							   t->behind[j].ns / 1e9);
					/* Unknown is null, not "": a reader tests for it. */
					jsonw__name(jw, "where");
					if (t->behind[j].where[0] && !handoff(&t->behind[j]))
						jsonw__string(jw, t->behind[j].where);
					else
						jsonw__null(jw);
					jsonw__name(jw, "handoff");
					jsonw__bool(jw, handoff(&t->behind[j]));
					jsonw__end_object(jw);
				}
				jsonw__end_array(jw);
				jsonw__end_object(jw);
				continue;
			}
			fprintf(f, "  %7d %s%*s %9.2f %11.3f %6.1f%% %8" PRIu64 " %11.1f\n",
				(int)t->tid, t->name ? t->name : "?",
				pad_of(t->name ? t->name : "?", 16), "", wall, wait, pct,
				(uint64_t)t->st.waits, t->st.max_ns / 1e6);
			/* The holders behind which most of the wait went. */
			for (size_t j = 0; j < t->nbehind && j < 3; j++) {
				const struct behind *b = &t->behind[j];

				if (b->ns < t->st.wait_ns / 20 || !b->ns)
					break;
				char t[32];

				fprintf(f, "          %s of it ",
					fmt_time(t, sizeof(t), b->ns / 1e9, 0));
				if (b->holder)
					fprintf(f, "behind thread %d%s%s\n", (int)b->holder,
						b->where[0] ? " in " : "", b->where);
				else if (handoff(b))
					fprintf(
					    f, "while the GIL changed hands (no thread held it)\n");
				else
					fprintf(f, "behind an unknown thread\n");
			}
		}
	}
	if (jw) {
		jsonw__end_array(jw);
		jsonw__end_object(jw);
		jsonw__free(jw);
	} else if (!g->n) {
		fprintf(f, "GIL wait: no Python thread seen\n");
	}
}
