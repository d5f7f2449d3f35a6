// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	{ "top", cmd_top, "show the heaviest functions live, refreshed every second" },
	{ "mem", cmd_mem, "find the stacks that grow a process's memory; CI checks" },
	{ "dump", cmd_dump, "print every thread's stack of a running process, now" },
	{ "report", cmd_report,
	  "convert collapsed stacks to a flame graph, speedscope, pprof, pstats, gecko" },
	{ "diff", cmd_diff, "compare two profiles: differential flame graph and table" },
	{ "agent", cmd_agent,
	  "profile the whole machine continuously: local store, push to Pyroscope" },
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

static bool std_closed[3];

/* Started with fd 0, 1 or 2 closed, the first file opened would take its
 * place and collect whatever goes to stdout or stderr. Fill each: stdin
 * with /dev/null, stdout and stderr with /dev/full, so what is written to
 * them fails as it would have, and is reported, instead of vanishing.
 */
static void open_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		int got;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		std_closed[fd] = true;
		got = open(fd ? "/dev/full" : "/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (got < 0)
			got = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
		if (got != fd)
			_exit(EXIT_ERROR); /* nothing safe to write to, nor to say it on */
	}
}

/* A lost write to stdout or stderr fails the run, whatever it did otherwise. */
static int check_std_writes(int ret)
{
	bool out = fflush(stdout) || ferror(stdout), err = ferror(stderr);

	if (out)
		p_err("cannot write to standard output: %s (give it a file or a pipe)",
		      std_closed[1] ? "it was closed at start" : strerror(errno));
	if (!(out || err) || ret)
		return ret;
	return EXIT_OUTPUT;
}

int main(int argc, char **argv)
{
	int ret = EXIT_USAGE;

	rampa_started_sec = now_sec();
	open_std_fds();
	if (argc < 2) {
		usage(stderr);
		return check_std_writes(EXIT_USAGE);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return check_std_writes(EXIT_OK);
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("rampa-bpf %s\n", RAMPA_VERSION);
		return check_std_writes(EXIT_OK);
	}
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return check_std_writes(c->fn(argc - 1, argv + 1));
	p_err("unknown command '%s' (see 'rampa-bpf --help')", argv[1]);
	return check_std_writes(ret);
}
