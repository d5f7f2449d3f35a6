// SPDX-License-Identifier: GPL-2.0
/* What record and gil-wait share: their common options, and a session run
 * to its end with the profile written (session.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "labels.h"
#include "output.h"
#include "procfs.h"
#include "profile.h"
#include "report.h"
#include "session.h"
#include "util.h"

int session__parse_pids(struct session_opts *o, const char *arg, const char *cmd)
{
	char *copy = xstrdup(arg), *save = NULL, *tok;
	unsigned long v;
	int ret = 0;

	/* The whole list's syntax first: a typo is a usage error, whatever exists. */
	if (!arg[0] || arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,")) {
		p_err("empty PID in '-p %s' (give process ids like -p 1234,5678)", arg);
		free(copy);
		return EXIT_USAGE;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_ulong(tok, 1, 0x3fffffff, &v)) {
			p_err("invalid PID '%s' in '-p %s' (give process ids like -p 1234,5678)",
			      tok, arg);
			free(copy);
			return EXIT_USAGE;
		}
	}
	free(copy);
	copy = xstrdup(arg);
	save = NULL;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		pid_t tgid;
		bool dup = false;

		parse_ulong(tok, 1, 0x3fffffff, &v);
		tgid = procfs__tgid((pid_t)v);
		if (!tgid) {
			p_err("no process with PID %lu (check it with 'ps -p %lu'; it may have "
			      "exited)",
			      v, v);
			ret = EXIT_NOTARGET;
			break;
		}
		if (procfs__zombie(tgid)) {
			p_err("PID %d has exited: a zombie its parent (PID %d) has not waited for; "
			      "nothing left to profile",
			      (int)tgid, (int)procfs__ppid(tgid));
			ret = EXIT_NOTARGET;
			break;
		}
		if (tgid != (pid_t)v)
			p_info("PID %lu is a thread of process %d: profiling the whole process", v,
			       (int)tgid);
		for (int i = 0; i < o->npids; i++)
			dup |= o->pids[i] == tgid;
		if (dup)
			continue;
		if (o->npids == SESSION_MAX_PIDS) {
			p_err("too many PIDs (at most %d; use -a to profile every process)",
			      SESSION_MAX_PIDS);
			ret = EXIT_USAGE;
			break;
		}
		o->pid_starts[o->npids] = procfs__start_time(tgid);
		o->pids[o->npids++] = tgid;
	}
	free(copy);
	return ret;
}

int session__check_targets(const struct session_opts *o, const char *cmd)
{
	if ((o->npids > 0) + o->system_wide + (o->cmd != NULL) == 1)
		return 0;
	if (!o->npids && !o->system_wide && !o->cmd)
		p_err("nothing to profile: give -p PID, -a, or -- CMD (see 'rampa-bpf %s --help')",
		      cmd);
	else
		p_err("give only one of -p PID, -a and -- CMD");
	return EXIT_USAGE;
}

int session__parse_hz(const char *arg, unsigned int *hz)
{
	unsigned long v;

	if (parse_ulong(arg, 1, SESSION_MAX_HZ, &v)) {
		p_err("invalid frequency '%s' (give samples per second from 1 to %d)", arg,
		      SESSION_MAX_HZ);
		return EXIT_USAGE;
	}
	*hz = v;
	return 0;
}

