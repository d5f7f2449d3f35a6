// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf mem: what grows a process's memory. Retained growth by the
 * Python, native stacks that faulted the pages in (and still hold them),
 * churn apart, the RSS curve of the target tree, and two checks for CI:
 * --max-peak and --max-growth. The engine is session.h (MODE_MEM), the
 * pages memtrack.h, the curve memcurve.h.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "labels.h"
#include "report.h"
#include "capture_api.h"
#include "memcurve.h"
#include "memtrack.h"
#include "profile.h"
#include "session.h"
#include "output.h"
#include "util.h"

/* The "last part of the run" that --max-growth and the summary's growth rate
 * look at: this fraction of the time covered, at its end.
 */
#define MEM_GROWTH_TAIL 0.5
/* Stacks listed in the summary and when a check fails. */
#define MEM_STACKS_LISTED 5
/* Frames shown per stack, from the leaf. */
#define MEM_FRAMES_SHOWN 4

struct mem_checks {
	uint64_t max_peak;	/* bytes, 0: no check */
	double max_growth;	/* bytes per minute, < 0: no check */
	const char *growth_arg; /* as given, for messages */
};

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rampa-bpf mem [options] -p PID[,PID...]\n"
	    "       rampa-bpf mem [options] -- CMD [ARGS...]\n"
	    "\n"
	    "Follow the resident memory of the targets and their descendants, and find\n"
	    "the stacks (Python, native) that grew it: anonymous pages faulted in and\n"
	    "still mapped at the end are retained growth, written as collapsed stacks\n"
	    "weighted in bytes; pages given back meanwhile (munmap, madvise, a trimmed\n"
	    "heap) are churn, listed apart. Cheap enough for production: page faults are\n"
	    "sampled, memory syscalls seen by tracepoints; the allocator is not probed.\n"
	    "\n"
	    "options:\n"
	    "  -p, --pid PID[,PID...]   these running processes, and their descendants\n"
	    "      --no-children        with -p: the given processes only\n"
	    "  -d, --duration TIME      stop after TIME (e.g. 30, 30s, 500ms, 2m); default:\n"
	    "                           until Ctrl-C or the targets exit\n"
	    "      --max-peak SIZE      fail (exit status 8) when the resident memory of the\n"
	    "                           targets went above SIZE (e.g. 512M, 2G)\n"
	    "      --max-growth RATE    fail (exit status 9) when resident memory still grew\n"
	    "                           faster than RATE over the last half of the run\n"
	    "                           (e.g. 10M/min, 100K/s; per minute by default)\n"
	    "      --fault-sample N     sample one anonymous write fault in N (default %d;\n"
	    "                           1: every fault)\n"
	    "      --precise            probe the allocator (glibc's malloc family) instead:\n"
	    "                           every block tracked until freed, stacks sampled by\n"
	    "                           bytes; growth is what was allocated and not freed\n"
	    "                           (slower: see rampa-bpf-mem(1))\n"
	    "      --sample-bytes SIZE  with --precise: one allocation sampled with its stack\n"
	    "                           per SIZE bytes allocated, on average (default %s)\n"
	    "      --max-blocks N       with --precise: live blocks tracked at once (default\n"
	    "                           %u); blocks beyond are counted, not tracked\n"
	    "      --per-process        put 'NAME-PID' under the root frame: a tree per process\n"
	    "  -T, --per-thread         put 'NAME-TID' under the process root frame\n"
	    "  -o, --output FILE        where to write the profile (default\n"
	    "                           rampa-mem-PID.folded; rampa-mem-CMD.folded with --)\n",
	    RAMPA_MEM_FAULT_SAMPLE, "256K", RAMPA_MEM_MAX_BLOCKS);
	output__usage_format(f, "    --format FORMAT", "bytes");
	fputs(
	    "      --output-in-place    write through a symlink, FIFO or device at FILE\n"
	    "      --as-root            under sudo, run CMD as root (default: the sudo user)\n" LABEL_HELP
	    "  -q, --quiet              print only errors and failed checks\n"
	    "  -v, --verbose            print debugging details\n"
	    "  -h, --help               show this help\n"
	    "\n"
	    "SIZE takes K, M, G or T (powers of 1024). With -- CMD, rampa-bpf exits with\n"
	    "CMD's exit status unless a check fails. See rampa-bpf-mem(1).\n",
	    f);
}

