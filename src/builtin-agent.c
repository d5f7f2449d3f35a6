// SPDX-License-Identifier: GPL-2.0
/* rampa-bpf agent: profile every Python process of the machine continuously
 * at a low rate, cut a window every --upload-interval, split it per process
 * and service, keep it in a local store (store.h) and push it to Pyroscope
 * (push.h). The engine is session.h, with --per-process stacks so that
 * every stack names its process; windows are cut as perf's --switch-output
 * rotates its output: session__drain() and session__swap_profile().
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <poll.h>
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

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: rampa-bpf agent [options]\n"
	    "       rampa-bpf agent --status [--store DIR]\n"
	    "\n"
	    "Profile every Python process of the machine continuously (or those --match\n"
	    "selects) and, every --upload-interval, write a window per service (labelled with\n"
	    "it, the host, its pid...) to a local store, and push it to Pyroscope when --server\n"
	    "is given.\n"
	    "SIGTERM or Ctrl-C writes the current window and exits; SIGHUP reloads --config.\n"
	    "\n"
	    "options:\n"
	    "  -a, --all                profile the whole machine (the default; kept for\n"
	    "                           symmetry with record)\n"
	    "      --match REGEX        only processes whose command line, executable, cgroup\n"
	    "                           or systemd unit matches REGEX (POSIX extended)\n"
	    "      --all-processes      also processes that run no Python\n"
	    "  -F, --frequency HZ       samples per second per CPU (1-%d, default %d)\n"
	    "      --modes MODE[,MODE...]  what to measure: cpu (default), wall, offcpu, gil\n"
	    "                           or gil-wait; a window per service and mode, pushed\n"
	    "                           as SERVICE.MODE\n"
	    "  -i, --upload-interval TIME  length of a window (default 10s; e.g. 1, 30s, 2m)\n"
	    "      --store DIR          where windows, the push queue and the status file\n"
	    "                           live (default %s)\n"
	    "      --retention-age TIME  remove windows older than TIME (default 7d; 0: never)\n"
	    "      --retention-size SIZE  keep at most SIZE of windows, oldest removed first\n"
	    "                           (default 1G; K, M, G suffixes; 0: no limit)\n"
	    "      --no-store           keep no windows (the push queue still uses --store)\n"
	    "      --server URL         push every window to this Pyroscope (POST /ingest)\n"
	    "      --tenant ID          send X-Scope-OrgID: ID (multi-tenant Pyroscope)\n"
	    "      --basic-auth-file FILE  USER:PASSWORD for HTTP basic auth, read from FILE\n"
	    "      --bearer-token-file FILE  a bearer token, read from FILE\n"
	    "      --ca-file FILE       CA certificates to verify the server with (TLS is\n"
	    "                           always verified; default: the system's)\n"
	    "      --push-timeout TIME  give up one request after TIME (default 10s)\n"
	    "      --retry-max TIME     longest back-off between retries (default 60s)\n"
	    "      --queue-size SIZE    bound of the on-disk push queue, oldest dropped first\n"
	    "                           (default 256M)\n"
	    "      --config FILE        options from FILE, one per line ('server URL' or\n"
	    "                           '--server=URL'; # comments); the command line wins;\n"
	    "                           SIGHUP reads it again\n"
	    "      --status             print the running agent's status (from --store) and exit\n"
	    "  -q, --quiet              print only errors\n"
	    "  -v, --verbose            print debugging details\n"
	    "  -h, --help               show this help\n"
	    "\n"
	    "Services: OTEL_SERVICE_NAME or PYROSCOPE_APPLICATION_NAME in the process's\n"
	    "environment, else its systemd unit, else its container (container-ID), else the\n"
	    "script or module it runs. Needs root, or CAP_BPF and CAP_PERFMON. See\n"
	    "rampa-bpf-agent(1).\n",
	    SESSION_MAX_HZ, AGENT_DEFAULT_HZ, STORE_DEFAULT_DIR);
}

/* What a process is, read from /proc at first sight (and again after a
 * PID is reused): its service and labels. Evicted when it exits.
 */
struct proc_info {
	pid_t pid;
	uint64_t start;
	uint64_t exe_dev, exe_ino; /* its executable: re-read after an exec */
	bool python, matched;
	unsigned int match_gen; /* the agent's match_gen when matched was decided */
	char service[128], container[80], pyver[16];
};

/* A service and mode profiled since the start, for the status: a window's
 * own list depends on which processes its few seconds sampled.
 */
struct seen_service {
	char service[128];
	const char *mode;
	char desc[192]; /* pid(s), Python version, container, as of its last window */
	double last;	/* wall clock: the end of its last window */
	uint64_t windows;
};

