// SPDX-License-Identifier: GPL-2.0
/* The agent's options, from the command line and from --config FILE (the
 * same options, one per line), read again on SIGHUP (agent.h).
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "commands.h"
#include "folded.h"
#include "pprof.h"
#include "procfs.h"
#include "profile.h"
#include "push.h"
#include "service.h"
#include "session.h"
#include "store.h"
#include "u64map.h"
#include "util.h"

enum {
	OPT_MATCH = 400,
	OPT_ALLPROC,
	OPT_MODES,
	OPT_STORE,
	OPT_AGE,
	OPT_SIZE,
	OPT_NOSTORE,
	OPT_SERVER,
	OPT_TENANT,
	OPT_BASIC,
	OPT_BEARER,
	OPT_CA,
	OPT_TIMEOUT,
	OPT_RETRY,
	OPT_QUEUE,
	OPT_CONFIG,
	OPT_STATUS,
};

static const struct option longopts[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "match", required_argument, NULL, OPT_MATCH },
	{ "all-processes", no_argument, NULL, OPT_ALLPROC },
	{ "frequency", required_argument, NULL, 'F' },
	{ "modes", required_argument, NULL, OPT_MODES },
	{ "upload-interval", required_argument, NULL, 'i' },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "retention-age", required_argument, NULL, OPT_AGE },
	{ "retention-size", required_argument, NULL, OPT_SIZE },
	{ "no-store", no_argument, NULL, OPT_NOSTORE },
	{ "server", required_argument, NULL, OPT_SERVER },
	{ "tenant", required_argument, NULL, OPT_TENANT },
	{ "basic-auth-file", required_argument, NULL, OPT_BASIC },
	{ "bearer-token-file", required_argument, NULL, OPT_BEARER },
	{ "ca-file", required_argument, NULL, OPT_CA },
	{ "push-timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "retry-max", required_argument, NULL, OPT_RETRY },
	{ "queue-size", required_argument, NULL, OPT_QUEUE },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* "30", "30s", "500ms", "2m", "3h", "7d": seconds. */
static int parse_time_span(const char *s, double *out)
{
	size_t l = strlen(s);
	char buf[64];
	double mult = 1;

	if (l && l < sizeof(buf) && (s[l - 1] == 'h' || s[l - 1] == 'd')) {
		mult = s[l - 1] == 'h' ? 3600 : 86400;
		snprintf(buf, sizeof(buf), "%.*s", (int)l - 1, s);
		s = buf;
	}
	if (parse_duration(s, out) && strcmp(s, "0"))
		return -1;
	if (!strcmp(s, "0"))
		*out = 0;
	*out *= mult;
	return 0;
}

/* "512", "64K", "256M", "1G": bytes. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno || *s == '-')
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		v <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		v <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		v <<= 30;
		end++;
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static void defaults(struct agent_opts *o)
{
	*o = (struct agent_opts){
		.hz = AGENT_DEFAULT_HZ,
		.modes = { MODE_CPU },
		.nmodes = 1,
		.interval = 10,
		.store = STORE_DEFAULT_DIR,
		.retention_age = AGENT_DEFAULT_AGE,
		.retention_size = AGENT_DEFAULT_SIZE,
		.push = { .timeout = 10, .retry_max = 60, .queue_max_bytes = AGENT_DEFAULT_QUEUE },
	};
}

/* One option into o: 0, 1 for --help, EXIT_USAGE after one error line. */
static int parse_opt(struct agent_opts *o, int opt, const char *arg, char **argv)
{
	int m;

	switch (opt) {
	case 'a':
		return 0;
	case OPT_MATCH:
		o->match = arg;
		return 0;
	case OPT_ALLPROC:
		o->all_processes = true;
		return 0;
	case 'F':
		return session__parse_hz(arg, &o->hz);
	case OPT_MODES: {
		char list[256], *save = NULL;

		snprintf(list, sizeof(list), "%s", arg);
		o->nmodes = 0;
		for (char *name = strtok_r(list, ",", &save); name;
		     name = strtok_r(NULL, ",", &save)) {
			/* gil-wait is a command of its own, and a mode of the agent. */
			m = !strcmp(name, "gil-wait") ? MODE_GILWAIT : session__mode_by_name(name);
			if (m < 0) {
				p_err(
				    "unknown mode '%s' in --modes '%s' (use cpu, wall, offcpu, gil "
				    "or gil-wait, comma-separated)",
				    name, arg);
				return EXIT_USAGE;
			}
			for (int i = 0; i < o->nmodes; i++) {
				if (o->modes[i] == m) {
					p_err("mode '%s' twice in --modes '%s' (give each once)",
					      name, arg);
					return EXIT_USAGE;
				}
			}
			o->modes[o->nmodes++] = m;
		}
		if (!o->nmodes) {
			p_err("empty --modes '%s' (use cpu, wall, offcpu, gil or gil-wait, "
			      "comma-separated)",
			      arg);
			return EXIT_USAGE;
		}
		return 0;
	}
	case 'i':
		if (parse_time_span(arg, &o->interval) || o->interval < 0.1) {
			p_err("invalid --upload-interval '%s' (give a time of 0.1 s or more, like "
			      "10s or 1m)",
			      arg);
			return EXIT_USAGE;
		}
		return 0;
	case OPT_STORE:
		if (!*arg) {
			p_err("empty directory given to --store");
			return EXIT_USAGE;
		}
		o->store = arg;
		return 0;
	case OPT_AGE:
		if (parse_time_span(arg, &o->retention_age)) {
			p_err("invalid --retention-age '%s' (give a time like 3d, 12h, 30m)", arg);
			return EXIT_USAGE;
		}
		return 0;
	case OPT_SIZE:
	case OPT_QUEUE:
		if (parse_size(arg,
			       opt == OPT_SIZE ? &o->retention_size : &o->push.queue_max_bytes)) {
			p_err("invalid size '%s' (give bytes, or with K, M, G: 512M)", arg);
			return EXIT_USAGE;
		}
		return 0;
	case OPT_NOSTORE:
		o->no_store = true;
		return 0;
	case OPT_SERVER:
		o->push.server = arg;
		return 0;
	case OPT_TENANT:
		if (strpbrk(arg, "\r\n")) {
			p_err("invalid --tenant: a header value cannot hold a line break");
			return EXIT_USAGE;
		}
		o->push.tenant = arg;
		return 0;
	case OPT_BASIC:
		o->push.basic_auth_file = arg;
		return 0;
	case OPT_BEARER:
		o->push.bearer_token_file = arg;
		return 0;
	case OPT_CA:
		o->push.ca_file = arg;
		return 0;
	case OPT_TIMEOUT:
	case OPT_RETRY:
		if (parse_time_span(arg,
				    opt == OPT_TIMEOUT ? &o->push.timeout : &o->push.retry_max) ||
		    (opt == OPT_TIMEOUT ? o->push.timeout : o->push.retry_max) <= 0) {
			p_err("invalid time '%s' (give seconds like 10, or 500ms, 2m)", arg);
			return EXIT_USAGE;
		}
		return 0;
	case OPT_CONFIG:
		o->config = arg;
		return 0;
	case OPT_STATUS:
		o->status = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'v':
		verbose++;
		return 0;
	case 'h':
		return 1;
	}
	if (optopt && strchr("Fi", optopt))
		p_err("option -%c needs a value (see 'rampa-bpf agent --help')", optopt);
	else if (optopt)
		p_err("unknown option -%c (see 'rampa-bpf agent --help')", optopt);
	else
		p_err("unknown or incomplete option '%s' (see 'rampa-bpf agent --help')",
		      argv[optind - 1]);
	return EXIT_USAGE;
}

