// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf diff: what changed between two profiles, with sampling noise
 * told apart from real change.
 */
#include <getopt.h>
#include <pthread.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calltree.h"
#include "commands.h"
#include "flamegraph.h"
#include "folded.h"
#include "labels.h"
#include "output.h"
#include "report.h"
#include "stats.h"
#include "util.h"

#define DEFAULT_CONFIDENCE 0.99
#define DEFAULT_TOP	   15
#define MAX_GONE_PRINTED   10

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rampa-bpf diff BASE NEW [-o OUT] [--normalize HOW] [--fail-above PCT]\n"
	    "                      [OPTIONS]\n\n"
	    "Compare two collapsed-stack profiles: print the functions whose time or share\n"
	    "changed most, and write a differential flame graph (widths from NEW, red grew,\n"
	    "blue shrank, purple new, grey not significant) or FlameGraph's difffolded\n"
	    "format ('stack BASE NEW' lines).\n\n"
	    "  -o, --output FILE        .svg: differential flame graph; .folded: stack base new\n"
	    "  -f, --format FORMAT      svg or folded (default: from the extension of FILE)\n"
	    "  -n, --normalize HOW      what to compare: absolute (total time: two runs of the\n"
	    "                           same fixed work), per-second (time per second of wall:\n"
	    "                           windows of different length) or shares (of each total);\n"
	    "                           default: absolute when both profiles are commands that\n"
	    "                           ran to completion, per-second when both are attach\n"
	    "                           windows, else shares\n"
	    "  -t, --top N              rows per table (default %d)\n"
	    "      --confidence PCT     confidence of the test that marks a change significant\n"
	    "                           (Poisson on counts, or two-proportion for shares;\n"
	    "                           default %.0f)\n"
	    "      --fail-above PCT     exit %d when a function's total share grew by more than\n"
	    "                           PCT points, significant changes only (for CI)\n"
	    "      --title TEXT         title of the flame graph\n" LABEL_HELP REPORT_META_HELP
	    "      --output-in-place    write through a symlink, FIFO or device at FILE\n"
	    "  -q, --quiet              no summary on stderr\n"
	    "  -h, --help               this help\n\n"
	    "exit status: 0 ok, 2 usage, 5 output cannot be written, 6 input unreadable or\n"
	    "malformed, %d --fail-above exceeded. See rampa-bpf-diff(1).\n",
	    DEFAULT_TOP, 100 * DEFAULT_CONFIDENCE, EXIT_REGRESSION, EXIT_REGRESSION);
}

struct diff_row {
	uint32_t fn;
	struct diff_change c;
	uint64_t base, new;
	int via; /* significant only through a significant self change below it */
};

struct diff {
	struct profile *base, *new, *names, *fnames;
	struct calltree *tree;
	struct funcstats fs;
	struct diff_test test;
	/* Per function: its self change is significant; and its total weight
	 * in the stacks whose leaf is no such function, to tell a caller's own
	 * change from one it only passes on.
	 */
	unsigned char *self_sig;
	uint64_t *rest[2];
	double confidence;
	const char *base_path, *new_path;
};

static void row_for(const struct diff *d, uint32_t fn, int self, struct diff_row *r)
{
	const uint64_t *const *v =
	    self ? (const uint64_t *const *)d->fs.self : (const uint64_t *const *)d->fs.total;

	r->fn = fn;
	r->base = v[0][fn];
	r->new = v[1][fn];
	diff_test__compare(&d->test, (double)r->base, (double)d->fs.sum[0], (double)r->new,
			   (double)d->fs.sum[1], &r->c);
	r->via = 0;
	if (!self && d->self_sig && r->c.significant && !d->self_sig[fn]) {
		struct diff_change rest;

		diff_test__compare(&d->test, (double)d->rest[0][fn], (double)d->fs.sum[0],
				   (double)d->rest[1][fn], (double)d->fs.sum[1], &rest);
		r->via = !rest.significant;
	}
}

