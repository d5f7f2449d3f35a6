// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "record", cmd_record, "sample the stacks of a process or command" },
	{ "gil-wait", cmd_gil_wait, "measure how long each thread waits for the GIL, and where" },
	{ "report", cmd_report,
	  "convert collapsed stacks to a flame graph, speedscope, pprof, pstats" },
	{ "diff", cmd_diff, "compare two profiles: differential flame graph and table" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: rampa-bpf [--version] [--help] COMMAND [ARGS]\n\n"
		   "An eBPF profiler for Python services.\n\ncommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nrun 'rampa-bpf COMMAND --help' for the options of a command; man pages:\n"
		   "rampa-bpf(1) (with every exit status), and rampa-bpf-COMMAND(1) for each\n"
		   "command\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("rampa-bpf %s\n", RAMPA_VERSION);
		return EXIT_OK;
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	p_err("unknown command '%s' (see 'rampa-bpf --help')", argv[1]);
	return EXIT_USAGE;
}
