// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

const char *progname = "rampa-bpf";
int verbose;

static void (*msg_sink)(const char *level, const char *msg);
static void (*msg_before)(void);

void util__set_msg_sink(void (*sink)(const char *level, const char *msg))
{
	msg_sink = sink;
}

void util__set_msg_before(void (*before)(void))
{
	msg_before = before;
}

static void vmsg(const char *level, const char *fmt, va_list ap)
{
	if (msg_sink) {
		char msg[1024];

		vsnprintf(msg, sizeof(msg), fmt, ap);
		msg_sink(level, msg);
		return;
	}
	if (msg_before)
		msg_before();
	fprintf(stderr, "%s: %s", progname, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("error: ", fmt, ap);
	va_end(ap);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vmsg("debug: ", fmt, ap);
	va_end(ap);
}

static void oom(size_t n)
{
	p_err("out of memory allocating %zu bytes", n);
	exit(EXIT_ERROR);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom(strlen(s));
	return p;
}

void grow_array(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;

	if (need <= *cap)
		return;
	while (n < need)
		n *= 2;
	*arr = xrealloc(*arr, n * elem);
	*cap = n;
}

/* Eight bytes per step (multiply-rotate, as in wyhash/xxhash), then a 64-bit
 * finalizer so low bits mix well for power-of-two tables. Frame names are
 * hashed once per frame per input line, so this is on the readers' hot path.
 */
uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed ^ (len * 0x9e3779b97f4a7c15ULL), v;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&v, p, 8);
		v *= 0x87c37b91114253d5ULL;
		v = (v << 31) | (v >> 33);
		h ^= v * 0x4cf5ad432745937fULL;
		h = ((h << 27) | (h >> 37)) * 5 + 0x52dce729;
	}
	v = 0;
	memcpy(&v, p, len);
	h ^= v * 0x87c37b91114253d5ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

double rampa_started_sec;

double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v != v)
		return -1;
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (!strcmp(end, "m"))
		v *= 60;
	else if (!strcmp(end, "h"))
		v *= 3600;
	else if (*end && strcmp(end, "s"))
		return -1;
	if (v <= 0 || v > 366 * 86400.0)
		return -1;
	*out = v;
	return 0;
}

static int check_regular(int fd, uint64_t max_size)
{
	struct stat st;
	int e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max_size) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return -1;
	}
	return fd;
}

int open_regular(const char *path, uint64_t max_size)
{
	return check_regular(open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), max_size);
}

int open_in_root(pid_t pid, const char *path, uint64_t max_size)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char root[64];
	int dirfd, fd, e;

	snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
	dirfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -1;
	/* No fallback to a plain open without openat2: that is the escape. */
	fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	e = errno;
	close(dirfd);
	errno = e;
	return check_regular(fd, max_size);
}

size_t text_safe(char *s)
{
	size_t n = 0;

	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			*s = '?';
			n++;
		}
	}
	return n;
}

ssize_t read_text_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || len == 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	/* A process name may hold a newline: only the file's last one goes. */
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return n;
}

char *fmt_time(char *buf, size_t len, double sec, int plus)
{
	static const struct {
		double scale;
		const char *name;
	} units[] = { { 1, "s" }, { 1e-3, "ms" }, { 1e-6, "us" }, { 1e-9, "ns" } };
	double a = sec < 0 ? -sec : sec, v;
	size_t i = 0;

	if (a == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	while (i + 1 < sizeof(units) / sizeof(units[0]) && a < units[i].scale * 0.9995)
		i++;
	v = sec / units[i].scale;
	a = v < 0 ? -v : v;
	snprintf(buf, len, plus ? "%+.*f %s" : "%.*f %s",
		 a >= 99.95 || i == 3 ? 0
		 : a >= 9.995	      ? 1
				      : 2,
		 v, units[i].name);
	return buf;
}

double unit_seconds(const char *unit, unsigned int hz)
{
	if (unit && !strcmp(unit, "microseconds"))
		return 1e-6;
	if (unit && !strcmp(unit, "nanoseconds"))
		return 1e-9;
	return hz ? 1.0 / hz : 0;
}

char *fmt_bytes(char *buf, size_t len, uint64_t b)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
	return buf;
}

char *fmt_amount(char *buf, size_t len, uint64_t w, const char *unit)
{
	double sec = unit_seconds(unit, 0);

	if (unit && !strcmp(unit, "bytes"))
		return fmt_bytes(buf, len, w);
	if (sec > 0)
		return fmt_time(buf, len, (double)w * sec, 0);
	snprintf(buf, len, "%" PRIu64 " %s", w, w == 1 ? "sample" : "samples");
	return buf;
}

int mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(dir);

	if (len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, mode) && errno != EEXIST ? -1 : 0;
}

void help_option(FILE *f, const char *opt, const char *text)
{
	char *copy = xstrdup(text), *w, *save = NULL;
	size_t col = opt ? (size_t)fprintf(f, "  %-25s", opt) : (size_t)fprintf(f, "%27s", "");

	for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (col > 27 && col + 1 + strlen(w) > 80)
			col = (size_t)fprintf(f, "\n%27s", "") - 1;
		col += (size_t)fprintf(f, "%s%s", col > 27 ? " " : "", w);
	}
	fputc('\n', f);
	free(copy);
}