/* "512M", "2G", "100K", "4096": bytes; -1 if not a size. end: where the
 * size stops (for rates), NULL: the whole string.
 */
static int parse_size(const char *s, const char **end, uint64_t *out)
{
	char *e;
	double v = strtod(s, &e), mul = 1;

	if (e == s || v < 0 || !isfinite(v))
		return -1;
	switch (*e) {
	case 'k':
	case 'K':
		mul = 1024.0;
		break;
	case 'm':
	case 'M':
		mul = 1024.0 * 1024;
		break;
	case 'g':
	case 'G':
		mul = 1024.0 * 1024 * 1024;
		break;
	case 't':
	case 'T':
		mul = 1024.0 * 1024 * 1024 * 1024;
		break;
	}
	if (mul > 1) {
		e++;
		if (!strncmp(e, "iB", 2))
			e += 2;
		else if (*e == 'B')
			e++;
	} else if (*e == 'B') {
		e++;
	}
	if (end)
		*end = e;
	else if (*e)
		return -1;
	*out = (uint64_t)(v * mul);
	return 0;
}

/* "10M/min", "100K/s", "1G/h", "10M": bytes per minute. */
static int parse_rate(const char *s, double *per_min)
{
	const char *e;
	uint64_t b;

	if (parse_size(s, &e, &b))
		return -1;
	if (!*e || !strcmp(e, "/min") || !strcmp(e, "/m"))
		*per_min = (double)b;
	else if (!strcmp(e, "/s"))
		*per_min = (double)b * 60;
	else if (!strcmp(e, "/h"))
		*per_min = (double)b / 60;
	else
		return -1;
	return 0;
}

struct stack_row {
	const uint32_t *frames;
	uint32_t n;
	uint64_t retained, churn;
};

struct rows {
	struct stack_row *v;
	size_t n, cap;
};

static void collect(const uint32_t *frames, uint32_t n, uint64_t retained, uint64_t churn,
		    void *ctx)
{
	struct rows *r = ctx;

	grow_array((void **)&r->v, &r->cap, r->n + 1, sizeof(*r->v));
	r->v[r->n++] = (struct stack_row){ frames, n, retained, churn };
}

static int by_retained(const void *a, const void *b)
{
	const struct stack_row *x = a, *y = b;

	return x->retained < y->retained ? 1 : x->retained > y->retained ? -1 : 0;
}

static int by_churn(const void *a, const void *b)
{
	const struct stack_row *x = a, *y = b;

	return x->churn < y->churn ? 1 : x->churn > y->churn ? -1 : 0;
}

/* Python frames are "function (file.py:line)"; native ones named with
 * their line ("func (file.c:line)") are not.
 */
static bool python_frame(const char *name)
{
	enum frame_kind k = frame__kind(name);

	return k == FRAME_PY_USER || k == FRAME_PY_STDLIB || k == FRAME_PY_SITE;
}

/* "leaf <- caller <- ..." of a stack, root frame (the process) left out:
 * the leaf, then from the innermost Python frame on (the native frames in
 * between elided), MEM_FRAMES_SHOWN frames in all.
 */
static void print_stack(struct session *se, const struct stack_row *r, uint64_t w, uint64_t total)
{
	struct profile *p = session__profile(se);
	uint32_t i, shown = 0, py = r->n;
	char amount[32];

	fprintf(stderr, "  %5.1f%% %10s  ", total ? 100.0 * w / total : 0.0,
		fmt_bytes(amount, sizeof(amount), w));
	if (r->n <= 1) {
		fprintf(stderr, "%s\n", r->n ? profile__frame_name(p, r->frames[0]) : "?");
		return;
	}
	for (i = r->n - 1; i >= 1; i--)
		if (python_frame(profile__frame_name(p, r->frames[i]))) {
			py = i;
			break;
		}
	for (i = r->n - 1; i >= 1 && shown < MEM_FRAMES_SHOWN; i--) {
		if (shown == 1 && py < r->n && i > py) {
			fprintf(stderr, " <- ...");
			i = py;
		}
		fprintf(stderr, "%s%s", shown ? " <- " : "", profile__frame_name(p, r->frames[i]));
		shown++;
	}
	if (i >= 1)
		fprintf(stderr, " <- ...");
	fputc('\n', stderr);
}

