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
#include "pstats.h"
#include "speedscope.h"
#include "util.h"

/* One row per output format: its names, the extensions that select it (the
 * first is the default file's), and its writer.
 */
static int write_folded(FILE *f, const struct profile *p)
{
	return folded__write_header(f, p) || folded__write(f, p);
}

static const struct {
	const char *name, *alias;
	const char *ext[3];
	int (*write)(FILE *f, const struct profile *p);
} formats[OUTPUT_FORMAT_MAX] = {
	[OUTPUT_FOLDED] = { "folded",
			    "collapsed",
			    { ".folded", ".collapsed", ".txt" },
			    write_folded },
	[OUTPUT_SVG] = { "svg", "flamegraph", { ".svg" }, flamegraph__write_default },
	[OUTPUT_SPEEDSCOPE] = { "speedscope",
				NULL,
				{ ".speedscope.json", ".json" },
				speedscope__write },
	[OUTPUT_PPROF] = { "pprof", NULL, { ".pb.gz", ".pprof", ".pb" }, pprof__write },
	[OUTPUT_PSTATS] = { "pstats", NULL, { ".pstats", ".prof" }, pstats__write },
};

const char output__format_list[] = "folded, svg, speedscope, pprof, pstats";

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

enum output_format output__format_for(const char *format, const char *path)
{
	for (int i = 0; i < OUTPUT_FORMAT_MAX; i++) {
		if (format && (!strcmp(format, formats[i].name) ||
			       (formats[i].alias && !strcmp(format, formats[i].alias))))
			return (enum output_format)i;
		for (int e = 0; !format && path && e < 3 && formats[i].ext[e]; e++)
			if (ends_with(path, formats[i].ext[e]))
				return (enum output_format)i;
	}
	return format ? OUTPUT_INVALID : OUTPUT_FOLDED;
}

const char *output__format_name(enum output_format fmt)
{
	return fmt >= 0 && fmt < OUTPUT_FORMAT_MAX ? formats[fmt].name : "invalid";
}

const char *output__format_ext(enum output_format fmt)
{
	return fmt >= 0 && fmt < OUTPUT_FORMAT_MAX ? formats[fmt].ext[0] : ".folded";
}

int output__write(FILE *f, const struct profile *p, enum output_format fmt)
{
	int ret;

	if (fmt < 0 || fmt >= OUTPUT_FORMAT_MAX) {
		errno = EINVAL;
		return -1;
	}
	ret = formats[fmt].write(f, p);
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
