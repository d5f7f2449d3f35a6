// SPDX-License-Identifier: GPL-2.0
/* The agent's local store: windows as collapsed-stack files (store.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "folded.h"
#include "output.h"
#include "profile.h"
#include "store.h"
#include "util.h"

bool store__is_store(const char *path)
{
	char sub[PATH_MAX];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/windows", path);
	return !stat(path, &st) && S_ISDIR(st.st_mode) && !stat(sub, &st) && S_ISDIR(st.st_mode);
}

void store__safe_name(const char *name, char *buf, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0, keep = len - 1 < STORE_NAME_KEEP ? len - 1 : STORE_NAME_KEEP;
	uint64_t h = 0xcbf29ce484222325ull;
	const char *c;

	for (c = name; *c; c++) {
		unsigned char u = (unsigned char)*c;
		bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
			  (u >= '0' && u <= '9') || u == '_' || u == '-' || (u == '.' && c != name);

		if (n + (ok ? 1 : 3) > keep)
			break;
		if (ok) {
			buf[n++] = (char)u;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[u >> 4];
			buf[n++] = hex[u & 15];
		}
	}
	buf[n] = 0;
	if (*c) {
		/* Too long for a file name: what fits, then the whole name's hash. */
		for (c = name; *c; c++)
			h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
		snprintf(buf + n, len - n, "~%016" PRIx64, h);
	} else if (!*name) {
		snprintf(buf, len, "%%00");
	}
}

void store__name_of(const char *safe, char *buf, size_t len)
{
	size_t n = 0;

	for (const char *c = safe; *c && n + 1 < len; c++) {
		unsigned int v;

		if (*c == '%' && sscanf(c + 1, "%2X", &v) == 1 && c[1] && c[2]) {
			if (v)
				buf[n++] = (char)v;
			c += 2;
		} else {
			buf[n++] = *c;
		}
	}
	buf[n] = 0;
}