static void print_growing(struct session *se, const char *title)
{
	struct memtrack_totals t;
	struct rows r = { 0 };

	memtrack__totals(session__memtrack(se), &t);
	memtrack__stacks(session__memtrack(se), collect, &r);
	qsort(r.v, r.n, sizeof(*r.v), by_retained);
	fprintf(stderr, "rampa-bpf: %s:\n", title);
	for (size_t i = 0; i < r.n && i < MEM_STACKS_LISTED && r.v[i].retained; i++)
		print_stack(se, &r.v[i], r.v[i].retained, t.retained);
	if (!r.n || !r.v[0].retained)
		fprintf(stderr, "  (none: no sampled page is still mapped)\n");
	free(r.v);
}

/* "+1.50 MiB", "-512 KiB": a signed difference of byte counts. */
static const char *fmt_delta(char *buf, size_t len, uint64_t to, uint64_t from)
{
	buf[0] = to >= from ? '+' : '-';
	fmt_bytes(buf + 1, len - 1, to >= from ? to - from : from - to);
	return buf;
}

/* How much of the growth of the RSS (its first point to its last) the
 * stacks account for, and what the rest can be. The stacks hold a sampled
 * estimate (its spread given: two standard deviations of a sum of
 * samples of w bytes each is 2 sqrt(retained w), at most, --precise's
 * large blocks being exact); the RSS is measured, and split into anonymous
 * memory (what the stacks stand for) and file-backed or shared memory.
 */
static void mem_accounting(struct session *se, const struct memcurve *mc,
			   const struct memtrack_totals *t)
{
	const struct session_opts *o = session__opts(se);
	uint64_t rss0, rss1, anon0, anon1, file0, file1, w;
	char a[32], b[32], c[32], d[32];
	double grown, anon_grown, spread, rest;

	if (mc->n < 2)
		return;
	rss0 = mc->rss[0];
	rss1 = mc->rss[mc->n - 1];
	anon0 = mc->anon[0];
	anon1 = mc->anon[mc->n - 1];
	file0 = rss0 - anon0;
	file1 = rss1 - anon1;
	grown = (double)rss1 - (double)rss0;
	anon_grown = (double)anon1 - (double)anon0;
	w = o->mem_precise
		? (o->mem_sample_bytes ? o->mem_sample_bytes : RAMPA_MEM_SAMPLE_BYTES)
		: (uint64_t)(o->mem_fault_sample ? o->mem_fault_sample : RAMPA_MEM_FAULT_SAMPLE) *
		      RAMPA_MEM_PAGE_BYTES;
	spread = 2 * sqrt((double)t->retained * (double)w);
	fprintf(stderr,
		"rampa-bpf: RSS growth (start -> end): %s: anonymous %s, file-backed and shared "
		"memory %s (code, files, shared mappings: not what the stacks hold)\n",
		fmt_delta(a, sizeof(a), rss1, rss0), fmt_delta(b, sizeof(b), anon1, anon0),
		fmt_delta(c, sizeof(c), file1, file0));
	fmt_bytes(a, sizeof(a), t->retained);
	fmt_bytes(d, sizeof(d), (uint64_t)spread);
	fprintf(stderr, "rampa-bpf: growth accounted for: the stacks hold %s (+-%s, sampled)", a,
		d);
	if (grown > 0 && anon_grown > 0)
		fprintf(stderr, ", %.1f%% of the RSS growth (%.1f%% of its anonymous part)",
			100.0 * t->retained / grown, 100.0 * t->retained / anon_grown);
	rest = anon_grown - (double)t->retained;
	fmt_bytes(b, sizeof(b), (uint64_t)fabs(rest));
	if (fabs(rest) <= spread)
		fprintf(stderr,
			"; the anonymous growth differs by %s, within the sampling spread\n", b);
	else if (rest > 0)
		fprintf(stderr, "; %s of anonymous growth more, not held by them: %s\n", b,
			o->mem_precise
			    ? "freed memory the allocator keeps, its own overhead, memory of "
			      "allocators not probed"
			    : "pages the kernel fills without a fault of the process (read() into "
			      "new memory, MAP_POPULATE) or collapses into huge pages");
	else
		fprintf(stderr,
			"; %s more than the anonymous RSS grew: memory obtained before the "
			"curve's first point (at %.2f s), or held before the run and given back "
			"in it, lowers the RSS growth only%s\n",
			b, mc->t[0],
			o->mem_precise ? "; blocks not written yet are not resident" : "");
}