struct agent {
	struct agent_opts o;
	char **argv; /* the command line, for SIGHUP */
	int argc;
	regex_t re;
	bool have_re;
	struct session *se[AGENT_MAX_MODES]; /* one per mode, as ag->o.modes */
	int nse;
	/* Windows are the sessions' timeline slices, --upload-interval wide,
	 * stamped in the kernel: a window holds what happened in it however
	 * late the loop cuts it. The sessions share the first one's grid,
	 * whose slice 0 begins at wall clock wall0 (CLOCK_MONOTONIC origin_ns);
	 * per session: its start (wall clock) and the first slice not written.
	 */
	double wall0;
	uint64_t origin_ns;
	double wall_start[AGENT_MAX_MODES];
	uint32_t next_slice[AGENT_MAX_MODES];
	struct push *push;
	struct u64map procs; /* pid -> struct proc_info * */
	char hostname[256];
	double from;	  /* wall-clock start of the window being written */
	double started;	  /* wall clock */
	uint64_t windows; /* windows cut */
	uint64_t written, written_bytes, write_errors;
	uint64_t pruned, pruned_bytes, kept_bytes;
	uint64_t pushed_bytes_total, skipped_samples, forgotten, procs_over;
	uint64_t skipped_us; /* ... of the time modes (wall, gil-wait): microseconds */
	/* Counted in a window already written (an off-CPU interval across its
	 * end comes when it ends): put in the next one, in its mode's unit.
	 */
	uint64_t carried_samples, carried_us;
	uint64_t coarsened; /* cuts of a timeline coarsened past its bound: one window */
	/* How long after its end each window was written (the loop's delay,
	 * not the window's: its samples are its own), seconds.
	 */
	double lag_sum, lag_max;
	uint64_t lagged;
	unsigned int match_gen; /* bumped when SIGHUP changes --match */
	uint64_t passed_over;	/* processes with samples but no Python, not read */
	bool store_failing;
	double next_prune; /* wall clock */
	size_t last_procs; /* processes in the last window */
	char last_services[4096];
	uint64_t last_services_over; /* services of the last cut not listed: no room */
	struct seen_service seen[AGENT_STATUS_SERVICES];
	size_t nseen;
	uint64_t seen_evicted;	      /* the least recently profiled, let go past the bound */
	struct session_counts engine; /* engine_counts() */
};

/* The status's list of what was profiled: g's service and mode (a line per
 * pair; past AGENT_STATUS_SERVICES the least recently profiled goes, counted).
 */
static void note_seen(struct agent *ag, const char *service, const char *mode, const char *desc,
		      double until)
{
	struct seen_service *e = NULL;

	for (size_t i = 0; i < ag->nseen && !e; i++)
		if (ag->seen[i].mode == mode && !strcmp(ag->seen[i].service, service))
			e = &ag->seen[i];
	if (!e && ag->nseen < AGENT_STATUS_SERVICES) {
		e = &ag->seen[ag->nseen++];
		*e = (struct seen_service){ .mode = mode };
	} else if (!e) {
		e = &ag->seen[0];
		for (size_t i = 1; i < ag->nseen; i++)
			if (ag->seen[i].last < e->last)
				e = &ag->seen[i];
		*e = (struct seen_service){ .mode = mode };
		ag->seen_evicted++;
	}
	snprintf(e->service, sizeof(e->service), "%s", service);
	snprintf(e->desc, sizeof(e->desc), "%s", desc);
	e->last = until;
	e->windows++;
}

/* Fill pi from /proc; false when the process is gone. */
static bool describe(struct agent *ag, struct proc_info *pi)
{
	struct service_info *si = xmalloc(sizeof(*si));
	bool ok = !service__describe(pi->pid, si);

	if (ok) {
		pi->start = si->start;
		pi->exe_dev = si->exe_dev;
		pi->exe_ino = si->exe_ino;
		pi->python = si->python;
		snprintf(pi->service, sizeof(pi->service), "%s", si->service);
		snprintf(pi->container, sizeof(pi->container), "%s", si->container);
		snprintf(pi->pyver, sizeof(pi->pyver), "%s", si->pyver);
		/* The command line, then the executable, cgroups, unit. */
		pi->matched = !ag->have_re || !regexec(&ag->re, si->cmdline, 0, NULL, 0) ||
			      (si->exe[0] && !regexec(&ag->re, si->exe, 0, NULL, 0)) ||
			      !regexec(&ag->re, si->cgroups, 0, NULL, 0) ||
			      (si->unit[0] && !regexec(&ag->re, si->unit, 0, NULL, 0));
	}
	free(si);
	return ok;
}

/* pid's description, read when first seen or when the PID was reused;
 * NULL when it exited before it could be read (never guessed).
 */
static struct proc_info *proc_info(struct agent *ag, pid_t pid)
{
	uint64_t *v = u64map_find(&ag->procs, (uint32_t)pid);
	struct proc_info *pi = v ? (struct proc_info *)(uintptr_t)*v : NULL;
	uint64_t start = procfs__start_time(pid), dev, ino;

	/* The same process (gone: what was read stands), unless it called exec
	 * since: a shim or wrapper that became python is described again.
	 */
	if (pi && pi->match_gen == ag->match_gen &&
	    (!start || (start == pi->start && (service__exe_id(pid, &dev, &ino) ||
					       (dev == pi->exe_dev && ino == pi->exe_ino)))))
		return pi;
	if (!pi && ag->procs.n >= AGENT_MAX_PROCS) {
		ag->procs_over++;
		return NULL;
	}
	if (!pi) {
		pi = xcalloc(1, sizeof(*pi));
		pi->pid = pid;
		*u64map_slot(&ag->procs, (uint32_t)pid, NULL) = (uint64_t)(uintptr_t)pi;
	}
	/* Gone before a new --match could be tried on it: as it was. */
	if (pi->start && pi->match_gen != ag->match_gen && !start) {
		pi->match_gen = ag->match_gen;
		return pi;
	}
	if (!describe(ag, pi)) {
		u64map_del(&ag->procs, (uint32_t)pid);
		free(pi);
		return NULL;
	}
	pi->match_gen = ag->match_gen;
	return pi;
}

/* Whether pid may run Python, cheaply: the engine found a CPython in it, or
 * its executable is named python*. Most processes of a machine run none:
 * they are not read further (--all-processes reads them all).
 */
static bool maybe_python(struct agent *ag, pid_t pid)
{
	if (ag->o.all_processes)
		return true;
	for (int i = 0; i < ag->nse; i++)
		if (ag->se[i] && session__runs_python(ag->se[i], pid))
			return true;
	return procfs__exe_named_python(pid);
}