int session__parse_common(struct session_opts *o, struct session_output *out, int opt,
			  const char *arg, const char *cmd)
{
	int mode;

	switch (opt) {
	case 'p':
		return session__parse_pids(o, arg, cmd);
	case 'a':
		o->system_wide = true;
		return 0;
	case 'm':
		mode = session__mode_by_name(arg);
		if (mode < 0) {
			p_err("unknown mode '%s' (use %s)", arg, profile__mode_list(true));
			return EXIT_USAGE;
		}
		o->mode = mode;
		return 0;
	case 'F':
		return session__parse_hz(arg, &o->hz);
	case 'C':
		o->no_children = true;
		return 0;
	case 'd':
		if (parse_duration(arg, &o->duration)) {
			p_err("invalid duration '%s' (use seconds like 30, or 500ms, 2m)", arg);
			return EXIT_USAGE;
		}
		return 0;
	case 'o':
		if (!*arg) {
			p_err("empty output path given to -o");
			return EXIT_USAGE;
		}
		out->path = arg;
		return 0;
	case 'f':
		if (output__format_for(arg, NULL) == OUTPUT_INVALID) {
			p_err("unknown format '%s' (supported: %s)", arg, output__format_list());
			return EXIT_USAGE;
		}
		out->format_name = arg;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'v':
		verbose++;
		return 0;
	case 'I':
		out->flags |= OUTPUT_IN_PLACE;
		return 0;
	case 'R':
		o->as_root = true;
		return 0;
	case OPT_SHORT_PATHS:
		out->label_flags |= LABEL_SHORT_PATHS;
		return 0;
	case OPT_NO_LINES:
		out->label_flags |= LABEL_NO_LINES;
		return 0;
	case OPT_SLICE:
		if (!strcmp(arg, "0")) {
			o->slice_sec = 0;
			return 0;
		}
		if (parse_duration(arg, &o->slice_sec) ||
		    (o->slice_sec != 0 &&
		     (o->slice_sec < SESSION_MIN_SLICE_SEC || o->slice_sec > 3600))) {
			p_err("invalid --slice '%s' (give seconds from %g to 3600, e.g. 1 or "
			      "500ms; 0 for no timeline)",
			      arg, SESSION_MIN_SLICE_SEC);
			return EXIT_USAGE;
		}
		return 0;
	}
	return SESSION_NOT_COMMON;
}

int session__bad_option(char **argv, const char *cmd, const char *with_value)
{
	if (optopt && strchr(with_value, optopt))
		p_err("option -%c needs a value (see 'rampa-bpf %s --help')", optopt, cmd);
	else if (optopt)
		p_err("unknown option -%c (see 'rampa-bpf %s --help')", optopt, cmd);
	else
		p_err("unknown or incomplete option '%s' (see 'rampa-bpf %s --help')",
		      argv[optind - 1], cmd);
	return EXIT_USAGE;
}

/* "rampa-[PREFIX]WHAT.EXT": the first PID, "all", or CMD's base name. */
static void default_output(const struct session_opts *o, const struct session_output *out,
			   char *buf, size_t len)
{
	const char *e = output__format_ext(output__format_for(out->format_name, NULL));
	const char *pre = out->default_prefix ? out->default_prefix : "";

	if (o->npids)
		snprintf(buf, len, "rampa-%s%d%s", pre, (int)o->pids[0], e);
	else if (o->system_wide)
		snprintf(buf, len, "rampa-%sall%s", pre, e);
	else
		snprintf(buf, len, "rampa-%s%s%s", pre,
			 strrchr(o->cmd[0], '/') ? strrchr(o->cmd[0], '/') + 1 : o->cmd[0], e);
}

/* The profile, its labels rewritten as asked, into the output opened
 * before profiling; then where it went and how to view it.
 */
static int write_profile(struct session *se, struct session_output *out, struct output_file *of,
			 enum output_format fmt)
{
	struct profile *p = session__profile(se), *labelled = NULL;
	bool gil = session__gil_table(se) != NULL;
	int ok, ret = 0;

	if (out->label_flags)
		p = labelled = labels__apply(p, out->label_flags);
	ok = !output__write(of->f, p, fmt);
	if (!ok)
		p_err("cannot write output '%s': %s", out->path, strerror(errno));
	if (output__commit(of, ok) || !ok)
		ret = EXIT_OUTPUT;
	if (gil) {
		fflush(stderr);
		session__print_gil_table(se, stdout, out->json);
		fflush(stdout);
	}
	if (!ret && !session__opts(se)->quiet) {
		char amount[32];

		fprintf(
		    stderr, "rampa-bpf: wrote %s (%zu stacks, %s)\n", out->path,
		    profile__nstacks(p),
		    fmt_amount(amount, sizeof(amount), profile__total(p), profile__meta(p)->unit));
		if (!profile__total(p) && gil && !session__gil_processes(se))
			p_warn("nothing measured: no CPython process with a GIL (3.9 to 3.15) "
			       "among the targets");
		else if (!profile__total(p) && gil)
			p_info("no thread waited for the GIL");
		else if (!profile__total(p) && !strcmp(profile__meta(p)->mode, "mem"))
			p_info("no retained growth: no sampled page is still mapped");
		else if (!profile__total(p))
			p_warn("no samples: the target did not run on a CPU while profiled "
			       "(idle or blocked?)");
		/* Nothing to look at: no hint to look. */
		if (!profile__total(p))
			;
		else if (fmt == OUTPUT_SVG)
			fprintf(stderr, "rampa-bpf: view it: open %s in a browser\n", out->path);
		else if (fmt == OUTPUT_FOLDED)
			fprintf(stderr,
				"rampa-bpf: view it: rampa-bpf report %s -o flame.svg, then open "
				"flame.svg in a browser (or: rampa-bpf report %s --top 20)\n",
				out->path, out->path);
	}
	profile__free(labelled);
	return ret;
}