static void mem_summary(struct session *se, void *ctx)
{
	struct memcurve *mc = session__memcurve(se);
	struct memtrack_totals t;
	char a[32], b[32], c[32];
	struct rows r = { 0 };
	double from, rate;

	(void)ctx;
	if (session__opts(se)->quiet)
		return;
	memtrack__totals(session__memtrack(se), &t);
	if (mc->n)
		fprintf(stderr, "rampa-bpf: %s: start %s, peak %s (at %.1f s), end %s\n",
			session__mem_pss_reads(se)
			    ? "memory of the targets (RSS; their PSS summed while several ran)"
			    : "RSS of the targets",
			fmt_bytes(a, sizeof(a), mc->rss[0]), fmt_bytes(b, sizeof(b), mc->peak),
			mc->peak_t, fmt_bytes(c, sizeof(c), mc->rss[mc->n - 1]));
	rate = memcurve__rate(mc, MEM_GROWTH_TAIL, &from);
	if (from >= 0)
		fprintf(stderr,
			"rampa-bpf: RSS growth over the last half (from %.1f s): %s%s/min\n", from,
			rate < 0 ? "-" : "+", fmt_bytes(a, sizeof(a), (uint64_t)fabs(rate * 60)));
	if (session__opts(se)->mem_precise)
		fprintf(stderr,
			"rampa-bpf: sampled allocations stand for %s: %s not freed (retained), %s "
			"freed (churn; %" PRIu64 " frees of sampled blocks seen, %" PRIu64
			" by interpreters shutting down left out)\n",
			fmt_bytes(a, sizeof(a), t.sampled), fmt_bytes(b, sizeof(b), t.retained),
			fmt_bytes(c, sizeof(c), t.churn), t.releases,
			session__mem_shutdown_releases(se));
	else
		fprintf(
		    stderr,
		    "rampa-bpf: sampled faults brought in %s: %s retained, %s churn (given back; "
		    "%" PRIu64 " releases seen, %" PRIu64
		    " by interpreters shutting down left out)\n",
		    fmt_bytes(a, sizeof(a), t.sampled), fmt_bytes(b, sizeof(b), t.retained),
		    fmt_bytes(c, sizeof(c), t.churn), t.releases,
		    session__mem_shutdown_releases(se));
	if (session__mem_huge_faults(se))
		fprintf(stderr,
			"rampa-bpf: %" PRIu64 " sampled faults mapped a transparent huge page "
			"(counted as the huge page's size)\n",
			session__mem_huge_faults(se));
	if (!session__opts(se)->mem_precise)
		fprintf(stderr,
			"rampa-bpf: attribution by first touch: a page goes to the code that first "
			"touched it; memory freed inside the allocator and reused by other code "
			"stays with its first owner (a leak in memory another function churned "
			"through shows under that one); --precise follows the allocator\n");
	if (t.refaulted || t.unplaced)
		fprintf(stderr,
			"rampa-bpf: %s of sampled pages faulted again (counted once), %s at "
			"addresses not kept\n",
			fmt_bytes(a, sizeof(a), t.refaulted), fmt_bytes(b, sizeof(b), t.unplaced));
	if (t.log_folded_early)
		fprintf(stderr,
			"rampa-bpf: %" PRIu64 " fault and release records folded early (log full): "
			"processes that exited report figures from a little later than their top\n",
			t.log_folded_early);
	if (session__mem_pss_unsteady(se))
		fprintf(stderr,
			"rampa-bpf: %" PRIu64 " PSS sums not taken while a target exited (its "
			"shared pages were moving to the others' PSS): the next sample taken "
			"instead\n",
			session__mem_pss_unsteady(se));
	if (mc->thinned)
		fprintf(stderr, "rampa-bpf: RSS curve thinned %zu times (one point in %u kept)\n",
			mc->thinned, mc->keep_every);
	mem_accounting(se, mc, &t);
	print_growing(se, "top growing stacks (retained growth)");
	memtrack__stacks(session__memtrack(se), collect, &r);
	qsort(r.v, r.n, sizeof(*r.v), by_churn);
	if (r.n && r.v[0].churn) {
		fprintf(stderr, "rampa-bpf: top churn (obtained and given back):\n");
		for (size_t i = 0; i < r.n && i < 3 && r.v[i].churn; i++)
			print_stack(se, &r.v[i], r.v[i].churn, t.churn);
	}
	free(r.v);
}

