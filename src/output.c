// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flamegraph.h"
#include "folded.h"
#include "gecko.h"
#include "output.h"
#include "pprof.h"
#include "pstats.h"
#include "speedscope.h"
#include "util.h"

/* One row per output format: its names, the extensions that select it (the
 * first is the default file's), whether it holds times only (pstats: not a
 * profile of bytes), and its writer. Help texts, defaults, errors and
 * readers take their lists from here.
 */
static int write_folded(FILE *f, const struct profile *p)
{
	return folded__write_header(f, p) || folded__write(f, p);
}

static const struct {
	const char *name, *alias;
	const char *ext[3];
	bool times_only;
	int (*write)(FILE *f, const struct profile *p);
} formats[OUTPUT_FORMAT_MAX] = {
	[OUTPUT_FOLDED] = { "folded",
			    "collapsed",
			    { ".folded", ".collapsed", ".txt" },
			    false,
			    write_folded },
	[OUTPUT_SVG] = { "svg", "flamegraph", { ".svg" }, false, flamegraph__write_default },
	[OUTPUT_SPEEDSCOPE] = { "speedscope",
				NULL,
				{ ".speedscope.json", ".json" },
				false,
				speedscope__write },
	[OUTPUT_PPROF] = { "pprof", NULL, { ".pb.gz", ".pprof", ".pb" }, false, pprof__write },
	[OUTPUT_PSTATS] = { "pstats", NULL, { ".pstats", ".prof" }, true, pstats__write },
	[OUTPUT_GECKO] = { "gecko", "firefox", { ".gecko.json" }, false, gecko__write },
};

