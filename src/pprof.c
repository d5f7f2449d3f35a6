// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "flamegraph.h"
#include "pprof.h"
#include "util.h"

/* Field numbers of profile.proto. */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUETYPE_TYPE = 1,
	VALUETYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	LABEL_NUM = 3,
	LABEL_NUM_UNIT = 4,
	MAPPING_ID = 1,
	MAPPING_MEMORY_START = 2,
	MAPPING_MEMORY_LIMIT = 3,
	MAPPING_FILE_OFFSET = 4,
	MAPPING_FILENAME = 5,
	MAPPING_BUILD_ID = 6,
	MAPPING_HAS_FUNCTIONS = 7,
	MAPPING_HAS_FILENAMES = 8,
	MAPPING_HAS_LINE_NUMBERS = 9,
	MAPPING_HAS_INLINE_FRAMES = 10,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_ADDRESS = 3,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
};

enum { WIRE_VARINT = 0, WIRE_BYTES = 2 };

struct pb {
	uint8_t *d;
	size_t n, cap;
};

static void pb_raw(struct pb *b, const void *data, size_t len)
{
	grow_array((void **)&b->d, &b->cap, b->n + len, 1);
	memcpy(b->d + b->n, data, len);
	b->n += len;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	uint8_t buf[10];
	size_t n = 0;

	do {
		buf[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	pb_raw(b, buf, n);
}

static void pb_uint(struct pb *b, int field, uint64_t v)
{
	pb_varint(b, (uint64_t)field << 3 | WIRE_VARINT);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, int field, const void *data, size_t len)
{
	pb_varint(b, (uint64_t)field << 3 | WIRE_BYTES);
	pb_varint(b, len);
	pb_raw(b, data, len);
}

/* Append sub as a length-delimited field and empty it for reuse. */
static void pb_msg(struct pb *b, int field, struct pb *sub)
{
	pb_bytes(b, field, sub->d, sub->n);
	sub->n = 0;
}

/* The string table: ids from a profile used as an interner; "" must be 0.
 * Protobuf strings must be valid UTF-8: profile__intern() makes them so,
 * labels and titles included.
 */
static uint64_t str(struct profile *strings, const char *s)
{
	return profile__intern(strings, s);
}

static uint64_t strn(struct profile *strings, const char *s, size_t len)
{
	return profile__intern_len(strings, s, len);
}

static void value_type(struct pb *b, int field, struct profile *strings, const char *type,
		       const char *unit)
{
	struct pb sub = { 0 };

	pb_uint(&sub, VALUETYPE_TYPE, str(strings, type));
	pb_uint(&sub, VALUETYPE_UNIT, str(strings, unit));
	pb_msg(b, field, &sub);
	free(sub.d);
}

static void label(struct pb *b, struct pb *sub, struct profile *strings, const char *key,
		  const char *s, int has_num, uint64_t num)
{
	pb_uint(sub, LABEL_KEY, str(strings, key));
	if (s)
		pb_uint(sub, LABEL_STR, str(strings, s));
	if (has_num)
		pb_uint(sub, LABEL_NUM, num);
	pb_msg(b, SAMPLE_LABEL, sub);
}

/* "name-PID" or "pid N" as the root frame gives the pid. */
static int root_pid(const char *root, unsigned long *pid)
{
	if (!strncmp(root, "pid ", 4))
		return !parse_ulong(root + 4, 1, 1UL << 31, pid);
	return frame__is_thread(root, pid);
}

static int gzip_out(FILE *f, const struct pb *b)
{
	z_stream zs = { 0 };
	uint8_t out[1 << 16];
	int zr, ret = 0;

	/* windowBits 15 + 16: a gzip wrapper, which pprof expects. */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	zs.next_in = b->d;
	zs.avail_in = (uInt)b->n;
	do {
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		zr = deflate(&zs, Z_FINISH);
		if (fwrite(out, 1, sizeof(out) - zs.avail_out, f) != sizeof(out) - zs.avail_out)
			ret = -1;
	} while (zr == Z_OK && !ret);
	if (zr != Z_STREAM_END && !ret) {
		errno = EIO;
		ret = -1;
	}
	deflateEnd(&zs);
	return ret;
}

/* The file name of the profile's one mapping, which pprof shows as "File:"
 * after taking its last '/' part: the program of the target, not the whole
 * description ("'/usr/bin/python3.11' (PID 9)" -> /usr/bin/python3.11,
 * "PID 9 (gunicorn), PID 10 (x)" -> gunicorn, "python3 app.py (pid 4242)"
 * -> python3 app.py).
 */
static void main_binary(const char *target, char *buf, size_t len)
{
	const char *s = target, *e;

	if (!*s) {
		snprintf(buf, len, "rampa-bpf");
		return;
	}
	if (*s == '\'' && (e = strchr(s + 1, '\''))) {
		s++;
	} else if (!strncmp(s, "PID ", 4) && (s = strchr(s, '(')) && (e = strchr(s, ')'))) {
		s++;
	} else {
		s = target;
		e = strstr(s, " (");
		if (!e)
			e = strchr(s, ',');
		if (!e)
			e = s + strlen(s);
	}
	snprintf(buf, len, "%.*s", (int)(e - s), s);
}

/* A frame for a call inlined into the frame rootward of it (srcline.h):
 * "name (inlined)" or "name (inlined) (file.h:30)".
 */
static bool is_inlined(const char *name)
{
	const char *i = strstr(name, " (inlined)");

	return i && (!i[10] || !strncmp(i + 10, " (", 2));
}

/* A frame named "module+0xOFFSET" (an address no symbol covers, named as
 * symbolize.h does): the module's name is name[0..*mlen), *addr the
 * link-time address (addr2line's).
 */
static bool module_offset(const char *name, size_t *mlen, uint64_t *addr)
{
	const char *plus = strrchr(name, '+');
	char *end;

	if (!plus || plus == name || strncmp(plus, "+0x", 3) || strpbrk(name, " ;["))
		return false;
	errno = 0;
	*addr = strtoull(plus + 3, &end, 16);
	if (*end || end == plus + 3 || errno)
		return false;
	*mlen = (size_t)(plus - name);
	return true;
}

static bool is_python(const struct profile *p, uint32_t id)
{
	enum frame_kind k = profile__frame_kind(p, id);

	return k == FRAME_PY_USER || k == FRAME_PY_STDLIB || k == FRAME_PY_SITE;
}

/* The location of frames fr[from..to] (root first: a function's frame and
 * the calls inlined in it), its id in locs (from 1): one location per
 * code address, as pprof's format has it, with a line per frame.
 */
#define LOCATION_MAX_LINES 64

static uint64_t location_of(struct profile *locs, const uint32_t *fr, uint32_t from, uint32_t to)
{
	char key[LOCATION_MAX_LINES * 11 + 1];
	int k = 0;

	for (uint32_t d = from; d <= to; d++)
		k += snprintf(key + k, sizeof(key) - k, "%s%u", d > from ? "," : "", fr[d]);
	return profile__intern(locs, key) + 1;
}

int pprof__write(FILE *f, const struct profile *p)
{
	const struct profile_meta *m = profile__meta_ro(p);
	struct profile *strings = profile__new(), *locs = profile__new(), *mods = profile__new();
	struct profile *funcs = profile__new();
	uint32_t *func_of = NULL;
	size_t nmod = profile__nmodules(p);
	struct pb b = { 0 }, sub = { 0 }, sub2 = { 0 }, ids = { 0 };
	size_t nf = profile__nframes(p), ns = profile__nstacks(p);
	const char *mode = m->mode ? m->mode : "cpu";
	const char *unit = m->unit && strcmp(m->unit, "samples") ? m->unit : "count";
	const struct profile_mode *pm = profile__mode(mode);
	/* The row's sample type when the unit is the row's own. */
	const char *type = pm && (!m->unit || !strcmp(m->unit, pm->unit)) ? pm->pprof_type : mode;
	char desc[512];
	int ret;

	str(strings, "");
	value_type(&b, PROFILE_SAMPLE_TYPE, strings, type, unit);

	for (size_t i = 0; i < ns; i++) {
		uint32_t n, cur = 0, slice = 0;
		uint64_t w, sw = 0, timed = 0;
		const uint32_t *fr = profile__stack(p, i, &n, &w);
		unsigned long tid = 0, pid = 0;
		int threaded, proc, in_slice;

		if (!w || !n)
			continue;
		/* With a timeline, a sample per time slice of the stack, labelled
		 * with the slice's start ("slice_start", milliseconds from the
		 * profile's start: pprof -tagfocus=slice_start=2s:4s); weight
		 * without a slice, if any, in a sample without the label.
		 */
	next_slice:
		in_slice = profile__stack_slice(p, i, &cur, &slice, &sw);
		if (in_slice)
			timed += sw;
		else if (timed >= w)
			continue;
		threaded = profile__stack_thread(p, fr, n, &tid);
		proc = profile__stack_process(p, fr, n, &pid);
		/* Leaf first, as pprof wants; process and thread frames become
		 * labels; inlined calls are lines of their caller's location.
		 */
		ids.n = 0;
		for (uint32_t d = n, top; d-- > 0;) {
			if (d && ((int)d == threaded || (int)d == proc))
				continue;
			/* Into the frame rootward while it is the caller of an
			 * inlined call: a code frame, not the root, a label or a
			 * marker ("[unknown]"). A deeper chain (never seen) goes
			 * on in a location of its own.
			 */
			for (top = d; top - d < LOCATION_MAX_LINES - 1 && d > 1 &&
				      (int)d - 1 != threaded && (int)d - 1 != proc &&
				      is_inlined(profile__frame_name(p, fr[d])) &&
				      profile__frame_name(p, fr[d - 1])[0] != '[';)
				d--;
			pb_varint(&ids, location_of(locs, fr, d, top));
		}
		pb_bytes(&sub, SAMPLE_LOCATION_ID, ids.d, ids.n);
		ids.n = 0;
		pb_varint(&ids, in_slice ? sw : w - timed);
		pb_bytes(&sub, SAMPLE_VALUE, ids.d, ids.n);
		label(&sub, &sub2, strings, "process", profile__frame_name(p, fr[proc ? proc : 0]),
		      0, 0);
		if (proc || root_pid(profile__frame_name(p, fr[0]), &pid))
			label(&sub, &sub2, strings, "pid", NULL, 1, pid);
		if (threaded) {
			label(&sub, &sub2, strings, "thread", profile__frame_name(p, fr[threaded]),
			      0, 0);
			label(&sub, &sub2, strings, "tid", NULL, 1, tid);
		}
		if (in_slice) {
			pb_uint(&sub2, LABEL_NUM_UNIT, str(strings, "milliseconds"));
			label(&sub, &sub2, strings, "slice_start", NULL, 1,
			      (uint64_t)llround(slice * profile__slice_sec(p) * 1000));
		}
		pb_msg(&b, PROFILE_SAMPLE, &sub);
		if (in_slice)
			goto next_slice;
	}

	pb_uint(&sub, MAPPING_ID, 1);
	main_binary(m->target, desc, sizeof(desc));
	pb_uint(&sub, MAPPING_FILENAME, str(strings, desc));
	pb_uint(&sub, MAPPING_HAS_FUNCTIONS, 1);
	pb_uint(&sub, MAPPING_HAS_FILENAMES, 1);
	pb_uint(&sub, MAPPING_HAS_LINE_NUMBERS, 1);
	/* All four set: pprof then leaves our names alone (no local symbolization). */
	pb_uint(&sub, MAPPING_HAS_INLINE_FRAMES, 1);
	pb_msg(&b, PROFILE_MAPPING, &sub);

	/* A function per distinct name (frames of one name at several
	 * addresses are one function), with id from 1.
	 */
	func_of = xmalloc((nf ? nf : 1) * sizeof(*func_of));
	for (size_t i = 0; i < nf; i++)
		func_of[i] = profile__intern(funcs, profile__frame_name(p, (uint32_t)i)) + 1;

	/* A location per code address: a frame and the calls inlined in it,
	 * one line each, innermost first. Native code the profile keeps by
	 * address (profile__add_native) has it: its link-time address in its
	 * module's mapping (from id 2). So does a frame named by its address
	 * alone ("python3.11+0x6516f0", read from a folded file), in a
	 * mapping of its module's name. Python frames have no address and no
	 * mapping; other named frames (kernel, native code read from a folded
	 * file) address 0 in the first mapping (pprof then matches them by
	 * their lines, and does not symbolize them again).
	 */
	for (size_t i = 0; i < profile__nframes(locs); i++) {
		uint32_t fids[LOCATION_MAX_LINES], nid = 0, module;
		uint64_t addr;
		size_t mlen;

		for (const char *k = profile__frame_name(locs, (uint32_t)i);
		     *k && nid < LOCATION_MAX_LINES;) {
			char *e;

			fids[nid++] = (uint32_t)strtoul(k, &e, 10);
			k = *e ? e + 1 : e;
		}
		pb_uint(&sub, LOCATION_ID, i + 1);
		if (nid && profile__frame_address(p, fids[0], &module, &addr)) {
			pb_uint(&sub, LOCATION_MAPPING_ID, 1 + (uint64_t)module);
			pb_uint(&sub, LOCATION_ADDRESS, addr);
		} else if (nid && module_offset(profile__frame_name(p, fids[0]), &mlen, &addr)) {
			pb_uint(&sub, LOCATION_MAPPING_ID,
				2 + nmod +
				    (uint64_t)profile__intern_len(
					mods, profile__frame_name(p, fids[0]), mlen));
			pb_uint(&sub, LOCATION_ADDRESS, addr);
		} else if (nid && !is_python(p, fids[0])) {
			pb_uint(&sub, LOCATION_MAPPING_ID, 1);
		}
		while (nid--) {
			struct frame_py py;

			pb_uint(&sub2, LINE_FUNCTION_ID, func_of[fids[nid]]);
			if (frame__parse_python(profile__frame_name(p, fids[nid]), &py))
				pb_uint(&sub2, LINE_LINE, py.line);
			pb_msg(&sub, LOCATION_LINE, &sub2);
		}
		pb_msg(&b, PROFILE_LOCATION, &sub);
	}

	/* The modules of native code kept by address, from id 2, and those of
	 * frames named by address after them: names and lines are ours, as in
	 * the first mapping.
	 */
	for (uint32_t i = 1; i <= nmod; i++) {
		const struct profile_module *pm = profile__module(p, i);

		pb_uint(&sub, MAPPING_ID, (uint64_t)i + 1);
		pb_uint(&sub, MAPPING_MEMORY_START, pm->start);
		pb_uint(&sub, MAPPING_MEMORY_LIMIT, pm->limit);
		pb_uint(&sub, MAPPING_FILE_OFFSET, pm->offset);
		pb_uint(&sub, MAPPING_FILENAME, str(strings, pm->path));
		if (pm->build_id[0])
			pb_uint(&sub, MAPPING_BUILD_ID, str(strings, pm->build_id));
		pb_uint(&sub, MAPPING_HAS_FUNCTIONS, 1);
		pb_uint(&sub, MAPPING_HAS_FILENAMES, 1);
		pb_uint(&sub, MAPPING_HAS_LINE_NUMBERS, 1);
		pb_uint(&sub, MAPPING_HAS_INLINE_FRAMES, 1);
		pb_msg(&b, PROFILE_MAPPING, &sub);
	}
	for (size_t i = 0; i < profile__nframes(mods); i++) {
		pb_uint(&sub, MAPPING_ID, i + 2 + nmod);
		pb_uint(&sub, MAPPING_FILENAME,
			str(strings, profile__frame_name(mods, (uint32_t)i)));
		pb_uint(&sub, MAPPING_HAS_FUNCTIONS, 1);
		pb_uint(&sub, MAPPING_HAS_FILENAMES, 1);
		pb_uint(&sub, MAPPING_HAS_LINE_NUMBERS, 1);
		pb_uint(&sub, MAPPING_HAS_INLINE_FRAMES, 1);
		pb_msg(&b, PROFILE_MAPPING, &sub);
	}

	for (size_t i = 0; i < profile__nframes(funcs); i++) {
		const char *name = profile__frame_name(funcs, (uint32_t)i);
		struct frame_py py;
		int is_py = frame__parse_python(name, &py);

		pb_uint(&sub, FUNCTION_ID, i + 1);
		if (is_py) {
			size_t qlen = py.qualname_len;
			uint64_t q;

			/* An inlined call is named as its function is. */
			if (qlen > 10 && !memcmp(py.qualname + qlen - 10, " (inlined)", 10))
				qlen -= 10;
			q = strn(strings, py.qualname, qlen);

			pb_uint(&sub, FUNCTION_NAME, q);
			pb_uint(&sub, FUNCTION_FILENAME, strn(strings, py.file, py.file_len));
		} else {
			pb_uint(&sub, FUNCTION_NAME, str(strings, name));
			pb_uint(&sub, FUNCTION_SYSTEM_NAME, str(strings, name));
		}
		pb_msg(&b, PROFILE_FUNCTION, &sub);
	}

	if (m->duration_sec > 0)
		pb_uint(&b, PROFILE_DURATION_NANOS, (uint64_t)(m->duration_sec * 1e9));
	if (pm && pm->sampled && m->hz) {
		value_type(&b, PROFILE_PERIOD_TYPE, strings, "cpu", "nanoseconds");
		pb_uint(&b, PROFILE_PERIOD, 1000000000ULL / m->hz);
	} else {
		value_type(&b, PROFILE_PERIOD_TYPE, strings, type, unit);
		pb_uint(&b, PROFILE_PERIOD, 1);
	}
	profile_meta__describe(m, desc, sizeof(desc));
	pb_uint(&b, PROFILE_COMMENT, str(strings, desc));
	pb_uint(&b, PROFILE_DEFAULT_SAMPLE_TYPE, str(strings, type));

	/* The string table last: everything above has interned its strings. */
	for (size_t i = 0; i < profile__nframes(strings); i++) {
		const char *s = profile__frame_name(strings, (uint32_t)i);

		pb_bytes(&b, PROFILE_STRING_TABLE, s, strlen(s));
	}

	ret = gzip_out(f, &b);
	free(b.d);
	free(sub.d);
	free(sub2.d);
	free(ids.d);
	profile__free(strings);
	profile__free(locs);
	profile__free(mods);
	profile__free(funcs);
	free(func_of);
	return ret;
}
