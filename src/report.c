// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf report: convert collapsed stacks to any output format, or print
 * the heaviest functions.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calltree.h"
#include "commands.h"
#include "flamegraph.h"
#include "folded.h"
#include "labels.h"
#include "output.h"
#include "report.h"
#include "store.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rampa-bpf report IN [-o OUT] [--format FORMAT] [--top N] [OPTIONS]\n"
	    "       rampa-bpf report STORE-DIR [--service S] [--from T] [--to T] [OPTIONS]\n\n"
	    "Convert collapsed stacks (ours, FlameGraph's, py-spy's raw output; '-' for\n"
	    "stdin) to another format, or print the heaviest functions.\n\n"
	    "  -o, --output FILE        write the profile to FILE ('-': stdout)\n"
	    "  -f, --format FORMAT      %s (default: from the\n"
	    "                           extension of FILE: .folded .svg .speedscope.json .pb.gz\n"
	    "                           .pstats .gecko.json)\n"
	    "  -t, --top N              print the N heaviest functions by self and total\n"
	    "                           (the default when no -o is given: 20)\n"
	    "      --sort KEY           order of --top: self (default) or total\n" LABEL_HELP
		REPORT_META_HELP
	    "      --output-in-place    write through a symlink, FIFO or device at FILE\n"
	    "A directory IN is an agent's store (rampa-bpf-agent(1)): the windows of a\n"
	    "time range are merged, whole; --mode picks the mode when several are stored.\n"
	    "      --service NAME       the windows of this service (default: every service)\n"
	    "      --from TIME          from TIME: ISO 8601 (UTC), or before now: -10m, -2h\n"
	    "      --to TIME            up to TIME (default: now)\n"
	    "  -q, --quiet              no summary on stderr\n"
	    "  -h, --help               this help\n\n"
	    "exit status: 0 ok, 2 usage, 5 output cannot be written, 6 input unreadable or\n"
	    "malformed. See rampa-bpf-report(1).\n",
	    output__format_list());
}

enum { OPT_STORE_SERVICE = 500 };

static int meta_opt(struct input_meta *im, int opt, const char *arg)
{
	static const char *const units[] = { "samples", "microseconds", "nanoseconds", "bytes" };
	unsigned long v;

	switch (opt) {
	case OPT_MODE:
		if (profile__mode(arg)) {
			im->mode = profile__mode(arg)->name;
			return 1;
		}
		p_err("unknown mode '%s' (use %s)", arg, profile__mode_list(false));
		return -1;
	case OPT_UNIT:
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(arg, units[i])) {
				im->unit = units[i];
				return 1;
			}
		{
			char list[128] = "";

			/* From the table, so the list cannot drift from it. */
			for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", units[i]);
			p_err("unknown unit '%s' (use %s)", arg, list);
		}
		return -1;
	case OPT_TARGET:
		im->target = arg;
		return 1;
	case OPT_DURATION:
		if (parse_duration(arg, &im->duration_sec)) {
			p_err("invalid duration '%s' (use seconds like 30, or 500ms, 2m)", arg);
			return -1;
		}
		return 1;
	case OPT_HZ:
		if (parse_ulong(arg, 1, 1000000, &v)) {
			p_err("invalid rate '%s' (give samples per second, 1 to 1000000)", arg);
			return -1;
		}
		im->hz = (unsigned int)v;
		return 1;
	}
	return 0;
}

int report__profile_opt(struct profile_opts *po, int opt, const char *arg)
{
	int r = meta_opt(&po->meta, opt, arg);

	if (r)
		return r;
	switch (opt) {
	case 'o':
		if (!*arg) {
			p_err("empty output path given to -o");
			return -1;
		}
		po->output = arg;
		return 1;
	case 'f':
		po->format = arg;
		return 1;
	case OPT_LENIENT:
		po->read_flags |= FOLDED_LENIENT;
		return 1;
	case OPT_IN_PLACE:
		po->out_flags |= OUTPUT_IN_PLACE;
		return 1;
	case OPT_SHORT_PATHS:
		po->label_flags |= LABEL_SHORT_PATHS;
		return 1;
	case OPT_NO_LINES:
		po->label_flags |= LABEL_NO_LINES;
		return 1;
	case 'q':
		po->quiet = 1;
		return 1;
	case OPT_FROM:
	case OPT_TO: {
		double v;
		char *end;

		/* Checked when applied: a store's windows take wall-clock times. */
		errno = 0;
		v = strtod(arg, &end);
		if (errno || end == arg || *end || !(v >= 0) || v > 1e9)
			po->window_bad = arg;
		if (!po->window)
			po->to = -1;
		po->window = true;
		if (opt == OPT_FROM) {
			po->from = v;
			po->from_arg = arg;
		} else {
			po->to = v;
			po->to_arg = arg;
		}
		return 1;
	}
	}
	return 0;
}