const char *output__format_list(void)
{
	static char list[256];

	if (!list[0])
		for (int i = 0; i < OUTPUT_FORMAT_MAX; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", formats[i].name);
	return list;
}

bool output__takes_unit(enum output_format fmt, const char *unit)
{
	return fmt < 0 || fmt >= OUTPUT_FORMAT_MAX || !formats[fmt].times_only || !unit ||
	       strcmp(unit, "bytes");
}

const char *output__exts_for_unit(const char *unit)
{
	static char list[256];
	int n = 0, last = -1;

	list[0] = '\0';
	for (int i = 0; i < OUTPUT_FORMAT_MAX; i++)
		if (output__takes_unit((enum output_format)i, unit))
			last = i;
	for (int i = 0; i < OUTPUT_FORMAT_MAX; i++)
		if (output__takes_unit((enum output_format)i, unit))
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 !n++	     ? ""
				 : i == last ? " or "
					     : ", ",
				 formats[i].ext[0]);
	return list;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

enum output_format output__format_for(const char *format, const char *path)
{
	enum output_format best = OUTPUT_FOLDED;
	size_t best_len = 0;

	for (int i = 0; i < OUTPUT_FORMAT_MAX; i++) {
		if (format && (!strcmp(format, formats[i].name) ||
			       (formats[i].alias && !strcmp(format, formats[i].alias))))
			return (enum output_format)i;
		/* The longest extension wins: x.gecko.json is not speedscope's .json. */
		for (int e = 0; !format && path && e < 3 && formats[i].ext[e]; e++)
			if (ends_with(path, formats[i].ext[e]) &&
			    strlen(formats[i].ext[e]) > best_len) {
				best = (enum output_format)i;
				best_len = strlen(formats[i].ext[e]);
			}
	}
	return format ? OUTPUT_INVALID : best;
}

void output__warn_unknown_ext(const char *format, const char *path)
{
	const char *base = path ? strrchr(path, '/') : NULL, *dot;

	base = base ? base + 1 : path;
	if (format || !base || !strcmp(path, "-") || !(dot = strrchr(base, '.')) || dot == base)
		return;
	for (int i = 0; i < OUTPUT_FORMAT_MAX; i++)
		for (int e = 0; e < 3 && formats[i].ext[e]; e++)
			if (ends_with(path, formats[i].ext[e]))
				return;
	p_warn("%s: '%s' is no format's extension: writing collapsed stacks (name it "
	       ".folded, or give --format: %s)",
	       path, dot, output__format_list());
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

static void output_file_release(struct output_file *of)
{
	if (of->dirfd >= 0)
		close(of->dirfd);
	free(of->path);
	free(of->base);
	free(of->tmp_name);
	memset(of, 0, sizeof(*of));
	of->dirfd = -1;
}

/* ".BASE.XXXXXX" in the output's directory, not yet in use. */
static void random_tmp_name(struct output_file *of)
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[8] = { 0 };
	size_t len = strlen(of->base) + 16;
	char suffix[9];

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		uint64_t t = mono_ns() ^ ((uint64_t)getpid() << 32);

		memcpy(rnd, &t, sizeof(rnd));
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		suffix[i] = digits[rnd[i] % (sizeof(digits) - 1)];
	suffix[8] = '\0';
	free(of->tmp_name);
	of->tmp_name = xmalloc(len);
	snprintf(of->tmp_name, len, ".%s.%s", of->base, suffix);
}

static int create_named_tmp(struct output_file *of)
{
	int fd = -1;

	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		random_tmp_name(of);
		fd = openat(of->dirfd, of->tmp_name,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		free(of->tmp_name);
		of->tmp_name = NULL;
	}
	return fd;
}

/* Under sudo, the profile belongs to the user who asked for it: the file
 * we just created, through its descriptor, and only where that user could
 * have put a file of their own (their directory, or a world-writable one
 * where the name is free or already theirs). Never by path.
 */
static void give_to_sudo_user(struct output_file *of, int fd)
{
	const char *uid_s = getenv("SUDO_UID"), *gid_s = getenv("SUDO_GID");
	unsigned long uid, gid;
	struct stat dir, old;
	bool ok, exists;

	if (geteuid() != 0 || !uid_s || !gid_s || parse_ulong(uid_s, 1, 0xfffffffe, &uid) ||
	    parse_ulong(gid_s, 0, 0xfffffffe, &gid) || fstat(of->dirfd, &dir))
		return;
	exists = !fstatat(of->dirfd, of->base, &old, AT_SYMLINK_NOFOLLOW);
	ok = dir.st_uid == uid || ((dir.st_mode & S_IWOTH) &&
				   (!(dir.st_mode & S_ISVTX) || !exists || old.st_uid == uid));
	if (!ok) {
		p_debug("output '%s' stays owned by root: its directory is not writable by "
			"SUDO_UID %lu",
			of->path, uid);
		return;
	}
	if (fchown(fd, (uid_t)uid, (gid_t)gid))
		p_debug("cannot give '%s' to SUDO_UID %lu: %s", of->path, uid, strerror(errno));
}

int output__open(struct output_file *of, const char *path, unsigned int flags)
{
	char *copy;
	const char *base, *what;
	struct stat st;
	int fd = -1;

	memset(of, 0, sizeof(*of));
	of->dirfd = -1;
	if (!strcmp(path, "-")) {
		of->f = stdout;
		return 0;
	}
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		p_err("output '%s' is a directory (give a file name with -o)", path);
		return -1;
	}
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	copy = xstrdup(path);
	of->dirfd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (of->dirfd < 0) {
		p_err("cannot write output '%s': its directory: %s (choose another path with -o)",
		      path, strerror(errno));
		return -1;
	}
	of->path = xstrdup(path);
	of->base = xstrdup(base);
	/* Whatever is at the path is looked at, never followed: root writing
	 * through a link an unprivileged user planted would overwrite the
	 * link's target.
	 */
	if (!fstatat(of->dirfd, of->base, &st, AT_SYMLINK_NOFOLLOW) && !S_ISREG(st.st_mode)) {
		what = S_ISLNK(st.st_mode)			    ? "a symbolic link"
		       : S_ISFIFO(st.st_mode)			    ? "a FIFO"
		       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
								    : "not a regular file";
		if (!(flags & OUTPUT_IN_PLACE)) {
			p_err(
			    "output '%s' is %s: not writing through it (remove it, choose another "
			    "path with -o, or pass --output-in-place to write into it)",
			    path, what);
			goto fail;
		}
		fd = openat(of->dirfd, of->base, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || !(of->f = fdopen(fd, "w"))) {
			p_err("cannot write output '%s': %s", path, strerror(errno));
			goto fail;
		}
		of->in_place = true;
		return 0;
	}
	/* An unnamed file, linked in only when complete: a crash, even
	 * SIGKILL, leaves nothing behind. Filesystems without O_TMPFILE get a
	 * named hidden file, created exclusively.
	 */
	fd = openat(of->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0 && errno != EACCES && errno != EROFS && errno != ENOSPC && errno != EDQUOT)
		fd = create_named_tmp(of);
	if (fd < 0 || !(of->f = fdopen(fd, "w"))) {
		p_err("cannot write output '%s': %s (choose another path with -o)", path,
		      strerror(errno));
		goto fail;
	}
	/* Created by us, not yet visible: the one file safe to hand over. */
	give_to_sudo_user(of, fd);
	return 0;
fail:
	if (fd >= 0 && !of->f)
		close(fd);
	if (of->f)
		fclose(of->f);
	if (of->tmp_name)
		unlinkat(of->dirfd, of->tmp_name, 0);
	output_file_release(of);
	return -1;
}