/* d->self_sig and d->rest, once the function stats are in. */
static void find_sources(struct diff *d)
{
	size_t nfn = d->fs.n ? d->fs.n : 1;
	size_t *seen = xcalloc(nfn, sizeof(*seen));

	d->self_sig = xcalloc(nfn, 1);
	for (size_t i = 0; i < d->fs.n; i++) {
		struct diff_row r;

		row_for(d, (uint32_t)i, 1, &r);
		d->self_sig[i] = (unsigned char)r.c.significant;
	}
	for (int slot = 0; slot < 2; slot++) {
		const struct profile *p = slot ? d->new : d->base;
		uint32_t *map = profile__map_functions(p, d->fnames);
		size_t ns = profile__nstacks(p);

		d->rest[slot] = xcalloc(nfn, sizeof(**d->rest));
		memset(seen, 0, nfn * sizeof(*seen));
		for (size_t i = 0; i < ns; i++) {
			uint32_t n;
			uint64_t w;
			const uint32_t *f = profile__stack(p, i, &n, &w);

			if (!n || map[f[n - 1]] >= d->fs.n || d->self_sig[map[f[n - 1]]])
				continue;
			for (uint32_t j = 0; j < n; j++) {
				uint32_t fn = map[f[j]];

				if (fn < d->fs.n && seen[fn] != i + 1) {
					seen[fn] = i + 1;
					d->rest[slot][fn] += w;
				}
			}
		}
		free(map);
	}
	free(seen);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;

	/* Significant changes first, then those passed on, then by size. */
	if (x->c.significant != y->c.significant)
		return y->c.significant - x->c.significant;
	if (x->via != y->via)
		return x->via - y->via;
	if (fabs(x->c.delta) != fabs(y->c.delta))
		return fabs(x->c.delta) < fabs(y->c.delta) ? 1 : -1;
	return x->fn < y->fn ? -1 : x->fn > y->fn;
}

static void print_table(const struct diff *d, int self, unsigned long top)
{
	struct diff_row *rows = xmalloc((d->fs.n ? d->fs.n : 1) * sizeof(*rows));
	size_t n = 0, shown = 0;
	int per_s = d->test.norm == DIFF_PER_SECOND;

	for (size_t i = 0; i < d->fs.n; i++) {
		const uint64_t *const *v = self ? (const uint64_t *const *)d->fs.self
						: (const uint64_t *const *)d->fs.total;

		if (!v[0][i] && !v[1][i])
			continue;
		row_for(d, (uint32_t)i, self, &rows[n]);
		if (rows[n].c.pts != 0 || rows[n].base != rows[n].new)
			n++;
	}
	qsort(rows, n, sizeof(*rows), cmp_rows);
	printf("\n# %s %s: largest changes (%zu functions changed)\n", self ? "self" : "total",
	       d->test.norm == DIFF_SHARES	 ? "share"
	       : d->test.norm == DIFF_PER_SECOND ? "time per second"
						 : "time",
	       n);
	printf("%11s %11s %11s %8s %8s %8s %7s  %-4s %s\n", per_s ? "BASE/s" : "BASE",
	       per_s ? "NEW/s" : "NEW", per_s ? "CHANGE/s" : "CHANGE", "BASE%", "NEW%", "POINTS",
	       "Z", "SIG", "FUNCTION");
	for (size_t i = 0; i < n && shown < top; i++, shown++) {
		const struct diff_change *c = &rows[i].c;
		char b[32], nw[32], ch[32];

		if (c->time_known) {
			fmt_time(b, sizeof(b), c->base_sec, 0);
			fmt_time(nw, sizeof(nw), c->new_sec, 0);
			fmt_time(ch, sizeof(ch), c->delta_sec, 1);
		} else {
			snprintf(b, sizeof(b), "%" PRIu64, rows[i].base);
			snprintf(nw, sizeof(nw), "%" PRIu64, rows[i].new);
			snprintf(ch, sizeof(ch), "%+" PRId64,
				 (int64_t)(rows[i].new - rows[i].base));
		}
		printf("%11s %11s %11s %7.2f%% %7.2f%% %+8.2f %7.1f  %-4s %s\n", b, nw, ch,
		       c->base_pct, c->new_pct, c->pts, c->z,
		       rows[i].via	? "via"
		       : c->significant ? "yes"
					: "no",
		       profile__frame_name(d->fnames, rows[i].fn));
	}
	free(rows);
}

/* The top of a call path that NEW no longer has: BASE's stack first_stack
 * down to depth frames, and BASE's weight under it.
 */
