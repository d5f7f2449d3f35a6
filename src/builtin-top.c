// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf top: the heaviest functions of the targets, refreshed live (a
 * full-screen view with ncurses), or one plain table per refresh (--batch).
 * The engine is session.h, as for record: the view reads the session's
 * profile at each refresh and takes the difference from the totals of the
 * refresh before (profiles only grow), so nothing is copied; self and
 * total per function are calltree.h's funcstats.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <curses.h>
#include <term.h>

#include "calltree.h"
#include "commands.h"
#include "profile.h"
#include "report.h"
#include "procfs.h"
#include "session.h"
#include "u64map.h"
#include "output.h"
#include "util.h"

#define TOP_DEFAULT_ROWS 20
#define TOP_MAX_MSGS	 4 /* messages kept for the screen's last lines */

enum top_sort { SORT_SELF, SORT_TOTAL, SORT_NAME };
static const char *const sort_names[] = { "self", "total", "name" };

struct top_opts {
	double interval;	  /* seconds between refreshes */
	unsigned long iterations; /* -n, 0: no limit */
	unsigned long rows;	  /* --batch: rows per table */
	bool batch, threads, cumulative;
	bool native;	   /* every frame a function, not Python's first */
	unsigned long tid; /* --tid, 0: every thread */
	enum top_sort sort;
};

/* A thread seen in the profile: its frame's name and its weight so far. */
struct top_thread {
	unsigned long tid;
	char name[96]; /* "NAME-TID" as the profile names it */
	char proc[64];
	uint64_t total, prev; /* at this refresh, at the one before */
};

struct top_row {
	uint32_t fn; /* id in names */
	uint64_t self, total;
};

struct top {
	struct top_opts o;
	struct session *se;
	struct profile *names; /* function names, ids stable across refreshes */
	struct profile *open;  /* open off-CPU intervals at this refresh */
	/* Per view (0: Python functions first, 1: every frame) and function id
	 * of names: totals at this refresh and the one before. Both views are
	 * kept so that switching shows a whole interval at once.
	 */
	uint64_t *self[2], *total[2], *pself[2], *ptotal[2];
	size_t n, pn, pcap;
	uint64_t sum, psum; /* weight of the shown threads, now and before */
	struct top_thread *thr;
	size_t nthr, thr_cap;
	struct u64map thr_index; /* TID -> index in thr + 1 */
	struct top_row *rows;
	size_t nrows, rows_cap;
	double last_refresh, prev_refresh; /* session__elapsed() at each */
	unsigned long ticks;		   /* refreshes on the interval's clock */
	bool baseline_reset;		   /* the thread shown changed: no interval yet */
	/* The screen. */
	bool curses, paused, help, show_threads;
	char msgs[TOP_MAX_MSGS][256];
	int nmsgs;
	char *saved_msgs; /* every message, printed after the screen ends */
	size_t saved_len;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rampa-bpf top [options] -p PID[,PID...]\n"
		   "       rampa-bpf top [options] -a\n"
		   "       rampa-bpf top [options] -- CMD [ARGS...]\n"
		   "\n"
		   "Show the heaviest functions of the targets (Python, native and kernel), by\n"
		   "self (where the weight is: the leaf) and total (in the stack), refreshed\n"
		   "every interval: the last interval, or the totals since the start. Full\n"
		   "screen on a terminal, or one plain table per interval with --batch.\n"
		   "\n"
		   "options:\n"
		   "  -p, --pid PID[,PID...]   these running processes, all their threads, and\n"
		   "                           their descendants\n"
		   "      --no-children        with -p: the given processes only\n"
		   "  -a, --all                every process on the machine\n");
	profile__usage_modes(f, "-m, --mode MODE", "cpu");
	fprintf(f,
		"  -F, --frequency HZ       samples per second per CPU (1-%d, default %d)\n"
		"  -i, --interval TIME      refresh every TIME (e.g. 1, 500ms; default 1 s)\n"
		"  -d, --duration TIME      stop after TIME (e.g. 30, 2m); default: until q,\n"
		"                           Ctrl-C or the targets exit\n"
		"  -b, --batch              print a plain table per interval on stdout, no\n"
		"                           screen (for scripts)\n"
		"  -n, --iterations COUNT   stop after COUNT refreshes\n"
		"  -r, --rows N             --batch: functions per table (default %d)\n"
		"  -s, --sort KEY           self (default), total or name\n"
		"  -c, --cumulative         show the totals since the start, not the last\n"
		"                           interval\n"
		"      --native             native and kernel frames of Python stacks are\n"
		"                           functions too (default: in a stack with Python\n"
		"                           frames only those, self on the innermost)\n"
		"      --tid TID            only the thread TID\n"
		"      --threads            --batch: also a table of the threads\n"
		"      --as-root            under sudo, run CMD as root (default: the sudo user)\n"
		"  -q, --quiet              print only errors\n"
		"  -v, --verbose            print debugging details\n"
		"  -h, --help               show this help\n"
		"\n"
		"keys: 1 or s sort by self, 2 or t by total, 3 or n by name; c last interval\n"
		"or totals; N native frames or Python first; T threads; [ and ] the thread\n"
		"before or after, a all threads; space pause; ? help; q quit.\n"
		"\n"
		"exit status: 0 ok (CMD's when it exits on its own), 2 usage, 3 no privileges,\n"
		"4 no such process. See rampa-bpf-top(1).\n",
		SESSION_MAX_HZ, SESSION_DEFAULT_HZ, TOP_DEFAULT_ROWS);
}