/* The exit status for an engine error (a negative errno): the command's
 * choice, documented under EXIT STATUS in rampa-bpf(1).
 */
static int exit_code_of(int err)
{
	switch (-err) {
	case 0:
		return EXIT_OK;
	case EPERM:
	case EACCES:
	case EOPNOTSUPP:
		return EXIT_NOPERM;
	case ESRCH:
		return EXIT_NOTARGET;
	case ENOEXEC:
		return EXIT_NOEXEC;
	}
	return EXIT_ERROR;
}

int session__record(struct session_opts *o, struct session_output *out)
{
	struct output_file of = { 0 };
	struct session *se;
	char defout[PATH_MAX];
	enum output_format fmt;
	int ret;

	/* A reader of stderr that goes away (2>&1 | head) must not kill the
	 * run before it writes the profile: writes to it fail instead.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (!out->path) {
		default_output(o, out, defout, sizeof(defout));
		out->path = defout;
	}
	o->output = out->path;
	fmt = output__format_for(out->format_name, out->path);
	output__warn_unknown_ext(out->format_name, out->path);
	/* Open the output now (a temporary file beside it, renamed into place
	 * when complete), so an unwritable path fails before any profiling and
	 * a crash never leaves a partial profile behind.
	 */
	if (session__check_sudo(o))
		return EXIT_USAGE;
	/* pstats holds seconds: not a profile of bytes. */
	if (!output__takes_unit(fmt, session__mode_unit(o->mode))) {
		p_err("%s: %s holds times, and this profile counts bytes (use %s)", out->path,
		      output__format_name(fmt), output__exts_for_unit(session__mode_unit(o->mode)));
		return EXIT_USAGE;
	}
	if (output__open(&of, out->path, out->flags))
		return EXIT_OUTPUT;
	/* Only gecko has a place for intervals (the others need no markers),
	 * and only these modes measure intervals.
	 */
	if (fmt == OUTPUT_GECKO && !o->marker_min_sec &&
	    (o->mode == MODE_WALL || o->mode == MODE_OFFCPU || o->mode == MODE_GILWAIT))
		o->marker_min_sec = SESSION_MARKER_MIN_SEC;
	/* The Firefox Profiler's threads belong to processes, each with its
	 * PID: with a frame per process, two processes of one name (a tree of
	 * python3 workers) are two processes there, not one.
	 */
	if (fmt == OUTPUT_GECKO)
		o->per_process = true;
	/* Gecko orders samples in time: by their instants, when logged. */
	if (fmt == OUTPUT_GECKO &&
	    (o->mode == MODE_CPU || o->mode == MODE_WALL || o->mode == MODE_GIL))
		o->sample_times = true;
	/* mem keeps frame ids of its own until its report (memtrack). */
	o->native_sites = o->mode != MODE_MEM;
	se = session__new(o, profile__new());
	ret = exit_code_of(session__start(se));
	if (!ret) {
		while (!session__poll(se))
			;
		session__stop(se);
		session__name_native(se, fmt == OUTPUT_PPROF);
		session__print_summary(se);
		if (out->after_summary)
			out->after_summary(se, out->ctx);
		ret = write_profile(se, out, &of, fmt);
		if (!ret && out->check)
			ret = out->check(se, out->ctx);
	}
	if (of.f)
		output__commit(&of, 0);
	ret = session__finish(se, ret);
	profile__free(session__profile(se));
	session__free(se);
	return ret;
}