struct gone {
	uint32_t first_stack, depth;
	uint64_t total;
};

static int cmp_gone(const void *a, const void *b)
{
	const struct gone *x = a, *y = b;

	/* Heaviest first; ties in BASE's order. */
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->first_stack < y->first_stack ? -1 : x->first_stack > y->first_stack;
}

static void print_gone(const struct diff *d)
{
	struct calltree_node root;
	struct calltree_walk w;
	struct gone *gone = NULL;
	size_t ngone = 0, cap = 0;
	double bt;

	calltree__root(d->tree, &root);
	bt = (double)root.total[0];
	/* Each BASE stack whose path NEW leaves: the node below the deepest
	 * one NEW has is the top of what is gone, shared by the stacks next
	 * to it in the walk that leave there too.
	 */
	calltree__walk_start(d->tree, &w);
	while (calltree__walk_next(d->tree, &w)) {
		uint32_t top = w.in[1] + 1;

		if (!w.self[0] || w.in[1] >= w.n || (top == 1 && !root.total[1]))
			continue;
		if (ngone && w.common >= top && gone[ngone - 1].depth == top) {
			gone[ngone - 1].total += w.self[0];
			if (w.first[0] < gone[ngone - 1].first_stack)
				gone[ngone - 1].first_stack = w.first[0];
			continue;
		}
		grow_array((void **)&gone, &cap, ngone + 1, sizeof(*gone));
		gone[ngone++] = (struct gone){ w.first[0], top, w.self[0] };
	}
	calltree__walk_free(&w);
	qsort(gone, ngone, sizeof(*gone), cmp_gone);
	printf("\n# call paths only in BASE: %zu\n", ngone);
	for (size_t i = 0; i < ngone && i < MAX_GONE_PRINTED; i++) {
		uint32_t n;
		uint64_t wt;
		const uint32_t *f = profile__stack(d->base, gone[i].first_stack, &n, &wt);

		printf("%7.2f%% ", 100.0 * (double)gone[i].total / bt);
		for (uint32_t j = 0; j < gone[i].depth; j++) {
			if (j)
				putchar(';');
			fputs(profile__frame_name(d->base, f[j]), stdout);
		}
		putchar('\n');
	}
	if (ngone > MAX_GONE_PRINTED)
		printf("(%zu more)\n", ngone - MAX_GONE_PRINTED);
	free(gone);
}

/* FlameGraph's difffolded.pl format: one line per stack of either profile,
 * depth-first in name order. Lines go out through one large buffer; the
 * path so far is kept in another, each frame's length is looked up once and
 * the frames a stack shares with the previous one are not copied again.
 */
struct folded_out {
	FILE *f;
	const struct diff *d;
	size_t *name_len;
	char *path, *out;
	size_t path_len, path_cap, out_len;
};

#define FOLDED_OUT_BUF (1 << 20)

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static void folded_out_line(struct folded_out *o, const uint64_t *self)
{
	size_t need = o->path_len + 2 * 21 + 1;
	char *p;

	if (o->out_len + need > FOLDED_OUT_BUF) {
		fwrite(o->out, 1, o->out_len, o->f);
		o->out_len = 0;
	}
	if (need > FOLDED_OUT_BUF) {
		fwrite(o->path, 1, o->path_len, o->f);
		fprintf(o->f, " %" PRIu64 " %" PRIu64 "\n", self[0], self[1]);
		return;
	}
	p = o->out + o->out_len;
	memcpy(p, o->path, o->path_len);
	p += o->path_len;
	*p++ = ' ';
	p = put_u64(p, self[0]);
	*p++ = ' ';
	p = put_u64(p, self[1]);
	*p++ = '\n';
	o->out_len = (size_t)(p - o->out);
}