int report__apply_window(struct profile **p, const struct profile_opts *po, const char *path)
{
	double w = profile__slice_sec(*p), to;
	uint32_t first, last, n = profile__nslices(*p);
	struct profile *win;

	if (!po->window)
		return EXIT_OK;
	if (po->window_bad) {
		p_err(
		    "invalid --from/--to '%s' for %s (give seconds from the profile's start, e.g. "
		    "2.5; wall-clock times are for an agent's store directory)",
		    po->window_bad, strcmp(path, "-") ? path : "stdin");
		return EXIT_USAGE;
	}
	if (w <= 0 && profile__meta(*p)->mode && !strcmp(profile__meta(*p)->mode, "mem")) {
		p_err("%s is a memory profile (rampa-bpf mem), which keeps no time axis: "
		      "--from/--to are for profiles of record, gil-wait and the agent",
		      strcmp(path, "-") ? path : "stdin");
		return EXIT_USAGE;
	}
	if (w <= 0) {
		p_err("%s has no time axis (recorded before timelines, with --slice 0, or by "
		      "another tool): --from/--to need a profile from rampa-bpf record",
		      strcmp(path, "-") ? path : "stdin");
		return EXIT_USAGE;
	}
	if (po->to >= 0 && po->to <= po->from) {
		p_err("--to %g is not after --from %g", po->to, po->from);
		return EXIT_USAGE;
	}
	to = po->to < 0 ? (double)n * w : po->to;
	/* Every slice [k w, (k + 1) w) that overlaps [from, to). */
	first = (uint32_t)(po->from / w);
	last = (uint32_t)ceil(to / w);
	last = last ? last - 1 : 0;
	if (!n || po->from >= (double)n * w) {
		p_err("%s: nothing from %g s on (its timeline ends at %g s)", path, po->from,
		      (double)n * w);
		return EXIT_USAGE;
	}
	if (last >= n)
		last = n - 1;
	win = profile__window(*p, first, last);
	if (!po->quiet) {
		char a[32], b[32];
		struct profile_timeline_stats ts;

		profile__timeline_stats(*p, &ts);
		fprintf(stderr, "rampa-bpf: %s: kept %g s to %g s (slices of %g s): %s of %s\n",
			strcmp(path, "-") ? path : "stdin", first * w,
			first * w + profile__meta(win)->duration_sec, w,
			fmt_amount(a, sizeof(a), profile__total(win), profile__meta(win)->unit),
			fmt_amount(b, sizeof(b), profile__total(*p), profile__meta(*p)->unit));
		if (ts.untimed)
			p_warn("%s: %s with no time slice left out",
			       strcmp(path, "-") ? path : "stdin",
			       fmt_amount(a, sizeof(a), ts.untimed, profile__meta(*p)->unit));
	}
	profile__free(*p);
	*p = win;
	return EXIT_OK;
}

int report__bad_option(char **argv, const char *cmd)
{
	if (optopt)
		p_err("option -%c is unknown or needs a value (see 'rampa-bpf %s --help')", optopt,
		      cmd);
	else
		p_err("unknown or incomplete option '%s' (see 'rampa-bpf %s --help')",
		      argv[optind - 1], cmd);
	return EXIT_USAGE;
}