static int parse_argv(struct agent_opts *o, int argc, char **argv)
{
	int opt, r;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "aF:i:qvh", longopts, NULL)) != -1) {
		r = parse_opt(o, opt, optarg, argv);
		if (r)
			return r;
	}
	if (optind < argc) {
		p_err("unexpected argument '%s' (the agent takes options only; see 'rampa-bpf "
		      "agent --help')",
		      argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

/* The config file's lines as "--name" "value" arguments; strings kept in
 * *keep (freed by the caller). 0, or EXIT_USAGE after one error line.
 */
static int read_config(const char *path, char ***args, int *nargs, char **keep)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, **a = xcalloc(AGENT_MAX_CONFIG_ARGS + 2, sizeof(*a));
	size_t cap = 0, used = 0, total = 0;
	int n = 1, lineno = 0;
	struct stat st;

	if (!f) {
		p_err("cannot read config file '%s': %s", path, strerror(errno));
		free(a);
		return EXIT_USAGE;
	}
	if (fstat(fileno(f), &st) || st.st_size > (1 << 20)) {
		p_err("config file '%s' is not a text file under 1 MiB", path);
		fclose(f);
		free(a);
		return EXIT_USAGE;
	}
	/* One buffer for every string, so the args can point into it. */
	*keep = xmalloc((size_t)st.st_size * 2 + 64);
	a[0] = "agent";
	while (getline(&line, &cap, f) > 0) {
		char *s = line, *name, *val;
		size_t l;

		lineno++;
		s[strcspn(s, "\r\n")] = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		while (*s == '-')
			s++;
		name = s;
		s += strcspn(s, " \t=");
		val = NULL;
		if (*s) {
			*s++ = 0;
			while (*s == ' ' || *s == '\t' || *s == '=')
				s++;
			l = strlen(s);
			while (l && (s[l - 1] == ' ' || s[l - 1] == '\t'))
				s[--l] = 0;
			val = *s ? s : NULL;
		}
		if (n + 2 > AGENT_MAX_CONFIG_ARGS) {
			p_err("%s:%d: too many options (at most %d)", path, lineno,
			      AGENT_MAX_CONFIG_ARGS / 2);
			goto bad;
		}
		if (!strcmp(name, "config") || !strcmp(name, "status")) {
			p_err("%s:%d: '%s' cannot be given in a config file", path, lineno, name);
			goto bad;
		}
		l = strlen(name);
		a[n++] = *keep + used;
		used +=
		    snprintf(*keep + used, total = st.st_size * 2 + 64 - used, "--%s", name) + 1;
		if (val) {
			a[n++] = *keep + used;
			used += snprintf(*keep + used, st.st_size * 2 + 64 - used, "%s", val) + 1;
		}
	}
	(void)total;
	free(line);
	fclose(f);
	*args = a;
	*nargs = n;
	return 0;
bad:
	free(line);
	fclose(f);
	free(a);
	free(*keep);
	*keep = NULL;
	return EXIT_USAGE;
}

/* The options: the config file's, then the command line's over them. */
int agent__load_opts(struct agent_opts *o, int argc, char **argv, char **keep, char ***cargs)
{
	struct agent_opts first;
	int r, n;

	defaults(o);
	r = parse_argv(o, argc, argv);
	if (r || !o->config)
		return r;
	first = *o;
	defaults(o);
	r = read_config(first.config, cargs, &n, keep);
	if (r)
		return r;
	r = parse_argv(o, n, *cargs);
	if (r) {
		p_err("in config file '%s'", first.config);
		return r;
	}
	/* Then the command line again: it wins. */
	r = parse_argv(o, argc, argv);
	o->config = first.config;
	return r;
}

void agent__config_free(char *keep, char **cargs)
{
	free(keep);
	free(cargs);
}