static void write_difffolded(FILE *f, const struct diff *d)
{
	size_t nf = profile__nframes(d->names), ends_cap = 0;
	struct folded_out o = { .f = f, .d = d };
	struct calltree_walk w;
	/* ends[j]: the length of the path's text up to frame j. */
	size_t *ends = NULL;

	o.name_len = xmalloc((nf ? nf : 1) * sizeof(*o.name_len));
	for (size_t i = 0; i < nf; i++)
		o.name_len[i] = strlen(profile__frame_name(d->names, (uint32_t)i));
	o.out = xmalloc(FOLDED_OUT_BUF);
	calltree__walk_start(d->tree, &w);
	while (calltree__walk_next(d->tree, &w)) {
		if (!w.n)
			continue;
		grow_array((void **)&ends, &ends_cap, w.n, sizeof(*ends));
		o.path_len = w.common ? ends[w.common - 1] : 0;
		for (uint32_t j = w.common; j < w.n; j++) {
			size_t n = o.name_len[w.frames[j]];

			grow_array((void **)&o.path, &o.path_cap, o.path_len + n + 1, 1);
			if (o.path_len)
				o.path[o.path_len++] = ';';
			memcpy(o.path + o.path_len, profile__frame_name(d->names, w.frames[j]), n);
			o.path_len += n;
			ends[j] = o.path_len;
		}
		folded_out_line(&o, w.self);
	}
	calltree__walk_free(&w);
	fwrite(o.out, 1, o.out_len, f);
	free(o.out);
	free(o.path);
	free(o.name_len);
	free(ends);
}

struct read_job {
	const char *path;
	struct profile *p;
	unsigned int flags;
	const struct input_meta *im;
	int ret;
};

static void *read_job(void *arg)
{
	struct read_job *j = arg;

	j->ret = report__read_input(j->path, j->p, j->flags, j->im);
	return NULL;
}

/* Read BASE on a second thread while NEW is read here: the two parses are
 * independent and most of diff's time.
 */
static int read_both(struct diff *d, unsigned int flags, const struct input_meta *im)
{
	struct read_job base = { d->base_path, d->base, flags, im, 0 };
	struct read_job new = { d->new_path, d->new, flags, im, 0 };
	pthread_t th;
	int threaded = strcmp(d->base_path, "-") && strcmp(d->new_path, "-") &&
		       !pthread_create(&th, NULL, read_job, &base);

	if (!threaded)
		read_job(&base);
	read_job(&new);
	if (threaded)
		pthread_join(th, NULL);
	return base.ret ? base.ret : new.ret;
}

static double per_sample(const struct profile *p, int *warned, const char *path)
{
	const struct profile_meta *m = profile__meta_ro(p);

	if (!m->unit || !strcmp(m->unit, "samples"))
		return 1;
	if (m->hz)
		return (!strcmp(m->unit, "nanoseconds") ? 1e9 : 1e6) / m->hz;
	if (!(*warned)++)
		p_warn("%s counts %s and no sampling rate is known (give --hz): the test treats "
		       "each unit as a sample and will call small changes significant",
		       path, m->unit);
	return 1;
}

/* The comparison two headers call for, and why, for the first output line. */
static enum diff_norm default_norm(const struct profile_meta *b, const struct profile_meta *n,
				   const char **why)
{
	if (b->window && n->window && !strcmp(b->window, "command") &&
	    !strcmp(n->window, "command")) {
		*why = "both profiles are commands that ran to completion";
		return DIFF_ABSOLUTE;
	}
	if (b->window && n->window && !strcmp(b->window, "attach") &&
	    !strcmp(n->window, "attach") && b->duration_sec > 0 && n->duration_sec > 0) {
		*why = "both profiles are attach windows";
		return DIFF_PER_SECOND;
	}
	*why = "the headers do not say both ran the same work or both were attach windows";
	return DIFF_SHARES;
}

