// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf record: sample the stacks of processes, of the whole machine or
 * of a command, and write them as a profile. The engine is session.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "labels.h"
#include "report.h"
#include "session.h"
#include "output.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rampa-bpf record [options] -p PID[,PID...]\n"
	    "       rampa-bpf record [options] -a\n"
	    "       rampa-bpf record [options] -- CMD [ARGS...]\n"
	    "\n"
	    "Profile every thread of the targets (Python, native and kernel frames) until\n"
	    "the duration ends, the targets exit, or Ctrl-C; then write collapsed stacks\n"
	    "(one 'root;...;leaf COUNT' line per distinct stack).\n"
	    "\n"
	    "options:\n"
	    "  -p, --pid PID[,PID...]   profile these running processes, all their threads,\n"
	    "                           and their descendants: alive now or forked later\n"
	    "      --no-children        with -p: the given processes only\n"
	    "      --per-process        put 'NAME-PID' under the root frame: a tree per process\n"
	    "  -a, --all                profile every process on the machine\n"
	    "  -d, --duration TIME      stop after TIME (e.g. 30, 30s, 500ms, 2m), a deadline:\n"
	    "                           a CMD still running then is stopped (SIGTERM);\n"
	    "                           default: until Ctrl-C or the targets exit\n");
	profile__usage_modes(f, "-m, --mode MODE", "cpu");
	fprintf(f,
		"  -F, --frequency HZ       samples per second per CPU (1-%d, default %d)\n"
		"  -T, --per-thread         put 'NAME-TID' under the process root frame: the\n"
		"                           thread's latest name (threading's, else the OS's)\n"
		"  -o, --output FILE        where to write the profile (default rampa-PID.folded;\n"
		"                           rampa-CMD.folded with --, rampa-all.folded with -a)\n",
		SESSION_MAX_HZ, SESSION_DEFAULT_HZ);
	output__usage_format(f, "    --format FORMAT", NULL);
	fputs("      --output-in-place    write through a symlink, FIFO or device at FILE\n"
	      "                           (refused by default)\n"
	      "      --as-root            under sudo, run CMD as root (default: as the user\n"
	      "                           who ran sudo)\n" SESSION_SLICE_HELP LABEL_HELP
	      "  -q, --quiet              print only errors\n"
	      "  -v, --verbose            print debugging details (libbpf, symbol loading)\n"
	      "  -h, --help               show this help\n"
	      "\n"
	      "With -- CMD, CMD starts under the profiler (and its children are followed);\n"
	      "rampa-bpf then exits with CMD's exit status. Needs root, or CAP_BPF and\n"
	      "CAP_PERFMON. See rampa-bpf-record(1).\n",
	      f);
}

static int parse_args(struct session_opts *o, struct session_output *out, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "frequency", required_argument, NULL, 'F' },
		{ "mode", required_argument, NULL, 'm' },
		{ "per-thread", no_argument, NULL, 'T' },
		{ "per-process", no_argument, NULL, 'P' },
		{ "no-children", no_argument, NULL, 'C' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "output-in-place", no_argument, NULL, 'I' },
		{ "as-root", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "short-paths", no_argument, NULL, OPT_SHORT_PATHS },
		{ "no-lines", no_argument, NULL, OPT_NO_LINES },
		{ "slice", required_argument, NULL, OPT_SLICE },
		{},
	};
	int opt, err;

	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option so CMD keeps its own options. */
	while ((opt = getopt_long(argc, argv, "+p:ad:F:o:m:Tqvh", longopts, NULL)) != -1) {
		err = session__parse_common(o, out, opt, optarg, "record");
		if (err != SESSION_NOT_COMMON) {
			if (err)
				return err;
			continue;
		}
		switch (opt) {
		case 'P':
			o->per_process = true;
			break;
		case 'T':
			o->per_thread = true;
			break;
		case 'j':
			p_err("--json is an option of gil-wait");
			return EXIT_USAGE;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return session__bad_option(argv, "record", "pdFofm");
		}
	}
	if (optind < argc)
		o->cmd = argv + optind;
	return session__check_targets(o, "record");
}

int cmd_record(int argc, char **argv)
{
	struct session_opts o = {
		.mode = MODE_CPU,
		.hz = SESSION_DEFAULT_HZ,
		.slice_sec = SESSION_DEFAULT_SLICE_SEC,
	};
	struct session_output out = { 0 };
	int ret = parse_args(&o, &out, argc, argv);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	return session__record(&o, &out);
}