static bool proc_gone(const struct u64map_slot *e, void *ctx)
{
	struct proc_info *pi = (struct proc_info *)(uintptr_t)e->val;
	struct agent *ag = ctx;

	if (procfs__alive(pi->pid, pi->start))
		return false;
	free(pi);
	ag->forgotten++;
	return true;
}

/* Label values go inside {...} of the name: no ',', '}', '=' or quotes. */
static void label_safe(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && n + 1 < len; s++)
		out[n++] = strchr(",}{=\"'\\", *s) || (unsigned char)*s < 0x20 ? '_' : *s;
	out[n] = 0;
}

/* A service's part of a window: its processes' stacks, and the labels they
 * share (a container or Python version the processes differ on is left
 * out; the pid label is there when the window has one process).
 */
struct group {
	char service[128], container[80], pyver[16];
	pid_t pid; /* the one process, or 0 when several */
	struct profile *p;
	bool mixed_container, mixed_pyver;
};

static void push_window(struct agent *ag, const struct group *g, struct profile *part, double until,
			int mode_id)
{
	char name[1024], svc[160], host[256], *esc, query[2048], *body = NULL;
	size_t len = 0, n;
	FILE *f = open_memstream(&body, &len);
	const char *mode = session__mode_name(mode_id);

	if (!f || pprof__write(f, part) || fclose(f)) {
		p_err("push: cannot encode a window as pprof: %s", strerror(errno));
		free(body);
		return;
	}
	label_safe(g->service, svc, sizeof(svc));
	label_safe(ag->hostname, host, sizeof(host));
	n = snprintf(name, sizeof(name), "%s.%s{service_name=%s,hostname=%s", svc, mode, svc, host);
	if (g->pid)
		n += snprintf(name + n, sizeof(name) - n, ",pid=%d", (int)g->pid);
	if (g->container[0] && !g->mixed_container)
		n += snprintf(name + n, sizeof(name) - n, ",container_id=%s", g->container);
	if (g->pyver[0] && !g->mixed_pyver)
		n += snprintf(name + n, sizeof(name) - n, ",python_version=%s", g->pyver);
	snprintf(name + n, sizeof(name) - n, "}");
	esc = curl_easy_escape(NULL, name, 0);
	snprintf(query, sizeof(query),
		 "name=%s&from=%lld&until=%lld&format=pprof&sampleRate=%u&spyName=rampa-bpf"
		 "&units=%s&aggregationType=sum",
		 esc, (long long)ag->from, (long long)(until + 0.999), ag->o.hz,
		 profile_modes[mode_id].sampled ? "samples" : "microseconds");
	curl_free(esc);
	if (!push__enqueue(ag->push, query, body, len))
		ag->pushed_bytes_total += len;
	free(body);
}

static bool has_python_frame(const struct profile *w, const uint32_t *fr, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		enum frame_kind kind = frame__kind(profile__frame_name(w, fr[k]));

		if (kind == FRAME_PY_USER || kind == FRAME_PY_STDLIB || kind == FRAME_PY_SITE)
			return true;
	}
	return false;
}

#define PID_PY	   (1ull << 63) /* in the pid map: a stack of it has Python frames */
#define PID_GROUP  (1ull << 62) /* ... then: the low bits are its group + 1 (0: left out) */
#define PID_LOW(v) ((v) & ~(PID_PY | PID_GROUP))

/* Which group pid's samples go to (an index), -1 when left out. first is
 * the index of its first stack in w, whose process frame names it when it
 * exited before it could be read.
 */
static int group_of(struct agent *ag, struct group **gs, size_t *ng, size_t *cap, pid_t pid,
		    bool has_py, const struct profile *w, size_t first)
{
	struct proc_info *pi, gone = { 0 };
	char service[128];
	size_t i;

	if (!has_py && !u64map_find(&ag->procs, (uint32_t)pid) && !maybe_python(ag, pid)) {
		ag->passed_over++;
		return -1;
	}
	pi = proc_info(ag, pid);
	if (!pi) {
		uint32_t n;
		uint64_t wt;
		const uint32_t *fr = profile__stack(w, first, &n, &wt);

		gone.pid = pid;
		gone.matched = !ag->have_re;
		snprintf(gone.service, sizeof(gone.service), "%s", profile__frame_name(w, fr[0]));
		pi = &gone;
	}
	if (!pi->matched || !(ag->o.all_processes || pi->python || has_py))
		return -1;
	snprintf(service, sizeof(service), "%s", pi->service);
	for (i = 0; i < *ng; i++)
		if (!strcmp((*gs)[i].service, service))
			break;
	if (i == *ng) {
		grow_array((void **)gs, cap, *ng + 1, sizeof(**gs));
		(*gs)[i] = (struct group){ .pid = pid, .p = profile__new() };
		snprintf((*gs)[i].service, sizeof((*gs)[i].service), "%s", service);
		snprintf((*gs)[i].container, sizeof((*gs)[i].container), "%s", pi->container);
		snprintf((*gs)[i].pyver, sizeof((*gs)[i].pyver), "%s", pi->pyver);
		(*ng)++;
		return (int)i;
	}
	(*gs)[i].pid = 0;
	(*gs)[i].mixed_container |= strcmp((*gs)[i].container, pi->container) != 0;
	(*gs)[i].mixed_pyver |= strcmp((*gs)[i].pyver, pi->pyver) != 0;
	return (int)i;
}

/* The window [ag->from, until) in w, split per service and written: one
 * file and one push per service, whatever the number of its processes
 * (process churn makes no more files), the pid in each stack's process
 * frame and in pprof's sample labels.
 */