static int mem_check(struct session *se, void *ctx)
{
	struct mem_checks *ck = ctx;
	struct memcurve *mc = session__memcurve(se);
	char a[32], b[32];
	int ret = EXIT_OK;
	double from, rate;

	if (ck->max_peak && mc->peak > ck->max_peak) {
		p_err("resident memory peaked at %s (at %.1f s), above --max-peak %s",
		      fmt_bytes(a, sizeof(a), mc->peak), mc->peak_t,
		      fmt_bytes(b, sizeof(b), ck->max_peak));
		ret = EXIT_MEM_PEAK;
	}
	if (ck->max_growth >= 0) {
		rate = memcurve__rate(mc, MEM_GROWTH_TAIL, &from) * 60;
		if (from < 0) {
			p_err("cannot check --max-growth: too few RSS samples in the last half of "
			      "the run (run longer, with -d)");
			if (!ret)
				ret = EXIT_ERROR;
		} else if (rate > ck->max_growth) {
			p_err("memory still grows by %s/min over the last half of the run (from "
			      "%.1f s), above --max-growth %s",
			      fmt_bytes(a, sizeof(a), (uint64_t)rate), from, ck->growth_arg);
			if (!ret)
				ret = EXIT_MEM_GROWTH;
		} else if (!session__opts(se)->quiet) {
			p_info("--max-growth %s: passed (%s%s/min over the last half)",
			       ck->growth_arg, rate < 0 ? "-" : "+",
			       fmt_bytes(a, sizeof(a), (uint64_t)fabs(rate)));
		}
	}
	if (ret == EXIT_MEM_PEAK || ret == EXIT_MEM_GROWTH)
		print_growing(se, "the stacks that grew (retained growth)");
	return ret;
}

enum {
	OPT_MAX_PEAK = 0x200,
	OPT_MAX_GROWTH,
	OPT_FAULT_SAMPLE,
	OPT_PRECISE,
	OPT_SAMPLE_BYTES,
	OPT_MAX_BLOCKS
};