enum { OPT_TID = 300, OPT_THREADS, OPT_NATIVE };

static int parse_args(struct session_opts *so, struct top_opts *to, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "no-children", no_argument, NULL, 'C' },
		{ "mode", required_argument, NULL, 'm' },
		{ "frequency", required_argument, NULL, 'F' },
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "rows", required_argument, NULL, 'r' },
		{ "sort", required_argument, NULL, 's' },
		{ "cumulative", no_argument, NULL, 'c' },
		{ "tid", required_argument, NULL, OPT_TID },
		{ "threads", no_argument, NULL, OPT_THREADS },
		{ "native", no_argument, NULL, OPT_NATIVE },
		{ "as-root", no_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct session_output unused = { 0 };
	unsigned long v;
	int opt, err;

	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option so CMD keeps its own options. */
	while ((opt = getopt_long(argc, argv, "+p:am:F:i:d:bn:r:s:cqvh", longopts, NULL)) != -1) {
		err = session__parse_common(so, &unused, opt, optarg, "top");
		if (err != SESSION_NOT_COMMON) {
			if (err)
				return err;
			continue;
		}
		switch (opt) {
		case 'i':
			if (parse_duration(optarg, &to->interval) || to->interval < 0.1) {
				p_err("invalid interval '%s' (give 0.1 s or more, e.g. 1, 500ms)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case 'b':
			to->batch = true;
			break;
		case 'n':
			if (parse_ulong(optarg, 1, 1000000000, &to->iterations)) {
				p_err("invalid count '%s' for -n (give a number of refreshes, 1 or "
				      "more)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			if (parse_ulong(optarg, 1, 1000000, &to->rows)) {
				p_err("invalid --rows '%s' (give a number of functions, 1 or more)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			for (v = 0; v < 3 && strcmp(optarg, sort_names[v]); v++)
				;
			if (v == 3) {
				p_err("invalid --sort '%s' (use self, total or name)", optarg);
				return EXIT_USAGE;
			}
			to->sort = v;
			break;
		case 'c':
			to->cumulative = true;
			break;
		case OPT_TID:
			if (parse_ulong(optarg, 1, 0x3fffffff, &to->tid)) {
				p_err("invalid --tid '%s' (give a thread id, as 'ps -L' shows)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_THREADS:
			to->threads = true;
			break;
		case OPT_NATIVE:
			to->native = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return session__bad_option(argv, "top", "pmFidnrs");
		}
	}
	if (optind < argc)
		so->cmd = argv + optind;
	/* A thread of -p's processes, or of any with -a, alive now (-- CMD's
	 * threads are yet to be: not checked).
	 */
	if (to->tid && !so->cmd) {
		pid_t tgid = procfs__tgid((pid_t)to->tid);
		bool ours = so->system_wide && tgid;

		for (int i = 0; !ours && i < so->npids; i++)
			ours = tgid == so->pids[i];
		if (!ours) {
			p_err("--tid %lu: no such thread in %s (list them with 'ps -L -p PID', or "
			      "pick one with 't' in top)",
			      to->tid, so->system_wide ? "the system" : "the processes given");
			return EXIT_USAGE;
		}
	}
	return session__check_targets(so, "top");
}

/* The screen: on, off, and put back on every way out. */

static struct termios saved_tio;
static bool have_tio, screen_on;
static const char *seq_rmcup, *seq_cnorm; /* leave the alternate screen, show the cursor */

/* A crash must not leave the terminal without echo and in the alternate
 * screen: only async-signal-safe calls, then the signal's default action.
 */
static void on_fatal_signal(int sig)
{
	if (seq_rmcup)
		write(STDOUT_FILENO, seq_rmcup, strlen(seq_rmcup));
	if (seq_cnorm)
		write(STDOUT_FILENO, seq_cnorm, strlen(seq_cnorm));
	if (have_tio)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* exit() from deep inside (out of memory): the terminal back first. */
static void restore_at_exit(void)
{
	if (screen_on)
		endwin();
}

static const char *terminfo_string(const char *cap)
{
	const char *s = tigetstr(cap);

	return s && s != (char *)-1 ? s : NULL;
}

static struct top *msg_top; /* where messages go while the screen is on */

static void keep_msg(const char *level, const char *msg)
{
	struct top *t = msg_top;
	char line[1300];
	int len = snprintf(line, sizeof(line), "rampa-bpf: %s%s\n", level, msg);

	if (!strcmp(level, "debug: ") || len < 0)
		return;
	/* Shown at the bottom while the screen is on, all printed after it. */
	if (t->nmsgs == TOP_MAX_MSGS) {
		memmove(t->msgs[0], t->msgs[1], sizeof(t->msgs[0]) * (TOP_MAX_MSGS - 1));
		t->nmsgs--;
	}
	snprintf(t->msgs[t->nmsgs++], sizeof(t->msgs[0]), "%s%s", level, msg);
	t->saved_msgs = xrealloc(t->saved_msgs, t->saved_len + (size_t)len + 1);
	memcpy(t->saved_msgs + t->saved_len, line, (size_t)len + 1);
	t->saved_len += (size_t)len;
}

static int screen_start(struct top *t)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGQUIT, SIGFPE, SIGILL };

	have_tio = !tcgetattr(STDIN_FILENO, &saved_tio);
	if (!newterm(NULL, stdout, stdin)) {
		p_err("cannot set up the terminal '%s' (check TERM, or use --batch)",
		      getenv("TERM") ? getenv("TERM") : "");
		return EXIT_ERROR;
	}
	seq_rmcup = terminfo_string("rmcup");
	seq_cnorm = terminfo_string("cnorm");
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], on_fatal_signal);
	screen_on = true;
	atexit(restore_at_exit);
	/* cbreak, not raw: Ctrl-C stays a signal, which ends the run. */
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	t->curses = true;
	msg_top = t;
	util__set_msg_sink(keep_msg);
	return 0;
}

static void screen_end(struct top *t)
{
	if (!t->curses)
		return;
	t->curses = false;
	util__set_msg_sink(NULL);
	endwin();
	screen_on = false;
	if (t->saved_msgs)
		fputs(t->saved_msgs, stderr);
}

/* Per refresh: threads and functions from the profile. */

static int thread_filter(const struct profile *p, const uint32_t *frames, uint32_t n, void *ctx)
{
	const struct top *t = ctx;
	unsigned long tid = 0;

	/* Frames: the process, its thread ("NAME-TID"), then the stack. */
	if (!profile__stack_thread(p, frames, n, &tid))
		return t->o.tid ? -1 : 1;
	return t->o.tid && tid != t->o.tid ? -1 : 2;
}

static void add_thread_weights(struct top *t, const struct profile *p)
{
	size_t ns = profile__nstacks(p);

	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *frames = profile__stack(p, i, &n, &w);
		unsigned long tid;
		bool added;
		uint64_t *slot;
		struct top_thread *th;

		if (!w || !profile__stack_thread(p, frames, n, &tid))
			continue;
		slot = u64map_slot(&t->thr_index, tid, &added);
		if (added) {
			grow_array((void **)&t->thr, &t->thr_cap, t->nthr + 1, sizeof(*t->thr));
			t->thr[t->nthr] = (struct top_thread){ .tid = tid };
			*slot = ++t->nthr;
		}
		th = &t->thr[*slot - 1];
		/* The latest names: a thread may be renamed, a process exec. */
		snprintf(th->name, sizeof(th->name), "%s", profile__frame_name(p, frames[1]));
		snprintf(th->proc, sizeof(th->proc), "%s", profile__frame_name(p, frames[0]));
		th->total += w;
	}
}

/* The totals now become the baseline the next interval is measured from. */
static void keep_baseline(struct top *t)
{
	size_t cap = t->pcap;

	for (int v = 0; v < 2; v++) {
		cap = t->pcap;
		grow_array((void **)&t->pself[v], &cap, t->n ? t->n : 1, sizeof(uint64_t));
		cap = t->pcap;
		grow_array((void **)&t->ptotal[v], &cap, t->n ? t->n : 1, sizeof(uint64_t));
		if (t->n) {
			memcpy(t->pself[v], t->self[v], t->n * sizeof(uint64_t));
			memcpy(t->ptotal[v], t->total[v], t->n * sizeof(uint64_t));
		}
	}
	t->pcap = cap;
	t->pn = t->n;
	t->psum = t->sum;
	for (size_t i = 0; i < t->nthr; i++)
		t->thr[i].prev = t->thr[i].total;
}

/* Totals since the start, from the session's profile and the off-CPU
 * intervals still open; those of the refresh before become the baseline.
 */
static void top_refresh(struct top *t)
{
	struct profile *p = session__profile(t->se);
	struct funcstats fs = { .by_function = 1, .skip = thread_filter, .skip_ctx = t };

	keep_baseline(t);
	session__drain(t->se);
	profile__free(t->open);
	t->open = profile__new();
	session__add_open_intervals(t->se, t->open);

	/* Slot 0: Python functions first; slot 1: every frame. */
	fs.python_only = 1;
	funcstats__add(&fs, p, t->names, 0);
	funcstats__add(&fs, t->open, t->names, 0);
	fs.python_only = 0;
	funcstats__add(&fs, p, t->names, 1);
	funcstats__add(&fs, t->open, t->names, 1);
	for (int v = 0; v < 2; v++) {
		free(t->self[v]);
		free(t->total[v]);
		t->self[v] = fs.self[v];
		t->total[v] = fs.total[v];
		fs.self[v] = fs.total[v] = NULL;
	}
	t->n = fs.n;
	t->sum = fs.sum[0];
	funcstats__free(&fs);

	for (size_t i = 0; i < t->nthr; i++)
		t->thr[i].total = 0;
	add_thread_weights(t, p);
	add_thread_weights(t, t->open);
	/* Another thread shown: its interval starts now. */
	if (t->baseline_reset)
		keep_baseline(t);
	t->baseline_reset = false;
	t->prev_refresh = t->last_refresh;
	t->last_refresh = session__elapsed(t->se);
}

/* The interval's share of a total that only grows; an open interval seen
 * at the last refresh may be neither open nor drained now, hence the floor.
 */
static uint64_t delta(uint64_t now, const uint64_t *prev, size_t pn, size_t i)
{
	uint64_t before = i < pn ? prev[i] : 0;

	return now > before ? now - before : 0;
}

static enum top_sort cur_sort;
static const struct profile *cur_names;

static int cmp_rows(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;

	if (cur_sort == SORT_NAME) {
		int c = strcmp(profile__frame_name(cur_names, x->fn),
			       profile__frame_name(cur_names, y->fn));

		if (c)
			return c;
	} else {
		uint64_t kx = cur_sort == SORT_TOTAL ? x->total : x->self,
			 ky = cur_sort == SORT_TOTAL ? y->total : y->self;

		if (kx != ky)
			return kx < ky ? 1 : -1;
		if (x->total != y->total)
			return x->total < y->total ? 1 : -1;
	}
	return x->fn < y->fn ? -1 : x->fn > y->fn;
}

/* The rows to show, sorted; the weight they are shares of. */
static uint64_t top_rows(struct top *t)
{
	bool cum = t->o.cumulative;
	int v = t->o.native;

	t->nrows = 0;
	grow_array((void **)&t->rows, &t->rows_cap, t->n ? t->n : 1, sizeof(*t->rows));
	for (size_t i = 0; i < t->n; i++) {
		struct top_row r = { (uint32_t)i, t->self[v][i], t->total[v][i] };

		if (!cum) {
			r.self = delta(t->self[v][i], t->pself[v], t->pn, i);
			r.total = delta(t->total[v][i], t->ptotal[v], t->pn, i);
		}
		if (r.total)
			t->rows[t->nrows++] = r;
	}
	cur_sort = t->o.sort;
	cur_names = t->names;
	qsort(t->rows, t->nrows, sizeof(*t->rows), cmp_rows);
	if (cum)
		return t->sum;
	return t->sum > t->psum ? t->sum - t->psum : 0;
}

static void fmt_weight(char *buf, size_t len, uint64_t w, const char *unit)
{
	if (unit_seconds(unit, 0) > 0)
		fmt_amount(buf, len, w, unit);
	else
		snprintf(buf, len, "%" PRIu64, w);
}

/* One line of output: the screen's next row, or stdout in batch mode. */
struct out {
	struct top *t;
	int y, attr;
};

static void out_line(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(struct out *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!o->t->curses) {
		puts(line);
		return;
	}
	if (o->y >= LINES)
		return;
	if (o->attr)
		attron(o->attr);
	mvaddnstr(o->y, 0, line, COLS);
	if (o->attr)
		attroff(o->attr);
	o->y++;
}

static const char *thread_shown(const struct top *t, char *buf, size_t len)
{
	if (!t->o.tid)
		return "all";
	for (size_t i = 0; i < t->nthr; i++)
		if (t->thr[i].tid == t->o.tid) {
			snprintf(buf, len, "%s (%s)", t->thr[i].name, t->thr[i].proc);
			return buf;
		}
	snprintf(buf, len, "TID %lu (no samples yet)", t->o.tid);
	return buf;
}

static void show_header(struct top *t, struct out *o, uint64_t shown)
{
	const struct session_opts *so = session__opts(t->se);
	struct session_counts c;
	char when[64], tbuf[192], amount[32];
	const char *unit = session__mode_unit(so->mode);
	uint64_t threads;

	session__counts(t->se, &c);
	/* Threads in the view: those blocked since the start have no sample. */
	threads = c.threads > t->nthr ? c.threads : t->nthr;
	if (t->o.cumulative)
		snprintf(when, sizeof(when), "totals since the start");
	else
		snprintf(when, sizeof(when), "last %.1f s", t->last_refresh - t->prev_refresh);
	fmt_weight(amount, sizeof(amount), shown, unit);
	out_line(
	    o, "rampa-bpf top - %s mode: %s; %s in %s%s%s", session__mode_name(so->mode),
	    profile_modes[so->mode].words, profile_modes[so->mode].sampled ? "counts" : "times",
	    unit, profile_modes[so->mode].sampled ? " at " : "",
	    profile_modes[so->mode].sampled ? (snprintf(tbuf, sizeof(tbuf), "%u Hz", so->hz), tbuf)
					    : "");
	out_line(o,
		 "elapsed %.1f s, %" PRIu64 " samples, %" PRIu64 " process%s, %" PRIu64
		 " thread%s, %" PRIu64 " lost%s",
		 c.elapsed, c.samples, c.processes, c.processes == 1 ? "" : "es", threads,
		 threads == 1 ? "" : "s", c.lost, t->paused ? "  [paused]" : "");
	out_line(o, "showing %s (%s %s), thread %s, sorted by %s, %s", when, amount,
		 unit_seconds(unit, 0) > 0 ? "measured" : "samples",
		 thread_shown(t, tbuf, sizeof(tbuf)), sort_names[t->o.sort],
		 t->o.native ? "native frames shown" : "Python first");
}

static void show_functions(struct top *t, struct out *o, size_t max)
{
	const char *unit = session__mode_unit(session__opts(t->se)->mode);
	uint64_t shown = top_rows(t);
	char s[32], tt[32];

	show_header(t, o, shown);
	if (!t->curses)
		out_line(o, "%s", "");
	o->attr = A_REVERSE;
	out_line(o, "%10s %7s %10s %7s  %-*s", "SELF", "SELF%", "TOTAL", "TOTAL%",
		 t->curses ? COLS - 40 : 8, "FUNCTION");
	o->attr = 0;
	for (size_t i = 0; i < t->nrows && i < max; i++) {
		const struct top_row *r = &t->rows[i];

		fmt_weight(s, sizeof(s), r->self, unit);
		fmt_weight(tt, sizeof(tt), r->total, unit);
		out_line(o, "%10s %6.2f%% %10s %6.2f%%  %s", s,
			 shown ? 100.0 * (double)r->self / (double)shown : 0.0, tt,
			 shown ? 100.0 * (double)r->total / (double)shown : 0.0,
			 profile__frame_name(t->names, r->fn));
	}
	if (!t->nrows)
		out_line(o, "  (nothing measured %s)",
			 t->o.cumulative ? "yet" : "in this interval");
}

static int cmp_threads(const void *a, const void *b)
{
	const struct top_thread *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* The threads, heaviest first (in the view shown: interval or totals). */
static void show_threads(struct top *t, struct out *o, size_t max)
{
	const char *unit = session__mode_unit(session__opts(t->se)->mode);
	struct top_thread *v = xmalloc((t->nthr ? t->nthr : 1) * sizeof(*v));
	uint64_t all = 0;
	char w[32];

	for (size_t i = 0; i < t->nthr; i++) {
		v[i] = t->thr[i];
		if (!t->o.cumulative)
			v[i].total =
			    t->thr[i].total > t->thr[i].prev ? t->thr[i].total - t->thr[i].prev : 0;
		all += v[i].total;
	}
	qsort(v, t->nthr, sizeof(*v), cmp_threads);
	o->attr = A_REVERSE;
	out_line(o, "%10s %7s %8s  %-*s", "WEIGHT", "SHARE", "TID", t->curses ? COLS - 30 : 6,
		 "THREAD (PROCESS)");
	o->attr = 0;
	for (size_t i = 0; i < t->nthr && i < max; i++) {
		fmt_weight(w, sizeof(w), v[i].total, unit);
		out_line(o, "%10s %6.2f%% %8lu  %s (%s)%s", w,
			 all ? 100.0 * (double)v[i].total / (double)all : 0.0, v[i].tid, v[i].name,
			 v[i].proc, v[i].tid == t->o.tid ? "  <- shown" : "");
	}
	free(v);
}

static const char help_line[] = "1/s self  2/t total  3/n name  c interval/totals  N native  "
				"T threads  [ ] thread  a all  space pause  ? help  q quit";

/* full: repaint every cell, over whatever CMD wrote on the terminal. */
static void draw(struct top *t, bool full)
{
	struct out o = { t, 0, 0 };
	int bottom = LINES - 1 - (t->nmsgs ? 1 : 0);

	erase();
	if (t->show_threads) {
		show_header(t, &o, top_rows(t));
		o.y++;
		show_threads(t, &o, bottom > o.y + 1 ? (size_t)(bottom - o.y - 1) : 0);
	} else {
		show_functions(t, &o, bottom > 4 ? (size_t)(bottom - 4) : 0);
	}
	if (t->nmsgs) {
		attron(A_BOLD);
		mvaddnstr(LINES - 2, 0, t->msgs[t->nmsgs - 1], COLS);
		attroff(A_BOLD);
	}
	attron(A_REVERSE);
	mvaddnstr(LINES - 1, 0, t->help ? help_line : "press ? for keys, q to quit", COLS);
	attroff(A_REVERSE);
	if (full)
		clearok(curscr, TRUE);
	refresh();
}

static void print_batch(struct top *t)
{
	struct out o = { t, 0, 0 };

	show_functions(t, &o, t->o.rows);
	if (t->o.threads) {
		out_line(&o, "%s", "");
		show_threads(t, &o, t->o.rows);
	}
	out_line(&o, "%s", "");
	fflush(stdout);
}

/* The thread after (step 1) or before (-1) the one shown, in TID order;
 * "all" sits before the first.
 */
static void step_thread(struct top *t, int step)
{
	unsigned long *tids = xmalloc((t->nthr + 1) * sizeof(*tids));
	size_t n = 0, at = 0;

	tids[n++] = 0;
	for (size_t i = 0; i < t->nthr; i++)
		tids[n++] = t->thr[i].tid;
	for (size_t i = 1; i < n; i++) /* insertion sort: a few threads */
		for (size_t j = i; j > 1 && tids[j - 1] > tids[j]; j--) {
			unsigned long x = tids[j];

			tids[j] = tids[j - 1];
			tids[j - 1] = x;
		}
	for (size_t i = 0; i < n; i++)
		if (tids[i] == t->o.tid)
			at = i;
	t->o.tid = tids[step > 0 ? (at + 1) % n : (at + n - 1) % n];
	free(tids);
}

/* A key pressed: true when it asks to quit. */
static bool on_key(struct top *t, int ch)
{
	unsigned long tid = t->o.tid;

	switch (ch) {
	case 'q':
	case 'Q':
		return true;
	case '1':
	case 's':
		t->o.sort = SORT_SELF;
		break;
	case '2':
	case 't':
		t->o.sort = SORT_TOTAL;
		break;
	case '3':
	case 'n':
		t->o.sort = SORT_NAME;
		break;
	case 'c':
		t->o.cumulative = !t->o.cumulative;
		break;
	case 'N':
		t->o.native = !t->o.native;
		break;
	case 'T':
		t->show_threads = !t->show_threads;
		break;
	case ']':
		step_thread(t, 1);
		break;
	case '[':
		step_thread(t, -1);
		break;
	case 'a':
		t->o.tid = 0;
		break;
	case ' ':
	case 'p':
		t->paused = !t->paused;
		break;
	case '?':
	case 'h':
		t->help = !t->help;
		break;
	case KEY_RESIZE:
		break;
	default:
		return false;
	}
	if (tid != t->o.tid) {
		/* The new thread's totals now; its interval starts here. */
		t->baseline_reset = true;
		top_refresh(t);
	}
	return false;
}

static void top_free(struct top *t)
{
	profile__free(t->names);
	profile__free(t->open);
	for (int v = 0; v < 2; v++) {
		free(t->self[v]);
		free(t->total[v]);
		free(t->pself[v]);
		free(t->ptotal[v]);
	}
	free(t->thr);
	free(t->rows);
	free(t->saved_msgs);
	u64map_free(&t->thr_index);
}

static int run_top(struct session_opts *so, struct top *t)
{
	double next;
	bool quit = false;
	const char *why;
	bool by_itself;
	int ret;

	if (session__check_sudo(so))
		return EXIT_USAGE;
	/* Before any profiling: a screen needs a terminal to read keys from. */
	if (!t->o.batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		p_err("top needs a terminal on stdin and stdout (for scripts, use --batch)");
		return EXIT_USAGE;
	}
	/* Threads are told apart by their frame ("NAME-TID" under the process). */
	so->per_thread = true;
	so->no_progress = true;
	so->output = NULL;
	t->se = session__new(so, profile__new());
	t->names = profile__new();
	ret = session__start(t->se);
	if (ret) {
		ret = ret == -EPERM || ret == -EACCES || ret == -EOPNOTSUPP ? EXIT_NOPERM
		      : ret == -ESRCH					    ? EXIT_NOTARGET
		      : ret == -ENOEXEC					    ? EXIT_NOEXEC
									    : EXIT_ERROR;
		goto out;
	}
	if (!t->o.batch && (ret = screen_start(t)))
		goto out;
	next = session__elapsed(t->se) + t->o.interval;
	if (t->curses) {
		top_refresh(t);
		draw(t, false);
	}
	while (!quit && !session__poll(t->se)) {
		int ch;

		while (t->curses && (ch = getch()) != ERR) {
			quit |= on_key(t, ch);
			if (!quit)
				draw(t, false);
		}
		if (quit || session__elapsed(t->se) < next)
			continue;
		next += t->o.interval;
		t->ticks++;
		/* Paused: sampling goes on, the view stays; the next interval
		 * shown spans the pause.
		 */
		if (!t->paused)
			top_refresh(t);
		if (t->o.batch)
			print_batch(t);
		else if (!t->paused)
			draw(t, true);
		if (t->o.iterations && t->ticks >= t->o.iterations)
			break;
	}
	session__stop(t->se);
	why = session__why(t->se);
	/* The run ended mid-interval (the targets exited, -d, a signal): that
	 * part too, in batch mode; not after q or --iterations.
	 */
	if (t->o.batch && !quit && !(t->o.iterations && t->ticks >= t->o.iterations) &&
	    session__elapsed(t->se) - t->last_refresh > 0.05) {
		top_refresh(t);
		print_batch(t);
	}
	screen_end(t);
	if (!so->quiet && why)
		p_info("top: %s", why);
	/* Quitting ends CMD: that is no failure of CMD's. Its status when it
	 * ended on its own.
	 */
	by_itself = why && strstr(why, "command");
	ret = session__finish(t->se, 0);
	if (!by_itself)
		ret = 0;
	goto done;
out:
	screen_end(t);
	ret = session__finish(t->se, ret);
done:
	profile__free(session__profile(t->se));
	session__free(t->se);
	return ret;
}

int cmd_top(int argc, char **argv)
{
	struct session_opts so = { .mode = MODE_CPU, .hz = SESSION_DEFAULT_HZ };
	struct top t = { .o = { .interval = 1.0, .rows = TOP_DEFAULT_ROWS } };
	int ret = parse_args(&so, &t.o, argc, argv);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	ret = run_top(&so, &t);
	top_free(&t);
	return ret;
}