int report__read_input(const char *path, struct profile *p, unsigned int folded_flags,
		       const struct input_meta *im)
{
	struct folded_read_stats st;
	struct profile_meta *m = profile__meta(p);
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	struct stat sb;
	int ret;

	if (!f) {
		p_err("cannot open '%s': %s", path, strerror(errno));
		return EXIT_INPUT;
	}
	/* Our other outputs are not inputs: say so rather than blame a line.
	 * JSON (gecko, speedscope) opens with '{' and a quote or a space,
	 * pstats (marshal) with '{' and a tuple, pprof with gzip's magic; a
	 * folded line hardly does. Regular files only: a pipe cannot be
	 * rewound.
	 */
	if (f != stdin && !fstat(fileno(f), &sb) && S_ISREG(sb.st_mode)) {
		unsigned char b[2] = { 0, 0 };
		size_t got = fread(b, 1, 2, f);
		const char *what = NULL;

		if (got == 2 && b[0] == '{' && (b[1] == '"' || isspace(b[1]) || b[1] == '}'))
			what = "JSON (a gecko or speedscope file?)";
		else if (got == 2 && b[0] == '{' && (b[1] == '(' || b[1] == ')' || b[1] >= 0x80))
			what = "marshal data (a pstats file?)";
		else if (got == 2 && b[0] == 0x1f && b[1] == 0x8b)
			what = "gzip data (a pprof file?)";
		if (what) {
			p_err("'%s' is %s, not collapsed stacks: report and diff read folded files "
			      "(and agent stores); give the run's folded file, or record with -o "
			      "x.folded",
			      path, what);
			fclose(f);
			return EXIT_INPUT;
		}
		rewind(f);
	}
	ret = folded__read(f, strcmp(path, "-") ? path : "<stdin>", p, folded_flags, &st);
	if (f != stdin)
		fclose(f);
	if (ret)
		return EXIT_INPUT;
	if (!profile__total(p)) {
		p_err("'%s' holds no samples (expected lines 'frame;frame;... COUNT')", path);
		return EXIT_INPUT;
	}
	if (im->mode) {
		m->mode = im->mode;
		/* Only cpu counts samples; the other modes measure time. */
		if (!im->unit)
			m->unit = profile__mode(im->mode)->unit;
	}
	if (im->unit)
		m->unit = im->unit;
	if (im->target)
		snprintf(m->target, sizeof(m->target), "%s", im->target);
	else if (!m->target[0])
		snprintf(m->target, sizeof(m->target), "%s", strcmp(path, "-") ? path : "stdin");
	if (im->duration_sec > 0)
		m->duration_sec = im->duration_sec;
	if (im->hz)
		m->hz = im->hz;
	return EXIT_OK;
}

struct top_row {
	uint32_t fn;
	uint64_t self, total;
};

static int sort_total;

static int cmp_row(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	uint64_t kx = sort_total ? x->total : x->self, ky = sort_total ? y->total : y->self;

	if (kx != ky)
		return kx < ky ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->fn < y->fn ? -1 : x->fn > y->fn;
}