/* "20261129T214200.123Z" */
static void fmt_stamp(char *buf, size_t len, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	int ms = (int)((t - (double)s) * 1000);

	ms = ms < 0 ? 0 : ms > 999 ? 999 : ms;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d%02d%02dT%02d%02d%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static int parse_stamp(const char *s, double *out)
{
	struct tm tm = { 0 };
	int ms, n = 0;

	if (sscanf(s, "%4d%2d%2dT%2d%2d%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &n) != 7 ||
	    n != 20)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (double)timegm(&tm) + ms / 1000.0;
	return 0;
}

int store__write_window(const char *dir, const char *service, const char *mode, double from,
			double until, const struct profile *p, uint64_t *bytes)
{
	char d[PATH_MAX], path[PATH_MAX + 128], a[48], b[48];
	struct stat st;

	snprintf(d, sizeof(d), "%s/windows/%s/%s", dir, service, mode);
	if (mkdir_p(d, 0750)) {
		p_err("cannot create store directory '%s': %s (give --store a writable directory)",
		      d, strerror(errno));
		return -1;
	}
	fmt_stamp(a, sizeof(a), from);
	fmt_stamp(b, sizeof(b), until);
	snprintf(path, sizeof(path), "%s/%s_%s.folded", d, a, b);
	if (output__write_file(path, p, OUTPUT_FOLDED, 0))
		return -1;
	*bytes = stat(path, &st) ? 0 : (uint64_t)st.st_size;
	return 0;
}

struct window {
	char *path;
	double from, until;
	uint64_t size;
	unsigned int hz; /* its sampling rate if its counts are samples; 0 else */
};

/* Every window under dir/windows[/service[/mode]], in *out; their number. */
static size_t list_windows(const char *dir, const char *service, const char *mode,
			   struct window **out)
{
	char top[PATH_MAX], sd[PATH_MAX * 2], md[PATH_MAX * 3], f[PATH_MAX * 4];
	struct window *w = NULL;
	size_t n = 0, cap = 0;
	DIR *d1, *d2, *d3;
	struct dirent *e1, *e2, *e3;
	char safe[STORE_NAME_MAX];

	/* Services are stored under their safe names ("svc-α" as
	 * "svc-%CE%B1"): the name asked for is looked up the same way.
	 */
	if (service) {
		store__safe_name(service, safe, sizeof(safe));
		service = safe;
	}
	snprintf(top, sizeof(top), "%s/windows", dir);
	d1 = opendir(top);
	while (d1 && (e1 = readdir(d1))) {
		if (e1->d_name[0] == '.' || (service && strcmp(service, e1->d_name)))
			continue;
		snprintf(sd, sizeof(sd), "%s/%s", top, e1->d_name);
		d2 = opendir(sd);
		while (d2 && (e2 = readdir(d2))) {
			if (e2->d_name[0] == '.' || (mode && strcmp(mode, e2->d_name)))
				continue;
			snprintf(md, sizeof(md), "%s/%s", sd, e2->d_name);
			d3 = opendir(md);
			while (d3 && (e3 = readdir(d3))) {
				struct window x = { 0 };
				struct stat st;
				size_t l = strlen(e3->d_name);

				if (l < 42 || strcmp(e3->d_name + l - 7, ".folded") ||
				    parse_stamp(e3->d_name, &x.from) ||
				    parse_stamp(e3->d_name + 21, &x.until))
					continue;
				snprintf(f, sizeof(f), "%s/%s", md, e3->d_name);
				if (stat(f, &st) || !S_ISREG(st.st_mode))
					continue;
				x.size = (uint64_t)st.st_size;
				x.path = xstrdup(f);
				grow_array((void **)&w, &cap, n + 1, sizeof(*w));
				w[n++] = x;
			}
			if (d3)
				closedir(d3);
		}
		if (d2)
			closedir(d2);
	}
	if (d1)
		closedir(d1);
	*out = w;
	return n;
}

static int cmp_until(const void *a, const void *b)
{
	const struct window *x = a, *y = b;

	if (x->until != y->until)
		return x->until < y->until ? -1 : 1;
	return strcmp(x->path, y->path);
}

static void free_windows(struct window *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(w[i].path);
	free(w);
}

void store__prune(const char *dir, double now, double max_age, uint64_t max_bytes,
		  uint64_t *removed, uint64_t *removed_bytes, uint64_t *kept_bytes)
{
	struct window *w;
	size_t n = list_windows(dir, NULL, NULL, &w);
	uint64_t total = 0;

	qsort(w, n, sizeof(*w), cmp_until);
	for (size_t i = 0; i < n; i++)
		total += w[i].size;
	/* Oldest first: by age, then by size. */
	for (size_t i = 0; i < n; i++) {
		bool old = max_age > 0 && w[i].until < now - max_age;
		bool over = max_bytes && total > max_bytes;

		if (!old && !over)
			break;
		if (unlink(w[i].path) && errno != ENOENT) {
			p_warn("store: cannot remove '%s': %s", w[i].path, strerror(errno));
			continue;
		}
		total -= w[i].size;
		(*removed)++;
		*removed_bytes += w[i].size;
	}
	*kept_bytes = total;
	free_windows(w, n);
}

int store__parse_time(const char *s, double now, double *out)
{
	struct tm tm = { 0 };
	char *end;
	double v;
	int n = 0;

	if (!strcmp(s, "now")) {
		*out = now;
		return 0;
	}
	if (*s == '-' || *s == '@') {
		v = strtod(s + 1, &end);
		if (end == s + 1 || v < 0)
			return -1;
		if (*s == '@') {
			*out = v;
			return *end ? -1 : 0;
		}
		if (!strcmp(end, "d"))
			v *= 86400;
		else if (!strcmp(end, "h"))
			v *= 3600;
		else if (!strcmp(end, "m"))
			v *= 60;
		else if (strcmp(end, "s") && *end)
			return -1;
		*out = now - v;
		return 0;
	}
	/* ISO 8601, UTC: the date, then optionally THH:MM[:SS][Z]. */
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3)
		return -1;
	s += n;
	if (*s == 'T' || *s == ' ') {
		n = 0;
		if (sscanf(s + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &n) != 2)
			return -1;
		s += 1 + n;
		if (*s == ':') {
			n = 0;
			if (sscanf(s + 1, "%2d%n", &tm.tm_sec, &n) != 1)
				return -1;
			s += 1 + n;
		}
	}
	if (*s == 'Z')
		s++;
	if (*s || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (double)timegm(&tm);
	return 0;
}

/* The names of the subdirectories of path, ", "-separated, into buf. */
static void list_names(const char *path, char *buf, size_t len)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	buf[0] = 0;
	while (d && (e = readdir(d))) {
		char name[256];

		store__name_of(e->d_name, name, sizeof(name));
		if (e->d_name[0] != '.' && n + strlen(name) + 3 < len)
			n += snprintf(buf + n, len - n, "%s%s", n ? ", " : "", name);
	}
	if (d)
		closedir(d);
	if (!n)
		snprintf(buf, len, "none");
}

/* A window's sampling rate (Hz; 0: unknown) if its counts are samples, from
 * its header line (ours: "..., unit samples, ..., rate 19 Hz, ...").
 */
static unsigned int window_sample_rate(const char *path)
{
	char line[4096];
	unsigned int hz = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	/* Its header line, read by the folded reader (the format's one parser). */
	while (fgets(line, sizeof(line), f) && line[0] == '#') {
		struct folded_read_stats st;
		struct profile *h;

		if (strncmp(line, "# rampa-bpf:", 12))
			continue;
		h = profile__new();
		if (!folded__read_mem(line, strlen(line), path, h, FOLDED_QUIET, &st) &&
		    profile__meta(h)->unit && !strcmp(profile__meta(h)->unit, "samples"))
			hz = profile__meta(h)->hz;
		profile__free(h);
		break;
	}
	fclose(f);
	return hz;
}

int store__read(const char *dir, const char *service, const char *mode, double from, double to,
		struct profile *p, size_t *nwindows, double *first, double *last)
{
	unsigned int hz_lo = 0, hz_hi = 0;
	bool mixed = false;
	char path[PATH_MAX], names[1024], only_mode[256] = "";
	struct window *w;
	size_t n;
	int ret = 0;

	if (service) {
		char safe[STORE_NAME_MAX];

		store__safe_name(service, safe, sizeof(safe));
		snprintf(path, sizeof(path), "%s/windows/%s", dir, safe);
		if (access(path, F_OK)) {
			snprintf(path, sizeof(path), "%s/windows", dir);
			list_names(path, names, sizeof(names));
			p_err("no service '%s' in store '%s' (services there: %s)", service, dir,
			      names);
			return -EINVAL;
		}
	}
	if (!mode) {
		/* The modes of the service (or of every service): one, or ask. */
		struct window *all;
		size_t na = list_windows(dir, service, NULL, &all);

		for (size_t i = 0; i < na; i++) {
			const char *m = strrchr(all[i].path, '/');
			size_t ml;

			/* .../MODE/FILE: back to MODE. */
			while (m > all[i].path && m[-1] != '/')
				m--;
			ml = strcspn(m, "/");
			if (!only_mode[0])
				snprintf(only_mode, sizeof(only_mode), "%.*s", (int)ml, m);
			else if (strncmp(only_mode, m, ml) || only_mode[ml]) {
				p_err("store '%s' holds several modes (%s, %.*s...): give --mode",
				      dir, only_mode, (int)ml, m);
				free_windows(all, na);
				return -EINVAL;
			}
		}
		free_windows(all, na);
		mode = only_mode[0] ? only_mode : NULL;
	}
	n = list_windows(dir, service, mode, &w);
	qsort(w, n, sizeof(*w), cmp_until);
	*nwindows = 0;
	*first = *last = 0;
	/* Windows sampled at different rates (the agent restarted or reloaded
	 * with another -F): a sample of each stands for a different time, so
	 * their counts are not added as they are but as CPU time.
	 */
	for (size_t i = 0; i < n; i++) {
		if (w[i].until < from || w[i].from > to)
			continue;
		w[i].hz = window_sample_rate(w[i].path);
		if (w[i].hz && (!hz_lo || w[i].hz < hz_lo))
			hz_lo = w[i].hz;
		if (w[i].hz > hz_hi)
			hz_hi = w[i].hz;
	}
	mixed = hz_lo && hz_lo != hz_hi;
	for (size_t i = 0; i < n; i++) {
		struct folded_read_stats st = { 0 };
		FILE *f;

		if (w[i].until < from || w[i].from > to)
			continue;
		if (mixed && !w[i].hz) {
			p_err("window '%s' has no sampling rate, and the others differ (%u to %u "
			      "Hz): its samples cannot be merged with theirs; give --from/--to "
			      "leaving it out",
			      w[i].path, hz_lo, hz_hi);
			ret = -EINVAL;
			break;
		}
		f = fopen(w[i].path, "r");
		if (!f) {
			/* Retention may remove it while we read. */
			if (errno == ENOENT)
				continue;
			ret = -errno;
			p_err("cannot read window '%s': %s", w[i].path, strerror(errno));
			break;
		}
		if (folded__read_scaled(f, w[i].path, p, 0, &st, mixed ? 1e6 / w[i].hz : 1)) {
			fclose(f);
			ret = -EIO;
			break;
		}
		fclose(f);
		if (!*nwindows || w[i].from < *first)
			*first = w[i].from;
		if (w[i].until > *last)
			*last = w[i].until;
		(*nwindows)++;
	}
	free_windows(w, n);
	if (!ret) {
		struct profile_meta *m = profile__meta(p);

		m->duration_sec = *last - *first;
		m->window = "attach";
		snprintf(m->target, sizeof(m->target), "%s, %zu windows",
			 service ? service : "every service", *nwindows);
		if (mixed) {
			m->unit = "microseconds";
			m->hz = 0;
			snprintf(m->target, sizeof(m->target),
				 "%s, %zu windows sampled at %u to %u Hz, as CPU time",
				 service ? service : "every service", *nwindows, hz_lo, hz_hi);
			p_warn("the windows were sampled at different rates (%u to %u Hz): merged "
			       "as CPU time (each sample its period), in microseconds",
			       hz_lo, hz_hi);
		}
	}
	return ret;
}

int store__report_input(const char *dir, const char *service, const char *mode, const char *from,
			const char *to, struct profile *p, bool quiet)
{
	struct timespec ts;
	double now, t0 = 0, t1 = 1e18, first, last;
	size_t n;
	int ret;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = ts.tv_sec + ts.tv_nsec / 1e9;
	if ((from && store__parse_time(from, now, &t0)) ||
	    (to && store__parse_time(to, now, &t1))) {
		p_err("invalid time '%s' (give an ISO time like 2026-11-29T21:40:00Z, a time "
		      "before now like -10m, -2h, -1d, or now)",
		      from && store__parse_time(from, now, &t0) ? from : to);
		return -EINVAL;
	}
	if (t1 < t0) {
		p_err("--to is before --from: nothing to merge");
		return -EINVAL;
	}
	ret = store__read(dir, service, mode, t0, t1, p, &n, &first, &last);
	if (ret)
		return ret;
	if (!n) {
		p_err("no window of %s%s in store '%s' between %s and %s",
		      service ? "service " : "", service ? service : "any service", dir,
		      from ? from : "the first", to ? to : "now");
		return -ENOENT;
	}
	if (!quiet) {
		char a[48], b[48];

		fmt_stamp(a, sizeof(a), first);
		fmt_stamp(b, sizeof(b), last);
		fprintf(stderr, "rampa-bpf: merged %zu windows from %s to %s\n", n, a, b);
	}
	return 0;
}