/* Put the complete file at its name: link the unnamed file straight to it
 * when the name is free, else under a hidden name renamed over the old
 * file (rename replaces a link planted meanwhile; it never follows it).
 */
static int link_into_place(struct output_file *of)
{
	char proc[64];

	if (!of->tmp_name) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fileno(of->f));
		if (!linkat(AT_FDCWD, proc, of->dirfd, of->base, AT_SYMLINK_FOLLOW))
			return 0;
		if (errno != EEXIST)
			return -1;
		for (int tries = 0; tries < 100; tries++) {
			random_tmp_name(of);
			if (!linkat(AT_FDCWD, proc, of->dirfd, of->tmp_name, AT_SYMLINK_FOLLOW))
				break;
			free(of->tmp_name);
			of->tmp_name = NULL;
			if (errno != EEXIST)
				return -1;
		}
		if (!of->tmp_name)
			return -1;
	}
	if (renameat(of->dirfd, of->tmp_name, of->dirfd, of->base))
		return -1;
	free(of->tmp_name);
	of->tmp_name = NULL;
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
	if (of->in_place) {
		if ((fclose(of->f) || !ok) && ok) {
			p_err("cannot write output '%s': %s", of->path, strerror(errno));
			ret = -1;
		}
		of->f = NULL;
		output_file_release(of);
		return ok ? ret : -1;
	}
	if (ok && (fflush(of->f) || fsync(fileno(of->f)))) {
		p_err("cannot write output '%s': %s", of->path, strerror(errno));
		ok = 0;
		ret = -1;
	}
	if (ok && link_into_place(of)) {
		p_err("cannot put output '%s' in place: %s", of->path, strerror(errno));
		ok = 0;
		ret = -1;
	}
	if (fclose(of->f) && ok) {
		p_err("cannot write output '%s': %s", of->path, strerror(errno));
		ok = 0;
		ret = -1;
	}
	of->f = NULL;
	if (of->tmp_name)
		unlinkat(of->dirfd, of->tmp_name, 0);
	output_file_release(of);
	return ok ? ret : -1;
}

int output__write_file(const char *path, const struct profile *p, enum output_format fmt,
		       unsigned int flags)
{
	struct output_file of;
	int ok;

	if (output__open(&of, path, flags))
		return -1;
	ok = !output__write(of.f, p, fmt);
	if (!ok)
		p_err("cannot write output '%s': %s", path, strerror(errno));
	return output__commit(&of, ok);
}

void output__usage_format(FILE *f, const char *opt, const char *unit)
{
	char text[512];
	size_t len = 0;
	int n = 0, last = -1;

	for (int i = 0; i < OUTPUT_FORMAT_MAX; i++)
		if (output__takes_unit((enum output_format)i, unit))
			last = i;
	for (int i = 0; i < OUTPUT_FORMAT_MAX; i++)
		if (output__takes_unit((enum output_format)i, unit))
			len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
						!n++	    ? ""
						: i == last ? " or "
							    : ", ",
						formats[i].name);
	len += (size_t)snprintf(text + len, sizeof(text) - len,
				" (default: from the extension of FILE: %s)",
				output__exts_for_unit(unit));
	for (int i = 0; i < OUTPUT_FORMAT_MAX; i++)
		if (!output__takes_unit((enum output_format)i, unit))
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"; %s holds times, not %s", formats[i].name, unit);
	help_option(f, opt, text);
}