static void emit_window(struct agent *ag, struct profile *w, double until, int mode_id)
{
	struct profile_meta *wm = profile__meta(w);
	struct u64map pids = U64MAP_INIT;
	const char *mode = session__mode_name(mode_id);
	struct group *gs = NULL;
	size_t ng = 0, cap = 0, used = 0, nprocs = 0;

	wm->groups = PROFILE_GROUP_PROCESS;
	wm->groups_known = true;
	/* First: each process, whether it runs Python, where its first stack is. */
	for (size_t i = 0; i < profile__nstacks(w); i++) {
		uint32_t n;
		uint64_t weight, *v;
		const uint32_t *fr = profile__stack(w, i, &n, &weight);
		unsigned long pid;
		bool added;

		if (!profile__stack_process(w, fr, n, &pid))
			continue;
		v = u64map_slot(&pids, pid, &added);
		if (added)
			*v = i;
		if (!(*v & PID_PY) && has_python_frame(w, fr, n))
			*v |= PID_PY;
	}
	for (size_t i = 0; i < pids.cap; i++) {
		uint64_t v;
		int g;

		if (!u64map_used(&pids, i))
			continue;
		v = pids.slots[i].val;
		g = group_of(ag, &gs, &ng, &cap, (pid_t)pids.slots[i].key, v & PID_PY, w,
			     PID_LOW(v));
		pids.slots[i].val = PID_GROUP | (uint64_t)(g + 1);
		nprocs += g >= 0;
	}
	for (size_t i = 0; i < profile__nstacks(w); i++) {
		uint32_t n, ids[FOLDED_MAX_DEPTH];
		uint64_t weight, *v;
		const uint32_t *fr = profile__stack(w, i, &n, &weight);
		unsigned long pid;
		struct group *g;

		if (!profile__stack_process(w, fr, n, &pid) || n > FOLDED_MAX_DEPTH ||
		    !(v = u64map_find(&pids, pid)) || !PID_LOW(*v)) {
			/* A window's weight is its mode's unit: samples or time
			 * (the mode's, not the cut profile's meta, which is not
			 * set: wall time was counted as samples).
			 */
			if (!strcmp(session__mode_unit(mode_id), "samples"))
				ag->skipped_samples += weight;
			else
				ag->skipped_us += weight;
			continue;
		}
		g = &gs[PID_LOW(*v) - 1];
		for (uint32_t k = 0; k < n; k++)
			ids[k] = profile__intern(g->p, profile__frame_name(w, fr[k]));
		profile__add(g->p, ids, n, weight);
	}
	u64map_free(&pids);
	/* The status lists the services of every mode of the last cut. */
	used = strlen(ag->last_services);
	for (size_t i = 0; i < ng; i++) {
		struct group *g = &gs[i];
		struct profile_meta *m = profile__meta(g->p);
		uint64_t bytes = 0;

		m->mode = mode;
		m->unit = session__mode_unit(mode_id);
		m->hz = ag->o.hz;
		m->duration_sec = until - ag->from;
		m->window = "attach";
		m->groups = PROFILE_GROUP_PROCESS;
		m->groups_known = true;
		if (g->pid)
			snprintf(m->target, sizeof(m->target), "service %.100s, pid %d on %.100s",
				 g->service, (int)g->pid, ag->hostname);
		else
			snprintf(m->target, sizeof(m->target), "service %.100s on %.100s",
				 g->service, ag->hostname);
		{
			char pids_s[32] = "several processes", desc[192];

			if (g->pid)
				snprintf(pids_s, sizeof(pids_s), "pid %d", (int)g->pid);
			snprintf(desc, sizeof(desc), "%s%s%s%s%s", pids_s,
				 g->pyver[0] && !g->mixed_pyver ? " python " : "",
				 g->mixed_pyver ? "" : g->pyver,
				 g->container[0] && !g->mixed_container ? " container " : "",
				 g->mixed_container ? "" : g->container);
			note_seen(ag, g->service, mode, desc, until);
			if (used + 200 < sizeof(ag->last_services))
				used += snprintf(ag->last_services + used,
						 sizeof(ag->last_services) - used,
						 "  %s %s %s: %" PRIu64 " %s\n", g->service, mode,
						 desc, profile__total(g->p), m->unit);
			else
				ag->last_services_over++;
		}
		if (!ag->o.no_store) {
			char safe[STORE_NAME_MAX];

			store__safe_name(g->service, safe, sizeof(safe));
			if (store__write_window(ag->o.store, safe, mode, ag->from, until, g->p,
						&bytes)) {
				ag->write_errors++;
				ag->store_failing = true;
			} else {
				if (ag->store_failing)
					p_info("store: writing windows to '%s' again", ag->o.store);
				ag->store_failing = false;
				ag->written++;
				ag->written_bytes += bytes;
				/* Between two prunes the store grows by what is written. */
				ag->kept_bytes += bytes;
			}
		}
		if (ag->push)
			push_window(ag, g, g->p, until, mode_id);
		profile__free(g->p);
	}
	free(gs);
	ag->last_procs = nprocs;
	/* Retention lists the store: once a minute is enough. */
	if (!ag->o.no_store && until >= ag->next_prune) {
		store__prune(ag->o.store, until, ag->o.retention_age, ag->o.retention_size,
			     &ag->pruned, &ag->pruned_bytes, &ag->kept_bytes);
		ag->next_prune = until + (ag->o.interval > AGENT_PRUNE_SEC ? 0 : AGENT_PRUNE_SEC);
	}
	u64map_del_if(&ag->procs, proc_gone, ag);
	ag->windows++;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void iso_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The engine's counts summed over the sessions (modes), kept for the
 * status written after they end.
 */
static void engine_counts(struct agent *ag)
{
	if (!ag->nse)
		return;
	ag->engine = (struct session_counts){ 0 };
	for (int i = 0; i < ag->nse; i++) {
		struct session_counts c;

		session__counts(ag->se[i], &c);
		ag->engine.not_python_procs += c.not_python_procs;
		ag->engine.not_python_samples += c.not_python_samples;
		ag->engine.symbol_files_dropped += c.symbol_files_dropped;
		ag->engine.frame_names_dropped += c.frame_names_dropped;
		ag->engine.unwind_tables_evicted += c.unwind_tables_evicted;
		ag->engine.unwind_files_forgotten += c.unwind_files_forgotten;
		ag->engine.lost += c.lost;
	}
}

/* STORE/status, rewritten after every window and at exit. */
static void write_status(struct agent *ag, const char *state)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16], t0[32], t1[32], line[256];
	struct push_stats ps = { 0 };
	const struct session_counts *np = &ag->engine;
	struct rusage ru;
	double cpu, up = wall_now() - ag->started;
	long rss = 0, hwm = 0;
	char modes[128] = "";
	FILE *f;

	for (int i = 0; i < ag->o.nmodes; i++)
		snprintf(modes + strlen(modes), sizeof(modes) - strlen(modes), "%s%s", i ? "," : "",
			 session__mode_name(ag->o.modes[i]));
	getrusage(RUSAGE_SELF, &ru);
	cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	      ru.ru_stime.tv_usec / 1e6;
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &rss);
		sscanf(line, "VmHWM: %ld", &hwm);
	}
	if (f)
		fclose(f);
	if (ag->push)
		push__stats(ag->push, &ps);
	engine_counts(ag);
	snprintf(path, sizeof(path), "%s/status", ag->o.store);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		p_debug("cannot write status file '%s': %s", tmp, strerror(errno));
		return;
	}
	iso_time(ag->started, t0, sizeof(t0));
	iso_time(wall_now(), t1, sizeof(t1));
	fprintf(f,
		"state: %s\npid: %d\nstarted: %s\nupdated: %s\nmode: %s\nfrequency: %u Hz\n"
		"upload interval: %g s\nmatch: %s\nstore: %s\nserver: %s\n"
		"windows cut: %" PRIu64 "\nwindows written: %" PRIu64 " (%" PRIu64 " bytes)\n"
		"store write errors: %" PRIu64 "\nwindows removed by retention: %" PRIu64
		" (%" PRIu64 " bytes)\nstore size: %" PRIu64 " bytes\n",
		state, (int)getpid(), t0, t1, modes, ag->o.hz, ag->o.interval,
		ag->o.match ? ag->o.match : "(every Python process)",
		ag->o.no_store ? "(none)" : ag->o.store,
		ag->o.push.server ? ag->o.push.server : "(none)", ag->windows, ag->written,
		ag->written_bytes, ag->write_errors, ag->pruned, ag->pruned_bytes, ag->kept_bytes);
	if (ag->push)
		fprintf(
		    f,
		    "windows sent: %" PRIu64 " (%" PRIu64 " bytes)\nwindows queued: %" PRIu64
		    " (%" PRIu64 " bytes)\nwindows dropped: %" PRIu64 "\nwindows rejected: %" PRIu64
		    "\npush failures: %" PRIu64 "\nserver: %s\nlast push error: %s\n",
		    ps.sent, ps.sent_bytes, ps.queued, ps.queued_bytes, ps.dropped, ps.rejected,
		    ps.failures, ps.down ? "down" : "up", ps.last_error[0] ? ps.last_error : "-");
	fprintf(
	    f,
	    "samples left out (no process frame, not Python, not matched): %" PRIu64
	    " on-CPU samples, %.3f s of wall and GIL wait time\n"
	    "processes without Python passed over: %" PRIu64 "\n"
	    "processes in the last window: %zu\nprocesses known: %zu (forgotten at exit: %" PRIu64
	    ", over the limit of %d: %" PRIu64
	    ")\nagent cpu: %.2f s in %.0f s (%.3f%% of one core)\nagent rss: %ld kB (peak %ld "
	    "kB)\nprofiled in the last window:\n%s",
	    ag->skipped_samples, ag->skipped_us / 1e6, ag->passed_over, ag->last_procs, ag->procs.n,
	    ag->forgotten, AGENT_MAX_PROCS, ag->procs_over, cpu, up, up > 0 ? 100 * cpu / up : 0,
	    rss, hwm, ag->last_services[0] ? ag->last_services : "  (nothing)\n");
	if (ag->last_services_over)
		fprintf(f, "  (%" PRIu64 " more not listed)\n", ag->last_services_over);
	fprintf(f,
		"counted after their window was written, put in the next one: %" PRIu64
		" on-CPU samples, %.3f s of wall and GIL wait time (intervals that ended later)\n",
		ag->carried_samples, ag->carried_us / 1e6);
	fprintf(f, "windows written after their end: %.3f s on average, at most %.3f s\n",
		ag->lagged ? ag->lag_sum / ag->lagged : 0, ag->lag_max);
	if (ag->coarsened)
		fprintf(f, "windows of several slices (the timeline past its bound): %" PRIu64 "\n",
			ag->coarsened);
	fprintf(f,
		"processes without Python not read: %" PRIu64 " (%" PRIu64
		" samples and intervals left out)\n"
		"capture losses (every kind the summary lists): %" PRIu64 "\n"
		"let go at their bounds (read again when needed): %" PRIu64
		" symbol tables, %" PRIu64 " frame names, %" PRIu64 " unwind tables, %" PRIu64
		" unwind files\n",
		np->not_python_procs, np->not_python_samples, np->lost, np->symbol_files_dropped,
		np->frame_names_dropped, np->unwind_tables_evicted, np->unwind_files_forgotten);
	fprintf(f, "profiled since the start (%zu, the last window of each; %" PRIu64 " let go):\n",
		ag->nseen, ag->seen_evicted);
	for (size_t i = 0; i < ag->nseen; i++) {
		iso_time(ag->seen[i].last, t1, sizeof(t1));
		fprintf(f, "  %s %s %s: %" PRIu64 " window%s, last until %s\n", ag->seen[i].service,
			ag->seen[i].mode, ag->seen[i].desc, ag->seen[i].windows,
			ag->seen[i].windows == 1 ? "" : "s", t1);
	}
	if (fclose(f) || rename(tmp, path))
		p_debug("cannot write status file '%s': %s", path, strerror(errno));
}

