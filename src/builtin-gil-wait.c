// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf gil-wait: how long each thread of CPython processes waits to
 * take the GIL, behind whom, and where; a table and the waiting stacks. The
 * engine is session.h, the table gilwait.h.
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
#include "profile.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rampa-bpf gil-wait [options] [-p PID[,PID...]]\n"
		"       rampa-bpf gil-wait [options] -- CMD [ARGS...]\n"
		"\n"
		"Measure, for every thread of the targets (every Python process on the\n"
		"machine when none is given), the time spent waiting to take the GIL, and\n"
		"where: a futex wait on the GIL's condition or mutex, seen at the syscall, so\n"
		"stripped interpreters work. Writes the waiting Python stacks as collapsed\n"
		"stacks weighted in microseconds, and prints a table per thread: wall time,\n"
		"GIL wait (seconds and %% of wall), number of waits, longest wait, and the\n"
		"threads that held the GIL meanwhile, with the Python code they ran.\n"
		"\n"
		"options:\n"
		"  -p, --pid PID[,PID...]   these processes, all their threads, and the processes\n"
		"                           they have started or start (see --no-children)\n"
		"      --no-children        -p: the given processes only\n"
		"  -a, --all                every CPython process on the machine (the default\n"
		"                           with no target)\n"
		"  -d, --duration TIME      stop after TIME (e.g. 30, 500ms, 2m); default: until\n"
		"                           Ctrl-C or the targets exit\n"
		"  -o, --output FILE        the waiting stacks (default rampa-gil-PID.folded;\n"
		"                           rampa-gil-CMD.folded with --, rampa-gil-all.folded\n"
		"                           with -a); the format follows the extension\n");
	output__usage_format(f, "    --format FORMAT", "microseconds");
	fputs(
	    "      --json               print the table as JSON on stdout\n"
	    "      --output-in-place    write through a symlink, FIFO or device at FILE\n"
	    "      --as-root            under sudo, run CMD as root (default: the sudo user)\n" SESSION_SLICE_HELP
		LABEL_HELP "  -q, --quiet              print only errors and the table\n"
	    "  -v, --verbose            print debugging details\n"
	    "  -h, --help               show this help\n"
	    "\n"
	    "Free-threaded builds have no GIL and are reported as such. See\n"
	    "rampa-bpf-gil-wait(1).\n",
	    f);
}

static int parse_args(struct session_opts *o, struct session_output *out, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "no-children", no_argument, NULL, 'C' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "output-in-place", no_argument, NULL, 'I' },
		{ "as-root", no_argument, NULL, 'R' },
		{ "short-paths", no_argument, NULL, OPT_SHORT_PATHS },
		{ "no-lines", no_argument, NULL, OPT_NO_LINES },
		{ "slice", required_argument, NULL, OPT_SLICE },
		{},
	};
	int opt, err;

	optind = 1;
	opterr = 0;
	/* '+': stop at the first non-option so CMD keeps its own options. */
	while ((opt = getopt_long(argc, argv, "+p:ad:o:qvh", longopts, NULL)) != -1) {
		err = session__parse_common(o, out, opt, optarg, "gil-wait");
		if (err != SESSION_NOT_COMMON) {
			if (err)
				return err;
			continue;
		}
		switch (opt) {
		case 'j':
			out->json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			if (optopt == 'm' || (!optopt && !strncmp(argv[optind - 1], "--mode", 6))) {
				p_err("gil-wait has no --mode: it measures GIL waits (for samples, "
				      "use 'rampa-bpf record --mode ...')");
				return EXIT_USAGE;
			}
			return session__bad_option(argv, "gil-wait", "pdof");
		}
	}
	if (optind < argc)
		o->cmd = argv + optind;
	/* No target: every Python process on the machine. */
	if (!o->npids && !o->cmd)
		o->system_wide = true;
	return session__check_targets(o, "gil-wait");
}

int cmd_gil_wait(int argc, char **argv)
{
	struct session_opts o = {
		.mode = MODE_GILWAIT,
		.hz = SESSION_DEFAULT_HZ,
		.slice_sec = SESSION_DEFAULT_SLICE_SEC,
	};
	struct session_output out = { .default_prefix = "gil-" };
	int ret = parse_args(&o, &out, argc, argv);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	return session__record(&o, &out);
}