static int parse_norm(const char *arg, enum diff_norm *out)
{
	for (int i = 0; i < DIFF_NORM_MAX; i++)
		if (!strcmp(arg, diff_norms[i].name)) {
			*out = (enum diff_norm)i;
			return 0;
		}
	p_err("invalid --normalize '%s' (use absolute, per-second or shares)", arg);
	return -1;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "normalize", required_argument, NULL, 'n' },
		{ "top", required_argument, NULL, 't' },
		{ "confidence", required_argument, NULL, OPT_CONFIDENCE },
		{ "fail-above", required_argument, NULL, OPT_FAIL_ABOVE },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "lenient", no_argument, NULL, OPT_LENIENT },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "unit", required_argument, NULL, OPT_UNIT },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "hz", required_argument, NULL, OPT_HZ },
		{ "output-in-place", no_argument, NULL, OPT_IN_PLACE },
		{ "short-paths", no_argument, NULL, OPT_SHORT_PATHS },
		{ "no-lines", no_argument, NULL, OPT_NO_LINES },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct profile_opts po = { 0 };
	const char *output, *format, *title = NULL;
	unsigned long top = DEFAULT_TOP;
	double fail_above = -1;
	struct diff d = { .confidence = DEFAULT_CONFIDENCE };
	enum output_format fmt = OUTPUT_INVALID;
	int opt, ret, r, warned = 0, regressions = 0, norm_given = 0;
	const char *why = "given with --normalize";
	char *end;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "o:f:n:t:qh", longopts, NULL)) != -1) {
		r = report__profile_opt(&po, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		switch (opt) {
		case 'n':
			if (parse_norm(optarg, &d.test.norm))
				return EXIT_USAGE;
			norm_given = 1;
			break;
		case 't':
			if (parse_ulong(optarg, 1, 1000000, &top)) {
				p_err("invalid --top '%s' (give a number of rows, 1 or more)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_CONFIDENCE:
			d.confidence = strtod(optarg, &end) / 100;
			if (end == optarg || *end || !(d.confidence >= 0.5 && d.confidence < 1)) {
				p_err("invalid --confidence '%s' (give a percentage, 50 to 99.99)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_FAIL_ABOVE:
			fail_above = strtod(optarg, &end);
			if (end == optarg || *end || !(fail_above >= 0 && fail_above <= 100)) {
				p_err(
				    "invalid --fail-above '%s' (give percentage points, 0 to 100)",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TITLE:
			title = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return report__bad_option(argv, "diff");
		}
	}
	output = po.output;
	format = po.format;
	if (optind + 2 != argc) {
		p_err("give two collapsed-stack files: BASE and NEW (see 'rampa-bpf diff --help')");
		return EXIT_USAGE;
	}
	if (output || format) {
		fmt = output__format_for(format, output);
		if (!output || (fmt != OUTPUT_SVG && fmt != OUTPUT_FOLDED)) {
			p_err(output ? "diff writes svg or folded, not '%s' (use -o diff.svg or -o "
				       "diff.folded)"
				     : "--format needs -o FILE",
			      format ? format : output);
			return EXIT_USAGE;
		}
	}
	d.base_path = argv[optind];
	d.new_path = argv[optind + 1];
	d.base = profile__new();
	d.new = profile__new();
	d.fnames = profile__new();
	ret = read_both(&d, po.read_flags, &po.meta);
	if (ret)
		goto cleanup;
	for (int i = 0; i < 2 && !ret; i++)
		ret = report__apply_window(i ? &d.new : &d.base, &po, i ? d.new_path : d.base_path);
	if (ret)
		goto cleanup;
	for (int i = 0; i < 2; i++) {
		struct profile **pp = i ? &d.new : &d.base, *l = labels__apply(*pp, po.label_flags);

		if (l != *pp) {
			profile__free(*pp);
			*pp = l;
		}
	}
	/* Samples against microseconds, CPU against wall: no change is
	 * measured between different things, only their shapes compared.
	 */
	{
		const char *bm = profile__meta(d.base)->mode, *nm = profile__meta(d.new)->mode;
		/* Bytes against time: not even their shapes compare. */
		bool bytes = (bm && !strcmp(bm, "mem")) != (nm && !strcmp(nm, "mem"));

		if (bm && nm && strcmp(bm, nm) &&
		    (bytes || !(norm_given && d.test.norm == DIFF_SHARES))) {
			if (bytes)
				p_err("'%s' is a %s profile and '%s' a %s profile: memory grown "
				      "and time spent do not compare (diff two runs of one mode)",
				      d.base_path, bm, d.new_path, nm);
			else
				p_err("'%s' is a %s profile and '%s' a %s profile: their times do "
				      "not compare (record both in one mode, or pass --normalize "
				      "shares to compare shapes only)",
				      d.base_path, bm, d.new_path, nm);
			ret = EXIT_USAGE;
			goto cleanup;
		}
	}
	d.names = d.new;
	d.test.z_crit = stats__z_crit(d.confidence);
	d.test.per_sample[0] = per_sample(d.base, &warned, d.base_path);
	d.test.per_sample[1] = per_sample(d.new, &warned, d.new_path);
	if (!norm_given)
		d.test.norm = default_norm(profile__meta(d.base), profile__meta(d.new), &why);
	for (int i = 0; i < 2; i++) {
		const struct profile_meta *m = profile__meta(i ? d.new : d.base);

		d.test.unit_sec[i] = unit_seconds(m->unit, m->hz);
		d.test.exposure[i] = d.test.norm == DIFF_PER_SECOND ? m->duration_sec : 1;
		if (d.test.exposure[i] <= 0) {
			p_err(
			    "--normalize per-second needs how long each profile ran, and '%s' does "
			    "not say (give --duration, or --normalize absolute or shares)",
			    i ? d.new_path : d.base_path);
			ret = EXIT_USAGE;
			goto cleanup;
		}
	}

	d.tree = calltree__new(d.names);
	calltree__add(d.tree, d.base, 0);
	calltree__add(d.tree, d.new, 1);
	calltree__sort(d.tree);
	d.fs.by_function = 1;
	funcstats__add(&d.fs, d.base, d.fnames, 0);
	funcstats__add(&d.fs, d.new, d.fnames, 1);

	if (output) {
		struct output_file of;
		int ok;

		if (output__open(&of, output, po.out_flags)) {
			ret = EXIT_OUTPUT;
			goto cleanup;
		}
		if (fmt == OUTPUT_SVG) {
			struct flamegraph_opts o = {
				.title = title,
				.diff = 1,
				.confidence = d.confidence,
				.test = &d.test,
				.base_name = d.base_path,
				.new_name = d.new_path,
			};

			ok = !flamegraph__write_tree(of.f, d.tree, d.names, profile__meta(d.new),
						     &o);
		} else {
			write_difffolded(of.f, &d);
			ok = !ferror(of.f);
		}
		if (output__commit(&of, ok)) {
			ret = EXIT_OUTPUT;
			goto cleanup;
		}
		if (!po.quiet && strcmp(output, "-"))
			fprintf(stderr, "rampa-bpf: wrote %s\n", output);
	}
	if (output && !strcmp(output, "-"))
		goto check;

	printf("# comparing %s: %s (--normalize %s)\n", diff_norms[d.test.norm].what, why,
	       diff_norms[d.test.norm].name);
	for (int i = 0; i < 2; i++) {
		const struct profile_meta *m = profile__meta(i ? d.new : d.base);
		char t[32], dur[32];

		printf("%s %s %s: %" PRIu64 " %s", i ? ";" : "#", i ? "NEW" : "BASE",
		       i ? d.new_path : d.base_path, d.fs.sum[i], m->unit);
		if (d.test.unit_sec[i] > 0 && strcmp(m->unit, "samples") == 0)
			printf(" (%s)",
			       fmt_time(t, sizeof(t), (double)d.fs.sum[i] * d.test.unit_sec[i], 0));
		if (m->duration_sec > 0)
			printf(" in %s", fmt_time(dur, sizeof(dur), m->duration_sec, 0));
	}
	printf("\n# significant: %s, %g%% confidence (|z| >= %.2f)\n", diff_norms[d.test.norm].test,
	       100 * d.confidence, d.test.z_crit);
	printf("# SIG via: the total changed only through a significant self change below it\n");
	find_sources(&d);
	print_table(&d, 0, top);
	print_table(&d, 1, top);
	print_gone(&d);
check:
	if (fail_above >= 0) {
		for (uint32_t i = 0; i < d.fs.n; i++) {
			struct diff_row row;

			if (!d.fs.total[0][i] && !d.fs.total[1][i])
				continue;
			row_for(&d, i, 0, &row);
			if (!row.c.significant || row.c.pts <= fail_above)
				continue;
			regressions++;
			p_err("regression: %s: total share %.2f%% -> %.2f%% (%+.2f points > %g, "
			      "z=%.1f)",
			      profile__frame_name(d.fnames, i), row.c.base_pct, row.c.new_pct,
			      row.c.pts, fail_above, row.c.z);
		}
		if (regressions)
			ret = EXIT_REGRESSION;
	}
cleanup:
	calltree__free(d.tree);
	funcstats__free(&d.fs);
	free(d.self_sig);
	free(d.rest[0]);
	free(d.rest[1]);
	profile__free(d.base);
	profile__free(d.new);
	profile__free(d.fnames);
	return ret;
}