static int print_status(const struct agent_opts *o)
{
	char path[PATH_MAX], line[1024];
	FILE *f;
	int pid = 0;
	bool running = false;

	snprintf(path, sizeof(path), "%s/status", o->store);
	f = fopen(path, "r");
	if (!f) {
		p_err("no agent status in '%s': %s (is an agent running with --store %s?)", path,
		      strerror(errno), o->store);
		return EXIT_ERROR;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "pid: %d", &pid) == 1)
			running = !kill(pid, 0) || errno == EPERM;
		fputs(line, stdout);
	}
	fclose(f);
	if (pid && !running)
		printf("note: process %d is not running: this is the last status it wrote\n", pid);
	return EXIT_OK;
}

static volatile sig_atomic_t got_hup;

static void on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

/* The engine takes SIGHUP as a stop: the agent takes it back to reload. */
static void take_sighup(void)
{
	struct sigaction sa = { .sa_handler = on_hup };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

static int compile_match(struct agent *ag)
{
	char err[256];
	int r;

	if (ag->have_re)
		regfree(&ag->re);
	ag->have_re = false;
	if (!ag->o.match)
		return 0;
	r = regcomp(&ag->re, ag->o.match, REG_EXTENDED | REG_NOSUB);
	if (r) {
		regerror(r, &ag->re, err, sizeof(err));
		p_err("invalid --match '%s': %s", ag->o.match, err);
		return EXIT_USAGE;
	}
	ag->have_re = true;
	return 0;
}

static int start_push(struct agent *ag)
{
	char qdir[PATH_MAX];

	if (!ag->o.push.server)
		return 0;
	snprintf(qdir, sizeof(qdir), "%s/queue", ag->o.store);
	ag->o.push.queue_dir = qdir;
	ag->push = push__new(&ag->o.push);
	ag->o.push.queue_dir = NULL;
	return ag->push ? 0 : EXIT_USAGE;
}

/* The engine heard of pid (first sample, or an exec): read what it is now,
 * while it lives; a process gone by the window's end keeps this.
 */
static void on_process(pid_t pid, void *ctx)
{
	struct agent *ag = ctx;

	if (maybe_python(ag, pid))
		proc_info(ag, pid);
}

/* The BPF maps mmapped into the agent (in its RSS once touched), sized
 * for 19 Hz and a host's Python processes rather than record's rates over
 * any program; what a full one loses is counted as in capture_maps[].
 */
static const uint32_t agent_map_entries[CMAP__MAX] = {
	/* Code objects are announced at their first sample: few a second. */
	[CMAP_PY_CODE_RING] = 1024 * 1024,
	/* 8 MiB: libpython, libc and extension modules of several Python
	 * versions; past it the least used table is evicted, counted.
	 */
	[CMAP_UNWIND_ROWS] = 1024 * 1024,
};

static struct session *new_session(struct agent *ag, int mode, int *err)
{
	struct session_opts so = {
		.on_process = on_process,
		.on_process_ctx = ag,
		.mode = mode,
		.continuous = true,
		/* Windows are the timeline's slices; the loop sleeps between. */
		.slice_sec = ag->o.interval,
		.timeline_origin_ns = ag->nse ? ag->origin_ns : 0,
		.sleep_idle = true,
		/* Most of a machine's processes: not read, their samples left out. */
		.python_only = !ag->o.all_processes,
		.lean_symbols = true,
		.hz = ag->o.hz,
		.system_wide = true,
		.per_process = true,
		.quiet = ag->o.quiet,
		.output = ag->o.no_store ? "its window" : ag->o.store,
	};
	struct session *se;

	memcpy(so.map_entries, agent_map_entries, sizeof(so.map_entries));
	se = session__new(&so, profile__new());
	*err = session__start(se);
	if (*err) {
		profile__free(session__profile(se));
		session__free(se);
		return NULL;
	}
	take_sighup();
	return se;
}

/* A session per mode, each measuring the whole machine; 0, or -1 with *err
 * (none left running).
 */
static int start_sessions(struct agent *ag, int *err)
{
	for (int i = 0; i < ag->o.nmodes; i++) {
		ag->se[i] = new_session(ag, ag->o.modes[i], err);
		if (ag->se[i]) {
			struct session *se = ag->se[i];
			double started = wall_now() - session__elapsed(se);

			if (!i) {
				ag->origin_ns = session__origin_ns(se);
				ag->wall0 = started;
			}
			ag->wall_start[i] = started;
			ag->next_slice[i] = (uint32_t)floor((started - ag->wall0) / ag->o.interval);
		}
		if (!ag->se[i]) {
			for (int k = 0; k < i; k++) {
				session__stop(ag->se[k]);
				profile__free(session__profile(ag->se[k]));
				session__free(ag->se[k]);
				ag->se[k] = NULL;
			}
			return -1;
		}
		ag->nse = i + 1;
	}
	return 0;
}

/* Stack i of from, its slices first and later, into to at the same slices. */
static void carry_stack(struct profile *to, const struct profile *from, size_t i, uint32_t first)
{
	uint32_t n, cursor = 0, slice, ids[FOLDED_MAX_DEPTH];
	uint64_t w, weight;
	const uint32_t *fr = profile__stack(from, i, &n, &weight);
	bool named = false;

	while (profile__stack_slice(from, i, &cursor, &slice, &w)) {
		if (slice < first)
			continue;
		if (!named) {
			n = n > FOLDED_MAX_DEPTH ? FOLDED_MAX_DEPTH : n;
			for (uint32_t k = 0; k < n; k++)
				ids[k] = profile__intern(to, profile__frame_name(from, fr[k]));
			named = true;
		}
		profile__add_at(to, ids, n, w, slice);
	}
}

/* Where session i's window k begins, wall clock: its slice's start, or the
 * session's for its first.
 */
static double window_from(const struct agent *ag, int i, uint32_t k)
{
	double from = ag->wall0 + k * ag->o.interval;

	return from > ag->wall_start[i] ? from : ag->wall_start[i];
}

/* Session i's slices that are complete (final: all, the run is over) as
 * windows, each [wall0 + k * interval, wall0 + (k + 1) * interval), the
 * first from the session's start, the last to the run's end. What was counted in a slice already
 * written goes into the first window, counted; what is counted in slices still open goes back to
 * the session. Whether a window was written.
 */
static bool cut_slices(struct agent *ag, int i, bool final)
{
	struct session *se = ag->se[i];
	double len = ag->o.interval,
	       done = final ? ag->wall_start[i] - ag->wall0 + session__elapsed(se)
			    : session__drained(se);
	uint32_t first = ag->next_slice[i], last, cursor, slice;
	struct profile *old, *fresh;
	bool sampled;
	uint64_t w;

	if (final)
		last = done > 0 ? (uint32_t)ceil(done / len) - 1 : 0;
	else if (done >= (first + 1) * len)
		last = (uint32_t)floor(done / len) - 1;
	else
		return false;
	if (last < first)
		last = first;
	fresh = profile__new();
	old = session__swap_profile(se, fresh);
	sampled = !strcmp(session__mode_unit(ag->o.modes[i]), "samples");
	if (profile__slice_sec(old) != len) {
		/* Coarsened past its bound (never at these rates): one window. */
		ag->coarsened++;
		ag->from = window_from(ag, i, first);
		emit_window(ag, old, ag->wall0 + (final ? done : (last + 1) * len), ag->o.modes[i]);
		ag->next_slice[i] = last + 1;
		profile__free(old);
		return true;
	}
	for (size_t k = 0; k < profile__nstacks(old); k++) {
		cursor = 0;
		while (profile__stack_slice(old, k, &cursor, &slice, &w))
			if (slice < first)
				*(sampled ? &ag->carried_samples : &ag->carried_us) += w;
		if (!final)
			carry_stack(fresh, old, k, last + 1);
	}
	for (uint32_t k = first; k <= last; k++) {
		struct profile *win = profile__window(old, k == first ? 0 : k, k);
		double until = ag->wall0 + (final && k == last ? done : (k + 1) * len);

		ag->from = window_from(ag, i, k);
		emit_window(ag, win, until, ag->o.modes[i]);
		profile__free(win);
		if (!final) {
			double lag = wall_now() - until;

			ag->lag_sum += lag;
			ag->lag_max = lag > ag->lag_max ? lag : ag->lag_max;
			ag->lagged++;
		}
	}
	ag->next_slice[i] = last + 1;
	profile__free(old);
	return true;
}

/* The open window of every mode written, then the sessions end. */
static void end_sessions(struct agent *ag, bool print)
{
	ag->last_services[0] = 0;
	ag->last_services_over = 0;
	engine_counts(ag);
	for (int i = 0; i < ag->nse; i++) {
		struct session *se = ag->se[i];

		session__stop(se);
		if (print)
			session__print_summary(se);
		ag->next_prune = 0; /* the store within its bounds at exit */
		cut_slices(ag, i, true);
		profile__free(session__profile(se));
		session__free(se);
		ag->se[i] = NULL;
	}
	ag->nse = 0;
}

/* The windows of every mode that are complete, after a drain. Whether one
 * was written.
 */
static bool cut_windows(struct agent *ag)
{
	bool cut = false;

	for (int i = 0; i < ag->nse; i++) {
		if (session__drained(ag->se[i]) < (ag->next_slice[i] + 1) * ag->o.interval)
			continue;
		if (!cut) {
			ag->last_services[0] = 0;
			ag->last_services_over = 0;
		}
		cut |= cut_slices(ag, i, false);
	}
	/* A window's profiles are freed by now: their pages go back to the
	 * system, not kept by malloc for the next window's peak.
	 */
	if (cut)
		malloc_trim(0);
	return cut;
}

static bool same_modes(const struct agent_opts *a, const struct agent_opts *b)
{
	return a->nmodes == b->nmodes && !memcmp(a->modes, b->modes, a->nmodes * sizeof(*a->modes));
}

/* SIGHUP: the config file again. What needs a new session (rate, mode)
 * gets one; the rest applies from the next window. A bad file keeps the
 * running configuration.
 */
static void reload(struct agent *ag, char **keep, char ***cargs)
{
	struct agent_opts o;
	char *nkeep = NULL, **ncargs = NULL;
	bool restart;
	int err;

	if (!ag->o.config) {
		p_warn("SIGHUP: no --config file to reload; nothing changed");
		return;
	}
	if (agent__load_opts(&o, ag->argc, ag->argv, &nkeep, &ncargs)) {
		p_warn("SIGHUP: config file '%s' not applied; the agent keeps its configuration",
		       ag->o.config);
		agent__config_free(nkeep, ncargs);
		return;
	}
	restart = o.hz != ag->o.hz || !same_modes(&o, &ag->o);
	/* Every known process is matched again, at its next sample. */
	if (!o.match != !ag->o.match || (o.match && strcmp(o.match, ag->o.match)))
		ag->match_gen++;
	if (restart)
		end_sessions(ag, false);
	push__free(ag->push);
	ag->push = NULL;
	agent__config_free(*keep, *cargs);
	*keep = nkeep;
	*cargs = ncargs;
	ag->o = o;
	if (compile_match(ag) || start_push(ag))
		p_warn("SIGHUP: the new configuration has errors: %s",
		       ag->have_re || !ag->o.match ? "pushing is off" : "--match is off");
	if (restart) {
		start_sessions(ag, &err);
		if (!ag->nse) {
			p_err("SIGHUP: cannot profile with the new rate or mode; exiting");
			return;
		}
	}
	p_info("SIGHUP: reloaded '%s'", ag->o.config);
}

int cmd_agent(int argc, char **argv)
{
	struct agent ag = { .argc = argc, .argv = argv };
	char *keep = NULL, **cargs = NULL;
	sigset_t stops, waiting;
	int ret, err = 0;

	/* One thread profiles; libcurl's resolver threads need no arena each. */
	mallopt(M_ARENA_MAX, 1);
	ret = agent__load_opts(&ag.o, argc, argv, &keep, &cargs);
	if (ret == 1) {
		usage(stdout);
		ret = EXIT_OK;
		goto out;
	}
	if (ret)
		goto out;
	if (ag.o.status) {
		ret = print_status(&ag.o);
		goto out;
	}
	ret = compile_match(&ag);
	if (ret)
		goto out;
	if (!ag.o.no_store || ag.o.push.server) {
		char d[PATH_MAX + 16];

		snprintf(d, sizeof(d), "%s/windows", ag.o.store);
		if ((mkdir(ag.o.store, 0750) && errno != EEXIST) ||
		    (mkdir(d, 0750) && errno != EEXIST)) {
			p_err("cannot create store directory '%s': %s (give --store a writable "
			      "directory)",
			      d, strerror(errno));
			ret = EXIT_USAGE;
			goto out;
		}
	}
	ret = start_push(&ag);
	if (ret)
		goto out;
	if (gethostname(ag.hostname, sizeof(ag.hostname) - 1))
		snprintf(ag.hostname, sizeof(ag.hostname), "unknown");
	ag.started = wall_now();
	start_sessions(&ag, &err);
	if (!ag.nse) {
		ret = err == -EPERM || err == -EACCES || err == -EOPNOTSUPP ? EXIT_NOPERM
									    : EXIT_ERROR;
		goto out;
	}
	write_status(&ag, "running");
	/* The stop and reload signals arrive only in the wait below (ppoll
	 * unblocks them): one that comes while the loop works ends the next
	 * wait at once, never a whole sleep later.
	 */
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, &waiting);
	while (ag.nse) {
		struct pollfd fds[AGENT_MAX_MODES];
		double now = now_sec(), wake = now + AGENT_SLEEP_MAX_SEC;
		bool over = false;

		for (int i = 0; i < ag.nse; i++) {
			double w = session__next_wake(ag.se[i]);

			fds[i] =
			    (struct pollfd){ .fd = session__poll_fd(ag.se[i]), .events = POLLIN };
			wake = w < wake ? w : wake;
		}
		if (wake > now) {
			struct timespec ts = { (time_t)(wake - now),
					       (long)((wake - now - (time_t)(wake - now)) * 1e9) };

			ppoll(fds, ag.nse, &ts, &waiting);
		} else {
			/* Work due now: signals that came meanwhile, still. */
			struct timespec zero = { 0, 0 };

			ppoll(fds, 0, &zero, &waiting);
		}
		for (int i = 0; i < ag.nse; i++)
			over |= session__poll_for(ag.se[i], 0);
		if (over)
			break;
		if (got_hup) {
			got_hup = 0;
			reload(&ag, &keep, &cargs);
			if (!ag.nse) {
				ret = EXIT_ERROR;
				break;
			}
		}
		if (cut_windows(&ag))
			write_status(&ag, "running");
	}
	/* SIGTERM, SIGINT: the open windows are written before exit. */
	if (ag.nse)
		end_sessions(&ag, !ag.o.quiet);
	if (ag.push && !push__flush(ag.push, AGENT_FLUSH_TIMEOUT) && !ag.o.quiet) {
		struct push_stats ps;

		push__stats(ag.push, &ps);
		p_info("push: %" PRIu64 " windows stay queued in %s/queue for the next run",
		       ps.queued, ag.o.store);
	}
	if (!ag.o.no_store || ag.push)
		write_status(&ag, "stopped");
out:
	push__free(ag.push);
	if (ag.have_re)
		regfree(&ag.re);
	for (size_t i = 0; i < ag.procs.cap; i++)
		if (u64map_used(&ag.procs, i))
			free((void *)(uintptr_t)ag.procs.slots[i].val);
	u64map_free(&ag.procs);
	agent__config_free(keep, cargs);
	return ret;
}
