// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flamegraph.h"
#include "folded.h"
#include "output.h"
#include "pprof.h"
#include "speedscope.h"
#include "util.h"

const char output__format_list[] = "folded, svg, speedscope, pprof";

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

enum output_format output__format_for(const char *format, const char *path)
{
	if (format) {
		if (!strcmp(format, "folded") || !strcmp(format, "collapsed"))
			return OUTPUT_FOLDED;
		if (!strcmp(format, "svg") || !strcmp(format, "flamegraph"))
			return OUTPUT_SVG;
		if (!strcmp(format, "speedscope"))
			return OUTPUT_SPEEDSCOPE;
		if (!strcmp(format, "pprof"))
			return OUTPUT_PPROF;
		return OUTPUT_INVALID;
	}
	if (!path)
		return OUTPUT_FOLDED;
	if (ends_with(path, ".svg"))
		return OUTPUT_SVG;
	if (ends_with(path, ".json"))
		return OUTPUT_SPEEDSCOPE;
	if (ends_with(path, ".pb.gz") || ends_with(path, ".pprof") || ends_with(path, ".pb"))
		return OUTPUT_PPROF;
	return OUTPUT_FOLDED;
}

const char *output__format_name(enum output_format fmt)
{
	switch (fmt) {
	case OUTPUT_FOLDED:
		return "folded";
	case OUTPUT_SVG:
		return "svg";
	case OUTPUT_SPEEDSCOPE:
		return "speedscope";
	case OUTPUT_PPROF:
		return "pprof";
	default:
		return "invalid";
	}
}

int output__write(FILE *f, const struct profile *p, enum output_format fmt)
{
	int ret;

	switch (fmt) {
	case OUTPUT_FOLDED:
		ret = folded__write_header(f, p) || folded__write(f, p);
		break;
	case OUTPUT_SVG:
		ret = flamegraph__write(f, p, NULL);
		break;
	case OUTPUT_SPEEDSCOPE:
		ret = speedscope__write(f, p);
		break;
	case OUTPUT_PPROF:
		ret = pprof__write(f, p);
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (!ret && fflush(f))
		ret = -1;
	return ret;
}

int output__open(struct output_file *of, const char *path)
{
	char *copy, *dir;
	const char *base;
	struct stat st;
	size_t len;
	int fd;

	memset(of, 0, sizeof(*of));
	if (!strcmp(path, "-")) {
		of->f = stdout;
		return 0;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		p_err("output '%s' is a directory (give a file name with -o)", path);
		return -1;
	}
	/* Anything but a plain file (a device, a FIFO, a symlink such as
	 * /dev/stdout) is written in place: renaming a temporary file over it
	 * would replace the node or the link itself.
	 */
	if (!lstat(path, &st) && !S_ISREG(st.st_mode)) {
		of->f = fopen(path, "w");
		if (!of->f) {
			p_err("cannot write output '%s': %s", path, strerror(errno));
			return -1;
		}
		of->path = xstrdup(path);
		return 0;
	}
	copy = xstrdup(path);
	dir = dirname(copy);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	len = strlen(dir) + strlen(base) + 16;
	of->tmp_path = xmalloc(len);
	snprintf(of->tmp_path, len, "%s/.%s.XXXXXX", dir, base);
	free(copy);
	fd = mkstemp(of->tmp_path);
	if (fd < 0 || !(of->f = fdopen(fd, "w"))) {
		p_err("cannot write output '%s': %s (choose another path with -o)", path,
		      strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(of->tmp_path);
		}
		free(of->tmp_path);
		of->tmp_path = NULL;
		return -1;
	}
	/* mkstemp makes 0600; an output file is as readable as any other. */
	fchmod(fd, 0644 & ~umask(umask(0)));
	of->path = xstrdup(path);
	return 0;
}

int output__commit(struct output_file *of, int ok)
{
	int ret = 0;

	if (!of->f)
		return -1;
	if (of->f == stdout) {
		if (fflush(stdout)) {
			p_err("cannot write to stdout: %s", strerror(errno));
			ret = -1;
		}
		of->f = NULL;
		return ok ? ret : -1;
	}
	if (!of->tmp_path) {
		if ((fclose(of->f) || !ok) && ok) {
			p_err("cannot write output '%s': %s", of->path, strerror(errno));
			ret = -1;
		}
		of->f = NULL;
		free(of->path);
		of->path = NULL;
		return ok ? ret : -1;
	}
	if (ok && (fflush(of->f) || fsync(fileno(of->f)))) {
		p_err("cannot write output '%s': %s", of->path, strerror(errno));
		ok = 0;
		ret = -1;
	}
	if (fclose(of->f) && ok) {
		p_err("cannot write output '%s': %s", of->path, strerror(errno));
		ok = 0;
		ret = -1;
	}
	of->f = NULL;
	if (ok && rename(of->tmp_path, of->path)) {
		p_err("cannot rename '%s' to '%s': %s", of->tmp_path, of->path, strerror(errno));
		ok = 0;
		ret = -1;
	}
	if (!ok)
		unlink(of->tmp_path);
	free(of->tmp_path);
	free(of->path);
	of->tmp_path = of->path = NULL;
	return ok ? ret : -1;
}

int output__write_file(const char *path, const struct profile *p, enum output_format fmt)
{
	struct output_file of;
	int ok;

	if (output__open(&of, path))
		return -1;
	ok = !output__write(of.f, p, fmt);
	if (!ok)
		p_err("cannot write output '%s': %s", path, strerror(errno));
	return output__commit(&of, ok);
}
