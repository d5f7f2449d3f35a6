// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "util.h"

static const char *find_sub(const char *s, size_t len, const char *sub)
{
	size_t n = strlen(sub);

	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(s + i, sub, n))
			return s + i;
	return NULL;
}

const char *labels__short_path(const char *file, size_t len, const char *script_dir,
			       size_t *out_len)
{
	const char *end = file + len, *p;
	size_t dl;

	*out_len = len;
	if ((p = find_sub(file, len, "/site-packages/")) ||
	    (p = find_sub(file, len, "/dist-packages/"))) {
		p += 15;
		*out_len = (size_t)(end - p);
		return p;
	}
	/* The standard library: .../lib/python3.X/module.py */
	for (p = file; (p = find_sub(p, (size_t)(end - p), "/lib/python3")); p++) {
		const char *q = p + 12;

		if (q < end && *q == '.')
			q++;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
		while (q < end && *q != '/')
			q++; /* "t" of free-threaded builds, "d" of debug ones */
		if (q < end && q + 1 < end) {
			*out_len = (size_t)(end - q - 1);
			return q + 1;
		}
		break;
	}
	dl = script_dir ? strlen(script_dir) : 0;
	if (dl && len > dl + 1 && !memcmp(file, script_dir, dl) && file[dl] == '/') {
		*out_len = len - dl - 1;
		return file + dl + 1;
	}
	return file;
}

/* The directory of the program's script: of the root-most Python frame of
 * the heaviest stacks, a "<module>" in user code (sys.path[0]).
 */
static char *script_dir(const struct profile *p)
{
	uint64_t best = 0;
	char *dir = NULL;
	size_t ns = profile__nstacks(p);
	struct {
		const char *file;
		size_t len;
		uint64_t w;
	} *c = NULL;
	size_t nc = 0, cap = 0;

	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *f = profile__stack(p, i, &n, &w);

		for (uint32_t j = 0; j < n; j++) {
			const char *name = profile__frame_name(p, f[j]);
			struct frame_py py;
			const char *slash;
			size_t k;

			if (!frame__parse_python(name, &py))
				continue;
			if (py.qualname_len != 8 || memcmp(py.qualname, "<module>", 8) ||
			    py.file[0] != '/' || frame__kind(name) != FRAME_PY_USER)
				break;
			slash = py.file + py.file_len;
			while (slash > py.file && slash[-1] != '/')
				slash--;
			for (k = 0; k < nc; k++)
				if (c[k].len == (size_t)(slash - 1 - py.file) &&
				    !memcmp(c[k].file, py.file, c[k].len))
					break;
			if (k == nc) {
				grow_array((void **)&c, &cap, nc + 1, sizeof(*c));
				c[nc++] = (typeof(*c)){ py.file, (size_t)(slash - 1 - py.file), 0 };
			}
			c[k].w += w;
			break;
		}
	}
	for (size_t k = 0; k < nc; k++)
		if (c[k].w > best && c[k].len) {
			best = c[k].w;
			free(dir);
			dir = xmalloc(c[k].len + 1);
			memcpy(dir, c[k].file, c[k].len);
			dir[c[k].len] = '\0';
		}
	free(c);
	return dir;
}

struct profile *labels__apply(struct profile *p, unsigned int flags)
{
	size_t nf = profile__nframes(p), ns = profile__nstacks(p), cap = 0;
	struct profile *out;
	uint32_t *map, *frames = NULL;
	size_t fcap = 0, *smap;
	char *buf = NULL, *dir;

	if (!flags)
		return p;
	out = profile__new();
	smap = xmalloc((ns ? ns : 1) * sizeof(*smap));
	*profile__meta(out) = *profile__meta_ro(p);
	if (profile__slice_sec(p) > 0)
		profile__set_timeline(out, profile__slice_sec(p), 0);
	dir = flags & LABEL_SHORT_PATHS ? script_dir(p) : NULL;
	map = xmalloc((nf ? nf : 1) * sizeof(*map));
	for (size_t i = 0; i < nf; i++) {
		const char *name = profile__frame_name(p, (uint32_t)i);
		struct frame_py py;
		const char *file;
		size_t flen, need;
		uint32_t module;
		uint64_t addr;

		if (!frame__parse_python(name, &py)) {
			map[i] = profile__frame_address(p, (uint32_t)i, &module, &addr)
				     ? profile__copy_frame(out, p, (uint32_t)i)
				     : profile__intern(out, name);
			continue;
		}
		file = py.file;
		flen = py.file_len;
		if (flags & LABEL_SHORT_PATHS)
			file = labels__short_path(py.file, py.file_len, dir, &flen);
		need = py.qualname_len + flen + 32;
		grow_array((void **)&buf, &cap, need, 1);
		if ((flags & LABEL_NO_LINES) || !py.line)
			snprintf(buf, need, "%.*s (%.*s)", (int)py.qualname_len, py.qualname,
				 (int)flen, file);
		else
			snprintf(buf, need, "%.*s (%.*s:%lu)", (int)py.qualname_len, py.qualname,
				 (int)flen, file, py.line);
		/* Native code named with its line keeps its address. */
		if (profile__frame_address(p, (uint32_t)i, &module, &addr))
			map[i] = profile__add_native(
			    out, buf, profile__add_module(out, profile__module(p, module)), addr);
		else
			map[i] = profile__intern(out, buf);
		profile__set_frame_kind(out, map[i], profile__frame_kind(p, (uint32_t)i));
	}
	for (size_t i = 0; i < ns; i++) {
		uint32_t n;
		uint64_t w;
		const uint32_t *f = profile__stack(p, i, &n, &w);

		grow_array((void **)&frames, &fcap, n ? n : 1, sizeof(*frames));
		for (uint32_t j = 0; j < n; j++)
			frames[j] = map[f[j]];
		smap[i] = profile__add(out, frames, n, w);
		profile__copy_slices(out, smap[i], p, i);
	}
	profile__copy_markers(out, p, map, 0, -1e300, 1e300);
	profile__copy_sample_times(out, p, smap);
	free(smap);
	free(frames);
	free(map);
	free(buf);
	free(dir);
	return out;
}

const char *labels__box(const char *name, char *buf, size_t len)
{
	struct frame_py py;
	const char *base;

	if (!frame__parse_python(name, &py))
		return name;
	base = py.file + py.file_len;
	while (base > py.file && base[-1] != '/')
		base--;
	if (py.line)
		snprintf(buf, len, "%.*s (%.*s:%lu)", (int)py.qualname_len, py.qualname,
			 (int)(py.file + py.file_len - base), base, py.line);
	else
		snprintf(buf, len, "%.*s (%.*s)", (int)py.qualname_len, py.qualname,
			 (int)(py.file + py.file_len - base), base);
	return buf;
}