static int parse_args(struct session_opts *o, struct session_output *out, struct mem_checks *ck,
		      int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "no-children", no_argument, NULL, 'C' },
		{ "per-thread", no_argument, NULL, 'T' },
		{ "per-process", no_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "output-in-place", no_argument, NULL, 'I' },
		{ "as-root", no_argument, NULL, 'R' },
		{ "short-paths", no_argument, NULL, OPT_SHORT_PATHS },
		{ "no-lines", no_argument, NULL, OPT_NO_LINES },
		{ "max-peak", required_argument, NULL, OPT_MAX_PEAK },
		{ "max-growth", required_argument, NULL, OPT_MAX_GROWTH },
		{ "fault-sample", required_argument, NULL, OPT_FAULT_SAMPLE },
		{ "precise", no_argument, NULL, OPT_PRECISE },
		{ "sample-bytes", required_argument, NULL, OPT_SAMPLE_BYTES },
		{ "max-blocks", required_argument, NULL, OPT_MAX_BLOCKS },
		{},
	};
	unsigned long v;
	int opt, err;

	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option so CMD keeps its own options. */
	while ((opt = getopt_long(argc, argv, "+p:d:o:Tqvh", longopts, NULL)) != -1) {
		err = session__parse_common(o, out, opt, optarg, "mem");
		if (err != SESSION_NOT_COMMON) {
			if (err)
				return err;
			continue;
		}
		switch (opt) {
		case 'T':
			o->per_thread = true;
			break;
		case 'P':
			o->per_process = true;
			break;
		case OPT_MAX_PEAK:
			if (parse_size(optarg, NULL, &ck->max_peak) || !ck->max_peak) {
				p_err("invalid --max-peak '%s' (give a size: 512M, 2G...)", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MAX_GROWTH:
			if (parse_rate(optarg, &ck->max_growth)) {
				p_err(
				    "invalid --max-growth '%s' (give a rate: 10M/min, 100K/s, 1G/h)",
				    optarg);
				return EXIT_USAGE;
			}
			ck->growth_arg = optarg;
			break;
		case OPT_FAULT_SAMPLE:
			if (parse_ulong(optarg, 1, 1u << 20, &v)) {
				p_err("invalid --fault-sample '%s' (give N from 1 to %u: one fault "
				      "in N is sampled)",
				      optarg, 1u << 20);
				return EXIT_USAGE;
			}
			o->mem_fault_sample = v;
			break;
		case OPT_PRECISE:
			o->mem_precise = true;
			break;
		case OPT_SAMPLE_BYTES:
			if (parse_size(optarg, NULL, &o->mem_sample_bytes) ||
			    !o->mem_sample_bytes || o->mem_sample_bytes > 1ull << 32) {
				p_err(
				    "invalid --sample-bytes '%s' (give a size from 1 to 4G: 256K, "
				    "1M...)",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MAX_BLOCKS:
			if (parse_ulong(optarg, 1, 1u << 28, &v)) {
				p_err("invalid --max-blocks '%s' (give N from 1 to %u)", optarg,
				      1u << 28);
				return EXIT_USAGE;
			}
			o->mem_max_blocks = v;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			if (optopt == 'a' || (!optopt && !strcmp(argv[optind - 1], "--all"))) {
				p_err("mem follows given targets: use -p PID or -- CMD");
				return EXIT_USAGE;
			}
			return session__bad_option(argv, "mem", "pdof");
		}
	}
	if (optind < argc)
		o->cmd = argv + optind;
	if (!o->npids && !o->cmd) {
		p_err("mem needs a target: -p PID or -- CMD");
		return EXIT_USAGE;
	}
	if (!o->mem_precise && (o->mem_sample_bytes || o->mem_max_blocks)) {
		p_err("--sample-bytes and --max-blocks go with --precise");
		return EXIT_USAGE;
	}
	if (o->mem_precise && o->mem_fault_sample) {
		p_err("--fault-sample does not go with --precise (it samples allocations: "
		      "--sample-bytes)");
		return EXIT_USAGE;
	}
	return session__check_targets(o, "mem");
}

int cmd_mem(int argc, char **argv)
{
	struct session_opts o = { .mode = MODE_MEM, .hz = SESSION_DEFAULT_HZ };
	struct mem_checks ck = { .max_growth = -1 };
	struct session_output out = { .default_prefix = "mem-",
				      .after_summary = mem_summary,
				      .check = mem_check,
				      .ctx = &ck };
	int ret = parse_args(&o, &out, &ck, argc, argv);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	/* No on-CPU sampler runs: its stack and count maps would only take
	 * kernel memory (the stack trace maps are allocated whole, 16 MiB).
	 */
	o.map_entries[CMAP_STACKS] = 1;
	o.map_entries[CMAP_COUNTS] = 1;
	o.map_entries[CMAP_PY_STACKS] = 1;
	o.map_entries[CMAP_MEM_BLOCKS] = o.mem_max_blocks; /* 0: the default */
	return session__record(&o, &out);
}