static void print_top(const struct profile *p, unsigned long top)
{
	struct profile *fnames = profile__new();
	struct funcstats fs = { .by_function = 1 };
	struct top_row *rows;
	size_t n = 0;
	double total = (double)profile__total(p);
	const struct profile_meta *m = profile__meta_ro(p);
	int time_unit = unit_seconds(m->unit, 0) > 0;
	char desc[512], s[32], t[32];

	funcstats__add(&fs, p, fnames, 0);
	rows = xmalloc((fs.n ? fs.n : 1) * sizeof(*rows));
	for (size_t i = 0; i < fs.n; i++)
		if (fs.total[0][i])
			rows[n++] = (struct top_row){ (uint32_t)i, fs.self[0][i], fs.total[0][i] };
	qsort(rows, n, sizeof(*rows), cmp_row);
	profile_meta__describe(m, desc, sizeof(desc));
	printf("# %s\n# total %s in %zu stacks, %zu functions; by %s\n", desc,
	       fmt_amount(s, sizeof(s), profile__total(p), m->unit), profile__nstacks(p), n,
	       sort_total ? "total" : "self");
	printf("%14s %7s %14s %7s  %s\n", "SELF", "SELF%", "TOTAL", "TOTAL%", "FUNCTION");
	for (size_t i = 0; i < n && i < top; i++) {
		/* Sample counts as they are; time in us, ms or s. */
		if (time_unit) {
			fmt_amount(s, sizeof(s), rows[i].self, m->unit);
			fmt_amount(t, sizeof(t), rows[i].total, m->unit);
		} else {
			snprintf(s, sizeof(s), "%" PRIu64, rows[i].self);
			snprintf(t, sizeof(t), "%" PRIu64, rows[i].total);
		}
		printf("%14s %6.2f%% %14s %6.2f%%  %s\n", s, 100.0 * (double)rows[i].self / total,
		       t, 100.0 * (double)rows[i].total / total,
		       profile__frame_name(fnames, rows[i].fn));
	}
	free(rows);
	funcstats__free(&fs);
	profile__free(fnames);
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "top", required_argument, NULL, 't' },
		{ "sort", required_argument, NULL, OPT_SORT },
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
		/* A store's (store.h); its --from/--to are wall-clock times. */
		{ "service", required_argument, NULL, OPT_STORE_SERVICE },
		{},
	};
	const char *service = NULL;
	struct profile_opts po = { 0 };
	const char *output, *format, *input;
	unsigned long top = 0;
	enum output_format fmt;
	struct profile *p, *l;
	int opt, ret, r;

	optind = 1;
	opterr = 0;
	sort_total = 0;
	while ((opt = getopt_long(argc, argv, "o:f:t:qh", longopts, NULL)) != -1) {
		r = report__profile_opt(&po, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r)
			continue;
		switch (opt) {
		case 't':
			if (parse_ulong(optarg, 1, 1000000, &top)) {
				p_err("invalid --top '%s' (give a number of functions, 1 or more)",
				      optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_SORT:
			if (strcmp(optarg, "self") && strcmp(optarg, "total")) {
				p_err("invalid --sort '%s' (use self or total)", optarg);
				return EXIT_USAGE;
			}
			sort_total = !strcmp(optarg, "total");
			break;
		case OPT_STORE_SERVICE:
			service = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return report__bad_option(argv, "report");
		}
	}
	output = po.output;
	format = po.format;
	if (optind + 1 != argc) {
		p_err(optind == argc
			  ? "no input: give a collapsed-stack file (or - for stdin)"
			  : "give exactly one input file (see 'rampa-bpf report --help')");
		return EXIT_USAGE;
	}
	input = argv[optind];
	fmt = output__format_for(format, output);
	output__warn_unknown_ext(format, output);
	if (fmt == OUTPUT_INVALID) {
		p_err("unknown format '%s' (supported: %s)", format, output__format_list());
		return EXIT_USAGE;
	}
	if (format && !output) {
		p_err("--format needs -o FILE (or -o - for stdout)");
		return EXIT_USAGE;
	}
	if (!output && !top)
		top = 20;

	p = profile__new();
	if (store__is_store(input)) {
		ret = store__report_input(input, service, po.meta.mode, po.from_arg, po.to_arg, p,
					  po.quiet);
		ret = !ret ? EXIT_OK : ret == -EINVAL ? EXIT_USAGE : EXIT_INPUT;
	} else if (service) {
		p_err("--service reads an agent's store: '%s' is not one", input);
		ret = EXIT_USAGE;
	} else {
		ret = report__read_input(input, p, po.read_flags, &po.meta);
		if (!ret)
			ret = report__apply_window(&p, &po, input);
	}
	if (ret)
		goto cleanup;
	l = labels__apply(p, po.label_flags);
	if (l != p) {
		profile__free(p);
		p = l;
	}
	/* Neither the folded format nor a store keeps a wait's start and end or
	 * a sample's instant: said once, rather than a gecko file that looks
	 * complete without them.
	 */
	if (output && fmt == OUTPUT_GECKO && !po.quiet)
		p_warn("%s keeps no wait markers and no sample instants (the folded format has "
		       "neither): the gecko file has no markers and spreads samples evenly over "
		       "each time slice; record straight to gecko (rampa-bpf record -o "
		       "x.gecko.json) to keep both",
		       strcmp(input, "-") ? input : "stdin");
	/* pstats holds seconds: a usage error, as record's, not a failed write. */
	if (output && !output__takes_unit(fmt, profile__meta(p)->unit)) {
		p_err("%s: %s holds times, and this profile counts bytes (use %s)", output,
		      output__format_name(fmt), output__exts_for_unit(profile__meta(p)->unit));
		ret = EXIT_USAGE;
		goto cleanup;
	}
	if (output && output__write_file(output, p, fmt, po.out_flags)) {
		ret = EXIT_OUTPUT;
		goto cleanup;
	}
	if (output && !po.quiet && strcmp(output, "-")) {
		char amount[32];

		fprintf(
		    stderr, "rampa-bpf: wrote %s (%s, %zu stacks, %s)\n", output,
		    output__format_name(fmt), profile__nstacks(p),
		    fmt_amount(amount, sizeof(amount), profile__total(p), profile__meta(p)->unit));
	}
	if (top)
		print_top(p, top);
cleanup:
	profile__free(p);
	return ret;
}
